/*
 * framing.c - where a response ends: the message-length decision (RFC 2616
 * section 4.4 as hardened by RFC 9112 section 6), the keep-alive verdict,
 * and the incremental body decoders (none, chunked, length, byteranges,
 * close).
 *
 * Sans-I/O: the decoders work on the caller's bytes, report one event per
 * call and say how many bytes they used; the rest belongs to the next
 * pipelined response.
 */
#include "internal.h"

#include <string.h>

/* ---- the decision ------------------------------------------------------- */

/* Parses an unsigned decimal view; returns 0 and stores it, or -1. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * RFC 9110 section 8.6: Content-Length is 1*DIGIT; a list of identical
 * values (in one field or several) may be taken as one value.
 */
static int decide_content_length(const struct h1c_response *resp, int *present,
                                 uint64_t *out)
{
	size_t i;
	int seen = 0;
	uint64_t value = 0;

	for (i = 0; i < resp->num_headers; i++) {
		const struct h1c_header *h = &resp->headers[i];
		const char *e;
		size_t off = 0, elen;
		int elems = 0;

		if (!h1c__ieq(h->name, h->name_len, "content-length"))
			continue;
		while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
			uint64_t v;
			if (parse_u64(e, elen, &v))
				return H1C_ECONTENTLENGTH;
			if (seen && v != value)
				return H1C_ECLCONFLICT;
			seen = 1;
			value = v;
			elems++;
		}
		if (!elems)
			return H1C_ECONTENTLENGTH;
	}
	*present = seen;
	*out = value;
	return 0;
}

/*
 * RFC 9112 section 6.1 / 6.3: reads the transfer codings of every
 * Transfer-Encoding field. Sets *present when a coding other than identity
 * was applied and *chunked_last when chunked is the final one. chunked
 * applied twice, an empty field or a malformed coding is an error.
 */
static int decide_transfer_encoding(const struct h1c_response *resp, int *present,
                                    int *chunked_last, int *field_seen)
{
	size_t i;
	int chunked = 0, any = 0, last = 0;

	*field_seen = 0;
	for (i = 0; i < resp->num_headers; i++) {
		const struct h1c_header *h = &resp->headers[i];
		const char *e;
		size_t off = 0, elen;
		int elems = 0;

		if (!h1c__ieq(h->name, h->name_len, "transfer-encoding"))
			continue;
		*field_seen = 1;
		while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
			size_t n = 0;
			while (n < elen && h1c__tchar[(unsigned char)e[n]])
				n++;
			if (n == 0)
				return H1C_ETRANSFERENCODING;
			/* Only parameters may follow the coding name. */
			if (n < elen) {
				size_t k = n;
				while (k < elen && (e[k] == ' ' || e[k] == '\t'))
					k++;
				if (k == elen || e[k] != ';')
					return H1C_ETRANSFERENCODING;
			}
			elems++;
			if (h1c__ieq(e, n, "identity"))
				continue;
			any = 1;
			if (h1c__ieq(e, n, "chunked")) {
				if (chunked)
					return H1C_ETRANSFERENCODING;
				chunked = 1;
				last = 1;
			} else {
				last = 0;
			}
		}
		if (!elems)
			return H1C_ETRANSFERENCODING;
	}
	*present = any;
	*chunked_last = any && last;
	return 0;
}

/* Parses the Keep-Alive hints "timeout=N, max=M" (names in any case,
 * values plain or quoted digits); malformed parameters are ignored. */
static void decide_keep_alive_hints(const struct h1c_response *resp, struct h1c_framing *out)
{
	size_t i;

	for (i = 0; i < resp->num_headers; i++) {
		const struct h1c_header *h = &resp->headers[i];
		const char *e;
		size_t off = 0, elen;

		if (!h1c__ieq(h->name, h->name_len, "keep-alive"))
			continue;
		while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
			size_t eq = 0, vlen;
			const char *v;
			uint64_t n;
			long *dst;

			while (eq < elen && e[eq] != '=')
				eq++;
			if (eq == elen)
				continue;
			{
				size_t nl = eq;
				while (nl > 0 && (e[nl - 1] == ' ' || e[nl - 1] == '\t'))
					nl--;
				if (h1c__ieq(e, nl, "timeout"))
					dst = &out->ka_timeout;
				else if (h1c__ieq(e, nl, "max"))
					dst = &out->ka_max;
				else
					continue;
			}
			v = e + eq + 1;
			vlen = elen - eq - 1;
			while (vlen && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (parse_u64(v, vlen, &n) == 0)
				*dst = n > (uint64_t)INT32_MAX ? (long)INT32_MAX : (long)n;
		}
	}
}

