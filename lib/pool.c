/*
 * pool.c - pools: the connections and waiting requests of one key (host
 * and port connected to, proxy or not, I/O vtable), found through a hash
 * table; each pool's queue of waiting requests, its connections and its
 * idle ones (and the client's idle list, least recently used last), and
 * those that may take a pipelined request, by requests in flight; the
 * pools dispatch is to visit (requests waiting, and news: a request
 * queued, a connection of theirs changed or gone) and those waiting for
 * room under the client's total, each in order; the last few pools left
 * unused kept, the older freed. Calls request.c only (a pool that cannot
 * be served ends its requests).
 */
#include "manager.h"

#include <string.h>

/* FNV-1a over a pool's key. */
static size_t pool_hash(const char *host, unsigned port)
{
	size_t h = 2166136261u;

	while (*host)
		h = (h ^ (unsigned char)*host++) * 16777619u;
	return (h ^ port) * 16777619u;
}

/* Grows the pool table to a bucket per pool. Returns 0 or H1C_ENOMEM. */
static int pools_grow(struct h1c_client *c)
{
	size_t n = c->npbuckets ? c->npbuckets * 2 : 16, i;
	struct pool **b;

	if (c->npools < c->npbuckets)
		return 0;
	b = h1c__malloc(c->al, n * sizeof(struct pool *));
	if (!b)
		return H1C_ENOMEM;
	memset(b, 0, n * sizeof(struct pool *));
	for (i = 0; i < c->npbuckets; i++) {
		struct pool *p = c->pbuckets[i];
		while (p) {
			struct pool *next = p->hnext;
			size_t k = pool_hash(p->host, p->port) & (n - 1);
			p->hnext = b[k];
			b[k] = p;
			p = next;
		}
	}
	h1c__free(c->al, c->pbuckets);
	c->pbuckets = b;
	c->npbuckets = n;
	return 0;
}

/* Takes p off the unused pools kept. */
static void unused_unlink(struct h1c_client *c, struct pool *p)
{
	H1C__LIST_OUT_T(c->unused_head, c->unused_tail, p, unext, uprev);
	p->unused = 0;
	c->nunused--;
}

