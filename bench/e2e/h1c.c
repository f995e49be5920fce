/*
 * h1c.c - the end-to-end benchmark's h1c client: N GETs of one URL through
 * the asynchronous API, DEPTH requests pipelined per connection, CONNS
 * connections, h1c_client_run() on poll(2). Every response is checked
 * (status 200, the length of the first). Allocations are counted through
 * the allocator hooks; the count per request is taken after a warm-up.
 *
 *   e2e-h1c URL N DEPTH CONNS
 */
#include <h1c.h>

#include <stdlib.h>
#include <string.h>

#include "common.h"

struct run {
	struct h1c_client *c;
	const char *url;
	long n, submitted, done, bad;
	long warm;
	unsigned long allocs_at_warm;
	long long expect_len;
};

struct one {
	struct run *r;
	long long len;
	int status;
};

static struct one *slots;

static int on_head(void *u, const struct h1c_response *resp)
{
	((struct one *)u)->status = resp->status;
	return 0;
}

static int on_data(void *u, const char *p, size_t n)
{
	(void)p;
	((struct one *)u)->len += (long long)n;
	return 0;
}

static void submit(struct run *r, struct one *o);

static void on_done(void *u, int err, unsigned flags)
{
	struct one *o = u;
	struct run *r = o->r;

	(void)flags;
	if (err || o->status != 200 || (r->expect_len >= 0 && o->len != r->expect_len))
		r->bad++;
	if (r->expect_len < 0)
		r->expect_len = o->len;
	r->done++;
	if (r->done == r->warm)
		r->allocs_at_warm = bench_allocs;
	if (r->submitted < r->n)
		submit(r, o);
}

static const struct h1c_callbacks cbs = {
	.size = sizeof(cbs),
	.on_head = on_head,
	.on_data = on_data,
	.on_done = on_done,
};

static void submit(struct run *r, struct one *o)
{
	struct h1c_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.url = r->url;
	o->r = r;
	o->len = 0;
	o->status = 0;
	if (h1c_client_request(r->c, &rq, &cbs, o) < 0) {
		r->bad++;
		r->done++;
	}
	r->submitted++;
}

/* Live heap (through the hooks) of a client that made k requests at once
 * over per_origin connections, all idle now. */
static unsigned long idle_heap(const char *url, long k, unsigned per_origin,
                               const struct h1c_allocator *al)
{
	struct h1c_client_options co;
	struct run r;
	unsigned long before = bench_live, after;
	struct one *o = calloc((size_t)k, sizeof(*o));
	long i;

	memset(&co, 0, sizeof(co));
	co.max_per_origin = co.max_connections = per_origin;
	co.alloc = al;
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.n = k;
	r.expect_len = -1;
	r.c = h1c_client_new(&co);
	for (i = 0; i < k; i++)
		submit(&r, &o[i]);
	while (h1c_client_run(r.c, -1) > 0)
		;
	after = bench_live;
	h1c_client_free(r.c);
	free(o);
	return after - before;
}

int main(int argc, char **argv)
{
	struct h1c_allocator al = {
		.size = sizeof(al),
		.malloc = bench_malloc,
		.realloc = bench_realloc,
		.free = bench_free,
	};
	struct h1c_client_options co;
	struct h1c_stats st;
	struct run r;
	double t0, c0, t1, c1;
	long window, i;
	char extra[512];
	double steady;
	unsigned long idle = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: e2e-h1c URL N DEPTH CONNS\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.url = argv[1];
	r.n = atol(argv[2]);
	memset(&co, 0, sizeof(co));
	co.pipeline_depth = (unsigned)atoi(argv[3]);
	co.max_per_origin = co.max_connections = (unsigned)atoi(argv[4]);
	co.alloc = &al;
	r.c = h1c_client_new(&co);
	if (!r.c || r.n < 10)
		return 2;
	r.expect_len = -1;
	r.warm = r.n / 10;
	/* Enough requests queued to keep every connection's pipeline full. */
	window = (long)co.pipeline_depth * (long)co.max_per_origin * 2;
	if (window > r.n)
		window = r.n;
	slots = calloc((size_t)window, sizeof(*slots));
	t0 = bench_now();
	c0 = bench_cpu();
	for (i = 0; i < window; i++)
		submit(&r, &slots[i]);
	while (h1c_client_run(r.c, -1) > 0)
		;
	t1 = bench_now();
	c1 = bench_cpu();
	h1c_client_stats(r.c, &st, sizeof(st));
	steady = (double)(bench_allocs - r.allocs_at_warm) / (double)(r.n - r.warm);
	/* Heap per idle connection: k idle connections against one, same
	 * requests, so everything else cancels out. */
	if (co.max_per_origin > 1)
		idle = (idle_heap(r.url, co.max_per_origin, co.max_per_origin, &al) -
		        idle_heap(r.url, co.max_per_origin, 1, &al)) /
		       (co.max_per_origin - 1);
	snprintf(extra, sizeof(extra),
	         "\"errors\":%ld,\"allocs_per_req\":%.4f,\"connections\":%lu,\"pipelined\":%lu,"
	         "\"max_in_flight\":%lu,\"heap_bytes_per_idle_conn\":%lu",
	         r.bad, steady, st.connections_opened, st.pipelined, st.max_in_flight, idle);
	e2e_report("h1c", (int)co.pipeline_depth, (int)co.max_per_origin, r.n, t1 - t0, c1 - c0,
	           extra);
	h1c_client_free(r.c);
	free(slots);
	return r.bad ? 1 : 0;
}
