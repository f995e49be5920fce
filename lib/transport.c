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
#include <limits.h>
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

long long h1c__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens a non-blocking, close-on-exec TCP socket for ai and starts its
 * connect. Returns the descriptor, or -1 (-2 when the process or the
 * system has no descriptor left). */
static int start_connect(const struct addrinfo *ai, int *done)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	int one = 1;

	if (fd < 0)
		return errno == EMFILE || errno == ENFILE ? -2 : -1;
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
	struct addrinfo *a[H1C__DIAL_MAX], *b[H1C__DIAL_MAX], *ai;
	size_t na = 0, nb = 0, n = 0, i;
	int first = res ? res->ai_family : 0;

	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == first && na < H1C__DIAL_MAX)
			a[na++] = ai;
		else if (ai->ai_family != first && nb < H1C__DIAL_MAX)
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

void h1c__dial_init(struct h1c__dial *d, struct addrinfo *res, int owned, long long now,
                    int timeout_ms)
{
	memset(d, 0, sizeof(*d));
	d->res = owned ? res : NULL;
	d->n = interleave(res, d->list, H1C__DIAL_MAX);
	/* timeout_ms < 0: no deadline. */
	d->deadline = timeout_ms < 0 ? LLONG_MAX : now + timeout_ms;
	d->next_start = now;
}

int h1c__dial_start(struct h1c__dial *d, const char *host, unsigned port, long long now,
                    int timeout_ms)
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
	if (rc != 0 || !res) {
		memset(d, 0, sizeof(*d));
		return H1C_ERESOLVE;
	}
	h1c__dial_init(d, res, 1, now, timeout_ms);
	return 0;
}

/* Closes an attempt's socket, telling the owner first. */
static void dial_close(struct h1c__dial *d, int fd)
{
	if (d->on_close)
		d->on_close(d->arg, fd);
	close(fd);
}

void h1c__dial_free(struct h1c__dial *d)
{
	size_t i;

	for (i = 0; i < d->live; i++)
		dial_close(d, d->fds[i]);
	d->live = 0;
	if (d->res)
		freeaddrinfo(d->res);
	d->res = NULL;
}

long long h1c__dial_deadline(const struct h1c__dial *d)
{
	if (d->started < d->n && d->live && d->next_start < d->deadline)
		return d->next_start;
	return d->deadline;
}

/* Takes the connected attempt i out of the race and closes the others. */
static int dial_won(struct h1c__dial *d, size_t i, int *fd_out)
{
	*fd_out = d->fds[i];
	d->fds[i] = d->fds[--d->live];
	h1c__dial_free(d);
	return 0;
}

int h1c__dial_step(struct h1c__dial *d, long long now, int ready_fd, int *fd_out)
{
	size_t i;

	/* A reported attempt: connected, or failed (then the next starts at once). */
	for (i = 0; ready_fd >= 0 && i < d->live; i++) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (d->fds[i] != ready_fd)
			continue;
		if (getsockopt(ready_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0) {
			/* A report can be stale (the number reused by a newer
			 * attempt): only a socket with a peer has connected. */
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			if (getpeername(ready_fd, (struct sockaddr *)&peer, &plen) == 0)
				return dial_won(d, i, fd_out);
			break;
		}
		if (err == EINPROGRESS || err == EALREADY)
			break;
		dial_close(d, ready_fd);
		d->fds[i] = d->fds[--d->live];
		d->next_start = now;
		break;
	}
	/* Start the next attempt when it is due or nothing is live. */
	while (d->started < d->n && (d->live == 0 || now >= d->next_start)) {
		int done, fd = start_connect(d->list[d->started], &done);
		d->started++;
		if (fd == -2)
			d->nofd = 1;
		if (fd < 0)
			continue;
		d->fds[d->live++] = fd;
		d->next_start = now + ATTEMPT_DELAY_MS;
		if (done)
			return dial_won(d, d->live - 1, fd_out);
		break;
	}
	if (d->live == 0) {
		int nofd = d->nofd;
		h1c__dial_free(d);
		return nofd ? H1C_ENOFD : H1C_ECONNECT;
	}
	if (now >= d->deadline) {
		h1c__dial_free(d);
		return H1C_ETIMEDOUT;
	}
	return H1C_EWANTWRITE;
}

/* Runs a dial to its end with poll(2). */
static int dial_wait(struct h1c__dial *d, int *fd_out)
{
	int rc = h1c__dial_step(d, h1c__now_ms(), -1, fd_out);

	while (rc == H1C_EWANTWRITE) {
		struct pollfd pfd[H1C__DIAL_MAX];
		long long dl = h1c__dial_deadline(d), wait = dl - h1c__now_ms();
		size_t i, n = d->live;
		int ready = -1;

		for (i = 0; i < n; i++) {
			pfd[i].fd = d->fds[i];
			pfd[i].events = POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n,
		         dl == LLONG_MAX ? -1 : wait < 0 ? 0 : wait > INT_MAX ? INT_MAX : (int)wait) < 0 &&
		    errno != EINTR) {
			h1c__dial_free(d);
			return H1C_ECONNECT;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				ready = pfd[i].fd;
		rc = h1c__dial_step(d, h1c__now_ms(), ready, fd_out);
	}
	h1c__dial_free(d);
	return rc;
}

int h1c__connect_race(struct addrinfo *res, int timeout_ms, int *fd_out)
{
	struct h1c__dial d;

	h1c__dial_init(&d, res, 0, h1c__now_ms(), timeout_ms);
	return dial_wait(&d, fd_out);
}

int h1c__connect(const char *host, unsigned port, int timeout_ms, int *fd_out)
{
	struct h1c__dial d;
	int rc = h1c__dial_start(&d, host, port, h1c__now_ms(), timeout_ms);

	return rc ? rc : dial_wait(&d, fd_out);
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
	.size = sizeof(struct h1c_io),
	.name = "plain",
	.open = plain_open,
	.read = plain_read,
	.write = plain_write,
	.fd = plain_fd,
	.close = plain_close,
};

const struct h1c_io *h1c_io_plain(void)
{
	return &plain_io;
}
