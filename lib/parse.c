/*
 * parse.c - the response head parser: status line and header fields.
 *
 * Zero-copy: every name, value and reason is a view into the caller's
 * buffer. Bounded: the head size and the field count have limits. Safe to
 * call again as bytes arrive: a call with last_len > 0 first looks for the
 * end of the head only in the new bytes, and parses the head once it is
 * whole, so bytes arriving one at a time cost linear time.
 *
 * Strict by RFC 9112 unless a tolerance (H1C_LENIENT_*) is asked for.
 */
#include "internal.h"

#include <string.h>

/* RFC 9110 section 5.6.2: tchar. */
const unsigned char h1c__tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* Returns 1 when b may appear in a field value or reason phrase without
 * scrutiny: VCHAR, obs-text or SP (RFC 9110 section 5.5). HTAB is allowed
 * too but is handled with the control bytes. */
static int plain_value_byte(unsigned char b)
{
	return b >= 0x20 && b != 0x7f;
}

/* Returns nonzero when one of the 8 bytes in v is a control byte (< 0x20 or
 * 0x7f). Bytes >= 0x80 never match. Independent of byte order. */
static uint64_t has_ctl8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;
	uint64_t low = (v - ones * 0x20) & ~v & highs;
	uint64_t del = v ^ (ones * 0x7f);
	uint64_t eq = (del - ones) & ~del & highs;
	return low | eq;
}

void h1c__options(struct h1c_options *out, const struct h1c_options *in)
{
	h1c__opts_copy(out, sizeof(*out), in, H1C__V02_OPTIONS);
	out->size = sizeof(*out);
	/* It sizes the array of field views: no "off". */
	if (out->max_headers > 65536)
		out->max_headers = 65536;
	if (!out->max_head_size)
		out->max_head_size = H1C_DEFAULT_MAX_HEAD_SIZE;
	if (!out->max_headers)
		out->max_headers = H1C_DEFAULT_MAX_HEADERS;
	if (!out->max_chunk_ext)
		out->max_chunk_ext = H1C_DEFAULT_MAX_CHUNK_EXT;
	if (!out->max_trailer_size)
		out->max_trailer_size = H1C_DEFAULT_MAX_TRAILER_SIZE;
	if (!out->max_interim)
		out->max_interim = H1C_DEFAULT_MAX_INTERIM;
}

/*
 * Scans a field value or reason phrase from p to the end of its line.
 * Stops at the CR or LF that ends it and returns that position, or returns
 * NULL with *err set (H1C_EINCOMPLETE when end is reached first).
 */
static H1C__INLINE const char *scan_value(const char *p, const char *end, unsigned lenient,
                                          unsigned *used, int *err)
{
	for (;;) {
		while (end - p >= 8) {
			uint64_t v, m;
			memcpy(&v, p, 8);
			m = has_ctl8(v);
			if (m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* The lowest flagged byte is exactly the first control
				 * byte (only bytes after it can be flagged falsely). */
				p += __builtin_ctzll(m) >> 3;
#endif
				break;
			}
			p += 8;
		}
		while (p < end && plain_value_byte((unsigned char)*p))
			p++;
		if (p == end) {
			*err = H1C_EINCOMPLETE;
			return NULL;
		}
		if (*p == '\r' || *p == '\n')
			return p;
		if (*p == '\t') {
			p++;
			continue;
		}
		/* A control byte. NUL is never accepted (RFC 9110 section 5.5). */
		if (*p != '\0' && (lenient & H1C_LENIENT_VALUE_CTL)) {
			*used |= H1C_LENIENT_VALUE_CTL;
			p++;
			continue;
		}
		*err = H1C_EHEADER;
		return NULL;
	}
}

/*
 * At p, which holds CR or LF, checks the line ending. Returns the position
 * after it, or NULL with *err set. RFC 9112 section 2.2: a bare CR is an
 * error; a bare LF is accepted only as a tolerance.
 */
static H1C__INLINE const char *line_end(const char *p, const char *end, unsigned lenient,
                                        unsigned *used, int *err)
{
	if (*p == '\r') {
		if (p + 1 == end) {
			*err = H1C_EINCOMPLETE;
			return NULL;
		}
		if (p[1] != '\n') {
			*err = H1C_ELINEEND;
			return NULL;
		}
		return p + 2;
	}
	if (!(lenient & H1C_LENIENT_BARE_LF)) {
		*err = H1C_ELINEEND;
		return NULL;
	}
	*used |= H1C_LENIENT_BARE_LF;
	return p + 1;
}

