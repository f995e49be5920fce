/*
 * fuzz_conn.c - libFuzzer target for the sans-I/O connection (lib/conn.c):
 * a fuzzer-chosen sequence of requests against a fuzzer-chosen stream of
 * server bytes. Requests are issued as the client would: some up front
 * (a pipeline), the rest one per finished response while the connection
 * still takes requests. Asserts that every issued request ends exactly
 * once (a final response, or the connection's error or EOF taking the
 * rest), that responses are handed out in request order and never for a
 * request not yet written, and that once an error was reported the
 * connection takes nothing more to write.
 *
 * Input: byte 0: number of requests (1-16), bit 7: via a proxy; byte 1:
 * bit i set makes request i a HEAD, byte 2: a POST; byte 3: feed size;
 * byte 4: how many are pipelined up front; the rest: the server's bytes.
 */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned heads, posts;
static int ids[16];

static void issue(struct h1c__conn *c, unsigned i)
{
	struct h1c__req r;
	size_t before = c->out_len;

	memset(&r, 0, sizeof(r));
	r.method = (heads >> (i % 8)) & 1 ? "HEAD" : (posts >> (i % 8)) & 1 ? "POST" : "GET";
	r.target = "/";
	r.target_len = 1;
	r.host = "h";
	r.body_size = 0;
	ids[i] = (int)i;
	r.user = &ids[i];
	if (h1c__conn_request(c, &r) != 0 || c->out_len <= before)
		abort();
	h1c__conn_written(c, c->out_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h1c__conn c;
	int ended[16] = {0};
	unsigned nreq, i, issued = 0, next_end = 0;
	size_t pos = 5, feed;
	int failed = 0;

	if (size < 5)
		return 0;
	nreq = 1 + data[0] % 16;
	heads = data[1];
	posts = data[2];
	feed = 1 + data[3] % 64;
	if (h1c__conn_init(&c, NULL, data[0] & 0x80, NULL) != 0)
		abort();
	while (issued < 1 + data[4] % nreq)
		issue(&c, issued++);
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
			if (next_end >= issued || user != &ids[next_end])
				abort(); /* a response for the wrong request */
			if (ev.type == H1C_EV_DONE && !(c.rd.framing.flags & H1C_FRAMING_INTERIM)) {
				if (ended[next_end]++)
					abort();
				next_end++;
				/* The next request goes out only while the
				 * connection still takes requests. */
				if (issued < nreq && h1c__conn_may_send(&c))
					issue(&c, issued++);
			}
		}
		if (err) {
			failed = 1;
			break;
		}
		if (pos >= size) {
			err = h1c__conn_eof(&c, &ev, &user);
			if (!err && ev.type == H1C_EV_DONE && next_end < issued)
				ended[next_end++]++;
			failed = err != 0 || next_end < issued;
			break;
		}
	}
	/* Each request ended once: by its response, or by the failure that
	 * ends every request still in flight; nothing more is written on a
	 * connection that failed or saw its end. */
	for (i = 0; i < issued; i++)
		if (ended[i] > 1 || (!failed && ended[i] != 1))
			abort();
	if (!failed && c.q_n != 0)
		abort();
	if (h1c__conn_may_send(&c) || c.out_len != 0)
		abort();
	h1c__conn_free(&c);
	return 0;
}
