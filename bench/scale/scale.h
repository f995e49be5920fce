/*
 * scale.h - what the scaling benchmark's drivers share: clocks (wall and
 * the process's user + system CPU), raising RLIMIT_NOFILE, process-wide
 * counts of malloc/calloc/realloc calls and of live heap, and the phases
 * every cell goes through:
 *
 *   SETUP   N requests at once, so that N connections are opened; the
 *           phase ends when all N are answered and idle in the pool
 *           (the heap per connection is taken then)
 *   WARM    the steady-state workload (busy: N requests at once, each
 *           answered one replaced by the next; idle: one at a time), not
 *           measured yet
 *   WINDOW  measured: CPU, wall time, requests and allocations
 *   DRAIN   no new requests; the loop stops when none is left
 *
 * Each phase has a time limit, so that a cell that the code under test
 * makes very slow is cut (and marked so) instead of hanging the run.
 */
#ifndef H1C_BENCH_SCALE_H
#define H1C_BENCH_SCALE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "../measure.h"

/* Raises the soft (and, when allowed, the hard) descriptor limit to at
 * least want. Returns the soft limit in force afterwards. */
static long sc_raise_nofile(long want)
{
	struct rlimit rl, nl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
		nl.rlim_cur = (rlim_t)want;
		nl.rlim_max = rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want ? (rlim_t)want
		                                                                       : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nl) != 0) {
			/* Not allowed past the hard limit: as far as it goes. */
			nl.rlim_cur = rl.rlim_max;
			nl.rlim_max = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &nl);
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
}

/*
 * Process-wide allocation count: every malloc, calloc and realloc of the
 * process (the library under test, the event loop library, the adapter,
 * libcurl, libc itself) goes through these definitions, which count and
 * hand over to glibc's own. free is left alone. Elsewhere the count is
 * not available and reads as -1.
 */
#ifdef __GLIBC__
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);

static unsigned long sc_proc_allocs_n;

void *malloc(size_t n)
{
	__atomic_fetch_add(&sc_proc_allocs_n, 1, __ATOMIC_RELAXED);
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	__atomic_fetch_add(&sc_proc_allocs_n, 1, __ATOMIC_RELAXED);
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	__atomic_fetch_add(&sc_proc_allocs_n, 1, __ATOMIC_RELAXED);
	return __libc_realloc(p, n);
}

static double sc_proc_allocs(void)
{
	return (double)__atomic_load_n(&sc_proc_allocs_n, __ATOMIC_RELAXED);
}

/* Bytes of heap in use by the whole process (glibc's own accounting). */
static double sc_proc_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (double)mi.uordblks + (double)mi.hblkhd;
}
#else
static double sc_proc_allocs(void)
{
	return -1;
}

static double sc_proc_heap(void)
{
	return -1;
}
#endif

enum { SC_SETUP, SC_WARM, SC_WINDOW, SC_DRAIN };
enum { SC_BUSY, SC_IDLE };

/* The limits of one cell, from the command line. */
struct sc_limits {
	double window_s;   /* the measured window, at least ... */
	double window_cap; /* ... and at most */
	double setup_s;    /* opening the N connections */
	double warm_s;     /* the warm-up */
};

/* A snapshot of the counters, at each end of the window. */
struct sc_snap {
	double t, cpu, allocs, proc_allocs;
	long done;
};

/* Where a cell is and what it has measured. */
struct sc_cell {
	int scenario;
	long n;
	struct sc_limits lim;
	int phase;
	int stop; /* a phase was cut: leave the loop now */
	int per_pass; /* phases move between passes of the loop, not per request */
	long done, bad, inflight;
	double t_begin, t_phase;
	double setup_secs, warm_secs;
	struct sc_snap w0, w1;
	const char *cut; /* "" or the phase that was cut short */
	double proc_heap0; /* process heap before the client existed */
	double heap_conn;      /* through the library's hooks, per connection,
	                          once the setup's N are idle */
	double proc_heap_conn; /* the process's, per connection, then, and
	                          again at the end of an idle window */
	unsigned long opened;
	double (*allocs)(void); /* the library's own count (its hooks), or NULL */
};

