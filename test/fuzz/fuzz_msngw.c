/*
 * fuzz_msngw.c - libFuzzer target for the MSN gateway module's parsers:
 * the X-MSN-Messenger header parser and the MSNP command splitter.
 *
 * Input: byte 0 picks the split point (a fraction of the rest); the rest is
 * used twice: as a header value (the parse must stay inside it and name
 * views inside it), and as a stream of MSNP commands, cut whole and fed in
 * two parts at the split point: both must give the same commands, every
 * command inside the stream, and the parser must stay within the bytes it
 * was given (each part is an exact-size copy, so ASan catches an
 * over-read).
 */
#include "../../lib/msngw.c"

#include <stdint.h>

/* Cuts data[0..n) into commands fed in two parts; appends each command's
 * start and lengths to out. Returns the count, or -1 after an error. */
static long cut(const uint8_t *data, size_t n, size_t split, size_t *out, size_t max)
{
	char *buf = NULL;
	size_t have = 0, fed = 0, count = 0, base = 0;
	int k;

	for (k = 0; k < 2; k++) {
		size_t part = k == 0 ? split : n - split, off = 0;
		char *nb = realloc(buf, have + part ? have + part : 1);
		if (!nb) {
			free(buf);
			return -1;
		}
		buf = nb;
		memcpy(buf + have, data + fed, part);
		have += part;
		fed += part;
		for (;;) {
			size_t ll, pl;
			/* An exact-size copy of what is left, for ASan. */
			char *view = malloc(have - off ? have - off : 1);
			int rc;
			if (!view)
				break;
			memcpy(view, buf + off, have - off);
			rc = msnp_command(view, have - off, payload_in, NULL, 4096, &ll, &pl);
			free(view);
			if (rc < 0) {
				free(buf);
				return -1;
			}
			if (rc == 0)
				break;
			if (ll + pl > have - off)
				__builtin_trap();
			if (count + 3 <= max) {
				out[count++] = base + off;
				out[count++] = ll;
				out[count++] = pl;
			}
			off += ll + pl;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		base += off;
	}
	free(buf);
	return (long)count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t a[3 * 4096], b[3 * 4096];
	struct gw_header h;
	size_t n, split;
	long na, nb;
	char *v;

	if (size < 1)
		return 0;
	n = size - 1;
	split = n * data[0] / 255;
	v = malloc(n ? n : 1);
	if (!v)
		return 0;
	memcpy(v, data + 1, n);
	if (gw_header_parse(v, n, &h) == 0) {
		if (h.sid < v || h.sid + h.sid_len > v + n || h.sid_len == 0)
			__builtin_trap();
		if (h.gwip && (h.gwip < v || h.gwip + h.gwip_len > v + n))
			__builtin_trap();
	}
	free(v);
	/* The same commands whole and in two parts. */
	na = cut(data + 1, n, n, a, sizeof(a) / sizeof(a[0]));
	nb = cut(data + 1, n, split, b, sizeof(b) / sizeof(b[0]));
	if (na != nb || (na > 0 && memcmp(a, b, (size_t)na * sizeof(a[0])) != 0))
		__builtin_trap();
	return 0;
}
