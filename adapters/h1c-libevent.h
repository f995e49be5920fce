/*
 * h1c-libevent.h - runs an h1c client on a libevent 2 event_base. Header
 * only (hiredis style): include it where you use libevent and link
 * libevent yourself; h1c itself never depends on it.
 *
 *   struct h1c_libevent *a = h1c_libevent_attach(client, base, on_idle, arg);
 *   ... h1c_client_request(client, ...); event_base_dispatch(base);
 *   ... more requests, event_base_dispatch() again: the pool is still warm ...
 *   h1c_libevent_detach(a);  h1c_client_free(client);   (in this order)
 *
 * Each watched socket has one struct event, made when the client first
 * watches it and kept in the slot the client holds for it: a change of
 * what the socket needs re-assigns and re-adds that event, and it is freed
 * when the client says the socket is about to be closed. One timer event
 * stands for the client's deadline.
 *
 * The base is held only while the client has work pending. libevent has
 * no event that leaves the loop free to end, so when the client has none
 * every event of the client is removed from the base (event_del), and
 * event_base_dispatch() returns once the last request has ended, while
 * idle kept-alive connections stay open in the pool. The events keep what
 * they were assigned, and are added back when any call into the client
 * from outside the adapter's callbacks (a request queued, a cancel) shows
 * that work may have resumed; an immediate h1c_client_on_timeout() then
 * says whether it did. Meanwhile nothing watches the idle connections: the
 * client checks each with a zero-timeout poll and its idle time before
 * reusing it, so one the server closed or that is past its keep-alive time
 * is closed then, never reused. on_idle (may be NULL) is called with arg
 * whenever the client has nothing pending; it is not needed to end the
 * loop.
 */
#ifndef H1C_LIBEVENT_H
#define H1C_LIBEVENT_H

#include <h1c.h>

#include <event2/event.h>
#include <stdlib.h>

/* One watched socket: its event, on the adapter's list. */
struct h1c__libevent_fd {
	struct event *ev;
	struct h1c__libevent_fd *prev, *next;
};

struct h1c_libevent {
	struct h1c_client *client;
	struct event_base *base;
	struct event *timer;
	struct h1c__libevent_fd *fds; /* every socket event of the client */
	void (*on_idle)(void *arg);
	void *arg;
	int released; /* the events are out of the base: nothing pending */
	int inside;   /* the client is running under the adapter's callbacks */
};

/* The timer, due at once: h1c_client_on_timeout() then reports the real
 * deadline through the timer hook. */
static void h1c__libevent_soon(struct h1c_libevent *a)
{
	static const struct timeval now = {0, 0};

	evtimer_add(a->timer, &now);
}

/* Puts every event of a back in the base (hold; the timer due at once, as
 * its deadline was dropped), or takes them all out. */
static void h1c__libevent_hold(struct h1c_libevent *a, int hold)
{
	struct h1c__libevent_fd *f;

	if (a->released == !hold)
		return;
	a->released = !hold;
	for (f = a->fds; f; f = f->next)
		if (hold)
			event_add(f->ev, NULL);
		else
			event_del(f->ev);
	if (hold)
		h1c__libevent_soon(a);
	else
		evtimer_del(a->timer);
}

/* After the client ran under a callback: hold the base while work is
 * pending, release it otherwise. on_idle comes last, as it may queue
 * requests, break the loop or detach. */
static void h1c__libevent_after(struct h1c_libevent *a, int pending)
{
	a->inside = 0;
	h1c__libevent_hold(a, pending > 0);
	if (pending == 0 && a->on_idle)
		a->on_idle(a->arg);
}

static void h1c__libevent_socket(evutil_socket_t fd, short what, void *arg)
{
	struct h1c_libevent *a = (struct h1c_libevent *)arg;
	unsigned ev = ((what & EV_READ) ? H1C_READ : 0u) | ((what & EV_WRITE) ? H1C_WRITE : 0u);

	a->inside = 1;
	h1c__libevent_after(a, h1c_client_on_ready(a->client, (int)fd, ev));
}

