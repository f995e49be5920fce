/*
 * serve.h - what the test servers (origin.c, msngw-emu.c) share: the
 * clock, the loopback listener, a connection accepted ready for their
 * poll(2) loops, and a connection's input read into its growing buffer.
 * Like the servers, independent of the library on purpose.
 */
#ifndef H1C_TEST_SERVE_H
#define H1C_TEST_SERVE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Listens on 127.0.0.1:port (0: any free port) with the given backlog and
 * stores the address bound in *sa. Returns the socket, or -1 (errno set). */
static int listen_loopback(int port, int backlog, struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) != 0 || listen(fd, backlog) != 0) {
		int e = errno;
		close(fd);
		errno = e; /* for the caller's perror() */
		return -1;
	}
	getsockname(fd, (struct sockaddr *)sa, &sl);
	return fd;
}

/* Accepts a connection on lfd, non-blocking and with TCP_NODELAY unless
 * nagle is set. Returns its descriptor, or -1. */
static int accept_ready(int lfd, int nagle)
{
	int fd = accept(lfd, NULL, NULL), one = 1;

	if (fd < 0)
		return -1;
	if (!nagle)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Reads what fd has and appends it to buf[0..*len), growing the buffer
 * (*cap) as needed and keeping a NUL after the bytes, so that the string
 * functions stop there. Returns recv()'s result: the bytes read, 0 at the
 * end of the stream, negative on an error. */
static ssize_t read_more(int fd, char **buf, size_t *len, size_t *cap)
{
	char tmp[65536];
	ssize_t r = recv(fd, tmp, sizeof(tmp), 0);

	if (r <= 0)
		return r;
	if (*len + (size_t)r + 1 > *cap) {
		*cap = (*len + (size_t)r + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	memcpy(*buf + *len, tmp, (size_t)r);
	*len += (size_t)r;
	(*buf)[*len] = '\0';
	return r;
}

#endif
