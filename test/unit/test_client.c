/*
 * test_client.c - the connection manager's public face (lib/client.c)
 * against the project's origin server (test/servers/origin.c):
 * cancelling, the calls' own errors and the requests they refuse (no
 * callback ever comes for those), a connect that times out, the allocator
 * hooks, h1c_client_free() from callbacks, and options that grow (an
 * older struct's size, 0 and -1, the constructor's error codes). The rooms
 * below have their own files (test_fetch.c, test_loop.c, test_dispatch.c,
 * test_exchange.c, test_cx.c, test_dial.c, test_bufs.c); what they share
 * is client_fixture.h. Every
 * test asserts that each request ended exactly once.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* Cancelling: a waiting request, and one in flight behind another. */
static void test_cancel(void **state)
{
	struct origin o;
	struct job j[3];
	struct h1c_client *c = client(8, 1, 0);
	long long id1, id2;

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	submit(c, &o, "GET", "/delay?ms=50", &j[0], NULL);
	id1 = submit(c, &o, "GET", "/bytes/5", &j[1], NULL);
	id2 = submit(c, &o, "GET", "/bytes/6", &j[2], NULL);
	assert_int_equal(h1c_client_cancel(c, id1), 0);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ECANCELED);
	assert_int_equal(h1c_client_cancel(c, id1), H1C_EINVAL);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, 0);
	assert_int_equal(j[2].ended, 1);
	assert_int_equal(j[2].err, 0);
	assert_int_equal(h1c_client_cancel(c, id2), H1C_EINVAL);
	/* Written and behind the head of a pipeline: it ends at once, its
	 * response is read and dropped, and the connection carries on. */
	{
		struct h1c_stats st;
		int rounds = 0;
		memset(j, 0, sizeof(j));
		submit(c, &o, "GET", "/delay?ms=100", &j[0], NULL);
		id1 = submit(c, &o, "GET", "/bytes/5", &j[1], NULL);
		submit(c, &o, "GET", "/bytes/6", &j[2], NULL);
		do {
			h1c_client_run(c, 5);
			h1c_client_stats(c, &st, sizeof(st));
		} while (st.max_in_flight < 3 && !j[0].ended && rounds++ < 200);
		assert_int_equal(j[0].ended, 0);
		assert_int_equal(j[1].ended, 0);
		assert_int_equal(h1c_client_cancel(c, id1), 0);
		assert_int_equal(j[1].ended, 1);
		assert_int_equal(j[1].err, H1C_ECANCELED);
		run_all(c);
		assert_int_equal(j[0].err, 0);
		assert_int_equal(j[1].ended, 1); /* once */
		assert_int_equal(j[1].len, 0);
		assert_int_equal(j[2].err, 0);
		assert_true(bytes_ok(&j[2], 6));
		h1c_client_stats(c, &st, sizeof(st));
		assert_int_equal(st.connections_opened, 1);
	}
	h1c_client_free(c);
	origin_stop(&o);
}

/* ---- errors of the calls themselves ------------------------------------------------ */

static struct h1c_client *cancel_client;
static long long cancel_target;

static int cancel_other(void *user, const struct h1c_response *r)
{
	j_head(user, r);
	/* From inside a callback: no nested run; a cancel is deferred to a
	 * safe point. */
	assert_int_equal(h1c_client_run(cancel_client, 0), H1C_EINVAL);
	assert_int_equal(h1c_client_cancel(cancel_client, cancel_target), 0);
	assert_int_equal(h1c_client_cancel(cancel_client, cancel_target), H1C_EINVAL);
	return 0;
}

static long bad_read(void *user, void *buf, size_t len)
{
	const struct job *j = user;

	if (!j->status || len < 10)
		return -1;
	memset(buf, 'x', 10);
	return 10;
}

/* Bad arguments, a full queue, a cancel from a callback, and a connect that
 * times out (a listener whose accept queue is full drops the SYN). */