/*
 * Finds "multipart/byteranges; boundary=..." in the first Content-Type.
 * Returns 1 and the boundary view when the media type is byteranges,
 * 0 when it is not, H1C_EBYTERANGES when the boundary is missing or bad.
 */
static int decide_byteranges(const struct h1c_response *resp, const char **b, size_t *blen)
{
	static const char type[] = "multipart/byteranges";
	const struct h1c_header *ct = h1c_header_find(resp->headers, resp->num_headers,
	                                              "content-type");
	const char *p, *end;
	size_t tl = sizeof(type) - 1;

	if (!ct)
		return 0;
	p = ct->value;
	end = p + ct->value_len;
	if ((size_t)(end - p) < tl || !h1c__ieq(p, tl, type))
		return 0;
	p += tl;
	if (p < end && *p != ';' && *p != ' ' && *p != '\t')
		return 0;
	/* Parameters: *( OWS ";" OWS name "=" value ). */
	while (p < end) {
		const char *name, *val;
		size_t nlen, vlen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		if (*p != ';')
			return H1C_EBYTERANGES;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		name = p;
		while (p < end && h1c__tchar[(unsigned char)*p])
			p++;
		nlen = (size_t)(p - name);
		if (nlen == 0 || p == end || *p != '=')
			return H1C_EBYTERANGES;
		p++;
		if (p < end && *p == '"') {
			val = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\') /* boundary characters need no escape */
					return H1C_EBYTERANGES;
				p++;
			}
			if (p == end)
				return H1C_EBYTERANGES;
			vlen = (size_t)(p - val);
			p++;
		} else {
			val = p;
			while (p < end && h1c__tchar[(unsigned char)*p])
				p++;
			vlen = (size_t)(p - val);
		}
		if (h1c__ieq(name, nlen, "boundary")) {
			/* RFC 2046 section 5.1.1: 1 to 70 characters. */
			if (vlen == 0 || vlen > 70)
				return H1C_EBYTERANGES;
			*b = val;
			*blen = vlen;
			return 1;
		}
	}
	return H1C_EBYTERANGES;
}

