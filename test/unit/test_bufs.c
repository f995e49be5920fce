/*
 * test_bufs.c - the client's spare buffer sets (lib/bufs.c) against the
 * project's origin server, through size-counting allocator hooks: what an
 * idle connection keeps, what a connection waiting for its response
 * costs once a burst is past, that a steady stream of requests (16 and 128
 * busy connections, sequential ones, a new connection for each) allocates
 * nothing, sets moving between busy connections with trickled heads and
 * bodies and pipelined responses, every response read whole and through
 * its own views, and the few unused pools a client keeps.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

static long long sz_live_bytes, sz_allocs;

/* Hooks that know each block's size (kept in front of it). */
static void *sz_malloc(void *u, size_t n)
{
	size_t *p = malloc(n + 16);
	(void)u;
	if (!p)
		return NULL;
	*p = n;
	sz_live_bytes += (long long)n;
	sz_allocs++;
	return (char *)p + 16;
}
static void sz_free(void *u, void *q)
{
	(void)u;
	if (!q)
		return;
	sz_live_bytes -= (long long)*(size_t *)(void *)((char *)q - 16);
	free((char *)q - 16);
}
static void *sz_realloc(void *u, void *q, size_t n)
{
	size_t *p, old;
	if (!q)
		return sz_malloc(u, n);
	old = *(size_t *)(void *)((char *)q - 16);
	p = realloc((char *)q - 16, n + 16);
	if (!p)
		return NULL;
	*p = n;
	sz_live_bytes += (long long)n - (long long)old;
	sz_allocs++;
	return (char *)p + 16;
}

/* A client whose allocations go through the size-counting hooks, with
 * room for conns connections. */
static struct h1c_client *sized_client(unsigned conns)
{
	static const struct h1c_allocator al = {
		.size = sizeof(al),
		.malloc = sz_malloc,
		.realloc = sz_realloc,
		.free = sz_free,
	};
	struct h1c_client_options co;
	struct h1c_client *c;

	memset(&co, 0, sizeof(co));
	co.alloc = &al;
	co.max_per_origin = conns;
	co.max_connections = conns;
	/* Requests held back wait as long as a test needs. */
	co.head_timeout_ms = -1;
	co.idle_timeout_ms = -1;
	c = h1c_client_new(&co);
	assert_non_null(c);
	return c;
}

/* n GETs of path at once, each checked (j[0..n) are reset first). */
static void gets_at_once(struct h1c_client *c, const struct origin *o, const char *path,
                         struct job *j, int n)
{
	int i;

	memset(j, 0, (size_t)n * sizeof(*j));
	for (i = 0; i < n; i++)
		submit(c, o, "GET", path, &j[i], NULL);
	run_all(c);
	for (i = 0; i < n; i++)
		assert_int_equal(j[i].err, 0);
}

static struct h1c_client *chain_client;
static const struct origin *chain_origin;
static int chain_left, chain_errors;
static long long chain_mark_a, chain_mark_b; /* allocations at chain_at_a and 50 left */
static int chain_at_a = 300;
static void chain_next(void);

static void chain_done(void *user, int err, unsigned flags)
{
	(void)user;
	(void)flags;
	if (err)
		chain_errors++;
	if (chain_left == chain_at_a)
		chain_mark_a = sz_allocs;
	if (chain_left == 50)
		chain_mark_b = sz_allocs;
	if (chain_left > 0) {
		chain_left--;
		chain_next();
	}
}

static void chain_next(void)
{
	static const struct h1c_callbacks ccb = {.size = sizeof(ccb), .on_done = chain_done};
	struct h1c_request rq;
	char url[128];

	snprintf(url, sizeof(url), "%s/bytes/100", chain_origin->base);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	assert_true(h1c_client_request(chain_client, &rq, &ccb, NULL) > 0);
}

/* An idle pooled connection keeps at most 4 KiB of the client's heap (its
 * buffers go back to the client while it is idle), and a steady stream of
 * requests on warm connections allocates nothing. */
