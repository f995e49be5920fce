/*
 * test_loop.c - readiness and deadlines in (lib/loop.c) against the
 * project's origin server: a request's own timeout and the client's end
 * cancelling what is left, an outside epoll loop through the hooks, 1,000
 * connections from one thread, and every documented call made from inside
 * every callback.
 */
#define _GNU_SOURCE
#include "client_fixture.h"

/* A request's own timeout, and the client's end cancelling what is left. */
static void test_request_timeout_and_free(void **state)
{
	struct origin o;
	struct job j[2];
	struct h1c_request rq;
	struct h1c_client *c = client(1, 1, 0);
	char url[128];

	(void)state;
	memset(j, 0, sizeof(j));
	origin_start(&o, NULL);
	snprintf(url, sizeof(url), "%s/delay?ms=5000", o.base);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.timeout_ms = 50;
	assert_true(h1c_client_request(c, &rq, &cbs, &j[0]) > 0);
	run_all(c);
	assert_int_equal(j[0].ended, 1);
	assert_int_equal(j[0].err, H1C_ETIMEDOUT);
	submit(c, &o, "GET", "/delay?ms=5000", &j[1], NULL);
	assert_int_equal(h1c_client_run(c, 0), 1);
	h1c_client_free(c);
	assert_int_equal(j[1].ended, 1);
	assert_int_equal(j[1].err, H1C_ECANCELED);
	origin_stop(&o);
}

/* ---- an outside loop through the hooks (epoll) --------------------------------- */

struct eloop {
	int ep;
	int timer_ms;
	int watched;
};

static void el_watch(void *user, int fd, unsigned events, void **slot)
{
	struct eloop *l = user;
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	ev.events = ((events & H1C_READ) ? EPOLLIN : 0u) | ((events & H1C_WRITE) ? EPOLLOUT : 0u);
	if (!events) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, &ev);
		*slot = NULL;
		l->watched--;
		return;
	}
	if (*slot) {
		assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev), 0);
	} else {
		assert_int_equal(epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev), 0);
		*slot = l;
		l->watched++;
	}
}

static void el_timer(void *user, int ms)
{
	((struct eloop *)user)->timer_ms = ms;
}

static void test_outside_loop(void **state)
{
	struct origin o;
	struct job j[20];
	struct eloop l;
	struct h1c_loop hooks = {
		.size = sizeof(hooks),
		.watch = el_watch,
		.timer = el_timer,
		.user = &l,
	};
	struct h1c_client *c = client(8, 2, 0);
	int i, pending = 20;

	(void)state;
	memset(j, 0, sizeof(j));
	memset(&l, 0, sizeof(l));
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	l.timer_ms = -1;
	origin_start(&o, NULL);
	h1c_client_set_loop(c, &hooks);
	for (i = 0; i < 20; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/bytes/%d", i + 1);
		submit(c, &o, "GET", path, &j[i], NULL);
	}
	assert_int_equal(l.timer_ms, 0); /* asks to be called to dispatch */
	while (pending > 0) {
		struct epoll_event evs[16];
		int n = epoll_wait(l.ep, evs, 16, l.timer_ms < 0 ? 60000 : l.timer_ms), k;
		assert_true(n >= 0 || errno == EINTR);
		assert_true(n > 0 || l.timer_ms >= 0); /* no hang */
		for (k = 0; k < n; k++) {
			unsigned ev = ((evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? H1C_READ : 0u) |
			              ((evs[k].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? H1C_WRITE : 0u);
			pending = h1c_client_on_ready(c, evs[k].data.fd, ev);
		}
		if (n == 0)
			pending = h1c_client_on_timeout(c);
	}
	for (i = 0; i < 20; i++) {
		assert_int_equal(j[i].ended, 1);
		assert_int_equal(j[i].err, 0);
		assert_true(bytes_ok(&j[i], (size_t)i + 1));
	}
	assert_true(l.watched > 0); /* idle connections stay watched */
	h1c_client_free(c);
	assert_int_equal(l.watched, 0); /* every socket unwatched before close */
	close(l.ep);
	origin_stop(&o);
}

/* ---- 1,000 connections from one thread -------------------------------------------- */

static void test_thousand_connections(void **state)
{
	struct origin o;
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	struct rlimit rl;
	int i;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2100) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < 2100)
		skip(); /* the hard limit is too low here */
	memset(many, 0, sizeof(many));
	memset(&co, 0, sizeof(co));
	co.max_per_origin = 1000;
	co.max_connections = 1000;
	c = h1c_client_new(&co);
	assert_non_null(c);
	origin_start(&o, NULL);
	/* Each response is held back, so each request keeps its connection. */
	for (i = 0; i < 1000; i++)
		submit(c, &o, "GET", "/delay?ms=300", &many[i], NULL);
	run_all(c);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(many[i].ended, 1);
		assert_int_equal(many[i].err, 0);
		assert_int_equal(many[i].len, 13);
	}
	h1c_client_stats(c, &st, sizeof(st));
	assert_int_equal(st.connections_opened, 1000);
	assert_int_equal(log_count(&o, "conn=1000 ", NULL), 1);
	h1c_client_free(c);
	origin_stop(&o);
}

/* ---- every documented call from inside every callback ------------------------------ */

struct poked {
	int ended, err, interim, head, trailers, status;
	size_t len;
	int bad; /* a body byte out of place */
};

static struct h1c_client *poke_client;
static char poke_base[64];
static struct job poke_jobs[64];
static int npoke;

/* What a callback may call, each time: readiness and the clock told for
 * every watched descriptor (the one being read among them), the loop and
 * the blocking call refused, counters and watches read, and a new request
 * queued. Nothing of it may run inside the callback. */