int h1c_framing_decide(const char *method, const struct h1c_response *resp,
                       const struct h1c_options *opt, struct h1c_framing *out)
{
	unsigned flags = opt ? opt->flags : 0;
	const struct h1c_header *hs;
	size_t n;
	int persistent, close_tok, ka_tok, err;
	int te, te_chunked, te_field, cl_present;
	uint64_t cl;

	if (!method || !resp || !out || (!resp->headers && resp->num_headers))
		return H1C_EINVAL;
	hs = resp->headers;
	n = resp->num_headers;
	memset(out, 0, sizeof(*out));
	out->ka_timeout = -1;
	out->ka_max = -1;

	/* Persistence, RFC 9112 section 9.3: HTTP/1.1 unless "close";
	 * HTTP/1.0 only with "keep-alive". Through a proxy, Proxy-Connection
	 * is read as Connection. */
	close_tok = h1c_header_has_token(hs, n, "connection", "close") ||
	            ((flags & H1C_OPT_VIA_PROXY) &&
	             h1c_header_has_token(hs, n, "proxy-connection", "close"));
	ka_tok = h1c_header_has_token(hs, n, "connection", "keep-alive") ||
	         ((flags & H1C_OPT_VIA_PROXY) &&
	          h1c_header_has_token(hs, n, "proxy-connection", "keep-alive"));
	persistent = !close_tok && (resp->version_minor >= 1 || ka_tok);
	if (!persistent)
		out->flags |= H1C_FRAMING_CLOSE_TOKEN;
	if (resp->flags & H1C_RESP_LENIENT) {
		out->flags |= H1C_FRAMING_LENIENT;
		persistent = 0;
	}
	decide_keep_alive_hints(resp, out);

	/* 1. RFC 9112 section 6.3 (1): 1xx, 204, 304 and HEAD have no body. */
	out->kind = H1C_FRAMING_NONE;
	if (resp->status < 200) {
		if (resp->status == 101) {
			out->flags |= H1C_FRAMING_SWITCHED;
			return 0;
		}
		out->flags |= H1C_FRAMING_INTERIM;
		out->keep_alive = !(resp->flags & H1C_RESP_LENIENT);
		return 0;
	}
	/* RFC 9112 section 6.3 (2): a 2xx to CONNECT turns into a tunnel. */
	if (strcmp(method, "CONNECT") == 0 && resp->status < 300) {
		out->flags |= H1C_FRAMING_SWITCHED;
		return 0;
	}
	if (strcmp(method, "HEAD") == 0 || resp->status == 204 || resp->status == 304) {
		out->keep_alive = persistent;
		return 0;
	}

	err = decide_transfer_encoding(resp, &te, &te_chunked, &te_field);
	if (err)
		return err;
	/* 2. Transfer-Encoding overrides Content-Length, which is then not
	 * validated (RFC 9112 section 6.3 (3)). */
	cl_present = h1c_header_find(hs, n, "content-length") != NULL;
	if (te_field && cl_present)
		out->flags |= H1C_FRAMING_TE_AND_CL;
	if (te_field && resp->version_minor == 0)
		out->flags |= H1C_FRAMING_TE_HTTP10;
	if (te) {
		if (te_chunked) {
			out->kind = H1C_FRAMING_CHUNKED;
			out->keep_alive = persistent &&
			                  !(out->flags & (H1C_FRAMING_TE_AND_CL | H1C_FRAMING_TE_HTTP10));
		} else {
			/* RFC 9112 section 6.3 (4): chunked not final: read to close. */
			out->kind = H1C_FRAMING_CLOSE;
		}
		return 0;
	}

	/* 3. Content-Length (RFC 9112 section 6.3 (5)). */
	err = decide_content_length(resp, &cl_present, &cl);
	if (err)
		return err;
	if (cl_present) {
		out->kind = H1C_FRAMING_LENGTH;
		out->content_length = cl;
		out->keep_alive = persistent &&
		                  !(out->flags & (H1C_FRAMING_TE_AND_CL | H1C_FRAMING_TE_HTTP10));
		return 0;
	}

	/* 4. RFC 2616 section 4.4 (4): multipart/byteranges delimits itself. */
	if (!(flags & H1C_OPT_NO_BYTERANGES)) {
		err = decide_byteranges(resp, &out->boundary, &out->boundary_len);
		if (err < 0)
			return err;
		if (err == 1) {
			out->kind = H1C_FRAMING_BYTERANGES;
			out->keep_alive = persistent &&
			                  !(out->flags & (H1C_FRAMING_TE_AND_CL | H1C_FRAMING_TE_HTTP10));
			return 0;
		}
	}

	/* 5. Otherwise the body runs until the server closes. */
	out->kind = H1C_FRAMING_CLOSE;
	return 0;
}

const char *h1c_framing_name(enum h1c_framing_kind kind)
{
	switch (kind) {
	case H1C_FRAMING_NONE:
		return "none";
	case H1C_FRAMING_CHUNKED:
		return "chunked";
	case H1C_FRAMING_LENGTH:
		return "length";
	case H1C_FRAMING_BYTERANGES:
		return "byteranges";
	case H1C_FRAMING_CLOSE:
		return "close";
	}
	return "unknown";
}

/* ---- the decoders ------------------------------------------------------- */

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
	memset(dec, 0, sizeof(*dec));
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

/* Resets *ev to an event of the given type. */
static void ev_set(struct h1c_event *ev, enum h1c_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->range_first = ev->range_last = ev->range_complete = -1;
}

/* Returns the value of a hex digit, or -1. */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
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

