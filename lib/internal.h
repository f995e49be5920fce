/*
 * internal.h - declarations shared between lib/ files. Never installed;
 * nothing here is API.
 */
#ifndef H1C_INTERNAL_H
#define H1C_INTERNAL_H

#include "h1c.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Asks the compiler to inline a small function on a hot path. */
#if defined(__GNUC__) || defined(__clang__)
#define H1C__INLINE inline __attribute__((always_inline))
#else
#define H1C__INLINE inline
#endif

/* Character classes, indexed by byte value. */
extern const unsigned char h1c__tchar[256]; /* RFC 9110 tchar */

/* Returns 1 when the view s[0..n) equals the NUL-terminated name, ignoring ASCII case. */
int h1c__ieq(const char *s, size_t n, const char *lit);

/*
 * Returns 1 when the view s[0..n) equals lit, a lower-case literal made of
 * letters and '-' only, ignoring ASCII case. OR-ing 0x20 folds case exactly
 * for such literals: only 'A'-'Z' and 'a'-'z' map onto a letter and only '-'
 * (or CR, which no view holds) onto '-'. Compares eight bytes at a time.
 */
static inline int h1c__lit_eq(const char *s, size_t n, const char *lit, size_t litlen)
{
	const uint64_t fold = 0x2020202020202020ull;
	size_t i = 0;

	if (n != litlen)
		return 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, s + i, 8);
		memcpy(&b, lit + i, 8);
		if ((a | fold) != b)
			return 0;
	}
	for (; i < n; i++)
		if (((unsigned char)s[i] | 0x20) != (unsigned char)lit[i])
			return 0;
	return 1;
}

/* h1c__lit_eq() with a string literal. */
#define H1C__LIT_EQ(s, n, lit) h1c__lit_eq((s), (n), lit, sizeof(lit) - 1)

/* Effective limits: options with every 0 replaced by its default. */
void h1c__options(struct h1c_options *out, const struct h1c_options *in);

/* Context in which a field section is parsed: chooses the error codes. */
enum h1c__fields_ctx { H1C__FIELDS_HEAD, H1C__FIELDS_TRAILER };

/*
 * Parses field lines from buf[*pos..len) up to and including the empty line
 * that ends the section. On success *pos is just past that empty line and
 * *n is the number of fields. Fields are stored in h[0..max) when h is not
 * NULL; more than max fields is H1C_EHEADERCOUNT. Tolerances used are added
 * to *used (H1C_LENIENT_* bits); folds set H1C_RESP_FOLDED in *flags.
 * Returns 0, H1C_EINCOMPLETE or an error.
 */
int h1c__parse_fields(char *buf, size_t len, size_t *pos, struct h1c_header *h,
                      size_t max, size_t *n, unsigned lenient, unsigned *used,
                      unsigned *flags, enum h1c__fields_ctx ctx);

/*
 * Returns the offset just past the first empty line (CRLF CRLF, or LF LF
 * when bare LF is tolerated) in buf[0..len), searching from `from`, or 0
 * when there is none yet.
 */
size_t h1c__find_section_end(const char *buf, size_t len, size_t from);

/*
 * Iterates over the elements of a comma-separated list in v[0..n): on each
 * call stores the next non-empty element, without surrounding OWS, in
 * *elem and *elem_len and returns 1; returns 0 at the end. *off is the cursor,
 * 0 at the start.
 */
int h1c__list_next(const char *v, size_t n, size_t *off, const char **elem,
                   size_t *elem_len);

#endif /* H1C_INTERNAL_H */
