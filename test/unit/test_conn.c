/*
 * test_conn.c - the sans-I/O connection: the bytes the request writer
 * produces, what it refuses, the FIFO that pairs responses with requests,
 * and the persistence bookkeeping. No socket anywhere.
 */
#include "testutil.h"

#include "internal.h"

static struct h1c__conn c;

static int setup(void **state)
{
	(void)state;
	return h1c__conn_init(&c, NULL, 0, NULL);
}

static int teardown(void **state)
{
	(void)state;
	h1c__conn_free(&c);
	return 0;
}

static void assert_output(const char *want)
{
	const char *p;
	size_t n;

	h1c__conn_output(&c, &p, &n);
	if (n != strlen(want) || memcmp(p, want, n) != 0)
		fail_msg("output:\n%.*s\nwant:\n%s", (int)n, p, want);
	h1c__conn_written(&c, n);
}

static struct h1c__req req(const char *method, const char *target, long long body)
{
	struct h1c__req r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.target = target;
	r.target_len = strlen(target);
	r.host = "example.test:8080";
	r.body_size = body;
	return r;
}

static void test_get_head(void **state)
{
	struct h1c_header h[] = {{"Accept", 6, "*/*", 3}};
	struct h1c__req r = req("GET", "/a?b=c", 0);
	(void)state;
	r.headers = h;
	r.num_headers = 1;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_output("GET /a?b=c HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n"
	              "Connection: keep-alive\r\n\r\n");
}

static void test_proxy_and_close(void **state)
{
	struct h1c__conn pc;
	struct h1c__req r = req("GET", "http://example.test:8080/", 0);
	const char *p;
	size_t n;
	(void)state;
	assert_int_equal(h1c__conn_init(&pc, NULL, 1, NULL), 0);
	assert_int_equal(h1c__conn_request(&pc, &r), 0);
	h1c__conn_output(&pc, &p, &n);
	assert_true(n > 0);
	assert_non_null(strstr(p, "GET http://example.test:8080/ HTTP/1.1\r\n"));
	assert_non_null(strstr(p, "Connection: keep-alive\r\nProxy-Connection: keep-alive\r\n"));
	h1c__conn_free(&pc);
	r = req("GET", "/", 0);
	r.close = 1;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_output("GET / HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n\r\n");
}

static void test_bodies(void **state)
{
	struct h1c__req r = req("POST", "/p", 5);
	(void)state;
	assert_int_equal(h1c__conn_body(&c, "x", 1, 1), H1C_EINVAL); /* no request yet */
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_int_equal(h1c__conn_body(&c, "hello", 5, 0), 0);
	assert_output("POST /p HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\n"
	              "Content-Length: 5\r\n\r\nhello");
	r = req("POST", "/p", 0);
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_output("POST /p HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\n"
	              "Content-Length: 0\r\n\r\n");
	r = req("PUT", "/p", -1);
	r.expect = 1;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_int_equal(h1c__conn_body(&c, "abc", 3, 0), 0);
	assert_int_equal(h1c__conn_body(&c, "0123456789abcdefg", 17, 0), 0);
	assert_int_equal(h1c__conn_body(&c, NULL, 0, 1), 0);
	assert_output("PUT /p HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\n"
	              "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
	              "3\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n");
}

/* Nothing is written for a request that is refused. */
static void expect_refused(struct h1c__req r)
{
	const char *p;
	size_t n;
	unsigned q = c.q_n;

	assert_int_equal(h1c__conn_request(&c, &r), H1C_EBADREQUEST);
	h1c__conn_output(&c, &p, &n);
	assert_int_equal(n, 0);
	assert_int_equal(c.q_n, q);
}

static void test_request_splitting_refused(void **state)
{
	struct h1c_header h[1];
	struct h1c__req r;
	static const char *const framing[] = {"Content-Length", "transfer-encoding", "Connection",
	                                      "Proxy-Connection", "Expect", "TE", "Upgrade"};
	size_t i;
	(void)state;
	r = req("GET", "/", 0);
	h[0] = (struct h1c_header){"X", 1, "a\r\nX-Injected: 1", 17};
	r.headers = h;
	r.num_headers = 1;
	expect_refused(r);
	h[0] = (struct h1c_header){"X", 1, "a\nb", 3};
	expect_refused(r);
	h[0] = (struct h1c_header){"X", 1, "a\0b", 3};
	expect_refused(r);
	h[0] = (struct h1c_header){"X Y", 3, "v", 1};
	expect_refused(r);
	h[0] = (struct h1c_header){"X:Y", 3, "v", 1};
	expect_refused(r);
	h[0] = (struct h1c_header){"", 0, "v", 1};
	expect_refused(r);
	for (i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
		h[0] = (struct h1c_header){framing[i], strlen(framing[i]), "1", 1};
		expect_refused(r);
	}
	expect_refused(req("GET", "/a b", 0));
	expect_refused(req("GET", "/a\r\nX: y", 0));
	expect_refused(req("GET", "", 0));
	expect_refused(req("GE T", "/", 0));
	expect_refused(req("GET\r\n", "/", 0));
	r = req("GET", "/", 0);
	r.host = "a\r\nb";
	expect_refused(r);
	/* Host given by the caller replaces ours. */
	h[0] = (struct h1c_header){"host", 4, "other", 5};
	r = req("GET", "/", 0);
	r.headers = h;
	r.num_headers = 1;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_output("GET / HTTP/1.1\r\nhost: other\r\nConnection: keep-alive\r\n\r\n");
}