static void test_call_errors(void **state)
{
	static const struct h1c_callbacks ccb = {
		.size = sizeof(ccb),
		.on_head = cancel_other,
		.on_data = j_data,
		.on_done = j_done,
	};
	struct origin o;
	struct job j[4];
	struct h1c_request rq;
	struct h1c_result res;
	struct h1c_client_options co;
	struct h1c_client *c;
	unsigned short port;
	int l, f;
	char url[128];

	(void)state;
	memset(j, 0, sizeof(j));
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(h1c_client_request(NULL, &rq, &cbs, &j[0]), H1C_EINVAL);
	assert_int_equal(h1c_client_run(NULL, 0), H1C_EINVAL);
	assert_int_equal(h1c_client_on_ready(NULL, 0, H1C_READ), H1C_EINVAL);
	assert_int_equal(h1c_client_on_timeout(NULL), H1C_EINVAL);
	assert_int_equal(h1c_client_cancel(NULL, 1), H1C_EINVAL);
	assert_int_equal(h1c_client_fetch(NULL, &rq, &res), H1C_EINVAL);
	assert_int_equal(h1c_client_timeout(NULL), -1);
	assert_int_equal(h1c_client_watches(NULL, NULL, 0), 0);
	h1c_client_set_loop(NULL, NULL);
	h1c_client_free(NULL);
	h1c_result_free(NULL);
	assert_string_equal(h1c_errname(-999), "H1C_EUNKNOWN");
	/* A proxy option that does not parse: no client. */
	memset(&co, 0, sizeof(co));
	co.proxy = "127.0.0.1:99999";
	assert_null(h1c_client_new(&co));

	origin_start(&o, NULL);
	memset(&co, 0, sizeof(co));
	co.max_per_origin = 1;
	co.max_queued = 2;
	c = h1c_client_new(&co);
	assert_non_null(c);
	assert_int_equal(h1c_client_request(c, NULL, &cbs, &j[0]), H1C_EINVAL);
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j[0]), H1C_EINVAL); /* no URL */
	assert_int_equal(h1c_client_cancel(c, 12345), H1C_EINVAL);
	/* Readiness of a descriptor the client does not know: ignored. */
	assert_int_equal(h1c_client_on_ready(c, 1000, H1C_READ | H1C_WRITE), 0);
	assert_int_equal(h1c_client_on_ready(c, -1, H1C_READ), 0);
	/* The first request's head cancels the second, still waiting. */
	cancel_client = c;
	snprintf(url, sizeof(url), "%s/bytes/4", o.base);
	rq.url = url;
	assert_true(h1c_client_request(c, &rq, &ccb, &j[0]) > 0);
	cancel_target = submit(c, &o, "GET", "/bytes/5", &j[1], NULL);
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j[2]), H1C_EQUEUEFULL);
	run_all(c);
	assert_int_equal(j[0].err, 0);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ECANCELED);
	assert_int_equal(j[2].ended, 0);
	h1c_client_free(c);
	/* A body callback that fails, or gives more than it announced. */
	c = client(1, 1, 0);
	snprintf(url, sizeof(url), "%s/echo", o.base);
	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.url = url;
	rq.body_read = bad_read;
	rq.body_size = 3;
	memset(j, 0, sizeof(j));
	rq.body_user = &j[0]; /* j[0].status 0: fail at once */
	assert_true(h1c_client_request(c, &rq, &cbs, &j[0]) > 0);
	j[1].status = 1; /* 10 bytes for 3 announced */
	rq.body_user = &j[1];
	assert_true(h1c_client_request(c, &rq, &cbs, &j[1]) > 0);
	run_all(c);
	assert_int_equal(j[0].err, H1C_ECALLBACK);
	assert_int_equal(j[1].err, H1C_ECALLBACK);
	h1c_client_free(c);
	origin_stop(&o);

	/* A host that never answers the connect. */
	l = silent_listener(&f, &port);
	memset(&co, 0, sizeof(co));
	co.connect_timeout_ms = 200;
	c = h1c_client_new(&co);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	rq.url = url;
	assert_true(h1c_client_request(c, &rq, &cbs, &j[3]) > 0);
	run_all(c);
	assert_int_equal(j[3].ended, 1);
	assert_int_equal(j[3].err, H1C_ETIMEDOUT);
	h1c_client_free(c);
	close(f);
	close(l);
}

