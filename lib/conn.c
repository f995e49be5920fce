/*
 * conn.c - one HTTP/1.1 connection, sans-I/O: the request writer, the
 * in-flight FIFO that matches responses to requests in order, the response
 * reader and the persistence bookkeeping (RFC 9112 section 9). It never
 * touches a socket or a clock: bytes and times come in as arguments.
 */
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes in a growable buffer. */
static int buf_reserve(const struct h1c_allocator *al, char **p, size_t *cap, size_t len,
                       size_t n)
{
	size_t want = len + n, c = *cap ? *cap : 1024;
	char *q;

	if (want < len)
		return H1C_ENOMEM;
	if (want <= *cap)
		return 0;
	while (c < want)
		c *= 2;
	q = h1c__realloc(al, *p, c);
	if (!q)
		return H1C_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Appends to output for which room was reserved. */
static void put(struct h1c__conn *c, const void *p, size_t n)
{
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void put_str(struct h1c__conn *c, const char *s)
{
	put(c, s, strlen(s));
}

/* Moves c's buffers into *b, c left holding none. */
static void move_out(struct h1c__conn *c, struct h1c__bufs *b)
{
	b->in = c->in;
	b->in_cap = c->in_cap;
	b->out = c->out;
	b->out_cap = c->out_cap;
	b->hdr = c->hdr;
	c->in = c->out = NULL;
	c->hdr = NULL;
	c->in_cap = c->out_cap = 0;
	c->in_len = c->in_off = c->out_len = c->out_off = 0;
}

/* Gives c, holding no buffer, b's (b NULL: a new header array of c's
 * size, the others growing on demand). Returns 0 or H1C_ENOMEM. */
static int move_in(struct h1c__conn *c, const struct h1c__bufs *b)
{
	if (b) {
		c->in = b->in;
		c->in_cap = b->in_cap;
		c->out = b->out;
		c->out_cap = b->out_cap;
		c->hdr = b->hdr;
		return 0;
	}
	c->hdr = h1c__malloc(c->al, c->hdr_cap * sizeof(*c->hdr));
	return c->hdr ? 0 : H1C_ENOMEM;
}

int h1c__conn_init(struct h1c__conn *c, const struct h1c_options *opt, int via_proxy,
                   const struct h1c_allocator *al)
{
	return h1c__conn_init_with(c, opt, via_proxy, al, NULL);
}

int h1c__conn_init_with(struct h1c__conn *c, const struct h1c_options *opt, int via_proxy,
                        const struct h1c_allocator *al, const struct h1c__bufs *b)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->al = al;
	h1c__options(&c->opt, opt);
	if (via_proxy)
		c->opt.flags |= H1C_OPT_VIA_PROXY;
	c->hdr_cap = 2 * c->opt.max_headers;
	err = move_in(c, b);
	if (err)
		return err;
	c->ka_max = -1;
	c->ka_timeout = -1;
	c->ka_limit = -1;
	err = h1c_reader_init(&c->rd, &c->opt, c->hdr, c->hdr_cap);
	if (err && b) {
		struct h1c__bufs back;
		move_out(c, &back); /* b's buffers stay b's */
	}
	return err;
}

int h1c__conn_release(struct h1c__conn *c, struct h1c__bufs *b)
{
	if (!h1c__conn_whole(c))
		return 0;
	move_out(c, b);
	return 1;
}

int h1c__conn_park(struct h1c__conn *c, struct h1c__bufs *b)
{
	if (!c->hdr || c->in_off != c->in_len || c->out_off != c->out_len)
		return 0;
	/* With responses still awaited, the reader must come back as it is:
	 * one that saw the stream end (Connection: close with requests
	 * pipelined behind) keeps its buffers, since a fresh reader would
	 * take what the server says next for their answers. */
	if (c->q_n && !h1c__reader_between(&c->rd))
		return 0;
	move_out(c, b);
	return 1;
}

int h1c__conn_bufs_new(struct h1c__conn *c, size_t in, size_t out)
{
	int err = h1c__conn_unpark(c, NULL);

	if (!err)
		err = buf_reserve(c->al, &c->in, &c->in_cap, c->in_len, in);
	if (!err)
		err = buf_reserve(c->al, &c->out, &c->out_cap, c->out_len, out);
	return err;
}

int h1c__conn_unpark(struct h1c__conn *c, const struct h1c__bufs *b)
{
	int err;

	if (c->hdr)
		return 0;
	err = move_in(c, b);
	if (err)
		return err;
	/* Between responses the reader holds nothing but the array. */
	if (h1c__reader_rehome(&c->rd, c->hdr))
		return 0;
	return h1c_reader_init(&c->rd, &c->opt, c->hdr, c->hdr_cap);
}

void h1c__conn_free(struct h1c__conn *c)
{
	const struct h1c_allocator *al = c->al;

	h1c__free(al, c->hdr);
	h1c__free(al, c->in);
	h1c__free(al, c->out);
	memset(c, 0, sizeof(*c));
}

int h1c__method_idempotent(const char *m)
{
	static const char *const ok[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(m, ok[i]) == 0)
			return 1;
	return 0;
}

/* Returns 1 when v[0..n) can be sent as a field value: no CR, LF or NUL
 * (request splitting), no other control byte but HTAB. */
static int value_ok(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)v[i];
		if ((b < 0x20 && b != '\t') || b == 0x7f)
			return 0;
	}
	return 1;
}

