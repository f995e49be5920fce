/*
 * test_dial.c - a connection's way from nothing to ready (lib/dial.c, and
 * a failed dial's end in cx.c) against the project's origin server:
 * nobody listening, an I/O layer whose open moves the socket (with
 * allocation-failure torture), and descriptors exhausted under a lowered
 * RLIMIT_NOFILE.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* Nobody listening: the error comes through on_done. */
static void test_connect_refused(void **state)
{
	struct h1c_request rq;
	struct job j[3];
	struct h1c_client *c = client(1, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	memset(&rq, 0, sizeof(rq));
	rq.url = "http://127.0.0.1:1/";
	for (i = 0; i < 3; i++)
		assert_true(h1c_client_request(c, &rq, &cbs, &j[i]) > 0);
	run_all(c);
	for (i = 0; i < 3; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, H1C_ECONNECT);
	}
	h1c_client_free(c);
}

/* An I/O layer whose descriptor is not the one it was given (it moves
 * the socket to a high number, as a layer that wraps or dups it may):
 * the client watches the new one, and running out of memory for it ends
 * the request with H1C_ENOMEM, nothing leaked or left open. */
static void *mv_open(void *user, int fd, const char *host, int *err)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 700);
	void *ctx;

	close(fd);
	if (high < 0) {
		*err = H1C_EIO;
		return NULL;
	}
	ctx = pass_open(user, high, host, err);
	if (!ctx)
		close(high);
	return ctx;
}

static const struct h1c_io moving_io = {
	.size = sizeof(moving_io),
	.name = "moving",
	.open = mv_open,
	.read = pass_read,
	.write = pass_write,
	.fd = pass_fd,
	.close = pass_close,
};

static void one_fetch(struct h1c_client *c, const struct origin *o, long n)
{
	struct h1c_request rq;
	struct h1c_result res;
	char url[128];
	int ok;

	snprintf(url, sizeof(url), "%s/bytes/5", o->base);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	ok = torture_fetch(c, &rq, &res);
	if (n == 0)
		assert_true(ok);
	if (ok) {
		assert_int_equal(res.body_len, 5);
		assert_memory_equal(res.body, "abcde", 5);
		h1c_result_free(&res);
	}
}

static void test_layer_moves_socket(void **state)
{
	struct origin o;
	struct h1c_client_options co;

	(void)state;
	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	co.io = &moving_io;
	print_message("%ld allocations in a clean run, each failed in turn\n",
	              torture_each(&co, &o, one_fetch));
	origin_stop(&o);
}

/* ---- out of descriptors --------------------------------------------------------- */

/* Descriptors taken to leave the process a given number free. */
static int fd_fill[8192], fd_nfill;

/* Leaves the process exactly room free descriptors: the soft limit is
 * lowered to just past the highest one open, and the holes below it are
 * taken (fd_free_up() gives them back). Returns the old limit. */
static struct rlimit fd_limit_to(int room)
{
	struct rlimit old, rl;
	int top = 0, fd;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	for (fd = 0; fd < 8192; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			top = fd;
	rl = old;
	rl.rlim_cur = (rlim_t)(top + 1 + room);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	fd_nfill = 0;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		if (fd > top) {
			close(fd);
			break;
		}
		fd_fill[fd_nfill++] = fd;
	}
	return old;
}

static void fd_free_up(const struct rlimit *old)
{
	while (fd_nfill)
		close(fd_fill[--fd_nfill]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, old), 0);
}

/* With few descriptors left, requests to several origins wait for one of
 * the client's own connections (an idle one is closed to make room) and
 * all succeed; only connections that came to be are counted; with none of
 * its own to free, the client ends a request with H1C_ENOFD. */
static void test_descriptors_exhausted(void **state)
{
	struct origin o[4];
	struct job *j = many;
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	struct rlimit old;
	int i, k;

	(void)state;
	memset(many, 0, sizeof(many));
	for (k = 0; k < 4; k++)
		origin_start(&o[k], NULL);
	memset(&co, 0, sizeof(co));
	co.max_per_origin = 6;
	c = h1c_client_new(&co);
	assert_non_null(c);
	/* Room for 5 descriptors; the origins want 24 connections. */
	old = fd_limit_to(5);
	for (i = 0; i < 200; i++)
		submit(c, &o[i % 4], "GET", i % 2 ? "/delay?ms=20" : "/bytes/5", &j[i], NULL);
	run_all(c);
	h1c_client_stats(c, &st, sizeof(st));
	fd_free_up(&old);
	for (i = 0; i < 200; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
	}
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.responses, 200);
	/* The connections that carried requests were counted (a socket()
	 * that failed is not: see below). */
	{
		int seen = 0;
		for (k = 0; k < 4; k++)
			seen += log_count(&o[k], "req=1 ", NULL);
		print_message("%lu connections, %d carried requests\n", st.connections_opened, seen);
		assert_true(st.connections_opened >= (unsigned long)seen);
		assert_true(seen >= 4);
	}
	/* No descriptor left at all, and the client holds none. */
	h1c_client_free(c);
	c = h1c_client_new(&co);
	assert_non_null(c);
	memset(many, 0, sizeof(many[0]) * 2);
	old = fd_limit_to(0);
	submit(c, &o[0], "GET", "/bytes/5", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, H1C_ENOFD);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 0);
	fd_free_up(&old);
	submit(c, &o[0], "GET", "/bytes/5", &j[1], NULL);
	run_all(c);
	assert_int_equal(j[1].err, 0);
	h1c_client_free(c);
	for (k = 0; k < 4; k++)
		origin_stop(&o[k]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_connect_refused, stop_all),
		cmocka_unit_test_teardown(test_layer_moves_socket, stop_all),
		cmocka_unit_test_teardown(test_descriptors_exhausted, stop_all),
	};

	/* One test, or those matching a pattern: test_dial 'test_descriptors*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
