/*
 * loop_ends.c - the event-loop adapters let the loop end, with the pool
 * still warm. Built once per adapter: -DLOOP_LIBUV (adapters/h1c-libuv.h)
 * or -DLOOP_LIBEVENT (adapters/h1c-libevent.h). On one client and one
 * loop, attached with no on_idle (nothing stops the loop but the adapter
 * letting it end):
 *   1. a batch of requests; uv_run() / event_base_dispatch() must return
 *      by itself once they have ended, nothing of the client left holding
 *      the loop;
 *   2. a second batch, one more request queued from the last one's on_done:
 *      all on the idle connections of the first (connections_opened
 *      unchanged, connections_reused grown by each of them);
 *   3. a request whose head has come is cancelled from a callback of the
 *      loop's own (outside the client): the loop must end again;
 *   4. libuv: with a handle of its own keeping the loop running, an idle
 *      connection the server closes (origin --idle-close) is noticed while
 *      idle, and the next request dials anew;
 *   5. libevent: one struct event allocated per descriptor for its whole
 *      life, re-assigned on every change, all freed by the detach
 *      (event_new, event_assign and event_free counted as the adapter
 *      calls them).
 * A loop that does not return is cut by a watchdog (alarm) and fails.
 * Prints "ok   WHAT" or "FAIL WHAT: DETAIL" per check, then "N passed, M
 * failed"; exits 1 when one failed.
 *
 *   loop_ends ORIGIN [IDLE_CLOSE_ORIGIN]   (e.g. http://127.0.0.1:8080)
 */
#define _POSIX_C_SOURCE 200809L

#if defined(LOOP_LIBUV)
#include "../../adapters/h1c-libuv.h"
#elif defined(LOOP_LIBEVENT)
#include <event2/event.h>
/* The adapter's calls of these three, counted: included after this, the
 * adapter calls the counting versions below. */
static int ev_new_sockets, ev_new_timers, ev_freed, ev_assigned;
static struct event *count_event_new(struct event_base *b, evutil_socket_t fd, short what,
                                     event_callback_fn cb, void *arg)
{
	struct event *e = event_new(b, fd, what, cb, arg);

	if (e && fd >= 0)
		ev_new_sockets++;
	else if (e)
		ev_new_timers++;
	return e;
}
static int count_event_assign(struct event *e, struct event_base *b, evutil_socket_t fd,
                              short what, event_callback_fn cb, void *arg)
{
	ev_assigned++;
	return event_assign(e, b, fd, what, cb, arg);
}
static void count_event_free(struct event *e)
{
	ev_freed++;
	event_free(e);
}
#define event_new count_event_new
#define event_assign count_event_assign
#define event_free count_event_free
#include "../../adapters/h1c-libevent.h"
#undef event_new
#undef event_assign
#undef event_free
#else
#error "build with -DLOOP_LIBUV or -DLOOP_LIBEVENT"
#endif

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Longer than any run here takes, far shorter than keepalive_ms below:
 * an adapter that holds the loop for its idle connections is caught. */
#define WATCHDOG_S 30
#define KEEPALIVE_MS 600000

static int passed, failed;
static const char *volatile running = "nothing yet";
static char watchdog_says[80];
static const char *origin; /* argv[1] */

static void check(int ok, const char *what, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok   %s (%s)\n", what, detail);
	} else {
		failed++;
		printf("FAIL %s: %s\n", what, detail);
	}
	fflush(stdout);
}

/* SIGALRM: the loop did not return. Says which run, with
 * async-signal-safe calls only, and fails. */
static void watchdog(int sig)
{
	const char *s = running;

	(void)sig;
	/* check() flushed every line before this one. */
	(void)!write(1, watchdog_says, strlen(watchdog_says));
	(void)!write(1, s, strlen(s));
	(void)!write(1, "\n", 1);
	_exit(1);
}

/* ---- requests ------------------------------------------------------------------ */

struct job {
	struct h1c_client *c;
	struct job *next; /* queued from its on_done, or NULL */
	long long id;
	int status, err, done;
	int cancel_rc;    /* what h1c_client_cancel() returned for it */
	char url[256];
};