static void poke(void)
{
	struct h1c_client *c = poke_client;
	struct h1c_watch w[32];
	struct h1c_stats st;
	struct h1c_result res;
	struct h1c_request rq;
	char url[128];
	size_t n = h1c_client_watches(c, w, 32), i;

	assert_true(n >= 1);
	for (i = 0; i < n && i < 32; i++)
		assert_true(h1c_client_on_ready(c, w[i].fd, H1C_READ | H1C_WRITE) >= 1);
	assert_true(h1c_client_on_ready(c, -1, 0) >= 1);
	assert_true(h1c_client_on_timeout(c) >= 1);
	assert_int_equal(h1c_client_run(c, 0), H1C_EINVAL);
	memset(&rq, 0, sizeof(rq));
	snprintf(url, sizeof(url), "%s/bytes/7", poke_base);
	rq.url = url;
	assert_int_equal(h1c_client_fetch(c, &rq, &res), H1C_EINVAL);
	h1c_client_stats(c, &st, sizeof(st));
	assert_true(st.requests >= 1);
	(void)h1c_client_timeout(c);
	if (npoke < 64)
		assert_true(h1c_client_request(c, &rq, &cbs, &poke_jobs[npoke++]) > 0);
}

static int p_interim(void *user, const struct h1c_response *r)
{
	((struct poked *)user)->interim = r->status;
	poke();
	return 0;
}

static int p_head(void *user, const struct h1c_response *r)
{
	struct poked *p = user;

	p->head++;
	p->status = r->status;
	poke();
	return 0;
}

static int p_data(void *user, const char *d, size_t n)
{
	struct poked *p = user;
	size_t i;

	/* /bytes/N is 'a'..'z' over and over; /chunked/N '0'..'9'. */
	for (i = 0; i < n; i++)
		if (d[i] != (char)('a' + (p->len + i) % 26) && d[i] != (char)('0' + (p->len + i) % 10))
			p->bad = 1;
	p->len += n;
	poke();
	return 0;
}

static int p_trailers(void *user, const struct h1c_header *f, size_t n)
{
	struct poked *p = user;

	p->trailers = (int)n;
	(void)f;
	poke();
	return 0;
}

static void p_done(void *user, int err, unsigned flags)
{
	struct poked *p = user;

	(void)flags;
	p->ended++;
	p->err = err;
	poke();
}

/* A callback may call any documented function: h1c_client_on_ready() and
 * h1c_client_on_timeout() told from inside a connection's events (its own
 * descriptor among them) are handled once the call unwinds, not within
 * the read they interrupt (where the end of a closing server's stream
 * would end the connection under the events being handled); run and
 * fetch are refused; requests queued there are served. Every request ends
 * once, every body whole. */
static void test_calls_from_callbacks(void **state)
{
	static const struct h1c_callbacks pcb = {
	    .on_interim = p_interim, .on_head = p_head, .on_data = p_data,
	    .on_trailers = p_trailers, .on_done = p_done};
	static const char *const paths[] = {"/bytes/300000", "/chunked/5000?size=700", "/expect",
	                                    "/bytes/10", "/chunked/3", "/close"};
	struct h1c_client_options co = H1C_OPTIONS_INIT(h1c_client_options);
	struct origin o;
	struct poked p[6];
	struct h1c_request rq;
	char url[128];
	int i;

	(void)state;
	origin_start(&o, NULL);
	memset(p, 0, sizeof(p));
	memset(poke_jobs, 0, sizeof(poke_jobs));
	npoke = 0;
	snprintf(poke_base, sizeof(poke_base), "%s", o.base);
	co.pipeline_depth = 4;
	co.max_per_origin = 2;
	co.expect_threshold = 1; /* the POST waits for 100 Continue */
	poke_client = h1c_client_new(&co);
	assert_non_null(poke_client);
	for (i = 0; i < 6; i++) {
		memset(&rq, 0, sizeof(rq));
		snprintf(url, sizeof(url), "%s%s", o.base, paths[i]);
		rq.url = url;
		if (i == 2) {
			rq.method = "POST";
			rq.body = "abcde"; /* echoed back */
			rq.body_len = 5;
		}
		assert_true(h1c_client_request(poke_client, &rq, &pcb, &p[i]) > 0);
	}
	run_all(poke_client);
	for (i = 0; i < 6; i++) {
		assert_int_equal(p[i].ended, 1);
		assert_int_equal(p[i].err, 0);
		assert_int_equal(p[i].status, 200);
		assert_int_equal(p[i].head, 1);
		assert_true(i == 5 || !p[i].bad); /* "bye" follows neither pattern */
	}
	assert_int_equal(p[5].len, 3); /* read whole, then the server closed */
	assert_int_equal(p[0].len, 300000);
	assert_int_equal(p[1].len, 5000);
	assert_int_equal(p[1].trailers, 1);
	assert_int_equal(p[2].interim, 100);
	assert_int_equal(p[2].len, 5);
	assert_int_equal(p[3].len, 10);
	assert_true(npoke > 10);
	for (i = 0; i < npoke; i++) {
		assert_int_equal(poke_jobs[i].ended, 1);
		assert_int_equal(poke_jobs[i].err, 0);
		assert_true(bytes_ok(&poke_jobs[i], 7));
	}
	h1c_client_free(poke_client);
	origin_stop(&o);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_request_timeout_and_free, stop_all),
		cmocka_unit_test_teardown(test_outside_loop, stop_all),
		cmocka_unit_test_teardown(test_thousand_connections, stop_all),
		cmocka_unit_test_teardown(test_calls_from_callbacks, stop_all),
	};

	/* One test, or those matching a pattern: test_loop 'test_outside_loop'. */
	fixture_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
