/*
 * client.c - the connection manager's public face: a client's life
 * (options, create, free, including a free asked for from a callback),
 * queuing a request, cancelling one, and the calls an outside loop or the
 * built-in one makes, each a thin entry into loop.c that unwinds through
 * the completion queue. The rooms below it, in the order calls go: loop.c,
 * dispatch.c, exchange.c, cx.c, then dial.c, pool.c, request.c, timer.c
 * and interest.c, then conn.c and transport.c (see lib/manager.h).
 *
 * Ownership: the client owns its pools, connections and request records.
 * A request record lives from h1c_client_request() until its on_done has
 * returned; its copy of the method, target and fields is kept in a buffer
 * the record reuses, so a steady stream of requests allocates nothing.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <string.h>
#include <unistd.h>

/* ---- requests ------------------------------------------------------------------ */

long long h1c_client_request(struct h1c_client *c, const struct h1c_request *req,
                             const struct h1c_callbacks *cb, void *user)
{
	struct h1c_request copy;

	if (!c || !req)
		return H1C_EINVAL;
	/* No more of the caller's struct than its size says. */
	h1c__opts_copy(&copy, sizeof(copy), req, H1C__V02_REQUEST);
	return h1c__submit(c, &copy, cb, user);
}

long long h1c__submit(struct h1c_client *c, const struct h1c_request *q,
                      const struct h1c_callbacks *cb, void *user)
{
	struct h1c__url u;
	struct rq *r;
	struct pool *p;
	int err;

	if (!q->url || c->closing || !h1c__request_valid(q))
		return H1C_EINVAL;
	if (c->nwaiting >= c->o.max_queued)
		return H1C_EQUEUEFULL;
	err = h1c__url_parse(q->url, &u);
	if (err)
		return err;
	/* https: the caller's TLS vtable, directly to the origin. */
	if (u.tls && (!c->o.tls_io || c->has_proxy))
		return H1C_EURL;
	p = h1c__pool_get(c, c->has_proxy ? &c->proxy : &u, u.tls ? c->o.tls_io : c->io,
	             u.tls ? c->o.tls_user : c->o.io_user);
	if (!p)
		return H1C_ENOMEM;
	r = c->spare;
	if (r) {
		c->spare = r->lnext;
	} else {
		r = h1c__malloc(c->al, sizeof(*r));
		if (!r)
			return H1C_ENOMEM;
		r->mem = NULL;
		r->mem_cap = 0;
	}
	{
		char *mem = r->mem;
		size_t cap = r->mem_cap;
		memset(r, 0, sizeof(*r));
		r->mem = mem;
		r->mem_cap = cap;
	}
	err = h1c__rq_copy(c, r, q, &u);
	if (!err)
		err = h1c__req_check(&r->req);
	/* Room in the id table, and in the deadlines for its own. */
	if (!err)
		err = h1c__ids_grow(c);
	if (!err && q->timeout_ms > 0)
		err = h1c__heap_reserve(&c->heap, c->al, 1);
	if (err) {
		r->lnext = c->spare;
		c->spare = r;
		return err;
	}
	r->req.checked = 1;
	r->id = ++c->next_id;
	r->pool = p;
	r->body = q->body;
	r->body_len = q->body_len;
	r->body_read = q->body_read;
	r->body_rewind = q->body_rewind;
	r->body_user = q->body_user;
	r->body_size = q->body_read ? (q->body_size >= 0 ? q->body_size : -1)
	                            : (long long)q->body_len;
	r->req.body_size = r->body_size;
	r->req.close = (q->flags & H1C_REQ_CLOSE) != 0;
	r->has_body = q->body_read ? 1 : q->body_len > 0;
	r->idempotent = h1c__method_idempotent(r->req.method) || (q->flags & H1C_REQ_IDEMPOTENT);
	r->replayable = r->idempotent && (!q->body_read || q->body_rewind);
	r->head = strcmp(r->req.method, "HEAD") == 0;
	r->expect = r->has_body && c->o.expect_threshold > 0 && !(q->flags & H1C_REQ_NO_EXPECT) &&
	            (q->body_read ? (q->body_size < 0 ||
	                             (unsigned long long)q->body_size >= c->o.expect_threshold)
	                          : q->body_len >= c->o.expect_threshold);
	if (q->max_body > 0)
		r->max_body = (unsigned long long)q->max_body;
	if (q->timeout_ms > 0) {
		r->deadline = h1c__now_ms() + q->timeout_ms;
		r->dl.kind = H1C__DL_RQ;
		h1c__heap_set(&c->heap, &r->dl, r->deadline);
	}
	/* Likewise the callbacks: those past the caller's size are NULL. */
	h1c__opts_copy(&r->cb, sizeof(r->cb), cb, H1C__V02_CALLBACKS);
	r->user = user;
	h1c__id_add(c, r);
	/* Queue it, and count it among the pending. */
	h1c__pool_enqueue(c, r);
	H1C__LIST_FRONT(c->live, r, lnext, lprev);
	c->nlive++;
	c->st.requests++;
	/* Dispatched by the next run, readiness or timeout, so that no
	 * callback runs before the caller has the id. */
	c->need_dispatch = 1;
	if (c->has_loop && c->loop.timer && !c->busy) {
		c->loop.timer(c->loop.user, 0);
		c->timer_reported = 0;
	}
	return r->id;
}

