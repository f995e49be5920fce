/*
 * floor-scale.c - the scaling benchmark's floor: the least a client can
 * do for the same cells as h1c-scale (see there), with no library at all.
 * One thread, N keep-alive TCP connections to the origin, one epoll set
 * with every socket in it for input from the start, 16 events per
 * epoll_wait (as h1c's built-in loop); per request one send of a fixed
 * GET, one recv per readiness, the response's end found by its head's
 * Content-Length. No allocation after the setup, no timers, no checks
 * but the status line and the length.
 *
 *   floor-scale epoll URL busy|idle N WINDOW_S WINDOW_CAP_S SETUP_S WARM_S
 *
 * What it costs per request at each N is what the kernel and the machine
 * charge for the same traffic (loopback's receive path run in the
 * sender's context, wakeups, cold socket structures at large N), so its
 * ratio to N = 16 is the part of every other row's ratio that no client
 * can take away. Only "http://127.0.0.1:PORT/PATH" (a numeric IPv4
 * address) is understood: the benchmark's origin.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scale.h"

enum { HEAD_MAX = 2048, BATCH = 16 };

/* A connection: where its response is. The bytes go to one buffer shared
 * by all (nothing is pipelined, so a recv holds one response's bytes or a
 * part of them); a head split over reads is gathered in the connection's
 * own carry, which no whole read touches. */
struct fconn {
	int fd;       /* -1: closed */
	size_t got;   /* bytes of this response so far */
	size_t total; /* its whole length, once the head is in; 0 before */
	size_t carry_len;
	char carry[HEAD_MAX];
};

static struct sc_cell cell;
static struct fconn *conns;
static char req[512];
static size_t req_len;
static long long expect_len = -1;
static int epfd = -1;
static char rbuf[65536];

static int fail(const char *what, int err)
{
	if (cell.bad++ < 5)
		fprintf(stderr, "floor-scale: %s%s%s\n", what, err ? ": " : "",
		        err ? strerror(err) : "");
	return -1;
}

/* Ends c's request in error and closes it (it carries no more). */
static void lose(struct fconn *c, const char *what, int err)
{
	fail(what, err);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	cell.inflight--;
}

static int send_request(struct fconn *c)
{
	ssize_t k = send(c->fd, req, req_len, MSG_NOSIGNAL);

	if (k != (ssize_t)req_len)
		return fail("send", k < 0 ? errno : 0);
	c->got = 0;
	c->total = 0;
	c->carry_len = 0;
	cell.inflight++;
	return 0;
}

/* The whole length of the response whose head starts p[0..n): 0 while the
 * head is not complete, (size_t)-1 for a head without Content-Length. */
static size_t frame(const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4), *q;

	if (!end)
		return 0;
	for (q = p; q && q < end; q = memchr(q, '\n', (size_t)(end - q))) {
		q++;
		if ((size_t)(end - q) > 15 && strncasecmp(q, "content-length:", 15) == 0)
			return (size_t)(end - p) + 4 + strtoul(q + 15, NULL, 10);
	}
	return (size_t)-1;
}

/* The head is in p[0..n), the response's first bytes: checks its status
 * line and takes its length. Returns 0, or -1 when c was lost. */
static int take_head(struct fconn *c, const char *p, size_t n)
{
	c->total = frame(p, n);
	if (c->total == 0 && n >= HEAD_MAX) {
		lose(c, "a head longer than the floor takes", 0);
		return -1;
	}
	if (c->total == (size_t)-1) {
		lose(c, "a response without Content-Length", 0);
		return -1;
	}
	if (c->total && memcmp(p, "HTTP/1.1 200 ", 13) != 0) {
		lose(c, "a status other than 200", 0);
		return -1;
	}
	return 0;
}

/* Reads what is there; at the response's end, checks its length and sends
 * the next request if the cell wants more. */
