/*
 * framing.c - how a response's body is delimited: the message-length
 * decision (RFC 2616 section 4.4 as hardened by RFC 9112 section 6) and the
 * keep-alive verdict, from the status, the request method and the header
 * fields. body.c decodes the body so framed.
 */
#include "internal.h"

#include <string.h>

/* Parses an unsigned decimal view; returns 0 and stores it, or -1. */
int h1c__parse_u64(const char *s, size_t n, uint64_t *out)
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

/* What one pass over the header fields gathers for the decision. */
struct facts {
	int cl_seen, cl_err;     /* Content-Length: any field; first fault */
	int cl_seen_value;       /* a value was taken */
	uint64_t cl;
	int te_field, te_err;    /* Transfer-Encoding: any field; first fault */
	int te_any, te_chunked, te_last_chunked;
	int close_tok, ka_tok;   /* Connection (and Proxy-Connection) tokens */
	const struct h1c_header *ctype; /* the first Content-Type */
};

/*
 * RFC 9110 section 8.6: Content-Length is 1*DIGIT; a list of identical
 * values (in one field or several) may be taken as one value.
 */
static void fact_content_length(struct facts *f, const struct h1c_header *h)
{
	const char *e;
	size_t off = 0, elen;
	int elems = 0;

	if (f->cl_err)
		return;
	/* The common case, one plain number, without the list machinery. */
	if (h->value_len && h->value_len <= 19 && h->value[0] >= '0' && h->value[0] <= '9' &&
	    !memchr(h->value, ',', h->value_len)) {
		uint64_t v;
		f->cl_seen = 1;
		if (h1c__parse_u64(h->value, h->value_len, &v))
			f->cl_err = H1C_ECONTENTLENGTH;
		else if (f->cl != v && f->cl_seen_value)
			f->cl_err = H1C_ECLCONFLICT;
		else
			f->cl = v;
		f->cl_seen_value = 1;
		return;
	}
	while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
		uint64_t v;
		if (h1c__parse_u64(e, elen, &v)) {
			f->cl_err = H1C_ECONTENTLENGTH;
			return;
		}
		if (f->cl_seen_value && v != f->cl) {
			f->cl_err = H1C_ECLCONFLICT;
			return;
		}
		f->cl_seen = f->cl_seen_value = 1;
		f->cl = v;
		elems++;
	}
	if (!elems)
		f->cl_err = H1C_ECONTENTLENGTH;
	f->cl_seen = 1;
}

/*
 * RFC 9112 sections 6.1 and 6.3: the transfer codings of one
 * Transfer-Encoding field, in order. chunked applied twice, an empty field
 * or a malformed coding is an error.
 */
static void fact_transfer_encoding(struct facts *f, const struct h1c_header *h)
{
	const char *e;
	size_t off = 0, elen;
	int elems = 0;

	f->te_field = 1;
	if (f->te_err)
		return;
	while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
		size_t n = 0;
		while (n < elen && h1c__tchar[(unsigned char)e[n]])
			n++;
		if (n == 0)
			goto bad;
		/* Only parameters may follow the coding name. */
		if (n < elen) {
			size_t k = n;
			while (k < elen && (e[k] == ' ' || e[k] == '\t'))
				k++;
			if (k == elen || e[k] != ';')
				goto bad;
		}
		elems++;
		/* "identity" is no coding (RFC 9112 dropped it) and alone
		 * leaves the length to Content-Length; after chunked it still
		 * makes chunked not the final coding (section 6.3 (4)). */
		if (H1C__LIT_EQ(e, n, "identity")) {
			f->te_last_chunked = 0;
			continue;
		}
		f->te_any = 1;
		if (H1C__LIT_EQ(e, n, "chunked")) {
			if (f->te_chunked)
				goto bad;
			f->te_chunked = 1;
			f->te_last_chunked = 1;
		} else {
			f->te_last_chunked = 0;
		}
	}
	if (elems)
		return;
bad:
	f->te_err = H1C_ETRANSFERENCODING;
}

/* Notes a close or keep-alive token of a Connection field. */
static void connection_token(struct facts *f, const char *e, size_t elen)
{
	if (H1C__LIT_EQ(e, elen, "close"))
		f->close_tok = 1;
	else if (H1C__LIT_EQ(e, elen, "keep-alive"))
		f->ka_tok = 1;
}

/* The close and keep-alive tokens of a Connection field. */
static void fact_connection(struct facts *f, const struct h1c_header *h)
{
	const char *e;
	size_t off = 0, elen;

	/* One token (the value is already trimmed): no list to walk. */
	if (!memchr(h->value, ',', h->value_len) && !memchr(h->value, '"', h->value_len)) {
		connection_token(f, h->value, h->value_len);
		return;
	}
	while (h1c__list_next(h->value, h->value_len, &off, &e, &elen))
		connection_token(f, e, elen);
}

/* Parses the Keep-Alive hints "timeout=N, max=M" (names in any case,
 * values plain or quoted digits); malformed parameters are ignored. */
