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

/* Returns 1 when one more idempotent request may be pipelined onto x (the
 * pool's back-off aside). */
static int can_pipeline(const struct h1c_client *c, const struct cx *x)
{
	const struct h1c__conn *k = &x->conn;
	const struct rq *tail;

	if (x->state != CX_OPEN || x->write_failed || !x->pipeline_ok || x->writing ||
	    h1c__conn_in_flight(k) == 0 || h1c__conn_in_flight(k) >= c->o.pipeline_depth ||
	    !h1c__conn_may_send(k))
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

/* Files x among its pool's connections that may take a pipelined request,
 * under the number it has in flight, or under none. */
static void pipe_refile(const struct h1c_client *c, struct cx *x)
{
	if (c->o.pipeline_depth > 1)
		h1c__pipe_file(x, can_pipeline(c, x) ? h1c__conn_in_flight(&x->conn) : 0);
}

/* The client's total: max_connections, or fewer when descriptors ran out. */
static unsigned conn_limit(const struct h1c_client *c)
{
	unsigned limit = c->o.max_connections;

	if (c->fd_cap && c->fd_cap < limit)
		limit = c->fd_cap;
	return limit;
}

/* Returns 1 when one more connection fits under the total, or an idle one
 * may be closed for it. */
static int have_room(const struct h1c_client *c)
{
	return c->nconns < conn_limit(c) || c->idle_tail;
}

/* Makes room for one more connection by closing the least recently used
 * idle one. Returns 1 when there is room. */
static int make_room(struct h1c_client *c)
{
	if (c->nconns < conn_limit(c))
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
 * r in a pipeline, or NULL: the first of the lowest pipe[] list, each list
 * kept up to date as its connections change (those found unfit on the way
 * are taken off: they come back when something happens to them). */
static struct cx *pick_pipeline(struct h1c_client *c, struct pool *p, const struct rq *r,
                                long long now)
{
	unsigned k;

	if (!r->idempotent || now < p->no_pipeline_until)
		return NULL;
	for (k = 1; k < c->o.pipeline_depth; k++)
		while (p->pipe[k]) {
			struct cx *x = p->pipe[k];
			if (can_pipeline(c, x))
				return x;
			h1c__pipe_file(x, 0);
		}
	return NULL;
}

/* Gives waiting requests their connections (DESIGN: dispatch); a new
 * connection only when no other pool waits for room before p (first: p
 * was the first in that line). */
static void dispatch_pool(struct h1c_client *c, struct pool *p, int first)
{
	long long now = h1c__now_ms();

	while (p->wait_head) {
		struct rq *r = p->wait_head;
		struct cx *x = take_idle(c, p, now);

		if (x) {
			h1c__assign(c, r, x);
			pipe_refile(c, x);
			continue;
		}
		/* A new connection for every request that has none coming; with
		 * no room under the total, the pool waits in line for it. */
		while (p->ndial < p->nwait && p->nconns < c->o.max_per_origin) {
			/* (A dial that found no descriptor left: the client's
			 * total is bounded by those it holds until one closes.) */
			if ((!first && c->slot_head && c->slot_head != p) || !make_room(c) ||
			    h1c__cx_open(c, p)) {
				if (p->nwait)
					h1c__slot_wait(c, p, first);
				break;
			}
		}
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
		pipe_refile(c, x);
	}
}

/* Visits p (taken off the dispatch list it was on). */
static void visit(struct h1c_client *c, struct pool *p, int first)
{
	p->visiting = 1;
	dispatch_pool(c, p, first);
	p->visiting = 0;
}

void h1c__dispatch(struct h1c_client *c)
{
	int pass, lost = 1;

	c->busy++;
	c->need_dispatch = 0;
	if (c->cancelq)
		h1c__do_cancels(c);
	/* A connection lost while writing sends its requests back to the
	 * queue: dispatch again, a bounded number of times. */
	for (pass = 0; pass < 4 && lost; pass++) {
		struct pool *p;
		struct cx *x;
		unsigned n;
		/* Only the pools something happened to: a request queued, a
		 * connection of theirs idle or gone (pool.c marks those), or,
		 * when requests may be pipelined, one of theirs that had an
		 * event (room in its pipeline, perhaps); a pool that cannot
		 * move waits for such news. */
		if (c->o.pipeline_depth > 1)
			for (x = c->touched; x; x = x->tnext) {
				pipe_refile(c, x);
				h1c__pool_update(c, x->pool);
			}
		/* Their own idle connections and pipelines first; then room
		 * under the total goes to the pools waiting for it, in the
		 * order they began to wait. */
		while ((p = h1c__ready_pop(c)))
			visit(c, p, 0);
		for (n = c->nslot; n && c->slot_head && have_room(c); n--)
			visit(c, h1c__slot_pop(c), 1);
		lost = 0;
		/* Only the connections given requests by this dispatch. */
		while (c->flushq) {
			x = c->flushq;
			h1c__flushq_unlink(c, x);
			h1c__cx_flush(c, x);
			if (h1c__cx_closed(x))
				lost = 1;
		}
	}
	/* A pool with no connection and no request is kept among the last
	 * few unused, then forgotten: a client that visits many origins keeps
	 * those it is using and a few more. */
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
}
