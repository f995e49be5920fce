/*
 * transport.c - POSIX sockets: name resolution, a non-blocking connect that
 * races the addresses of a host (Happy Eyeballs style, RFC 8305), and the
 * plain-socket I/O vtable. No SIGPIPE is ever raised: writes use
 * MSG_NOSIGNAL, or SO_NOSIGPIPE where that is how the system does it.
 */
/* POSIX sockets and poll(2), even under a strict -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* Delay before the next address is tried while one is still connecting
 * (RFC 8305 section 5 recommends 250 ms). */
#define ATTEMPT_DELAY_MS 250
#define MAX_ATTEMPTS 8

long long h1c__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens a non-blocking, close-on-exec TCP socket for ai and starts its
 * connect. Returns the descriptor, or -1. */
static int start_connect(const struct addrinfo *ai, int *done)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	int one = 1;

	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef SO_NOSIGPIPE
	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
	*done = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*done = 1;
		return fd;
	}
	if (errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Orders the addresses so that families alternate, starting with the first
 * one the resolver gave (RFC 8305 section 4). Fills list[] and returns the
 * count.
 */
static size_t interleave(struct addrinfo *res, struct addrinfo **list, size_t max)
{
	struct addrinfo *a[MAX_ATTEMPTS], *b[MAX_ATTEMPTS], *ai;
	size_t na = 0, nb = 0, n = 0, i;
	int first = res ? res->ai_family : 0;

	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == first && na < MAX_ATTEMPTS)
			a[na++] = ai;
		else if (ai->ai_family != first && nb < MAX_ATTEMPTS)
			b[nb++] = ai;
	}
	for (i = 0; (i < na || i < nb) && n < max; i++) {
		if (i < na && n < max)
			list[n++] = a[i];
		if (i < nb && n < max)
			list[n++] = b[i];
	}
	return n;
}

int h1c__connect_race(struct addrinfo *res, int timeout_ms, int *fd_out)
{
	struct addrinfo *list[MAX_ATTEMPTS];
	struct pollfd pfd[MAX_ATTEMPTS];
	long long deadline = h1c__now_ms() + timeout_ms, next_start = 0;
	size_t n, started = 0, live = 0, i;
	int rc, result = H1C_ECONNECT;

	n = interleave(res, list, MAX_ATTEMPTS);

	for (;;) {
		long long now = h1c__now_ms();
		int wait;

		/* Start the next attempt when it is due or nothing is live. */
		while (started < n && (live == 0 || now >= next_start)) {
			int done, fd = start_connect(list[started], &done);
			started++;
			if (fd < 0)
				continue;
			if (done) {
				*fd_out = fd;
				result = 0;
				goto out;
			}
			pfd[live].fd = fd;
			pfd[live].events = POLLOUT;
			pfd[live].revents = 0;
			live++;
			next_start = now + ATTEMPT_DELAY_MS;
			break;
		}
		if (live == 0) {
			if (started == n)
				goto out;
			continue;
		}
		if (now >= deadline) {
			result = H1C_ETIMEDOUT;
			goto out;
		}
		wait = (int)(deadline - now);
		if (started < n && next_start - now < wait)
			wait = (int)(next_start - now);
		rc = poll(pfd, (nfds_t)live, wait < 0 ? 0 : wait);
		if (rc < 0 && errno != EINTR)
			goto out;
		for (i = 0; rc > 0 && i < live; i++) {
			int err = 0;
			socklen_t len = sizeof(err);
			if (!pfd[i].revents)
				continue;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
				*fd_out = pfd[i].fd;
				pfd[i] = pfd[--live];
				result = 0;
				goto out;
			}
			/* This address failed: drop it, try the next at once. */
			close(pfd[i].fd);
			pfd[i] = pfd[--live];
			i--;
			next_start = 0;
		}
	}
out:
	for (i = 0; i < live; i++)
		close(pfd[i].fd);
	return result;
}

int h1c__connect(const char *host, unsigned port, int timeout_ms, int *fd_out)
{
	struct addrinfo hints, *res = NULL;
	char service[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || !res)
		return H1C_ERESOLVE;
	rc = h1c__connect_race(res, timeout_ms, fd_out);
	freeaddrinfo(res);
	return rc;
}

/* ---- the plain-socket vtable ---------------------------------------------- */

struct plain {
	int fd;
};

static void *plain_open(void *user, int fd, const char *host, int *err)
{
	struct plain *p = malloc(sizeof(*p));

	(void)user;
	(void)host;
	if (!p) {
		*err = H1C_ENOMEM;
		return NULL;
	}
	p->fd = fd;
	return p;
}

static long plain_read(void *ctx, void *buf, size_t len)
{
	struct plain *p = ctx;
	ssize_t n;

	do
		n = recv(p->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (long)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return H1C_EWANTREAD;
	return H1C_EIO;
}

static long plain_write(void *ctx, const void *buf, size_t len)
{
	struct plain *p = ctx;
	ssize_t n;

	do
		n = send(p->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (long)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return H1C_EWANTWRITE;
	return H1C_EIO;
}

static int plain_fd(void *ctx)
{
	return ((struct plain *)ctx)->fd;
}

static void plain_close(void *ctx)
{
	struct plain *p = ctx;

	if (p) {
		close(p->fd);
		free(p);
	}
}

static const struct h1c_io plain_io = {
	"plain", plain_open, plain_read, plain_write, plain_fd, plain_close,
};

const struct h1c_io *h1c_io_plain(void)
{
	return &plain_io;
}
