/*
 * h1c-scale.c - the scaling benchmark's h1c driver: one client, one
 * thread, N connections to one origin, through the public API only, on
 * one of three loops: the built-in one (h1c_client_run), libuv or libevent
 * (through adapters/h1c-libuv.h and adapters/h1c-libevent.h).
 *
 *   h1c-scale builtin|libuv|libevent URL busy|idle N WINDOW_S WINDOW_CAP_S SETUP_S WARM_S
 *
 * Setup (both scenarios): N requests at once on the built-in loop, so
 *   that N connections are opened, until all N are idle in the pool (the
 *   live heap through the allocator hooks is taken then); then the loop
 *   under test is attached (h1c_client_set_loop reports every socket).
 * busy: N requests at once, each answered one replaced by the next, so
 *   that all N connections carry sequential keep-alive GETs.
 * idle: one request at a time: one active connection, N-1 idle.
 * Every response is checked (status 200, the length of the first one).
 * Prints one JSON line (see scale.h); exits 1 on errors or fewer than N
 * connections.
 */
#include <h1c.h>
#include <h1c-libevent.h>
#include <h1c-libuv.h>

#include "scale.h"

/* ---- the client's allocator hooks (measure.h): calls and live bytes ------- */

static double busy_heap; /* live bytes per connection, all of them busy */

static double hook_count(void)
{
	return (double)bench_allocs;
}

/* ---- the workload ------------------------------------------------------------ */

enum { LOOP_BUILTIN, LOOP_LIBUV, LOOP_LIBEVENT };

struct slot {
	int status;
	long long len;
};

static struct sc_cell cell;
static struct h1c_client *client;
static const char *url;
static long long expect_len = -1;
static int which_loop;
static int tearing_down; /* requests cancelled by h1c_client_free are not errors */
static uv_loop_t *uvl;
static struct event_base *evb;

static int on_head(void *u, const struct h1c_response *resp)
{
	((struct slot *)u)->status = resp->status;
	return 0;
}

static int on_data(void *u, const char *p, size_t n)
{
	(void)p;
	((struct slot *)u)->len += (long long)n;
	return 0;
}

static void submit(struct slot *s);

static void on_done(void *u, int err, unsigned flags)
{
	struct slot *s = u;

	(void)flags;
	if (tearing_down)
		return;
	if (expect_len < 0 && !err)
		expect_len = s->len;
	if (err || s->status != 200 || s->len != expect_len) {
		if (cell.bad++ < 5)
			fprintf(stderr, "h1c-scale: request ended with %d (%s), status %d, %lld bytes\n",
			        err, h1c_strerror(err), s->status, s->len);
	}
	if (sc_after_done(&cell)) {
		if (cell.phase == SC_WINDOW && cell.scenario == SC_BUSY && busy_heap == 0)
			busy_heap = (double)bench_live / (double)cell.n; /* every connection busy */
		submit(s);
	}
}

static const struct h1c_callbacks cbs = {
	.size = sizeof(cbs),
	.on_head = on_head,
	.on_data = on_data,
	.on_done = on_done,
};

static void submit(struct slot *s)
{
	struct h1c_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	s->status = 0;
	s->len = 0;
	if (h1c_client_request(client, &rq, &cbs, s) < 0) {
		cell.bad++;
		return;
	}
	cell.inflight++;
}

/* ---- the three loops --------------------------------------------------------- */

static void on_idle(void *arg)
{
	(void)arg;
	if (which_loop == LOOP_LIBUV)
		uv_stop(uvl);
	else
		event_base_loopbreak(evb);
}

static void uv_tick(uv_timer_t *t)
{
	(void)t;
	if (sc_tick(&cell))
		uv_stop(uvl);
}

static void ev_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (sc_tick(&cell))
		event_base_loopbreak(evb);
}

/* Runs the built-in loop until nothing is pending or a phase is cut. */
static void drive_builtin(void)
{
	while (!cell.stop) {
		int left = h1c_client_run(client, 250);
		if (left < 0) {
			fprintf(stderr, "h1c-scale: h1c_client_run: %s\n", h1c_strerror(left));
			cell.bad++;
			return;
		}
		if (left == 0 || sc_tick(&cell))
			return;
	}
}

