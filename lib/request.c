/*
 * request.c - request records: their copy of the method, target and
 * fields (kept in a buffer the record reuses, so a steady stream of
 * requests allocates nothing), the table of pending requests by id, and
 * the completion queue: a request that ends is queued here and its
 * on_done runs when the public call that ended it unwinds, never from
 * deep inside a read or a write. Calls nothing of the other rooms but
 * timer.c.
 */
#include "manager.h"

#include <string.h>

static size_t id_hash(long long id)
{
	return (size_t)((unsigned long long)id * 0x9e3779b97f4a7c15ull >> 16);
}

/* Grows the id table to at least one bucket per pending request. Returns
 * 0 or H1C_ENOMEM (the table is then unchanged). */
int h1c__ids_grow(struct h1c_client *c)
{
	size_t n = c->nibuckets ? c->nibuckets * 2 : 64, i;
	struct rq **b;

	if (c->nlive < c->nibuckets)
		return 0;
	b = h1c__malloc(c->al, n * sizeof(struct rq *));
	if (!b)
		return H1C_ENOMEM;
	memset(b, 0, n * sizeof(struct rq *));
	for (i = 0; i < c->nibuckets; i++) {
		struct rq *r = c->ibuckets[i];
		while (r) {
			struct rq *next = r->hnext;
			size_t k = id_hash(r->id) & (n - 1);
			r->hnext = b[k];
			b[k] = r;
			r = next;
		}
	}
	h1c__free(c->al, c->ibuckets);
	c->ibuckets = b;
	c->nibuckets = n;
	return 0;
}

struct rq *h1c__id_find(const struct h1c_client *c, long long id)
{
	struct rq *r;

