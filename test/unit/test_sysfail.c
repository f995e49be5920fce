/*
 * test_sysfail.c - what the library does when the system fails it: the
 * calls it makes to the C library (getaddrinfo, socket, fcntl, connect,
 * getsockopt, poll, malloc) are replaced at link time (ld --wrap, see the
 * Makefile) by versions that fail on demand, then pass through to the real
 * ones. Every failure must end the request (or the call) with its error
 * code, close what was opened and leave the client usable.
 *
 * Only loopback is ever dialled; names ending in ".invalid" are answered
 * here (EAI_NONAME) without asking any resolver.
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "spawn.h"

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* ---- the failing calls -------------------------------------------------------- */

/* Each counts down: the call that takes it to 0 fails (0: none fails). */
static int socket_errno = EMFILE; /* what a failed socket() says */
static int fail_socket, fail_fcntl, fail_connect, fail_getsockopt, fail_poll, fail_malloc;
/* connect: 1 completes at once, as some systems do on loopback. */
static int connect_at_once;

static int count_down(int *n)
{
	return *n > 0 && --*n == 0;
}

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
	size_t n = node ? strlen(node) : 0;

	if (n > 8 && strcmp(node + n - 8, ".invalid") == 0)
		return EAI_NONAME;
	return __real_getaddrinfo(node, service, hints, res);
}

int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol)
{
	if (count_down(&fail_socket)) {
		errno = socket_errno;
		return -1;
	}
	return __real_socket(domain, type, protocol);
}

int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (count_down(&fail_fcntl)) {
		errno = EBADF;
		return -1;
	}
	return __real_fcntl(fd, cmd, arg);
}

int __real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc;

	if (count_down(&fail_connect)) {
		errno = ENETUNREACH;
		return -1;
	}
	rc = __real_connect(fd, sa, len);
	if (rc < 0 && errno == EINPROGRESS && connect_at_once) {
		/* Wait here for the handshake, then say it completed at once. */
		struct pollfd p = {fd, POLLOUT, 0};
		int err = 0;
		socklen_t el = sizeof(err);
		if (__real_poll(&p, 1, 5000) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			return 0;
		errno = err ? err : ETIMEDOUT;
		return -1;
	}
	return rc;
}

int __real_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_ERROR && count_down(&fail_getsockopt)) {
		errno = ENOBUFS;
		return -1;
	}
	return __real_getsockopt(fd, level, name, val, len);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (count_down(&fail_poll)) {
		errno = ENOMEM;
		return -1;
	}
	return __real_poll(fds, n, timeout);
}

/* The built-in loop's wait on Linux: failed with poll(). */
struct epoll_event;
int __real_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout);
int __wrap_epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (count_down(&fail_poll)) {
		errno = ENOMEM;
		return -1;
	}
	return __real_epoll_wait(epfd, ev, max, timeout);
}

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
	if (count_down(&fail_malloc))
		return NULL;
	return __real_malloc(n);
}

/* The client's own allocations, counted, come from the real malloc. */
#define FAILALLOC_MALLOC __real_malloc
#include "failalloc.h"

/* ---- helpers ------------------------------------------------------------------- */

static pid_t origin_pid;
static int origin_port;

static char origin_path[4096];

static int origin_start(void **state)
{
	const char *argv[] = {origin_path, NULL};
	(void)state;
	origin_pid = spawn_server(argv, &origin_port);
	return 0;
}

static int origin_stop(void **state)
{
	(void)state;
	kill(origin_pid, SIGTERM);
	waitpid(origin_pid, NULL, 0);
	return 0;
}

static void reset(void)
{
	fail_socket = fail_fcntl = fail_connect = fail_getsockopt = fail_poll = fail_malloc = 0;
	connect_at_once = 0;
	socket_errno = EMFILE;
}

/* Fetches a URL (its %d: the origin's port) on c; returns the result
 * code, and the response in *res when it is 0. */
static int fetch_on(struct h1c_client *c, const char *url_fmt, struct h1c_result *res)
{
	struct h1c_request rq;
	char url[256];

	snprintf(url, sizeof(url), url_fmt, origin_port);
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	return h1c_client_fetch(c, &rq, res);
}

/* The same with a new client; returns the result code and the status. */
static int fetch(const char *url_fmt, int *status)
{
	struct h1c_client *c = h1c_client_new(NULL);
	struct h1c_result res;
	int rc;

	assert_non_null(c);
	rc = fetch_on(c, url_fmt, &res);
	*status = rc == 0 ? res.status : 0;
	if (rc == 0)
		h1c_result_free(&res);
	h1c_client_free(c);
	return rc;
}

/* ---- the tests ------------------------------------------------------------------- */

/* A name the resolver does not know: H1C_ERESOLVE, from the blocking
 * connect and from a client's request. */
static void test_resolve_fails(void **state)
{
	int fd = -1, st;
	(void)state;
	reset();
	assert_int_equal(h1c__connect("nowhere.invalid", 80, 1000, &fd), H1C_ERESOLVE);
	assert_int_equal(fetch("http://nowhere.invalid:%d/", &st), H1C_ERESOLVE);
}

/* socket() fails: the attempt is skipped; with one address that ends the
 * connect with H1C_ECONNECT (H1C_ENOFD when it was for want of
 * descriptors, EMFILE), with two the next is tried. */