/* Names whose values decide framing or persistence: never folded. */
static int framing_field(const char *name, size_t n)
{
	return H1C__LIT_EQ(name, n, "content-length") ||
	       H1C__LIT_EQ(name, n, "transfer-encoding") ||
	       H1C__LIT_EQ(name, n, "connection") ||
	       H1C__LIT_EQ(name, n, "proxy-connection");
}

/*
 * Replaces every obs-fold (CRLF, or a bare LF under the tolerance, and the
 * spaces and tabs after it) in the values of h[0..n) with spaces, in place,
 * and trims the values again. Runs only on a section that parsed whole, so
 * a head parsed in pieces is never seen half rewritten, and the result does
 * not depend on how the bytes arrived.
 */
static void unfold(char *buf, struct h1c_header *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *v = buf + (h[i].value - buf), *e = v + h[i].value_len, *w;
		if (!memchr(v, '\n', h[i].value_len))
			continue;
		for (w = v; w < e; w++) {
			if (*w == '\r') {
				*w = ' ';
			} else if (*w == '\n') {
				*w = ' ';
				while (w + 1 < e && (w[1] == ' ' || w[1] == '\t'))
					*++w = ' ';
			}
		}
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		h[i].value = v;
		h[i].value_len = (size_t)(e - v);
	}
}

int h1c__parse_fields(char *buf, size_t len, size_t *pos, struct h1c_header *h,
                      size_t max, size_t *n, unsigned lenient, unsigned *used,
                      unsigned *flags, enum h1c__fields_ctx ctx)
{
	const char *end = buf + len;
	const char *p = buf + *pos;
	const int ebad = ctx == H1C__FIELDS_HEAD ? H1C_EHEADER : H1C_ETRAILER;
	size_t count = 0;
	int err = 0, folded = 0;

	for (;;) {
		const char *name, *value, *vend;
		size_t name_len;

		if (p == end)
			return H1C_EINCOMPLETE;
		if (*p == '\r' || *p == '\n') {
			p = line_end(p, end, lenient, used, &err);
			if (!p)
				return err;
			break;
		}
		/* RFC 9112 section 2.2: whitespace before the first field line
		 * (or a fold with nothing to continue) is rejected. */
		if (*p == ' ' || *p == '\t')
			return ebad;

		name = p;
		/* Token bytes, four at a time while the input lasts (one branch
		 * per four: the table holds 0 or 1). */
		while (end - p >= 4 && (h1c__tchar[(unsigned char)p[0]] & h1c__tchar[(unsigned char)p[1]] &
		                        h1c__tchar[(unsigned char)p[2]] & h1c__tchar[(unsigned char)p[3]]))
			p += 4;
		while (p < end && h1c__tchar[(unsigned char)*p])
			p++;
		if (p == end)
			return H1C_EINCOMPLETE;
		if (p == name)
			return ebad;
		name_len = (size_t)(p - name);
		if (*p != ':') {
			/* RFC 9112 section 5.1: no whitespace before the colon. */
			if (!(lenient & H1C_LENIENT_SPACE_BEFORE_COLON) ||
			    (*p != ' ' && *p != '\t'))
				return ebad;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				return H1C_EINCOMPLETE;
			if (*p != ':')
				return ebad;
			*used |= H1C_LENIENT_SPACE_BEFORE_COLON;
		}
		if (count >= max)
			return H1C_EHEADERCOUNT;
		p++; /* ':' */

		/* Leading OWS. */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		value = p;
		for (;;) {
			const char *next;

			p = scan_value(p, end, lenient, used, &err);
			if (!p)
				return err == H1C_EHEADER ? ebad : err;
			vend = p;
			next = line_end(p, end, lenient, used, &err);
			if (!next)
				return err;
			if (next == end)
				return H1C_EINCOMPLETE;
			if (*next != ' ' && *next != '\t') {
				p = next;
				break;
			}
			/* obs-fold (RFC 9112 section 5.2): never allowed in a framing
			 * field; elsewhere the value runs on, and unfold() replaces
			 * the fold with spaces once the whole section has parsed. */
			if (framing_field(name, name_len))
				return H1C_EOBSFOLD;
			folded = 1;
			p = next;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
		}
		/* Trailing OWS. */
		while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (h) {
			h[count].name = name;
			h[count].name_len = name_len;
			h[count].value = value;
			h[count].value_len = (size_t)(vend - value);
		}
		count++;
	}
	*pos = (size_t)(p - buf);
	*n = count;
	if (folded) {
		*flags |= H1C_RESP_FOLDED;
		if (h)
			unfold(buf, h, count);
	}
	return 0;
}

size_t h1c__find_section_end(const char *buf, size_t len, size_t from)
{
	const char *p = buf + from, *end = buf + len;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		if (!lf)
			return 0;
		if (lf + 1 < end && lf[1] == '\n')
			return (size_t)(lf + 2 - buf);
		if (lf + 2 < end && lf[1] == '\r' && lf[2] == '\n')
			return (size_t)(lf + 3 - buf);
		p = lf + 1;
	}
	return 0;
}