/* Errors returned by the call mean no callback, ever. */
static void test_refused_requests(void **state)
{
	struct h1c_request rq;
	struct job j;
	struct h1c_client *c = client(1, 1, 0);
	struct h1c_header h = {"X-Bad", 5, "a\r\nb", 4};

	(void)state;
	memset(&j, 0, sizeof(j));
	memset(&rq, 0, sizeof(rq));
	rq.url = "ftp://127.0.0.1/";
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j), H1C_EURL);
	rq.url = "https://127.0.0.1/"; /* no TLS vtable given */
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j), H1C_EURL);
	rq.url = "http://127.0.0.1:1/";
	rq.headers = &h;
	rq.num_headers = 1;
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j), H1C_EBADREQUEST);
	rq.method = "G T";
	rq.num_headers = 0;
	assert_int_equal(h1c_client_request(c, &rq, &cbs, &j), H1C_EBADREQUEST);
	assert_int_equal(h1c_client_run(c, 0), 0);
	h1c_client_free(c);
	assert_int_equal(j.ended, 0);
}

/* ---- the allocator hooks ----------------------------------------------------------- */

static long live_allocs, total_allocs;

static void *t_malloc(void *u, size_t n)
{
	(void)u;
	live_allocs++;
	total_allocs++;
	return malloc(n);
}

static void *t_realloc(void *u, void *p, size_t n)
{
	(void)u;
	if (!p) {
		live_allocs++;
		total_allocs++;
	}
	return realloc(p, n);
}

static void t_free(void *u, void *p)
{
	(void)u;
	if (p)
		live_allocs--;
	free(p);
}

/* Every allocation of a client goes through its hooks and comes back. */
static void test_allocator_hooks(void **state)
{
	struct h1c_allocator al = {
		.size = sizeof(al),
		.malloc = t_malloc,
		.realloc = t_realloc,
		.free = t_free,
	};
	struct h1c_client_options co;
	struct h1c_client *c;
	struct origin o;
	struct job j[10];
	struct h1c_request rq;
	struct h1c_result res;
	char url[128];

	(void)state;
	memset(j, 0, sizeof(j));
	memset(&co, 0, sizeof(co));
	co.alloc = &al;
	co.pipeline_depth = 4;
	live_allocs = total_allocs = 0;
	origin_start(&o, NULL);
	c = h1c_client_new(&co);
	assert_non_null(c);
	pipelined_gets(c, &o, j, 10);
	snprintf(url, sizeof(url), "%s/chunked/20", o.base);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	assert_int_equal(h1c_client_fetch(c, &rq, &res), 0);
	assert_int_equal(res.body_len, 20);
	assert_int_equal(res.num_trailers, 1);
	h1c_result_free(&res);
	h1c_client_free(c);
	assert_true(total_allocs > 0);
	assert_int_equal(live_allocs, 0);
	origin_stop(&o);
}

/* ---- freeing in any order, and from callbacks ------------------------------------ */

static struct h1c_client *freeing_client;
static int free_calls;

static void free_on_done(void *user, int err, unsigned flags)
{
	j_done(user, err, flags);
	if (!free_calls++) {
		h1c_client_free(freeing_client);
		/* Not freed yet (the callers up the stack still use it), and
		 * it takes no new request. */
		{
			struct h1c_request rq;
			memset(&rq, 0, sizeof(rq));
			rq.url = "http://127.0.0.1:1/";
			assert_int_equal(h1c_client_request(freeing_client, &rq, &cbs, NULL),
			                 H1C_EINVAL);
		}
		h1c_client_free(freeing_client); /* twice is harmless */
	}
}