static int job_head(void *user, const struct h1c_response *resp);
static void job_done(void *user, int err, unsigned flags);
static int job_queue(struct h1c_client *c, struct job *j, const char *base, const char *path);
static const struct h1c_callbacks job_cb = {
	.size = sizeof(job_cb),
	.on_head = job_head,
	.on_done = job_done,
};
static void (*on_head_hook)(struct job *j);

static int job_head(void *user, const struct h1c_response *resp)
{
	struct job *j = (struct job *)user;

	j->status = resp->status;
	if (on_head_hook)
		on_head_hook(j);
	return 0;
}

static void job_done(void *user, int err, unsigned flags)
{
	struct job *j = (struct job *)user;

	(void)flags;
	j->err = err;
	j->done++;
	if (j->next && job_queue(j->c, j->next, origin, "/bytes/30") != 0)
		j->next->err = H1C_EINVAL;
}

/* Queues j for base + path; 0 when the client took it. */
static int job_queue(struct h1c_client *c, struct job *j, const char *base, const char *path)
{
	struct h1c_request rq;

	memset(&rq, 0, sizeof(rq));
	j->c = c;
	snprintf(j->url, sizeof(j->url), "%s%s", base, path);
	rq.url = j->url;
	j->id = h1c_client_request(c, &rq, &job_cb, j);
	return j->id > 0 ? 0 : -1;
}

/* 1 when each of jobs[0..n) ended once with a 200. */
static int all_ok(const struct job *jobs, int n, char *why, size_t size)
{
	int i;

	for (i = 0; i < n; i++)
		if (jobs[i].done != 1 || jobs[i].err || jobs[i].status != 200) {
			snprintf(why, size, "%s: ended %d times, error %s, status %d", jobs[i].url,
			         jobs[i].done, h1c_errname(jobs[i].err), jobs[i].status);
			return 0;
		}
	snprintf(why, size, "%d ended once each, with 200", n);
	return 1;
}

/* ---- the loop -------------------------------------------------------------------- */

#if defined(LOOP_LIBUV)
static uv_loop_t loop_mem, *loop = &loop_mem;
static struct h1c_libuv *adapter;

static int loop_new(struct h1c_client *c)
{
	if (uv_loop_init(loop) != 0)
		return -1;
	adapter = h1c_libuv_attach(c, loop, NULL, NULL);
	return adapter ? 0 : -1;
}

static void loop_run(void)
{
	uv_run(loop, UV_RUN_DEFAULT);
}

/* 1 when nothing of the client keeps the loop running (the loop would
 * return at once). */
static int loop_unheld(char *why, size_t size)
{
	int alive = uv_loop_alive(loop);

	snprintf(why, size, "uv_loop_alive() %d after uv_run() returned", alive);
	return !alive;
}

static void loop_detach(void)
{
	h1c_libuv_detach(adapter);
}

/* The user's own callback, outside the client: run fn(arg) from the
 * loop's next iteration. */
static uv_timer_t user_timer;
static void (*user_fn)(void *arg);
static void *user_arg;

static void user_fire(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, NULL);
	user_fn(user_arg);
}

static void loop_soon(void (*fn)(void *arg), void *arg)
{
	user_fn = fn;
	user_arg = arg;
	uv_timer_init(loop, &user_timer);
	uv_timer_start(&user_timer, user_fire, 0, 0);
}
#else
static struct event_base *base;
static struct h1c_libevent *adapter;

static int loop_new(struct h1c_client *c)
{
	base = event_base_new();
	adapter = base ? h1c_libevent_attach(c, base, NULL, NULL) : NULL;
	return adapter ? 0 : -1;
}

static void loop_run(void)
{
	event_base_dispatch(base);
}

static int loop_unheld(char *why, size_t size)
{
	int added = event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED);

	snprintf(why, size, "%d events still in the base after event_base_dispatch() returned",
	         added);
	return added == 0;
}

static void loop_detach(void)
{
	h1c_libevent_detach(adapter);
}

static void (*user_fn)(void *arg);

static void user_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	user_fn(arg);
}

