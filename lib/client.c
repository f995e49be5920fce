/*
 * client.c - the connection manager: requests queued per pool (origin, or
 * proxy), dispatched to idle connections, new connections or safe
 * pipelines; connections read and written as their sockets become ready;
 * replay of what a lost connection left unanswered; timers; the poll(2)
 * loop, the interface for an outside event loop, and the blocking call
 * built on them. The only layer that touches sockets and the clock.
 *
 * Ownership: the client owns its pools, connections and request records.
 * A request record lives from h1c_client_request() until its on_done has
 * returned; its copy of the method, target and fields is kept in a buffer
 * the record reuses, so a steady stream of requests allocates nothing.
 */
/* POSIX sockets and poll(2), even under a strict -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The built-in loop: epoll on Linux, so an idle pooled socket costs
 * nothing per iteration; poll(2) elsewhere, or with -DH1C_USE_POLL. */
#if defined(__linux__) && !defined(H1C_USE_POLL)
#define H1C__EPOLL 1
#include <sys/epoll.h>
#endif

#include "manager.h"

static int cx_fail(struct h1c_client *c, struct cx *x, int err, const struct rq *culprit);
static int cx_flush(struct h1c_client *c, struct cx *x);
static int cx_settle(struct h1c_client *c, struct cx *x);
static void dispatch(struct h1c_client *c);
static int freed_now(struct h1c_client *c);

/* ---- small helpers ---------------------------------------------------------- */

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


/* Returns 1 when the socket has something to read (bytes or EOF): an idle
 * connection in that state was closed by the server, or holds junk. */
static int readable_now(int fd)
{
	struct pollfd p;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) != 0;
}

/* The descriptor table entry of fd, grown on demand; NULL when out of memory. */
static struct fdent *fdent(struct h1c_client *c, int fd)
{
	if ((size_t)fd >= c->fds_cap) {
		size_t cap = c->fds_cap ? c->fds_cap : 64;
		struct fdent *f;
		while (cap <= (size_t)fd)
			cap *= 2;
		f = h1c__realloc(c->al, c->fds, cap * sizeof(*f));
		if (!f)
			return NULL;
		memset(f + c->fds_cap, 0, (cap - c->fds_cap) * sizeof(*f));
		c->fds = f;
		c->fds_cap = cap;
	}
	return &c->fds[fd];
}

/* Tells the outside loop what fd should be watched for, when that changed. */
static void watch(struct h1c_client *c, int fd, unsigned events)
{
	struct fdent *f;

	if (fd < 0 || !c->fds || (size_t)fd >= c->fds_cap)
		return;
	f = &c->fds[fd];
	if (c->has_loop && f->watched != events)
		c->loop.watch(c->loop.user, fd, events, &f->slot);
	f->watched = events;
	if (!events)
		f->slot = NULL;
#ifdef H1C__EPOLL
	if (c->epfd >= 0 && f->ep != events) {
		struct epoll_event e;
		memset(&e, 0, sizeof(e));
		e.events = ((events & H1C_READ) ? EPOLLIN : 0u) | ((events & H1C_WRITE) ? EPOLLOUT : 0u);
		e.data.fd = fd;
		/* A descriptor an I/O layer closed or replaced behind our back
		 * is no longer in the set (ENOENT), or a new one with its
		 * number is (EEXIST): the other operation then applies. */
		if (!events) {
			(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, &e);
			f->ep = 0;
		} else if (epoll_ctl(c->epfd, f->ep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e) == 0 ||
		           epoll_ctl(c->epfd, f->ep ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e) == 0) {
			f->ep = events;
		}
	}
#endif
}

/* Forgets a descriptor about to be closed. */
static void fd_forget(struct h1c_client *c, int fd)
{
	watch(c, fd, 0);
	if (fd >= 0 && (size_t)fd < c->fds_cap)
		c->fds[fd].cx = NULL;
}

/* The dial's hook: an attempt's socket is about to be closed. */
static void dial_closing(void *arg, int fd)
{
	fd_forget(arg, fd);
}

/* ---- the lists that keep every event's cost flat ---------------------------- */

/* Marks x for settling: its deadline and the events it wants are brought
 * up to date when the current public call unwinds (settle()), so nothing
 * walks every connection to find the ones that changed. */
static void cx_touch(struct h1c_client *c, struct cx *x)
{
	if (x->touched)
		return;
	x->touched = 1;
	x->tprev = NULL;
	x->tnext = c->touched;
	if (c->touched)
		c->touched->tprev = x;
	c->touched = x;
}

static void touched_unlink(struct h1c_client *c, struct cx *x)
{
	if (!x->touched)
		return;
	if (x->tprev)
		x->tprev->tnext = x->tnext;
	else
		c->touched = x->tnext;
	if (x->tnext)
		x->tnext->tprev = x->tprev;
	x->tnext = x->tprev = NULL;
	x->touched = 0;
}

/* Queues x for the write at the end of dispatch (a pipeline goes out in
 * one write). */
