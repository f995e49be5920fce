/*
 * test_layouts.c - the structs that cross the boundary and may grow
 * (include/h1c.h, above H1C_OPTIONS_INIT), as a program built against an
 * older header passes them: a size of 0 (the 0.2 layout) or a smaller
 * size. Each struct is placed right before a PROT_NONE page, so the
 * library reading or writing one byte past what the caller said it has
 * crashes the test. The I/O vtable, the allocator, the callbacks and the
 * loop hooks are read through their size; the counters and the blocking
 * call's result are written no further than the caller's layout.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "h1c.h"
#include "spawn.h"
#include "iolayers.h"
#include "guard.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char origin_path[4096];
static pid_t origin_pid;
static char base[64]; /* "http://127.0.0.1:PORT" */

static int origin_up(void **state)
{
	const char *argv[] = {origin_path, NULL};
	int port;

	(void)state;
	origin_pid = spawn_server(argv, &port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	return 0;
}

static int origin_down(void **state)
{
	(void)state;
	kill(origin_pid, SIGTERM);
	waitpid(origin_pid, NULL, 0);
	return 0;
}

/* The bytes of struct type up to the end of field: the layout of a
 * program whose header ended the struct there. */
#define END(type, field) (offsetof(struct type, field) + sizeof(((struct type *)0)->field))

/* Fetches base/bytes/n on c into *res through a request of the given
 * size (its bytes past size are on the guard page). */
static int fetch_bytes(struct h1c_client *c, int n, size_t size, struct h1c_result *res)
{
	union {
		struct h1c_request rq;
		unsigned char b[sizeof(struct h1c_request) + 64]; /* a newer program's */
	} u;
	struct h1c_request *old;
	char url[128];
	void *map;
	size_t maplen;
	int err;

	assert_true(size <= sizeof(u));
	snprintf(url, sizeof(url), "%s/bytes/%d", base, n);
	memset(&u, 0, sizeof(u));
	u.rq.size = size;
	u.rq.url = url;
	old = guard_copy(&u, size ? size : sizeof(u.rq), &map, &maplen);
	err = h1c_client_fetch(c, old, res);
	munmap(map, maplen);
	return err;
}

/* ---- what the library reads --------------------------------------------------- */

static const struct h1c_io pass_io = {
	.name = "pass", /* size 0: the 0.2 layout */
	.open = pass_open,
	.read = pass_read,
	.write = pass_write,
	.fd = pass_fd,
	.close = pass_close,
};

/* Makes a client whose I/O vtable (io) or TLS vtable (tls) is the first
 * size bytes of pass_io, ending at a guard page. Returns the client, NULL
 * with *err set when refused. */
static struct h1c_client *client_with_io(size_t size, int tls, int *err)
{
	struct h1c_client_options co = H1C_OPTIONS_INIT(h1c_client_options);
	struct h1c_io v = pass_io;
	struct h1c_client *c;
	void *map;
	size_t maplen;

	v.size = size;
	if (tls)
		co.tls_io = guard_copy(&v, size ? size : sizeof(v), &map, &maplen);
	else
		co.io = guard_copy(&v, size ? size : sizeof(v), &map, &maplen);
	c = h1c_client_create(&co, err);
	/* The client keeps a copy: the caller's vtable may go now. */
	munmap(map, maplen);
	return c;
}

/* An I/O vtable of size 0 or of exactly the 0.2 layout is used as it is;
 * one whose size leaves out a function the client must have is refused,
 * without reading past it. */
static void test_io_older(void **state)
{
	struct h1c_result res;
	struct h1c_client *c;
	int err = 1;

	(void)state;
	c = client_with_io(0, 0, &err);
	assert_non_null(c);
	assert_int_equal(err, 0);
	assert_int_equal(fetch_bytes(c, 100, 0, &res), 0);
	assert_int_equal(res.body_len, 100);
	h1c_result_free(&res);
	h1c_client_free(c);

	c = client_with_io(END(h1c_io, close), 0, &err);
	assert_non_null(c);
	assert_int_equal(fetch_bytes(c, 10, 0, &res), 0);
	assert_int_equal(res.body_len, 10);
	h1c_result_free(&res);
	h1c_client_free(c);

	c = client_with_io(END(h1c_io, close), 1, &err);
	assert_non_null(c);
	h1c_client_free(c);

	assert_null(client_with_io(offsetof(struct h1c_io, fd), 0, &err));
	assert_int_equal(err, H1C_EINVAL);
	err = 0;
	assert_null(client_with_io(offsetof(struct h1c_io, close), 1, &err));
	assert_int_equal(err, H1C_EINVAL);
}

static size_t allocs;

static void *a_malloc(void *user, size_t n)
{
	(void)user;
	allocs++;
	return malloc(n);
}

static void *a_realloc(void *user, void *p, size_t n)
{
	(void)user;
	allocs++;
	return realloc(p, n);
}

static void a_free(void *user, void *p)
{
	(void)user;
	free(p);
}

/* Allocator hooks of the 0.2 layout, at a guard page, are used (and kept
 * by the client and its results after the caller's struct is gone); hooks
 * whose size leaves out free are refused. */
static void test_allocator_older(void **state)
{
	struct h1c_allocator al = {.malloc = a_malloc, .realloc = a_realloc, .free = a_free};
	struct h1c_client_options co = H1C_OPTIONS_INIT(h1c_client_options);
	struct h1c_result res;
	struct h1c_client *c;
	void *map;
	size_t maplen;
	int err = 1;

	(void)state;
	al.size = END(h1c_allocator, user);
	co.alloc = guard_copy(&al, al.size, &map, &maplen);
	allocs = 0;
	c = h1c_client_create(&co, &err);
	munmap(map, maplen);
	assert_non_null(c);
	assert_int_equal(err, 0);
	assert_int_equal(fetch_bytes(c, 100, 0, &res), 0);
	assert_true(allocs > 0);
	h1c_client_free(c);
	h1c_result_free(&res);

	al.size = offsetof(struct h1c_allocator, free);
	co.alloc = guard_copy(&al, al.size, &map, &maplen);
	assert_null(h1c_client_create(&co, &err));
	assert_int_equal(err, H1C_EINVAL);
	munmap(map, maplen);
}

struct seen {
	int heads, ended, err;
	size_t bytes;
};

static int s_head(void *user, const struct h1c_response *resp)
{
	struct seen *s = user;

	assert_int_equal(resp->status, 200);
	s->heads++;
	return 0;
}

static int s_data(void *user, const char *data, size_t len)
{
	struct seen *s = user;

	(void)data;
	s->bytes += len;
	return 0;
}

static void s_done(void *user, int err, unsigned flags)
{
	struct seen *s = user;

	(void)flags;
	s->ended++;
	s->err = err;
}

/* Queues base/bytes/100 with the first size bytes of cb, ending at a guard
 * page, and runs the client until it has ended. */
static void request_with(struct h1c_client *c, const struct h1c_callbacks *cb, size_t size,
                         struct seen *s)
{
	struct h1c_request rq = H1C_OPTIONS_INIT(h1c_request);
	struct h1c_callbacks v = *cb, *old;
	char url[128];
	void *map;
	size_t maplen;

	snprintf(url, sizeof(url), "%s/bytes/100", base);
	rq.url = url;
	v.size = size;
	old = guard_copy(&v, size ? size : sizeof(v), &map, &maplen);
	memset(s, 0, sizeof(*s));
	assert_true(h1c_client_request(c, &rq, old, s) > 0);
	/* The request keeps a copy: the caller's struct may go now. */
	munmap(map, maplen);
	assert_int_equal(h1c_client_run(c, 10000), 0);
}

/* Callbacks of size 0 are the 0.2 layout, all of them called; a smaller
 * size (here: a header whose struct ended at on_data) calls those it
 * covers and never reads the rest. */
static void test_callbacks_older(void **state)
{
	static const struct h1c_callbacks cb = {
		.on_head = s_head,
		.on_data = s_data,
		.on_done = s_done,
	};
	struct h1c_client *c = h1c_client_new(NULL);
	struct seen s;

	(void)state;
	assert_non_null(c);
	request_with(c, &cb, 0, &s);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.bytes, 100);
	assert_int_equal(s.ended, 1);
	assert_int_equal(s.err, 0);

	request_with(c, &cb, END(h1c_callbacks, on_done), &s);
	assert_int_equal(s.ended, 1);
	assert_int_equal(s.bytes, 100);

	request_with(c, &cb, END(h1c_callbacks, on_data), &s);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.bytes, 100);
	assert_int_equal(s.ended, 0); /* past the caller's size: none */
	h1c_client_free(c);
}

