/*
 * test_transport.c - the connect race over a list of addresses, on
 * loopback: a refused address gives way to the next, families alternate,
 * and the plain vtable moves bytes and reports end of stream.
 */
#include "testutil.h"
#include "spawn.h"

#include "internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static int listener(unsigned short *port)
{
	return loopback_listener(8, port);
}

/* A free loopback port nobody listens on (bound, then closed). */
static unsigned short dead_port(void)
{
	unsigned short p;
	int fd = listener(&p);
	close(fd);
	return p;
}

static void v4(struct addrinfo *ai, struct sockaddr_in *sa, unsigned short port)
{
	memset(ai, 0, sizeof(*ai));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons(port);
	ai->ai_family = AF_INET;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)sa;
	ai->ai_addrlen = sizeof(*sa);
}

static void v6(struct addrinfo *ai, struct sockaddr_in6 *sa, unsigned short port)
{
	memset(ai, 0, sizeof(*ai));
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_addr = in6addr_loopback;
	sa->sin6_port = htons(port);
	ai->ai_family = AF_INET6;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)sa;
	ai->ai_addrlen = sizeof(*sa);
}

/* The first address (IPv6, nothing listening) refuses; the race falls
 * back to the IPv4 one that listens. */
static void test_refused_then_next(void **state)
{
	struct addrinfo a, b;
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	unsigned short port;
	int lfd = listener(&port), fd = -1;
	(void)state;
	v6(&a, &s6, dead_port());
	v4(&b, &s4, port);
	a.ai_next = &b;
	assert_int_equal(h1c__connect_race(&a, 2000, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&peer, &pl), 0);
	assert_int_equal(peer.sin_family, AF_INET);
	assert_int_equal(ntohs(peer.sin_port), port);
	close(fd);
	close(lfd);
}

/* The first address answers nothing (a listener whose accept queue is
 * full drops the SYN): the race starts the next one after its delay
 * (RFC 8305) and that one wins while the first is still connecting. */
static void test_silent_then_next(void **state)
{
	struct addrinfo a, b;
	struct sockaddr_in s1, s2, peer;
	socklen_t pl = sizeof(peer);
	unsigned short silent_port, port;
	int filler, lfd = listener(&port), fd = -1;
	int silent = silent_listener(&filler, &silent_port);
	(void)state;
	v4(&a, &s1, silent_port);
	v4(&b, &s2, port);
	a.ai_next = &b;
	assert_int_equal(h1c__connect_race(&a, 5000, &fd), 0);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&peer, &pl), 0);
	assert_int_equal(ntohs(peer.sin_port), port);
	close(fd);
	close(filler);
	close(silent);
	close(lfd);
}

static void test_all_refused(void **state)
{
	struct addrinfo a, b;
	struct sockaddr_in s1, s2;
	int fd = -1;
	(void)state;
	v4(&a, &s1, dead_port());
	v4(&b, &s2, dead_port());
	a.ai_next = &b;
	assert_int_equal(h1c__connect_race(&a, 2000, &fd), H1C_ECONNECT);
}

static void test_connect_refused(void **state)
{
	int fd = -1;
	(void)state;
	assert_int_equal(h1c__connect("127.0.0.1", dead_port(), 2000, &fd), H1C_ECONNECT);
}

static void test_plain_vtable(void **state)
{
	const struct h1c_io *io = h1c_io_plain();
	unsigned short port;
	int lfd = listener(&port), fd = -1, peer, err = 0;
	void *ctx;
	char buf[16];
	(void)state;
	assert_int_equal(h1c__connect("127.0.0.1", port, 2000, &fd), 0);
	peer = accept(lfd, NULL, NULL);
	ctx = io->open(NULL, fd, "127.0.0.1", &err);
	assert_non_null(ctx);
	assert_int_equal(io->fd(ctx), fd);
	assert_int_equal(io->read(ctx, buf, sizeof(buf)), H1C_EWANTREAD);
	assert_int_equal(io->write(ctx, "ping", 4), 4);
	assert_int_equal(read(peer, buf, sizeof(buf)), 4);
	assert_int_equal(write(peer, "pong", 4), 4);
	close(peer);
	{
		long n;
		struct pollfd p = {fd, POLLIN, 0};
		assert_int_equal(poll(&p, 1, 2000), 1);
		n = io->read(ctx, buf, sizeof(buf));
		assert_int_equal(n, 4);
		assert_memory_equal(buf, "pong", 4);
		assert_int_equal(poll(&p, 1, 2000), 1);
		assert_int_equal(io->read(ctx, buf, sizeof(buf)), 0); /* EOF */
	}
	/* Writing to a closed peer is an error code, never SIGPIPE. */
	{
		long w = 0;
		int k;
		for (k = 0; k < 100 && w >= 0; k++)
			w = io->write(ctx, "x", 1);
		assert_int_equal(w, H1C_EIO);
	}
	io->close(ctx);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_then_next),
		cmocka_unit_test(test_silent_then_next),
		cmocka_unit_test(test_all_refused),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_plain_vtable),
	};
	return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
