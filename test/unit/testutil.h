/*
 * testutil.h - helpers shared by the unit tests: inputs that end at a
 * PROT_NONE guard page (so any over-read crashes at once), and a
 * transcript of what the reader makes of a byte stream fed in pieces.
 */
#ifndef H1C_TESTUTIL_H
#define H1C_TESTUTIL_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARD_CAP (1u << 20)

/* A region of GUARD_CAP bytes followed by an inaccessible page. */
static inline char *guard_region(void)
{
	static char *base;

	if (!base) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *m = mmap(NULL, GUARD_CAP + page, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			abort();
		if (mprotect(m + GUARD_CAP, page, PROT_NONE) != 0)
			abort();
		base = m;
	}
	return base;
}

/* Copies p[0..n) so that it ends right before the guard page; returns it. */
static inline char *guarded(const char *p, size_t n)
{
	char *g = guard_region() + GUARD_CAP - n;

	assert_true(n <= GUARD_CAP);
	if (n)
		memcpy(g, p, n);
	return g;
}

/* A growable text for transcripts. */
struct text {
	char s[65536];
	size_t n;
};

static inline void text_add(struct text *t, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && t->n + 5 < sizeof(t->s); i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f) {
			t->n += (size_t)snprintf(t->s + t->n, sizeof(t->s) - t->n, "\\x%02x", c);
		} else {
			t->s[t->n++] = (char)c;
		}
	}
	t->s[t->n] = '\0';
}

static inline void text_fmt(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		t->n += (size_t)k < sizeof(t->s) - t->n ? (size_t)k : sizeof(t->s) - t->n - 1;
}

static inline void text_fields(struct text *t, const char *tag, const struct h1c_header *f, size_t n)
{
	size_t i;

	text_fmt(t, " %s(", tag);
	for (i = 0; i < n; i++) {
		if (i)
			text_fmt(t, ",");
		text_add(t, f[i].name, f[i].name_len);
		text_fmt(t, "=");
		text_add(t, f[i].value, f[i].value_len);
	}
	text_fmt(t, ")");
}

/*
 * Feeds in[0..len) to a reader, making the next `sizes[k]` bytes available
 * at step k (the last size repeats; 0 means all at once), each time placed
 * to end at the guard page, then signals EOF. Writes a transcript:
 *   "[200 v1.1 length body=hello ka=1]" per response, with
 *   " P<n>(fields)" before each byteranges part, " T(fields)" for trailers,
 *   "!H1C_E..." for an error (which ends the transcript).
 * methods is a NULL-terminated list (GET after it runs out).
 */
static inline void transcript(const char *in, size_t len, const char *const *methods,
                       const struct h1c_options *opt, const size_t *sizes, size_t nsizes,
                       struct text *t)
{
	static char master[GUARD_CAP];
	struct h1c_header hdr[512];
	struct h1c_reader rd;
	size_t pos = 0, avail, step = 0, mi = 0;

	assert_true(len <= sizeof(master));
	memcpy(master, in, len);
	t->n = 0;
	t->s[0] = '\0';
	assert_int_equal(h1c_reader_init(&rd, opt, hdr, 512), 0);
#define NEXT_SIZE() (sizes[step < nsizes ? step : nsizes - 1])
	avail = NEXT_SIZE() == 0 ? len : (NEXT_SIZE() < len ? NEXT_SIZE() : len);
	step++;
	for (;;) {
		struct h1c_event ev;
		const char *m = methods && methods[mi] ? methods[mi] : "GET";
		char *g = guarded(master + pos, avail - pos);
		int n = h1c_reader_feed(&rd, g, avail - pos, m, &ev);

		if (n < 0) {
			text_fmt(t, "!%s", h1c_errname(n));
			return;
		}
		/* Keep what the library wrote (obs-fold replacement). */
		memcpy(master + pos, g, avail - pos);
		switch (ev.type) {
		case H1C_EV_NEED_MORE:
			if (avail < len) {
				size_t s = NEXT_SIZE();
				step++;
				avail = s == 0 || avail + s > len ? len : avail + s;
				pos += (size_t)n;
				continue;
			}
			pos += (size_t)n;
			g = guarded(master + pos, len - pos);
			n = h1c_reader_eof(&rd, g, len - pos, &ev);
			if (n < 0) {
				text_fmt(t, "!%s", h1c_errname(n));
				return;
			}
			if (ev.type != H1C_EV_DONE)
				return;
			text_fmt(t, " ka=%d]", rd.framing.keep_alive);
			return;
		case H1C_EV_HEAD:
			text_fmt(t, "[%d v1.%d %s body=", rd.resp.status, rd.resp.version_minor,
			         h1c_framing_name(rd.framing.kind));
			break;
		case H1C_EV_DATA:
			text_add(t, ev.data, ev.len);
			break;
		case H1C_EV_PART:
			text_fields(t, "P", ev.fields, ev.num_fields);
			text_fmt(t, "%u:", ev.part);
			break;
		case H1C_EV_TRAILERS:
			text_fields(t, "T", ev.fields, ev.num_fields);
			break;
		case H1C_EV_DONE:
			text_fmt(t, " ka=%d]", rd.framing.keep_alive);
			if (!(rd.framing.flags & H1C_FRAMING_INTERIM) && methods && methods[mi])
				mi++;
			break;
		}
		pos += (size_t)n;
	}
#undef NEXT_SIZE
}

/* Checks that in[] gives `want` whole, byte by byte, at every two-way split
 * (for inputs up to 600 bytes) and at seeded random splits. */
static inline void expect_stream(const char *in, size_t len, const char *const *methods,
                          const struct h1c_options *opt, const char *want)
{
	static struct text t;
	size_t whole[1] = {0}, one[1] = {1}, two[2], rnd[64];
	unsigned seed = 12345;
	size_t k, r;

	transcript(in, len, methods, opt, whole, 1, &t);
	if (strcmp(t.s, want) != 0)
		fail_msg("whole:\n  got  %s\n  want %s", t.s, want);
	transcript(in, len, methods, opt, one, 1, &t);
	if (strcmp(t.s, want) != 0)
		fail_msg("byte by byte:\n  got  %s\n  want %s", t.s, want);
	for (k = 1; k < len && len <= 600; k++) {
		two[0] = k;
		two[1] = 0;
		transcript(in, len, methods, opt, two, 2, &t);
		if (strcmp(t.s, want) != 0)
			fail_msg("split at %zu:\n  got  %s\n  want %s", k, t.s, want);
	}
	for (r = 0; r < 8; r++) {
		for (k = 0; k < 64; k++) {
			seed = seed * 1103515245u + 12345u;
			rnd[k] = 1 + (seed >> 16) % 17;
		}
		rnd[63] = 0;
		transcript(in, len, methods, opt, rnd, 64, &t);
		if (strcmp(t.s, want) != 0)
			fail_msg("random split %zu:\n  got  %s\n  want %s", r, t.s, want);
	}
}

#endif /* H1C_TESTUTIL_H */