static int watches;

static void l_watch(void *user, int fd, unsigned events, void **slot)
{
	(void)user;
	(void)fd;
	(void)events;
	(void)slot;
	watches++;
}

/* Loop hooks of the 0.2 layout, or of a size that covers only watch (the
 * timer then reads as none), at a guard page, are used and kept. */
static void test_loop_older(void **state)
{
	struct h1c_loop hooks = {.watch = l_watch, .user = NULL};
	static const size_t sizes[] = {0, END(h1c_loop, user), END(h1c_loop, watch)};
	struct h1c_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct h1c_client *c = h1c_client_new(NULL);
		struct h1c_loop *old;
		void *map;
		size_t maplen;

		assert_non_null(c);
		hooks.size = sizes[i];
		old = guard_copy(&hooks, sizes[i] ? sizes[i] : sizeof(hooks), &map, &maplen);
		h1c_client_set_loop(c, old);
		munmap(map, maplen);
		watches = 0;
		assert_int_equal(fetch_bytes(c, 10, 0, &res), 0);
		assert_true(watches > 0);
		h1c_result_free(&res);
		h1c_client_free(c);
	}
}

/* ---- what the library writes -------------------------------------------------- */

/* h1c_client_stats() writes the counters the caller's size has room for
 * and no byte more: a struct cut after connections_opened..replayed, at a
 * guard page; one of the whole size; one bigger than the library knows (a
 * newer program's), whose tail is zeroed; and a size of 0, nothing. */
