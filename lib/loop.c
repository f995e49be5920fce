/*
 * loop.c - readiness and deadlines in: hands what is ready to its
 * connection, expires what the deadline heap says is due, then
 * dispatches and drains the completion queue; settles deadlines and
 * interest as a call unwinds and tells the outside loop; the built-in
 * loop (epoll on Linux, poll(2) elsewhere); module timers.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Work still to do: pending requests and armed module timers. */
int h1c__pending_work(const struct h1c_client *c)
{
	return (int)(c->nlive + c->ntimers);
}

/* Expires what is due at time now, earliest first, from the deadline heap.
 * A connection's entry may be early (it is moved later lazily): it is
 * then re-armed at its real time. Each step removes or moves the entry it
 * took, so the loop ends. */
void h1c__expire(struct h1c_client *c, long long now)
{
	struct h1c__deadline *d;

	while ((d = h1c__heap_top(&c->heap)) && d->at <= now) {
		if (d->kind == H1C__DL_CX) {
			struct cx *x = OWNER(d, struct cx, dl);
			long long when = h1c__cx_deadline(c, x);
			if (when && when > now) {
				h1c__heap_set(&c->heap, d, when);
				continue;
			}
			h1c__heap_del(&c->heap, d);
			if (when)
				h1c__cx_due(c, x, now);
		} else if (d->kind == H1C__DL_RQ) {
			h1c__heap_del(&c->heap, d);
			h1c__rq_abort(c, OWNER(d, struct rq, dl), H1C_ETIMEDOUT);
		} else {
			/* A module timer: disarmed before it fires (a fire may
			 * re-arm it). */
			struct h1c__timer *t = OWNER(d, struct h1c__timer, dl);
			h1c__timer_disarm(c, t);
			t->fire(t->arg);
		}
	}
}

/* What the sockets wait for, in the order of the connection list. */
size_t h1c_client_watches(const struct h1c_client *c, struct h1c_watch *w, size_t max)
{
	const struct cx *x;
	size_t n = 0;

	if (!c)
		return 0;
	for (x = c->conns; x; x = x->next) {
		if (x->state == CX_DIAL) {
			n += h1c__dial_watches(x, n < max ? w + n : NULL, n < max ? max - n : 0);
			continue;
		}
		if (n < max) {
			w[n].fd = x->fd;
			w[n].events = h1c__cx_wants(x);
		}
		n++;
	}
	return n;
}

int h1c_client_timeout(const struct h1c_client *c)
{
	const struct h1c__deadline *d;
	long long now;

	if (!c)
		return -1;
	/* Work that has not been settled yet: come back at once. */
	if (c->need_dispatch || c->touched || c->pend_first || c->timeout_pend)
		return 0;
	d = h1c__heap_top(&c->heap);
	if (!d)
		return -1;
	now = h1c__now_ms();
	if (d->at <= now)
		return 0;
	return d->at - now > 86400000 ? 86400000 : (int)(d->at - now);
}

/* Settles the touched connections: each one's deadline is armed (moved
 * earlier at once; later lazily, when the early one comes) and the events
 * it wants are recorded and, when they changed, told to the outside loop. */
static void settle(struct h1c_client *c)
{
	while (c->touched) {
		struct cx *x = c->touched;
		long long when = h1c__cx_deadline(c, x);

		h1c__touched_unlink(c, x);
		h1c__bufs_park(c, x);
		if (!when)
			h1c__heap_del(&c->heap, &x->dl);
		else if (!x->dl.idx || when < x->dl.at)
			h1c__heap_set(&c->heap, &x->dl, when);
		if (x->state == CX_DIAL) {
			struct h1c_watch w[H1C__DIAL_MAX];
			size_t i, n = h1c__dial_watches(x, w, H1C__DIAL_MAX);
			for (i = 0; i < n && i < H1C__DIAL_MAX; i++)
				h1c__watch(c, w[i].fd, w[i].events);
		} else {
			h1c__watch(c, x->fd, h1c__cx_wants(x));
		}
	}
	h1c__bufs_trim(c);
}

/* Brings the deadlines and the outside loop up to date. */
void h1c__sync_loop(struct h1c_client *c)
{
	int ms;

	settle(c);
	if (!c->has_loop)
		return;
	ms = h1c_client_timeout(c);
	if (!c->loop.timer || (ms == -1 && c->timer_reported == -1))
		return;
	/* The same deadline as the loop's timer holds already (it is due at
	 * the same moment): nothing to tell, so that a busy client does not
	 * move the loop's timer on every event. */
	if (ms > 0 && c->timer_reported > 0 && c->timer_at == h1c__heap_top(&c->heap)->at)
		return;
	c->loop.timer(c->loop.user, ms);
	c->timer_reported = ms;
	c->timer_at = ms > 0 ? h1c__heap_top(&c->heap)->at : 0;
}

