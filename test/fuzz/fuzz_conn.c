/*
 * fuzz_conn.c - libFuzzer target for the sans-I/O connection (lib/conn.c):
 * a fuzzer-chosen sequence of requests against a fuzzer-chosen stream of
 * server bytes. Asserts that every request ends exactly once (a final
 * response, or the connection's error or EOF taking the rest), that
 * responses are handed out in request order, and that nothing is reported
 * after an error.
 *
 * Input: byte 0: number of requests (1-16); byte 1: bit i set makes
 * request i a HEAD, byte 2: a POST; byte 3: feed size; the rest: the
 * server's bytes.
 */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h1c__conn c;
	int ids[16], ended[16] = {0};
	unsigned nreq, i, next_end = 0, heads, posts;
	size_t pos = 4, feed;
	int failed = 0;

	if (size < 4)
		return 0;
	nreq = 1 + data[0] % 16;
	heads = data[1];
	posts = data[2];
	feed = 1 + data[3] % 64;
	if (h1c__conn_init(&c, NULL, data[0] & 0x80, NULL) != 0)
		abort();
	for (i = 0; i < nreq; i++) {
		struct h1c__req r;
		memset(&r, 0, sizeof(r));
		r.method = (heads >> (i % 8)) & 1 ? "HEAD" : (posts >> (i % 8)) & 1 ? "POST" : "GET";
		r.target = "/";
		r.target_len = 1;
		r.host = "h";
		r.body_size = 0;
		ids[i] = (int)i;
		r.user = &ids[i];
		if (h1c__conn_request(&c, &r) != 0)
			abort();
	}
	h1c__conn_written(&c, c.out_len);
	for (;;) {
		struct h1c_event ev;
		void *user;
		int err;

		if (pos < size) {
			size_t n = size - pos < feed ? size - pos : feed;
			if (h1c__conn_feed(&c, (const char *)data + pos, n) != 0)
				abort();
			pos += n;
		}
		for (;;) {
			err = h1c__conn_next(&c, &ev, &user);
			if (err || ev.type == H1C_EV_NEED_MORE)
				break;
			if (next_end >= nreq || user != &ids[next_end])
				abort(); /* a response for the wrong request */
			if (ev.type == H1C_EV_DONE && !(c.rd.framing.flags & H1C_FRAMING_INTERIM)) {
				if (ended[next_end]++)
					abort();
				next_end++;
			}
		}
		if (err) {
			failed = 1;
			break;
		}
		if (pos >= size) {
			err = h1c__conn_eof(&c, &ev, &user);
			if (!err && ev.type == H1C_EV_DONE && next_end < nreq)
				ended[next_end++]++;
			failed = err != 0 || next_end < nreq;
			break;
		}
	}
	/* Each request ended once: by its response, or by the failure that
	 * ends every request still in flight. */
	for (i = 0; i < nreq; i++)
		if (ended[i] > 1 || (!failed && ended[i] != 1))
			abort();
	if (!failed && c.q_n != 0)
		abort();
	h1c__conn_free(&c);
	return 0;
}