static void feed_bytewise(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		assert_int_equal(h1c__conn_feed(&c, s + i, 1), 0);
}

/* Pipelined GET, HEAD, GET: responses go to the right requests, the HEAD's
 * response has no body although it announces one. */
static void test_fifo(void **state)
{
	int u1, u2, u3;
	struct h1c__req r;
	struct h1c_event ev;
	void *user;
	char body[64] = "";
	int order[8], k = 0;
	(void)state;
	r = req("GET", "/1", 0);
	r.user = &u1;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	r = req("HEAD", "/2", 0);
	r.user = &u2;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	r = req("GET", "/3", 0);
	r.user = &u3;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	feed_bytewise("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
	              "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
	              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	              "5\r\nthree\r\n0\r\n\r\n");
	for (;;) {
		assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
		if (ev.type == H1C_EV_NEED_MORE)
			break;
		if (ev.type == H1C_EV_DATA) {
			strncat(body, ev.data, ev.len);
			strcat(body, user == &u1 ? "@1 " : user == &u3 ? "@3 " : "@? ");
		}
		if (ev.type == H1C_EV_DONE && !(c.rd.framing.flags & H1C_FRAMING_INTERIM))
			order[k++] = user == &u1 ? 1 : user == &u2 ? 2 : user == &u3 ? 3 : 0;
	}
	assert_int_equal(k, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 3);
	assert_string_equal(body, "one@1 three@3 ");
	assert_int_equal(c.q_n, 0);
	assert_int_equal(c.done, 3);
	assert_true(h1c__conn_reusable(&c, 0, 60000));
}

static void run_one(const char *response)
{
	struct h1c__req r = req("GET", "/", 0);
	struct h1c_event ev;
	void *user;

	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	feed_bytewise(response);
	do
		assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
	while (ev.type != H1C_EV_NEED_MORE);
	assert_int_equal(c.q_n, 0);
}

static void test_keep_alive_hints(void **state)
{
	(void)state;
	run_one("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=10\r\nContent-Length: 0\r\n\r\n");
	assert_true(h1c__conn_reusable(&c, 3999, 60000));
	assert_false(h1c__conn_reusable(&c, 4000, 60000)); /* 5 s less 1 s margin */
	assert_false(h1c__conn_reusable(&c, 100, 100));     /* the client's own limit */
	run_one("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 0\r\n\r\n");
	assert_true(h1c__conn_reusable(&c, 499, 60000));
	assert_false(h1c__conn_reusable(&c, 500, 60000)); /* half of a short hint */
	run_one("HTTP/1.1 200 OK\r\nKeep-Alive: max=1, timeout=100\r\nContent-Length: 0\r\n\r\n");
	assert_true(h1c__conn_reusable(&c, 0, 60000));
	run_one("HTTP/1.1 200 OK\r\nKeep-Alive: max=0\r\nContent-Length: 0\r\n\r\n");
	assert_false(h1c__conn_reusable(&c, 0, 60000));
}

