/*
 * bench.h - what the benchmark's files share. llhttp's and http-parser's
 * headers declare the same enumerators, so each peer lives in its own file.
 */
#ifndef H1C_BENCH_H
#define H1C_BENCH_H

#include <stddef.h>

struct bcase {
	const char *name;
	char *buf;   /* whole response */
	size_t len;
	size_t head; /* head length */
	int chunked;
	size_t body_len; /* decoded */
};

/* Keeps the compiler from dropping the work. */
extern volatile size_t sink;

/* The header-view and body callbacks, shared by both callback parsers. */
struct cb_state {
	size_t nh, got;
	const char *names[64];
	const char *values[64];
	int done;
};

void bench_peers_init(void);
int run_llhttp(const struct bcase *c, char *buf);
int run_http_parser(const struct bcase *c, char *buf);

#endif