static void flush_later(struct h1c_client *c, struct cx *x)
{
	if (x->flushq)
		return;
	x->flushq = 1;
	x->fprev = NULL;
	x->fnext = c->flushq;
	if (c->flushq)
		c->flushq->fprev = x;
	c->flushq = x;
}

static void flushq_unlink(struct h1c_client *c, struct cx *x)
{
	if (!x->flushq)
		return;
	if (x->fprev)
		x->fprev->fnext = x->fnext;
	else
		c->flushq = x->fnext;
	if (x->fnext)
		x->fnext->fprev = x->fprev;
	x->fnext = x->fprev = NULL;
	x->flushq = 0;
}











/* The end of a public call: completions run, and the requests their
 * callbacks queued are given connections (once; more waits for the next
 * call, so that a callback that always queues cannot spin here). */
static void unwind(struct h1c_client *c)
{
	h1c__complete(c);
	if (c->need_dispatch && !c->busy) {
		dispatch(c);
		h1c__complete(c);
	}
}








long long h1c_client_request(struct h1c_client *c, const struct h1c_request *req,
                             const struct h1c_callbacks *cb, void *user)
{
	struct h1c_request copy;
	const struct h1c_request *q = &copy;
	struct h1c__url u;
	struct rq *r;
	struct pool *p;
	int err;

	if (!c || !req)
		return H1C_EINVAL;
	/* No more of the caller's struct than its size says. */
	h1c__opts_copy(&copy, sizeof(copy), req, sizeof(copy));
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
	if (cb)
		r->cb = *cb;
	r->user = user;
	h1c__id_add(c, r);
	/* Queue it, and count it among the pending. */
	h1c__pool_enqueue(c, r);
	r->lnext = c->live;
	if (c->live)
		c->live->lprev = r;
	c->live = r;
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

/* ---- connections ---------------------------------------------------------------- */



/* Closes x and frees it. Its requests must have been dealt with. */
static void cx_destroy(struct h1c_client *c, struct cx *x)
{
	h1c__idle_unlink(c, x);
	touched_unlink(c, x);
	flushq_unlink(c, x);
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
		fd_forget(c, x->fd);
		x->pool->io->close(x->io);
	}
	h1c__conn_free(&x->conn);
	h1c__free(c->al, x);
}

static int cx_dial(struct h1c_client *c, struct cx *x, int ready_fd);


/* Starts a new connection for pool p. Returns 0 when it is connecting or
 * connected, else the error (the waiting requests have been dealt with). */
static int cx_open(struct h1c_client *c, struct pool *p)
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
	x->dial.on_close = dial_closing;
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
	cx_touch(c, x);
	/* The first attempt starts now; on loopback it may even end now. */
	return cx_dial(c, x, -1);
}

/* Returns 1 when one more request may be pipelined onto x. */
static int can_pipeline(const struct h1c_client *c, const struct cx *x, const struct rq *r,
                        long long now)
{
	const struct h1c__conn *k = &x->conn;
	const struct rq *tail;

	if (x->state != CX_OPEN || x->write_failed || !x->pipeline_ok || x->writing ||
	    k->q_n == 0 || k->q_n >= c->o.pipeline_depth || !h1c__conn_may_send(k))
		return 0;
	if (!r->idempotent || now < x->pool->no_pipeline_until)
		return 0;
	/* Refilled as soon as a response leaves room: waiting for half of
	 * the pipeline to drain left a server without TCP_NODELAY holding its
	 * next response behind our delayed ACK every round. Requests still
	 * go out several to a write, since dispatch runs once all the bytes
	 * of a read are handled. */
	tail = k->q[(k->q_head + k->q_n - 1) % H1C__MAXQ].user;
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
				return cx_fail(c, x, err, r);
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
				return cx_fail(c, x, H1C_ECALLBACK, r);
			err = h1c__conn_body(&x->conn, chunk, (size_t)n, n == 0);
			if (err)
				return cx_fail(c, x, err, r);
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
static int assign(struct h1c_client *c, struct rq *r, struct cx *x)
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
	cx_touch(c, x);
	r->cx = x;
	r->begun = r->final_head = r->discard = 0;
	r->body_sent = 0;
	r->req.expect = r->expect && !r->no_expect;
	/* H1C_DONE_REUSED tells of this attempt: only a request written on
	 * a reused connection may be replayed when the connection dies. */
	r->flags &= ~(unsigned)H1C_DONE_REUSED;
	if (x->conn.sent) {
		r->flags |= H1C_DONE_REUSED;
		c->st.connections_reused++;
	}
	if (x->conn.q_n) {
		r->flags |= H1C_DONE_PIPELINED;
		c->st.pipelined++;
	}
	/* Buffers again, for a connection taken from idle: a spare set, so
	 * that a steady stream of requests allocates nothing. */
	err = h1c__conn_unpark(&x->conn, c->nbufs ? &c->bufs[c->nbufs - 1] : NULL);
	if (!err && c->nbufs && x->conn.hdr == c->bufs[c->nbufs - 1].hdr)
		c->nbufs--;
	h1c__conn_output(&x->conn, &p, &before);
	if (!err)
		err = h1c__conn_request(&x->conn, &r->req);
	if (err) {
		/* Nothing was queued: the connection is as it was. */
		h1c__rq_end(c, r, err);
		return cx_settle(c, x);
	}
	h1c__conn_output(&x->conn, &p, &after);
	r->start_off = x->queued;
	x->queued += after - before;
	if (x->conn.q_n > c->st.max_in_flight)
		c->st.max_in_flight = x->conn.q_n;
	if (r->req.close)
		x->conn.no_reuse = 1;
	if (x->conn.q_n == 1)
		x->last_io = x->head_since = h1c__now_ms();
	if (r->has_body) {
		x->writing = r;
		if (r->req.expect) {
			r->body_state = BODY_WAIT100;
			x->wait100_until = ms_after(h1c__now_ms(), c->o.expect_timeout_ms);
		} else {
			r->body_state = BODY_SENDING;
		}
		return cx_flush(c, x);
	}
	/* Written when dispatch is done, so that a pipeline goes out in one
	 * write. */
	flush_later(c, x);
	return 0;
}