	if (!c->nibuckets)
		return NULL;
	for (r = c->ibuckets[id_hash(id) & (c->nibuckets - 1)]; r; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

void h1c__id_add(struct h1c_client *c, struct rq *r)
{
	size_t k = id_hash(r->id) & (c->nibuckets - 1);

	r->hnext = c->ibuckets[k];
	c->ibuckets[k] = r;
}

static void id_remove(struct h1c_client *c, const struct rq *r)
{
	struct rq **pp = &c->ibuckets[id_hash(r->id) & (c->nibuckets - 1)];

	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
}

/* Returns 1 when q describes a request that can exist: a body in memory
 * or from a callback, not both; views that point somewhere; limits in
 * range. */
int h1c__request_valid(const struct h1c_request *q)
{
	size_t i;

	if (q->body_read) {
		if (q->body || q->body_len || q->body_size < -1)
			return 0;
	} else if ((!q->body && q->body_len) || q->body_rewind ||
	           (q->body_size && q->body_size != (long long)q->body_len)) {
		return 0;
	}
	if (q->num_headers && !q->headers)
		return 0;
	for (i = 0; i < q->num_headers; i++)
		if ((!q->headers[i].name && q->headers[i].name_len) ||
		    (!q->headers[i].value && q->headers[i].value_len))
			return 0;
	return q->max_body >= -1 && q->timeout_ms >= -1;
}

/* Appends s[0..n) at *p and moves *p past it. */
static void append(char **p, const char *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

/* Writes "host[:port]" (brackets around an IPv6 literal; no port when it is
 * 80) at p, NUL-terminated, and returns its length. p has room for 270. */
static size_t host_field(char *p, const struct h1c__url *u)
{
	char *start = p;
	unsigned port = u->port;

	if (u->ipv6)
		*p++ = '[';
	append(&p, u->host, strlen(u->host));
	if (u->ipv6)
		*p++ = ']';
	if (port != H1C__DEFAULT_PORT(u->tls)) {
		char digits[8];
		size_t n = 0;
		*p++ = ':';
		do
			digits[n++] = (char)('0' + port % 10);
		while ((port /= 10) && n < sizeof(digits));
		while (n)
			*p++ = digits[--n];
	}
	*p = '\0';
	return (size_t)(p - start);
}

/* Copies what the request needs beyond the call into r->mem: the field
 * views, the method, the target and the Host value. */
int h1c__rq_copy(struct h1c_client *c, struct rq *r, const struct h1c_request *q,
                   const struct h1c__url *u)
{
	const char *method = q->method ? q->method : "GET";
	size_t i, need, mlen = strlen(method), hsize = q->num_headers * sizeof(struct h1c_header);
	char host[300];
	size_t host_len;
	char *p;

	/* RFC 9112 section 3.2: absolute-form to a proxy, origin-form else;
	 * Host with the port unless it is 80. */
	host_len = host_field(host, u);
	need = hsize + mlen + 1 + 7 + 2 * host_len + 1 + u->path_len + 2 + 1;
	for (i = 0; i < q->num_headers; i++)
		need += q->headers[i].name_len + q->headers[i].value_len;
	if (need > r->mem_cap || !r->mem) {
		char *m = h1c__realloc(c->al, r->mem, need);
		if (!m)
			return H1C_ENOMEM;
		r->mem = m;
		r->mem_cap = need;
	}
	r->fields = (struct h1c_header *)(void *)r->mem;
	p = r->mem + hsize;
	for (i = 0; i < q->num_headers; i++) {
		const struct h1c_header *h = &q->headers[i];
		r->fields[i].name = p;
		r->fields[i].name_len = h->name_len;
		append(&p, h->name, h->name_len);
		r->fields[i].value = p;
		r->fields[i].value_len = h->value_len;
		append(&p, h->value, h->value_len);
	}
	memset(&r->req, 0, sizeof(r->req));
	r->req.method = p;
	append(&p, method, mlen + 1);
	r->req.target = p;
	if (c->has_proxy) {
		append(&p, "http://", 7);
		append(&p, host, host_len);
	}
	if (!u->has_path)
		*p++ = '/'; /* a URL with no path, or only a query */
	append(&p, u->path, u->path_len);
	r->req.target_len = (size_t)(p - r->req.target);
	*p++ = '\0';
	r->req.host = p;
	append(&p, host, host_len + 1);
	r->req.headers = r->fields;
	r->req.num_headers = q->num_headers;
	r->req.user = r;
	return 0;
}

/*
 * Ends r, which is on no pool's queue any more (pool.c takes it off
 * first): unlinks it, counts it and puts it on the completion queue, whose
 * on_done calls run when the public call that got here unwinds
 * (h1c__complete()). No callback runs from here, so no caller up the stack can
 * be surprised by what a callback did. Whoever calls this must hold no
 * pointer to r afterwards.
 */
void h1c__rq_end(struct h1c_client *c, struct rq *r, int err)
{
	id_remove(c, r);
	if (r->deadline) {
		h1c__heap_del(&c->heap, &r->dl);
		h1c__heap_release(&c->heap, 1);
	}
	H1C__LIST_OUT(c->live, r, lnext, lprev);
	c->nlive--;
	r->state = RQ_DONE;
	r->cx = NULL;
	r->end_err = err;
	if (c->done_tail)
		c->done_tail->lnext = r;
	else
		c->done_head = r;
	c->done_tail = r;
	if (err)
		c->st.errors++;
	else
		c->st.responses++;
}

/* Runs the on_done of every request on the completion queue, in the order
 * they ended, each record going back to the spare list first (a callback
 * may queue a new request on it). Callbacks see the client busy: what they
 * cancel or free is done when the public call unwinds. */
void h1c__complete(struct h1c_client *c)
{
	c->busy++;
	while (c->done_head) {
		struct rq *r = c->done_head;
		struct h1c_callbacks cb = r->cb;
		void *user = r->user;
		unsigned flags = r->flags;
		int err = r->end_err;

		c->done_head = r->lnext;
		if (!c->done_head)
			c->done_tail = NULL;
		r->state = RQ_FREE;
		r->lnext = c->spare;
		c->spare = r;
		if (cb.on_done)
			cb.on_done(user, err, flags);
	}
	c->busy--;
}