/* Handles readiness of fd; no dispatch. */
void h1c__ready(struct h1c_client *c, int fd, unsigned events)
{
	struct cx *x;

	if (fd < 0 || (size_t)fd >= c->fds_cap || !(x = c->fds[fd].cx))
		return;
	h1c__cx_touch(c, x);
	if (x->state == CX_DIAL) {
		h1c__cx_dial(c, x, fd);
		return;
	}
	if (x->fd != fd)
		return;
	if (events & H1C_WRITE) {
		if (x->rd_wants_write) {
			x->rd_wants_write = 0;
			h1c__cx_read(c, x);
		}
		h1c__cx_flush(c, x);
		if (h1c__cx_closed(x))
			return;
	}
	if (events & H1C_READ) {
		if (x->idle) {
			/* An idle connection heard from: closed, or junk (asked
			 * again: a readiness told late may be old news). */
			if (h1c__readable_now(x->fd))
				h1c__stale_close(c, x);
			return;
		}
		if (x->wr_wants_read) {
			x->wr_wants_read = 0;
			h1c__cx_flush(c, x);
		}
		h1c__cx_read(c, x);
	}
}

/* Waits up to wait ms with poll(2) over h1c_client_watches() and hands
 * what is ready to h1c__ready(). Returns 0 or an error. */
static int wait_poll(struct h1c_client *c, int wait)
{
	size_t n, i;
	int rc;

	/* This loop reads every ready socket in one pass. */
	c->loop_batch = UINT_MAX;
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
		h1c__ready(c, c->pfd[i].fd, ev);
	}
	c->busy--;
	return 0;
}

#ifdef H1C__EPOLL
/* The same with epoll: the set is kept up to date by h1c__watch(), so a wait
 * costs what is ready, not what is watched. Returns 0, an error, or 1
 * when no epoll set can be had (poll(2) then serves). */
static int wait_epoll(struct h1c_client *c, int wait)
{
	/* 16 at a time: what a batch's connections touch between their
	 * reads and the writes dispatch makes after them stays in the L1
	 * cache (with 64, a busy client found its connections evicted in
	 * between: 66 L1 misses per request at 10,000 busy, 37 with 16, in
	 * callgrind's model), for one more epoll_wait per 16 events. */
	struct epoll_event ev[LOOP_BATCH];
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
		h1c__ready(c, ev[i].data.fd, e);
	}
	c->busy--;
	return 0;
}
#endif

/* (manager.h) */
int h1c__run(struct h1c_client *c, long long deadline, const int *stop)
{
	h1c__dispatch(c);
	h1c__unwind(c);
	for (;;) {
		int wait, rc;
		long long now;

		if (c->free_pending && !c->busy)
			return 0; /* the caller frees it */
		/* Deadlines and interest settled (and an outside loop's hooks
		 * told) before waiting, and before returning. */
		h1c__sync_loop(c);
		if (!h1c__pending_work(c) || (stop && *stop))
			return h1c__pending_work(c);
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
		h1c__expire(c, h1c__now_ms());
		c->busy--;
		h1c__dispatch(c);
		h1c__unwind(c);
		if (c->free_pending && !c->busy)
			return 0; /* the caller frees it */
		if (deadline >= 0 && h1c__now_ms() >= deadline) {
			h1c__sync_loop(c);
			return h1c__pending_work(c);
		}
	}
}

/* The end of a public call: completions run, then what their callbacks
 * told of readiness is handled and the requests they queued are given
 * connections (once; more waits for the next call, so that a callback
 * that always queues cannot spin here). */
void h1c__ready_later(struct h1c_client *c, int fd, unsigned events)
{
	struct fdent *f;

	if (fd < 0) {
		c->timeout_pend = 1;
		return;
	}
	if ((size_t)fd >= c->fds_cap || !events)
		return;
	f = &c->fds[fd];
	if (!f->cx)
		return; /* not ours */
	if (!f->pend) {
		f->pnext = c->pend_first;
		c->pend_first = fd + 1;
	}
	f->pend |= events;
}

/* Handles what callbacks told of readiness and the clock. */
static void ready_told(struct h1c_client *c)
{
	c->busy++;
	while (c->pend_first) {
		int fd = c->pend_first - 1;
		struct fdent *f = &c->fds[fd];
		unsigned events = f->pend;

		c->pend_first = f->pnext;
		f->pend = 0;
		f->pnext = 0;
		h1c__ready(c, fd, events);
	}
	if (c->timeout_pend) {
		c->timeout_pend = 0;
		h1c__expire(c, h1c__now_ms());
	}
	c->busy--;
}

void h1c__unwind(struct h1c_client *c)
{
	if (!c->busy)
		h1c__cx_reap(c);
	h1c__complete(c);
	if ((c->pend_first || c->timeout_pend) && !c->busy) {
		ready_told(c);
		c->need_dispatch = 1;
	}
	if (c->need_dispatch && !c->busy) {
		h1c__dispatch(c);
		h1c__complete(c);
	}
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
