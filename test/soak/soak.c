/*
 * soak.c - the fault-injection soak: a client running a mix of GET, HEAD,
 * PUT and POST, pipelined over several connections, against the origin
 * server in its chaos mode (test/servers/origin.c --chaos SEED), which
 * closes, resets, truncates, trickles, sends 1xx, Connection: close,
 * Keep-Alive: max and stray 408s at random but reproducibly.
 *
 *   soak ORIGIN_PATH [--requests N] [--seed S] [--depth D] [--conns C]
 *        [--window W] [--fail-at K] [--fail-every K]
 *
 * Passes (exit 0) when every request ended exactly once; every idempotent
 * request succeeded or ended with an error its fate allows (its response
 * began and was cut, its replays ran out, or it was lost on a new
 * connection, which is never re-sent); no response was delivered for
 * another request (each carries its id in X-Id and in its body); the
 * server processed no POST twice and every POST it processed was reported
 * as a success or as "may have been processed"; no descriptor leaked; and
 * nothing stays allocated after h1c_client_free(). Prints one JSON line of
 * counts, and the live heap and peak RSS along the way.
 *
 * --fail-at K fails the library's K-th allocation, --fail-every K every
 * K-th (allocation-failure torture of the whole workload): a request may
 * then also be refused or end with H1C_ENOMEM, which, like
 * H1C_EUNANSWERED, says nothing of whether the server processed it; every
 * other check holds (the heap's flatness is not measured).
 */