const struct h1c_allocator *h1c__client_allocator(const struct h1c_client *c)
{
	return c->al;
}

/* ---- the loop interface (h1c_client_watches() and h1c_client_timeout() are
 * loop.c's) ---------------------------------------------------------------- */

/* An outside loop's call: what is ready (fd < 0: nothing but the clock),
 * then what is due, then dispatch and the completions; the client is
 * freed here when a callback asked for it. Returns the pending work. */
/* The end of every public call that did work: dispatch, completions,
 * the client freed when a callback asked for it, then deadlines and the
 * outside loop brought up to date. Returns 1 when c is gone. */
static int finish(struct h1c_client *c)
{
	h1c__dispatch(c);
	h1c__unwind(c);
	if (h1c__freed_now(c))
		return 1;
	h1c__sync_loop(c);
	return 0;
}

static int step(struct h1c_client *c, int fd, unsigned events)
{
	c->busy++;
	if (fd >= 0)
		h1c__ready(c, fd, events);
	h1c__expire(c, h1c__now_ms());
	c->busy--;
	return finish(c) ? 0 : h1c__pending_work(c);
}

int h1c_client_on_ready(struct h1c_client *c, int fd, unsigned events)
{
	if (!c)
		return H1C_EINVAL;
	/* From a callback, in the middle of a connection's events: handled
	 * when the outermost call unwinds. */
	if (c->busy) {
		h1c__ready_later(c, fd, events);
		return h1c__pending_work(c);
	}
	return step(c, fd, events);
}

int h1c_client_on_timeout(struct h1c_client *c)
{
	if (!c)
		return H1C_EINVAL;
	/* The loop's timer fired: it holds none until one is told again. */
	c->timer_reported = -2;
	return h1c_client_on_ready(c, -1, 0);
}

void h1c_client_set_loop(struct h1c_client *c, const struct h1c_loop *loop)
{
	size_t i;

	if (!c)
		return;
	/* The previous loop drops every socket and the timer it was given. */
	for (i = 0; i < c->fds_cap; i++) {
		if (c->has_loop && c->fds[i].watched)
			c->loop.watch(c->loop.user, (int)i, 0, &c->fds[i].slot);
		c->fds[i].watched = 0;
		c->fds[i].slot = NULL;
	}
	if (c->has_loop && c->loop.timer && c->timer_reported != -1)
		c->loop.timer(c->loop.user, -1);
	/* The hooks the caller's size covers; the rest NULL. */
	h1c__opts_copy(&c->loop, sizeof(c->loop), loop, H1C__V02_LOOP);
	c->has_loop = c->loop.watch != NULL;
	c->timer_reported = -2;
	{
		/* Everything is news to the new loop. */
		struct cx *x;
		for (x = c->conns; x; x = x->next)
			h1c__cx_touch(c, x);
	}
	/* From a callback, the new loop is told as the call unwinds. */
	if (!c->busy)
		h1c__sync_loop(c);
}