static void test_socket_fails(void **state)
{
	int fd = -1, st, before = open_fds();
	struct addrinfo hints, *res = NULL, *second = NULL;
	char port[16];
	(void)state;
	reset();
	socket_errno = EAFNOSUPPORT;
	fail_socket = 1;
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
	fail_socket = 1;
	assert_int_equal(fetch("http://127.0.0.1:%d/bytes/5", &st), H1C_ECONNECT);
	/* Out of descriptors, with none of the client's own to free. */
	socket_errno = EMFILE;
	fail_socket = 1;
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ENOFD);
	assert_int_equal(open_fds(), before);
	fail_socket = 1;
	assert_int_equal(fetch("http://127.0.0.1:%d/bytes/5", &st), H1C_ENOFD);
	/* Two addresses, the first attempt's socket refused. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", origin_port);
	assert_int_equal(getaddrinfo("127.0.0.1", port, &hints, &res), 0);
	assert_int_equal(getaddrinfo("127.0.0.1", port, &hints, &second), 0);
	res->ai_next = second; /* glibc frees each entry on its own */
	fail_socket = 1;
	assert_int_equal(h1c__connect_race(res, 1000, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	freeaddrinfo(res);
	assert_int_equal(open_fds(), before);
}

/* fcntl() fails setting the socket non-blocking: closed, H1C_ECONNECT. */
static void test_fcntl_fails(void **state)
{
	int fd = -1, before = open_fds();
	(void)state;
	reset();
	fail_fcntl = 1;
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ECONNECT);
	fail_fcntl = 3; /* the close-on-exec flag */
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
}

/* connect() fails at once (not EINPROGRESS): closed; the next address is
 * tried, or the request ends with H1C_ECONNECT. */
static void test_connect_fails_at_once(void **state)
{
	int st, before = open_fds();
	(void)state;
	reset();
	fail_connect = 1;
	assert_int_equal(fetch("http://127.0.0.1:%d/bytes/5", &st), H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
	/* "localhost": more than one address when the machine has ::1 too;
	 * either way the request must end, and end once. */
	fail_connect = 1;
	st = fetch("http://localhost:%d/bytes/5", &st);
	assert_true(st == 0 || st == H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
}

/* connect() completes at once, as it can on loopback elsewhere: the
 * request goes out on that socket without waiting for writability. */
static void test_connect_at_once(void **state)
{
	int fd = -1, st;
	(void)state;
	reset();
	connect_at_once = 1;
	assert_int_equal(fetch("http://127.0.0.1:%d/bytes/5", &st), 0);
	assert_int_equal(st, 200);
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
}

/* Reading a connect's outcome fails: that attempt is dropped (the only
 * one: H1C_ECONNECT). */
static void test_getsockopt_fails(void **state)
{
	int fd = -1, st, before = open_fds();
	(void)state;
	reset();
	fail_getsockopt = 1;
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ECONNECT);
	fail_getsockopt = 1;
	assert_int_equal(fetch("http://127.0.0.1:%d/bytes/5", &st), H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
}

/* poll() fails (not EINTR), or epoll_wait() for the built-in loop on
 * Linux: the blocking connect ends with H1C_ECONNECT;
 * a client's run and fetch with H1C_EIO, the request cancelled, and the
 * client works afterwards. */
static void test_poll_fails(void **state)
{
	struct h1c_client *c;
	struct h1c_result res;
	int fd = -1, before = open_fds();
	(void)state;
	reset();
	fail_poll = 1;
	assert_int_equal(h1c__connect("127.0.0.1", (unsigned)origin_port, 1000, &fd),
	                 H1C_ECONNECT);
	assert_int_equal(open_fds(), before);
	c = h1c_client_new(NULL);
	assert_non_null(c);
	fail_poll = 1;
	assert_int_equal(fetch_on(c, "http://127.0.0.1:%d/bytes/7", &res), H1C_EIO);
	assert_int_equal(fetch_on(c, "http://127.0.0.1:%d/bytes/7", &res), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.body_len, 7);
	h1c_result_free(&res);
	h1c_client_free(c);
	assert_int_equal(open_fds(), before);
}

/* The plain vtable cannot allocate its state: the request ends with
 * H1C_ENOMEM and the socket is closed. (The client's own allocations go
 * through an allocator of the test's, so the failing malloc is the
 * vtable's.) */
static void test_plain_open_fails(void **state)
{
	struct h1c_client_options o;
	struct h1c_client *c;
	struct h1c_result res;
	int err = 0, before = open_fds();
	(void)state;
	reset();
	fail_malloc = 1;
	assert_null(h1c_io_plain()->open(NULL, 0, "x", &err));
	assert_int_equal(err, H1C_ENOMEM);
	failalloc_start(0); /* counts, fails none */
	memset(&o, 0, sizeof(o));
	o.alloc = &failing_allocator;
	c = h1c_client_new(&o);
	assert_non_null(c);
	fail_malloc = 1;
	assert_int_equal(fetch_on(c, "http://127.0.0.1:%d/bytes/7", &res), H1C_ENOMEM);
	assert_int_equal(fail_malloc, 0); /* it was the vtable's */
	assert_int_equal(fetch_on(c, "http://127.0.0.1:%d/bytes/7", &res), 0);
	h1c_result_free(&res);
	h1c_client_free(c);
	assert_int_equal(live_blocks, 0);
	assert_int_equal(open_fds(), before);
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_fails),
		cmocka_unit_test(test_socket_fails),
		cmocka_unit_test(test_fcntl_fails),
		cmocka_unit_test(test_connect_fails_at_once),
		cmocka_unit_test(test_connect_at_once),
		cmocka_unit_test(test_getsockopt_fails),
		cmocka_unit_test(test_poll_fails),
		cmocka_unit_test(test_plain_open_fails),
	};
	(void)argc;
	/* build/test/test_sysfail -> build/origin */
	snprintf(origin_path, sizeof(origin_path), "%.*s/../origin",
	         slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, origin_start, origin_stop);
}
