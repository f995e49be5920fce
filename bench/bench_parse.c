/*
 * bench_parse.c - h1c's head parser and body decoders against
 * picohttpparser (Debian's libh2o0.13 exports phr_*), llhttp (Debian's
 * node-llhttp sources) and http-parser (Debian's libhttp-parser-dev), on the
 * same responses, in the same run, all built at -O2.
 *
 * Prints a table of MB/s and responses/s per case and parser with the ratio
 * h1c / peer, then the same as JSON lines. It measures; it never fails.
 *
 * Each parser does what a client needs from it: the head into name/value
 * views (callbacks that record them, for llhttp and http-parser), and for
 * bodies the decoded data located. picohttpparser decodes chunked bodies in
 * place, so it is handed fresh copies prepared outside the timed region.
 */
#include <h1c.h>

#include "bench.h"
#include "measure.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* ---- picohttpparser, declared here (no header is packaged) -------------- */

struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct phr_chunked_decoder {
	size_t bytes_left_in_chunk;
	char consume_trailer;
	char hex_count_;
	char state_;
	char spare_[64]; /* room for fields newer versions append */
};

int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status,
                       const char **msg, size_t *msg_len, struct phr_header *headers,
                       size_t *num_headers, size_t last_len);
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

/* ---- the corpus ---------------------------------------------------------- */

static char *grow(char *p, size_t *len, const char *add, size_t n)
{
	p = realloc(p, *len + n + 1);
	if (!p)
		exit(2);
	memcpy(p + *len, add, n);
	*len += n;
	p[*len] = '\0';
	return p;
}

static void make_chunked(struct bcase *c, const char *name, size_t chunk, size_t total)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
	                           "Date: Sun, 22 Nov 2026 20:00:00 GMT\r\n"
	                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	                           "Connection: keep-alive\r\n\r\n";
	char line[32], *data;
	size_t done = 0;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->chunked = 1;
	c->buf = grow(NULL, &c->len, head, sizeof(head) - 1);
	c->head = c->len;
	data = malloc(chunk);
	if (!data)
		exit(2);
	memset(data, 'x', chunk);
	while (done < total) {
		int n = snprintf(line, sizeof(line), "%zx\r\n", chunk);
		c->buf = grow(c->buf, &c->len, line, (size_t)n);
		c->buf = grow(c->buf, &c->len, data, chunk);
		c->buf = grow(c->buf, &c->len, "\r\n", 2);
		done += chunk;
	}
	c->buf = grow(c->buf, &c->len, "0\r\n\r\n", 5);
	c->body_len = done;
	free(data);
}

static void make_fixed(struct bcase *c, const char *name, const char *head, size_t body)
{
	char *b = malloc(body + 1);

	if (!b)
		exit(2);
	memset(b, 'y', body);
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->buf = grow(NULL, &c->len, head, strlen(head));
	c->head = c->len;
	c->buf = grow(c->buf, &c->len, b, body);
	c->body_len = body;
	free(b);
}

/* ---- the parsers --------------------------------------------------------- */

volatile size_t sink;

static int run_h1c(const struct bcase *c, char *buf)
{
	struct h1c_header h[64];
	struct h1c_reader rd;
	struct h1c_event ev;
	size_t pos = 0, got = 0;

	h1c_reader_init(&rd, NULL, h, 64);
	for (;;) {
		int n = h1c_reader_feed(&rd, buf + pos, c->len - pos, "GET", &ev);
		if (n < 0)
			return -1;
		pos += (size_t)n;
		if (ev.type == H1C_EV_DATA)
			got += ev.len;
		else if (ev.type == H1C_EV_DONE || ev.type == H1C_EV_NEED_MORE)
			break;
	}
	sink += got + rd.resp.num_headers;
	return got == c->body_len ? 0 : -1;
}

/* The low-level API, used as picohttpparser is: the head parser, then the
 * chunked decoder straight on the body (no framing decision, no reader). */
static int run_h1c_low(const struct bcase *c, char *buf)
{
	struct h1c_header h[64];
	struct h1c_response r;
	size_t got = 0;
	int n = h1c_parse_response(buf, c->len, 0, &r, h, 64, NULL);

	if (n != (int)c->head)
		return -1;
	if (c->chunked) {
		struct h1c_framing f;
		struct h1c_body dec;
		struct h1c_event ev;
		size_t pos = (size_t)n;
		memset(&f, 0, sizeof(f));
		f.kind = H1C_FRAMING_CHUNKED;
		h1c_body_init(&dec, &f, NULL, NULL, 0);
		do {
			int k = h1c_body_decode(&dec, buf + pos, c->len - pos, &ev);
			if (k < 0)
				return -1;
			pos += (size_t)k;
			if (ev.type == H1C_EV_DATA)
				got += ev.len;
		} while (ev.type != H1C_EV_DONE && ev.type != H1C_EV_NEED_MORE && ev.type != H1C_EV_TRAILERS);
	} else {
		got = c->len - (size_t)n;
	}
	sink += got + r.num_headers;
	return got == c->body_len ? 0 : -1;
}