static int free_on_data(void *user, const char *p, size_t n)
{
	(void)user;
	(void)p;
	(void)n;
	if (!free_calls++)
		h1c_client_free(freeing_client);
	return 0;
}

/* h1c_client_free() from a callback frees the client once the call into it
 * returns: the other requests end with H1C_ECANCELED, exactly once; from
 * deep inside a read (on_data) too, and from h1c_client_fetch(). */
static void test_free_from_callback(void **state)
{
	static const struct h1c_callbacks fcb = {
		.size = sizeof(fcb),
		.on_head = j_head,
		.on_data = j_data,
		.on_done = free_on_done,
	};
	static const struct h1c_callbacks dcb = {
		.size = sizeof(dcb),
		.on_head = j_head,
		.on_data = free_on_data,
		.on_done = j_done,
	};
	struct origin o;
	struct job j[6];
	struct h1c_request rq;
	struct h1c_result res;
	char url[256];
	int i;

	(void)state;
	origin_start(&o, NULL);
	for (int round = 0; round < 2; round++) {
		memset(j, 0, sizeof(j));
		free_calls = 0;
		freeing_client = client(4, 2, 0);
		for (i = 0; i < 6; i++) {
			memset(&rq, 0, sizeof(rq));
			snprintf(url, sizeof(url), "%s/%s", o.base, i == 0 ? "bytes/5" : "delay?ms=200");
			rq.url = url;
			assert_true(h1c_client_request(freeing_client, &rq, round ? &dcb : &fcb,
			                               &j[i]) > 0);
		}
		/* The client is gone when run returns. */
		assert_int_equal(h1c_client_run(freeing_client, 60000), 0);
		for (i = 0; i < 6; i++)
			assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[0].err, 0); /* whole before the client went */
		for (i = 1; i < 6; i++)
			assert_int_equal(j[i].err, H1C_ECANCELED);
	}
	/* From the blocking call's own on_data, at the first of 3 MB (more
	 * than one call into the client reads). */
	free_calls = 0;
	freeing_client = client(1, 1, 0);
	memset(&rq, 0, sizeof(rq));
	snprintf(url, sizeof(url), "%s/bytes/3000000", o.base);
	rq.url = url;
	rq.on_data = free_on_data;
	assert_int_equal(h1c_client_fetch(freeing_client, &rq, &res), H1C_ECANCELED);
	assert_null(res.body);
	assert_int_equal(res.status, 0);
	origin_stop(&o);
}

/* ---- requests that cannot exist ---------------------------------------------------- */

static int rewind_ok(void *user)
{
	(void)user;
	return 0;
}

/* Requests that cannot exist are refused with H1C_EINVAL, never a crash,
 * and no callback comes for them. */
static void test_impossible_requests(void **state)
{
	struct h1c_client *c = client(1, 1, 0);
	struct h1c_request rq;
	struct h1c_header h[2] = {{"X-A", 3, "1", 1}, {NULL, 3, "2", 1}};
	struct job j;
	struct h1c_result res;
	int k;

	(void)state;
	memset(&j, 0, sizeof(j));
	for (k = 0; k < 10; k++) {
		memset(&rq, 0, sizeof(rq));
		rq.url = "http://127.0.0.1:9/";
		rq.method = "POST";
		switch (k) {
		case 0: rq.body_len = 5; break;                           /* NULL body */
		case 1: rq.body = "x"; rq.body_len = 1; rq.body_read = overread; break;
		case 2: rq.body_read = overread; rq.body_size = -2; break;
		case 3: rq.num_headers = 2; break;                        /* NULL array */
		case 4: rq.headers = h; rq.num_headers = 2; break;        /* NULL name */
		case 5: rq.body = "x"; rq.body_len = 1; rq.body_size = 7; break; /* sizes differ */
		case 6: rq.max_body = -2; break;
		case 7: rq.body_read = overread; rq.body_len = 3; break;
		case 8: rq.body = "x"; rq.body_len = 1; rq.body_rewind = rewind_ok; break;
		default: h[1].name = "X-B"; h[1].value = NULL; rq.headers = h;
			rq.num_headers = 2; break;                        /* NULL value */
		}
		assert_int_equal(h1c_client_request(c, &rq, &cbs, &j), H1C_EINVAL);
		assert_int_equal(h1c_client_fetch(c, &rq, &res), H1C_EINVAL);
	}
	assert_int_equal(h1c_client_run(c, 0), 0);
	assert_int_equal(j.ended, 0);
	h1c_client_free(c);
}