static void h1c__libevent_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct h1c_libevent *a = (struct h1c_libevent *)arg;

	(void)fd;
	(void)what;
	a->inside = 1;
	h1c__libevent_after(a, h1c_client_on_timeout(a->client));
}

/* A hook called from outside the adapter's callbacks: the client was
 * driven directly (a request queued, a cancel, the hooks installed), so
 * what is pending may have changed. Hold the base, and let an immediate
 * h1c_client_on_timeout() say whether it should stay held. */
static void h1c__libevent_outside(struct h1c_libevent *a)
{
	if (a->released)
		h1c__libevent_hold(a, 1);
	else
		h1c__libevent_soon(a);
}

/* The events a socket needs for what the client watches it for. */
static short h1c__libevent_what(unsigned events)
{
	return (short)(EV_PERSIST | ((events & H1C_READ) ? EV_READ : 0) |
	               ((events & H1C_WRITE) ? EV_WRITE : 0));
}

/* The record of a newly watched fd, its event made for events and on a's
 * list; NULL when out of memory. */
static struct h1c__libevent_fd *h1c__libevent_fd_new(struct h1c_libevent *a, int fd,
                                                     unsigned events)
{
	struct h1c__libevent_fd *f = (struct h1c__libevent_fd *)malloc(sizeof(*f));

	if (!f)
		return NULL;
	f->ev = event_new(a->base, fd, h1c__libevent_what(events), h1c__libevent_socket, a);
	if (!f->ev) {
		free(f);
		return NULL;
	}
	f->prev = NULL;
	f->next = a->fds;
	if (a->fds)
		a->fds->prev = f;
	a->fds = f;
	return f;
}

/* Takes f off a's list and frees it with its event. */
static void h1c__libevent_fd_free(struct h1c_libevent *a, struct h1c__libevent_fd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		a->fds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	event_free(f->ev);
	free(f);
}

static void h1c__libevent_watch(void *user, int fd, unsigned events, void **slot)
{
	struct h1c_libevent *a = (struct h1c_libevent *)user;
	struct h1c__libevent_fd *f = (struct h1c__libevent_fd *)*slot;

	if (!events) {
		/* The client closes fd right after. */
		if (f)
			h1c__libevent_fd_free(a, f);
		*slot = NULL;
	} else {
		if (!f) {
			*slot = f = h1c__libevent_fd_new(a, fd, events);
		} else {
			/* The same event, re-armed for what is needed now
			 * (event_assign wants it out of the base). */
			event_del(f->ev);
			event_assign(f->ev, a->base, fd, h1c__libevent_what(events),
			             h1c__libevent_socket, a);
		}
		/* Out of memory: the client's deadlines still end its requests. */
		if (f && !a->released)
			event_add(f->ev, NULL);
	}
	if (!a->inside)
		h1c__libevent_outside(a);
}

static void h1c__libevent_timer(void *user, int ms)
{
	struct h1c_libevent *a = (struct h1c_libevent *)user;
	struct timeval tv;

	/* From outside, the on_timeout call it starts reports the deadline. */
	if (!a->inside) {
		h1c__libevent_outside(a);
		return;
	}
	/* Released, nothing of the client is in the base. */
	if (a->released)
		return;
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
	hooks.size = sizeof(hooks);
	hooks.watch = h1c__libevent_watch;
	hooks.timer = h1c__libevent_timer;
	hooks.user = a;
	h1c_client_set_loop(client, &hooks);
	return a;
}

/* Detaches: every event of the client is removed from base and freed, and
 * the client is left without hooks (h1c_client_run() can drive it again).
 * Call it before h1c_client_free(). NULL is a no-op. */
static inline void h1c_libevent_detach(struct h1c_libevent *a)
{
	if (!a)
		return;
	/* The hooks are told to drop everything: nothing to ask about. */
	a->inside = 1;
	h1c_client_set_loop(a->client, NULL);
	event_free(a->timer);
	free(a);
}

#endif
