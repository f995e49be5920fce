/*
 * body.c - the incremental body decoders, one per framing framing.c
 * decides (none, chunked, length, byteranges, close).
 *
 * Sans-I/O: the decoders work on the caller's bytes, report one event per
 * call and say how many bytes they used; the rest belongs to the next
 * pipelined response.
 */
#include "internal.h"

#include <string.h>

enum {
	S_DONE = 0,
	S_LENGTH,
	S_CLOSE,
	/* chunked */
	S_SIZE,
	S_SIZE_WS,
	S_EXT_NAME_START,
	S_EXT_NAME,
	S_EXT_NAME_WS,
	S_EXT_VAL_START,
	S_EXT_VAL_TOKEN,
	S_EXT_QUOTED,
	S_EXT_QUOTED_ESC,
	S_EXT_AFTER_VAL,
	S_SIZE_LF,
	S_DATA,
	S_DATA_CR,
	S_DATA_LF,
	S_TRAILERS,
	/* byteranges */
	S_PREAMBLE,
	S_PART_HEAD,
	S_PART_DATA,
	S_DELIM,
	S_AFTER_DELIM,
	S_AFTER_DASH,
	S_PADDING,
	S_PADDING_LF,
	S_CLOSE_PAD,
	S_CLOSE_LF
};

int h1c_body_init(struct h1c_body *dec, const struct h1c_framing *f,
                  const struct h1c_options *opt, struct h1c_header *fields,
                  size_t fields_cap)
{
	struct h1c_options o;

	if (!dec || !f || (!fields && fields_cap))
		return H1C_EINVAL;
	h1c__options(&o, opt);
	/* Field by field, not a memset of the whole: a decoder is set up for
	 * every response, and only byteranges reads the boundary, nothing the
	 * reserved room, so those bytes are left alone. */
	dec->state_ = 0;
	dec->remain_ = 0;
	dec->scanned_ = 0;
	dec->ext_len_ = 0;
	dec->part_ = 0;
	dec->digits_ = 0;
	dec->boundary_len_ = 0;
	dec->part_len_ = 0;
	dec->part_sized_ = 0;
	dec->used_lenient_ = 0;
	dec->kind_ = (int)f->kind;
	dec->lenient_ = o.lenient;
	dec->fields_ = fields;
	dec->fields_cap_ = fields_cap;
	dec->max_fields_ = o.max_headers;
	if (fields && fields_cap < dec->max_fields_)
		dec->max_fields_ = fields_cap;
	dec->max_chunk_ext_ = o.max_chunk_ext;
	dec->max_section_ = o.max_trailer_size;
	switch (f->kind) {
	case H1C_FRAMING_NONE:
		dec->state_ = S_DONE;
		break;
	case H1C_FRAMING_LENGTH:
		dec->remain_ = f->content_length;
		dec->state_ = f->content_length ? S_LENGTH : S_DONE;
		break;
	case H1C_FRAMING_CLOSE:
		dec->state_ = S_CLOSE;
		break;
	case H1C_FRAMING_CHUNKED:
		dec->state_ = S_SIZE;
		break;
	case H1C_FRAMING_BYTERANGES:
		if (!f->boundary || f->boundary_len == 0 || f->boundary_len > 70)
			return H1C_EINVAL;
		memcpy(dec->boundary_, "\r\n--", 4);
		memcpy(dec->boundary_ + 4, f->boundary, f->boundary_len);
		dec->boundary_len_ = f->boundary_len + 4;
		dec->state_ = S_PREAMBLE;
		break;
	default:
		return H1C_EINVAL;
	}
	return 0;
}


