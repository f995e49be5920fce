/*
 * cx.c - one connection's life: opened and dialled (the stages of dial.c),
 * ready, kept idle for reuse or closed, its deadline and what it wants
 * watched, and what becomes of its requests when it is lost (replay or an
 * error, exactly once). What passes over it is exchange.c's. Calls down
 * only: dial.c, the interest table, pools, requests, deadlines and conn.c.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <string.h>

/* The earlier of two times, 0 meaning never. */
static long long earliest(long long a, long long b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Closes x: its socket, its buffers, its place in every list. Its
 * requests must have been dealt with. The record stays, CX_DEAD, until the
 * outermost call into the client unwinds (h1c__cx_reap()), so that a
 * caller holding x only asks h1c__cx_closed() and nothing returns "x was
 * freed". */
void h1c__cx_close(struct h1c_client *c, struct cx *x)
{
	if (x->state == CX_DEAD)
		return;
	h1c__idle_unlink(c, x);
	h1c__pipe_file(x, 0);
	h1c__touched_unlink(c, x);
	h1c__flushq_unlink(c, x);
	h1c__heap_del(&c->heap, &x->dl);
	h1c__heap_release(&c->heap, 1);
	H1C__LIST_OUT(c->conns, x, next, prev);
	H1C__LIST_OUT(x->pool->conns, x, pnext, pprev);
	c->nconns--;
	x->pool->nconns--;
	h1c__pool_update(c, x->pool);
	/* A descriptor is free again: the next dial may try. */
	c->fd_cap = 0;
	if (x->state == CX_DIAL)
		x->pool->ndial--;
	/* A dial lets go of what its stage holds; an open connection of its
	 * layer and socket. */
	h1c__dial_stop(c, x);
	h1c__bufs_closing(c, x);
	h1c__conn_free(&x->conn);
	x->writing = NULL;
	x->state = CX_DEAD;
	x->next = c->dead; /* singly linked: only reaped */
	c->dead = x;
}

/* A record for a new connection: a spare one, or a new one. */
static struct cx *record_new(struct h1c_client *c)
{
	struct cx *x = c->spare_cx;

	if (!x)
		return h1c__malloc(c->al, sizeof(*x));
	H1C__UNPOISON(x, sizeof(*x));
	c->spare_cx = x->next;
	c->nspare_cx--;
	return x;
}

/* Frees x's record, or keeps it among the few spare ones while c is not
 * closing: a server that closes after each response costs no allocation a
 * request (the buffers go to bufs.c's stack). A spare record is poisoned
 * under AddressSanitizer, so that a stale pointer to a closed connection
 * is still caught. */
static void record_put(struct h1c_client *c, struct cx *x)
{
	if (c->nspare_cx >= SPARE_CONNS || c->closing) {
		h1c__free(c->al, x);
		return;
	}
	x->next = c->spare_cx;
	c->spare_cx = x;
	c->nspare_cx++;
	H1C__POISON(x, sizeof(*x));
}

void h1c__cx_reap(struct h1c_client *c)
{
	while (c->dead) {
		struct cx *x = c->dead;
		c->dead = x->next;
		record_put(c, x);
	}
	while (c->closing && c->spare_cx)
		h1c__free(c->al, record_new(c));
}

/* Starts a new connection for pool p. Returns 0 when it is dialling or
 * connected, else the error (the waiting requests have been dealt with). */
int h1c__cx_open(struct h1c_client *c, struct pool *p)
{
	struct cx *x = record_new(c);
	int err;

	if (x && h1c__heap_reserve(&c->heap, c->al, 1)) {
		record_put(c, x);
		x = NULL;
	}
	if (!x) {
		h1c__pool_fail(c, p, H1C_ENOMEM);
		return H1C_ENOMEM;
	}
	memset(x, 0, sizeof(*x));
	x->pool = p;
	x->state = CX_DIAL;
	x->read_want = READ_CHUNK;
	h1c__dial_begin(x);
	err = h1c__bufs_init(c, x, p->via_proxy);
	if (err) {
		h1c__conn_free(&x->conn);
		record_put(c, x);
		h1c__heap_release(&c->heap, 1);
		h1c__pool_fail(c, p, err);
		return err;
	}
	x->dl.kind = H1C__DL_CX;
	H1C__LIST_FRONT(c->conns, x, next, prev);
	H1C__LIST_FRONT(p->conns, x, pnext, pprev);
	c->nconns++;
	p->nconns++;
	p->ndial++;
	h1c__cx_touch(c, x);
	/* The first stages run now; on loopback the dial may even end now. */
	return h1c__cx_dial(c, x, -1);
}

/* Returns 1 when an error is the server's fault in the bytes it sent. */
static int protocol_error(int err)
{
	return err != H1C_ETRUNCATED && err != H1C_EIO && err != H1C_ETIMEDOUT &&
	       err != H1C_ESLOW && err != H1C_ECANCELED && err != H1C_ECALLBACK && err != H1C_ENOMEM;
}

/* Counts x, being lost, against its pool when it never carried a response.
 * Returns 1 when the pool's new connections have died more than
 * max_replays times since its last response: a server that closes each at
 * once, or a TLS handshake refused, would otherwise be dialled forever. */
int h1c__fresh_lost(const struct h1c_client *c, struct cx *x)
{
	return !h1c__conn_done(&x->conn) && ++x->pool->fresh_fails > c->o.max_replays;
}

/*
 * The connection is lost (err says why; culprit, when not NULL, is the
 * request whose fault or wish it is, and ends with err). Every request on it
 * ends exactly once or goes back to the queue: one whose response the
 * caller began to see, or whose first bytes were malformed, ends with an
 * error; one never written goes back; an idempotent one with a replayable
 * body goes back while it has replays left (even when the first bytes of
 * its response had come, unseen); the rest end with H1C_ETRUNCATED when
 * their response had begun, else H1C_EUNANSWERED. x is closed.
 */
void h1c__cx_fail(struct h1c_client *c, struct cx *x, int err, const struct rq *culprit)
{
	struct h1c__conn *k = &x->conn;
	struct rq *list[H1C__MAXQ], *back[H1C__MAXQ];
	int codes[H1C__MAXQ];
	unsigned i, n = 0, nback = 0, unanswered_pipelined = 0;
	struct pool *p = x->pool;
	int fresh_out;

	if (x->state == CX_DEAD)
		return;
	/* A request that ended its own connection (a limit, a callback, a
	 * deadline) says nothing of the server's new connections. */
	fresh_out = culprit ? 0 : h1c__fresh_lost(c, x);

	/* Out of memory while its response came: the request at the head
	 * ends with that (the rest go on as with any lost connection). */
	if (err == H1C_ENOMEM && !culprit && h1c__conn_in_flight(k))
		culprit = h1c__conn_user(k, 0);
	for (i = 0; i < h1c__conn_in_flight(k); i++) {
		struct rq *r = h1c__conn_user(k, i);
		int got = i == 0 && (h1c__conn_got_bytes(k) || (r && r->begun));
		int code;

		if (!r)
			continue;
		if (r == culprit || err == H1C_ETLS) {
			/* H1C_ETLS: the layer says it is final (a certificate
			 * that does not verify): never dialled again. */
			code = err;
		} else if (got && (r->begun || protocol_error(err))) {
			/* The caller saw a head, or the server's bytes were
			 * wrong: never replayed. */
			code = protocol_error(err) || err == H1C_ETRUNCATED ? err : H1C_ETRUNCATED;
		} else if (x->written <= r->start_off) {
			/* Never reached the server: sent later as if for the first
			 * time, unless a callback body cannot start again, or the
			 * pool's new connections keep dying. */
			if (fresh_out)
				code = err == H1C_ETRUNCATED ? H1C_ENOTSENT : err;
			else
				code = r->body_touched && !r->body_rewind ? H1C_ENOTSENT : 0;
		} else if (r->replayable && !(c->o.flags & H1C_CLIENT_NO_REPLAY) &&
		           r->replays < c->o.max_replays && (r->flags & H1C_DONE_REUSED)) {
			/* Written, and lost with its connection: re-sent only when
			 * that connection had carried others (the keep-alive race,
			 * or a pipeline behind a broken response). A new
			 * connection that dies after carrying a request is the
			 * server's answer to it, and re-sending would multiply
			 * the load on a broken server (curl and Go do the same). */
			code = 0;
			r->replays++;
			r->flags |= H1C_DONE_REPLAYED;
			c->st.replayed++;
		} else if (got) {
			/* Its response had begun to arrive (the caller saw
			 * none of it), so the server processed it. */
			code = H1C_ETRUNCATED;
		} else {
			code = H1C_EUNANSWERED;
		}
		if (!got && r != culprit && (r->flags & H1C_DONE_PIPELINED))
			unanswered_pipelined++;
		if (code == 0) {
			back[nback++] = r;
		} else {
			list[n] = r;
			codes[n++] = code;
		}
	}
	if (h1c__conn_in_flight(k))
		c->st.connections_failed++;
	/* Servers that break pipelines are real: stop pipelining to them. */
	if (unanswered_pipelined && c->o.pipeline_depth > 1) {
		p->no_pipeline_until = c->o.pipeline_backoff_ms < 0
		                           ? 0
		                           : h1c__now_ms() + c->o.pipeline_backoff_ms;
		c->st.pipeline_fallbacks++;
	}
	x->writing = NULL;
	h1c__conn_drop(k);
	h1c__cx_close(c, x);
	/* Re-queue in the original order, ahead of everything waiting. */
	for (; nback > 0; nback--)
		h1c__wait_push_front(c, back[nback - 1]);
	for (i = 0; i < n; i++)
		h1c__rq_end(c, list[i], codes[i]);
	/* A final layer error, or a server whose new connections keep dying:
	 * what waits for the same pool would meet the same, so it ends too
	 * rather than dial again. */
	if (err == H1C_ETLS || fresh_out)
		h1c__pool_fail(c, p, err == H1C_ETRUNCATED ? H1C_ENOTSENT : err);
}

/* After a response: keeps x for reuse, or closes it. */
void h1c__cx_settle(struct h1c_client *c, struct cx *x)
{
	if (x->state == CX_DEAD || h1c__conn_in_flight(&x->conn) || x->writing)
		return;
	x->idle_since = h1c__now_ms();
	if (!h1c__conn_reusable(&x->conn, 0, c->o.keepalive_ms)) {
		h1c__cx_close(c, x);
		return;
	}
	if (!x->idle)
		h1c__idle_push(c, x); /* its buffers go when the call unwinds (settle) */
	h1c__cx_touch(c, x);
}

/* The last stage of the dial of x is done: x is open, and idle until
 * dispatch gives it a request. */
static void cx_ready(struct h1c_client *c, struct cx *x)
{
	x->pool->ndial--;
	c->st.connections_opened++; /* only connections that came to be */
	x->state = CX_OPEN;
	x->last_io = h1c__now_ms();
	h1c__cx_settle(c, x);
}

/* Frees x, whose dial failed with err. Out of descriptors (H1C_ENOFD), the
 * waiting requests wait for one of the client's own: an idle connection is
 * closed to make room, or the client's other connections bound its dials
 * until one of them closes; only a client that holds none ends them. */
static void dial_failed(struct h1c_client *c, struct cx *x, int err)
{
	struct pool *p = x->pool;

	h1c__cx_close(c, x); /* still CX_DIAL: its stage lets go */
	if (err == H1C_ENOFD && c->nconns) {
		/* The least recently used idle connection, unless it is one
		 * just made for another waiting request. */
		if (c->idle_tail && h1c__conn_sent(&c->idle_tail->conn))
			h1c__cx_close(c, c->idle_tail);
		else
			c->fd_cap = c->nconns;
		c->need_dispatch = 1;
		return;
	}
	h1c__pool_fail(c, p, err);
}

/* Advances the dial of x (ready_fd: a descriptor of its stage reported
 * ready, or -1). Returns 0 while it goes on or once x is open, else the
 * error (x is closed). */
int h1c__cx_dial(struct h1c_client *c, struct cx *x, int ready_fd)
{
	int err = h1c__dial_advance(c, x, ready_fd);

	h1c__cx_touch(c, x);
	if (err == H1C_EWANTREAD || err == H1C_EWANTWRITE)
		return 0;
	if (err) {
		dial_failed(c, x, err);
		return err;
	}
	cx_ready(c, x);
	return 0;
}

/* The time at which x needs attention, or 0. */
long long h1c__cx_deadline(const struct h1c_client *c, const struct cx *x)
{
	if (x->state == CX_DIAL)
		return h1c__dial_when(x);
	if (x->idle) {
		long long when = h1c__ms_after(x->idle_since, c->o.keepalive_ms);
		if (h1c__conn_ka_timeout(&x->conn) >= 0) {
			long long hint = h1c__conn_ka_timeout(&x->conn) * 1000;
			hint -= hint / 2 < 1000 ? hint / 2 : 1000;
			when = earliest(when, x->idle_since + hint);
		}
		return when;
	}
	if (x->writing && x->writing->body_state == BODY_WAIT100)
		return x->wait100_until;
	if (x->writing)
		return h1c__ms_after(x->last_io, c->o.idle_timeout_ms);
	if (h1c__conn_in_flight(&x->conn)) {
		/* From the request sent to its response's head, the head
		 * timeout; then the longest silence between bytes. */
		const struct rq *head = h1c__conn_user(&x->conn, 0);
		long long when;
		if (head && !head->final_head && c->o.head_timeout_ms >= 0)
			return x->head_since + c->o.head_timeout_ms;
		when = h1c__ms_after(x->last_io, c->o.idle_timeout_ms);
		if (x->rate_since && c->o.min_rate > 0)
			when = earliest(when, h1c__ms_after(x->rate_since, c->o.rate_window_ms));
		return when;
	}
	return 0;
}

/* Ends r, which timed out or was cancelled, wherever it is. */
void h1c__rq_abort(struct h1c_client *c, struct rq *r, int err)
{
	struct cx *x = r->cx;
	struct h1c__conn *k;

	if (r->state == RQ_WAITING) {
		h1c__wait_unlink(c, r);
		c->nwaiting--;
	}
	if (r->state == RQ_WAITING || !x) {
		h1c__rq_end(c, r, err);
		return;
	}
	k = &x->conn;
	h1c__cx_touch(c, x);
	/* Behind the head and fully written: its response is read and
	 * dropped, and the connection carries on. */
	if (x->writing != r && h1c__conn_user(k, 0) != r) {
		unsigned i;
		for (i = 1; i < h1c__conn_in_flight(k); i++)
			if (h1c__conn_user(k, i) == r)
				h1c__conn_forget(k, i);
		h1c__rq_end(c, r, err);
		return;
	}
	h1c__cx_fail(c, x, err, r);
}

/* What x wants watched. */
unsigned h1c__cx_wants(const struct cx *x)
{
	const char *p;
	size_t n;

	h1c__conn_output(&x->conn, &p, &n);
	return H1C_READ |
	       ((n && !x->write_failed && !x->wr_wants_read) || x->rd_wants_write ? H1C_WRITE : 0);
}
