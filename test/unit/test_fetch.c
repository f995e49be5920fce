/*
 * test_fetch.c - the blocking call and its results (lib/fetch.c) against
 * the project's origin server: the body a fetch keeps (the client's
 * max_body, 64 MiB by default, a request's own limit, -1, a streamed
 * body), a result freed after its client through the client's hooks, and
 * allocation-failure torture of pipelined requests and fetches (a body,
 * trailers, an empty body, uploads from memory and from a callback).
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* Pipelined chunked GETs, then blocking fetches: a body, trailers, an
 * empty body (the result still gets its "" to point at), and bodies bigger
 * than the output buffer from memory and from a callback (the buffer grows
 * while they go out). */
static void pipelined_and_fetches(struct h1c_client *c, const struct origin *o, long n)
{
	static char big[40000];
	struct src src = {big, sizeof(big), 0, 0};
	struct job j[6];
	struct h1c_request rq;
	struct h1c_result res;
	char url[128];
	int i;

	(void)n;
	memset(j, 0, sizeof(j));
	for (i = 0; i < 6; i++) {
		struct h1c_request r;
		snprintf(url, sizeof(url), "%s/chunked/%d", o->base, 10 + i);
		memset(&r, 0, sizeof(r));
		r.url = url;
		torture_request(c, &r, &j[i]);
	}
	torture_run(c);
	for (i = 0; i < 6; i++) {
		assert_int_equal(j[i].ended, 1);
		if (!j[i].err)
			assert_true(chunked_ok(&j[i], 10 + (size_t)i, 1));
	}
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	snprintf(url, sizeof(url), "%s/bytes/7", o->base);
	if (torture_fetch(c, &rq, &res)) {
		assert_int_equal(res.body_len, 7);
		h1c_result_free(&res);
	}
	snprintf(url, sizeof(url), "%s/chunked/12", o->base);
	if (torture_fetch(c, &rq, &res)) {
		assert_int_equal(res.num_trailers, 1);
		assert_memory_equal(res.trailers[0].value, "done", 4);
		h1c_result_free(&res);
	}
	snprintf(url, sizeof(url), "%s/bytes/0", o->base);
	if (torture_fetch(c, &rq, &res)) {
		assert_int_equal(res.body_len, 0);
		assert_string_equal(res.body, "");
		h1c_result_free(&res);
	}
	memset(big, 'b', sizeof(big));
	snprintf(url, sizeof(url), "%s/echo", o->base);
	rq.method = "POST";
	rq.body = big;
	rq.body_len = sizeof(big);
	if (torture_fetch(c, &rq, &res)) {
		assert_int_equal(res.body_len, sizeof(big));
		h1c_result_free(&res);
	}
	/* Another origin (so a connection whose buffer has not grown yet)
	 * for the callback body. */
	snprintf(url, sizeof(url), "http://localhost:%d/echo", o->port);
	rq.method = "PUT";
	rq.body = NULL;
	rq.body_len = 0;
	rq.body_read = src_read;
	rq.body_rewind = src_rewind;
	rq.body_user = &src;
	rq.body_size = (long long)sizeof(big);
	if (torture_fetch(c, &rq, &res)) {
		assert_int_equal(res.body_len, sizeof(big));
		assert_memory_equal(res.body, big, sizeof(big));
		h1c_result_free(&res);
	}
}

/* Fails the 1st, 2nd, ... allocation in turn while a client makes pipelined
 * requests and blocking fetches: every run ends each accepted request exactly
 * once (a response or an error), frees everything, and crashes nowhere. */
static void test_allocation_failures(void **state)
{
	struct origin o;
	struct h1c_client_options co;
	long clean;

	(void)state;
	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	co.pipeline_depth = 4;
	clean = torture_each(&co, &o, pipelined_and_fetches);
	assert_true(clean > 10);
	print_message("%ld allocations in a clean run, each failed in turn\n", clean);
	origin_stop(&o);
}

static int fetch_url(struct h1c_client *c, const struct origin *o, const char *path,
                     long long max_body, int (*on_data)(void *, const char *, size_t),
                     void *data_user, struct h1c_result *res)
{
	struct h1c_request rq;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", o->base, path);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.max_body = max_body;
	rq.on_data = on_data;
	rq.data_user = data_user;
	return h1c_client_fetch(c, &rq, res);
}

static int count_data(void *user, const char *p, size_t n)
{
	(void)p;
	*(size_t *)user += n;
	return 0;
}

