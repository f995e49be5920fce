/*
 * client_fixture.h - what the connection manager's tests share (test_client.c,
 * test_fetch.c, test_loop.c, test_dispatch.c, test_exchange.c, test_cx.c,
 * test_dial.c, one per room of lib/): the project's origin server
 * (test/servers/origin.c) started with faults on demand and stopped by
 * each test's teardown, a job that records what became of a request (each
 * must end exactly once), requests queued and run, the checks of the
 * origin's bodies, a callback body that can rewind, and the
 * allocation-failure torture runs over failalloc.h. A test file defines
 * _GNU_SOURCE and includes this first; the functions are static inline,
 * so each file uses what it needs.
 */
#ifndef H1C_TEST_CLIENT_FIXTURE_H
#define H1C_TEST_CLIENT_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "h1c.h"
#include "spawn.h"
#include "failalloc.h"
#include "iolayers.h"
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char origin_path[4096];

/* Origins still running: a failed assertion leaves its test early, and the
 * teardown stops what it started. */
static pid_t running[8];

/* ---- the origin server --------------------------------------------------------- */

struct origin {
	pid_t pid;
	int port;
	char log[64];
	char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts build/origin with the given flags (NULL-terminated) and a log. */
static inline void origin_start(struct origin *o, ...)
{
	const char *argv[32];
	int n = 0, fd;
	va_list ap;

	strcpy(o->log, "/tmp/h1c-origin-XXXXXX");
	fd = mkstemp(o->log);
	assert_true(fd >= 0);
	close(fd);
	argv[n++] = origin_path;
	va_start(ap, o);
	for (;;) {
		const char *a = va_arg(ap, const char *);
		if (!a)
			break;
		argv[n++] = a;
	}
	va_end(ap);
	argv[n++] = "--log";
	argv[n++] = o->log;
	argv[n] = NULL;
	o->pid = spawn_server(argv, &o->port);
	for (n = 0; n < 8; n++)
		if (!running[n]) {
			running[n] = o->pid;
			break;
		}
	snprintf(o->base, sizeof(o->base), "http://127.0.0.1:%d", o->port);
}

static inline void origin_stop(struct origin *o)
{
	int i;

	for (i = 0; i < 8; i++)
		if (running[i] == o->pid)
			running[i] = 0;
	kill(o->pid, SIGTERM);
	waitpid(o->pid, NULL, 0);
	unlink(o->log);
}

static inline int stop_all(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		if (running[i]) {
			kill(running[i], SIGTERM);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
		}
	return 0;
}

/* Counts the log lines holding every one of the given strings. */
static inline int log_count(const struct origin *o, const char *a, const char *b)
{
	return log_lines(o->log, a, b);
}

/* ---- requests and what became of them ------------------------------------------ */

#define MAXJ 1100

struct job {
	int ended;   /* on_done calls: must end at exactly 1 */
	int err;
	unsigned flags;
	int status;
	char body[4096];
	size_t len;
	int overflow;
	int stop_at; /* on_data returns nonzero once this many bytes came */
};

static inline int j_head(void *user, const struct h1c_response *r)
{
	((struct job *)user)->status = r->status;
	return 0;
}

static inline int j_data(void *user, const char *p, size_t n)
{
	struct job *j = user;

	if (j->len + n > sizeof(j->body)) {
		j->overflow = 1;
		return 1;
	}
	memcpy(j->body + j->len, p, n);
	j->len += n;
	return j->stop_at && j->len >= (size_t)j->stop_at;
}

static inline void j_done(void *user, int err, unsigned flags)
{
	struct job *j = user;

	j->ended++;
	j->err = err;
	j->flags = flags;
}

static const struct h1c_callbacks cbs = {
	.size = sizeof(cbs),
	.on_head = j_head,
	.on_data = j_data,
	.on_done = j_done,
};

/* Queues a request for base + path. */
static inline long long submit(struct h1c_client *c, const struct origin *o,
                               const char *method, const char *path, struct job *j,
                               const char *body)
{
	struct h1c_request rq;
	char url[256];
	long long id;

	snprintf(url, sizeof(url), "%s%s", o->base, path);
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	if (body) {
		rq.body = body;
		rq.body_len = strlen(body);
	}
	id = h1c_client_request(c, &rq, &cbs, j);
	assert_true(id > 0);
	return id;
}

/* Runs c until nothing is pending (a hang fails after 60 s). */
static inline void run_all(struct h1c_client *c)
{
	assert_int_equal(h1c_client_run(c, 60000), 0);
}

/* Returns 1 when j holds exactly the body of /bytes/n. */
static inline int bytes_ok(const struct job *j, size_t n)
{
	size_t i;

	if (j->len != n || j->overflow)
		return 0;
	for (i = 0; i < n; i++)
		if (j->body[i] != (char)('a' + i % 26))
			return 0;
	return 1;
}

/* Returns 1 when j's body is a prefix (whole when complete) of /chunked/n. */
static inline int chunked_ok(const struct job *j, size_t n, int complete)
{
	size_t i;

	if (j->len > n || (complete && j->len != n))
		return 0;
	for (i = 0; i < j->len; i++)
		if (j->body[i] != "0123456789"[i % 10])
			return 0;
	return 1;
}

static inline struct h1c_client *client(unsigned depth, unsigned per_origin, unsigned flags)
{
	struct h1c_client_options co;
	struct h1c_client *c;

	memset(&co, 0, sizeof(co));
	co.pipeline_depth = depth;
	co.max_per_origin = per_origin;
	co.flags = flags;
	c = h1c_client_new(&co);
	assert_non_null(c);
	return c;
}

/* n GETs of /bytes/(i+1) on one client; checks each ended once and right. */
static inline void pipelined_gets(struct h1c_client *c, const struct origin *o, struct job *j,
                                  int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/bytes/%d", i + 1);
		submit(c, o, "GET", path, &j[i], NULL);
	}
	run_all(c);
	for (i = 0; i < n; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
		assert_int_equal(j[i].status, 200);
		assert_true(bytes_ok(&j[i], (size_t)i + 1));
	}
}

