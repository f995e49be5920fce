/*
 * test_exchange.c - what passes over an open connection (lib/exchange.c)
 * against the project's origin server: a 408 re-sent, callbacks that stop
 * (on_data, on_interim, on_trailers), the response deadlines (a trickled
 * head, endless 1xx, a body or trailers below the minimum rate), a
 * close-delimited body with GETs pipelined behind it, an upload past the
 * socket buffers, body limits, and a body callback that gives more than
 * it was asked for.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* A 408 says the server did not process the request: an idempotent one is
 * sent again within the replay budget (then the 408 is the answer), a POST
 * never; the origin logs what it received. */
static void test_408_replayed(void **state)
{
	struct origin o;
	struct job j[3];
	struct h1c_client *c = client(1, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/status/408", &j[0], NULL);
	run_all(c);
	submit(c, &o, "POST", "/status/408", &j[1], "x");
	run_all(c);
	submit(c, &o, "GET", "/bytes/5", &j[2], NULL);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, 0);
	assert_int_equal(j[0].status, 408);
	assert_true(j[0].flags & H1C_DONE_REPLAYED);
	assert_int_equal(log_count(&o, "method=GET", "/status/408"), 1 + H1C_DEFAULT_MAX_REPLAYS);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].status, 408);
	assert_false(j[1].flags & H1C_DONE_REPLAYED);
	assert_int_equal(log_count(&o, "method=POST", NULL), 1);
	assert_int_equal(j[2].err, 0);
	assert_true(bytes_ok(&j[2], 5));
	h1c_client_free(c);
	origin_stop(&o);
}

static int stop_interim(void *user, const struct h1c_response *r)
{
	(void)user;
	return r->status == 102;
}

static int stop_trailers(void *user, const struct h1c_header *f, size_t n)
{
	(void)user;
	(void)f;
	return n > 0;
}

/* The interim and trailer callbacks can stop their request too. */
static void test_callback_stops_interim_trailers(void **state)
{
	static const struct h1c_callbacks icb = {
		.size = sizeof(icb),
		.on_interim = stop_interim,
		.on_head = j_head,
		.on_data = j_data,
		.on_done = j_done,
	};
	static const struct h1c_callbacks tcb = {
		.size = sizeof(tcb),
		.on_head = j_head,
		.on_data = j_data,
		.on_trailers = stop_trailers,
		.on_done = j_done,
	};
	struct origin o;
	struct job j[2];
	struct h1c_request rq;
	struct h1c_client *c = client(1, 1, 0);
	char url[128];

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	snprintf(url, sizeof(url), "%s/interim?ms=10", o.base);
	assert_true(h1c_client_request(c, &rq, &icb, &j[0]) > 0);
	snprintf(url, sizeof(url), "%s/chunked/5", o.base);
	assert_true(h1c_client_request(c, &rq, &tcb, &j[1]) > 0);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, H1C_ECALLBACK);
	assert_int_equal(j[0].status, 0);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ECALLBACK);
	assert_int_equal(j[1].status, 200);
	assert_memory_equal(j[1].body, "01234", 5);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A callback that stops: that request ends with H1C_ECALLBACK, the one
 * pipelined behind it is re-sent and succeeds. */
static void test_callback_stops(void **state)
{
	struct origin o;
	struct job j[3];
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/bytes/1", &j[0], NULL);
	run_all(c);
	j[1].stop_at = 100;
	submit(c, &o, "GET", "/bytes/3000", &j[1], NULL);
	submit(c, &o, "GET", "/bytes/7", &j[2], NULL);
	run_all(c);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ECALLBACK);
	assert_int_equal(j[2].ended, 1);
	assert_int_equal(j[2].err, 0);
	assert_true(bytes_ok(&j[2], 7));
	h1c_client_free(c);
	origin_stop(&o);
}

/* ---- response deadlines ---------------------------------------------------------- */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct slow {
	struct job j;
	int interims;
	int trailers;
	long long ended_at;
};

static int s_interim(void *user, const struct h1c_response *r)
{
	(void)r;
	((struct slow *)user)->interims++;
	return 0;
}

static int s_trailers(void *user, const struct h1c_header *f, size_t n)
{
	(void)f;
	(void)n;
	((struct slow *)user)->trailers++;
	return 0;
}

static void s_done(void *user, int err, unsigned flags)
{
	struct slow *s = user;

	j_done(&s->j, err, flags);
	s->ended_at = mono_ms();
}

static const struct h1c_callbacks slow_cbs = {
	.size = sizeof(slow_cbs),
	.on_interim = s_interim,
	.on_head = j_head,
	.on_data = j_data,
	.on_trailers = s_trailers,
	.on_done = s_done,
};

/* Servers that trickle just fast enough to beat a 10 s idle timeout are
 * cut off by the head deadline (a trickled head, endless 1xx) and by the
 * minimum rate (a trickled body, trickled trailers); none of them fires
 * early, and with no minimum the slow body arrives whole. */
