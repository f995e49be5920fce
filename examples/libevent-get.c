/*
 * libevent-get - the asynchronous API on a libevent 2 event_base, through
 * the hooks of h1c_client_set_loop(3): an adapter of some 40 lines. Each
 * watched socket keeps its struct event in the slot the client holds for
 * it; one timer event stands for the client's deadline. libevent is a
 * dependency of this example only.
 *
 *   libevent-get [-p DEPTH] URL...
 *
 * Prints "URL STATUS BYTES" or "URL error: MESSAGE" per URL.
 */
#include <h1c.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct adapter {
	struct event_base *base;
	struct h1c_client *client;
	struct event *timer;
	int pending;
};

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct adapter *a = arg;
	unsigned ev = ((what & EV_READ) ? H1C_READ : 0u) | ((what & EV_WRITE) ? H1C_WRITE : 0u);

	a->pending = h1c_client_on_ready(a->client, (int)fd, ev);
	if (!a->pending)
		event_base_loopbreak(a->base);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct adapter *a = arg;

	(void)fd;
	(void)what;
	a->pending = h1c_client_on_timeout(a->client);
	if (!a->pending)
		event_base_loopbreak(a->base);
}

/* Hook: (re)register fd for events, or drop it (events 0). */
static void watch(void *user, int fd, unsigned events, void **slot)
{
	struct adapter *a = user;
	struct event *e = *slot;

	if (e) {
		event_free(e);
		*slot = NULL;
	}
	if (!events)
		return;
	e = event_new(a->base, fd,
	              (short)(EV_PERSIST | ((events & H1C_READ) ? EV_READ : 0) |
	                      ((events & H1C_WRITE) ? EV_WRITE : 0)),
	              on_socket, a);
	event_add(e, NULL);
	*slot = e;
}

/* Hook: the next deadline. */
static void timer(void *user, int ms)
{
	struct adapter *a = user;
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(a->timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(a->timer, &tv);
}

struct fetch {
	const char *url;
	int status;
	unsigned long long bytes;
};

static int on_head(void *user, const struct h1c_response *resp)
{
	((struct fetch *)user)->status = resp->status;
	return 0;
}

static int on_data(void *user, const char *data, size_t len)
{
	(void)data;
	((struct fetch *)user)->bytes += len;
	return 0;
}

static void on_done(void *user, int err, unsigned flags)
{
	struct fetch *f = user;

	(void)flags;
	if (err)
		printf("%s error: %s\n", f->url, h1c_strerror(err));
	else
		printf("%s %d %llu\n", f->url, f->status, f->bytes);
}

int main(int argc, char **argv)
{
	static const struct h1c_callbacks cb = {NULL, on_head, on_data, NULL, on_done};
	struct h1c_client_options co;
	struct adapter a;
	struct h1c_loop hooks;
	struct fetch *f;
	int i = 1, n;

	memset(&co, 0, sizeof(co));
	if (i + 1 < argc && strcmp(argv[i], "-p") == 0) {
		co.pipeline_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: libevent-get [-p DEPTH] URL...\n");
		return 2;
	}
	memset(&a, 0, sizeof(a));
	a.base = event_base_new();
	a.client = h1c_client_new(&co);
	f = calloc((size_t)(argc - i), sizeof(*f));
	if (!a.base || !a.client || !f)
		return 1;
	a.timer = evtimer_new(a.base, on_timer, &a);
	hooks.watch = watch;
	hooks.timer = timer;
	hooks.user = &a;
	h1c_client_set_loop(a.client, &hooks);
	for (n = 0; i < argc; i++, n++) {
		struct h1c_request rq;

		memset(&rq, 0, sizeof(rq));
		rq.url = argv[i];
		f[n].url = argv[i];
		if (h1c_client_request(a.client, &rq, &cb, &f[n]) < 0)
			printf("%s error: refused\n", argv[i]);
		else
			a.pending++;
	}
	if (a.pending)
		event_base_dispatch(a.base);
	h1c_client_free(a.client); /* unwatches (frees) every socket's event */
	event_free(a.timer);
	event_base_free(a.base);
	free(f);
	return 0;
}