static void test_idle_memory(void **state)
{
	static struct job j[128];
	struct h1c_client *c;
	struct h1c_stats st;
	struct origin o;
	long long one_idle = 0, all_idle = 0, before;
	int i, round;

	(void)state;
	origin_start(&o, NULL);
	c = sized_client(128); /* (the busy rounds below use 16, then 128) */
	/* 32 at once, each held back: 32 connections, then all idle; then
	 * 64. The difference is what 32 more idle connections keep (the
	 * few spare buffer sets the client holds are there in both). */
	for (round = 0; round < 2; round++) {
		gets_at_once(c, &o, "/delay?ms=200", j, round ? 64 : 32);
		/* 16 more at once on as many of them: 16 sets taken together,
		 * so that the client keeps its few spare sets in both rounds
		 * (32 new connections read their responses as they come, a few
		 * sets serving them all). */
		gets_at_once(c, &o, "/bytes/100", j, 16);
		if (round)
			all_idle = sz_live_bytes;
		else
			one_idle = sz_live_bytes;
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 64);
	print_message("heap: %lld bytes with 32 idle connections, %lld with 64: %lld per idle "
	              "connection\n", one_idle, all_idle, (all_idle - one_idle) / 32);
	assert_true((all_idle - one_idle) / 32 <= 4096);
	/* Warm: a stream of sequential requests allocates nothing. */
	for (round = 0; round < 2; round++) {
		before = sz_allocs;
		for (i = 0; i < 50; i++) {
			memset(&j[0], 0, sizeof(j[0]));
			submit(c, &o, "GET", "/bytes/100", &j[0], NULL);
			run_all(c);
			assert_int_equal(j[0].err, 0);
		}
		print_message("round %d: %lld allocations for 50 requests\n", round,
		              sz_allocs - before);
		if (round == 1)
			assert_int_equal(sz_allocs - before, 0);
	}
	/* Busy: 16 connections, each response's on_done queuing the next
	 * request, as a loaded client does; then 128 (more than one batch of
	 * the built-in loop's reads; the poll(2) loop reads them all at once).
	 * A burst takes connections from idle beyond the few spare buffer sets, once;
	 * in between, the requests from 100 after the start (400 with 128) to
	 * 50 before the end allocate nothing. The 128 are opened and read
	 * from first: a connection opened in the round would pay for its
	 * first exchange whenever the server got to it, on a slow machine
	 * inside the steady window (the round's allocations the same, 557,
	 * some later). No connection is opened in the rounds. */
	for (round = 0; round < 3; round++) {
		int k = round < 2 ? 16 : 128, total = round < 2 ? 400 : 3000;
		unsigned long opened;
		if (round == 2) {
			gets_at_once(c, &o, "/delay?ms=200", j, 128);
			h1c_client_stats(c, &st, sizeof(st));
			assert_int_equal(st.connections_opened, 128);
		}
		h1c_client_stats(c, &st, sizeof(st));
		opened = st.connections_opened;
		before = sz_allocs;
		chain_mark_a = chain_mark_b = -1;
		chain_client = c;
		chain_origin = &o;
		chain_left = total;
		chain_at_a = round < 2 ? 300 : total - 400; /* past 3 rounds of the burst */
		chain_errors = 0;
		for (i = 0; i < k; i++)
			chain_next();
		run_all(c);
		assert_int_equal(chain_errors, 0);
		print_message("busy round %d: %lld allocations for %d requests on %d "
		              "connections, %lld in the %d of the steady state\n", round,
		              sz_allocs - before, total + k, k, chain_mark_b - chain_mark_a,
		              chain_at_a - 50);
		assert_true(chain_mark_a >= 0 && chain_mark_b >= 0);
		assert_int_equal(chain_mark_b - chain_mark_a, 0);
		h1c_client_stats(c, &st, sizeof(st));
		assert_int_equal(st.connections_opened, opened);
	}
	h1c_client_free(c);
	assert_int_equal(sz_live_bytes, 0);
	origin_stop(&o);
}

/* A connection waiting for its response keeps no buffer, and once a burst
 * is past the client keeps no set for it either. 128 warm connections go
 * idle (the client keeps a few sets, SPARE_BUFS); then each is given a
 * request the server holds back, and a stream of 2,200 sequential
 * requests runs beside them on a 129th connection (a set taken for each
 * response: two periods of the stack's peak). Each waiting request costs
 * the client at most 4 KiB more than its connection did idle: its record
 * and its share of the sets kept for one batch of reads, not the 23 KiB of
 * buffers the stack kept for every busy connection before. Then they are
 * cancelled, and nothing is left. */