static void test_deadlines(void **state)
{
	static const char *const paths[] = {
		"/trickle?ms=20&n=10",           /* head a byte per 20 ms */
		"/interim?ms=40",                /* 102 every 40 ms, forever */
		"/trickle?ms=20&n=1000&from=body", /* body at 50 bytes/s */
		"/chunked/50?trickle=20",        /* trailers a byte per 20 ms */
		"/trickle?ms=20&n=20&from=body", /* same body rate, no minimum */
	};
	struct origin o;
	struct slow s[5];
	struct h1c_client_options co;
	struct h1c_client *c, *nomin;
	long long t0;
	int i;

	(void)state;
	memset(s, 0, sizeof(s));
	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	co.head_timeout_ms = 300;
	co.idle_timeout_ms = 10000;
	co.min_rate = 1000; /* bytes per second, */
	co.rate_window_ms = 300; /* in every 300 ms */
	c = h1c_client_new(&co);
	co.min_rate = -1;
	nomin = h1c_client_new(&co);
	assert_non_null(c);
	assert_non_null(nomin);
	t0 = mono_ms();
	for (i = 0; i < 5; i++) {
		struct h1c_request rq;
		char url[128];
		snprintf(url, sizeof(url), "%s%s", o.base, paths[i]);
		memset(&rq, 0, sizeof(rq));
		rq.url = url;
		assert_true(h1c_client_request(i < 4 ? c : nomin, &rq, &slow_cbs, &s[i]) > 0);
	}
	run_all(c);
	run_all(nomin);
	for (i = 0; i < 5; i++) {
		assert_int_equal(s[i].j.ended, 1);
		print_message("deadline %-34s err %3d after %lld ms\n", paths[i], s[i].j.err,
		              s[i].ended_at - t0);
	}
	/* The head deadline: no final head, cut no earlier than 300 ms. */
	assert_int_equal(s[0].j.err, H1C_ETIMEDOUT);
	assert_int_equal(s[0].j.status, 0);
	assert_true(s[0].ended_at - t0 >= 300);
	assert_int_equal(s[1].j.err, H1C_ETIMEDOUT);
	assert_int_equal(s[1].j.status, 0);
	assert_true(s[1].interims >= 2); /* the 1xx kept coming */
	assert_true(s[1].ended_at - t0 >= 300);
	/* The minimum rate: the head came, the body or trailers did not. */
	assert_int_equal(s[2].j.err, H1C_ESLOW);
	assert_int_equal(s[2].j.status, 200);
	assert_true(s[2].j.len < 1000);
	assert_true(s[2].ended_at - t0 >= 300);
	assert_int_equal(s[3].j.err, H1C_ESLOW);
	assert_true(chunked_ok(&s[3].j, 50, 1));
	assert_int_equal(s[3].trailers, 0);
	assert_true(s[3].ended_at - t0 >= 300);
	/* Without a minimum the same rate is only slow. */
	assert_int_equal(s[4].j.err, 0);
	assert_int_equal(s[4].j.len, 20);
	assert_true(s[4].ended_at - t0 >= 300);
	h1c_client_free(c);
	h1c_client_free(nomin);
	origin_stop(&o);
}

/* A body delimited by the close (no length): it ends when the server
 * closes, whole; GETs pipelined behind it were written but can only be
 * answered on a new connection, so they are sent again there. */
