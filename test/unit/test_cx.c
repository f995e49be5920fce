/*
 * test_cx.c - a connection lost and what becomes of its requests
 * (lib/cx.c) against the project's origin server with faults on demand:
 * pipelines cut by the server (Connection: close, a silent close, a
 * reset), the origin's back-off outliving its connections, a POST never
 * re-sent, an answer out of turn, new connections
 * that fail before the request goes out, a callback body rewound (or not)
 * for its replay, a head cut mid-way, I/O layers that fail before
 * sending, replays only where the keep-alive race is possible, and
 * allocation-failure torture through those fault paths.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* ---- the fault tests ---------------------------------------------------------------- */

/* The server answers the 3rd request with Connection: close and closes:
 * the pipelined requests behind it are re-sent, all succeed, and the origin
 * is put off pipelining. */
static void test_close_after_k(void **state)
{
	struct origin o;
	struct job j[12];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--max-requests", "3", NULL);
	pipelined_gets(c, &o, j, 12);
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.pipelined > 0);
	assert_true(st.replayed > 0);
	assert_int_equal(st.pipeline_fallbacks, 1);
	assert_int_equal(st.responses, 12);
	assert_int_equal(st.errors, 0);
	/* After the fallback no connection was sent a pipeline. */
	assert_int_equal(log_count(&o, "conn=2 ", "ahead=1"), 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* The origin's pipelining back-off outlives its last connection: after the
 * fallback of test_close_after_k, its one connection closed by /close,
 * twelve more GETs go out one at a time (the pool kept with what it
 * learnt, not made anew). */
static void test_backoff_outlives_connections(void **state)
{
	struct origin o;
	struct job j[12];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);
	unsigned long pipelined;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--max-requests", "3", NULL);
	pipelined_gets(c, &o, j, 12);
	submit(c, &o, "GET", "/close", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.pipeline_fallbacks, 1);
	pipelined = st.pipelined;
	assert_true(pipelined > 0);
	memset(j, 0, sizeof(j));
	pipelined_gets(c, &o, j, 12);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.pipelined, pipelined);
	assert_int_equal(st.pipeline_fallbacks, 1);
	assert_int_equal(st.errors, 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* The server closes, unanswered, when each connection's 4th request comes
 * (no Connection: close to warn): replayed, all succeed. */
static void test_silent_close_mid_pipeline(void **state)
{
	struct origin o;
	struct job j[12];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--drop-nth", "4", NULL);
	pipelined_gets(c, &o, j, 12);
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.replayed >= 5);
	assert_true(st.connections_failed >= 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A POST among pipelined GETs reaches the server as a connection's 4th
 * request, which the server reads and drops: the POST ends with the "may
 * have been processed" code, the server saw it exactly once, and every GET
 * succeeds. */
static void test_post_never_resent(void **state)
{
	struct origin o;
	struct job j[7];
	struct h1c_client *c = client(4, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--drop-nth", "4", NULL);
	for (i = 0; i < 7; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/bytes/%d", i + 1);
		if (i == 3)
			submit(c, &o, "POST", "/echo", &j[i], "payload");
		else
			submit(c, &o, "GET", path, &j[i], NULL);
	}
	run_all(c);
	for (i = 0; i < 7; i++) {
		assert_int_equal(j[i].ended, 1);
		if (i == 3)
			continue;
		assert_int_equal(j[i].err, 0);
		assert_true(bytes_ok(&j[i], (size_t)i + 1));
	}
	assert_int_equal(j[3].err, H1C_EUNANSWERED);
	assert_int_equal(log_count(&o, "method=POST", NULL), 1);
	assert_int_equal(log_count(&o, "method=POST", "dropped=1"), 1);
	/* Nothing was pipelined behind it. */
	assert_int_equal(log_count(&o, "method=POST", "ahead=1"), 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* The server resets the connection when the 3rd pipelined request comes. */
static void test_reset_mid_pipeline(void **state)
{
	struct origin o;
	struct job j[10];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--rst-nth", "3", NULL);
	pipelined_gets(c, &o, j, 10);
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.connections_failed >= 1);
	assert_true(st.replayed >= 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* The server answers the second pipelined request inside the first one's
 * chunked response: that is a protocol error for the first request (its
 * bytes so far are right), never a body handed to the wrong request; the
 * rest are re-sent and succeed. */
static void test_out_of_turn(void **state)
{
	struct origin o;
	struct job j[6];
	struct h1c_stats st;
	struct h1c_client *c = client(4, 1, 0);
	int i, failed = 0;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--out-of-turn", NULL);
	for (i = 0; i < 6; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/chunked/%d?size=3", 40 + i);
		submit(c, &o, "GET", path, &j[i], NULL);
	}
	run_all(c);
	for (i = 0; i < 6; i++) {
		assert_int_equal(j[i].ended, 1);
		if (j[i].err) {
			failed++;
			assert_true(j[i].err != H1C_ETRUNCATED && j[i].err != H1C_EIO &&
			            j[i].err != H1C_EUNANSWERED && j[i].err != H1C_ENOTSENT);
			assert_true(chunked_ok(&j[i], 40 + (size_t)i, 0));
		} else {
			assert_true(chunked_ok(&j[i], 40 + (size_t)i, 1));
		}
	}
	assert_int_equal(failed, 1);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.pipeline_fallbacks, 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* An I/O layer whose reads and writes always fail, as a refused TLS
 * handshake does: no request ever goes out. */
static long deaf_read(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return H1C_EIO;
}

static long deaf_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return H1C_EIO;
}

static const struct h1c_io deaf_io = {
	.size = sizeof(deaf_io),
	.name = "deaf",
	.open = pass_open,
	.read = deaf_read,
	.write = deaf_write,
	.fd = pass_fd,
	.close = pass_close,
};

/* An I/O layer that refuses every connection it is given (as a TLS layer
 * out of sessions would). */
static void *refusing_open(void *user, int fd, const char *host, int *err)
{
	(void)user;
	(void)fd;
	(void)host;
	*err = H1C_EIO;
	return NULL;
}

static const struct h1c_io refusing_io = {
	.size = sizeof(refusing_io),
	.name = "refusing",
	.open = refusing_open,
	.read = deaf_read,
	.write = deaf_write,
	.fd = pass_fd,
	.close = pass_close,
};

/* New connections that fail before the request goes out (a server closing
 * each at once; an I/O layer that cannot write): the request is tried on a
 * bounded number of connections, then ends with the error, never looping
 * (an early version dialled such a server forever). */
static void test_server_slams(void **state)
{
	struct origin o;
	struct job j[2];
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--slam", NULL);
	/* Plain sockets: the write may go out before the close is seen. */
	c = client(1, 1, 0);
	submit(c, &o, "GET", "/bytes/3", &j[0], NULL);
	run_all(c);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(j[0].ended, 1);
	print_message("slammed: %s after %lu connections, %lu replays\n", h1c_strerror(j[0].err),
	              st.connections_opened, st.replayed);
	assert_true(j[0].err == H1C_ENOTSENT || j[0].err == H1C_EUNANSWERED || j[0].err == H1C_EIO);
	/* Each way a new connection can fail (closed while idle before the
	 * request went out, lost before it was written, lost after) has its
	 * budget of max_replays + 1. */
	assert_true(st.connections_opened <= 3 * (H1C_DEFAULT_MAX_REPLAYS + 1));
	h1c_client_free(c);
	/* Nothing can be written. */
	memset(&co, 0, sizeof(co));
	co.io = &deaf_io;
	c = h1c_client_new(&co);
	assert_non_null(c);
	submit(c, &o, "GET", "/bytes/3", &j[1], NULL);
	run_all(c);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(j[1].ended, 1);
	print_message("deaf: %s after %lu connections\n", h1c_strerror(j[1].err),
	              st.connections_opened);
	/* The write fails (H1C_EIO), unless the close was seen first while
	 * the connection waited idle (H1C_ENOTSENT): either way within the
	 * budgets of those two paths. */
	assert_true(j[1].err == H1C_EIO || j[1].err == H1C_ENOTSENT);
	assert_true(st.connections_opened >= H1C_DEFAULT_MAX_REPLAYS + 1);
	assert_true(st.connections_opened <= 2 * (H1C_DEFAULT_MAX_REPLAYS + 1));
	h1c_client_free(c);
	/* The I/O layer refuses the connection: its error, at once. */
	co.io = &refusing_io;
	c = h1c_client_new(&co);
	assert_non_null(c);
	memset(&j[0], 0, sizeof(j[0]));
	submit(c, &o, "GET", "/bytes/3", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, H1C_EIO);
	h1c_client_free(c);
	origin_stop(&o);
}

static int src_rewind_fails(void *user)
{
	((struct src *)user)->rewinds++;
	return -1;
}

/* A PUT with a callback body that can rewind is re-sent when the server
 * drops it, whole; without body_rewind, or when the rewind fails, it is
 * not. */
static void test_callback_body_replay(void **state)
{
	struct origin o;
	struct job j[4];
	struct h1c_request rq;
	struct src s1 = {"rewound body", 12, 0, 0}, s2 = {"no rewind", 9, 0, 0};
	struct src s3 = {"it fails", 8, 0, 0};
	struct h1c_client *c = client(1, 1, 0);
	char url[128];

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--drop-nth", "2", NULL);
	snprintf(url, sizeof(url), "%s/echo", o.base);
	submit(c, &o, "GET", "/bytes/1", &j[0], NULL); /* the 1st on the connection */
	run_all(c);
	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.url = url;
	rq.body_read = src_read;
	rq.body_rewind = src_rewind;
	rq.body_user = &s1;
	rq.body_size = 12;
	assert_true(h1c_client_request(c, &rq, &cbs, &j[1]) > 0); /* the 2nd: dropped */
	run_all(c);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, 0);
	assert_true(j[1].flags & H1C_DONE_REPLAYED);
	assert_int_equal(s1.rewinds, 1);
	assert_int_equal(j[1].len, 12);
	assert_memory_equal(j[1].body, "rewound body", 12);
	/* The replay went on a new connection as its 1st request; the 2nd
	 * there is dropped again, and this one cannot rewind. */
	rq.body_rewind = NULL;
	rq.body_user = &s2;
	rq.body_size = 9;
	assert_true(h1c_client_request(c, &rq, &cbs, &j[2]) > 0);
	run_all(c);
	assert_int_equal(j[2].ended, 1);
	assert_int_equal(j[2].err, H1C_EUNANSWERED);
	/* A rewind that fails: dropped again, then not sent a second time. */
	s3.len = 8;
	rq.body_rewind = src_rewind_fails;
	rq.body_user = &s3;
	rq.body_size = 8;
	memset(&j[0], 0, sizeof(j[0]));
	submit(c, &o, "GET", "/bytes/2", &j[0], NULL); /* the 1st on a new connection */
	assert_true(h1c_client_request(c, &rq, &cbs, &j[3]) > 0);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	assert_int_equal(j[3].ended, 1);
	assert_int_equal(j[3].err, H1C_EUNANSWERED);
	assert_int_equal(s3.rewinds, 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A server that closes in the middle of a response head: the caller never
 * saw a response, but the server processed the request, so a POST ends
 * with H1C_ETRUNCATED (never re-sent); so does a GET on a new connection
 * (a new connection dying after carrying a request is the server's
 * answer); a GET on a reused connection is re-sent, on a new one, and then
 * ends the same way. */
static void test_partial_head(void **state)
{
	struct origin o;
	struct job j[2];
	struct h1c_client *c = client(1, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "POST", "/partial-head", &j[0], "x=1");
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, H1C_ETRUNCATED);
	assert_int_equal(j[0].status, 0);
	assert_int_equal(log_count(&o, "method=POST", NULL), 1);
	submit(c, &o, "GET", "/partial-head", &j[1], NULL);
	run_all(c);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ETRUNCATED);
	assert_false(j[1].flags & H1C_DONE_REPLAYED);
	assert_int_equal(log_count(&o, "method=GET", NULL), 1);
	/* Reused: the keep-alive race is possible, so it is re-sent once. */
	memset(j, 0, sizeof(j));
	submit(c, &o, "GET", "/bytes/2", &j[0], NULL);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	submit(c, &o, "GET", "/partial-head", &j[1], NULL);
	run_all(c);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ETRUNCATED);
	assert_true(j[1].flags & H1C_DONE_REPLAYED);
	assert_int_equal(log_count(&o, "method=GET", "/partial-head"), 1 + 2);
	h1c_client_free(c);
	origin_stop(&o);
}

/* The same torture on the paths faults take: a server that drops every
 * 3rd request (replays, a callback body rewound), Expect: 100-continue with
 * a chunked callback body, and a POST that cannot be replayed. */
static void through_faults(struct h1c_client *c, const struct origin *o, long n)
{
	struct job j[6];
	struct src sp = {"rewound body", 12, 0, 0}, sc = {"chunked body for expect", 23, 0, 0};
	int i;

	memset(j, 0, sizeof(j));
	for (i = 0; i < 6; i++) {
		struct h1c_request r;
		char url[128];
		memset(&r, 0, sizeof(r));
		if (i == 2) {
			snprintf(url, sizeof(url), "%s/echo", o->base);
			r.method = "PUT";
			r.body_read = src_read;
			r.body_rewind = src_rewind;
			r.body_user = &sp;
			r.body_size = 12;
			r.flags = H1C_REQ_NO_EXPECT;
		} else if (i == 3) {
			snprintf(url, sizeof(url), "%s/expect?mode=normal", o->base);
			r.method = "PUT";
			r.body_read = src_read;
			r.body_rewind = src_rewind;
			r.body_user = &sc;
			r.body_size = -1;
		} else if (i == 4) {
			snprintf(url, sizeof(url), "%s/echo", o->base);
			r.method = "POST";
			r.body = "once";
			r.body_len = 4;
		} else {
			snprintf(url, sizeof(url), "%s/bytes/%d", o->base, 20 + i);
		}
		r.url = url;
		torture_request(c, &r, &j[i]);
	}
	torture_run(c);
	for (i = 0; i < 6; i++) {
		assert_int_equal(j[i].ended, 1);
		if (j[i].err == 0 && i != 3 && i != 2 && i != 4 && !bytes_ok(&j[i], 20 + (size_t)i))
			fail_msg("run %ld request %d: status %d, %zu bytes [%.*s]", n, i, j[i].status,
			         j[i].len, (int)j[i].len, j[i].body);
		if (j[i].err == 0 && i == 2)
			assert_memory_equal(j[i].body, "rewound body", 12);
		if (n == 0 && i != 4)
			assert_int_equal(j[i].err, 0);
	}
}

static void test_allocation_failures_faults(void **state)
{
	struct origin o;
	struct h1c_client_options co;
	long clean;

	(void)state;
	origin_start(&o, "--drop-nth", "3", NULL);
	memset(&co, 0, sizeof(co));
	co.pipeline_depth = 2;
	co.max_per_origin = 1;
	co.expect_threshold = 1;
	clean = torture_each(&co, &o, through_faults);
	assert_true(clean > 10);
	print_message("%ld allocations in a clean run with faults, each failed in turn\n", clean);
	origin_stop(&o);
}

/* ---- I/O layers that fail before anything got out -------------------------------- */

static int layer_opens;

static void *counting_open(void *user, int fd, const char *host, int *err)
{
	layer_opens++;
	return pass_open(user, fd, host, err);
}

/* A handshake that fails and says so as final: the first write waits for
 * the socket (as a TLS handshake does), then the layer reports H1C_ETLS. */
static long tls_fail_write(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return H1C_ETLS;
}

/* A handshake that fails with a plain I/O error and then never hears
 * anything: what made requests wait for their head timeout. */
static long quiet_read(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return H1C_EWANTREAD;
}

/* The handshake runs in read: the write sends a "hello" and waits for
 * readability (the origin answers the hello, a request of its own), and
 * the read then reports the certificate refused. */
static long wants_read_write(void *ctx, const void *buf, size_t len)
{
	static const char hello[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

	(void)buf;
	(void)len;
	assert_int_equal(pass_write(ctx, hello, sizeof(hello) - 1), (long)sizeof(hello) - 1);
	return H1C_EWANTREAD;
}

static long tls_fail_read(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return H1C_ETLS;
}

static const struct h1c_io tls_refused_io = {
	.size = sizeof(tls_refused_io),
	.name = "tls-refused",
	.open = counting_open,
	.read = quiet_read,
	.write = tls_fail_write,
	.fd = pass_fd,
	.close = pass_close,
};
static const struct h1c_io handshake_eio_io = {
	.size = sizeof(handshake_eio_io),
	.name = "handshake-eio",
	.open = counting_open,
	.read = quiet_read,
	.write = deaf_write,
	.fd = pass_fd,
	.close = pass_close,
};
static const struct h1c_io tls_refused_in_read_io = {
	.size = sizeof(tls_refused_in_read_io),
	.name = "tls-refused-read",
	.open = counting_open,
	.read = tls_fail_read,
	.write = wants_read_write,
	.fd = pass_fd,
	.close = pass_close,
};

/* A request that never reached the server does not wait for an answer: a
 * layer's write failing before any byte got out ends the connection at
 * once (re-dialled within the budget of new connections, then the layer's
 * error), and H1C_ETLS, final, is never re-dialled: one connection, and the
 * requests waiting for the same origin end with it too. The head timeout
 * is long, so a request that waited would end with H1C_ETIMEDOUT. */
static void test_layer_fails_before_sending(void **state)
{
	const struct h1c_io *layers[3] = {&tls_refused_io, &tls_refused_in_read_io,
	                                  &handshake_eio_io};
	struct origin o;
	struct job j[3];
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	int k, i;

	(void)state;
	origin_start(&o, NULL);
	for (k = 0; k < 3; k++) {
		memset(j, 0, sizeof(j));
		memset(&co, 0, sizeof(co));
		co.io = layers[k];
		co.max_per_origin = 1;
		co.head_timeout_ms = 600000;
		co.idle_timeout_ms = 600000;
		c = h1c_client_new(&co);
		assert_non_null(c);
		layer_opens = 0;
		for (i = 0; i < 3; i++)
			submit(c, &o, "GET", "/bytes/3", &j[i], NULL);
		run_all(c);
		h1c_client_stats(c, &st, sizeof(st));
		for (i = 0; i < 3; i++) {
			assert_int_equal(j[i].ended, 1);
			assert_int_equal(j[i].err, k < 2 ? H1C_ETLS : H1C_EIO);
		}
		if (k < 2)
			assert_int_equal(layer_opens, 1);
		else
			assert_int_equal(layer_opens, H1C_DEFAULT_MAX_REPLAYS + 1);
		assert_int_equal(st.replayed, 0);
		h1c_client_free(c);
	}
	/* Nothing of the requests reached the server. */
	assert_int_equal(log_count(&o, "/bytes/3", NULL), 0);
	origin_stop(&o);
}

/* ---- replays only where the keep-alive race is possible -------------------------- */

/* A server that resets (or closes) every new connection after reading its
 * request receives each GET once: a new connection that dies after
 * carrying a request is the server's answer (as curl and Go do); written
 * on a reused connection, the same GET is re-sent. */
static void test_fresh_connection_not_replayed(void **state)
{
	const char *mode[2] = {"--rst-nth", "--drop-nth"};
	struct origin o;
	struct job j[4];
	struct h1c_stats st;
	struct h1c_client *c;
	int k, i;

	(void)state;
	for (k = 0; k < 2; k++) {
		memset(j, 0, sizeof(j));
		origin_start(&o, mode[k], "1", NULL);
		c = client(1, 4, 0);
		for (i = 0; i < 4; i++)
			submit(c, &o, "GET", "/bytes/3", &j[i], NULL);
		run_all(c);
		for (i = 0; i < 4; i++) {
			assert_int_equal(j[i].ended, 1);
			assert_true(j[i].err == H1C_EUNANSWERED || j[i].err == H1C_EIO);
			assert_false(j[i].flags & (H1C_DONE_REPLAYED | H1C_DONE_REUSED));
		}
		h1c_client_stats(c, &st, sizeof(st));
		assert_int_equal(st.replayed, 0);
		assert_int_equal(log_count(&o, "method=GET", NULL), 4);
		h1c_client_free(c);
		origin_stop(&o);
	}
	/* The 2nd request of each connection dropped: re-sent on a new one. */
	memset(j, 0, sizeof(j));
	origin_start(&o, "--drop-nth", "2", NULL);
	c = client(1, 1, 0);
	for (i = 0; i < 2; i++) {
		submit(c, &o, "GET", "/bytes/3", &j[i], NULL);
		run_all(c);
		assert_int_equal(j[i].err, 0);
	}
	assert_true(j[1].flags & H1C_DONE_REPLAYED);
	assert_int_equal(log_count(&o, "method=GET", NULL), 3);
	h1c_client_free(c);
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_close_after_k, stop_all),
		cmocka_unit_test_teardown(test_backoff_outlives_connections, stop_all),
		cmocka_unit_test_teardown(test_silent_close_mid_pipeline, stop_all),
		cmocka_unit_test_teardown(test_post_never_resent, stop_all),
		cmocka_unit_test_teardown(test_reset_mid_pipeline, stop_all),
		cmocka_unit_test_teardown(test_out_of_turn, stop_all),
		cmocka_unit_test_teardown(test_server_slams, stop_all),
		cmocka_unit_test_teardown(test_callback_body_replay, stop_all),
		cmocka_unit_test_teardown(test_partial_head, stop_all),
		cmocka_unit_test_teardown(test_allocation_failures_faults, stop_all),
		cmocka_unit_test_teardown(test_layer_fails_before_sending, stop_all),
		cmocka_unit_test_teardown(test_fresh_connection_not_replayed, stop_all),
	};

	/* One test, or those matching a pattern: test_cx 'test_*replay*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