/* h1c_client_fetch() keeps at most the client's max_body (64 MiB by
 * default) in memory; a request's own limit, or -1, overrides it; a
 * streamed body has no limit unless the request sets one. */
static void test_fetch_body_limit(void **state)
{
	struct origin o;
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_result res;
	size_t got = 0;

	(void)state;
	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	co.max_body = 2000;
	c = h1c_client_new(&co);
	assert_non_null(c);
	assert_int_equal(fetch_url(c, &o, "/bytes/2000", 0, NULL, NULL, &res), 0);
	assert_int_equal(res.body_len, 2000);
	h1c_result_free(&res);
	assert_int_equal(fetch_url(c, &o, "/bytes/2001", 0, NULL, NULL, &res), H1C_EBODYSIZE);
	assert_null(res.body);
	assert_int_equal(fetch_url(c, &o, "/chunked/5000", 0, NULL, NULL, &res), H1C_EBODYSIZE);
	assert_int_equal(fetch_url(c, &o, "/bytes/5000", -1, NULL, NULL, &res), 0);
	assert_int_equal(res.body_len, 5000);
	h1c_result_free(&res);
	assert_int_equal(fetch_url(c, &o, "/bytes/5000", 9000, NULL, NULL, &res), 0);
	h1c_result_free(&res);
	assert_int_equal(fetch_url(c, &o, "/bytes/5000", 0, count_data, &got, &res), 0);
	assert_int_equal(got, 5000);
	h1c_result_free(&res);
	got = 0;
	assert_int_equal(fetch_url(c, &o, "/chunked/5000", 100, count_data, &got, &res),
	                 H1C_EBODYSIZE);
	assert_true(got <= 100);
	/* The client goes on: a request after them all is fine. */
	assert_int_equal(fetch_url(c, &o, "/bytes/7", 0, NULL, NULL, &res), 0);
	assert_int_equal(res.body_len, 7);
	h1c_result_free(&res);
	h1c_client_free(c);
	/* Off altogether. */
	co.max_body = -1;
	c = h1c_client_new(&co);
	assert_non_null(c);
	assert_int_equal(fetch_url(c, &o, "/bytes/5000", 0, NULL, NULL, &res), 0);
	h1c_result_free(&res);
	h1c_client_free(c);
	/* The default. */
	c = h1c_client_new(NULL);
	assert_non_null(c);
	assert_int_equal(fetch_url(c, &o, "/bytes/100000", 0, NULL, NULL, &res), 0);
	assert_int_equal(res.body_len, 100000);
	h1c_result_free(&res);
	assert_int_equal(fetch_url(c, &o, "/bytes/100000", 99999, NULL, NULL, &res),
	                 H1C_EBODYSIZE);
	h1c_client_free(c);
	origin_stop(&o);
}

static long long hook_live;
static void *hk_malloc(void *u, size_t n)
{
	void *p = malloc(n);
	(void)u;
	hook_live += p != NULL;
	return p;
}
static void *hk_realloc(void *u, void *p, size_t n)
{
	void *q = realloc(p, n);
	(void)u;
	hook_live += !p && q;
	return q;
}
static void hk_free(void *u, void *p)
{
	(void)u;
	hook_live -= p != NULL;
	free(p);
}

/* A result outlives its client: freed after h1c_client_free(), through the
 * client's hooks, which it keeps its own copy of. */
static void test_result_after_client(void **state)
{
	struct origin o;
	struct h1c_allocator al = {
		.size = sizeof(al),
		.malloc = hk_malloc,
		.realloc = hk_realloc,
		.free = hk_free,
	};
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_result res;

	(void)state;
	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	{
		struct h1c_allocator *heap = malloc(sizeof(*heap));
		assert_non_null(heap);
		*heap = al;
		co.alloc = heap;
		c = h1c_client_new(&co);
		assert_non_null(c);
		assert_int_equal(fetch_url(c, &o, "/chunked/300", 0, NULL, NULL, &res), 0);
		free(heap); /* the caller's struct is not kept either */
	}
	assert_int_equal(res.body_len, 300);
	h1c_client_free(c);
	assert_true(hook_live > 0); /* the result's blocks */
	h1c_result_free(&res);
	assert_int_equal(hook_live, 0);
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_allocation_failures, stop_all),
		cmocka_unit_test_teardown(test_fetch_body_limit, stop_all),
		cmocka_unit_test_teardown(test_result_after_client, stop_all),
	};

	/* One test, or those matching a pattern: test_fetch 'test_fetch*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