static int run_pico(const struct bcase *c, char *buf)
{
	struct phr_header h[64];
	size_t nh = 64, got;
	int minor, status;
	const char *msg;
	size_t msg_len;
	int n = phr_parse_response(buf, c->len, &minor, &status, &msg, &msg_len, h, &nh, 0);

	if (n != (int)c->head)
		return -1;
	if (c->chunked) {
		struct phr_chunked_decoder d;
		size_t sz = c->len - (size_t)n;
		memset(&d, 0, sizeof(d));
		d.consume_trailer = 1;
		if (phr_decode_chunked(&d, buf + n, &sz) < 0)
			return -1;
		got = sz;
	} else {
		got = c->len - (size_t)n; /* Content-Length: the body is where it is */
	}
	sink += got + nh;
	return got == c->body_len ? 0 : -1;
}

/* ---- timing -------------------------------------------------------------- */

#define COPIES 32
#define ROUNDS 25

/* Per-parser state for the interleaved measurement of one case. */
struct slot {
	int (*fn)(const struct bcase *, char *);
	int in_place;
	char *copies[COPIES];
	size_t per_round;
	double best;
};

/* Times one batch of per_round responses; returns seconds. */
static double batch(const struct bcase *c, struct slot *s)
{
	double total = 0;
	size_t done = 0, i;

	while (done < s->per_round) {
		size_t n = s->per_round - done < COPIES ? s->per_round - done : COPIES;
		double t0 = bench_now();
		for (i = 0; i < n; i++)
			s->fn(c, s->copies[i]);
		total += bench_now() - t0;
		if (s->in_place) /* outside the timed region */
			for (i = 0; i < n; i++)
				memcpy(s->copies[i], c->buf, c->len);
		done += n;
	}
	return total;
}

/*
 * Measures every parser on one case. The rounds are interleaved (each round
 * times every parser once, in turn) and the best round of each counts, so a
 * slow spell of the machine does not fall on one parser only.
 */
static void measure_case(const struct bcase *c, struct slot *slots, size_t np)
{
	size_t j, i;
	int round;

	for (j = 0; j < np; j++) {
		struct slot *s = &slots[j];
		for (i = 0; i < COPIES; i++) {
			s->copies[i] = realloc(s->copies[i], c->len + 1);
			if (!s->copies[i])
				exit(2);
			memcpy(s->copies[i], c->buf, c->len);
		}
		if (s->fn(c, s->copies[0]) != 0) {
			fprintf(stderr, "bench: a parser failed on %s\n", c->name);
			exit(1);
		}
		memcpy(s->copies[0], c->buf, c->len);
		/* Calibrate to about 20 ms per batch. */
		for (s->per_round = 1; s->per_round < (1u << 30); s->per_round *= 2)
			if (batch(c, s) > 0.02)
				break;
		s->best = 1e30;
	}
	for (round = 0; round < ROUNDS; round++)
		for (j = 0; j < np; j++) {
			double t = batch(c, &slots[j]) / (double)slots[j].per_round;
			if (t < slots[j].best)
				slots[j].best = t;
		}
}