/* Decodes the chunked framing (RFC 9112 section 7.1). */
static int decode_chunked(struct h1c_body *d, char *buf, size_t len, struct h1c_event *ev)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];
		int v;

		switch (d->state_) {
		case S_SIZE:
			v = hexval(c);
			if (v >= 0) {
				if (d->remain_ > (UINT64_MAX >> 4) || ++d->digits_ > 64)
					return H1C_ECHUNKSIZE;
				d->remain_ = (d->remain_ << 4) | (uint64_t)v;
				i++;
				continue;
			}
			if (d->digits_ == 0)
				return H1C_ECHUNKSIZE;
			if (c == ';') {
				d->state_ = S_EXT_NAME_START;
			} else if (c == ' ' || c == '\t') {
				d->state_ = S_SIZE_WS;
			} else if (c == '\r' || c == '\n') {
				v = chunk_line_end(d, c);
				if (v < 0)
					return v;
				d->state_ = v;
			} else {
				return H1C_ECHUNKSIZE;
			}
			break;
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
			if (h1c__tchar[c] && d->state_ == S_EXT_NAME)
				;
			else if (c == ' ' || c == '\t')
				d->state_ = S_EXT_NAME_WS;
			else if (c == '=')
				d->state_ = S_EXT_VAL_START;
			else if (c == ';')
				d->state_ = S_EXT_NAME_START;
			else if (c == '\r' || c == '\n') {
				v = chunk_line_end(d, c);
				if (v < 0)
					return v;
				d->state_ = v;
			} else
				return H1C_ECHUNKEXT;
			break;
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
			if (h1c__tchar[c] && d->state_ == S_EXT_VAL_TOKEN)
				;
			else if (c == ' ' || c == '\t')
				d->state_ = S_EXT_AFTER_VAL;
			else if (c == ';')
				d->state_ = S_EXT_NAME_START;
			else if (c == '\r' || c == '\n') {
				v = chunk_line_end(d, c);
				if (v < 0)
					return v;
				d->state_ = v;
			} else
				return H1C_ECHUNKEXT;
			break;
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
		case S_SIZE_LF:
			if (c != '\n')
				return H1C_ELINEEND;
			d->state_ = d->remain_ ? S_DATA : S_TRAILERS;
			break;
		case S_DATA: {
			size_t n = len - i;
			if ((uint64_t)n > d->remain_)
				n = (size_t)d->remain_;
			d->remain_ -= n;
			if (!d->remain_)
				d->state_ = S_DATA_CR;
			ev_set(ev, H1C_EV_DATA);
			ev->data = buf + i;
			ev->len = n;
			return (int)(i + n);
		}
		case S_DATA_CR:
			if (c == '\n' && (d->lenient_ & H1C_LENIENT_BARE_LF)) {
				d->used_lenient_ |= H1C_LENIENT_BARE_LF;
				d->state_ = S_SIZE;
				d->digits_ = 0;
				d->ext_len_ = 0;
				break;
			}
			if (c != '\r')
				return H1C_ECHUNKDATA;
			d->state_ = S_DATA_LF;
			break;
		case S_DATA_LF:
			if (c != '\n')
				return H1C_ECHUNKDATA;
			d->state_ = S_SIZE;
			d->digits_ = 0;
			d->ext_len_ = 0;
			break;
		case S_TRAILERS: {
			size_t nf = 0;
			int r = take_section(d, buf + i, len - i, &nf, H1C_ETRAILERSIZE);
			if (r < 0)
				return r;
			if (r == 0) {
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			d->state_ = S_DONE;
			if (nf == 0) {
				ev_set(ev, H1C_EV_DONE);
			} else {
				ev_set(ev, H1C_EV_TRAILERS);
				ev->fields = d->fields_;
				ev->num_fields = d->fields_ ? nf : 0;
			}
			return (int)(i + (size_t)r);
		}
		default:
			return H1C_EINVAL;
		}
		/* Bytes of a chunk line after the size count toward the bound. */
		if (d->state_ >= S_SIZE_WS && d->state_ <= S_EXT_AFTER_VAL &&
		    ++d->ext_len_ > d->max_chunk_ext_)
			return H1C_ECHUNKEXT;
		i++;
	}
	ev_set(ev, H1C_EV_NEED_MORE);
	return (int)i;
}

