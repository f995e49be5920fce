/*
 * epoll-get - the asynchronous API driven by a program's own epoll(7) loop
 * through the hooks of h1c_client_set_loop(3): the client says which
 * sockets to watch and when its next deadline is; the loop reports back
 * with h1c_client_on_ready() and h1c_client_on_timeout(). Linux only (the
 * library itself is plain POSIX).
 *
 *   epoll-get [-p DEPTH] URL...
 *
 * Prints "URL STATUS BYTES" or "URL error: MESSAGE" per URL.
 */
#define _GNU_SOURCE
#include <h1c.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct loop {
	int ep;
	int timeout_ms; /* the client's next deadline, -1: none */
};

/* Hook: start, change or stop watching fd. *slot marks a registered fd. */
static void watch(void *user, int fd, unsigned events, void **slot)
{
	struct loop *l = user;
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	ev.events = ((events & H1C_READ) ? EPOLLIN : 0u) | ((events & H1C_WRITE) ? EPOLLOUT : 0u);
	if (!events) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, &ev);
		*slot = NULL;
	} else if (*slot) {
		epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
	} else {
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
		*slot = l;
	}
}

/* Hook: the next deadline. */
static void timer(void *user, int ms)
{
	((struct loop *)user)->timeout_ms = ms;
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
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
	};
	struct h1c_client_options co;
	struct loop l = {-1, -1};
	struct h1c_loop hooks;
	struct h1c_client *c;
	struct fetch *f;
	int i = 1, n, pending = 0;

	memset(&co, 0, sizeof(co));
	if (i + 1 < argc && strcmp(argv[i], "-p") == 0) {
		co.pipeline_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: epoll-get [-p DEPTH] URL...\n");
		return 2;
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	c = h1c_client_new(&co);
	f = calloc((size_t)(argc - i), sizeof(*f));
	if (l.ep < 0 || !c || !f) {
		h1c_client_free(c);
		free(f);
		return 1;
	}
	hooks.size = sizeof(hooks);
	hooks.watch = watch;
	hooks.timer = timer;
	hooks.user = &l;
	h1c_client_set_loop(c, &hooks);
	for (n = 0; i < argc; i++, n++) {
		struct h1c_request rq;

		memset(&rq, 0, sizeof(rq));
		rq.url = argv[i];
		f[n].url = argv[i];
		if (h1c_client_request(c, &rq, &cb, &f[n]) < 0)
			printf("%s error: refused\n", argv[i]);
		else
			pending++;
	}
	/* The program's own loop: other sockets and timers would live here. */
	while (pending > 0) {
		struct epoll_event evs[64];
		int k, got = epoll_wait(l.ep, evs, 64, l.timeout_ms);

		if (got < 0 && errno != EINTR)
			return 1;
		for (k = 0; k < got; k++) {
			unsigned ev = 0;
			if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				ev |= H1C_READ;
			if (evs[k].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				ev |= H1C_WRITE;
			pending = h1c_client_on_ready(c, evs[k].data.fd, ev);
		}
		if (got == 0)
			pending = h1c_client_on_timeout(c);
	}
	h1c_client_free(c);
	close(l.ep);
	free(f);
	return 0;
}
