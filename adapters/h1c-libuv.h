/*
 * h1c-libuv.h - runs an h1c client on a libuv loop. Header only (hiredis
 * style): include it where you use libuv and link libuv yourself; h1c
 * itself never depends on it.
 *
 *   struct h1c_libuv *a = h1c_libuv_attach(client, loop, on_idle, arg);
 *   ... h1c_client_request(client, ...); uv_run(loop, UV_RUN_DEFAULT);
 *   ... more requests, uv_run() again: the pool is still warm ...
 *   h1c_libuv_detach(a);  h1c_client_free(client);   (in this order)
 *   uv_run(loop, UV_RUN_DEFAULT);   (lets libuv finish closing the handles)
 *
 * Each watched socket gets a uv_poll_t kept in the slot the client holds
 * for it; a uv_timer_t stands for the client's deadline. Handles are freed
 * in their close callbacks, as libuv requires.
 *
 * The loop is held only while the client has work pending: when it has
 * none, the handles are unreferenced (uv_unref), so uv_run() returns once
 * the last request has ended, while idle kept-alive connections stay open
 * in the pool. They stay active, so when the loop runs for other reasons a
 * connection the server closes, or one whose keep-alive time is up, is
 * still closed. Any call into the client from outside the adapter's own
 * callbacks (a request queued, a cancel) references them again and asks
 * the client at once, through h1c_client_on_timeout(), whether work is
 * pending. on_idle (may be NULL) is called with arg whenever the client has
 * nothing pending; it is not needed to end the loop.
 */
#ifndef H1C_LIBUV_H
#define H1C_LIBUV_H

#include <h1c.h>

#include <stdlib.h>
#include <uv.h>

/* One watched socket: its poll handle (first, so that the handle is the
 * record for libuv's close callback), on the adapter's list. */
struct h1c__libuv_fd {
	uv_poll_t poll;
	struct h1c__libuv_fd *prev, *next;
};

struct h1c_libuv {
	struct h1c_client *client;
	uv_loop_t *loop;
	uv_timer_t *timer;
	struct h1c__libuv_fd *fds; /* every poll handle of the client */
	void (*on_idle)(void *arg);
	void *arg;
	int released; /* the handles are unreferenced: nothing pending */
	int inside;   /* the client is running under the adapter's callbacks */
};

static void h1c__libuv_free_handle(uv_handle_t *h)
{
	free(h);
}

/* References every handle of a (hold) or unreferences them, so that they
 * keep the loop running or not. */
static void h1c__libuv_hold(struct h1c_libuv *a, int hold)
{
	struct h1c__libuv_fd *f;

	if (a->released == !hold)
		return;
	a->released = !hold;
	for (f = a->fds; f; f = f->next)
		if (hold)
			uv_ref((uv_handle_t *)&f->poll);
		else
			uv_unref((uv_handle_t *)&f->poll);
	if (hold)
		uv_ref((uv_handle_t *)a->timer);
	else
		uv_unref((uv_handle_t *)a->timer);
}

/* After the client ran under a callback: hold the loop while work is
 * pending, release it otherwise. on_idle comes last, as it may queue
 * requests, stop the loop or detach. */
static void h1c__libuv_after(struct h1c_libuv *a, int pending)
{
	a->inside = 0;
	h1c__libuv_hold(a, pending > 0);
	if (pending == 0 && a->on_idle)
		a->on_idle(a->arg);
}

static void h1c__libuv_timeout(uv_timer_t *t)
{
	struct h1c_libuv *a = (struct h1c_libuv *)t->data;

	a->inside = 1;
	h1c__libuv_after(a, h1c_client_on_timeout(a->client));
}

/* A hook called from outside the adapter's callbacks: the client was
 * driven directly (a request queued, a cancel, the hooks installed), so
 * what is pending may have changed. Hold the loop, and let an immediate
 * h1c_client_on_timeout() say whether it should stay held. */
static void h1c__libuv_outside(struct h1c_libuv *a)
{
	h1c__libuv_hold(a, 1);
	uv_timer_start(a->timer, h1c__libuv_timeout, 0, 0);
}