/* Writes what x has queued, as far as the socket takes it. Returns 0, or 1
 * when x was lost. */
static int cx_flush(struct h1c_client *c, struct cx *x)
{
	if (x->state != CX_OPEN || x->write_failed)
		return 0;
	cx_touch(c, x);
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
			return cx_fail(c, x, w < 0 ? (int)w : H1C_EIO, NULL);
		/* The server may have answered and closed without reading all
		 * (413, 401...): stop writing, read what it said. */
		x->write_failed = 1;
		x->conn.no_reuse = 1;
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
static int fresh_lost(const struct h1c_client *c, struct cx *x)
{
	return !x->conn.done && ++x->pool->fresh_fails > c->o.max_replays;
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
static int cx_fail(struct h1c_client *c, struct cx *x, int err, const struct rq *culprit)
{
	struct h1c__conn *k = &x->conn;
	struct rq *list[H1C__MAXQ], *back[H1C__MAXQ];
	int codes[H1C__MAXQ];
	unsigned i, n = 0, nback = 0, unanswered_pipelined = 0;
	struct pool *p = x->pool;
	/* A request that ended its own connection (a limit, a callback, a
	 * deadline) says nothing of the server's new connections. */
	int fresh_out = culprit ? 0 : fresh_lost(c, x);

	/* Out of memory while its response came: the request at the head
	 * ends with that (the rest go on as with any lost connection). */
	if (err == H1C_ENOMEM && !culprit && k->q_n)
		culprit = k->q[k->q_head].user;
	for (i = 0; i < k->q_n; i++) {
		struct rq *r = k->q[(k->q_head + i) % H1C__MAXQ].user;
		int got = i == 0 && (k->got_bytes || (r && r->begun));
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
	if (k->q_n)
		c->st.connections_failed++;
	/* Servers that break pipelines are real: stop pipelining to them. */
	if (unanswered_pipelined && c->o.pipeline_depth > 1) {
		p->no_pipeline_until = c->o.pipeline_backoff_ms < 0
		                           ? 0
		                           : h1c__now_ms() + c->o.pipeline_backoff_ms;
		c->st.pipeline_fallbacks++;
	}
	x->writing = NULL;
	k->q_n = 0;
	cx_destroy(c, x);
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
static int cx_settle(struct h1c_client *c, struct cx *x)
{
	if (x->conn.q_n || x->writing)
		return 0;
	x->idle_since = h1c__now_ms();
	if (!h1c__conn_reusable(&x->conn, 0, c->o.keepalive_ms)) {
		cx_destroy(c, x);
		return 1;
	}
	if (!x->idle)
		h1c__idle_push(c, x); /* its buffers go when the call unwinds (settle) */
	cx_touch(c, x);
	return 0;
}

/* x is idle as the call unwinds: its buffers serve the next connection
 * taken from idle, and past a few they are freed, so that an idle
 * connection keeps at most its own record. A connection given a new
 * request within the same call (a busy client) keeps them: no allocation
 * per request. */
static void cx_park(struct h1c_client *c, struct cx *x)
{
	struct h1c__bufs b;

	if (!h1c__conn_park(&x->conn, &b))
		return;
	if (c->nbufs < SPARE_BUFS) {
		c->bufs[c->nbufs++] = b;
	} else {
		h1c__free(c->al, b.in);
		h1c__free(c->al, b.out);
		h1c__free(c->al, b.hdr);
	}
}

/* One response ended for r (NULL: a cancelled request's). Returns 1 when x
 * is gone. */
static int response_end(struct h1c_client *c, struct cx *x, struct rq *r)
{
	const struct h1c_reader *rd = &x->conn.rd;

	/* RFC 9112 section 9.3.2 and RFC 2616 section 8.1.2.2: pipeline only
	 * once a HTTP/1.1 response showed that the connection persists (an
	 * HTTP/1.0 server is never sent a pipeline). */
	if (rd->framing.keep_alive && rd->resp.version_minor >= 1)
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
	return cx_settle(c, x);
}

/* Handles the events of the bytes x holds. Returns 0, or 1 when x is gone. */
static int cx_events(struct h1c_client *c, struct cx *x)
{
	for (;;) {
		struct h1c_event ev;
		void *user;
		struct rq *r;
		const struct h1c_reader *rd = &x->conn.rd;
		int err = h1c__conn_next(&x->conn, &ev, &user), stop = 0;

		r = user;
		if (err) {
			if (!x->conn.q_n) {
				/* Bytes nobody asked for (a stray 408): not reusable. */
				cx_destroy(c, x);
				return 1;
			}
			if (err == H1C_EEXTRADATA) {
				/* The last response ended the connection's use
				 * (Connection: close) and the server went on
				 * talking (Node answers 503 to what was pipelined
				 * behind): RFC 9112 section 9.6, it processed none
				 * of the requests behind, which are lost with the
				 * connection as if it had closed. */
				x->conn.got_bytes = 0;
				return cx_fail(c, x, H1C_ETRUNCATED, NULL);
			}
			return cx_fail(c, x, err, NULL);
		}
		switch (ev.type) {
		case H1C_EV_NEED_MORE:
			return cx_flush(c, x);
		case H1C_EV_HEAD:
			if (!r)
				break;
			r->begun = 1;
			if (rd->framing.flags & H1C_FRAMING_INTERIM) {
				if (rd->resp.status == 100 && r->body_state == BODY_WAIT100)
					r->body_state = BODY_SENDING;
				if (r->cb.on_interim && r->cb.on_interim(r->user, &rd->resp))
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
				x->conn.no_reuse = 1;
			}
			if (r->expect && !r->no_expect && rd->resp.status == 417) {
				r->discard = 1;
				break;
			}
			if (rd->resp.status == 408 && r->replayable &&
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
			if (r->max_body && rd->framing.kind == H1C_FRAMING_LENGTH &&
			    rd->framing.content_length > r->max_body)
				return cx_fail(c, x, H1C_EBODYSIZE, r);
			if (r->cb.on_head && r->cb.on_head(r->user, &rd->resp))
				stop = 1;
			break;
		case H1C_EV_DATA:
			if (!r || r->discard || !ev.len)
				break;
			if (r->max_body && (r->body_got += ev.len) > r->max_body)
				return cx_fail(c, x, H1C_EBODYSIZE, r);
			if (r->cb.on_data && r->cb.on_data(r->user, ev.data, ev.len))
				stop = 1;
			break;
		case H1C_EV_TRAILERS:
			if (r && !r->discard && r->cb.on_trailers &&
			    r->cb.on_trailers(r->user, ev.fields, ev.num_fields))
				stop = 1;
			break;
		case H1C_EV_DONE:
			if (rd->framing.flags & H1C_FRAMING_INTERIM)
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
			return cx_fail(c, x, H1C_ECALLBACK, r);
	}
}

/* The server closed x. */
static int cx_eof(struct h1c_client *c, struct cx *x)
{
	struct h1c_event ev;
	void *user;
	int err;

	if (!x->conn.q_n) {
		cx_destroy(c, x);
		return 1;
	}
	err = h1c__conn_eof(&x->conn, &ev, &user);
	if (!err && ev.type == H1C_EV_DONE) {
		/* A close-delimited body ended. */
		if (response_end(c, x, user))
			return 1;
		if (!x->conn.q_n) {
			cx_destroy(c, x);
			return 1;
		}
		err = H1C_ETRUNCATED;
	}
	return cx_fail(c, x, err ? err : H1C_ETRUNCATED, NULL);
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

	if (x->conn.q_n)
		(void)setsockopt(x->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)x;
#endif
}

/* Reads what x has. Returns 0, or 1 when x is gone. */
static int cx_read(struct h1c_client *c, struct cx *x)
{
	int rounds;

	cx_touch(c, x);
	for (rounds = 0; rounds < 4; rounds++) {
		char *space;
		size_t room;
		long n;
		int err = h1c__conn_space(&x->conn, x->read_want, &space, &room);

		if (err)
			return cx_fail(c, x, err, NULL);
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
		return cx_fail(c, x, (int)n, NULL);
	}
	return 0;
}

/* The dial of x connected with socket fd: wrap it and make x ready (idle
 * until dispatch gives it a request). Returns 0 or an error. */
static int cx_connected(struct h1c_client *c, struct cx *x, int fd)
{
	struct fdent *f = fdent(c, fd);
	int err = 0;
	const struct h1c_io *v = x->pool->io;
	void *io;

	io = f ? v->open(x->pool->io_user, fd, x->pool->host, &err) : NULL;

	if (!io) {
		fd_forget(c, fd);
		close(fd);
		return err ? err : H1C_ENOMEM;
	}
	/* The connection is watched by the layer's descriptor: the dial's
	 * registration goes on under the same number (its events change at
	 * settle), or ends when the layer moved the socket. */
	if (v->fd(io) != fd)
		fd_forget(c, fd);
	f = fdent(c, v->fd(io));
	if (!f) {
		fd_forget(c, v->fd(io));
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
	cx_settle(c, x);
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

	cx_destroy(c, x); /* still CX_DIAL; freeing a finished dial is a no-op */
	if (err == H1C_ENOFD && c->nconns) {
		/* The least recently used idle connection, unless it is one
		 * just made for another waiting request. */
		if (c->idle_tail && c->idle_tail->conn.sent)
			cx_destroy(c, c->idle_tail);
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
static int cx_dial(struct h1c_client *c, struct cx *x, int ready_fd)
{
	int fd = -1, err = h1c__dial_step(&x->dial, h1c__now_ms(), ready_fd, &fd);

	cx_touch(c, x);
	if (err == H1C_EWANTWRITE) {
		/* The live attempts' descriptors lead back to x (the dial's
		 * on_close hook forgets each as it closes). */
		size_t i;
		for (i = 0; i < x->dial.live; i++) {
			struct fdent *f = fdent(c, x->dial.fds[i]);
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

/* ---- dispatch --------------------------------------------------------------- */

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
	cx_destroy(c, c->idle_tail);
	return 1;
}

/* Closes idle x, found closed by the server or holding junk. Returns 1 when
 * that ended the requests waiting in its pool (see fresh_lost()). */
static int stale_close(struct h1c_client *c, struct cx *x)
{
	struct pool *p = x->pool;
	int out = fresh_lost(c, x);

	c->st.stale_closed++;
	cx_destroy(c, x);
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
		    !readable_now(x->fd))
			return x;
		if (stale_close(c, x))
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
		if (can_pipeline(c, x, r, now) && (!best || x->conn.q_n < best->conn.q_n))
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
			assign(c, r, x);
			continue;
		}
		/* A new connection for every request that has none coming. */
		while (p->ndial < p->nwait && p->nconns < c->o.max_per_origin && make_room(c))
			if (cx_open(c, p))
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
		assign(c, r, x);
	}
}

/* Deals with cancellations asked for from callbacks. */
static void do_cancels(struct h1c_client *c);

static void dispatch(struct h1c_client *c)
{
	struct pool *p;
	int pass, lost = 1;

	c->busy++;
	c->need_dispatch = 0;
	if (c->cancels)
		do_cancels(c);
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
			flushq_unlink(c, x);
			if (cx_flush(c, x))
				lost = 1;
		}
	}
	/* A pool with no connection and no request is forgotten: a client
	 * that visits many origins keeps only those it is using. */
	h1c__pool_gc(c);
	c->busy--;
}

/* ---- timers --------------------------------------------------------------------- */

int h1c__timer_reserve(struct h1c_client *c)
{
	return h1c__heap_reserve(&c->heap, c->al, 1);
}

void h1c__timer_release(struct h1c_client *c)
{
	h1c__heap_release(&c->heap, 1);
}

void h1c__timer_disarm(struct h1c_client *c, struct h1c__timer *t)
{
	if (!t->armed)
		return;
	h1c__heap_del(&c->heap, &t->dl);
	t->armed = 0;
	c->ntimers--;
}

void h1c__timer_arm(struct h1c_client *c, struct h1c__timer *t, long long at)
{
	t->dl.kind = H1C__DL_TIMER;
	if (!t->armed) {
		t->armed = 1;
		c->ntimers++;
	}
	h1c__heap_set(&c->heap, &t->dl, at);
	if (c->has_loop && c->loop.timer && !c->busy) {
		c->loop.timer(c->loop.user, 0);
		c->timer_reported = 0;
	}
}

const struct h1c_allocator *h1c__client_allocator(const struct h1c_client *c)
{
	return c->al;
}

/* Work still to do: pending requests and armed module timers. */
static int pending_work(const struct h1c_client *c)
{
	return (int)(c->nlive + c->ntimers);
}

/* The time at which x needs attention, or 0. */
static long long cx_deadline(const struct h1c_client *c, const struct cx *x)
{
	if (x->state == CX_DIAL)
		return h1c__dial_deadline(&x->dial);
	if (x->idle) {
		long long when = ms_after(x->idle_since, c->o.keepalive_ms);
		if (x->conn.ka_timeout >= 0) {
			long long hint = x->conn.ka_timeout * 1000;
			hint -= hint / 2 < 1000 ? hint / 2 : 1000;
			when = earliest(when, x->idle_since + hint);
		}
		return when;
	}
	if (x->writing && x->writing->body_state == BODY_WAIT100)
		return x->wait100_until;
	if (x->writing)
		return ms_after(x->last_io, c->o.idle_timeout_ms);
	if (x->conn.q_n) {
		/* From the request sent to its response's head, the head
		 * timeout; then the longest silence between bytes. */
		const struct rq *head = x->conn.q[x->conn.q_head].user;
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
static void rq_abort(struct h1c_client *c, struct rq *r, int err)
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
	cx_touch(c, x);
	/* Behind the head and fully written: its response is read and
	 * dropped, and the connection carries on. */
	if (x->writing != r && k->q[k->q_head].user != r) {
		unsigned i;
		for (i = 1; i < k->q_n; i++)
			if (k->q[(k->q_head + i) % H1C__MAXQ].user == r)
				k->q[(k->q_head + i) % H1C__MAXQ].user = NULL;
		h1c__rq_end(c, r, err);
		return;
	}
	cx_fail(c, x, err, r);
}

static void do_cancels(struct h1c_client *c)
{
	while (c->cancelq) {
		struct rq *r = c->cancelq;
		c->cancelq = r->cnext;
		r->cnext = NULL;
		/* Ended meanwhile (its record may even serve a new request,
		 * whose cancel flag is clear). */
		if (r->cancel && (r->state == RQ_WAITING || r->state == RQ_ACTIVE))
			rq_abort(c, r, H1C_ECANCELED);
	}
	c->cancels = 0;
}

/* x's deadline has come: does what is due (a dial step, retiring an idle
 * connection, sending a body without 100, a rate window, a timeout). */
static void cx_due(struct h1c_client *c, struct cx *x, long long now)
{
	cx_touch(c, x);
	if (x->state == CX_DIAL) {
		cx_dial(c, x, -1);
	} else if (x->idle) {
		cx_destroy(c, x);
	} else if (x->writing && x->writing->body_state == BODY_WAIT100) {
		/* RFC 9110 section 10.1.1: no 100 in time; send anyway. */
		x->writing->body_state = BODY_SENDING;
		x->last_io = now;
		cx_flush(c, x);
	} else if (x->conn.q_n && x->rate_since && c->o.min_rate > 0 &&
	           (c->o.idle_timeout_ms < 0 || now < x->last_io + c->o.idle_timeout_ms)) {
		/* A rate window ended: enough bytes start the next one. */
		if (x->rate_bytes * 1000 <
		    (unsigned long long)c->o.min_rate * (unsigned long long)c->o.rate_window_ms) {
			cx_fail(c, x, H1C_ESLOW, x->conn.q[x->conn.q_head].user);
		} else {
			x->rate_since = now;
			x->rate_bytes = 0;
		}
	} else {
		cx_fail(c, x, H1C_ETIMEDOUT, x->conn.q[x->conn.q_head].user);
	}
}

#define OWNER(d, type, member) ((type *)(void *)((char *)(d) - offsetof(type, member)))

/* Expires what is due at time now, earliest first, from the deadline heap.
 * A connection's entry may be early (it is moved later lazily): it is
 * then re-armed at its real time. Each step removes or moves the entry it
 * took, so the loop ends. */
static void expire(struct h1c_client *c, long long now)
{
	struct h1c__deadline *d;

	while ((d = h1c__heap_top(&c->heap)) && d->at <= now) {
		if (d->kind == H1C__DL_CX) {
			struct cx *x = OWNER(d, struct cx, dl);
			long long when = cx_deadline(c, x);
			if (when && when > now) {
				h1c__heap_set(&c->heap, d, when);
				continue;
			}
			h1c__heap_del(&c->heap, d);
			if (when)
				cx_due(c, x, now);
		} else if (d->kind == H1C__DL_RQ) {
			h1c__heap_del(&c->heap, d);
			rq_abort(c, OWNER(d, struct rq, dl), H1C_ETIMEDOUT);
		} else {
			/* A module timer: disarmed before it fires (a fire may
			 * re-arm it). */
			struct h1c__timer *t = OWNER(d, struct h1c__timer, dl);
			h1c__timer_disarm(c, t);
			t->fire(t->arg);
		}
	}
}

int h1c_client_timeout(const struct h1c_client *c)
{
	const struct h1c__deadline *d;
	long long now;

	if (!c)
		return -1;
	/* Work that has not been settled yet: come back at once. */
	if (c->need_dispatch || c->touched)
		return 0;
	d = h1c__heap_top(&c->heap);
	if (!d)
		return -1;
	now = h1c__now_ms();
	if (d->at <= now)
		return 0;
	return d->at - now > 86400000 ? 86400000 : (int)(d->at - now);
}

/* ---- the loop interface ------------------------------------------------------ */

/* What x wants watched. */
static unsigned cx_wants(const struct cx *x)
{
	const char *p;
	size_t n;

	if (x->state == CX_DIAL)
		return H1C_WRITE;
	h1c__conn_output(&x->conn, &p, &n);
	return H1C_READ |
	       ((n && !x->write_failed && !x->wr_wants_read) || x->rd_wants_write ? H1C_WRITE : 0);
}

/* Settles the touched connections: each one's deadline is armed (moved
 * earlier at once; later lazily, when the early one comes) and the events
 * it wants are recorded and, when they changed, told to the outside loop. */
static void settle(struct h1c_client *c)
{
	while (c->touched) {
		struct cx *x = c->touched;
		long long when = cx_deadline(c, x);

		touched_unlink(c, x);
		if (x->idle)
			cx_park(c, x);
		if (!when)
			h1c__heap_del(&c->heap, &x->dl);
		else if (!x->dl.idx || when < x->dl.at)
			h1c__heap_set(&c->heap, &x->dl, when);
		if (x->state == CX_DIAL) {
			size_t i;
			for (i = 0; i < x->dial.live; i++)
				watch(c, x->dial.fds[i], H1C_WRITE);
		} else {
			watch(c, x->fd, cx_wants(x));
		}
	}
}

/* Brings the deadlines and the outside loop up to date. */
static void sync_loop(struct h1c_client *c)
{
	int ms;

	settle(c);
	if (!c->has_loop)
		return;
	ms = h1c_client_timeout(c);
	if (c->loop.timer && (ms != -1 || c->timer_reported != -1)) {
		c->loop.timer(c->loop.user, ms);
		c->timer_reported = ms;
	}
}

size_t h1c_client_watches(const struct h1c_client *c, struct h1c_watch *w, size_t max)
{
	const struct cx *x;
	size_t n = 0, i;

	if (!c)
		return 0;
	for (x = c->conns; x; x = x->next) {
		if (x->state == CX_DIAL) {
			for (i = 0; i < x->dial.live; i++, n++)
				if (n < max) {
					w[n].fd = x->dial.fds[i];
					w[n].events = H1C_WRITE;
				}
			continue;
		}
		if (n < max) {
			w[n].fd = x->fd;
			w[n].events = cx_wants(x);
		}
		n++;
	}
	return n;
}

/* Handles readiness of fd; no dispatch. */
static void ready(struct h1c_client *c, int fd, unsigned events)
{
	struct cx *x;

	if (fd < 0 || (size_t)fd >= c->fds_cap || !(x = c->fds[fd].cx))
		return;
	cx_touch(c, x);
	if (x->state == CX_DIAL) {
		cx_dial(c, x, fd);
		return;
	}
	if (x->fd != fd)
		return;
	if (events & H1C_WRITE) {
		if (x->rd_wants_write) {
			x->rd_wants_write = 0;
			if (cx_read(c, x))
				return;
		}
		if (cx_flush(c, x))
			return;
	}
	if (events & H1C_READ) {
		if (x->idle) {
			/* An idle connection heard from: closed, or junk. */
			stale_close(c, x);
			return;
		}
		if (x->wr_wants_read) {
			x->wr_wants_read = 0;
			if (cx_flush(c, x))
				return;
		}
		cx_read(c, x);
	}
}

int h1c_client_on_ready(struct h1c_client *c, int fd, unsigned events)
{
	if (!c)
		return H1C_EINVAL;
	c->busy++;
	ready(c, fd, events);
	expire(c, h1c__now_ms());
	c->busy--;
	dispatch(c);
	unwind(c);
	if (freed_now(c))
		return 0;
	sync_loop(c);
	return pending_work(c);
}

int h1c_client_on_timeout(struct h1c_client *c)
{
	if (!c)
		return H1C_EINVAL;
	c->busy++;
	expire(c, h1c__now_ms());
	c->busy--;
	dispatch(c);
	unwind(c);
	if (freed_now(c))
		return 0;
	sync_loop(c);
	return pending_work(c);
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
	c->has_loop = loop != NULL && loop->watch != NULL;
	if (c->has_loop)
		c->loop = *loop;
	c->timer_reported = -2;
	{
		/* Everything is news to the new loop. */
		struct cx *x;
		for (x = c->conns; x; x = x->next)
			cx_touch(c, x);
	}
	sync_loop(c);
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
		c->cancels++;
		return 0;
	}
	c->busy++;
	rq_abort(c, r, H1C_ECANCELED);
	c->busy--;
	dispatch(c);
	unwind(c);
	if (freed_now(c))
		return 0;
	sync_loop(c);
	return 0;
}

/* Waits up to wait ms with poll(2) over h1c_client_watches() and hands
 * what is ready to ready(). Returns 0 or an error. */
static int wait_poll(struct h1c_client *c, int wait)
{
	size_t n, i;
	int rc;

	/* The sockets, as an outside loop would get them, then as poll's. */
	n = h1c_client_watches(c, c->wv, c->pfd_cap);
	if (n > c->pfd_cap) {
		size_t cap = n * 2;
		struct pollfd *pf = h1c__realloc(c->al, c->pfd, cap * sizeof(*pf));
		struct h1c_watch *wv;
		if (!pf)
			return H1C_ENOMEM;
		c->pfd = pf;
		wv = h1c__realloc(c->al, c->wv, cap * sizeof(*wv));
		if (!wv)
			return H1C_ENOMEM;
		c->wv = wv;
		c->pfd_cap = cap;
		n = h1c_client_watches(c, c->wv, c->pfd_cap);
	}
	for (i = 0; i < n; i++) {
		c->pfd[i].fd = c->wv[i].fd;
		c->pfd[i].events = (short)(((c->wv[i].events & H1C_READ) ? POLLIN : 0) |
		                           ((c->wv[i].events & H1C_WRITE) ? POLLOUT : 0));
		c->pfd[i].revents = 0;
	}
	rc = poll(c->pfd, (nfds_t)n, wait);
	if (rc < 0 && errno != EINTR)
		return H1C_EIO;
	c->busy++;
	for (i = 0; rc > 0 && i < n; i++) {
		short re = c->pfd[i].revents;
		unsigned ev = 0;
		if (!re)
			continue;
		if (re & (POLLIN | POLLHUP | POLLERR))
			ev |= H1C_READ;
		if (re & (POLLOUT | POLLHUP | POLLERR))
			ev |= H1C_WRITE;
		ready(c, c->pfd[i].fd, ev);
	}
	c->busy--;
	return 0;
}

#ifdef H1C__EPOLL
/* The same with epoll: the set is kept up to date by watch(), so a wait
 * costs what is ready, not what is watched. Returns 0, an error, or 1
 * when no epoll set can be had (poll(2) then serves). */
static int wait_epoll(struct h1c_client *c, int wait)
{
	struct epoll_event ev[64];
	int n, i;

	if (c->epfd < 0) {
		size_t fd;
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (c->epfd < 0)
			return 1;
		/* What is watched already joins the set, once. */
		for (fd = 0; fd < c->fds_cap; fd++) {
			unsigned w = c->fds[fd].watched;
			struct epoll_event e;
			c->fds[fd].ep = 0;
			if (!w)
				continue;
			memset(&e, 0, sizeof(e));
			e.events = ((w & H1C_READ) ? EPOLLIN : 0u) | ((w & H1C_WRITE) ? EPOLLOUT : 0u);
			e.data.fd = (int)fd;
			if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, (int)fd, &e) == 0)
				c->fds[fd].ep = w;
		}
	}
	n = epoll_wait(c->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), wait);
	if (n < 0 && errno != EINTR)
		return H1C_EIO;
	c->busy++;
	for (i = 0; i < n; i++) {
		unsigned e = 0;
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			e |= H1C_READ;
		if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			e |= H1C_WRITE;
		ready(c, ev[i].data.fd, e);
	}
	c->busy--;
	return 0;
}
#endif

/* (manager.h) */
int h1c__run(struct h1c_client *c, long long deadline, const int *stop)
{
	dispatch(c);
	unwind(c);
	for (;;) {
		int wait, rc;
		long long now;

		if (freed_now(c))
			return 0;
		/* Deadlines and interest settled (and an outside loop's hooks
		 * told) before waiting, and before returning. */
		sync_loop(c);
		if (!pending_work(c) || (stop && *stop))
			return pending_work(c);
		wait = h1c_client_timeout(c);
		now = h1c__now_ms();
		if (deadline >= 0) {
			long long left = deadline - now;
			if (left < 0)
				left = 0;
			if (wait < 0 || left < wait)
				wait = (int)left;
		}
#ifdef H1C__EPOLL
		rc = wait_epoll(c, wait);
		if (rc == 1) /* no epoll set to be had */
			rc = wait_poll(c, wait);
#else
		rc = wait_poll(c, wait);
#endif
		if (rc < 0)
			return rc;
		c->busy++;
		expire(c, h1c__now_ms());
		c->busy--;
		dispatch(c);
		unwind(c);
		if (freed_now(c))
			return 0;
		if (deadline >= 0 && h1c__now_ms() >= deadline) {
			sync_loop(c);
			return pending_work(c);
		}
	}
}

int h1c_client_run(struct h1c_client *c, int timeout_ms)
{
	if (!c)
		return H1C_EINVAL;
	if (c->busy)
		return H1C_EINVAL;
	return h1c__run(c, timeout_ms < 0 ? -1 : h1c__now_ms() + timeout_ms, NULL);
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

struct h1c_client *h1c_client_create(const struct h1c_client_options *opt, int *errp)
{
	struct h1c_client_options o;
	struct h1c_client *c;
	int err = 0;

	/* No more of the caller's struct than its size says. */
	h1c__opts_copy(&o, sizeof(o), opt, sizeof(o));
	o.size = sizeof(o);
	c = h1c__malloc(o.alloc, sizeof(*c));
	if (!c) {
		if (errp)
			*errp = H1C_ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->o = o;
	if (o.alloc) {
		c->al_copy = *o.alloc;
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
	c->io = c->o.io ? c->o.io : h1c_io_plain();
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
		rq_abort(c, c->live, H1C_ECANCELED);
	h1c__complete(c);
	while (c->conns)
		cx_destroy(c, c->conns);
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
	while (c->nbufs) {
		struct h1c__bufs *b = &c->bufs[--c->nbufs];
		h1c__free(al, b->in);
		h1c__free(al, b->out);
		h1c__free(al, b->hdr);
	}
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
static int freed_now(struct h1c_client *c)
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

void h1c_client_stats(const struct h1c_client *c, struct h1c_stats *st)
{
	if (c && st)
		*st = c->st;
}