int main(int argc, char **argv)
{
	static const char nginx_head[] =
		"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 20:00:00 GMT\r\n"
		"Content-Type: text/html\r\nContent-Length: 615\r\n"
		"Last-Modified: Tue, 13 Jun 2023 15:08:10 GMT\r\nConnection: keep-alive\r\n"
		"ETag: \"6488865a-267\"\r\nAccept-Ranges: bytes\r\n\r\n";
	static const char cdn_head[] =
		"HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 20:00:00 GMT\r\n"
		"Content-Type: application/javascript; charset=utf-8\r\nContent-Length: 0\r\n"
		"Connection: keep-alive\r\nCache-Control: public, max-age=31536000, immutable\r\n"
		"ETag: W/\"5f2b-1d3c8a9e7f0\"\r\nLast-Modified: Mon, 02 Nov 2026 10:11:12 GMT\r\n"
		"Vary: Accept-Encoding, Origin\r\nAccess-Control-Allow-Origin: *\r\n"
		"Strict-Transport-Security: max-age=63072000; includeSubDomains; preload\r\n"
		"X-Content-Type-Options: nosniff\r\nX-Frame-Options: SAMEORIGIN\r\n"
		"Age: 86313\r\nX-Cache: HIT, HIT\r\nX-Cache-Hits: 12, 7\r\n"
		"X-Served-By: cache-fra-etou8220052-FRA, cache-ams21040-AMS\r\n"
		"X-Timer: S1763841600.123456,VS0,VE1\r\nAlt-Svc: h3=\":443\";ma=86400\r\n"
		"Server-Timing: cdn-cache; desc=HIT, edge; dur=1, origin; dur=0\r\n"
		"Via: 1.1 varnish, 1.1 varnish\r\n\r\n";
	struct bcase cases[5];
	static const struct {
		const char *name;
		int (*fn)(const struct bcase *, char *);
		int in_place;
	} parsers[] = {
		{"h1c-reader", run_h1c, 0},
		{"h1c-lowlevel", run_h1c_low, 0},
		{"picohttpparser", run_pico, 1},
		{"llhttp", run_llhttp, 0},
		{"http-parser", run_http_parser, 0},
	};
	enum { NP = sizeof(parsers) / sizeof(parsers[0]) };
	double secs[5][NP];
	size_t i, j;

	bench_peers_init();

	make_fixed(&cases[0], "nginx-static-615B", nginx_head, 615);
	make_fixed(&cases[1], "cdn-20-headers", cdn_head, 0);
	make_chunked(&cases[2], "chunked-1B", 1, 2048);
	make_chunked(&cases[3], "chunked-100B", 100, 25600);
	make_chunked(&cases[4], "chunked-16KiB", 16384, 262144);

	/* "--run CASE PARSER N": N responses, no timing, for bench/instr.sh
	 * to count instructions under callgrind. */
	if (argc == 5 && strcmp(argv[1], "--run") == 0) {
		size_t ci = strtoul(argv[2], NULL, 10), pi = strtoul(argv[3], NULL, 10);
		size_t k, n = strtoul(argv[4], NULL, 10);
		char *copy;
		if (ci >= 5 || pi >= NP)
			return 2;
		copy = malloc(cases[ci].len + 1);
		if (!copy)
			return 2;
		memcpy(copy, cases[ci].buf, cases[ci].len);
		for (k = 0; k < n; k++) {
			/* Only an in-place decoder needs fresh input each time; the
			 * copy is then part of what it costs. */
			if (parsers[pi].in_place)
				memcpy(copy, cases[ci].buf, cases[ci].len);
			if (parsers[pi].fn(&cases[ci], copy) != 0)
				return 1;
		}
		free(copy);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--names") == 0) {
		for (i = 0; i < 5; i++)
			printf("case %zu %s\n", i, cases[i].name);
		for (j = 0; j < NP; j++)
			printf("parser %zu %s\n", j, parsers[j].name);
		return 0;
	}
	for (i = 0; i < 5; i++) {
		struct slot slots[NP];
		memset(slots, 0, sizeof(slots));
		for (j = 0; j < NP; j++) {
			slots[j].fn = parsers[j].fn;
			slots[j].in_place = parsers[j].in_place;
		}
		measure_case(&cases[i], slots, NP);
		for (j = 0; j < NP; j++) {
			secs[i][j] = slots[j].best;
			for (size_t k = 0; k < COPIES; k++)
				free(slots[j].copies[k]);
		}
	}

	printf("h1c %s parser benchmark (best of %d interleaved rounds, one run, -O2)\n", h1c_version(), ROUNDS);
	printf("h1c-reader: h1c_reader_feed (head, framing decision, keep-alive verdict, body)\n");
	printf("h1c-lowlevel: h1c_parse_response + h1c_body_decode, as picohttpparser is used\n");
	printf("ratios: peer time / h1c time (> 1: h1c is faster)\n\n");
	printf("%-18s %-15s %10s %12s %9s %9s\n", "case", "parser", "MB/s", "resp/s",
	       "reader/x", "lowlvl/x");
	for (i = 0; i < 5; i++) {
		for (j = 0; j < NP; j++) {
			double mbs = (double)cases[i].len / secs[i][j] / 1e6;
			printf("%-18s %-15s %10.1f %12.0f", cases[i].name, parsers[j].name, mbs,
			       1.0 / secs[i][j]);
			if (j >= 2)
				printf(" %8.2fx %8.2fx", secs[i][j] / secs[i][0], secs[i][j] / secs[i][1]);
			printf("\n");
		}
	}
	printf("\n");
	for (i = 0; i < 5; i++)
		for (j = 0; j < NP; j++)
			printf("{\"case\":\"%s\",\"bytes\":%zu,\"parser\":\"%s\",\"mb_per_s\":%.1f,"
			       "\"responses_per_s\":%.0f,\"reader_ratio\":%.3f,\"lowlevel_ratio\":%.3f}\n",
			       cases[i].name, cases[i].len, parsers[j].name,
			       (double)cases[i].len / secs[i][j] / 1e6, 1.0 / secs[i][j],
			       secs[i][j] / secs[i][0], secs[i][j] / secs[i][1]);
	for (i = 0; i < 5; i++)
		free(cases[i].buf);
	return 0;
}