static void fact_keep_alive(struct h1c_framing *out, const struct h1c_header *h)
{
	const char *e;
	size_t off = 0, elen;

	while (h1c__list_next(h->value, h->value_len, &off, &e, &elen)) {
		size_t eq = 0, nl, vlen;
		const char *v;
		uint64_t n;
		long *dst;

		while (eq < elen && e[eq] != '=')
			eq++;
		if (eq == elen)
			continue;
		nl = eq;
		while (nl > 0 && (e[nl - 1] == ' ' || e[nl - 1] == '\t'))
			nl--;
		if (H1C__LIT_EQ(e, nl, "timeout"))
			dst = &out->ka_timeout;
		else if (H1C__LIT_EQ(e, nl, "max"))
			dst = &out->ka_max;
		else
			continue;
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
		if (h1c__parse_u64(v, vlen, &n) == 0)
			*dst = n > (uint64_t)INT32_MAX ? (long)INT32_MAX : (long)n;
	}
}

/*
 * Gathers, in one pass, the facts of every field that bears on framing and
 * persistence. Names are told apart by length first, so most fields cost
 * one comparison.
 */
static void gather(struct facts *f, struct h1c_framing *out, const struct h1c_response *resp,
                   unsigned flags)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < resp->num_headers; i++) {
		const struct h1c_header *h = &resp->headers[i];
		const char *nm = h->name;
		/* The lengths of the names below: most fields stop here. */
		const uint32_t lengths = 1u << 10 | 1u << 12 | 1u << 14 | 1u << 16 | 1u << 17;

		if (h->name_len >= 32 || !(lengths >> h->name_len & 1u))
			continue;
		switch (h->name_len) {
		case 10:
			if (H1C__LIT_EQ(nm, 10, "connection"))
				fact_connection(f, h);
			else if (H1C__LIT_EQ(nm, 10, "keep-alive"))
				fact_keep_alive(out, h);
			break;
		case 12:
			if (!f->ctype && H1C__LIT_EQ(nm, 12, "content-type"))
				f->ctype = h;
			break;
		case 14:
			if (H1C__LIT_EQ(nm, 14, "content-length"))
				fact_content_length(f, h);
			break;
		case 16:
			if ((flags & H1C_OPT_VIA_PROXY) && H1C__LIT_EQ(nm, 16, "proxy-connection"))
				fact_connection(f, h);
			break;
		case 17:
			if (H1C__LIT_EQ(nm, 17, "transfer-encoding"))
				fact_transfer_encoding(f, h);
			break;
		default:
			break;
		}
	}
}

/*
 * Finds "multipart/byteranges; boundary=..." in the first Content-Type.
 * Returns 1 and the boundary view when the media type is byteranges,
 * 0 when it is not, H1C_EBYTERANGES when the boundary is missing or bad.
 */
static int decide_byteranges(const struct h1c_header *ct, const char **b, size_t *blen)
{
	static const char type[] = "multipart/byteranges";
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
		if (H1C__LIT_EQ(name, nlen, "boundary")) {
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
	struct facts f;
	int persistent;

	if (!method || !resp || !out || (!resp->headers && resp->num_headers))
		return H1C_EINVAL;
	memset(out, 0, sizeof(*out));
	out->ka_timeout = -1;
	out->ka_max = -1;
	gather(&f, out, resp, flags);

	/* Persistence, RFC 9112 section 9.3: HTTP/1.1 unless "close";
	 * HTTP/1.0 only with "keep-alive". Through a proxy, Proxy-Connection
	 * is read as Connection (gather() does that). */
	persistent = !f.close_tok && (resp->version_minor >= 1 || f.ka_tok);
	if (!persistent)
		out->flags |= H1C_FRAMING_CLOSE_TOKEN;
	if (resp->flags & H1C_RESP_LENIENT) {
		out->flags |= H1C_FRAMING_LENIENT;
		persistent = 0;
	}

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
	if (resp->status < 300 && method[0] == 'C' && strcmp(method, "CONNECT") == 0) {
		out->flags |= H1C_FRAMING_SWITCHED;
		return 0;
	}
	if ((method[0] == 'H' && strcmp(method, "HEAD") == 0) || resp->status == 204 ||
	    resp->status == 304) {
		out->keep_alive = persistent;
		return 0;
	}

	/* 2. Transfer-Encoding overrides Content-Length, which is then not
	 * validated (RFC 9112 section 6.3 (3)). */
	if (f.te_err)
		return f.te_err;
	if (f.te_field && f.cl_seen)
		out->flags |= H1C_FRAMING_TE_AND_CL;
	if (f.te_field && resp->version_minor == 0)
		out->flags |= H1C_FRAMING_TE_HTTP10;
	if (out->flags & (H1C_FRAMING_TE_AND_CL | H1C_FRAMING_TE_HTTP10))
		persistent = 0;
	if (f.te_any) {
		if (f.te_last_chunked) {
			out->kind = H1C_FRAMING_CHUNKED;
			out->keep_alive = persistent;
		} else {
			/* RFC 9112 section 6.3 (4): chunked not final: read to close. */
			out->kind = H1C_FRAMING_CLOSE;
		}
		return 0;
	}

	/* 3. Content-Length (RFC 9112 section 6.3 (5)). */
	if (f.cl_err)
		return f.cl_err;
	if (f.cl_seen) {
		out->kind = H1C_FRAMING_LENGTH;
		out->content_length = f.cl;
		out->keep_alive = persistent;
		return 0;
	}

	/* 4. RFC 2616 section 4.4 (4): multipart/byteranges delimits itself. */
	if (!(flags & H1C_OPT_NO_BYTERANGES) && f.ctype) {
		int err = decide_byteranges(f.ctype, &out->boundary, &out->boundary_len);
		if (err < 0)
			return err;
		if (err == 1) {
			out->kind = H1C_FRAMING_BYTERANGES;
			out->keep_alive = persistent;
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