static void sc_snap(struct sc_snap *s, const struct sc_cell *c)
{
	s->t = bench_now();
	s->cpu = bench_cpu();
	s->allocs = c->allocs ? c->allocs() : -1;
	s->proc_allocs = sc_proc_allocs();
	s->done = c->done;
}

/* Reads "busy|idle N WINDOW_S WINDOW_CAP_S SETUP_S WARM_S" from argv[first]. */
static int sc_parse(int argc, char **argv, int first, struct sc_cell *c)
{
	memset(c, 0, sizeof(*c));
	if (argc != first + 6)
		return -1;
	if (strcmp(argv[first], "busy") == 0)
		c->scenario = SC_BUSY;
	else if (strcmp(argv[first], "idle") == 0)
		c->scenario = SC_IDLE;
	else
		return -1;
	c->n = atol(argv[first + 1]);
	c->lim.window_s = atof(argv[first + 2]);
	c->lim.window_cap = atof(argv[first + 3]);
	c->lim.setup_s = atof(argv[first + 4]);
	c->lim.warm_s = atof(argv[first + 5]);
	c->cut = "";
	c->phase = SC_SETUP;
	if (c->n < 1 || c->lim.window_s <= 0 || c->lim.window_cap < c->lim.window_s ||
	    c->lim.setup_s <= 0 || c->lim.warm_s <= 0)
		return -1;
	return 0;
}

static void sc_window_begin(struct sc_cell *c, double now)
{
	c->warm_secs = now - c->t_phase;
	c->phase = SC_WINDOW;
	c->t_phase = now;
	sc_snap(&c->w0, c);
}

static void sc_window_end(struct sc_cell *c)
{
	sc_snap(&c->w1, c);
	c->phase = SC_DRAIN;
	/* The process's heap per connection again, now that the loop under
	 * test watches all N (its own records per descriptor count too). */
	if (c->scenario == SC_IDLE)
		c->proc_heap_conn = (sc_proc_heap() - c->proc_heap0) / (double)c->n;
}

/* Requests after the setup's N. */
static long sc_since_setup(const struct sc_cell *c)
{
	return c->done - c->n;
}

/* The warm-up is long enough: every connection has been reused twice
 * (busy), or the one active connection has carried a few hundred requests
 * (idle). */
static int sc_warm_enough(const struct sc_cell *c)
{
	return sc_since_setup(c) >= (c->scenario == SC_BUSY ? 2 * c->n + 200 : 300);
}

/* The window is long enough: window_s, and in the busy scenario two
 * requests per connection, so that it spans whole rounds of the loop
 * (a loop that handles its ready sockets in batches does the reading of
 * one batch apart from the writing). */
static int sc_window_enough(const struct sc_cell *c, double elapsed)
{
	return elapsed >= c->lim.window_s &&
	       (c->scenario == SC_IDLE || c->done - c->w0.done >= 2 * c->n);
}

/* Moves between phases; called after each completed request (or, for a
 * driver with its own loop, after each pass of it: see sc_after_done). */
static void sc_advance(struct sc_cell *c)
{
	double now, el;

	if (c->phase == SC_SETUP) {
		/* N at once and no more: the caller starts the warm-up once
		 * all N connections are idle. */
		if (bench_now() - c->t_begin >= c->lim.setup_s) {
			c->cut = "setup";
			c->stop = 1;
			c->phase = SC_DRAIN;
		}
	} else if (c->phase == SC_WARM) {
		now = bench_now();
		if (sc_warm_enough(c) || now - c->t_phase >= c->lim.warm_s) {
			if (!sc_warm_enough(c))
				c->cut = "warm";
			sc_window_begin(c, now);
		}
	} else if (c->phase == SC_WINDOW) {
		el = bench_now() - c->t_phase;
		if (sc_window_enough(c, el) || el >= c->lim.window_cap) {
			if (!sc_window_enough(c, el))
				c->cut = *c->cut ? "warm+window" : "window";
			sc_window_end(c);
		}
	}
}