static void test_waiting_memory(void **state)
{
	static struct job j[128];
	struct h1c_client *c;
	struct h1c_stats st;
	struct origin o;
	long long id[128], idle, waiting;
	int i;

	(void)state;
	origin_start(&o, NULL);
	c = sized_client(129);
	/* 128 at once, each held back: 128 connections, each with a whole
	 * set of buffers once read, then idle. */
	gets_at_once(c, &o, "/delay?ms=200", j, 128);
	idle = sz_live_bytes;
	memset(j, 0, sizeof(j));
	for (i = 0; i < 128; i++)
		id[i] = submit(c, &o, "GET", "/delay?ms=600000", &j[i], NULL);
	/* Until the server has them all: every connection is waiting. */
	while (log_count(&o, "/delay?ms=600000", NULL) < 128)
		assert_true(h1c_client_run(c, 20) > 0);
	chain_mark_a = chain_mark_b = -1;
	chain_client = c;
	chain_origin = &o;
	chain_left = 2200;
	chain_errors = 0;
	chain_next();
	while (h1c_client_run(c, 5) > 128)
		;
	assert_int_equal(chain_left, 0);
	assert_int_equal(chain_errors, 0);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 129);
	waiting = sz_live_bytes;
	print_message("heap: %lld bytes with 128 idle connections, %lld with each waiting for a "
	              "response (and one more idle): %lld more per waiting request\n",
	              idle, waiting, (waiting - idle) / 128);
#ifdef H1C_USE_POLL
	/* The poll(2) loop reads every ready socket at once: the client keeps
	 * a set for every busy connection (23 KiB), at most 28 KiB more each. */
	assert_true((waiting - idle) / 128 <= 28672);
#else
	assert_true((waiting - idle) / 128 <= 4096);
#endif
	for (i = 0; i < 128; i++) {
		assert_int_equal(j[i].ended, 0);
		assert_int_equal(h1c_client_cancel(c, id[i]), 0);
	}
	run_all(c);
	for (i = 0; i < 128; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, H1C_ECANCELED);
	}
	h1c_client_free(c);
	assert_int_equal(sz_live_bytes, 0);
	origin_stop(&o);
}

/* A server that closes after each response: every request dials a new
 * connection, and once warm that allocates nothing either (the closed
 * connection's record, buffer set and pool serve the next). */
static void test_closing_server(void **state)
{
	struct h1c_client *c;
	struct h1c_stats st;
	struct origin o;

	(void)state;
	origin_start(&o, "--max-requests", "1", NULL);
	c = sized_client(1);
	chain_mark_a = chain_mark_b = -1;
	chain_client = c;
	chain_origin = &o;
	chain_left = 300;
	chain_at_a = 250;
	chain_errors = 0;
	chain_next();
	run_all(c);
	assert_int_equal(chain_errors, 0);
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 301);
	assert_int_equal(st.responses, 301);
	print_message("%lld allocations for the 200 requests from 250 to 50 left, on as many "
	              "connections\n", chain_mark_b - chain_mark_a);
	assert_true(chain_mark_a >= 0 && chain_mark_b >= 0);
	assert_int_equal(chain_mark_b - chain_mark_a, 0);
	h1c_client_free(c);
	assert_int_equal(sz_live_bytes, 0);
	origin_stop(&o);
}

/* A client that visits many origins keeps the pools of the last 16 it
 * left (SPARE_POOLS), not one for each: one request to each of 60 origins
 * (each refused), and the heap after each. The 16th origin's pool is
 * kept (the heap grows by a pool), the 17th costs less than a pool (the
 * oldest goes; the pool table doubles once), and from there on the heap
 * stays the same. */
static void test_many_origins(void **state)
{
	static struct job j[60];
	struct h1c_client *c = sized_client(4);
	long long after[60];
	unsigned short port[60];
	int i, fd[60];

	(void)state;
	/* Bound, not listening: each connection refused while the test runs. */
	for (i = 0; i < 60; i++)
		fd[i] = loopback_socket(&port[i]);
	memset(j, 0, sizeof(j));
	for (i = 0; i < 60; i++) {
		struct h1c_request rq;
		char url[64];

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port[i]);
		memset(&rq, 0, sizeof(rq));
		rq.url = url;
		assert_true(h1c_client_request(c, &rq, &cbs, &j[i]) > 0);
		run_all(c);
		assert_int_equal(j[i].ended, 1);
		assert_int_not_equal(j[i].err, 0);
		after[i] = sz_live_bytes;
	}
	print_message("heap: %lld bytes after 15 origins, %lld after 16, %lld after 17, %lld after "
	              "60\n", after[14], after[15], after[16], after[59]);
	assert_true(after[15] > after[14]);
	assert_true(after[16] - after[15] < after[15] - after[14]);
	for (i = 17; i < 60; i++)
		assert_int_equal(after[i], after[16]);
	h1c_client_free(c);
	assert_int_equal(sz_live_bytes, 0);
	for (i = 0; i < 60; i++)
		close(fd[i]);
}