/* ---- options that grow: size, the 0/-1 rule, the constructor's error ------------ */

/* A program built against an older header passes a smaller struct, whose
 * size says so: the library reads no more of it (the fields past it
 * would be on the guard page) and takes their defaults. The same for a
 * request. */
static void test_options_older_size(void **state)
{
	struct origin o;
	struct h1c_client_options co, *old;
	struct h1c_request rq, *oldrq;
	struct h1c_result res;
	struct h1c_client *c;
	char url[128];
	void *map, *map2;
	size_t maplen, maplen2;
	size_t cut = offsetof(struct h1c_client_options, max_body);

	(void)state;
	origin_start(&o, NULL);
	snprintf(url, sizeof(url), "%s/bytes/100", o.base);
	memset(&co, 0, sizeof(co));
	co.max_body = 10; /* past what an older program's size covers */
	co.size = cut;
	old = guard_copy(&co, cut, &map, &maplen);
	c = h1c_client_new(old);
	assert_non_null(c);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.size = offsetof(struct h1c_request, max_body);
	rq.max_body = 10; /* likewise */
	oldrq = guard_copy(&rq, rq.size, &map2, &maplen2);
	assert_int_equal(h1c_client_fetch(c, oldrq, &res), 0);
	assert_int_equal(res.body_len, 100);
	h1c_result_free(&res);
	munmap(map2, maplen2);
	h1c_client_free(c);
	munmap(map, maplen);
	/* The whole struct, by the init macro: the field counts. */
	{
		struct h1c_client_options now = H1C_OPTIONS_INIT(h1c_client_options);
		struct h1c_request r2 = H1C_OPTIONS_INIT(h1c_request);
		assert_int_equal(now.size, sizeof(now));
		now.max_body = 10;
		c = h1c_client_new(&now);
		assert_non_null(c);
		r2.url = url;
		assert_int_equal(h1c_client_fetch(c, &r2, &res), H1C_EBODYSIZE);
		h1c_client_free(c);
	}
	/* Zero-initialised: all defaults (size 0 is the 0.2 layout). */
	memset(&co, 0, sizeof(co));
	co.max_body = 10;
	c = h1c_client_new(&co);
	assert_non_null(c);
	assert_int_equal(h1c_client_fetch(c, &rq, &res), H1C_EBODYSIZE);
	h1c_client_free(c);
	/* Parser limits through a pointer, copied. */
	{
		struct h1c_options po = H1C_OPTIONS_INIT(h1c_options);
		po.max_head_size = 40;
		memset(&co, 0, sizeof(co));
		co.parse = &po;
		c = h1c_client_new(&co);
		assert_non_null(c);
		po.max_head_size = 1 << 20; /* the client kept its copy */
		rq.max_body = 0;
		assert_int_equal(h1c_client_fetch(c, &rq, &res), H1C_EHEADERSIZE);
		h1c_client_free(c);
	}
	origin_stop(&o);
}

/* 0 is each option's default and -1 turns it off: with every timeout off
 * a request waiting for its head, and an idle connection, have no
 * deadline at all; by default they do. Values below -1 are refused, and
 * the constructor says why it failed. */
