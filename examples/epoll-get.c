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
#include <sys/epoll.h>
#include <unistd.h>

#include "fetch-list.h"

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

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct loop l = {-1, -1};
	struct h1c_loop hooks;
	struct h1c_client *c;
	struct fetch *f;
	int first = fetch_args(argc, argv, &co), pending;

	if (!first) {
		fprintf(stderr, "usage: epoll-get [-p DEPTH] URL...\n");
		return 2;
	}
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	c = h1c_client_new(&co);
	if (l.ep < 0 || !c) {
		h1c_client_free(c);
		return 1;
	}
	hooks.size = sizeof(hooks);
	hooks.watch = watch;
	hooks.timer = timer;
	hooks.user = &l;
	h1c_client_set_loop(c, &hooks);
	f = fetch_list(c, argv + first, argc - first, &pending);
	if (!f) {
		h1c_client_free(c);
		return 1;
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
