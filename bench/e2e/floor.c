/*
 * floor.c - what any client must pay in system calls: one blocking socket,
 * a fixed request written DEPTH at a time in one write, the replies read
 * until their known total length (taken from the first response, whose
 * head and Content-Length every later one repeats). No parsing, no checks
 * beyond the byte count: the floor, not a client.
 *
 *   e2e-floor HOST PORT PATH N DEPTH
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static char buf[1 << 22];

/* Reads exactly n bytes. */
static int read_n(int fd, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (r <= 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char req[512], *batch;
	size_t rlen, got = 0, head_len, resp_len;
	long n, i, depth, cl;
	int fd, one = 1;
	double t0, c0;
	char *end;

	if (argc != 6) {
		fprintf(stderr, "usage: e2e-floor HOST PORT PATH N DEPTH\n");
		return 2;
	}
	n = atol(argv[4]);
	depth = atol(argv[5]);
	rlen = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
	                        argv[3], argv[1], argv[2]);
	batch = malloc(rlen * (size_t)depth);
	for (i = 0; i < depth; i++)
		memcpy(batch + (size_t)i * rlen, req, rlen);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		return 1;
	}
	t0 = bench_now();
	c0 = bench_cpu();
	/* The first response, to learn the length of every response. */
	if (write(fd, req, rlen) != (ssize_t)rlen)
		return 1;
	for (;;) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			return 1;
		got += (size_t)r;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
	}
	if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
		fprintf(stderr, "e2e-floor: not a 200\n");
		return 1;
	}
	head_len = (size_t)(end + 4 - buf);
	{
		char *p = strstr(buf, "Content-Length: ");
		if (!p || p > end)
			return 1;
		cl = atol(p + 16);
	}
	resp_len = head_len + (size_t)cl;
	if (read_n(fd, resp_len - got))
		return 1;
	for (i = 1; i < n;) {
		long k = n - i < depth ? n - i : depth;
		if (write(fd, batch, rlen * (size_t)k) != (ssize_t)(rlen * (size_t)k))
			return 1;
		if (read_n(fd, resp_len * (size_t)k))
			return 1;
		i += k;
	}
	e2e_report("floor", (int)depth, 1, n, bench_now() - t0, bench_cpu() - c0, "");
	close(fd);
	free(batch);
	return 0;
}