static void loop_soon(void (*fn)(void *arg), void *arg)
{
	static const struct timeval now = {0, 0};

	user_fn = fn;
	event_base_once(base, -1, EV_TIMEOUT, user_fire, arg, &now);
}
#endif

/* Runs the loop until it returns by itself, under the watchdog. */
static void run(const char *what)
{
	running = what;
	alarm(WATCHDOG_S);
	loop_run();
	alarm(0);
}

/* ---- the scenarios ------------------------------------------------------------- */

#define BATCH 4

static void cancel_job(void *arg)
{
	struct job *j = (struct job *)arg;

	j->cancel_rc = h1c_client_cancel(j->c, j->id);
}

/* on_head of the slow response: cancel it from the loop's own callback. */
static void cancel_soon(struct job *j)
{
	loop_soon(cancel_job, j);
}

#if defined(LOOP_LIBUV)
/* Keeps the loop running until the client has found an idle connection
 * closed by the server: a handle of the user's, as another library's. */
static uv_check_t user_check;
static unsigned long stale_before;
static struct h1c_client *watched_client;

static void until_stale(uv_check_t *h)
{
	struct h1c_stats st;

	h1c_client_stats(watched_client, &st, sizeof(st));
	if (st.stale_closed > stale_before)
		uv_close((uv_handle_t *)h, NULL);
}

static void idle_close_noticed(struct h1c_client *c, const char *origin2)
{
	struct h1c_stats st0, st1, st2;
	struct job a = {0}, b = {0};
	char why[300];

	h1c_client_stats(c, &st0, sizeof(st0));
	if (job_queue(c, &a, origin2, "/bytes/3") != 0) {
		check(0, "idle-close origin: request queued", "refused");
		return;
	}
	run("a request to the origin that closes idle connections");
	check(all_ok(&a, 1, why, sizeof(why)), "idle-close origin: the request ended, the loop returned",
	      why);
	/* The user's handle holds the loop until the close is seen (unless
	 * it was already, should the server have been that quick). */
	stale_before = st0.stale_closed;
	watched_client = c;
	h1c_client_stats(c, &st1, sizeof(st1));
	if (st1.stale_closed == stale_before) {
		uv_check_init(loop, &user_check);
		uv_check_start(&user_check, until_stale);
		run("the loop held by the user's handle until the server's close is noticed");
	}
	h1c_client_stats(c, &st1, sizeof(st1));
	snprintf(why, sizeof(why), "stale_closed %lu, was %lu", st1.stale_closed, st0.stale_closed);
	check(st1.stale_closed == st0.stale_closed + 1,
	      "an idle connection closed by the server is noticed while the loop runs for the user",
	      why);
	if (job_queue(c, &b, origin2, "/bytes/4") != 0) {
		check(0, "idle-close origin: second request queued", "refused");
		return;
	}
	run("a second request to the origin that closes idle connections");
	h1c_client_stats(c, &st2, sizeof(st2));
	check(all_ok(&b, 1, why, sizeof(why)), "idle-close origin: the second request ended", why);
	snprintf(why, sizeof(why), "connections_opened %lu, was %lu", st2.connections_opened,
	         st1.connections_opened);
	check(st2.connections_opened == st1.connections_opened + 1,
	      "the next request dials a new connection", why);
}
#endif

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats s1, s2, s3;
	struct job first[BATCH], second[BATCH + 1], slow;
	char why[300];
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: loop_ends ORIGIN [IDLE_CLOSE_ORIGIN]\n");
		return 2;
	}
	origin = argv[1];
	snprintf(watchdog_says, sizeof(watchdog_says),
	         "FAIL the loop returned by itself: still running after %d s in ", WATCHDOG_S);
	signal(SIGALRM, watchdog);
	memset(&co, 0, sizeof(co));
	co.keepalive_ms = KEEPALIVE_MS;
	c = h1c_client_new(&co);
	if (!c || loop_new(c) != 0) {
		fprintf(stderr, "loop_ends: out of memory\n");
		return 2;
	}
	memset(first, 0, sizeof(first));
	memset(second, 0, sizeof(second));
	memset(&slow, 0, sizeof(slow));

	/* 1. The first batch: several connections, then all idle. */
	for (i = 0; i < BATCH; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/bytes/%d", 10 + i);
		if (job_queue(c, &first[i], argv[1], path) != 0)
			check(0, "first batch queued", first[i].url);
	}
	run("the first batch");
	check(all_ok(first, BATCH, why, sizeof(why)),
	      "first batch: every request ended, and the loop returned by itself", why);
	check(loop_unheld(why, sizeof(why)), "first batch: the idle pool does not hold the loop", why);
	h1c_client_stats(c, &s1, sizeof(s1));
	snprintf(why, sizeof(why), "connections_opened %lu", s1.connections_opened);
	check(s1.connections_opened >= 1, "first batch: connections were opened", why);

	/* 2. The second batch on the warm pool; its last request queues one
	 * more from its on_done (inside the client's callbacks). */
	for (i = 0; i < BATCH; i++) {
		char path[32];
		snprintf(path, sizeof(path), "/chunked/%d", 20 + i);
		if (job_queue(c, &second[i], argv[1], path) != 0)
			check(0, "second batch queued", second[i].url);
	}
	second[BATCH - 1].next = &second[BATCH];
	run("the second batch");
	check(all_ok(second, BATCH + 1, why, sizeof(why)),
	      "second batch (one more queued from on_done): every request ended, the loop returned",
	      why);
	check(loop_unheld(why, sizeof(why)), "second batch: the idle pool does not hold the loop", why);
	h1c_client_stats(c, &s2, sizeof(s2));
	snprintf(why, sizeof(why), "connections_opened %lu -> %lu, connections_reused %lu -> %lu",
	         s1.connections_opened, s2.connections_opened, s1.connections_reused,
	         s2.connections_reused);
	check(s2.connections_opened == s1.connections_opened &&
	              s2.connections_reused == s1.connections_reused + BATCH + 1,
	      "second batch: all on the first batch's idle connections, none opened", why);

	/* 3. Cancelled from outside the client once its head has come. */
	on_head_hook = cancel_soon;
	if (job_queue(c, &slow, argv[1], "/trickle?ms=600000&n=2&from=body") != 0)
		check(0, "slow request queued", slow.url);
	run("a slow request cancelled from the loop's own callback");
	on_head_hook = NULL;
	snprintf(why, sizeof(why), "h1c_client_cancel() %d, ended %d time(s), %s", slow.cancel_rc,
	         slow.done, h1c_errname(slow.err));
	check(slow.cancel_rc == 0 && slow.done == 1 && slow.err == H1C_ECANCELED,
	      "cancelled from outside the client: it ended once, H1C_ECANCELED, the loop returned",
	      why);
	check(loop_unheld(why, sizeof(why)), "after the cancel: the idle pool does not hold the loop",
	      why);
	h1c_client_stats(c, &s3, sizeof(s3));