/* Finds or makes the pool for a connection target reached through io. */
struct pool *h1c__pool_get(struct h1c_client *c, const struct h1c__url *to,
                             const struct h1c_io *io, void *io_user)
{
	struct pool *p;
	size_t k;

	if (c->npbuckets) {
		for (p = c->pbuckets[pool_hash(to->host, to->port) & (c->npbuckets - 1)]; p;
		     p = p->hnext)
			if (p->port == to->port && p->via_proxy == c->has_proxy && p->io == io &&
			    p->io_user == io_user && strcmp(p->host, to->host) == 0) {
				if (p->unused) {
					unused_unlink(c, p);
					h1c__pool_update(c, p); /* as a new one */
				}
				return p;
			}
	}
	if (pools_grow(c))
		return NULL;
	p = h1c__malloc(c->al, sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	memcpy(p->host, to->host, sizeof(p->host));
	p->port = to->port;
	p->via_proxy = c->has_proxy;
	p->io = io;
	p->io_user = io_user;
	p->next = c->pools;
	if (c->pools)
		c->pools->prev = p;
	c->pools = p;
	k = pool_hash(p->host, p->port) & (c->npbuckets - 1);
	p->hnext = c->pbuckets[k];
	c->pbuckets[k] = p;
	c->npools++;
	h1c__pool_update(c, p); /* unused until a request waits in it */
	return p;
}

/* Frees p, which has no connection and no request. */
static void pool_free(struct h1c_client *c, struct pool *p)
{
	struct pool **pp = &c->pbuckets[pool_hash(p->host, p->port) & (c->npbuckets - 1)];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	H1C__LIST_OUT(c->pools, p, next, prev);
	c->npools--;
	h1c__free(c->al, p);
}

/* ---- the dispatch lists: pools to visit, pools waiting for room ------------- */

static void ready_unlink(struct h1c_client *c, struct pool *p)
{
	if (!p->ready)
		return;
	H1C__LIST_OUT_T(c->ready_head, c->ready_tail, p, rnext, rprev);
	p->ready = 0;
}

struct pool *h1c__ready_pop(struct h1c_client *c)
{
	struct pool *p = c->ready_head;

	if (p)
		ready_unlink(c, p);
	return p;
}

static void slot_unlink(struct h1c_client *c, struct pool *p)
{
	if (!p->slotq)
		return;
	H1C__LIST_OUT_T(c->slot_head, c->slot_tail, p, snext, sprev);
	p->slotq = 0;
	c->nslot--;
}

void h1c__slot_wait(struct h1c_client *c, struct pool *p, int front)
{
	if (p->slotq)
		return;
	p->slotq = 1;
	c->nslot++;
	if (front)
		H1C__LIST_FRONT_T(c->slot_head, c->slot_tail, p, snext, sprev);
	else
		H1C__LIST_BACK_T(c->slot_head, c->slot_tail, p, snext, sprev);
}

struct pool *h1c__slot_pop(struct h1c_client *c)
{
	struct pool *p = c->slot_head;

	if (p)
		slot_unlink(c, p);
	return p;
}

/* Puts p, with requests waiting, at the back of the pools to visit; while
 * dispatch is at it already, its own loop sees what changed. */
static void ready_push(struct h1c_client *c, struct pool *p)
{
	if (p->ready || p->visiting)
		return;
	p->ready = 1;
	H1C__LIST_BACK_T(c->ready_head, c->ready_tail, p, rnext, rprev);
}

void h1c__pool_update(struct h1c_client *c, struct pool *p)
{
	if (p->nwait) {
		ready_push(c, p);
	} else {
		ready_unlink(c, p);
		slot_unlink(c, p);
	}
	if (!p->nwait && !p->nconns && !p->gc && !p->unused) {
		p->gc = 1;
		p->gcnext = c->gcq;
		c->gcq = p;
	}
}

/* ---- requests ----------------------------------------------------------------- */

void h1c__wait_unlink(struct h1c_client *c, struct rq *r)
{
	struct pool *p = r->pool;

	H1C__LIST_OUT_T(p->wait_head, p->wait_tail, r, next, prev);
	p->nwait--;
	h1c__pool_update(c, p);
}

/* Puts r back at the front of its pool's queue (a replay goes first). */
void h1c__wait_push_front(struct h1c_client *c, struct rq *r)
{
	struct pool *p = r->pool;

	r->state = RQ_WAITING;
	r->cx = NULL;
	H1C__LIST_FRONT_T(p->wait_head, p->wait_tail, r, next, prev);
	p->nwait++;
	c->nwaiting++;
	h1c__pool_update(c, p);
}

/* Takes x off the idle lists: the client's (least recently used last) and
 * its pool's. */
void h1c__idle_unlink(struct h1c_client *c, struct cx *x)
{
	if (!x->idle)
		return;
	H1C__LIST_OUT_T(c->idle_head, c->idle_tail, x, lnext, lprev);
	H1C__LIST_OUT(x->pool->idle, x, inext, iprev);
	x->idle = 0;
	c->nidle--;
}

/* Puts x at the front of both idle lists (its pool may use it: news). */
void h1c__idle_push(struct h1c_client *c, struct cx *x)
{
	struct pool *p = x->pool;

	h1c__pool_update(c, p);
	x->idle = 1;
	c->nidle++;
	H1C__LIST_FRONT_T(c->idle_head, c->idle_tail, x, lnext, lprev);
	H1C__LIST_FRONT(p->idle, x, inext, iprev);
}

void h1c__pipe_file(struct cx *x, unsigned slot)
{
	struct pool *p = x->pool;

	if (x->pipe_slot == slot)
		return;
	if (x->pipe_slot)
		H1C__LIST_OUT(p->pipe[x->pipe_slot], x, qnext, qprev);
	x->pipe_slot = slot;
	if (slot)
		H1C__LIST_FRONT(p->pipe[slot], x, qnext, qprev);
}

/* Ends the requests waiting in p when p has no connection left to serve
 * them (those queued by the callbacks it calls wait for the next try). */
void h1c__pool_fail(struct h1c_client *c, struct pool *p, int err)
{
	unsigned n = p->nwait;

	if (p->nconns)
		return;
	while (n-- && p->wait_head) {
		struct rq *r = p->wait_head;
		h1c__wait_unlink(c, r);
		c->nwaiting--;
		h1c__rq_end(c, r, err);
	}
}

/* Keeps the pools noted as perhaps unused that still are, the last
 * SPARE_POOLS of them, and frees the older. Kept, a pool remembers its
 * origin's pipelining back-off across the times it has no connection (a
 * server that closes after each response), and the next request to it
 * allocates no pool. */
void h1c__pool_gc(struct h1c_client *c)
{
	while (c->gcq) {
		struct pool *p = c->gcq;
		c->gcq = p->gcnext;
		p->gc = 0;
		if (p->nconns || p->nwait || p->unused)
			continue;
		/* The next requests' dials count their losses afresh, as in a
		 * new pool. */
		p->fresh_fails = 0;
		p->unused = 1;
		c->nunused++;
		H1C__LIST_FRONT_T(c->unused_head, c->unused_tail, p, unext, uprev);
		if (c->nunused > SPARE_POOLS) {
			struct pool *old = c->unused_tail;
			unused_unlink(c, old);
			pool_free(c, old);
		}
	}
}

/* Queues r, new, at the back of its pool's queue. */
void h1c__pool_enqueue(struct h1c_client *c, struct rq *r)
{
	struct pool *p = r->pool;

	r->state = RQ_WAITING;
	H1C__LIST_BACK_T(p->wait_head, p->wait_tail, r, next, prev);
	p->nwait++;
	c->nwaiting++;
	h1c__pool_update(c, p);
}
