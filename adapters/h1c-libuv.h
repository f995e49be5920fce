/*
 * h1c-libuv.h - runs an h1c client on a libuv loop. Header only (hiredis
 * style): include it where you use libuv and link libuv yourself; h1c
 * itself never depends on it.
 *
 *   struct h1c_libuv *a = h1c_libuv_attach(client, loop, on_idle, arg);
 *   ... h1c_client_request(client, ...); uv_run(loop, UV_RUN_DEFAULT);
 *   h1c_libuv_detach(a);  h1c_client_free(client);   (in this order)
 *   uv_run(loop, UV_RUN_DEFAULT);   (lets libuv finish closing the handles)
 *
 * Each watched socket gets a uv_poll_t kept in the slot the client holds
 * for it; a uv_timer_t stands for the client's deadline. Handles are freed
 * in their close callbacks, as libuv requires. on_idle (may be NULL) is
 * called with arg whenever the client has nothing pending.
 */
#ifndef H1C_LIBUV_H
#define H1C_LIBUV_H

#include <h1c.h>

#include <stdlib.h>
#include <uv.h>

struct h1c_libuv {
	struct h1c_client *client;
	uv_loop_t *loop;
	uv_timer_t *timer;
	void (*on_idle)(void *arg);
	void *arg;
};

static void h1c__libuv_free_handle(uv_handle_t *h)
{
	free(h);
}

static void h1c__libuv_after(struct h1c_libuv *a, int pending)
{
	if (pending == 0 && a->on_idle)
		a->on_idle(a->arg);
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
	h1c__libuv_after(a, h1c_client_on_ready(a->client, (int)fd, ev));
}

static void h1c__libuv_timeout(uv_timer_t *t)
{
	struct h1c_libuv *a = (struct h1c_libuv *)t->data;

	h1c__libuv_after(a, h1c_client_on_timeout(a->client));
}

static void h1c__libuv_watch(void *user, int fd, unsigned events, void **slot)
{
	struct h1c_libuv *a = (struct h1c_libuv *)user;
	uv_poll_t *p = (uv_poll_t *)*slot;

	if (!events) {
		if (p) {
			/* The client closes fd right after: stop now, free later. */
			uv_poll_stop(p);
			uv_close((uv_handle_t *)p, h1c__libuv_free_handle);
			*slot = NULL;
		}
		return;
	}
	if (!p) {
		p = (uv_poll_t *)malloc(sizeof(*p));
		if (!p || uv_poll_init(a->loop, p, fd) != 0) {
			free(p);
			return;
		}
		p->data = a;
		*slot = p;
	}
	uv_poll_start(p, ((events & H1C_READ) ? UV_READABLE : 0) | ((events & H1C_WRITE) ? UV_WRITABLE : 0),
	              h1c__libuv_poll);
}

static void h1c__libuv_timer(void *user, int ms)
{
	struct h1c_libuv *a = (struct h1c_libuv *)user;

	if (ms < 0)
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
	h1c_client_set_loop(a->client, NULL);
	uv_timer_stop(a->timer);
	uv_close((uv_handle_t *)a->timer, h1c__libuv_free_handle);
	free(a);
}

#endif