struct src {
	const char *data;
	size_t len, off;
	int rewinds;
};

static inline long src_read(void *user, void *buf, size_t len)
{
	struct src *s = user;
	size_t n = s->len - s->off < len ? s->len - s->off : len;

	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return (long)n;
}

static inline int src_rewind(void *user)
{
	struct src *s = user;

	s->off = 0;
	s->rewinds++;
	return 0;
}

/* ---- allocation failures ---------------------------------------------------------- */

/* Queues rq for j in a torture run: a refusal must be H1C_ENOMEM, and then
 * no callback may come (j is marked ended with a code of its own). */
static inline void torture_request(struct h1c_client *c, const struct h1c_request *rq,
                                   struct job *j)
{
	long long id = h1c_client_request(c, rq, &cbs, j);

	if (id < 0) {
		assert_int_equal(id, H1C_ENOMEM);
		j->ended = 1;
		j->err = -1000;
	}
}

/* Runs a torture run to its end: a failed allocation of the loop itself is
 * reported, and the loop can be run again. */
static inline void torture_run(struct h1c_client *c)
{
	int rc, tries = 0;

	while ((rc = h1c_client_run(c, 60000)) != 0 && tries++ < 3)
		assert_int_equal(rc, H1C_ENOMEM);
	assert_int_equal(rc, 0);
}

/* A fetch in a torture run: 1 with *res to check (and free), or 0 when it
 * ended with H1C_ENOMEM; any other end fails. */
static inline int torture_fetch(struct h1c_client *c, const struct h1c_request *rq,
                                struct h1c_result *res)
{
	int rc = h1c_client_fetch(c, rq, res);

	if (rc != 0)
		assert_int_equal(rc, H1C_ENOMEM);
	return rc == 0;
}

/* Runs scenario on a client made from opt whose n-th allocation fails, for
 * n = 0 (none fails: the clean run, whose count bounds the rest), 1, 2, ...
 * After each run, h1c_client_free included (or a client that could not be
 * made), no block is live and no descriptor is left open. Returns the clean
 * run's count of allocations. */
static inline long torture_each(const struct h1c_client_options *opt, const struct origin *o,
                                void (*scenario)(struct h1c_client *c, const struct origin *o,
                                                 long n))
{
	long clean = 0, n;
	int before = open_fds();

	for (n = 0;; n++) {
		struct h1c_client_options co = *opt;
		struct h1c_client *c;

		co.alloc = &failing_allocator;
		failalloc_start(n);
		c = h1c_client_new(&co);
		if (c) {
			scenario(c, o, n);
			h1c_client_free(c);
		}
		assert_int_equal(live_blocks, 0);
		assert_int_equal(open_fds(), before);
		if (n == 0)
			clean = alloc_no;
		else if (n > clean)
			break;
	}
	return clean;
}

/* Jobs for the tests that queue many requests at once. */
static struct job many[MAXJ] __attribute__((unused));

/* A body callback that returns more than it was asked for. */
static inline long overread(void *user, void *buf, size_t len)
{
	(void)user;
	memset(buf, 'o', len);
	return (long)len + 100;
}

/* ---- the command line ------------------------------------------------------------ */

/* One test, or those matching a pattern (argv[1]); and the origin server's
 * path, next to the test's directory: build/test/test_cx -> build/origin. */
static inline void fixture_args(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	snprintf(origin_path, sizeof(origin_path), "%.*s/../origin",
	         slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
}

#endif