static void h1c__libuv_poll(uv_poll_t *p, int status, int events)
{
	struct h1c_libuv *a = (struct h1c_libuv *)p->data;
	unsigned ev = ((events & UV_READABLE) ? H1C_READ : 0u) |
	              ((events & UV_WRITABLE) ? H1C_WRITE : 0u);
	uv_os_fd_t fd = -1;

	/* An error on the socket: let the client's read or write meet it. */
	if (status < 0)
		ev = H1C_READ | H1C_WRITE;
	uv_fileno((uv_handle_t *)p, &fd);
	a->inside = 1;
	h1c__libuv_after(a, h1c_client_on_ready(a->client, (int)fd, ev));
}

/* A poll handle for fd, on a's list and referenced as a's other handles
 * are; NULL when out of memory. */
static struct h1c__libuv_fd *h1c__libuv_fd_new(struct h1c_libuv *a, int fd)
{
	struct h1c__libuv_fd *f = (struct h1c__libuv_fd *)malloc(sizeof(*f));

	if (!f)
		return NULL;
	if (uv_poll_init(a->loop, &f->poll, fd) != 0) {
		free(f);
		return NULL;
	}
	f->poll.data = a;
	f->prev = NULL;
	f->next = a->fds;
	if (a->fds)
		a->fds->prev = f;
	a->fds = f;
	if (a->released)
		uv_unref((uv_handle_t *)&f->poll);
	return f;
}

/* Takes f off a's list and closes it; libuv frees it later. */
static void h1c__libuv_fd_close(struct h1c_libuv *a, struct h1c__libuv_fd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		a->fds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	uv_poll_stop(&f->poll);
	uv_close((uv_handle_t *)&f->poll, h1c__libuv_free_handle);
}

static void h1c__libuv_watch(void *user, int fd, unsigned events, void **slot)
{
	struct h1c_libuv *a = (struct h1c_libuv *)user;
	struct h1c__libuv_fd *f = (struct h1c__libuv_fd *)*slot;

	if (!events) {
		/* The client closes fd right after: stop now, free later. */
		if (f)
			h1c__libuv_fd_close(a, f);
		*slot = NULL;
	} else {
		if (!f)
			*slot = f = h1c__libuv_fd_new(a, fd);
		/* Out of memory: the client's deadlines still end its requests. */
		if (f)
			uv_poll_start(&f->poll,
			              ((events & H1C_READ) ? UV_READABLE : 0) |
			                      ((events & H1C_WRITE) ? UV_WRITABLE : 0),
			              h1c__libuv_poll);
	}
	if (!a->inside)
		h1c__libuv_outside(a);
}

static void h1c__libuv_timer(void *user, int ms)
{
	struct h1c_libuv *a = (struct h1c_libuv *)user;

	/* From outside, the on_timeout call it starts reports the deadline. */
	if (!a->inside)
		h1c__libuv_outside(a);
	else if (ms < 0)
		uv_timer_stop(a->timer);
	else
		uv_timer_start(a->timer, h1c__libuv_timeout, (uint64_t)ms, 0);
}

/* Attaches client to loop. Returns the adapter, or NULL when out of
 * memory. */
static inline struct h1c_libuv *h1c_libuv_attach(struct h1c_client *client, uv_loop_t *loop,
                                                 void (*on_idle)(void *arg), void *arg)
{
	struct h1c_libuv *a = (struct h1c_libuv *)calloc(1, sizeof(*a));
	struct h1c_loop hooks;

	if (!a)
		return NULL;
	a->timer = (uv_timer_t *)malloc(sizeof(*a->timer));
	if (!a->timer || uv_timer_init(loop, a->timer) != 0) {
		free(a->timer);
		free(a);
		return NULL;
	}
	a->timer->data = a;
	a->client = client;
	a->loop = loop;
	a->on_idle = on_idle;
	a->arg = arg;
	hooks.size = sizeof(hooks);
	hooks.watch = h1c__libuv_watch;
	hooks.timer = h1c__libuv_timer;
	hooks.user = a;
	h1c_client_set_loop(client, &hooks);
	return a;
}

/* Detaches: every handle of the client is stopped and closed (freed once
 * the loop runs their close callbacks) and the client is left without
 * hooks. Call it before h1c_client_free(). NULL is a no-op. */
static inline void h1c_libuv_detach(struct h1c_libuv *a)
{
	if (!a)
		return;
	/* The hooks are told to drop everything: nothing to ask about. */
	a->inside = 1;
	h1c_client_set_loop(a->client, NULL);
	uv_timer_stop(a->timer);
	uv_close((uv_handle_t *)a->timer, h1c__libuv_free_handle);
	free(a);
}

#endif
