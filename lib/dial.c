/*
 * dial.c - a connection's way from nothing to ready: the stages it passes,
 * in order. A stage is a step run until it says done (each time one of
 * its descriptors is ready, or its deadline comes), what it watches
 * meanwhile, and what it lets go of when the dial ends before it does.
 * The list is chosen per pool; today it is resolve, connect (the address
 * race of transport.c) and open (the I/O layer wrapped around the
 * socket). A CONNECT tunnel or a TLS handshake is one more stage between
 * connect and ready, and an asynchronous resolver another first stage,
 * without anything above this file changing: cx.c only asks whether the
 * dial is done, waiting, or failed. Calls down only: the interest table
 * and transport.c.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "manager.h"

#include <unistd.h>

struct h1c__stage {
	/* Starts the stage (fd -1) or goes on with it (fd: one of its
	 * descriptors is ready; also -1 when its deadline came). Returns 0
	 * when it is done, H1C_EWANTREAD or H1C_EWANTWRITE while it waits,
	 * else the error that ends the dial. */
	int (*step)(struct h1c_client *c, struct cx *x, int fd);
	/* When it needs attention without any descriptor ready, or 0. */
	long long (*deadline)(const struct cx *x);
	/* The descriptors it waits for, and for what (at most max). */
	size_t (*watches)(const struct cx *x, struct h1c_watch *w, size_t max);
	/* Lets go of what it holds when the dial ends before it is done (may
	 * be NULL). */
	void (*stop)(struct cx *x);
};

/* ---- resolve: the name to addresses (getaddrinfo, blocking for now) ------------ */

static int resolve_step(struct h1c_client *c, struct cx *x, int fd)
{
	struct pool *p = x->pool;
	int err;

	(void)fd;
	err = h1c__dial_start(&x->dial, p->host, p->port, x->dial_since, c->o.connect_timeout_ms);
	/* The race's sockets are forgotten by the interest table as they
	 * close. */
	x->dial.on_close = h1c__dial_closing;
	x->dial.arg = c;
	return err;
}

static long long no_deadline(const struct cx *x)
{
	(void)x;
	return 0;
}

static size_t no_watches(const struct cx *x, struct h1c_watch *w, size_t max)
{
	(void)x;
	(void)w;
	(void)max;
	return 0;
}

/* ---- connect: the race over the addresses --------------------------------------- */

static int connect_step(struct h1c_client *c, struct cx *x, int ready_fd)
{
	int fd = -1, err = h1c__dial_step(&x->dial, h1c__now_ms(), ready_fd, &fd);
	struct fdent *f;

	if (err == H1C_EWANTWRITE) {
		size_t i;
		/* The live attempts' descriptors lead back to x. */
		for (i = 0; i < x->dial.live; i++) {
			f = h1c__fdent(c, x->dial.fds[i]);
			if (!f)
				return H1C_ENOMEM; /* unwatched, it would hang */
			f->cx = x;
		}
		return err;
	}
	if (err)
		return err;
	x->fd = fd;
	f = h1c__fdent(c, fd);
	if (!f)
		return H1C_ENOMEM; /* x->fd is closed with x */
	f->cx = x;
	return 0;
}

static long long connect_deadline(const struct cx *x)
{
	return h1c__dial_deadline(&x->dial);
}

static size_t connect_watches(const struct cx *x, struct h1c_watch *w, size_t max)
{
	size_t i;

	for (i = 0; i < x->dial.live && i < max; i++) {
		w[i].fd = x->dial.fds[i];
		w[i].events = H1C_WRITE;
	}
	return x->dial.live;
}

static void connect_stop(struct cx *x)
{
	h1c__dial_free(&x->dial); /* a finished race: a no-op */
}

/* ---- open: the pool's I/O layer around the socket --------------------------------- */

static int open_step(struct h1c_client *c, struct cx *x, int fd)
{
	const struct h1c_io *v = x->pool->io;
	int err = 0;
	void *io;

	(void)fd;
	io = v->open(x->pool->io_user, x->fd, x->pool->host, &err);
	if (!io)
		return err ? err : H1C_ENOMEM;
	/* The layer owns the socket now. The connection is watched by the
	 * layer's descriptor: the registration goes on under the same
	 * number, or ends when the layer moved the socket. */
	x->io = io;
	if (v->fd(io) != x->fd) {
		struct fdent *f;
		h1c__fd_forget(c, x->fd);
		x->fd = v->fd(io);
		f = h1c__fdent(c, x->fd);
		if (!f)
			return H1C_ENOMEM; /* x->io is closed with x */
		f->cx = x;
	}
	return 0;
}

static const struct h1c__stage stage_resolve = {resolve_step, no_deadline, no_watches, NULL};
static const struct h1c__stage stage_connect = {connect_step, connect_deadline, connect_watches,
                                                connect_stop};
static const struct h1c__stage stage_open = {open_step, no_deadline, no_watches, NULL};

/* Every pool's connections pass the same stages for now. */
static const struct h1c__stage *const plain_plan[] = {&stage_resolve, &stage_connect,
                                                      &stage_open, NULL};

/* ---- the dial as a whole ------------------------------------------------------------ */

void h1c__dial_begin(struct cx *x)
{
	x->plan = plain_plan;
	x->stage = 0;
	x->fd = -1;
	x->io = NULL;
	x->dial_since = h1c__now_ms();
}

int h1c__dial_advance(struct h1c_client *c, struct cx *x, int fd)
{
	while (x->plan[x->stage]) {
		int err = x->plan[x->stage]->step(c, x, fd);
		if (err)
			return err;
		x->stage++;
		fd = -1; /* the next stage starts */
	}
	return 0;
}

long long h1c__dial_when(const struct cx *x)
{
	return x->plan[x->stage] ? x->plan[x->stage]->deadline(x) : 0;
}

size_t h1c__dial_watches(const struct cx *x, struct h1c_watch *w, size_t max)
{
	return x->plan[x->stage] ? x->plan[x->stage]->watches(x, w, max) : 0;
}

void h1c__dial_stop(struct h1c_client *c, struct cx *x)
{
	const struct h1c__stage *s = x->plan[x->stage];

	if (s && s->stop)
		s->stop(x);
	if (x->io) {
		h1c__fd_forget(c, x->fd);
		x->pool->io->close(x->io);
	} else if (x->fd >= 0) {
		h1c__fd_forget(c, x->fd);
		close(x->fd);
	}
	x->io = NULL;
	x->fd = -1;
}