/*
 * Parses the status line at buf[0..len). On success stores the version,
 * status and reason and returns the offset after the line; else returns
 * 0 with *err set.
 */
static size_t parse_status_line(const char *buf, size_t len, struct h1c_response *resp,
                                unsigned lenient, unsigned *used, int *err)
{
	static const char name[] = "HTTP/1.";
	const char *p = buf, *end = buf + len, *reason;
	size_t i;

	/* RFC 9112 section 2.3: HTTP-version is case-sensitive. */
	for (i = 0; i < 7; i++) {
		if (i == len) {
			*err = H1C_EINCOMPLETE;
			return 0;
		}
		if (buf[i] != name[i]) {
			*err = H1C_EVERSION;
			return 0;
		}
	}
	p += 7;
	if (end - p < 2) {
		*err = H1C_EINCOMPLETE;
		return 0;
	}
	/* HTTP/1.0 and 1.1; a higher minor version is processed as 1.1
	 * (RFC 9112 section 2.3). */
	if (*p < '0' || *p > '9' || p[1] != ' ') {
		*err = H1C_EVERSION;
		return 0;
	}
	resp->version_minor = *p - '0';
	p += 2;
	if (end - p < 4) {
		for (; p < end; p++)
			if (*p < '0' || *p > '9') {
				*err = H1C_ESTATUS;
				return 0;
			}
		*err = H1C_EINCOMPLETE;
		return 0;
	}
	if (p[0] < '1' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9') {
		*err = H1C_ESTATUS;
		return 0;
	}
	resp->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	p += 3;
	if (*p == ' ') {
		p++;
	} else if ((*p == '\r' || *p == '\n') && (lenient & H1C_LENIENT_NO_REASON_SP)) {
		*used |= H1C_LENIENT_NO_REASON_SP;
	} else {
		*err = H1C_ESTATUS;
		return 0;
	}
	reason = p;
	p = scan_value(p, end, lenient, used, err);
	if (!p) {
		if (*err == H1C_EHEADER)
			*err = H1C_ESTATUS;
		return 0;
	}
	resp->reason = reason;
	resp->reason_len = (size_t)(p - reason);
	p = line_end(p, end, lenient, used, err);
	if (!p)
		return 0;
	return (size_t)(p - buf);
}

/* Parses a whole head from buf[0..len); see h1c_parse_response(). */
static int parse_head(char *buf, size_t len, struct h1c_response *resp,
                      struct h1c_header *headers, size_t max, unsigned lenient)
{
	unsigned used = 0;
	int err = 0;
	size_t pos, n = 0;

	resp->flags = 0;
	pos = parse_status_line(buf, len, resp, lenient, &used, &err);
	if (!pos)
		return err;
	err = h1c__parse_fields(buf, len, &pos, headers, max, &n, lenient, &used,
	                        &resp->flags, H1C__FIELDS_HEAD);
	if (err)
		return err;
	resp->headers = headers;
	resp->num_headers = n;
	if (used)
		resp->flags |= H1C_RESP_LENIENT;
	return (int)pos;
}

int h1c_parse_response(char *buf, size_t len, size_t last_len,
                       struct h1c_response *resp, struct h1c_header *headers,
                       size_t headers_cap, const struct h1c_options *opt)
{
	struct h1c_options o;
	size_t max_size, max, plen = len;
	unsigned lenient;
	int r;

	if (!buf || !resp || (!headers && headers_cap))
		return H1C_EINVAL;
	h1c__options(&o, opt);
	max_size = o.max_head_size;
	max = o.max_headers;
	lenient = o.lenient;
	if (max_size > (size_t)INT32_MAX)
		max_size = (size_t)INT32_MAX;
	if (headers && headers_cap < max)
		max = headers_cap;
	if (plen > max_size)
		plen = max_size;

	if (last_len) {
		/* Only the new bytes can complete the head. */
		size_t from = last_len >= 3 ? last_len - 3 : 0;
		if (last_len >= plen || !h1c__find_section_end(buf, plen, from)) {
			if (len < max_size)
				return H1C_EINCOMPLETE;
			/* At the limit: the first fault in the head, else its size. */
			r = parse_head(buf, plen, resp, headers, max, lenient);
			return r < 0 && r != H1C_EINCOMPLETE ? r : H1C_EHEADERSIZE;
		}
	}
	r = parse_head(buf, plen, resp, headers, max, lenient);
	if (r == H1C_EINCOMPLETE && len >= max_size)
		return H1C_EHEADERSIZE;
	return r;
}