static int token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!h1c__tchar[(unsigned char)s[i]])
			return 0;
	return 1;
}

int h1c__req_check(const struct h1c__req *r)
{
	size_t i, mlen = strlen(r->method);

	/* Everything the caller controls is checked before a byte is written. */
	if (!token_ok(r->method, mlen) || mlen >= H1C__METHOD_MAX ||
	    r->target_len == 0 || !value_ok(r->target, r->target_len) ||
	    memchr(r->target, ' ', r->target_len) || !value_ok(r->host, strlen(r->host)))
		return H1C_EBADREQUEST;
	for (i = 0; i < r->num_headers; i++) {
		const struct h1c_header *h = &r->headers[i];
		if (!token_ok(h->name, h->name_len) || !value_ok(h->value, h->value_len))
			return H1C_EBADREQUEST;
		/* Framing and persistence are the library's to write. */
		if (H1C__LIT_EQ(h->name, h->name_len, "content-length") ||
		    H1C__LIT_EQ(h->name, h->name_len, "transfer-encoding") ||
		    H1C__LIT_EQ(h->name, h->name_len, "connection") ||
		    H1C__LIT_EQ(h->name, h->name_len, "proxy-connection") ||
		    H1C__LIT_EQ(h->name, h->name_len, "expect") ||
		    H1C__LIT_EQ(h->name, h->name_len, "te") ||
		    H1C__LIT_EQ(h->name, h->name_len, "upgrade"))
			return H1C_EBADREQUEST;
	}
	return 0;
}

