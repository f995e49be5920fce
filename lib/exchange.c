/*
 * exchange.c - what passes over an open connection: a request put on it
 * and written (its head, its body pumped from memory or a callback, the
 * wait for 100 Continue), the bytes read and the events of its response
 * (interim and final heads, data, trailers, the end, the server's close),
 * and what a connection's deadline brings. Calls down only: cx.c (a
 * connection settled, closed or lost), pools, requests, the interest
 * table, conn.c and the I/O layer.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Appends more of the body of x->writing to the output, up to BODY_CHUNK
 * ahead of the socket (x may close: a body callback that failed). */
static void fill_body(struct h1c_client *c, struct cx *x)
{
	struct rq *r = x->writing;

	while (r && r->body_state == BODY_SENDING) {
		const char *p;
		size_t pending;
		int err;

		h1c__conn_output(&x->conn, &p, &pending);
		if (pending >= BODY_CHUNK)
			return;
		if (!r->body_read) {
			size_t left = r->body_len - (size_t)r->body_sent;
			size_t n = left < BODY_CHUNK ? left : BODY_CHUNK;
			err = h1c__conn_body(&x->conn, (const char *)r->body + r->body_sent, n, 0);
			if (err) {
				h1c__cx_fail(c, x, err, r);
				return;
			}
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
				err = H1C_ECALLBACK;
			else
				err = h1c__conn_body(&x->conn, chunk, (size_t)n, n == 0);
			if (err) {
				h1c__cx_fail(c, x, err, r);
				return;
			}
			r->body_sent += n;
			if (n == 0)
				r->body_state = BODY_NONE;
		}
		if (r->body_state == BODY_NONE) {
			x->writing = NULL;
			x->head_since = h1c__now_ms();
		}
	}
}

/* Puts request r on connection x (which may close: see h1c__cx_closed()). */
void h1c__assign(struct h1c_client *c, struct rq *r, struct cx *x)
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
			return;
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
		h1c__cx_settle(c, x);
		return;
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
			x->wait100_until = h1c__ms_after(h1c__now_ms(), c->o.expect_timeout_ms);
		} else {
			r->body_state = BODY_SENDING;
		}
		h1c__cx_flush(c, x);
		return;
	}
	/* Written when dispatch is done, so that a pipeline goes out in one
	 * write. */
	h1c__flush_later(c, x);
}

/* Writes what x has queued, as far as the socket takes it (x may close). */
void h1c__cx_flush(struct h1c_client *c, struct cx *x)
{
	if (x->state != CX_OPEN || x->write_failed)
		return;
	h1c__cx_touch(c, x);
	for (;;) {
		const char *p;
		size_t n;
		long w;

		if (x->writing) {
			fill_body(c, x);
			if (x->state == CX_DEAD)
				return;
		}
		h1c__conn_output(&x->conn, &p, &n);
		if (!n)
			return;
		w = x->pool->io->write(x->io, p, n);
		if (w > 0) {
			h1c__conn_written(&x->conn, (size_t)w);
			x->written += (unsigned long long)w;
			if (x->writing)
				x->last_io = h1c__now_ms();
			continue;
		}
		if (w == H1C_EWANTWRITE)
			return;
		if (w == H1C_EWANTREAD) {
			x->wr_wants_read = 1;
			return;
		}
		/* Nothing ever got out (a handshake that failed, a server gone
		 * before the first byte), or the layer says the failure is
		 * final: no answer can come, so the connection is lost now and
		 * its requests re-dialled within their budget or ended with
		 * the layer's error. */
		if (!x->written || w == H1C_ETLS) {
			h1c__cx_fail(c, x, w < 0 ? (int)w : H1C_EIO, NULL);
			return;
		}
		/* The server may have answered and closed without reading all
		 * (413, 401...): stop writing, read what it said. */
		x->write_failed = 1;
		h1c__conn_no_reuse(&x->conn);
		return;
	}
}

/* One response ended for r (NULL: a cancelled request's); x may close. */
static void response_end(struct h1c_client *c, struct cx *x, struct rq *r)
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
	h1c__cx_settle(c, x);
}

/* Handles the events of the bytes x holds, until more are needed or x
 * closes. */