static void test_stats_smaller(void **state)
{
	union {
		struct h1c_stats st;
		unsigned char b[sizeof(struct h1c_stats) + 64];
	} u;
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_stats zero, *old;
	struct h1c_result res;
	size_t cut = offsetof(struct h1c_stats, pipelined), i;
	void *map;
	size_t maplen;

	(void)state;
	assert_non_null(c);
	assert_int_equal(fetch_bytes(c, 10, 0, &res), 0);
	h1c_result_free(&res);
	memset(&zero, 0, sizeof(zero));
	old = guard_copy(&zero, cut, &map, &maplen);
	h1c_client_stats(c, old, cut);
	assert_int_equal(old->requests, 1);
	assert_int_equal(old->responses, 1);
	assert_int_equal(old->connections_opened, 1);
	munmap(map, maplen);

	memset(&u, 0xa5, sizeof(u));
	h1c_client_stats(c, &u.st, sizeof(u.st));
	assert_int_equal(u.st.requests, 1);
	assert_int_equal(u.st.max_in_flight, 1);
	for (i = sizeof(u.st); i < sizeof(u.b); i++)
		assert_int_equal(u.b[i], 0xa5);

	memset(&u, 0xa5, sizeof(u));
	h1c_client_stats(c, &u.st, sizeof(u.st) + 16);
	assert_int_equal(u.st.requests, 1);
	for (i = sizeof(u.st); i < sizeof(u.st) + 16; i++)
		assert_int_equal(u.b[i], 0);
	for (; i < sizeof(u.b); i++)
		assert_int_equal(u.b[i], 0xa5);

	memset(&u, 0xa5, sizeof(u));
	h1c_client_stats(c, &u.st, 0);
	for (i = 0; i < sizeof(u.b); i++)
		assert_int_equal(u.b[i], 0xa5);
	h1c_client_free(c);
}

/* h1c_client_fetch() writes the h1c_result of the layout the request's
 * size belongs to, uninitialised by the caller, and no byte past it, when
 * it succeeds, when it fails, and when it is freed: for requests of size
 * 0 (the 0.2 layout), of an older, smaller size, of this header's size,
 * and of a newer program's bigger one. */
static void test_result_never_past(void **state)
{
	const size_t sizes[] = {0, offsetof(struct h1c_request, max_body),
	                        sizeof(struct h1c_request), sizeof(struct h1c_request) + 16};
	struct h1c_client *c = h1c_client_new(NULL);
	size_t i, j;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		union {
			struct h1c_result r;
			unsigned char b[sizeof(struct h1c_result) + 64];
		} u, junk;
		struct h1c_result *res;
		void *map;
		size_t maplen;

		/* At a guard page, over stack garbage. */
		memset(&junk, 0x5a, sizeof(junk));
		res = guard_copy(&junk, sizeof(struct h1c_result), &map, &maplen);
		assert_int_equal(fetch_bytes(c, 100, sizes[i], res), 0);
		assert_int_equal(res->status, 200);
		assert_int_equal(res->body_len, 100);
		assert_int_equal(res->num_trailers, 0);
		h1c_result_free(res);
		assert_null(res->body);
		munmap(map, maplen);

		memset(&u, 0xa5, sizeof(u));
		assert_int_equal(fetch_bytes(c, 7, sizes[i], &u.r), 0);
		assert_int_equal(u.r.body_len, 7);
		h1c_result_free(&u.r);
		for (j = sizeof(u.r); j < sizeof(u.b); j++)
			assert_int_equal(u.b[j], 0xa5);
	}
	{
		/* A request that fails leaves the result empty, no more. */
		union {
			struct h1c_result r;
			unsigned char b[sizeof(struct h1c_result) + 64];
		} u;
		struct h1c_request rq;

		memset(&rq, 0, sizeof(rq));
		rq.url = "ftp://example.com/";
		memset(&u, 0xa5, sizeof(u));
		assert_int_equal(h1c_client_fetch(c, &rq, &u.r), H1C_EURL);
		assert_null(u.r.body);
		assert_int_equal(u.r.status, 0);
		h1c_result_free(&u.r);
		for (j = sizeof(u.r); j < sizeof(u.b); j++)
			assert_int_equal(u.b[j], 0xa5);
	}
	h1c_client_free(c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_older),
		cmocka_unit_test(test_allocator_older),
		cmocka_unit_test(test_callbacks_older),
		cmocka_unit_test(test_loop_older),
		cmocka_unit_test(test_stats_smaller),
		cmocka_unit_test(test_result_never_past),
	};
	const char *slash = strrchr(argv[0], '/');

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	/* build/test/test_layouts -> build/origin */
	snprintf(origin_path, sizeof(origin_path), "%.*s/../origin",
	         slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
	return cmocka_run_group_tests(tests, origin_up, origin_down);
}