/* Runs the loop under test until nothing is pending or a phase is cut. */
static void drive(void)
{
	if (which_loop == LOOP_BUILTIN)
		drive_builtin();
	else if (which_loop == LOOP_LIBUV)
		uv_run(uvl, UV_RUN_DEFAULT);
	else
		event_base_dispatch(evb);
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
	struct slot *slots;
	struct h1c_libuv *uva = NULL;
	struct h1c_libevent *eva = NULL;
	uv_timer_t tick;
	struct event *etick = NULL;
	const char *loopname;
	char extra[512];
	long fdmax, i;
	double t_free;

	if (argc < 3 || sc_parse(argc, argv, 3, &cell) != 0) {
		fprintf(stderr, "usage: h1c-scale builtin|libuv|libevent URL busy|idle N WINDOW_S "
		                "WINDOW_CAP_S SETUP_S WARM_S\n");
		return 2;
	}
	loopname = argv[1];
	if (strcmp(loopname, "builtin") == 0)
		which_loop = LOOP_BUILTIN;
	else if (strcmp(loopname, "libuv") == 0)
		which_loop = LOOP_LIBUV;
	else if (strcmp(loopname, "libevent") == 0)
		which_loop = LOOP_LIBEVENT;
	else
		return 2;
	url = argv[2];
	fdmax = sc_raise_nofile(cell.n + 256);
	if (fdmax < cell.n + 64) {
		fprintf(stderr, "h1c-scale: RLIMIT_NOFILE is %ld, %ld connections need more\n", fdmax,
		        cell.n);
		return 2;
	}
	cell.allocs = hook_count;
	cell.proc_heap0 = sc_proc_heap();

	memset(&co, 0, sizeof(co));
	co.max_per_origin = co.max_connections = (unsigned)cell.n;
	co.max_queued = (unsigned)cell.n + 16;
	co.pipeline_depth = 1;
	co.keepalive_ms = 3600 * 1000;
	/* 10,000 connects at once overflow the listen backlog; SYNs are then
	 * retried after 1, 3, 7 s: allow for that. */
	co.connect_timeout_ms = 120 * 1000;
	co.head_timeout_ms = co.idle_timeout_ms = 120 * 1000;
	co.alloc = &al;
	client = h1c_client_new(&co);
	slots = calloc((size_t)cell.n, sizeof(*slots));
	if (!client || !slots)
		return 2;

	/* The setup: N requests at once on the built-in loop (whatever the
	 * loop under test: it opens 10,000 connections in under a second,
	 * where the adapters of today take tens of seconds, a cost of opening
	 * that is not what this benchmark measures), until all N connections
	 * are idle in the pool. */
	cell.t_begin = bench_now();
	for (i = 0; i < cell.n; i++)
		submit(&slots[i]);
	drive_builtin();
	h1c_client_stats(client, &st, sizeof(st));
	cell.opened = st.connections_opened;
	if (cell.phase == SC_SETUP && cell.inflight == 0) {
		sc_pool_ready(&cell, (double)bench_live);
	} else if (!*cell.cut) {
		cell.cut = "setup";
		cell.setup_secs = bench_now() - cell.t_begin;
	}

	/* The loop under test takes over the client and its N connections. */
	if (which_loop == LOOP_LIBUV) {
		uvl = malloc(sizeof(*uvl));
		if (!uvl || uv_loop_init(uvl) != 0)
			return 2;
		uva = h1c_libuv_attach(client, uvl, on_idle, NULL);
		uv_timer_init(uvl, &tick);
		uv_timer_start(&tick, uv_tick, 250, 250);
		if (!uva)
			return 2;
	} else if (which_loop == LOOP_LIBEVENT) {
		struct timeval tv = {0, 250000};
		evb = event_base_new();
		if (!evb)
			return 2;
		eva = h1c_libevent_attach(client, evb, on_idle, NULL);
		etick = event_new(evb, -1, EV_PERSIST, ev_tick, NULL);
		if (!eva || !etick || event_add(etick, &tv) != 0)
			return 2;
	}
	if (cell.phase == SC_WARM) {
		if (cell.scenario == SC_BUSY)
			for (i = 0; i < cell.n; i++)
				submit(&slots[i]);
		else
			submit(&slots[0]);
		drive();
	}

	h1c_client_stats(client, &st, sizeof(st));
	t_free = bench_now();
	tearing_down = 1;
	if (uva) {
		h1c_libuv_detach(uva);
		uv_close((uv_handle_t *)&tick, NULL);
	}
	if (eva) {
		h1c_libevent_detach(eva);
		event_free(etick);
	}
	h1c_client_free(client);
	if (uvl) {
		uv_run(uvl, UV_RUN_DEFAULT);
		uv_loop_close(uvl);
		free(uvl);
	}
	if (evb)
		event_base_free(evb);
	t_free = bench_now() - t_free;
	snprintf(extra, sizeof(extra),
	         "\"fd_limit\":%ld,\"heap_per_busy_conn\":%.0f,\"connections_opened\":%lu,"
	         "\"stale_closed\":%lu,\"connections_failed\":%lu,\"replayed\":%lu,"
	         "\"teardown_s\":%.3f",
	         fdmax, busy_heap, st.connections_opened, st.stale_closed, st.connections_failed,
	         st.replayed, t_free);
	sc_report(&cell, "h1c", loopname, extra);
	free(slots);
	return cell.bad || cell.opened < (unsigned long)cell.n ? 1 : 0;
}