int h1c__conn_request(struct h1c__conn *c, const struct h1c__req *r)
{
	size_t i, need;
	int err, has_host = 0;
	struct h1c__pending *q;

	if (c->q_n == H1C__MAXQ)
		return H1C_EINVAL;
	err = r->checked ? 0 : h1c__req_check(r);
	if (err)
		return err;
	for (i = 0; i < r->num_headers; i++)
		if (H1C__LIT_EQ(r->headers[i].name, r->headers[i].name_len, "host"))
			has_host = 1;

	/* Room for the whole head at once, so the writes below cannot fail:
	 * the caller's pieces, and 160 bytes for the fields we add (135 at most). */
	need = strlen(r->method) + r->target_len + strlen(r->host) + 160;
	for (i = 0; i < r->num_headers; i++)
		need += r->headers[i].name_len + r->headers[i].value_len + 4;
	err = buf_reserve(c->al, &c->out, &c->out_cap, c->out_len, need);
	if (err)
		return err;
	put_str(c, r->method);
	put(c, " ", 1);
	put(c, r->target, r->target_len);
	put_str(c, " HTTP/1.1\r\n");
	if (!has_host) {
		put_str(c, "Host: ");
		put_str(c, r->host);
		put_str(c, "\r\n");
	}
	for (i = 0; i < r->num_headers; i++) {
		const struct h1c_header *h = &r->headers[i];
		put(c, h->name, h->name_len);
		put(c, ": ", 2);
		put(c, h->value, h->value_len);
		put(c, "\r\n", 2);
	}
	/* RFC 9112 section 9.3: state persistence explicitly; old proxies
	 * need Proxy-Connection as well. */
	if (r->close) {
		put_str(c, "Connection: close\r\n");
	} else {
		put_str(c, "Connection: keep-alive\r\n");
		if (c->opt.flags & H1C_OPT_VIA_PROXY)
			put_str(c, "Proxy-Connection: keep-alive\r\n");
	}
	if (r->body_size >= 0) {
		/* RFC 9110 section 8.6: a body of known size, or a method that
		 * expects one, says its length. */
		if (r->body_size > 0 || strcmp(r->method, "POST") == 0 ||
		    strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
			char num[48];
			snprintf(num, sizeof(num), "Content-Length: %lld\r\n", r->body_size);
			put_str(c, num);
		}
	} else {
		put_str(c, "Transfer-Encoding: chunked\r\n");
	}
	if (r->expect)
		put_str(c, "Expect: 100-continue\r\n");
	put(c, "\r\n", 2);
	q = &c->q[(c->q_head + c->q_n) % H1C__MAXQ];
	memset(q, 0, sizeof(*q));
	/* RFC 9112 section 6.3: of the method, the response's framing
	 * depends only on whether it is HEAD or CONNECT; a static name keeps
	 * the in-flight entry small and outlives the request's record. */
	q->method = strcmp(r->method, "HEAD") == 0      ? "HEAD"
	            : strcmp(r->method, "CONNECT") == 0 ? "CONNECT"
	                                                : "GET";
	q->user = r->user;
	q->chunked = r->body_size < 0;
	c->q_n++;
	c->sent++;
	return 0;
}

int h1c__conn_body(struct h1c__conn *c, const void *data, size_t n, int last)
{
	const struct h1c__pending *q;
	int err;

	if (!c->q_n)
		return H1C_EINVAL;
	q = &c->q[(c->q_head + c->q_n - 1) % H1C__MAXQ];
	/* Room for the data and, when chunked, its framing (a length that
	 * cannot have room is refused before the sum wraps). */
	if (n > SIZE_MAX - 32)
		return H1C_ENOMEM;
	err = buf_reserve(c->al, &c->out, &c->out_cap, c->out_len, n + 32);
	if (err)
		return err;
	if (!q->chunked) {
		if (n)
			put(c, data, n);
		return 0;
	}
	/* RFC 9112 section 7.1: size line, data, CRLF; "0" CRLF CRLF last. */
	if (n) {
		char line[32];
		snprintf(line, sizeof(line), "%zx\r\n", n);
		put_str(c, line);
		put(c, data, n);
		put(c, "\r\n", 2);
	}
	if (last)
		put(c, "0\r\n\r\n", 5);
	return 0;
}

void h1c__conn_output(const struct h1c__conn *c, const char **p, size_t *n)
{
	*p = c->out ? c->out + c->out_off : "";
	*n = c->out_len - c->out_off;
}