/* After each completed request. Returns 1 when the caller should send
 * another request in place of the one that ended. A driver that sets
 * per_pass calls sc_advance() itself between passes of its loop, so that
 * the window holds whole passes (libcurl's multi_perform does the I/O of
 * every transfer, then hands over all that ended at once). */
static int sc_after_done(struct sc_cell *c)
{
	c->done++;
	c->inflight--;
	if (!c->per_pass)
		sc_advance(c);
	return c->phase == SC_WARM || c->phase == SC_WINDOW;
}

/* From a periodic tick: cuts a phase that has run past its limit without
 * a completion to notice. Returns 1 when the loop should stop now. */
static int sc_tick(struct sc_cell *c)
{
	double now = bench_now();

	if (c->phase == SC_SETUP && now - c->t_begin >= c->lim.setup_s) {
		c->cut = "setup";
		c->stop = 1;
		c->phase = SC_DRAIN;
	}
	if (c->phase == SC_WARM && now - c->t_phase >= c->lim.warm_s + 1) {
		c->cut = "warm";
		sc_window_begin(c, now);
	}
	if (c->phase == SC_WINDOW && now - c->t_phase >= c->lim.window_cap + 1) {
		c->cut = *c->cut ? "warm+window" : "window";
		sc_window_end(c);
		c->stop = 1;
	}
	return c->stop;
}

/* The N connections of the setup are open and idle in the pool: records
 * the heap (hooks_live: the library's live bytes through its hooks, or 0)
 * and starts the warm-up. */
static void sc_pool_ready(struct sc_cell *c, double hooks_live)
{
	double now = bench_now();

	c->setup_secs = now - c->t_begin;
	c->heap_conn = hooks_live / (double)c->n;
	c->proc_heap_conn = (sc_proc_heap() - c->proc_heap0) / (double)c->n;
	c->phase = SC_WARM;
	c->t_phase = now;
}

/* Prints the cell's JSON line. */
static void sc_report(const struct sc_cell *c, const char *client, const char *loop,
                      const char *extra)
{
	long reqs = c->w1.done - c->w0.done;
	double secs = c->w1.t - c->w0.t, cpu = c->w1.cpu - c->w0.cpu;
	int measured = c->w1.t > 0 && reqs > 0;

	printf("{\"client\":\"%s\",\"loop\":\"%s\",\"scenario\":\"%s\",\"n\":%ld,"
	       "\"connections\":%lu,\"cut\":\"%s\",\"setup_s\":%.3f,\"warm_s\":%.3f,"
	       "\"errors\":%ld",
	       client, loop, c->scenario == SC_BUSY ? "busy" : "idle", c->n, c->opened, c->cut,
	       c->setup_secs, c->warm_secs, c->bad);
	if (measured) {
		printf(",\"requests\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"cpu_us_per_req\":%.3f", reqs,
		       secs, (double)reqs / secs, cpu * 1e6 / (double)reqs);
		/* %g: one allocation in a million requests still shows. */
		if (c->w0.allocs >= 0)
			printf(",\"allocs_per_req\":%.6g", (c->w1.allocs - c->w0.allocs) / (double)reqs);
		if (c->w0.proc_allocs >= 0)
			printf(",\"proc_allocs_per_req\":%.6g",
			       (c->w1.proc_allocs - c->w0.proc_allocs) / (double)reqs);
	}
	if (c->heap_conn > 0)
		printf(",\"heap_per_conn\":%.0f", c->heap_conn);
	if (c->proc_heap_conn > 0)
		printf(",\"proc_heap_per_conn\":%.0f", c->proc_heap_conn);
	printf("%s%s}\n", *extra ? "," : "", extra);
	fflush(stdout);
}

#endif