static void test_close_verdicts(void **state)
{
	(void)state;
	run_one("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	assert_false(h1c__conn_reusable(&c, 0, 60000));
}

static void test_http10_keep_alive(void **state)
{
	(void)state;
	run_one("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
	assert_true(h1c__conn_reusable(&c, 0, 60000));
}

static void test_unsolicited_bytes(void **state)
{
	struct h1c_event ev;
	void *user;
	(void)state;
	feed_bytewise("HTTP/1.1 408 Request Timeout\r\n\r\n");
	assert_int_equal(h1c__conn_next(&c, &ev, &user), H1C_EEXTRADATA);
	assert_false(h1c__conn_reusable(&c, 0, 60000));
}

/* The events say interim or final: a 1xx head comes as H1C__EV_INTERIM
 * and its end as no event, the final response's as H1C_EV_HEAD and
 * H1C_EV_DONE. */
static void test_interim_and_final(void **state)
{
	struct h1c__req r = req("GET", "/", 0);
	struct h1c_event ev;
	void *user;
	int types[16], n = 0;

	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	feed_bytewise("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	              "HTTP/1.1 100 Continue\r\n\r\n"
	              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	do {
		assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
		assert_true(n < 16);
		types[n++] = (int)ev.type;
		if ((int)ev.type == H1C__EV_INTERIM)
			assert_int_equal(h1c__conn_response(&c)->status, n == 1 ? 103 : 100);
		if (ev.type == H1C_EV_HEAD)
			assert_int_equal(h1c__conn_response(&c)->status, 200);
	} while (ev.type != H1C_EV_NEED_MORE);
	assert_int_equal(n, 6);
	assert_int_equal(types[0], H1C__EV_INTERIM);
	assert_int_equal(types[1], H1C__EV_INTERIM);
	assert_int_equal(types[2], H1C_EV_HEAD);
	assert_int_equal(types[3], H1C_EV_DATA);
	assert_int_equal(types[4], H1C_EV_DONE);
	assert_int_equal(types[5], H1C_EV_NEED_MORE);
	assert_int_equal(c.q_n, 0);
	assert_int_equal(c.done, 1);
}

/* Bytes after a response with Connection: close, while requests are
 * pipelined behind it: the connection ended there, and they count as no
 * answer to those requests (H1C_ETRUNCATED, no bytes of theirs). */
static void test_talk_after_close(void **state)
{
	struct h1c__req r = req("GET", "/1", 0);
	struct h1c_event ev;
	void *user;

	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	r = req("GET", "/2", 0);
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	feed_bytewise("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
	assert_int_equal(ev.type, H1C_EV_HEAD);
	assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
	assert_int_equal(ev.type, H1C_EV_DONE);
	assert_int_equal(c.q_n, 1);
	/* Nothing unread: still its buffers may not go back while the ended
	 * stream is awaited (a fresh reader would take the 503 for an
	 * answer). */
	{
		struct h1c__bufs b;
		assert_int_equal(h1c__conn_park(&c, &b), 0);
	}
	feed_bytewise("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
	assert_true(c.in_len > c.in_off); /* the 503, unread */
	assert_int_equal(h1c__conn_next(&c, &ev, &user), H1C_ETRUNCATED);
	assert_false(h1c__conn_got_bytes(&c));
	assert_false(h1c__conn_may_send(&c));
}

/* 1 when nothing of the next response has arrived and the reader expects
 * one (it is not past a last response, whose connection reads no other):
 * when the connection may give its buffers back. */
static int conn_between(const struct h1c__conn *k)
{
	return !h1c__conn_got_bytes(k) && h1c__reader_between(&k->rd);
}

/* Drains the events of what was fed; returns how many responses ended. */
static int drain(void)
{
	struct h1c_event ev;
	void *user;
	int done = 0;

	for (;;) {
		int err = h1c__conn_next(&c, &ev, &user);
		if (err)
			return err;
		if (ev.type == H1C_EV_NEED_MORE)
			return done;
		if (ev.type == H1C_EV_DONE)
			done++;
	}
}

/* Two GETs pipelined: between the responses nothing of the second has
 * come and the reader expects it, so the buffers may go back (park) and
 * come again (unpark, the reader only pointed at the new header array):
 * the second response is read as before. */
static void test_between_responses(void **state)
{
	struct h1c__req r = req("GET", "/", 0);
	struct h1c__bufs b;

	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	assert_true(conn_between(&c));
	feed_bytewise("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(drain(), 1);
	assert_int_equal(c.q_n, 1);
	assert_true(conn_between(&c));
	assert_int_equal(h1c__conn_park(&c, &b), 1);
	assert_int_equal(h1c__conn_unpark(&c, &b), 0);
	feed_bytewise("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes");
	assert_int_equal(drain(), 1);
	assert_int_equal(c.q_n, 0);
}

/* A response that is the last (Connection: close) with a request behind
 * it: the connection is not between responses (its reader must see what
 * comes next as bytes after the last response, and lose the connection),
 * so the manager keeps its buffers and reader as they are. */
static void test_not_between_after_last(void **state)
{
	struct h1c__req r = req("GET", "/", 0);

	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	h1c__conn_written(&c, c.out_len);
	feed_bytewise("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(drain(), 1);
	assert_int_equal(c.q_n, 1);
	assert_false(conn_between(&c));
	feed_bytewise("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(drain(), H1C_ETRUNCATED); /* the end of the connection */
}

static void test_eof(void **state)
{
	struct h1c__req r = req("GET", "/", 0);
	struct h1c_event ev;
	void *user;
	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	assert_int_equal(h1c__conn_eof(&c, &ev, &user), H1C_ETRUNCATED);
	assert_false(h1c__conn_reusable(&c, 0, 60000));
}

static void test_eof_ends_close_delimited(void **state)
{
	struct h1c__req r = req("GET", "/", 0);
	struct h1c_event ev;
	void *user;
	(void)state;
	assert_int_equal(h1c__conn_request(&c, &r), 0);
	feed_bytewise("HTTP/1.1 200 OK\r\n\r\nall of it");
	do
		assert_int_equal(h1c__conn_next(&c, &ev, &user), 0);
	while (ev.type != H1C_EV_NEED_MORE);
	assert_int_equal(h1c__conn_eof(&c, &ev, &user), 0);
	assert_int_equal(ev.type, H1C_EV_DONE);
	assert_int_equal(c.q_n, 0);
}

static void test_idempotent_methods(void **state)
{
	(void)state;
	assert_true(h1c__method_idempotent("GET"));
	assert_true(h1c__method_idempotent("HEAD"));
	assert_true(h1c__method_idempotent("PUT"));
	assert_true(h1c__method_idempotent("DELETE"));
	assert_true(h1c__method_idempotent("OPTIONS"));
	assert_true(h1c__method_idempotent("TRACE"));
	assert_false(h1c__method_idempotent("POST"));
	assert_false(h1c__method_idempotent("PATCH"));
	assert_false(h1c__method_idempotent("get"));
}

/* The writer's limits: a full FIFO refuses the next request without
 * writing a byte; a body needs a request; a body length that cannot fit
 * in memory is refused before any size arithmetic wraps. */
static void test_limits(void **state)
{
	struct h1c__req r = req("GET", "/", 0);
	size_t before;
	unsigned i;
	(void)state;
	assert_int_equal(h1c__conn_body(&c, "x", 1, 1), H1C_EINVAL); /* no request */
	for (i = 0; i < H1C__MAXQ; i++)
		assert_int_equal(h1c__conn_request(&c, &r), 0);
	before = c.out_len;
	assert_int_equal(h1c__conn_request(&c, &r), H1C_EINVAL);
	assert_int_equal(c.out_len, before);
	assert_int_equal(c.q_n, H1C__MAXQ);
	/* The data pointer is never read: both are refused first. */
	assert_int_equal(h1c__conn_body(&c, "x", SIZE_MAX - 8, 0), H1C_ENOMEM);
	assert_int_equal(h1c__conn_body(&c, "x", SIZE_MAX - 40, 0), H1C_ENOMEM);
	assert_int_equal(c.out_len, before);
}

/* An allocator that refuses once told to. */
static int refuse;

static void *r_malloc(void *u, size_t n)
{
	(void)u;
	return refuse ? NULL : malloc(n);
}

static void *r_realloc(void *u, void *p, size_t n)
{
	(void)u;
	return refuse ? NULL : realloc(p, n);
}

static void r_free(void *u, void *p)
{
	(void)u;
	free(p);
}

static const struct h1c_allocator refusing = {
	.size = sizeof(refusing),
	.malloc = r_malloc,
	.realloc = r_realloc,
	.free = r_free,
};

/* Out of memory for the bytes that came in, or for a request: H1C_ENOMEM,
 * and the connection is as it was. */
static void test_out_of_memory(void **state)
{
	struct h1c__conn k;
	struct h1c__req r = req("GET", "/", 0);
	(void)state;
	refuse = 0;
	assert_int_equal(h1c__conn_init(&k, NULL, 0, &refusing), 0);
	refuse = 1;
	assert_int_equal(h1c__conn_feed(&k, "HTTP/1.1 200 OK\r\n", 17), H1C_ENOMEM);
	assert_int_equal(k.in_len, 0);
	assert_int_equal(h1c__conn_request(&k, &r), H1C_ENOMEM);
	assert_int_equal(k.q_n, 0);
	refuse = 0;
	assert_int_equal(h1c__conn_request(&k, &r), 0);
	assert_int_equal(k.q_n, 1);
	h1c__conn_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_splitting_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http10_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsolicited_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_and_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_talk_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_between_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_between_after_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_ends_close_delimited, setup, teardown),
		cmocka_unit_test(test_idempotent_methods),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test(test_out_of_memory),
	};
	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
