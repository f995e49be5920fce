/*
 * timer.c - one deadline structure for everything in a client that can
 * expire: connections (dial, head, idle, rate, 100-continue, keep-alive),
 * requests (their own timeout_ms) and module timers. A binary min-heap of
 * pointers to deadlines embedded in their owners; each deadline knows its
 * place, so arming, moving and removing one cost O(log n) and the next
 * deadline is read in O(1), however many there are.
 *
 * The heap never allocates while it is used: its owners reserve a place
 * when they come to be (h1c__heap_reserve()) and give it back when they
 * go, so arming a deadline cannot fail.
 */
#include "internal.h"

static void put(struct h1c__heap *h, size_t i, struct h1c__deadline *d)
{
	h->v[i] = d;
	d->idx = i + 1;
}

static void up(struct h1c__heap *h, size_t i)
{
	struct h1c__deadline *d = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent]->at <= d->at)
			break;
		put(h, i, h->v[parent]);
		i = parent;
	}
	put(h, i, d);
}

static void down(struct h1c__heap *h, size_t i)
{
	struct h1c__deadline *d = h->v[i];

	for (;;) {
		size_t kid = 2 * i + 1;
		if (kid >= h->n)
			break;
		if (kid + 1 < h->n && h->v[kid + 1]->at < h->v[kid]->at)
			kid++;
		if (d->at <= h->v[kid]->at)
			break;
		put(h, i, h->v[kid]);
		i = kid;
	}
	put(h, i, d);
}

int h1c__heap_reserve(struct h1c__heap *h, const struct h1c_allocator *al, size_t more)
{
	size_t need = h->reserved + more;

	if (need > h->cap) {
		size_t cap = h->cap ? h->cap : 16;
		struct h1c__deadline **v;
		while (cap < need)
			cap *= 2;
		v = h1c__realloc(al, h->v, cap * sizeof(struct h1c__deadline *));
		if (!v)
			return H1C_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->reserved = need;
	return 0;
}

void h1c__heap_release(struct h1c__heap *h, size_t n)
{
	h->reserved = n > h->reserved ? 0 : h->reserved - n;
}

void h1c__heap_set(struct h1c__heap *h, struct h1c__deadline *d, long long at)
{
	if (d->idx) {
		long long was = d->at;
		d->at = at;
		if (at < was)
			up(h, d->idx - 1);
		else
			down(h, d->idx - 1);
		return;
	}
	d->at = at;
	h->v[h->n] = d; /* room was reserved by d's owner */
	d->idx = ++h->n;
	up(h, h->n - 1);
}

void h1c__heap_del(struct h1c__heap *h, struct h1c__deadline *d)
{
	size_t i;

	if (!d->idx)
		return;
	i = d->idx - 1;
	d->idx = 0;
	if (i == --h->n)
		return;
	put(h, i, h->v[h->n]);
	if (i > 0 && h->v[i]->at < h->v[(i - 1) / 2]->at)
		up(h, i);
	else
		down(h, i);
}

void h1c__heap_free(struct h1c__heap *h, const struct h1c_allocator *al)
{
	h1c__free(al, h->v);
	h->v = NULL;
	h->n = h->cap = h->reserved = 0;
}