static void readable(struct fconn *c)
{
	ssize_t k = recv(c->fd, rbuf, sizeof(rbuf), 0);

	if (k <= 0) {
		if (k < 0 && errno == EAGAIN)
			return;
		lose(c, k == 0 ? "connection closed by the server" : "recv", k < 0 ? errno : 0);
		return;
	}
	if (c->total == 0) {
		if (c->got == 0 && take_head(c, rbuf, (size_t)k) != 0)
			return;
		if (c->total == 0) { /* the head is split over reads */
			size_t room = HEAD_MAX - c->carry_len;
			size_t n = (size_t)k < room ? (size_t)k : room;
			memcpy(c->carry + c->carry_len, rbuf, n);
			c->carry_len += n;
			if (take_head(c, c->carry, c->carry_len) != 0)
				return;
		}
	}
	c->got += (size_t)k;
	if (c->total == 0 || c->got < c->total)
		return;
	if (c->got > c->total || (expect_len >= 0 && (long long)c->total != expect_len)) {
		lose(c, "a response of another length, or bytes after it", 0);
		return;
	}
	expect_len = (long long)c->total;
	if (sc_after_done(&cell) && send_request(c) != 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

/* Runs until nothing is in flight or a phase is cut. */
static void drive(void)
{
	struct epoll_event evs[BATCH];
	double tick = bench_now();
	int i;

	while (cell.inflight > 0 && !cell.stop) {
		int k = epoll_wait(epfd, evs, BATCH, 250);
		if (k < 0 && errno != EINTR) {
			fail("epoll_wait", errno);
			return;
		}
		for (i = 0; i < k; i++)
			readable(&conns[evs[i].data.u32]);
		if (bench_now() - tick >= 0.25) {
			tick = bench_now();
			if (sc_tick(&cell))
				return;
		}
	}
}

static int dial(struct fconn *c, const struct sockaddr_in *sa, unsigned idx)
{
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail("socket", errno);
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
		return fail("connect", errno);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
		return fail("fcntl", errno);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = idx;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		return fail("epoll_ctl", errno);
	cell.opened++;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	const char *url, *host, *colon, *path;
	char hostbuf[64], extra[128];
	long fdmax, i;

	if (argc < 3 || strcmp(argv[1], "epoll") != 0 || sc_parse(argc, argv, 3, &cell) != 0) {
		fprintf(stderr, "usage: floor-scale epoll URL busy|idle N WINDOW_S WINDOW_CAP_S "
		                "SETUP_S WARM_S\n");
		return 2;
	}
	url = argv[2];
	if (strncmp(url, "http://", 7) != 0 || !(colon = strchr(url + 7, ':')) ||
	    !(path = strchr(colon, '/')) || (size_t)(colon - url - 7) >= sizeof(hostbuf)) {
		fprintf(stderr, "floor-scale: only http://127.0.0.1:PORT/PATH\n");
		return 2;
	}
	host = url + 7;
	memcpy(hostbuf, host, (size_t)(colon - host));
	hostbuf[colon - host] = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, hostbuf, &sa.sin_addr) != 1) {
		fprintf(stderr, "floor-scale: %s is not a numeric IPv4 address\n", hostbuf);
		return 2;
	}
	req_len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %.*s\r\n\r\n", path,
	                           (int)(path - host), host);
	fdmax = sc_raise_nofile(cell.n + 256);
	if (fdmax < cell.n + 64) {
		fprintf(stderr, "floor-scale: RLIMIT_NOFILE is %ld, %ld connections need more\n", fdmax,
		        cell.n);
		return 2;
	}
	cell.proc_heap0 = sc_proc_heap();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc((size_t)cell.n, sizeof(*conns));
	if (epfd < 0 || !conns)
		return 2;
	for (i = 0; i < cell.n; i++)
		conns[i].fd = -1;

	/* Setup: N connections, one request on each at once. */
	cell.t_begin = bench_now();
	for (i = 0; i < cell.n; i++)
		if (dial(&conns[i], &sa, (unsigned)i) != 0 || send_request(&conns[i]) != 0)
			break;
	drive();
	if (cell.phase == SC_SETUP && cell.inflight == 0 && !cell.bad) {
		sc_pool_ready(&cell, 0);
		if (cell.scenario == SC_BUSY) {
			for (i = 0; i < cell.n; i++)
				send_request(&conns[i]);
		} else {
			send_request(&conns[0]);
		}
		drive();
	} else if (!*cell.cut) {
		cell.cut = "setup";
		cell.setup_secs = bench_now() - cell.t_begin;
	}
	/* No heap figure: the floor keeps no pool, and its records are sized
	 * for its own convenience, not a cost to set beside a library's. */
	cell.proc_heap_conn = 0;
	snprintf(extra, sizeof(extra), "\"fd_limit\":%ld", fdmax);
	sc_report(&cell, "floor", "epoll", extra);
	for (i = 0; i < cell.n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	close(epfd);
	free(conns);
	return cell.bad || (long)cell.opened < cell.n ? 1 : 0;
}
