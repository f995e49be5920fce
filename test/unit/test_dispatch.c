/*
 * test_dispatch.c - which request goes where (lib/dispatch.c, with the
 * limits and the pipelining back-off of pool.c) against the project's
 * origin server: Keep-Alive: max, an HTTP/1.0 server never pipelined to,
 * no pipelining at depth 1 or behind a HEAD, a depth past
 * H1C_MAX_PIPELINE, the total limit retiring the least recently used idle
 * connection, and saturated pools served in the order they asked.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* Keep-Alive: max=N counts down: no connection is sent more than 3. */
static void test_keepalive_max(void **state)
{
	struct origin o;
	struct job j[10];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--ka-max", "3", NULL);
	pipelined_gets(c, &o, j, 10);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(log_count(&o, "req=4 ", NULL), 0);
	assert_int_equal(log_count(&o, "req=3 ", NULL), 3);
	assert_int_equal(st.replayed, 0);
	assert_int_equal(st.connections_failed, 0);
	assert_true(st.pipelined > 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* An HTTP/1.0 server that keeps connections alive is reused, never sent a
 * pipeline. */
static void test_http10_not_pipelined(void **state)
{
	struct origin o;
	struct job j[10];
	struct h1c_stats st;
	struct h1c_client *c = client(8, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, "--http10", NULL);
	pipelined_gets(c, &o, j, 10);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(log_count(&o, "ahead=1", NULL), 0);
	assert_int_equal(log_count(&o, "method=GET", NULL), 10);
	assert_int_equal(st.connections_opened, 1);
	assert_int_equal(st.pipelined, 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* Without pipelining nothing is ever sent ahead of a response. */
static void test_depth1_never_pipelines(void **state)
{
	struct origin o;
	struct job j[8];
	struct h1c_stats st;
	struct h1c_client *c = client(1, 1, 0);

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	pipelined_gets(c, &o, j, 8);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(log_count(&o, "ahead=1", NULL), 0);
	assert_int_equal(st.pipelined, 0);
	assert_int_equal(st.connections_opened, 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A HEAD is not followed by a pipeline unless the client allows it. */
static void test_nothing_behind_head(void **state)
{
	struct origin o;
	struct job j[4];
	struct h1c_client *c = client(8, 1, 0);
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/bytes/1", &j[0], NULL);
	run_all(c); /* the connection is known to persist */
	submit(c, &o, "HEAD", "/bytes/2", &j[1], NULL);
	submit(c, &o, "GET", "/bytes/3", &j[2], NULL);
	submit(c, &o, "GET", "/bytes/4", &j[3], NULL);
	run_all(c);
	for (i = 0; i < 4; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
	}
	assert_int_equal(j[1].len, 0);
	assert_true(bytes_ok(&j[3], 4));
	/* The HEAD went alone; the GET behind it waited for its response. */
	assert_int_equal(log_count(&o, "method=HEAD", "ahead=1"), 0);
	h1c_client_free(c);
	origin_stop(&o);
}

/* A pipeline_depth past the most the connection can track is cut to
 * H1C_MAX_PIPELINE: 200 GETs all succeed, never more in flight. */
static void test_pipeline_depth_clamped(void **state)
{
	static struct job j[200];
	struct origin o;
	struct h1c_client *c = client(1000, 1, 0);
	struct h1c_stats st;
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/bytes/1", &j[0], NULL);
	run_all(c); /* the connection has shown it persists */
	for (i = 0; i < 200; i++)
		submit(c, &o, "GET", "/bytes/3", &j[i], NULL);
	run_all(c);
	for (i = 0; i < 200; i++) {
		assert_int_equal(j[i].ended, 1 + (i == 0));
		assert_int_equal(j[i].err, 0);
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.max_in_flight > 1);
	assert_true(st.max_in_flight <= H1C_MAX_PIPELINE);
	assert_int_equal(st.connections_opened, 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* One connection in all, two origins in turn: each switch closes the idle
 * connection of the other origin (least recently used first). */
static void test_total_limit_retires_lru(void **state)
{
	struct origin a, b;
	struct job j[6];
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	int i;

	(void)state;
	memset(j, 0, sizeof(j));
	memset(&co, 0, sizeof(co));
	co.max_connections = 1;
	c = h1c_client_new(&co);
	assert_non_null(c);
	origin_start(&a, NULL);
	origin_start(&b, NULL);
	for (i = 0; i < 6; i++) {
		submit(c, i % 2 ? &b : &a, "GET", "/bytes/3", &j[i], NULL);
		run_all(c);
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
		assert_true(bytes_ok(&j[i], 3));
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 6);
	assert_int_equal(log_count(&a, "req=2 ", NULL), 0);
	h1c_client_free(c);
	origin_stop(&a);
	origin_stop(&b);
}

/* ---- many pools waiting for room ------------------------------------------------ */

#define SAT_ORIGINS 6
#define SAT_POOLS (2 * SAT_ORIGINS) /* 127.0.0.1 and localhost: a pool each */
#define SAT_ROUNDS 3

static int sat_seq;
static int sat_order[SAT_POOLS * SAT_ROUNDS];

static void sat_done(void *user, int err, unsigned flags)
{
	struct job *j = user;

	j_done(user, err, flags);
	sat_order[j - many] = sat_seq++;
}

static const struct h1c_callbacks sat_cbs = {.on_head = j_head, .on_data = j_data, .on_done = sat_done};

/* Twelve pools, each at its max_per_origin of 1, under a total of one
 * connection, with three requests waiting in each, queued pool after pool:
 * as the one connection frees, the pools are served in the order their
 * requests were queued, each pool's requests in order, every request once,
 * and no pool is visited for nothing while it waits (the dispatch lists). */
static void test_saturated_pools_in_order(void **state)
{
	struct origin o[SAT_ORIGINS];
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	int i, k, r;

	(void)state;
	memset(many, 0, sizeof(many));
	sat_seq = 0;
	for (k = 0; k < SAT_ORIGINS; k++)
		origin_start(&o[k], NULL);
	memset(&co, 0, sizeof(co));
	co.max_per_origin = 1;
	co.max_connections = 1;
	c = h1c_client_new(&co);
	assert_non_null(c);
	for (r = 0; r < SAT_ROUNDS; r++)
		for (k = 0; k < SAT_POOLS; k++) {
			struct h1c_request rq;
			char url[128];
			i = k * SAT_ROUNDS + r;
			snprintf(url, sizeof(url), "http://%s:%d/bytes/%d",
			         k % 2 ? "localhost" : "127.0.0.1", o[k / 2].port, i + 1);
			memset(&rq, 0, sizeof(rq));
			rq.url = url;
			assert_true(h1c_client_request(c, &rq, &sat_cbs, &many[i]) > 0);
		}
	run_all(c);
	for (i = 0; i < SAT_POOLS * SAT_ROUNDS; i++) {
		assert_int_equal(many[i].ended, 1);
		assert_int_equal(many[i].err, 0);
		assert_true(bytes_ok(&many[i], (size_t)i + 1));
		/* Pool after pool, in the order of their first requests; in
		 * each pool, its requests in order. */
		assert_int_equal(sat_order[i], i);
	}
	h1c_client_stats(c, &st, sizeof(st));
	/* One connection per pool, carrying its three requests in turn. */
	assert_int_equal(st.connections_opened, SAT_POOLS);
	assert_int_equal(st.responses, SAT_POOLS * SAT_ROUNDS);
	h1c_client_free(c);
	for (k = 0; k < SAT_ORIGINS; k++)
		origin_stop(&o[k]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_keepalive_max, stop_all),
		cmocka_unit_test_teardown(test_http10_not_pipelined, stop_all),
		cmocka_unit_test_teardown(test_depth1_never_pipelines, stop_all),
		cmocka_unit_test_teardown(test_nothing_behind_head, stop_all),
		cmocka_unit_test_teardown(test_total_limit_retires_lru, stop_all),
		cmocka_unit_test_teardown(test_pipeline_depth_clamped, stop_all),
		cmocka_unit_test_teardown(test_saturated_pools_in_order, stop_all),
	};

	/* One test, or those matching a pattern: test_dispatch 'test_*pipelin*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