int h1c_client_cancel(struct h1c_client *c, long long id)
{
	struct rq *r;

	if (!c)
		return H1C_EINVAL;
	r = h1c__id_find(c, id);
	if (!r || r->cancel)
		return H1C_EINVAL;
	if (c->busy) {
		r->cancel = 1;
		r->cnext = c->cancelq;
		c->cancelq = r;
		return 0;
	}
	c->busy++;
	h1c__rq_abort(c, r, H1C_ECANCELED);
	c->busy--;
	(void)finish(c);
	return 0;
}

int h1c_client_run(struct h1c_client *c, int timeout_ms)
{
	int rc;

	if (!c)
		return H1C_EINVAL;
	if (c->busy)
		return H1C_EINVAL;
	rc = h1c__run(c, timeout_ms < 0 ? -1 : h1c__now_ms() + timeout_ms, NULL);
	return h1c__freed_now(c) ? 0 : rc;
}

/* ---- life ----------------------------------------------------------------------- */

/* A timeout or limit option: 0 takes the default, -1 means off (kept as
 * -1); returns 0, or H1C_EINVAL below -1. */
static int timeout_opt(int *v, int dflt)
{
	if (*v < -1)
		return H1C_EINVAL;
	if (*v == 0)
		*v = dflt;
	return 0;
}

/* Copies the caller's I/O vtable in (its size says how much of it there
 * is) to a full-size one that pools and connections use. Returns 0, or
 * H1C_EINVAL when a function it must have is missing. */
static int io_copy(struct h1c_io *out, const struct h1c_io *in)
{
	h1c__opts_copy(out, sizeof(*out), in, H1C__V02_IO);
	out->size = sizeof(*out);
	return out->open && out->read && out->write && out->fd && out->close ? 0 : H1C_EINVAL;
}

struct h1c_client *h1c_client_create(const struct h1c_client_options *opt, int *errp)
{
	struct h1c_client_options o;
	struct h1c_allocator al;
	struct h1c_client *c;
	int err = 0;