void h1c__conn_written(struct h1c__conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

/* Moves the unconsumed input to the front of its buffer. Views from
 * earlier events die here. */
static void compact(struct h1c__conn *c)
{
	if (!c->in_off)
		return;
	memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
	c->in_len -= c->in_off;
	c->in_off = 0;
}

int h1c__conn_feed(struct h1c__conn *c, const char *p, size_t n)
{
	int err;

	compact(c);
	err = buf_reserve(c->al, &c->in, &c->in_cap, c->in_len, n);
	if (err)
		return err;
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return 0;
}

int h1c__conn_space(struct h1c__conn *c, size_t want, char **p, size_t *n)
{
	/* Move only when it frees much: a read lands after what is kept. */
	if (c->in_off == c->in_len || c->in_off > c->in_cap / 2)
		compact(c);
	/* The buffer only grows (doubling), so once warm it is never
	 * reallocated for a read. */
	{
		int err = buf_reserve(c->al, &c->in, &c->in_cap, c->in_len, want);
		if (err)
			return err;
	}
	*p = c->in + c->in_len;
	*n = c->in_cap - c->in_len;
	return 0;
}

void h1c__conn_filled(struct h1c__conn *c, size_t n)
{
	c->in_len += n;
	if (n)
		c->got_bytes = 1;
}

/* The unconsumed input (a valid pointer even before the first byte). */
static char *input(struct h1c__conn *c)
{
	static char none[1];

	return c->in ? c->in + c->in_off : none;
}

/* Bookkeeping when a final response has ended. */
static void response_done(struct h1c__conn *c)
{
	c->q_head = (c->q_head + 1) % H1C__MAXQ;
	c->q_n--;
	c->done++;
	c->got_bytes = c->in_len > c->in_off;
	if (!c->rd.framing.keep_alive)
		c->no_reuse = 1;
	/* RFC 9112 section 9.3 and the Keep-Alive hints (RFC 2068 19.7.1.1). */
	if (c->rd.framing.ka_max >= 0) {
		c->ka_max = c->rd.framing.ka_max;
		/* max counts the requests the server takes after this one, so
		 * with requests pipelined behind it the bound is absolute. */
		c->ka_limit = (long long)c->done + c->ka_max;
	}
	if (c->rd.framing.ka_timeout >= 0)
		c->ka_timeout = c->rd.framing.ka_timeout;
}

int h1c__conn_next(struct h1c__conn *c, struct h1c_event *ev, void **user)
{
	const char *method;

	*user = NULL;
	if (!c->q_n) {
		h1c__ev_set(ev, H1C_EV_NEED_MORE);
		/* Bytes nobody asked for (a stray 408, say): never reuse. */
		if (c->in_len > c->in_off) {
			c->no_reuse = 1;
			return H1C_EEXTRADATA;
		}
		return 0;
	}
	method = c->q[c->q_head].method;
	*user = c->q[c->q_head].user;
	for (;;) {
		int n = h1c_reader_feed(&c->rd, input(c), c->in_len - c->in_off, method, ev);
		if (n == H1C_EEXTRADATA) {
			/* The last response ended the connection's use
			 * (Connection: close) and the server went on talking
			 * (Node answers 503 to what was pipelined behind). RFC
			 * 9112 section 9.6: it processed none of the requests
			 * behind, which are lost as if it had closed. */
			c->no_reuse = 1;
			c->got_bytes = 0;
			return H1C_ETRUNCATED;
		}
		if (n < 0) {
			c->no_reuse = 1;
			return n;
		}
		c->in_off += (size_t)n;
		if (!(c->rd.framing.flags & H1C_FRAMING_INTERIM))
			break;
		/* An interim response: its head says so, its end is no event
		 * (the final response follows). */
		if (ev->type == H1C_EV_HEAD)
			ev->type = (enum h1c_event_type)H1C__EV_INTERIM;
		if (ev->type != H1C_EV_DONE)
			return 0;
	}
	if (ev->type == H1C_EV_DONE) {
		if (c->rd.framing.flags & H1C_FRAMING_SWITCHED)
			c->no_reuse = 1;
		response_done(c);
	}
	return 0;
}

int h1c__conn_eof(struct h1c__conn *c, struct h1c_event *ev, void **user)
{
	int err;

	c->no_reuse = 1;
	*user = c->q_n ? c->q[c->q_head].user : NULL;
	err = h1c_reader_eof(&c->rd, input(c), c->in_len - c->in_off, ev);
	if (err)
		return err;
	if (ev->type == H1C_EV_DONE && c->q_n)
		response_done(c);
	else if (c->q_n)
		return H1C_ETRUNCATED;
	return 0;
}

int h1c__conn_may_send(const struct h1c__conn *c)
{
	/* Keep-Alive: max=N in a response is the number of requests the
	 * server will still take on this connection after it (RFC 2068
	 * section 19.7.1.1, as Apache counts it down). */
	return !c->no_reuse && (c->ka_limit < 0 || (long long)c->sent < c->ka_limit);
}

int h1c__conn_reusable(const struct h1c__conn *c, long long idle_ms, long long limit_ms)
{
	if (c->q_n || c->out_len || !h1c__conn_may_send(c))
		return 0;
	if (limit_ms >= 0 && idle_ms >= limit_ms)
		return 0;
	if (c->ka_timeout >= 0) {
		/* Retire before the server does, with a safety margin. */
		long long hint = c->ka_timeout * 1000;
		hint -= hint / 2 < 1000 ? hint / 2 : 1000;
		if (idle_ms >= hint)
			return 0;
	}
	return 1;
}