static void cx_events(struct h1c_client *c, struct cx *x)
{
	for (;;) {
		struct h1c_event ev;
		void *user;
		struct rq *r;
		const struct h1c_response *resp = h1c__conn_response(&x->conn);
		const struct h1c_framing *fr = h1c__conn_framing(&x->conn);
		int err = h1c__conn_next(&x->conn, &ev, &user), fail = 0;

		r = user;
		if (err) {
			if (!h1c__conn_in_flight(&x->conn))
				h1c__cx_close(c, x); /* bytes nobody asked for (a
				                        stray 408): not reusable */
			else
				h1c__cx_fail(c, x, err, NULL);
			return;
		}
		switch ((int)ev.type) {
		case H1C_EV_NEED_MORE:
			h1c__cx_flush(c, x);
			return;
		case H1C__EV_INTERIM:
			if (!r)
				break;
			r->begun = 1;
			if (resp->status == 100 && r->body_state == BODY_WAIT100)
				r->body_state = BODY_SENDING;
			if (r->cb.on_interim && r->cb.on_interim(r->user, resp))
				fail = H1C_ECALLBACK;
			break;
		case H1C_EV_HEAD:
			if (!r)
				break;
			r->begun = 1;
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
				fail = H1C_EBODYSIZE;
			else if (r->cb.on_head && r->cb.on_head(r->user, resp))
				fail = H1C_ECALLBACK;
			break;
		case H1C_EV_DATA:
			if (!r || r->discard || !ev.len)
				break;
			if (r->max_body && (r->body_got += ev.len) > r->max_body)
				fail = H1C_EBODYSIZE;
			else if (r->cb.on_data && r->cb.on_data(r->user, ev.data, ev.len))
				fail = H1C_ECALLBACK;
			break;
		case H1C_EV_TRAILERS:
			if (r && !r->discard && r->cb.on_trailers &&
			    r->cb.on_trailers(r->user, ev.fields, ev.num_fields))
				fail = H1C_ECALLBACK;
			break;
		case H1C_EV_DONE:
			x->last_io = x->head_since = h1c__now_ms();
			x->rate_since = 0;
			response_end(c, x, r);
			if (x->state == CX_DEAD)
				return;
			break;
		default:
			break;
		}
		if (fail) {
			h1c__cx_fail(c, x, fail, r);
			return;
		}
	}
}

/* The server closed x: x closes. */
static void cx_eof(struct h1c_client *c, struct cx *x)
{
	struct h1c_event ev;
	void *user;
	int err = 0;

	if (h1c__conn_in_flight(&x->conn)) {
		err = h1c__conn_eof(&x->conn, &ev, &user);
		if (!err && ev.type == H1C_EV_DONE) {
			/* A close-delimited body ended. */
			response_end(c, x, user);
			if (x->state == CX_DEAD)
				return;
		}
	}
	if (!h1c__conn_in_flight(&x->conn))
		h1c__cx_close(c, x);
	else
		h1c__cx_fail(c, x, err ? err : H1C_ETRUNCATED, NULL);
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

/* Reads what x has, and handles it (x may close). */
void h1c__cx_read(struct h1c_client *c, struct cx *x)
{
	int rounds;

	if (x->state != CX_OPEN)
		return;
	h1c__cx_touch(c, x);
	/* The buffers it gave back while it waited (bufs.c). */
	if (h1c__bufs_take(c, x)) {
		h1c__cx_fail(c, x, H1C_ENOMEM, NULL);
		return;
	}
	for (rounds = 0; rounds < 4; rounds++) {
		char *space;
		size_t room;
		long n;
		int err = h1c__conn_space(&x->conn, x->read_want, &space, &room);

		if (err) {
			h1c__cx_fail(c, x, err, NULL);
			return;
		}
		n = x->pool->io->read(x->io, space, room);
		if (n > 0) {
			h1c__conn_filled(&x->conn, (size_t)n);
			x->last_io = h1c__now_ms();
			x->rate_bytes += (unsigned long long)n;
			cx_events(c, x);
			if (x->state == CX_DEAD)
				return;
			if ((size_t)n < room) {
				ack_now(x);
				return;
			}
			/* Large bodies: fewer, larger reads (the buffer grows once). */
			if (x->read_want < READ_MAX)
				x->read_want *= 2;
			continue;
		}
		if (n == 0)
			cx_eof(c, x);
		else if (n == H1C_EWANTWRITE)
			x->rd_wants_write = 1;
		else if (n != H1C_EWANTREAD)
			h1c__cx_fail(c, x, (int)n, NULL);
		return;
	}
}

/* x's deadline has come: does what is due (a dial step, retiring an idle
 * connection, sending a body without 100, a rate window, a timeout). */
void h1c__cx_due(struct h1c_client *c, struct cx *x, long long now)
{
	h1c__cx_touch(c, x);
	if (x->state == CX_DEAD) {
		return;
	} else if (x->state == CX_DIAL) {
		h1c__cx_dial(c, x, -1);
	} else if (x->idle) {
		h1c__cx_close(c, x);
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