static void test_close_delimited(void **state)
{
	struct origin o;
	struct job j[4];
	struct h1c_client *c = client(4, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/eof?n=25", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	assert_int_equal(j[0].len, 25);
	assert_memory_equal(j[0].body, "0123456789012345678901234", 25);
	/* Now with three more queued behind it on a connection that has
	 * shown it stays open (pipelining needs that). */
	memset(j, 0, sizeof(j));
	submit(c, &o, "GET", "/bytes/1", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	memset(j, 0, sizeof(j));
	submit(c, &o, "GET", "/eof?n=5", &j[0], NULL);
	submit(c, &o, "GET", "/bytes/3", &j[1], NULL);
	submit(c, &o, "GET", "/bytes/4", &j[2], NULL);
	submit(c, &o, "GET", "/chunked/6", &j[3], NULL);
	run_all(c);
	for (i = 0; i < 4; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
	}
	assert_int_equal(j[0].len, 5);
	assert_memory_equal(j[1].body, "abc", 3);
	assert_memory_equal(j[2].body, "abcd", 4);
	assert_memory_equal(j[3].body, "012345", 6);
	/* At least the first behind it went out on the closing connection. */
	assert_true(j[1].flags & H1C_DONE_PIPELINED);
	assert_true(j[1].flags & H1C_DONE_REPLAYED);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A body larger than the socket buffers: writes would block, and the
 * upload goes on as the server reads. */
static void test_big_upload(void **state)
{
	struct origin o;
	struct h1c_client *c = client(1, 1, 0);
	struct h1c_request rq;
	struct h1c_result res;
	size_t len = (size_t)16 << 20, i;
	char *big = malloc(len), url[128];
	const struct h1c_header *h;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = (char)('a' + i % 23);
	origin_start(&o, NULL);
	snprintf(url, sizeof(url), "%s/echo", o.base);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.body = big;
	rq.body_len = len;
	assert_int_equal(h1c_client_fetch(c, &rq, &res), 0);
	assert_int_equal(res.status, 200);
	h = h1c_header_find(res.headers, res.num_headers, "X-Body-Length");
	assert_non_null(h);
	assert_int_equal(strtoul(h->value, NULL, 10), len);
	assert_int_equal(res.body_len, len);
	assert_memory_equal(res.body, big, len);
	h1c_result_free(&res);
	free(big);
	h1c_client_free(c);
	origin_stop(&o);
}

/* ---- the holes found from outside (issue 13) ------------------------------------- */

/* Queues a GET of base + path with a body limit of its own. */
static void submit_limited(struct h1c_client *c, const struct origin *o, const char *path,
                           struct job *j, long long max_body)
{
	struct h1c_request rq;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", o->base, path);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.max_body = max_body;
	assert_true(h1c_client_request(c, &rq, &cbs, j) > 0);
}

/* A body over its request's limit ends that request with H1C_EBODYSIZE:
 * a Content-Length over it before a byte of the body is delivered (nor
 * its head), a chunked or close-delimited body as the bytes pass it, none
 * of the excess delivered; the connection is closed and the requests
 * pipelined behind it are re-sent, nothing else lost. */
static void test_body_limit(void **state)
{
	struct origin o;
	struct job j[8];
	struct h1c_stats st;
	struct h1c_client *c = client(4, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit_limited(c, &o, "/bytes/3000", &j[0], 1000);
	submit_limited(c, &o, "/chunked/3000?size=100", &j[1], 1000);
	submit_limited(c, &o, "/eof?n=3000", &j[2], 1000);
	submit_limited(c, &o, "/bytes/1000", &j[3], 1000); /* exactly the limit */
	submit_limited(c, &o, "/bytes/3000", &j[4], -1);
	run_all(c);
	for (i = 0; i < 5; i++)
		assert_int_equal(j[i].ended, 1);
	assert_int_equal(j[0].err, H1C_EBODYSIZE);
	assert_int_equal(j[0].status, 0);
	assert_int_equal(j[0].len, 0);
	assert_int_equal(j[1].err, H1C_EBODYSIZE);
	assert_int_equal(j[1].status, 200);
	assert_true(j[1].len <= 1000);
	assert_true(chunked_ok(&j[1], 3000, 0));
	assert_int_equal(j[2].err, H1C_EBODYSIZE);
	assert_true(j[2].len <= 1000);
	assert_int_equal(j[3].err, 0);
	assert_true(bytes_ok(&j[3], 1000));
	assert_int_equal(j[4].err, 0);
	assert_true(bytes_ok(&j[4], 3000));
	h1c_client_free(c);

	/* Pipelined: the one over its limit ends, the rest are re-sent. */
	c = client(4, 1, 0);
	memset(j, 0, sizeof(j));
	submit_limited(c, &o, "/bytes/1", &j[0], 0);
	run_all(c); /* the connection now persists: pipelining is allowed */
	for (i = 1; i < 8; i++)
		submit_limited(c, &o, i == 2 ? "/bytes/3000" : "/bytes/10", &j[i], 100);
	run_all(c);
	for (i = 0; i < 8; i++) {
		assert_int_equal(j[i].ended, 1);
		if (i == 2)
			assert_int_equal(j[i].err, H1C_EBODYSIZE);
		else
			assert_int_equal(j[i].err, 0);
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.pipelined > 0);
	assert_int_equal(st.errors, 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A body callback that returns more than it was asked for (which would
 * be bytes past the client's buffer) ends the request with
 * H1C_ECALLBACK, whatever the framing, and none of it is sent. */
static void test_body_read_overrun(void **state)
{
	struct origin o;
	struct job j[2];
	struct h1c_request rq;
	char url[256];
	struct h1c_client *c = client(1, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	snprintf(url, sizeof(url), "%s/echo", o.base);
	for (i = 0; i < 2; i++) {
		memset(&rq, 0, sizeof(rq));
		rq.method = "POST";
		rq.url = url;
		rq.body_read = overread;
		rq.body_size = i == 0 ? -1 : 1000000; /* chunked, then a length */
		assert_true(h1c_client_request(c, &rq, &cbs, &j[i]) > 0);
		run_all(c);
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, H1C_ECALLBACK);
		assert_int_equal(j[i].status, 0);
	}
	/* The server never saw either: nothing of them was sent. */
	assert_int_equal(log_count(&o, "method=POST", NULL), 0);
	h1c_client_free(c);
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_408_replayed, stop_all),
		cmocka_unit_test_teardown(test_callback_stops, stop_all),
		cmocka_unit_test_teardown(test_deadlines, stop_all),
		cmocka_unit_test_teardown(test_callback_stops_interim_trailers, stop_all),
		cmocka_unit_test_teardown(test_close_delimited, stop_all),
		cmocka_unit_test_teardown(test_big_upload, stop_all),
		cmocka_unit_test_teardown(test_body_limit, stop_all),
		cmocka_unit_test_teardown(test_body_read_overrun, stop_all),
	};

	/* One test, or those matching a pattern: test_exchange 'test_body*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