static void test_options_off(void **state)
{
	struct origin o;
	struct h1c_client_options co;
	struct h1c_client *c;
	struct job j[2];
	long long id;
	int err = 1, k;

	(void)state;
	origin_start(&o, NULL);
	for (k = 0; k < 2; k++) {
		int ms;
		memset(&co, 0, sizeof(co));
		if (k) {
			co.connect_timeout_ms = co.head_timeout_ms = co.idle_timeout_ms = -1;
			co.keepalive_ms = -1;
			co.min_rate = -1;
		}
		c = h1c_client_create(&co, &err);
		assert_non_null(c);
		assert_int_equal(err, 0);
		memset(j, 0, sizeof(j));
		id = submit(c, &o, "GET", "/delay?ms=3000", &j[0], NULL);
		/* Until the request is written and waits for its head. */
		for (ms = 0; ms < 10000 && log_count(&o, "/delay", NULL) == k; ms++)
			(void)h1c_client_run(c, 1);
		assert_int_equal(log_count(&o, "/delay", NULL), 1 + k);
		ms = h1c_client_timeout(c);
		print_message("%s: waiting for the head, next deadline in %d ms\n",
		              k ? "all off" : "defaults", ms);
		if (k)
			assert_int_equal(ms, -1);
		else
			assert_true(ms > 0 && ms <= H1C_DEFAULT_HEAD_TIMEOUT_MS);
		assert_int_equal(h1c_client_cancel(c, id), 0);
		assert_int_equal(j[0].err, H1C_ECANCELED);
		/* Idle. */
		submit(c, &o, "GET", "/bytes/3", &j[1], NULL);
		run_all(c);
		assert_int_equal(j[1].err, 0);
		ms = h1c_client_timeout(c);
		if (k)
			assert_int_equal(ms, -1);
		else
			assert_true(ms > 0 && ms <= H1C_DEFAULT_KEEPALIVE_MS);
		h1c_client_free(c);
	}
	/* Below -1, a bad proxy, no memory: refused, and why. */
	memset(&co, 0, sizeof(co));
	co.head_timeout_ms = -2;
	assert_null(h1c_client_create(&co, &err));
	assert_int_equal(err, H1C_EINVAL);
	memset(&co, 0, sizeof(co));
	co.proxy = "bad host:x";
	assert_null(h1c_client_create(&co, &err));
	assert_int_equal(err, H1C_EINVAL);
	memset(&co, 0, sizeof(co));
	co.max_body = -5;
	assert_null(h1c_client_create(&co, &err));
	assert_int_equal(err, H1C_EINVAL);
	failalloc_start(1);
	memset(&co, 0, sizeof(co));
	co.alloc = &failing_allocator;
	assert_null(h1c_client_create(&co, &err));
	assert_int_equal(err, H1C_ENOMEM);
	failalloc_start(0);
	{
		struct h1c_request rq = H1C_OPTIONS_INIT(h1c_request);
		c = client(1, 1, 0);
		rq.url = "http://127.0.0.1:9/";
		rq.timeout_ms = -2;
		assert_int_equal(h1c_client_request(c, &rq, &cbs, NULL), H1C_EINVAL);
		rq.timeout_ms = -1; /* none, as 0 */
		id = h1c_client_request(c, &rq, &cbs, &j[0]);
		assert_true(id > 0);
		assert_int_equal(h1c_client_cancel(c, id), 0);
		h1c_client_free(c);
	}
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cancel, stop_all),
		cmocka_unit_test_teardown(test_call_errors, stop_all),
		cmocka_unit_test_teardown(test_refused_requests, stop_all),
		cmocka_unit_test_teardown(test_allocator_hooks, stop_all),
		cmocka_unit_test_teardown(test_free_from_callback, stop_all),
		cmocka_unit_test_teardown(test_impossible_requests, stop_all),
		cmocka_unit_test_teardown(test_options_older_size, stop_all),
		cmocka_unit_test_teardown(test_options_off, stop_all),
	};

	/* One test, or those matching a pattern: test_client 'test_options*'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