	/* No more of the caller's structs than their sizes say. */
	h1c__opts_copy(&o, sizeof(o), opt, H1C__V02_CLIENT_OPTIONS);
	o.size = sizeof(o);
	h1c__opts_copy(&al, sizeof(al), o.alloc, H1C__V02_ALLOCATOR);
	if (o.alloc && (!al.malloc || !al.realloc || !al.free)) {
		if (errp)
			*errp = H1C_EINVAL;
		return NULL;
	}
	o.alloc = o.alloc ? &al : NULL;
	c = h1c__malloc(o.alloc, sizeof(*c));
	if (!c) {
		if (errp)
			*errp = H1C_ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->loop_batch = LOOP_BATCH;
	c->o = o;
	if (o.alloc) {
		c->al_copy = al;
		c->al = &c->al_copy;
	}
	c->o.alloc = NULL;
	h1c__options(&c->parse, o.parse);
	c->o.parse = NULL; /* copied */
	err |= timeout_opt(&c->o.connect_timeout_ms, H1C_DEFAULT_CONNECT_TIMEOUT_MS);
	err |= timeout_opt(&c->o.head_timeout_ms, H1C_DEFAULT_HEAD_TIMEOUT_MS);
	err |= timeout_opt(&c->o.idle_timeout_ms, H1C_DEFAULT_IDLE_TIMEOUT_MS);
	err |= timeout_opt(&c->o.min_rate, H1C_DEFAULT_MIN_RATE);
	err |= timeout_opt(&c->o.rate_window_ms, H1C_DEFAULT_RATE_WINDOW_MS);
	err |= timeout_opt(&c->o.keepalive_ms, H1C_DEFAULT_KEEPALIVE_MS);
	err |= timeout_opt(&c->o.expect_timeout_ms, H1C_DEFAULT_EXPECT_TIMEOUT_MS);
	err |= timeout_opt(&c->o.pipeline_backoff_ms, H1C_DEFAULT_PIPELINE_BACKOFF_MS);
	if (c->o.rate_window_ms < 0)
		c->o.min_rate = -1; /* no window, no minimum */
	/* Unsigned limits: -1 is UINT_MAX, no limit as it stands. */
	if (!c->o.max_per_origin)
		c->o.max_per_origin = H1C_DEFAULT_MAX_PER_ORIGIN;
	if (!c->o.max_connections)
		c->o.max_connections = H1C_DEFAULT_MAX_CONNECTIONS;
	if (!c->o.max_queued)
		c->o.max_queued = H1C_DEFAULT_MAX_QUEUED;
	if (!c->o.max_replays)
		c->o.max_replays = H1C_DEFAULT_MAX_REPLAYS;
	if (c->o.pipeline_depth < 1)
		c->o.pipeline_depth = 1;
	if (c->o.pipeline_depth > H1C_MAX_PIPELINE)
		c->o.pipeline_depth = H1C_MAX_PIPELINE;
	if (c->o.max_body < -1)
		err = H1C_EINVAL;
	else if (c->o.max_body == 0)
		c->o.max_body = H1C_DEFAULT_MAX_BODY;
	err |= io_copy(&c->io_copy, c->o.io ? c->o.io : h1c_io_plain());
	c->io = c->o.io = &c->io_copy;
	if (c->o.tls_io) {
		err |= io_copy(&c->tls_copy, c->o.tls_io);
		c->o.tls_io = &c->tls_copy;
	}
	if (c->o.proxy && !err) {
		if (h1c__hostport_parse(c->o.proxy, &c->proxy) != 0)
			err = H1C_EINVAL;
		c->has_proxy = 1;
	}
	c->o.proxy = NULL; /* parsed; the caller's string is not kept */
	c->timer_reported = -2;
	c->epfd = -1;
	if (err) {
		h1c__free(o.alloc, c);
		c = NULL;
	}
	if (errp)
		*errp = err ? H1C_EINVAL : 0;
	return c;
}

struct h1c_client *h1c_client_new(const struct h1c_client_options *opt)
{
	return h1c_client_create(opt, NULL);
}

/* Frees c now. */
static void client_destroy(struct h1c_client *c)
{
	const struct h1c_allocator *al = c->al;

	c->busy++;
	c->closing = 1;
	/* Pending requests end first, their connections with them, and
	 * every on_done still due runs (no request is taken meanwhile). */
	while (c->live)
		h1c__rq_abort(c, c->live, H1C_ECANCELED);
	h1c__complete(c);
	while (c->conns)
		h1c__cx_close(c, c->conns);
	h1c__cx_reap(c);
	/* Module timers still armed belong to sessions that outlive c
	 * against the rules; their places go with the heap. */
	while (c->pools) {
		struct pool *p = c->pools;
		c->pools = p->next;
		h1c__free(al, p);
	}
	h1c__heap_free(&c->heap, al);
	h1c__free(al, c->pbuckets);
	h1c__free(al, c->ibuckets);
	while (c->spare) {
		struct rq *r = c->spare;
		c->spare = r->lnext;
		h1c__free(al, r->mem);
		h1c__free(al, r);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	h1c__bufs_free_all(c);
	h1c__free(al, c->fds);
	h1c__free(al, c->pfd);
	h1c__free(al, c->wv);
	{
		/* The hooks live in c: keep a copy for the last free. */
		struct h1c_allocator last = c->al_copy;
		h1c__free(al ? &last : NULL, c);
	}
}

/* Frees c when a callback asked for it and the outermost call into the
 * client is unwinding. Returns 1 when c is gone. */
int h1c__freed_now(struct h1c_client *c)
{
	if (!c->free_pending || c->busy)
		return 0;
	client_destroy(c);
	return 1;
}

void h1c_client_free(struct h1c_client *c)
{
	if (!c)
		return;
	if (c->busy) {
		/* From a callback: the callers up the stack still use c. */
		c->free_pending = 1;
		c->closing = 1;
		return;
	}
	client_destroy(c);
}

void h1c_client_stats(const struct h1c_client *c, struct h1c_stats *st, size_t size)
{
	/* The counters the caller's struct has room for, no more. */
	if (c && st)
		h1c__out_copy(st, size, &c->st, sizeof(c->st));
}