/* What one response showed: which connection of the origin sent it and
 * its place there, read from the head's views in on_head. */
struct seen {
	struct job j;
	long conn, nth;
};

static long field_num(const struct h1c_response *r, const char *name)
{
	const struct h1c_header *h = h1c_header_find(r->headers, r->num_headers, name);
	char v[24];

	if (!h || h->value_len == 0 || h->value_len >= sizeof(v))
		return -1;
	memcpy(v, h->value, h->value_len);
	v[h->value_len] = '\0';
	return strtol(v, NULL, 10);
}

static int seen_head(void *user, const struct h1c_response *r)
{
	struct seen *s = user;

	s->conn = field_num(r, "X-Conn");
	s->nth = field_num(r, "X-Conn-Req");
	return j_head(&s->j, r);
}

static int seen_data(void *user, const char *p, size_t n)
{
	return j_data(&((struct seen *)user)->j, p, n);
}

static void seen_done(void *user, int err, unsigned flags)
{
	j_done(&((struct seen *)user)->j, err, flags);
}

/* A connection waiting for its response gives its buffers back, and the
 * one that reads next takes the set given back last: sets move from
 * connection to connection all the time. Heads and bodies trickled a byte
 * at a time (a connection holding part of a response keeps its set),
 * whole responses of many sizes and pipelined ones, on 16 connections at
 * once: every response is read whole and right, through its own views
 * (no two say the same connection and place), and nothing is lost. */
static void test_sets_move(void **state)
{
	static const struct h1c_callbacks seen_cbs = {
		.size = sizeof(seen_cbs),
		.on_head = seen_head,
		.on_data = seen_data,
		.on_done = seen_done,
	};
	enum { N = 96 };
	static struct seen s[N];
	size_t want[N];
	struct origin o;
	struct h1c_stats st;
	struct h1c_client *c = client(2, 16, 0);
	int i, k;

	(void)state;
	memset(s, 0, sizeof(s));
	origin_start(&o, NULL);
	for (i = 0; i < N; i++) {
		struct h1c_request rq;
		char url[256];

		if (i % 4 == 0) {
			want[i] = 10 + (size_t)i;
			snprintf(url, sizeof(url), "%s/trickle?ms=1&n=%zu", o.base, want[i]);
		} else if (i % 4 == 1) {
			want[i] = 40 + (size_t)i;
			snprintf(url, sizeof(url), "%s/trickle?ms=1&n=%zu&from=body", o.base, want[i]);
		} else {
			want[i] = (size_t)(i * 37) % 4000 + 1;
			snprintf(url, sizeof(url), "%s/bytes/%zu", o.base, want[i]);
		}
		memset(&rq, 0, sizeof(rq));
		rq.url = url;
		assert_true(h1c_client_request(c, &rq, &seen_cbs, &s[i]) > 0);
	}
	run_all(c);
	for (i = 0; i < N; i++) {
		size_t b;
		assert_int_equal(s[i].j.ended, 1);
		assert_int_equal(s[i].j.err, 0);
		assert_int_equal(s[i].j.status, 200);
		assert_int_equal(s[i].j.len, want[i]);
		for (b = 0; b < want[i]; b++)
			assert_int_equal(s[i].j.body[b],
			                 i % 4 < 2 ? '0' + (int)(b % 10) : 'a' + (int)(b % 26));
		assert_true(s[i].conn > 0);
		assert_true(s[i].nth > 0);
		for (k = 0; k < i; k++)
			assert_false(s[k].conn == s[i].conn && s[k].nth == s[i].nth);
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.connections_opened > 1 && st.connections_opened <= 16);
	assert_int_equal(st.errors, 0);
	h1c_client_free(c);
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_idle_memory, stop_all),
		cmocka_unit_test_teardown(test_waiting_memory, stop_all),
		cmocka_unit_test_teardown(test_sets_move, stop_all),
		cmocka_unit_test_teardown(test_closing_server, stop_all),
		cmocka_unit_test_teardown(test_many_origins, stop_all),
	};

	/* One test, or those matching a pattern: test_bufs 'test_*memory'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
