/*
 * cx.c - one live connection: its dial stages (resolve, then the address
 * race of transport.c; the I/O layer opened on the socket), the request
 * put on it, its body pump and 100-continue, its reads and the events of
 * its response, keep-alive or close once idle, its deadline, and what
 * becomes of its requests when it is lost (replay or an error, exactly
 * once). Calls down only: the interest table, pools, requests, deadlines,
 * conn.c and transport.c.
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

/* t + ms, or 0 (never) when the timeout is off (ms < 0). */
static long long ms_after(long long t, int ms)
{
	return ms < 0 ? 0 : t + ms;
}

/* The earlier of two times, 0 meaning never. */
static long long earliest(long long a, long long b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* Closes x and frees it. Its requests must have been dealt with. */
void h1c__cx_destroy(struct h1c_client *c, struct cx *x)
{
	h1c__idle_unlink(c, x);
	h1c__pipe_file(x, 0);
	h1c__touched_unlink(c, x);
	h1c__flushq_unlink(c, x);
	h1c__heap_del(&c->heap, &x->dl);
	h1c__heap_release(&c->heap, 1);
	if (x->prev)
		x->prev->next = x->next;
	else
		c->conns = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (x->pprev)
		x->pprev->pnext = x->pnext;
	else
		x->pool->conns = x->pnext;
	if (x->pnext)
		x->pnext->pprev = x->pprev;
	c->nconns--;
	x->pool->nconns--;
	h1c__pool_update(c, x->pool);
	/* A descriptor is free again: the next dial may try. */
	c->fd_cap = 0;
	if (x->state == CX_DIAL) {
		x->pool->ndial--;
		h1c__dial_free(&x->dial);
	} else {
		h1c__fd_forget(c, x->fd);
		x->pool->io->close(x->io);
	}
	h1c__conn_free(&x->conn);
	h1c__free(c->al, x);
}

/* Starts a new connection for pool p. Returns 0 when it is connecting or
 * connected, else the error (the waiting requests have been dealt with). */
int h1c__cx_open(struct h1c_client *c, struct pool *p)
{
	struct cx *x = h1c__malloc(c->al, sizeof(*x));
	long long now = h1c__now_ms();
	int err;

	if (x && h1c__heap_reserve(&c->heap, c->al, 1)) {
		h1c__free(c->al, x);
		x = NULL;
	}
	if (!x) {
		h1c__pool_fail(c, p, H1C_ENOMEM);
		return H1C_ENOMEM;
	}
	memset(x, 0, sizeof(*x));
	x->pool = p;
	x->fd = -1;
	x->state = CX_DIAL;
	x->read_want = READ_CHUNK;
	err = h1c__conn_init(&x->conn, &c->parse, p->via_proxy, c->al);
	if (!err)
		err = h1c__dial_start(&x->dial, p->host, p->port, now, c->o.connect_timeout_ms);
	if (err) {
		h1c__conn_free(&x->conn);
		h1c__free(c->al, x);
		h1c__heap_release(&c->heap, 1);
		h1c__pool_fail(c, p, err);
		return err;
	}
	x->dl.kind = H1C__DL_CX;
	x->dial.on_close = h1c__dial_closing;
	x->dial.arg = c;
	x->next = c->conns;
	if (c->conns)
		c->conns->prev = x;
	c->conns = x;
	x->pnext = p->conns;
	if (p->conns)
		p->conns->pprev = x;
	p->conns = x;
	c->nconns++;
	p->nconns++;
	p->ndial++;
	h1c__cx_touch(c, x);
	/* The first attempt starts now; on loopback it may even end now. */
	return h1c__cx_dial(c, x, -1);
}

/* Appends more of the body of x->writing to the output, up to BODY_CHUNK
 * ahead of the socket. Returns 0, or 1 when x was lost. */
static int fill_body(struct h1c_client *c, struct cx *x)
{
	struct rq *r = x->writing;

	while (r && r->body_state == BODY_SENDING) {
		const char *p;
		size_t pending;
		int err;

		h1c__conn_output(&x->conn, &p, &pending);
		if (pending >= BODY_CHUNK)
			return 0;
		if (!r->body_read) {
			size_t left = r->body_len - (size_t)r->body_sent;
			size_t n = left < BODY_CHUNK ? left : BODY_CHUNK;
			err = h1c__conn_body(&x->conn, (const char *)r->body + r->body_sent, n, 0);
			if (err)
				return h1c__cx_fail(c, x, err, r);
			r->body_sent += (long long)n;
			if ((size_t)r->body_sent == r->body_len)
				r->body_state = BODY_NONE;
		} else {
			char chunk[READ_CHUNK];
			long n;
			r->body_touched = 1;
			n = r->body_read(r->body_user, chunk, sizeof(chunk));
			/* More than asked for would be bytes past chunk[]: none of
			 * them is sent (whatever the framing). */
			if (n < 0 || (size_t)n > sizeof(chunk) ||
			    (r->body_size >= 0 && r->body_sent + n > r->body_size) ||
			    (n == 0 && r->body_size >= 0 && r->body_sent != r->body_size))
				return h1c__cx_fail(c, x, H1C_ECALLBACK, r);
			err = h1c__conn_body(&x->conn, chunk, (size_t)n, n == 0);
			if (err)
				return h1c__cx_fail(c, x, err, r);
			r->body_sent += n;
			if (n == 0)
				r->body_state = BODY_NONE;
		}
		if (r->body_state == BODY_NONE) {
			x->writing = NULL;
			x->head_since = h1c__now_ms();
		}
	}
	return 0;
}

/* Puts request r on connection x. Returns 0, or 1 when x was lost. */
int h1c__assign(struct h1c_client *c, struct rq *r, struct cx *x)
{
	const char *p;
	size_t before, after;
	int err;

	h1c__wait_unlink(c, r);
	c->nwaiting--;
	r->state = RQ_ACTIVE;
	r->cx = NULL;
	if (r->body_touched) {
		/* A callback body starts again from its beginning, or not at all. */
		if (!r->body_rewind || r->body_rewind(r->body_user) != 0) {
			h1c__rq_end(c, r, r->replays ? H1C_EUNANSWERED : H1C_ENOTSENT);
			return 0;
		}
		r->body_touched = 0;
	}
	h1c__idle_unlink(c, x);
	h1c__cx_touch(c, x);
	r->cx = x;
	r->begun = r->final_head = r->discard = 0;
	r->body_sent = 0;
	r->req.expect = r->expect && !r->no_expect;
	/* H1C_DONE_REUSED tells of this attempt: only a request written on
	 * a reused connection may be replayed when the connection dies. */
	r->flags &= ~(unsigned)H1C_DONE_REUSED;
	if (h1c__conn_sent(&x->conn)) {
		r->flags |= H1C_DONE_REUSED;
		c->st.connections_reused++;
	}
	if (h1c__conn_in_flight(&x->conn)) {
		r->flags |= H1C_DONE_PIPELINED;
		c->st.pipelined++;
	}
	/* Buffers again, for a connection that gave them back: a spare set,
	 * so that a steady stream of requests allocates nothing. */
	err = h1c__bufs_take(c, x);
	h1c__conn_output(&x->conn, &p, &before);
	if (!err)
		err = h1c__conn_request(&x->conn, &r->req);
	if (err) {
		/* Nothing was queued: the connection is as it was. */
		h1c__rq_end(c, r, err);
		return h1c__cx_settle(c, x);
	}
	h1c__conn_output(&x->conn, &p, &after);
	r->start_off = x->queued;
	x->queued += after - before;
	if (h1c__conn_in_flight(&x->conn) > c->st.max_in_flight)
		c->st.max_in_flight = h1c__conn_in_flight(&x->conn);
	if (r->req.close)
		h1c__conn_no_reuse(&x->conn);
	if (h1c__conn_in_flight(&x->conn) == 1)
		x->last_io = x->head_since = h1c__now_ms();
	if (r->has_body) {
		x->writing = r;
		if (r->req.expect) {
			r->body_state = BODY_WAIT100;
			x->wait100_until = ms_after(h1c__now_ms(), c->o.expect_timeout_ms);
		} else {
			r->body_state = BODY_SENDING;
		}
		return h1c__cx_flush(c, x);
	}
	/* Written when dispatch is done, so that a pipeline goes out in one
	 * write. */
	h1c__flush_later(c, x);
	return 0;
}

/* Writes what x has queued, as far as the socket takes it. Returns 0, or 1
 * when x was lost. */
int h1c__cx_flush(struct h1c_client *c, struct cx *x)
{
	if (x->state != CX_OPEN || x->write_failed)
		return 0;
	h1c__cx_touch(c, x);
	for (;;) {
		const char *p;
		size_t n;
		long w;

		if (x->writing && fill_body(c, x))
			return 1;
		h1c__conn_output(&x->conn, &p, &n);
		if (!n)
			return 0;
		w = x->pool->io->write(x->io, p, n);
		if (w > 0) {
			h1c__conn_written(&x->conn, (size_t)w);
			x->written += (unsigned long long)w;
			if (x->writing)
				x->last_io = h1c__now_ms();
			continue;
		}
		if (w == H1C_EWANTWRITE)
			return 0;
		if (w == H1C_EWANTREAD) {
			x->wr_wants_read = 1;
			return 0;
		}
		/* Nothing ever got out (a handshake that failed, a server gone
		 * before the first byte), or the layer says the failure is
		 * final: no answer can come, so the connection is lost now and
		 * its requests re-dialled within their budget or ended with
		 * the layer's error. */
		if (!x->written || w == H1C_ETLS)
			return h1c__cx_fail(c, x, w < 0 ? (int)w : H1C_EIO, NULL);
		/* The server may have answered and closed without reading all
		 * (413, 401...): stop writing, read what it said. */
		x->write_failed = 1;
		h1c__conn_no_reuse(&x->conn);
		return 0;
	}
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
 * their response had begun, else H1C_EUNANSWERED.
 * Returns 1 (x is gone).
 */
int h1c__cx_fail(struct h1c_client *c, struct cx *x, int err, const struct rq *culprit)
{
	struct h1c__conn *k = &x->conn;
	struct rq *list[H1C__MAXQ], *back[H1C__MAXQ];
	int codes[H1C__MAXQ];
	unsigned i, n = 0, nback = 0, unanswered_pipelined = 0;
	struct pool *p = x->pool;
	/* A request that ended its own connection (a limit, a callback, a
	 * deadline) says nothing of the server's new connections. */
	int fresh_out = culprit ? 0 : h1c__fresh_lost(c, x);

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
	h1c__cx_destroy(c, x);
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
	return 1;
}

/* After a response: keeps x for reuse, or closes it. Returns 1 when x is
 * gone. */
int h1c__cx_settle(struct h1c_client *c, struct cx *x)
{
	if (h1c__conn_in_flight(&x->conn) || x->writing)
		return 0;
	x->idle_since = h1c__now_ms();
	if (!h1c__conn_reusable(&x->conn, 0, c->o.keepalive_ms)) {
		h1c__cx_destroy(c, x);
		return 1;
	}
	if (!x->idle)
		h1c__idle_push(c, x); /* its buffers go when the call unwinds (settle) */
	h1c__cx_touch(c, x);
	return 0;
}

/* One response ended for r (NULL: a cancelled request's). Returns 1 when x
 * is gone. */
static int response_end(struct h1c_client *c, struct cx *x, struct rq *r)
{
	/* RFC 9112 section 9.3.2 and RFC 2616 section 8.1.2.2: pipeline only
	 * once a HTTP/1.1 response showed that the connection persists (an
	 * HTTP/1.0 server is never sent a pipeline). */
	if (h1c__conn_framing(&x->conn)->keep_alive &&
	    h1c__conn_response(&x->conn)->version_minor >= 1)
		x->pipeline_ok = 1;
	x->pool->fresh_fails = 0;
	if (r) {
		r->cx = NULL;
		if (r->discard) {
			if (r->retry408) {
				r->retry408 = 0;
				r->replays++;
				r->flags |= H1C_DONE_REPLAYED;
				c->st.replayed++;
			} else {
				/* RFC 9110 section 10.1.1: retry once without
				 * Expect. */
				r->no_expect = 1;
			}
			r->flags &= ~(unsigned)H1C_DONE_PIPELINED;
			h1c__wait_push_front(c, r);
		} else {
			h1c__rq_end(c, r, 0);
		}
	}
	return h1c__cx_settle(c, x);
}

/* Handles the events of the bytes x holds. Returns 0, or 1 when x is gone. */
static int cx_events(struct h1c_client *c, struct cx *x)
{
	for (;;) {
		struct h1c_event ev;
		void *user;
		struct rq *r;
		const struct h1c_response *resp = h1c__conn_response(&x->conn);
		const struct h1c_framing *fr = h1c__conn_framing(&x->conn);
		int err = h1c__conn_next(&x->conn, &ev, &user), stop = 0;

		r = user;
		if (err) {
			if (!h1c__conn_in_flight(&x->conn)) {
				/* Bytes nobody asked for (a stray 408): not reusable. */
				h1c__cx_destroy(c, x);
				return 1;
			}
			if (err == H1C_EEXTRADATA) {
				/* The last response ended the connection's use
				 * (Connection: close) and the server went on
				 * talking (Node answers 503 to what was pipelined
				 * behind): RFC 9112 section 9.6, it processed none
				 * of the requests behind, which are lost with the
				 * connection as if it had closed. */
				h1c__conn_clear_got(&x->conn);
				return h1c__cx_fail(c, x, H1C_ETRUNCATED, NULL);
			}
			return h1c__cx_fail(c, x, err, NULL);
		}
		switch (ev.type) {
		case H1C_EV_NEED_MORE:
			return h1c__cx_flush(c, x);
		case H1C_EV_HEAD:
			if (!r)
				break;
			r->begun = 1;
			if (h1c__conn_interim(&x->conn)) {
				if (resp->status == 100 && r->body_state == BODY_WAIT100)
					r->body_state = BODY_SENDING;
				if (r->cb.on_interim && r->cb.on_interim(r->user, resp))
					stop = 1;
				break;
			}
			r->final_head = 1;
			x->rate_since = h1c__now_ms();
			x->rate_bytes = 0;
			if (x->writing == r) {
				/* A final status before the body went out: it will
				 * not be sent, and since its length was announced the
				 * connection cannot carry another request. */
				x->writing = NULL;
				r->body_state = BODY_NONE;
				h1c__conn_no_reuse(&x->conn);
			}
			if (r->expect && !r->no_expect && resp->status == 417) {
				r->discard = 1;
				break;
			}
			if (resp->status == 408 && r->replayable &&
			    !(c->o.flags & H1C_CLIENT_NO_REPLAY) && r->replays < c->o.max_replays) {
				/* RFC 9110 section 15.5.9: the server gave up
				 * waiting for a request (typically its idle
				 * timeout, crossing ours on the wire) and did not
				 * process it: sent again, within the replay budget. */
				r->discard = 1;
				r->retry408 = 1;
				break;
			}
			/* A length over the limit ends it before any of the
			 * body is read. */
			r->body_got = 0;
			if (r->max_body && fr->kind == H1C_FRAMING_LENGTH &&
			    fr->content_length > r->max_body)
				return h1c__cx_fail(c, x, H1C_EBODYSIZE, r);
			if (r->cb.on_head && r->cb.on_head(r->user, resp))
				stop = 1;
			break;
		case H1C_EV_DATA:
			if (!r || r->discard || !ev.len)
				break;
			if (r->max_body && (r->body_got += ev.len) > r->max_body)
				return h1c__cx_fail(c, x, H1C_EBODYSIZE, r);
			if (r->cb.on_data && r->cb.on_data(r->user, ev.data, ev.len))
				stop = 1;
			break;
		case H1C_EV_TRAILERS:
			if (r && !r->discard && r->cb.on_trailers &&
			    r->cb.on_trailers(r->user, ev.fields, ev.num_fields))
				stop = 1;
			break;
		case H1C_EV_DONE:
			if (h1c__conn_interim(&x->conn))
				break;
			x->last_io = x->head_since = h1c__now_ms();
			x->rate_since = 0;
			if (response_end(c, x, r))
				return 1;
			break;
		default:
			break;
		}
		if (stop)
			return h1c__cx_fail(c, x, H1C_ECALLBACK, r);
	}
}

/* The server closed x. */
static int cx_eof(struct h1c_client *c, struct cx *x)
{
	struct h1c_event ev;
	void *user;
	int err;

	if (!h1c__conn_in_flight(&x->conn)) {
		h1c__cx_destroy(c, x);
		return 1;
	}
	err = h1c__conn_eof(&x->conn, &ev, &user);
	if (!err && ev.type == H1C_EV_DONE) {
		/* A close-delimited body ended. */
		if (response_end(c, x, user))
			return 1;
		if (!h1c__conn_in_flight(&x->conn)) {
			h1c__cx_destroy(c, x);
			return 1;
		}
		err = H1C_ETRUNCATED;
	}
	return h1c__cx_fail(c, x, err ? err : H1C_ETRUNCATED, NULL);
}

/* Acknowledges what x read at once when more of a response is awaited. A
 * server that leaves Nagle's algorithm on holds its next small write (the
 * body after a head, the next pipelined response) until its last one is
 * acknowledged, and a client with nothing to send delays that ACK by some
 * 40 ms: every response would cost one such delay. Linux only; elsewhere
 * the refill policy of can_pipeline() is what helps. */
static void ack_now(const struct cx *x)
{
#ifdef TCP_QUICKACK
	int one = 1;

	if (h1c__conn_in_flight(&x->conn))
		(void)setsockopt(x->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)x;
#endif
}

/* Reads what x has. Returns 0, or 1 when x is gone. */
int h1c__cx_read(struct h1c_client *c, struct cx *x)
{
	int rounds;

	h1c__cx_touch(c, x);
	/* The buffers it gave back while it waited (bufs.c). */
	if (h1c__bufs_take(c, x))
		return h1c__cx_fail(c, x, H1C_ENOMEM, NULL);
	for (rounds = 0; rounds < 4; rounds++) {
		char *space;
		size_t room;
		long n;
		int err = h1c__conn_space(&x->conn, x->read_want, &space, &room);

		if (err)
			return h1c__cx_fail(c, x, err, NULL);
		n = x->pool->io->read(x->io, space, room);
		if (n > 0) {
			h1c__conn_filled(&x->conn, (size_t)n);
			x->last_io = h1c__now_ms();
			x->rate_bytes += (unsigned long long)n;
			if (cx_events(c, x))
				return 1;
			if ((size_t)n < room) {
				ack_now(x);
				return 0;
			}
			/* Large bodies: fewer, larger reads (the buffer grows once). */
			if (x->read_want < READ_MAX)
				x->read_want *= 2;
			continue;
		}
		if (n == 0)
			return cx_eof(c, x);
		if (n == H1C_EWANTREAD)
			return 0;
		if (n == H1C_EWANTWRITE) {
			x->rd_wants_write = 1;
			return 0;
		}
		return h1c__cx_fail(c, x, (int)n, NULL);
	}
	return 0;
}

/* The dial of x connected with socket fd: wrap it and make x ready (idle
 * until dispatch gives it a request). Returns 0 or an error. */
static int cx_connected(struct h1c_client *c, struct cx *x, int fd)
{
	struct fdent *f = h1c__fdent(c, fd);
	int err = 0;
	const struct h1c_io *v = x->pool->io;
	void *io;

	io = f ? v->open(x->pool->io_user, fd, x->pool->host, &err) : NULL;

	if (!io) {
		h1c__fd_forget(c, fd);
		close(fd);
		return err ? err : H1C_ENOMEM;
	}
	/* The connection is watched by the layer's descriptor: the dial's
	 * registration goes on under the same number (its events change at
	 * settle), or ends when the layer moved the socket. */
	if (v->fd(io) != fd)
		h1c__fd_forget(c, fd);
	f = h1c__fdent(c, v->fd(io));
	if (!f) {
		h1c__fd_forget(c, v->fd(io));
		v->close(io);
		return H1C_ENOMEM;
	}
	x->pool->ndial--;
	c->st.connections_opened++; /* only connections that came to be */
	x->state = CX_OPEN;
	x->io = io;
	x->fd = v->fd(io);
	f->cx = x;
	x->last_io = h1c__now_ms();
	h1c__cx_settle(c, x);
	return 0;
}

/* Frees x, whose dial failed with err (its attempts are closed already).
 * Out of descriptors (H1C_ENOFD), the waiting requests wait for one of the
 * client's own: an idle connection is closed to make room, or the client's
 * other connections bound its dials until one of them closes; only a
 * client that holds none ends them. */
static void dial_failed(struct h1c_client *c, struct cx *x, int err)
{
	struct pool *p = x->pool;

	h1c__cx_destroy(c, x); /* still CX_DIAL; freeing a finished dial is a no-op */
	if (err == H1C_ENOFD && c->nconns) {
		/* The least recently used idle connection, unless it is one
		 * just made for another waiting request. */
		if (c->idle_tail && h1c__conn_sent(&c->idle_tail->conn))
			h1c__cx_destroy(c, c->idle_tail);
		else
			c->fd_cap = c->nconns;
		c->need_dispatch = 1;
		return;
	}
	h1c__pool_fail(c, p, err);
}

/* Advances the dial of x (ready_fd: an attempt reported ready, or -1).
 * Returns 0 while it connects or once connected, else the error (x is
 * gone). */
int h1c__cx_dial(struct h1c_client *c, struct cx *x, int ready_fd)
{
	int fd = -1, err = h1c__dial_step(&x->dial, h1c__now_ms(), ready_fd, &fd);

	h1c__cx_touch(c, x);
	if (err == H1C_EWANTWRITE) {
		/* The live attempts' descriptors lead back to x (the dial's
		 * on_close hook forgets each as it closes). */
		size_t i;
		for (i = 0; i < x->dial.live; i++) {
			struct fdent *f = h1c__fdent(c, x->dial.fds[i]);
			if (!f) {
				/* Unwatched, it would hang until the connect
				 * timeout. */
				dial_failed(c, x, H1C_ENOMEM);
				return H1C_ENOMEM;
			}
			f->cx = x;
		}
		return 0;
	}
	if (err == 0)
		err = cx_connected(c, x, fd);
	if (err)
		dial_failed(c, x, err);
	return err;
}

/* The time at which x needs attention, or 0. */
long long h1c__cx_deadline(const struct h1c_client *c, const struct cx *x)
{
	if (x->state == CX_DIAL)
		return h1c__dial_deadline(&x->dial);
	if (x->idle) {
		long long when = ms_after(x->idle_since, c->o.keepalive_ms);
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
		return ms_after(x->last_io, c->o.idle_timeout_ms);
	if (h1c__conn_in_flight(&x->conn)) {
		/* From the request sent to its response's head, the head
		 * timeout; then the longest silence between bytes. */
		const struct rq *head = h1c__conn_user(&x->conn, 0);
		long long when;
		if (head && !head->final_head && c->o.head_timeout_ms >= 0)
			return x->head_since + c->o.head_timeout_ms;
		when = ms_after(x->last_io, c->o.idle_timeout_ms);
		if (x->rate_since && c->o.min_rate > 0)
			when = earliest(when, ms_after(x->rate_since, c->o.rate_window_ms));
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

/* x's deadline has come: does what is due (a dial step, retiring an idle
 * connection, sending a body without 100, a rate window, a timeout). */
void h1c__cx_due(struct h1c_client *c, struct cx *x, long long now)
{
	h1c__cx_touch(c, x);
	if (x->state == CX_DIAL) {
		h1c__cx_dial(c, x, -1);
	} else if (x->idle) {
		h1c__cx_destroy(c, x);
	} else if (x->writing && x->writing->body_state == BODY_WAIT100) {
		/* RFC 9110 section 10.1.1: no 100 in time; send anyway. */
		x->writing->body_state = BODY_SENDING;
		x->last_io = now;
		h1c__cx_flush(c, x);
	} else if (h1c__conn_in_flight(&x->conn) && x->rate_since && c->o.min_rate > 0 &&
	           (c->o.idle_timeout_ms < 0 || now < x->last_io + c->o.idle_timeout_ms)) {
		/* A rate window ended: enough bytes start the next one. */
		if (x->rate_bytes * 1000 <
		    (unsigned long long)c->o.min_rate * (unsigned long long)c->o.rate_window_ms) {
			h1c__cx_fail(c, x, H1C_ESLOW, h1c__conn_user(&x->conn, 0));
		} else {
			x->rate_since = now;
			x->rate_bytes = 0;
		}
	} else {
		h1c__cx_fail(c, x, H1C_ETIMEDOUT, h1c__conn_user(&x->conn, 0));
	}
}

/* What x wants watched. */
unsigned h1c__cx_wants(const struct cx *x)
{
	const char *p;
	size_t n;

	if (x->state == CX_DIAL)
		return H1C_WRITE;
	h1c__conn_output(&x->conn, &p, &n);
	return H1C_READ |
	       ((n && !x->write_failed && !x->wr_wants_read) || x->rd_wants_write ? H1C_WRITE : 0);
}
