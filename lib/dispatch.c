/*
 * dispatch.c - the policy alone: which connection a waiting request goes
 * to (an idle one of its pool, a new dial under the limits, or a safe
 * pipeline), checked idle connections closed, room made under the total
 * limit, deferred cancellations done, and what was queued written in one
 * go. Calls cx.c, pool.c and the interest table.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Returns 1 when one more request may be pipelined onto x. */
static int can_pipeline(const struct h1c_client *c, const struct cx *x, const struct rq *r,
                        long long now)
{
	const struct h1c__conn *k = &x->conn;
	const struct rq *tail;

	if (x->state != CX_OPEN || x->write_failed || !x->pipeline_ok || x->writing ||
	    h1c__conn_in_flight(k) == 0 || h1c__conn_in_flight(k) >= c->o.pipeline_depth ||
	    !h1c__conn_may_send(k))
		return 0;
	if (!r->idempotent || now < x->pool->no_pipeline_until)
		return 0;
	/* Refilled as soon as a response leaves room: waiting for half of
	 * the pipeline to drain left a server without TCP_NODELAY holding its
	 * next response behind our delayed ACK every round. Requests still
	 * go out several to a write, since dispatch runs once all the bytes
	 * of a read are handled. */
	tail = h1c__conn_user(k, h1c__conn_in_flight(k) - 1);
	if (!tail)
		return 1; /* cancelled; its response is still read and dropped */
	/* RFC 9112 section 9.3.2: nothing behind a non-idempotent request
	 * until its final status; nothing behind a HEAD unless allowed. */
	if (!tail->idempotent && !tail->final_head)
		return 0;
	if (tail->head && !(c->o.flags & H1C_CLIENT_PIPELINE_HEAD))
		return 0;
	return 1;
}

/* Makes room for one more connection by closing the least recently used
 * idle one. Returns 1 when there is room. */
static int make_room(struct h1c_client *c)
{
	unsigned limit = c->o.max_connections;

	if (c->fd_cap && c->fd_cap < limit)
		limit = c->fd_cap;
	if (c->nconns < limit)
		return 1;
	if (!c->idle_tail)
		return 0;
	h1c__cx_close(c, c->idle_tail);
	return 1;
}

/* Closes idle x, found closed by the server or holding junk. Returns 1 when
 * that ended the requests waiting in its pool (see h1c__fresh_lost()). */
int h1c__stale_close(struct h1c_client *c, struct cx *x)
{
	struct pool *p = x->pool;
	int out = h1c__fresh_lost(c, x);

	c->st.stale_closed++;
	h1c__cx_close(c, x);
	if (out && !p->nconns) {
		h1c__pool_fail(c, p, H1C_ENOTSENT);
		return 1;
	}
	return 0;
}

/* Takes the most recently used idle connection of p that is still fit,
 * closing those that are not. */
static struct cx *take_idle(struct h1c_client *c, const struct pool *p, long long now)
{
	struct cx *x = p->idle;

	while (x) {
		struct cx *next = x->inext;
		/* A connection the server closed, or that holds junk (a stray
		 * 408), is readable: never reuse it. */
		if (h1c__conn_reusable(&x->conn, now - x->idle_since, c->o.keepalive_ms) &&
		    !h1c__readable_now(x->fd))
			return x;
		if (h1c__stale_close(c, x))
			return NULL;
		x = next;
	}
	return NULL;
}

/* The live connection of p with the fewest requests in flight that may take
 * r in a pipeline, or NULL. */
static struct cx *pick_pipeline(struct h1c_client *c, const struct pool *p, const struct rq *r,
                                long long now)
{
	struct cx *x, *best = NULL;

	/* At most max_per_origin of them. */
	for (x = p->conns; x; x = x->pnext)
		if (can_pipeline(c, x, r, now) &&
		    (!best || h1c__conn_in_flight(&x->conn) < h1c__conn_in_flight(&best->conn)))
			best = x;
	return best;
}

/* Gives waiting requests their connections (DESIGN: dispatch). */
static void dispatch_pool(struct h1c_client *c, struct pool *p)
{
	long long now = h1c__now_ms();

	while (p->wait_head) {
		struct rq *r = p->wait_head;
		struct cx *x = take_idle(c, p, now);

		if (x) {
			h1c__assign(c, r, x);
			continue;
		}
		/* A new connection for every request that has none coming. */
		while (p->ndial < p->nwait && p->nconns < c->o.max_per_origin && make_room(c))
			if (h1c__cx_open(c, p))
				break;
		if (!p->wait_head)
			return;
		r = p->wait_head;
		/* cx_open may have connected at once. */
		x = take_idle(c, p, now);
		if (!x && c->o.pipeline_depth > 1)
			x = pick_pipeline(c, p, r, now);
		if (!x)
			return;
		h1c__assign(c, r, x);
	}
}

void h1c__dispatch(struct h1c_client *c)
{
	struct pool *p;
	int pass, lost = 1;

	c->busy++;
	c->need_dispatch = 0;
	if (c->cancels)
		h1c__do_cancels(c);
	/* A connection lost while writing sends its requests back to the
	 * queue: dispatch again, a bounded number of times. */
	for (pass = 0; pass < 4 && lost; pass++) {
		struct pool *next;
		/* Only the pools with requests waiting; a pool leaves the
		 * list only when its own requests leave it. */
		for (p = c->wpools; p; p = next) {
			next = p->wnext;
			dispatch_pool(c, p);
		}
		lost = 0;
		/* Only the connections given requests by this dispatch. */
		while (c->flushq) {
			struct cx *x = c->flushq;
			h1c__flushq_unlink(c, x);
			h1c__cx_flush(c, x);
			if (h1c__cx_closed(x))
				lost = 1;
		}
	}
	/* A pool with no connection and no request is forgotten: a client
	 * that visits many origins keeps only those it is using. */
	h1c__pool_gc(c);
	c->busy--;
}

void h1c__do_cancels(struct h1c_client *c)
{
	while (c->cancelq) {
		struct rq *r = c->cancelq;
		c->cancelq = r->cnext;
		r->cnext = NULL;
		/* Ended meanwhile (its record may even serve a new request,
		 * whose cancel flag is clear). */
		if (r->cancel && (r->state == RQ_WAITING || r->state == RQ_ACTIVE))
			h1c__rq_abort(c, r, H1C_ECANCELED);
	}
	c->cancels = 0;
}
