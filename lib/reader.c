/*
 * reader.c - the response-stream reader: head parser, framing decision and
 * body decoder joined for the bytes one server sends on one connection,
 * with the bound on interim responses. Sans-I/O.
 */
#include "internal.h"

#include <string.h>

enum { R_HEAD = 0, R_BODY, R_CLOSED, R_SWITCHED };

int h1c_reader_init(struct h1c_reader *r, const struct h1c_options *opt,
                    struct h1c_header *headers, size_t headers_cap)
{
	if (!r || !headers || !headers_cap)
		return H1C_EINVAL;
	memset(r, 0, sizeof(*r));
	h1c__options(&r->opt_, opt);
	r->headers_ = headers;
	r->headers_cap_ = headers_cap;
	r->state_ = R_HEAD;
	return 0;
}

/* (internal.h) */
int h1c__reader_between(const struct h1c_reader *r)
{
	return r->state_ == R_HEAD && !r->last_len_ && !r->interim_;
}

int h1c__reader_rehome(struct h1c_reader *r, struct h1c_header *headers)
{
	if (!h1c__reader_between(r))
		return 0;
	r->headers_ = headers;
	return 1;
}

/* The response needed a tolerance: its connection must not be reused. */
static void taint(struct h1c_reader *r)
{
	r->framing.keep_alive = 0;
	r->framing.flags |= H1C_FRAMING_LENIENT;
}

/* Parses a head at buf and sets up the body decoder; see h1c_reader_feed(). */
static int feed_head(struct h1c_reader *r, char *buf, size_t len, const char *method,
                     struct h1c_event *ev)
{
	struct h1c_header *rest;
	size_t rest_cap;
	int n, err;

	n = h1c_parse_response(buf, len, r->last_len_, &r->resp, r->headers_,
	                       r->headers_cap_, &r->opt_);
	if (n == H1C_EINCOMPLETE) {
		r->last_len_ = len;
		h1c__ev_set(ev, H1C_EV_NEED_MORE);
		return 0;
	}
	if (n < 0)
		return n;
	r->last_len_ = 0;
	err = h1c_framing_decide(method ? method : "GET", &r->resp, &r->opt_, &r->framing);
	if (err)
		return err;
	/* A tolerance used on an interim response taints the connection. */
	if (r->tainted_)
		taint(r);
	if (r->framing.flags & H1C_FRAMING_INTERIM) {
		if (++r->interim_ > r->opt_.max_interim)
			return H1C_EINTERIM;
		if (r->framing.flags & H1C_FRAMING_LENIENT)
			r->tainted_ = 1;
	} else {
		r->interim_ = 0;
		r->tainted_ = 0;
	}
	rest = r->headers_ + r->resp.num_headers;
	rest_cap = r->headers_cap_ - r->resp.num_headers;
	err = h1c_body_init(&r->body_, &r->framing, &r->opt_, rest_cap ? rest : NULL, rest_cap);
	if (err)
		return err;
	r->state_ = R_BODY;
	h1c__ev_set(ev, H1C_EV_HEAD);
	return n;
}

/* Moves r past a response that has just ended. */
static void end_response(struct h1c_reader *r)
{
	if (h1c_body_lenient(&r->body_))
		taint(r);
	if (r->framing.flags & H1C_FRAMING_SWITCHED)
		r->state_ = R_SWITCHED;
	else if (!r->framing.keep_alive && !(r->framing.flags & H1C_FRAMING_INTERIM))
		r->state_ = R_CLOSED;
	else
		r->state_ = R_HEAD;
}

int h1c_reader_feed(struct h1c_reader *r, char *buf, size_t len, const char *method,
                    struct h1c_event *ev)
{
	int n;

	if (!r || !ev || (!buf && len))
		return H1C_EINVAL;
	switch (r->state_) {
	case R_HEAD:
		if (len == 0) {
			h1c__ev_set(ev, H1C_EV_NEED_MORE);
			return 0;
		}
		return feed_head(r, buf, len, method, ev);
	case R_BODY:
		n = h1c_body_decode(&r->body_, buf, len, ev);
		if (n >= 0 && ev->type == H1C_EV_DONE)
			end_response(r);
		return n;
	default:
		if (len)
			return r->state_ == R_SWITCHED ? H1C_ESWITCHED : H1C_EEXTRADATA;
		h1c__ev_set(ev, H1C_EV_NEED_MORE);
		return 0;
	}
}

int h1c_reader_eof(struct h1c_reader *r, char *buf, size_t len, struct h1c_event *ev)
{
	int err;

	if (!r || !ev || (!buf && len))
		return H1C_EINVAL;
	h1c__ev_set(ev, H1C_EV_NEED_MORE);
	switch (r->state_) {
	case R_HEAD:
		if (len) {
			/* The same verdict whatever pieces the head came in. */
			err = h1c_parse_response(buf, len, 0, &r->resp, r->headers_, r->headers_cap_,
			                         &r->opt_);
			return err < 0 && err != H1C_EINCOMPLETE ? err : H1C_ETRUNCATED;
		}
		return 0;
	case R_BODY:
		err = h1c_body_eof(&r->body_);
		if (err)
			return err;
		ev->type = H1C_EV_DONE;
		end_response(r);
		return 0;
	default:
		return 0;
	}
}