/* Returns the value of a hex digit, or -1. */
static H1C__INLINE int hexval(unsigned char c)
{
	/* Digit value + 1; 0 for everything else. */
	static const unsigned char hex1[256] = {
		['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
		['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13,
		['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13,
		['D'] = 14, ['E'] = 15, ['F'] = 16,
	};
	return (int)hex1[c] - 1;
}

/* Returns 1 when c may appear inside a quoted-string unescaped (qdtext). */
static int qdtext(unsigned char c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/*
 * Handles the byte that ends a chunk-size line (CR, or LF as a tolerance)
 * and returns the next state, or an error.
 */
static int chunk_line_end(struct h1c_body *d, unsigned char c)
{
	if (c == '\r')
		return S_SIZE_LF;
	if (c == '\n' && (d->lenient_ & H1C_LENIENT_BARE_LF)) {
		d->used_lenient_ |= H1C_LENIENT_BARE_LF;
		return d->remain_ ? S_DATA : S_TRAILERS;
	}
	return c == '\n' ? H1C_ELINEEND : H1C_ECHUNKEXT;
}

/*
 * Parses a field section (trailers or part headers) that starts at buf[0].
 * Returns its length when whole, 0 when more bytes are needed, or an error.
 */
static int take_section(struct h1c_body *d, char *buf, size_t len, size_t *nfields,
                        int esize)
{
	size_t end, pos = 0;
	unsigned used = 0, flags = 0;
	int err;

	if (len >= 1 && buf[0] == '\n' && (d->lenient_ & H1C_LENIENT_BARE_LF))
		end = 1;
	else if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
		end = 2;
	else
		end = h1c__find_section_end(buf, len > d->max_section_ ? d->max_section_ : len,
		                            d->scanned_ >= 3 ? d->scanned_ - 3 : 0);
	if (!end) {
		if (len >= d->max_section_)
			return esize;
		d->scanned_ = len;
		return 0;
	}
	d->scanned_ = 0;
	err = h1c__parse_fields(buf, end, &pos, d->fields_, d->max_fields_, nfields,
	                        d->lenient_, &used, &flags, H1C__FIELDS_TRAILER);
	if (err == H1C_EINCOMPLETE || (err == 0 && pos != end))
		err = H1C_ETRAILER;
	if (err)
		return err;
	d->used_lenient_ |= used;
	return (int)end;
}

/* Reports the chunk data at buf[i..len) that belongs to the current chunk
 * and returns the bytes consumed in this call. */
static H1C__INLINE int chunk_data(struct h1c_body *d, const char *buf, size_t len, size_t i,
                                  struct h1c_event *ev)
{
	size_t n = len - i;

	if ((uint64_t)n > d->remain_)
		n = (size_t)d->remain_;
	d->remain_ -= n;
	if (!d->remain_)
		d->state_ = S_DATA_CR;
	/* Once per chunk: only what a DATA event means is written. */
	ev->type = H1C_EV_DATA;
	ev->data = buf + i;
	ev->len = n;
	ev->fields = NULL;
	ev->num_fields = 0;
	ev->part = 0;
	return (int)(i + n);
}

/* Starts reading the next chunk-size line. */
static H1C__INLINE void chunk_start(struct h1c_body *d)
{
	d->state_ = S_SIZE;
	d->digits_ = 0;
	d->ext_len_ = 0;
}

/* Parses "HEX CRLF" (at most 15 digits, so no overflow; no extension) at
 * buf[i..len). Returns the index after the CRLF with the size in *size, or
 * 0 when the line has another shape or is not whole. */
static H1C__INLINE size_t size_line(const char *buf, size_t i, size_t len, uint64_t *size)
{
	size_t j = i, lim = len - i > 15 ? i + 15 : len;
	uint64_t n = 0;
	int v;

	while (j < lim && (v = hexval((unsigned char)buf[j])) >= 0) {
		n = n << 4 | (uint64_t)v;
		j++;
	}
	if (j == i || j + 1 >= len || buf[j] != '\r' || buf[j + 1] != '\n')
		return 0;
	*size = n;
	return j + 2;
}

/* A byte after or inside a word of the size line (the size, an
 * extension's name or token value): more of the word (in_word, a token),
 * blanks (then ws_state), ";" before the next extension, or the end of
 * the line; anything else is err. Returns 0 or an error. */
static int chunk_word_byte(struct h1c_body *d, unsigned char c, int in_word, int ws_state,
                           int err)
{
	int v;

	if (h1c__tchar[c] && in_word)
		return 0;
	if (c == ' ' || c == '\t') {
		d->state_ = ws_state;
	} else if (c == ';') {
		d->state_ = S_EXT_NAME_START;
	} else if (c == '\r' || c == '\n') {
		v = chunk_line_end(d, c);
		if (v < 0)
			return v;
		d->state_ = v;
	} else {
		return err;
	}
	return 0;
}

/* One byte of a chunk extension (RFC 9112 section 7.1.1): name, "=",
 * token or quoted value, ";" before the next. Returns 0 or an error. */
static int chunk_ext_byte(struct h1c_body *d, unsigned char c)
{
	switch (d->state_) {
	case S_EXT_NAME_START:
		if (c == ' ' || c == '\t')
			;
		else if (h1c__tchar[c])
			d->state_ = S_EXT_NAME;
		else
			return H1C_ECHUNKEXT;
		break;
	case S_EXT_NAME:
	case S_EXT_NAME_WS:
		if (c == '=') {
			d->state_ = S_EXT_VAL_START;
			break;
		}
		return chunk_word_byte(d, c, d->state_ == S_EXT_NAME, S_EXT_NAME_WS, H1C_ECHUNKEXT);
	case S_EXT_VAL_START:
		if (c == ' ' || c == '\t')
			;
		else if (c == '"')
			d->state_ = S_EXT_QUOTED;
		else if (h1c__tchar[c])
			d->state_ = S_EXT_VAL_TOKEN;
		else
			return H1C_ECHUNKEXT;
		break;
	case S_EXT_VAL_TOKEN:
	case S_EXT_AFTER_VAL:
		return chunk_word_byte(d, c, d->state_ == S_EXT_VAL_TOKEN, S_EXT_AFTER_VAL,
		                       H1C_ECHUNKEXT);
	case S_EXT_QUOTED:
		if (c == '"')
			d->state_ = S_EXT_AFTER_VAL;
		else if (c == '\\')
			d->state_ = S_EXT_QUOTED_ESC;
		else if (!qdtext(c))
			return H1C_ECHUNKEXT;
		break;
	case S_EXT_QUOTED_ESC:
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return H1C_ECHUNKEXT;
		d->state_ = S_EXT_QUOTED;
		break;
	default:
		break;
	}
	return 0;
}

/* One byte of a chunk's size line or of the CRLF after its data, in the
 * states that take the input a byte at a time. Returns 0 or an error. */
static int chunk_line_byte(struct h1c_body *d, unsigned char c)
{
	int v;

	switch (d->state_) {
	case S_SIZE:
		v = hexval(c);
		if (v >= 0) {
			if (d->remain_ > (UINT64_MAX >> 4) || ++d->digits_ > 64)
				return H1C_ECHUNKSIZE;
			d->remain_ = (d->remain_ << 4) | (uint64_t)v;
			return 0;
		}
		if (d->digits_ == 0)
			return H1C_ECHUNKSIZE;
		return chunk_word_byte(d, c, 0, S_SIZE_WS, H1C_ECHUNKSIZE);
	case S_SIZE_WS:
		/* BWS is allowed only before ";" (RFC 9112 section 7.1.1). */
		if (c == ' ' || c == '\t') {
			break;
		} else if (c == ';') {
			d->state_ = S_EXT_NAME_START;
		} else if (c == '\r' || c == '\n') {
			if (!(d->lenient_ & H1C_LENIENT_CHUNK_WS))
				return H1C_ECHUNKSIZE;
			d->used_lenient_ |= H1C_LENIENT_CHUNK_WS;
			v = chunk_line_end(d, c);
			if (v < 0)
				return v;
			d->state_ = v;
		} else {
			return H1C_ECHUNKSIZE;
		}
		break;
	case S_SIZE_LF:
		if (c != '\n')
			return H1C_ELINEEND;
		d->state_ = d->remain_ ? S_DATA : S_TRAILERS;
		break;
	case S_DATA_CR:
		if (c == '\n' && (d->lenient_ & H1C_LENIENT_BARE_LF)) {
			d->used_lenient_ |= H1C_LENIENT_BARE_LF;
			chunk_start(d);
			break;
		}
		if (c != '\r')
			return H1C_ECHUNKDATA;
		d->state_ = S_DATA_LF;
		break;
	case S_DATA_LF:
		if (c != '\n')
			return H1C_ECHUNKDATA;
		chunk_start(d);
		break;
	default:
		return chunk_ext_byte(d, c);
	}
	return 0;
}

/* The trailer section after the last chunk, from buf[i]. */
static int chunk_trailers(struct h1c_body *d, char *buf, size_t len, size_t i,
                          struct h1c_event *ev)
{
	size_t nf = 0;
	int r = take_section(d, buf + i, len - i, &nf, H1C_ETRAILERSIZE);

	if (r < 0)
		return r;
	if (r == 0) {
		h1c__ev_set(ev, H1C_EV_NEED_MORE);
		return (int)i;
	}
	d->state_ = S_DONE;
	if (nf == 0) {
		h1c__ev_set(ev, H1C_EV_DONE);
	} else {
		h1c__ev_set(ev, H1C_EV_TRAILERS);
		ev->fields = d->fields_;
		ev->num_fields = d->fields_ ? nf : 0;
	}
	return (int)(i + (size_t)r);
}

/* Decodes the chunked framing (RFC 9112 section 7.1). */
static H1C__INLINE int decode_chunked(struct h1c_body *d, char *buf, size_t len,
                                      struct h1c_event *ev)
{
	size_t i = 0, j;
	uint64_t size;

	/* The shape of nearly every call after the first: the CRLF that ends
	 * one chunk's data, the next size line, and data. Checked once here,
	 * before the loop, it saves about 11 instructions per chunk (119
	 * against 130 on one-byte chunks, callgrind). */
	if (d->state_ == S_DATA_CR && len >= 2 && buf[0] == '\r' && buf[1] == '\n' &&
	    (j = size_line(buf, 2, len, &size)) != 0 && size && j < len) {
		d->remain_ = size;
		d->state_ = S_DATA;
		return chunk_data(d, buf, len, j, ev);
	}
	while (i < len) {
		int v;

		/* Fast path for the common shape "CRLF HEX CRLF data" between two
		 * chunks; extensions, the last chunk, or a line cut short by the
		 * end of the input take the byte-wise path below. */
		if (d->state_ == S_DATA_CR && len - i >= 2 && buf[i] == '\r' && buf[i + 1] == '\n') {
			i += 2;
			chunk_start(d);
		}
		if (d->state_ == S_SIZE && d->digits_ == 0 && (j = size_line(buf, i, len, &size))) {
			i = j;
			d->remain_ = size;
			if (!size) {
				d->state_ = S_TRAILERS;
				continue;
			}
			d->state_ = S_DATA;
			if (i < len)
				return chunk_data(d, buf, len, i, ev);
			break;
		}
		if (i == len)
			break;
		if (d->state_ == S_DATA)
			return chunk_data(d, buf, len, i, ev);
		if (d->state_ == S_TRAILERS)
			return chunk_trailers(d, buf, len, i, ev);
		v = chunk_line_byte(d, (unsigned char)buf[i]);
		if (v < 0)
			return v;
		/* Bytes of a chunk line after the size count toward the bound. */
		if (d->state_ >= S_SIZE_WS && d->state_ <= S_EXT_AFTER_VAL &&
		    ++d->ext_len_ > d->max_chunk_ext_)
			return H1C_ECHUNKEXT;
		i++;
	}
	h1c__ev_set(ev, H1C_EV_NEED_MORE);
	return (int)i;
}

/* Parses "bytes first-last/complete" (RFC 9110 section 14.4). */
static int parse_content_range(const struct h1c_header *h, int64_t *first, int64_t *last,
                               int64_t *complete)
{
	const char *p = h->value, *end = h->value + h->value_len;
	uint64_t a = 0, b = 0, c = 0;
	const char *s;

	if (end - p < 6 || !H1C__LIT_EQ(p, 5, "bytes") || p[5] != ' ')
		return -1;
	p += 6;
	s = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (h1c__parse_u64(s, (size_t)(p - s), &a) || p == end || *p != '-')
		return -1;
	s = ++p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (h1c__parse_u64(s, (size_t)(p - s), &b) || p == end || *p != '/')
		return -1;
	p++;
	if (end - p == 1 && *p == '*') {
		*complete = -1;
	} else {
		if (h1c__parse_u64(p, (size_t)(end - p), &c) || c > INT64_MAX)
			return -1;
		*complete = (int64_t)c;
		if (b >= c)
			return -1;
	}
	if (a > b || b > INT64_MAX - 1)
		return -1;
	*first = (int64_t)a;
	*last = (int64_t)b;
	return 0;
}

/* Returns 1 when buf[0..n) could be the start of the delimiter of d. */
static int delim_prefix(const struct h1c_body *d, const char *buf, size_t n)
{
	return memcmp(buf, d->boundary_, n) == 0;
}

/* Where the data of a part without Content-Range ends in p..end: at the
 * first CRLF "--boundary", or at a CR that may begin one when more comes;
 * end when neither is there. */
static const char *unsized_end(const struct h1c_body *d, const char *p, const char *end)
{
	const size_t dl = d->boundary_len_;

	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		size_t have;
		if (!cr)
			return end;
		have = (size_t)(end - cr);
		if (have >= dl ? memcmp(cr, d->boundary_, dl) == 0 : delim_prefix(d, cr, have))
			return cr;
		p = cr + 1;
	}
	return end;
}

/* One byte of the line after a delimiter: "--" closing the body, or
 * padding up to its CRLF. Returns 0, or -1 when it does not belong there. */
static int delim_line_byte(struct h1c_body *d, unsigned char c)
{
	switch (d->state_) {
	case S_AFTER_DELIM:
		if (c == '-')
			d->state_ = S_AFTER_DASH;
		else if (c == ' ' || c == '\t')
			d->state_ = S_PADDING;
		else if (c == '\r')
			d->state_ = S_PADDING_LF;
		else
			return -1;
		break;
	case S_AFTER_DASH:
		if (c != '-')
			return -1;
		d->state_ = S_CLOSE_PAD;
		break;
	case S_PADDING:
		if (c == '\r')
			d->state_ = S_PADDING_LF;
		else if (c != ' ' && c != '\t')
			return -1;
		break;
	case S_PADDING_LF:
		if (c != '\n')
			return -1;
		d->state_ = S_PART_HEAD;
		d->scanned_ = 0;
		break;
	case S_CLOSE_PAD:
		if (c == '\r')
			d->state_ = S_CLOSE_LF;
		else if (c != ' ' && c != '\t')
			return -1;
		break;
	default:
		break;
	}
	return 0;
}

/* A part's header section, from buf[i]: its Content-Range, when it has
 * one, sizes its data. */
static int part_head(struct h1c_body *d, char *buf, size_t len, size_t i, struct h1c_event *ev)
{
	size_t nf = 0;
	const struct h1c_header *cr = NULL;
	int r = take_section(d, buf + i, len - i, &nf, H1C_EBYTERANGES);

	if (r == H1C_ETRAILER || r == H1C_EHEADERCOUNT || r == H1C_ELINEEND ||
	    r == H1C_EOBSFOLD)
		r = H1C_EBYTERANGES;
	if (r < 0)
		return r;
	if (r == 0) {
		h1c__ev_set(ev, H1C_EV_NEED_MORE);
		return (int)i;
	}
	h1c__ev_set(ev, H1C_EV_PART);
	d->part_++;
	ev->part = d->part_;
	if (d->fields_) {
		ev->fields = d->fields_;
		ev->num_fields = nf;
		cr = h1c_header_find(d->fields_, nf, "content-range");
	}
	d->part_sized_ = 0;
	if (cr) {
		if (parse_content_range(cr, &ev->range_first, &ev->range_last,
		                        &ev->range_complete))
			return H1C_EBYTERANGES;
		d->part_sized_ = 1;
		d->remain_ = (uint64_t)(ev->range_last - ev->range_first) + 1;
	}
	d->state_ = S_PART_DATA;
	return (int)(i + (size_t)r);
}

/* Decodes a multipart/byteranges body (RFC 2616 sections 4.4 and 19.2,
 * RFC 2046 section 5.1.1). */
static int decode_byteranges(struct h1c_body *d, char *buf, size_t len, struct h1c_event *ev)
{
	size_t i = 0;
	const size_t dl = d->boundary_len_;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];

		switch (d->state_) {
		case S_PREAMBLE: {
			/* Skip lines until one that is "--boundary". */
			const char *lf;
			size_t from = d->scanned_, avail = len - i;
			if (avail >= dl - 2 && memcmp(buf + i, d->boundary_ + 2, dl - 2) == 0) {
				i += dl - 2;
				d->scanned_ = 0;
				d->state_ = S_AFTER_DELIM;
				continue;
			}
			if (avail < dl - 2 && memcmp(buf + i, d->boundary_ + 2, avail) == 0) {
				h1c__ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			lf = memchr(buf + i + from, '\n', avail - from);
			if (!lf) {
				d->scanned_ = avail;
				if (avail > d->max_section_)
					return H1C_EBYTERANGES;
				h1c__ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			d->ext_len_ += (size_t)(lf + 1 - (buf + i));
			if (d->ext_len_ > d->max_section_)
				return H1C_EBYTERANGES;
			d->scanned_ = 0;
			i = (size_t)(lf + 1 - buf);
			continue;
		}
		case S_CLOSE_LF:
			if (c != '\n')
				return H1C_EBYTERANGES;
			d->state_ = S_DONE;
			h1c__ev_set(ev, H1C_EV_DONE);
			return (int)(i + 1);
		case S_PART_HEAD:
			return part_head(d, buf, len, i, ev);
		case S_PART_DATA: {
			size_t n = len - i, hold;
			const char *p, *end = buf + len;
			if (d->part_sized_) {
				if (d->remain_ == 0) {
					d->state_ = S_DELIM;
					continue;
				}
				if ((uint64_t)n > d->remain_)
					n = (size_t)d->remain_;
				d->remain_ -= n;
				h1c__ev_set(ev, H1C_EV_DATA);
				ev->part = d->part_;
				ev->data = buf + i;
				ev->len = n;
				return (int)(i + n);
			}
			/* Unsized: the data ends at the first CRLF "--boundary". */
			p = unsized_end(d, buf + i, end);
			hold = (size_t)(end - p);
			n = (size_t)(p - (buf + i));
			if (n == 0) {
				if (hold >= dl) {
					d->state_ = S_DELIM;
					continue;
				}
				h1c__ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			h1c__ev_set(ev, H1C_EV_DATA);
			ev->part = d->part_;
			ev->data = buf + i;
			ev->len = n;
			return (int)(i + n);
		}
		case S_DELIM: {
			size_t avail = len - i;
			if (avail < dl) {
				if (!delim_prefix(d, buf + i, avail))
					return d->part_sized_ ? H1C_EPARTLENGTH : H1C_EBYTERANGES;
				h1c__ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			if (memcmp(buf + i, d->boundary_, dl) != 0)
				return d->part_sized_ ? H1C_EPARTLENGTH : H1C_EBYTERANGES;
			i += dl;
			d->state_ = S_AFTER_DELIM;
			continue;
		}
		default:
			/* The states of the line after a delimiter (h1c_body_init()
			 * sets no other for this framing). */
			if (delim_line_byte(d, c) != 0)
				return H1C_EBYTERANGES;
			break;
		}
		i++;
	}
	h1c__ev_set(ev, H1C_EV_NEED_MORE);
	return (int)i;
}

int h1c_body_decode(struct h1c_body *dec, char *buf, size_t len, struct h1c_event *ev)
{
	if (!dec || !ev || (!buf && len))
		return H1C_EINVAL;
	if (len > (size_t)INT32_MAX)
		len = (size_t)INT32_MAX;
	/* The hot case first: the next chunk of a chunked body. */
	if (dec->state_ >= S_SIZE && dec->state_ <= S_TRAILERS)
		return decode_chunked(dec, buf, len, ev);
	if (dec->kind_ == H1C_FRAMING_BYTERANGES && dec->state_ != S_DONE)
		return decode_byteranges(dec, buf, len, ev);
	switch (dec->state_) {
	case S_DONE:
		h1c__ev_set(ev, H1C_EV_DONE);
		return 0;
	case S_LENGTH: {
		size_t n = len;
		if ((uint64_t)n > dec->remain_)
			n = (size_t)dec->remain_;
		if (n == 0) {
			h1c__ev_set(ev, H1C_EV_NEED_MORE);
			return 0;
		}
		dec->remain_ -= n;
		if (!dec->remain_)
			dec->state_ = S_DONE;
		h1c__ev_set(ev, H1C_EV_DATA);
		ev->data = buf;
		ev->len = n;
		return (int)n;
	}
	case S_CLOSE:
		h1c__ev_set(ev, len ? H1C_EV_DATA : H1C_EV_NEED_MORE);
		ev->data = buf;
		ev->len = len;
		return (int)len;
	default:
		return H1C_EINVAL;
	}
}

int h1c_body_eof(struct h1c_body *dec)
{
	if (!dec)
		return H1C_EINVAL;
	if (dec->state_ == S_CLOSE || dec->state_ == S_DONE) {
		dec->state_ = S_DONE;
		return 0;
	}
	/* "--boundary--" is the end even without its CRLF. */
	if (dec->state_ == S_CLOSE_PAD || dec->state_ == S_CLOSE_LF) {
		dec->state_ = S_DONE;
		return 0;
	}
	return H1C_ETRUNCATED;
}

int h1c_body_lenient(const struct h1c_body *dec)
{
	return dec && dec->used_lenient_ != 0;
}
