/*
 * fuzz_decode.c - libFuzzer target for the head parser, the framing
 * decision and the body decoders, through the reader.
 *
 * Input: byte 0 picks the split size (0: whole), byte 1 the options
 * (tolerances, proxy, byteranges off, small limits), byte 2 the methods,
 * the rest is the stream. The stream is decoded whole and split; both
 * transcripts must be identical, and every buffer handed to the library is
 * an exact-size allocation so that ASan catches any over-read.
 */
#include <h1c.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char s[8192];
	size_t n;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (n > sizeof(o->s) - o->n)
		n = sizeof(o->s) - o->n;
	memcpy(o->s + o->n, p, n);
	o->n += n;
}

static void put_fields(struct out *o, const struct h1c_header *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		put(o, f[i].name, f[i].name_len);
		put(o, ":", 1);
		put(o, f[i].value, f[i].value_len);
		put(o, "\n", 1);
	}
}

static void run(const uint8_t *in, size_t len, size_t split, const struct h1c_options *opt,
                unsigned mbits, struct out *o)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "CONNECT"};
	struct h1c_header hdr[64];
	struct h1c_reader rd;
	char *master = malloc(len ? len : 1);
	size_t pos = 0, avail, nresp = 0;
	char tag[64];

	o->n = 0;
	if (!master)
		abort();
	memcpy(master, in, len);
	if (h1c_reader_init(&rd, opt, hdr, 64) != 0)
		abort();
	avail = split && split < len ? split : len;
	for (;;) {
		struct h1c_event ev;
		size_t wlen = avail - pos;
		char *w = malloc(wlen ? wlen : 1);
		const char *m = methods[(mbits >> (2 * (nresp % 4))) & 3];
		int n;

		if (!w)
			abort();
		memcpy(w, master + pos, wlen);
		n = h1c_reader_feed(&rd, w, wlen, m, &ev);
		if (n >= 0 && (size_t)n > wlen)
			abort(); /* consumed more than it was given */
		if (n >= 0) {
			switch (ev.type) {
			case H1C_EV_HEAD:
				snprintf(tag, sizeof(tag), "H%d.%d %s|", rd.resp.status,
				         rd.resp.version_minor, h1c_framing_name(rd.framing.kind));
				put(o, tag, strlen(tag));
				put_fields(o, rd.resp.headers, rd.resp.num_headers);
				break;
			case H1C_EV_DATA:
				if (ev.data < w || ev.data + ev.len > w + n)
					abort(); /* data outside the consumed bytes */
				put(o, ev.data, ev.len);
				break;
			case H1C_EV_TRAILERS:
			case H1C_EV_PART:
				put(o, ev.type == H1C_EV_PART ? "P|" : "T|", 2);
				put_fields(o, ev.fields, ev.num_fields);
				break;
			case H1C_EV_DONE:
				snprintf(tag, sizeof(tag), "D%d|", rd.framing.keep_alive);
				put(o, tag, strlen(tag));
				if (!(rd.framing.flags & H1C_FRAMING_INTERIM))
					nresp++;
				break;
			default:
				break;
			}
		}
		memcpy(master + pos, w, wlen);
		free(w);
		if (n < 0) {
			snprintf(tag, sizeof(tag), "E%d", n);
			put(o, tag, strlen(tag));
			break;
		}
		pos += (size_t)n;
		if (ev.type == H1C_EV_NEED_MORE) {
			if (avail < len) {
				avail = avail + split < len ? avail + split : len;
				continue;
			}
			n = h1c_reader_eof(&rd, master + pos, len - pos, &ev);
			/* An error is the same outcome whether feed or eof found it. */
			if (n < 0)
				snprintf(tag, sizeof(tag), "E%d", n);
			else
				snprintf(tag, sizeof(tag), "F%d", (int)ev.type);
			put(o, tag, strlen(tag));
			break;
		}
	}
	free(master);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out whole, pieces;
	struct h1c_options opt;
	size_t split;

	if (size < 3)
		return 0;
	memset(&opt, 0, sizeof(opt));
	split = data[0] % 24;
	opt.lenient = data[1] & H1C_LENIENT_ALL;
	opt.flags = (data[1] >> 5) & 3u;
	if (data[1] & 0x80) {
		opt.max_head_size = 200;
		opt.max_headers = 6;
		opt.max_chunk_ext = 12;
		opt.max_trailer_size = 40;
		opt.max_interim = 2;
	}
	run(data + 3, size - 3, 0, &opt, data[2], &whole);
	if (split == 0)
		return 0;
	run(data + 3, size - 3, split, &opt, data[2], &pieces);
	if (whole.n != pieces.n || memcmp(whole.s, pieces.s, whole.n) != 0) {
		fprintf(stderr, "whole and split (%zu) decodings differ:\n%.*s\n----\n%.*s\n", split,
		        (int)whole.n, whole.s, (int)pieces.n, pieces.s);
		abort();
	}
	return 0;
}
