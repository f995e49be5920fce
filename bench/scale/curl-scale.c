/*
 * curl-scale.c - the scaling benchmark's libcurl driver: the same cells
 * as h1c-scale (see there) through libcurl's multi interface, one thread,
 * at most N connections to the host, a connection cache of N, no
 * multiplexing. Two ways to drive it:
 *
 *   poll    curl_multi_perform() + curl_multi_poll(), libcurl's own loop
 *           (as bench/e2e/curl.c)
 *   socket  curl_multi_socket_action() on epoll, with libcurl's socket and
 *           timer callbacks: the interface libcurl offers for many
 *           connections
 *
 *   curl-scale poll|socket URL busy|idle N WINDOW_S WINDOW_CAP_S SETUP_S WARM_S
 *
 * An easy handle that finished is removed and added again for the next
 * request, so that it takes a connection from the cache. The setup is N
 * transfers at once; in the idle scenario all but one easy handle are then
 * cleaned up (the connections stay in the multi handle's cache) and the
 * heap per idle connection is the process's heap over N.
 */
#include <curl/curl.h>
#include <sys/epoll.h>

#include "scale.h"

struct slot {
	CURL *e;
	long long len;
	int added;
};

static struct sc_cell cell;
static CURLM *multi;
static long long expect_len = -1;
static int use_socket, epfd = -1;
static long curl_timeout_ms = -1;

static size_t sink(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	((struct slot *)u)->len += (long long)(size * n);
	return size * n;
}

static void start(struct slot *s)
{
	s->len = 0;
	if (curl_multi_add_handle(multi, s->e) != CURLM_OK) {
		cell.bad++;
		return;
	}
	s->added = 1;
	cell.inflight++;
}

static unsigned long new_connections;

/* Takes what libcurl says has finished. */
static void harvest(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left))) {
		struct slot *s;
		char *priv = NULL;
		long code = 0, conns = 0;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		s = (struct slot *)(void *)priv;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(m->easy_handle, CURLINFO_NUM_CONNECTS, &conns);
		new_connections += (unsigned long)conns;
		if (expect_len < 0 && m->data.result == CURLE_OK)
			expect_len = s->len;
		if (m->data.result != CURLE_OK || code != 200 || s->len != expect_len) {
			if (cell.bad++ < 5)
				fprintf(stderr, "curl-scale: %s, status %ld, %lld bytes\n",
				        curl_easy_strerror(m->data.result), code, s->len);
		}
		curl_multi_remove_handle(multi, s->e);
		s->added = 0;
		if (sc_after_done(&cell))
			start(s);
	}
}

/* ---- socket mode: epoll ------------------------------------------------------ */

static int on_socket(CURL *e, curl_socket_t fd, int what, void *u, void *sp)
{
	struct epoll_event ev;

	(void)e;
	(void)u;
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
		curl_multi_assign(multi, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (sp) {
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	} else {
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
		curl_multi_assign(multi, fd, &epfd); /* any non-NULL: "known" */
	}
	return 0;
}

static int on_timer(CURLM *m, long ms, void *u)
{
	(void)m;
	(void)u;
	curl_timeout_ms = ms;
	return 0;
}

/* One pass of the loop: waits at most 250 ms. */
static void step(void)
{
	int running;

	if (!use_socket) {
		curl_multi_perform(multi, &running);
		harvest();
		if (cell.inflight)
			curl_multi_poll(multi, NULL, 0, 250, NULL);
		return;
	} else {
		struct epoll_event evs[256];
		int n, i, wait = curl_timeout_ms < 0 || curl_timeout_ms > 250 ? 250 : (int)curl_timeout_ms;
		if (curl_timeout_ms == 0) {
			curl_timeout_ms = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
			harvest();
			return;
		}
		n = epoll_wait(epfd, evs, 256, wait);
		for (i = 0; i < n; i++) {
			int what = (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) ? CURL_CSELECT_IN : 0) |
			           (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR) ? CURL_CSELECT_OUT : 0);
			curl_multi_socket_action(multi, evs[i].data.fd, what, &running);
		}
		if (n == 0 && curl_timeout_ms >= 0 && curl_timeout_ms <= wait) {
			curl_timeout_ms = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		harvest();
	}
}

/* Runs until nothing is in flight or a phase is cut. */
static void drive(void)
{
	double tick = bench_now();

	while (cell.inflight > 0 && !cell.stop) {
		step();
		sc_advance(&cell);
		if (bench_now() - tick >= 0.25) {
			tick = bench_now();
			if (sc_tick(&cell))
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct slot *slots;
	const char *url, *mode;
	char extra[256];
	long fdmax, i;

	if (argc < 3 || sc_parse(argc, argv, 3, &cell) != 0) {
		fprintf(stderr, "usage: curl-scale poll|socket URL busy|idle N WINDOW_S WINDOW_CAP_S "
		                "SETUP_S WARM_S\n");
		return 2;
	}
	mode = argv[1];
	if (strcmp(mode, "socket") == 0)
		use_socket = 1;
	else if (strcmp(mode, "poll") != 0)
		return 2;
	url = argv[2];
	fdmax = sc_raise_nofile(cell.n + 256);
	if (fdmax < cell.n + 64) {
		fprintf(stderr, "curl-scale: RLIMIT_NOFILE is %ld, %ld connections need more\n", fdmax,
		        cell.n);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cell.per_pass = 1;
	cell.proc_heap0 = sc_proc_heap();
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, cell.n);
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, cell.n);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, cell.n);
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	if (use_socket) {
		epfd = epoll_create1(0);
		if (epfd < 0)
			return 2;
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
	}
	slots = calloc((size_t)cell.n, sizeof(*slots));
	if (!multi || !slots)
		return 2;
	for (i = 0; i < cell.n; i++) {
		CURL *e = curl_easy_init();
		if (!e)
			return 2;
		slots[i].e = e;
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &slots[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&slots[i]);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 120000L);
		curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, 3600L);
	}

	cell.t_begin = bench_now();
	for (i = 0; i < cell.n; i++)
		start(&slots[i]);
	drive();
	cell.opened = new_connections;
	if (cell.phase == SC_SETUP && cell.inflight == 0) {
		if (cell.scenario == SC_IDLE) {
			/* Only one easy handle is needed from now on; the
			 * connections stay in the multi handle's cache. */
			for (i = 1; i < cell.n; i++) {
				curl_easy_cleanup(slots[i].e);
				slots[i].e = NULL;
			}
		}
		sc_pool_ready(&cell, 0);
		if (cell.scenario == SC_BUSY)
			for (i = 0; i < cell.n; i++)
				start(&slots[i]);
		else
			start(&slots[0]);
		drive();
	} else if (!*cell.cut) {
		cell.cut = "setup";
		cell.setup_secs = bench_now() - cell.t_begin;
	}
	if (cell.scenario == SC_BUSY)
		cell.proc_heap_conn = 0; /* N easy handles in it: not the pool's cost */
	snprintf(extra, sizeof(extra), "\"fd_limit\":%ld,\"connections_opened\":%lu,\"curl\":\"%s\"",
	         fdmax, new_connections, curl_version_info(CURLVERSION_NOW)->version);
	sc_report(&cell, use_socket ? "curl-socket" : "curl-poll", mode, extra);
	for (i = 0; i < cell.n; i++)
		if (slots[i].e) {
			if (slots[i].added)
				curl_multi_remove_handle(multi, slots[i].e);
			curl_easy_cleanup(slots[i].e);
		}
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	free(slots);
	return cell.bad ? 1 : 0;
}