/* Parses "bytes first-last/complete" (RFC 9110 section 14.4). */
static int parse_content_range(const struct h1c_header *h, int64_t *first, int64_t *last,
                               int64_t *complete)
{
	const char *p = h->value, *end = h->value + h->value_len;
	uint64_t a = 0, b = 0, c = 0;
	const char *s;

	if (end - p < 6 || !h1c__ieq(p, 5, "bytes") || p[5] != ' ')
		return -1;
	p += 6;
	s = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (parse_u64(s, (size_t)(p - s), &a) || p == end || *p != '-')
		return -1;
	s = ++p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (parse_u64(s, (size_t)(p - s), &b) || p == end || *p != '/')
		return -1;
	p++;
	if (end - p == 1 && *p == '*') {
		*complete = -1;
	} else {
		if (parse_u64(p, (size_t)(end - p), &c) || c > INT64_MAX)
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
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			lf = memchr(buf + i + from, '\n', avail - from);
			if (!lf) {
				d->scanned_ = avail;
				if (avail > d->max_section_)
					return H1C_EBYTERANGES;
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			d->ext_len_ += (size_t)(lf + 1 - (buf + i));
			if (d->ext_len_ > d->max_section_)
				return H1C_EBYTERANGES;
			d->scanned_ = 0;
			i = (size_t)(lf + 1 - buf);
			continue;
		}
		case S_AFTER_DELIM:
			if (c == '-')
				d->state_ = S_AFTER_DASH;
			else if (c == ' ' || c == '\t')
				d->state_ = S_PADDING;
			else if (c == '\r')
				d->state_ = S_PADDING_LF;
			else
				return H1C_EBYTERANGES;
			break;
		case S_AFTER_DASH:
			if (c != '-')
				return H1C_EBYTERANGES;
			d->state_ = S_CLOSE_PAD;
			break;
		case S_PADDING:
			if (c == '\r')
				d->state_ = S_PADDING_LF;
			else if (c != ' ' && c != '\t')
				return H1C_EBYTERANGES;
			break;
		case S_PADDING_LF:
			if (c != '\n')
				return H1C_EBYTERANGES;
			d->state_ = S_PART_HEAD;
			d->scanned_ = 0;
			break;
		case S_CLOSE_PAD:
			if (c == '\r')
				d->state_ = S_CLOSE_LF;
			else if (c != ' ' && c != '\t')
				return H1C_EBYTERANGES;
			break;
		case S_CLOSE_LF:
			if (c != '\n')
				return H1C_EBYTERANGES;
			d->state_ = S_DONE;
			ev_set(ev, H1C_EV_DONE);
			return (int)(i + 1);
		case S_PART_HEAD: {
			size_t nf = 0;
			const struct h1c_header *cr = NULL;
			int r = take_section(d, buf + i, len - i, &nf, H1C_EBYTERANGES);
			if (r == H1C_ETRAILER || r == H1C_EHEADERCOUNT || r == H1C_ELINEEND ||
			    r == H1C_EOBSFOLD)
				r = H1C_EBYTERANGES;
			if (r < 0)
				return r;
			if (r == 0) {
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			ev_set(ev, H1C_EV_PART);
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
				ev_set(ev, H1C_EV_DATA);
				ev->part = d->part_;
				ev->data = buf + i;
				ev->len = n;
				return (int)(i + n);
			}
			/* Unsized: the data ends at the first CRLF "--boundary". */
			p = buf + i;
			while (p < end) {
				const char *cr = memchr(p, '\r', (size_t)(end - p));
				size_t have;
				if (!cr) {
					p = end;
					break;
				}
				have = (size_t)(end - cr);
				if (have >= dl ? memcmp(cr, d->boundary_, dl) == 0
				               : delim_prefix(d, cr, have)) {
					p = cr;
					break;
				}
				p = cr + 1;
			}
			hold = (size_t)(end - p);
			n = (size_t)(p - (buf + i));
			if (n == 0) {
				if (hold >= dl) {
					d->state_ = S_DELIM;
					continue;
				}
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			ev_set(ev, H1C_EV_DATA);
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
				ev_set(ev, H1C_EV_NEED_MORE);
				return (int)i;
			}
			if (memcmp(buf + i, d->boundary_, dl) != 0)
				return d->part_sized_ ? H1C_EPARTLENGTH : H1C_EBYTERANGES;
			i += dl;
			d->state_ = S_AFTER_DELIM;
			continue;
		}
		default:
			return H1C_EINVAL;
		}
		i++;
	}
	ev_set(ev, H1C_EV_NEED_MORE);
	return (int)i;
}

int h1c_body_decode(struct h1c_body *dec, char *buf, size_t len, struct h1c_event *ev)
{
	if (!dec || !ev || (!buf && len))
		return H1C_EINVAL;
	if (len > (size_t)INT32_MAX)
		len = (size_t)INT32_MAX;
	switch (dec->state_) {
	case S_DONE:
		ev_set(ev, H1C_EV_DONE);
		return 0;
	case S_LENGTH: {
		size_t n = len;
		if ((uint64_t)n > dec->remain_)
			n = (size_t)dec->remain_;
		if (n == 0) {
			ev_set(ev, H1C_EV_NEED_MORE);
			return 0;
		}
		dec->remain_ -= n;
		if (!dec->remain_)
			dec->state_ = S_DONE;
		ev_set(ev, H1C_EV_DATA);
		ev->data = buf;
		ev->len = n;
		return (int)n;
	}
	case S_CLOSE:
		ev_set(ev, len ? H1C_EV_DATA : H1C_EV_NEED_MORE);
		ev->data = buf;
		ev->len = len;
		return (int)len;
	default:
		break;
	}
	if (dec->kind_ == H1C_FRAMING_CHUNKED)
		return decode_chunked(dec, buf, len, ev);
	return decode_byteranges(dec, buf, len, ev);
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
