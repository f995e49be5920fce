/*
 * h1c-libevent.h - runs an h1c client on a libevent 2 event_base. Header
 * only (hiredis style): include it where you use libevent and link
 * libevent yourself; h1c itself never depends on it.
 *
 *   struct h1c_libevent *a = h1c_libevent_attach(client, base, on_idle, arg);
 *   ... h1c_client_request(client, ...); event_base_dispatch(base);
 *   h1c_libevent_detach(a);  h1c_client_free(client);   (in this order)
 *
 * Each watched socket keeps its struct event in the slot the client holds
 * for it; one timer event stands for the client's deadline. on_idle (may
 * be NULL) is called with arg whenever the client has nothing pending, for
 * example to leave the loop.
 */
#ifndef H1C_LIBEVENT_H
#define H1C_LIBEVENT_H

#include <h1c.h>

#include <event2/event.h>
#include <stdlib.h>

struct h1c_libevent {
	struct h1c_client *client;
	struct event_base *base;
	struct event *timer;
	void (*on_idle)(void *arg);
	void *arg;
};

static void h1c__libevent_after(struct h1c_libevent *a, int pending)
{
	if (pending == 0 && a->on_idle)
		a->on_idle(a->arg);
}

static void h1c__libevent_socket(evutil_socket_t fd, short what, void *arg)
{
	struct h1c_libevent *a = (struct h1c_libevent *)arg;
	unsigned ev = ((what & EV_READ) ? H1C_READ : 0u) | ((what & EV_WRITE) ? H1C_WRITE : 0u);

	h1c__libevent_after(a, h1c_client_on_ready(a->client, (int)fd, ev));
}

static void h1c__libevent_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h1c_libevent *a = (struct h1c_libevent *)arg;

	(void)fd;
	(void)what;
	h1c__libevent_after(a, h1c_client_on_timeout(a->client));
}

static void h1c__libevent_watch(void *user, int fd, unsigned events, void **slot)
{
	struct h1c_libevent *a = (struct h1c_libevent *)user;
	struct event *e = (struct event *)*slot;

	if (e) {
		event_free(e);
		*slot = NULL;
	}
	if (!events)
		return;
	e = event_new(a->base, fd,
	              (short)(EV_PERSIST | ((events & H1C_READ) ? EV_READ : 0) |
	                      ((events & H1C_WRITE) ? EV_WRITE : 0)),
	              h1c__libevent_socket, a);
	if (e && event_add(e, NULL) == 0)
		*slot = e;
	else if (e)
		event_free(e);
}

static void h1c__libevent_timer(void *user, int ms)
{
	struct h1c_libevent *a = (struct h1c_libevent *)user;
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(a->timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(a->timer, &tv);
}

/* Attaches client to base. Returns the adapter, or NULL when out of
 * memory. */
static inline struct h1c_libevent *h1c_libevent_attach(struct h1c_client *client,
                                                       struct event_base *base,
                                                       void (*on_idle)(void *arg), void *arg)
{
	struct h1c_libevent *a = (struct h1c_libevent *)calloc(1, sizeof(*a));
	struct h1c_loop hooks;

	if (!a)
		return NULL;
	a->client = client;
	a->base = base;
	a->on_idle = on_idle;
	a->arg = arg;
	a->timer = evtimer_new(base, h1c__libevent_timeout, a);
	if (!a->timer) {
		free(a);
		return NULL;
	}
	hooks.watch = h1c__libevent_watch;
	hooks.timer = h1c__libevent_timer;
	hooks.user = a;
	h1c_client_set_loop(client, &hooks);
	return a;
}

/* Detaches: every event of the client is removed from base and the client
 * is left without hooks (h1c_client_run() can drive it again). Call it
 * before h1c_client_free(). NULL is a no-op. */
static inline void h1c_libevent_detach(struct h1c_libevent *a)
{
	if (!a)
		return;
	h1c_client_set_loop(a->client, NULL);
	event_free(a->timer);
	free(a);
}

#endif