#if defined(LOOP_LIBUV)
	/* 4. Idle, yet watched. */
	if (argc > 2)
		idle_close_noticed(c, argv[2]);
#else
	/* 5. One event per descriptor. */
	snprintf(why, sizeof(why), "%d socket events made for %lu connections, %d timer events",
	         ev_new_sockets, s3.connections_opened, ev_new_timers);
	check(ev_new_sockets == (int)s3.connections_opened && ev_new_timers == 1,
	      "one event made per descriptor (and one timer)", why);
	snprintf(why, sizeof(why), "%d re-assignments", ev_assigned);
	check(ev_assigned > 0, "a descriptor's event is re-assigned when its needs change",
	      why);
#endif

	loop_detach();
	h1c_client_free(c);
#if defined(LOOP_LIBUV)
	uv_run(loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
	i = uv_loop_close(loop);
	snprintf(why, sizeof(why), "uv_loop_close() %s", i ? uv_err_name(i) : "0");
	check(i == 0, "detach: every handle closed", why);
#else
	snprintf(why, sizeof(why), "%d events made, %d freed", ev_new_sockets + ev_new_timers, ev_freed);
	check(ev_freed == ev_new_sockets + ev_new_timers, "detach frees every event", why);
	event_base_free(base);
#endif
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