#define _GNU_SOURCE
#include "h1c.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* spawn.h asserts with cmocka's names: here a failure ends the run. */
#define assert_int_equal(a, b)                                                          \
	do {                                                                            \
		if ((a) != (b)) {                                                       \
			fprintf(stderr, "soak: %s:%d: %s != %s\n", __FILE__, __LINE__, #a, #b); \
			exit(2);                                                        \
		}                                                                       \
	} while (0)
#define assert_true(x) assert_int_equal(!!(x), 1)
#include "../unit/spawn.h"

/* What became of each request (one byte each, so a million stay small). */
enum {
	O_PENDING,
	O_OK,         /* 200 with its own id and body */
	O_408,        /* the server said it did not process it */
	O_UNANSWERED, /* H1C_EUNANSWERED: may have been processed */
	O_CUT,        /* its response began and was cut */
	O_NOTSENT,    /* H1C_ENOTSENT */
	O_WRONG,      /* anything else: a failure */
	O_NOMEM       /* refused or ended with H1C_ENOMEM (torture only) */
};

struct slot {
	unsigned long id;
	const char *method;
	char body[32];     /* "id=N", the PUT or POST body */
	char want[32];     /* "id=N;", the start of the response body */
	size_t want_len, got;
	int status, id_ok, bad_body;
	int ended;
};

static unsigned char *outcome; /* per request id */
static unsigned long nreq, issued, ended_total, failures;
static unsigned long counts[8], by_method_ok[4], replayed_ok, replayed_reqs;
static struct h1c_client *client;
static char base[64];
static struct slot *slots;
static int window;

/* Allocations through the hooks, to see the heap stay flat and empty;
 * and the torture's: which to fail. */
static long long live_bytes, live_blocks, allocs, fail_at, fail_every, failed_allocs;

/* Allocations are being failed: H1C_ENOMEM is an outcome, not a failure. */
static int torturing(void)
{
	return fail_at || fail_every;
}

static int fail_this(void)
{
	allocs++;
	if ((fail_at && allocs == fail_at) || (fail_every && allocs % fail_every == 0)) {
		failed_allocs++;
		return 1;
	}
	return 0;
}

struct hdr {
	size_t size;
	size_t pad;
};

static void *a_malloc(void *u, size_t n)
{
	struct hdr *h = fail_this() ? NULL : malloc(sizeof(*h) + n);
	(void)u;
	if (!h)
		return NULL;
	h->size = n;
	live_bytes += (long long)n;
	live_blocks++;
	return h + 1;
}

static void a_free(void *u, void *p)
{
	struct hdr *h;
	(void)u;
	if (!p)
		return;
	h = (struct hdr *)p - 1;
	live_bytes -= (long long)h->size;
	live_blocks--;
	free(h);
}

static void *a_realloc(void *u, void *p, size_t n)
{
	struct hdr *h, *nh;
	if (!p)
		return a_malloc(u, n);
	if (fail_this())
		return NULL;
	h = (struct hdr *)p - 1;
	nh = realloc(h, sizeof(*nh) + n);
	if (!nh)
		return NULL;
	live_bytes += (long long)n - (long long)nh->size;
	nh->size = n;
	return nh + 1;
}

static const struct h1c_allocator counting = {
	.size = sizeof(counting),
	.malloc = a_malloc,
	.realloc = a_realloc,
	.free = a_free,
};

static void fail(const struct slot *s, const char *why)
{
	failures++;
	if (failures <= 20)
		fprintf(stderr, "soak: FAIL request %lu (%s): %s\n", s ? s->id : 0,
		        s ? s->method : "-", why);
}

static int on_head(void *user, const struct h1c_response *r)
{
	struct slot *s = user;
	size_t i;

	s->status = r->status;
	for (i = 0; i < r->num_headers; i++) {
		const struct h1c_header *h = &r->headers[i];
		if (h->name_len == 4 && strncasecmp(h->name, "X-Id", 4) == 0)
			s->id_ok = h->value_len == s->want_len - 4 &&
			           memcmp(h->value, s->want + 3, h->value_len) == 0;
	}
	return 0;
}

static int on_data(void *user, const char *p, size_t n)
{
	struct slot *s = user;
	size_t i;

	for (i = 0; i < n; i++, s->got++) {
		char want = s->got < s->want_len ? s->want[s->got] : 'x';
		if (p[i] != want)
			s->bad_body = 1;
	}
	return 0;
}

static void submit(struct slot *s);

static void on_done(void *user, int err, unsigned flags)
{
	struct slot *s = user;
	int idem = s->method[0] != 'P' || s->method[1] == 'U';
	int o;

	if (s->ended++ || outcome[s->id] != O_PENDING) {
		fail(s, "ended twice");
		return;
	}
	ended_total++;
	if (flags & H1C_DONE_REPLAYED)
		replayed_reqs++;
	if (err == 0 && s->status == 200) {
		o = O_OK;
		if (!s->id_ok)
			fail(s, "a response for another request (X-Id)");
		if (s->bad_body || (s->method[0] == 'H' ? s->got != 0 : s->got < s->want_len))
			fail(s, "a body that is not this request's");
		by_method_ok[s->method[0] == 'G' ? 0 : s->method[0] == 'H' ? 1 : s->method[1] == 'U' ? 2 : 3]++;
		if (flags & H1C_DONE_REPLAYED)
			replayed_ok++;
	} else if (err == 0 && s->status == 408) {
		o = O_408;
	} else if (err == 0) {
		o = O_WRONG;
		fail(s, "an unexpected status");
	} else if (err == H1C_EUNANSWERED) {
		o = O_UNANSWERED;
		/* An idempotent request ends so only when its replays ran out,
		 * or when it was lost on a new connection (never re-sent:
		 * that is the server's answer). */
		if (idem && !(flags & H1C_DONE_REPLAYED) && (flags & H1C_DONE_REUSED))
			fail(s, "idempotent request unanswered without a replay");
	} else if (err == H1C_ETRUNCATED || err == H1C_EIO) {
		o = O_CUT;
		/* Cut before the caller saw a head: an idempotent request is
		 * re-sent instead, until its replays run out. */
		if (!s->status && idem && !(flags & H1C_DONE_REPLAYED) && (flags & H1C_DONE_REUSED))
			fail(s, "idempotent request cut before its head, not replayed");
	} else if (err == H1C_ENOTSENT) {
		o = O_NOTSENT;
		fail(s, "ENOTSENT for a body in memory");
	} else if (err == H1C_ENOMEM && torturing()) {
		o = O_NOMEM;
	} else {
		o = O_WRONG;
		fail(s, h1c_strerror(err));
	}
	outcome[s->id] = (unsigned char)o;
	counts[o]++;
	/* Every 500 requests the load drains, so connections sit idle (where
	 * the server's stray 408s land) before the next burst. */
	if (issued < nreq && issued % 500 != 0)
		submit(s);
}

/* The method of request id: six GETs, a HEAD, two PUTs, two POSTs in 11. */
static const char *method_of(unsigned long id)
{
	static const char *const methods[] = {"GET", "GET", "GET", "GET", "GET", "GET",
	                                      "HEAD", "PUT", "PUT", "POST", "POST"};
	return methods[id * 2654435761u % (sizeof(methods) / sizeof(methods[0]))];
}

static void submit(struct slot *s)
{
	struct h1c_request rq;
	char url[128];
	unsigned long id = ++issued;

	memset(s, 0, sizeof(*s));
	s->id = id;
	s->method = method_of(id);
	snprintf(s->body, sizeof(s->body), "id=%lu", id);
	s->want_len = (size_t)snprintf(s->want, sizeof(s->want), "id=%lu;", id);
	snprintf(url, sizeof(url), "%s/soak?id=%lu", base, id);
	memset(&rq, 0, sizeof(rq));
	rq.method = s->method;
	rq.url = url;
	if (s->method[0] == 'P') {
		rq.body = s->body;
		rq.body_len = strlen(s->body);
	}
	{
		static const struct h1c_callbacks cb = {
			.size = sizeof(cb),
			.on_head = on_head,
			.on_data = on_data,
			.on_done = on_done,
		};
		long long r = h1c_client_request(client, &rq, &cb, s);
		if (r == H1C_ENOMEM && torturing()) {
			/* Refused: no callback will come. */
			s->ended = 1;
			outcome[id] = O_NOMEM;
			counts[O_NOMEM]++;
			ended_total++;
		} else if (r <= 0) {
			fprintf(stderr, "soak: request refused: %s\n", h1c_strerror((int)r));
			exit(2);
		}
	}
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct h1c_stats st;
	const char *argv_s[8];
	char logpath[64], seed_s[32], line[128];
	unsigned long seed = 1, posts_seen = 0, posts_twice = 0, i;
	unsigned depth = 4, conns = 4;
	int port, fds_before, fds_after, fd;
	long long t0, mid_live = -1, quarter_live = -1;
	long rss_quarter = 0, rss_end;
	unsigned char *seen;
	FILE *f;
	pid_t pid;

	nreq = 20000;
	window = 64;
	if (argc < 2) {
		fprintf(stderr, "usage: soak ORIGIN_PATH [--requests N] [--seed S] [--depth D] "
		                "[--conns C] [--window W] [--fail-at K] [--fail-every K]\n");
		return 2;
	}
	for (i = 2; i + 1 < (unsigned long)argc; i += 2) {
		if (strcmp(argv[i], "--requests") == 0)
			nreq = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--depth") == 0)
			depth = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--conns") == 0)
			conns = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--window") == 0)
			window = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--fail-at") == 0)
			fail_at = atoll(argv[i + 1]);
		else if (strcmp(argv[i], "--fail-every") == 0)
			fail_every = atoll(argv[i + 1]);
		else
			return fprintf(stderr, "soak: unknown option %s\n", argv[i]), 2;
	}
	if (!nreq || window < 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	strcpy(logpath, "/tmp/h1c-soak-XXXXXX");
	fd = mkstemp(logpath);
	if (fd < 0)
		return perror("mkstemp"), 2;
	close(fd);
	snprintf(seed_s, sizeof(seed_s), "%lu", seed);
	argv_s[0] = argv[1];
	argv_s[1] = "--chaos";
	argv_s[2] = seed_s;
	argv_s[3] = "--log";
	argv_s[4] = logpath;
	argv_s[5] = NULL;
	pid = spawn_server(argv_s, &port);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);

	outcome = calloc(nreq + 1, 1);
	slots = calloc((size_t)window, sizeof(*slots));
	if (!outcome || !slots)
		return 2;
	memset(outcome, O_PENDING, nreq + 1); /* touched now: RSS then shows the library */
	fds_before = open_fds();
	memset(&co, 0, sizeof(co));
	co.pipeline_depth = depth;
	co.max_per_origin = conns;
	co.alloc = &counting;
	/* Keep pipelining through the faults (a real client backs off). */
	co.pipeline_backoff_ms = 1;
	/* The chaos server answers at once: a stuck request is a failure,
	 * found in seconds rather than the default minute. */
	co.head_timeout_ms = 5000;
	co.idle_timeout_ms = 5000;
	client = h1c_client_new(&co);
	if (!client && failed_allocs) {
		/* The torture failed the client's own allocation: refused. */
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		unlink(logpath);
		if (live_blocks != 0)
			return fprintf(stderr, "soak: h1c_client_new leaked\n"), 1;
		printf("{\"allocations\":%lld,\"client\":\"refused\"}\n1 passed, 0 failed (soak)\n",
		       allocs);
		return 0;
	}
	if (!client)
		return 2;
	t0 = now_ms();
	for (i = 0; i < (unsigned long)window && issued < nreq; i++)
		submit(&slots[i]);
	for (;;) {
		int left = h1c_client_run(client, 1000);
		if (left == H1C_ENOMEM && torturing())
			continue; /* the loop's own buffers; it runs again */
		if (left < 0) {
			fprintf(stderr, "soak: run: %s\n", h1c_strerror(left));
			return 2;
		}
		if (quarter_live < 0 && ended_total >= nreq / 4) {
			quarter_live = live_bytes;
			rss_quarter = peak_rss_kib();
		}
		if (mid_live < 0 && ended_total >= nreq / 2)
			mid_live = live_bytes;
		if (left == 0) {
			if (issued >= nreq)
				break;
			for (i = 0; i < (unsigned long)window && issued < nreq; i++)
				submit(&slots[i]);
		}
	}
	h1c_client_stats(client, &st, sizeof(st));
	rss_end = peak_rss_kib();
	h1c_client_free(client);
	fds_after = open_fds();
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* The server's record: no POST twice; each one processed was
	 * reported as done or as maybe done. */
	seen = calloc(nreq + 1, 1);
	f = fopen(logpath, "r");
	if (!seen || !f)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		unsigned long id;
		if (sscanf(line, "post id=%lu", &id) != 1 || id == 0 || id > nreq)
			continue;
		posts_seen++;
		if (seen[id]++) {
			posts_twice++;
			fail(NULL, "a POST processed twice");
		}
		if (outcome[id] != O_OK && outcome[id] != O_UNANSWERED && outcome[id] != O_CUT &&
		    outcome[id] != O_NOMEM)
			fail(NULL, "a POST processed but reported as not");
	}
	fclose(f);
	unlink(logpath);
	for (i = 1; i <= nreq; i++) {
		if (outcome[i] == O_PENDING)
			fail(NULL, "a request never ended");
		/* A POST reported done is one the server processed. */
		if (outcome[i] == O_OK && strcmp(method_of(i), "POST") == 0 && !seen[i])
			fail(NULL, "a POST reported done that the server never processed");
	}
	if (ended_total != nreq)
		fail(NULL, "ended count differs from requests");
	if (fds_after != fds_before)
		fail(NULL, "file descriptors leaked");
	if (live_blocks != 0)
		fail(NULL, "memory still allocated after h1c_client_free");
	/* Flat: between a quarter and half of the run the live heap may move
	 * with the connections open and their buffers, not with requests. */
	if (!torturing() && mid_live > 2 * quarter_live + 256 * 1024)
		fail(NULL, "the live heap grew with the requests");

	printf("{\"requests\":%lu,\"seed\":%lu,\"depth\":%u,\"conns\":%u,\"secs\":%.1f,"
	       "\"ok\":%lu,\"ok_get\":%lu,\"ok_head\":%lu,\"ok_put\":%lu,\"ok_post\":%lu,"
	       "\"ok_after_replay\":%lu,\"status_408\":%lu,\"unanswered\":%lu,\"cut\":%lu,"
	       "\"notsent\":%lu,\"wrong\":%lu,\"replayed_requests\":%lu,"
	       "\"posts_processed\":%lu,\"posts_twice\":%lu,"
	       "\"connections_opened\":%lu,\"connections_failed\":%lu,\"pipelined\":%lu,"
	       "\"pipeline_fallbacks\":%lu,\"stale_closed\":%lu,"
	       "\"fds_before\":%d,\"fds_after\":%d,\"live_heap_at_25pct\":%lld,"
	       "\"live_heap_at_50pct\":%lld,\"live_blocks_after_free\":%lld,"
	       "\"peak_rss_kib_at_25pct\":%ld,\"peak_rss_kib_at_end\":%ld,\"allocations\":%lld,"
	       "\"failed_allocations\":%lld,\"nomem\":%lu,\"failures\":%lu}\n",
	       nreq, seed, depth, conns, (double)(now_ms() - t0) / 1000.0, counts[O_OK],
	       by_method_ok[0], by_method_ok[1], by_method_ok[2], by_method_ok[3], replayed_ok,
	       counts[O_408], counts[O_UNANSWERED], counts[O_CUT], counts[O_NOTSENT],
	       counts[O_WRONG], replayed_reqs, posts_seen, posts_twice, st.connections_opened,
	       st.connections_failed, st.pipelined, st.pipeline_fallbacks, st.stale_closed,
	       fds_before, fds_after, quarter_live, mid_live, live_blocks, rss_quarter,
	       rss_end, allocs, failed_allocs, counts[O_NOMEM], failures);
	free(seen);
	free(outcome);
	free(slots);
	if (failures) {
		printf("0 passed, 1 failed (soak: %lu failures)\n", failures);
		return 1;
	}
	printf("1 passed, 0 failed (soak)\n");
	return 0;
}
