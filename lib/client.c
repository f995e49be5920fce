/*
 * client.c - the blocking client: per-origin kept-alive connections, the
 * request/response exchange over the I/O vtable with poll(2) and the
 * monotonic clock, Expect: 100-continue, and the one replay an idempotent
 * request gets when a reused connection turns out to be closed (the
 * keep-alive race, RFC 9112 section 9.3.1).
 */
/* POSIX sockets and poll(2), even under a strict -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 16384
/* What identifies a connection: a connection made for one of these is
 * never handed to another (DESIGN: pools per origin). Through a proxy the
 * host and port are the proxy's, and one connection serves every origin;
 * the vtable is one per client. */
struct key {
	char host[256];
	unsigned port;
	int via_proxy;
};

/* One connection the client keeps. */
struct cx {
	struct cx *next;
	struct key key;
	void *io;
	int fd;
	struct h1c__conn conn;
	long long last_used;
};

struct h1c_client {
	struct h1c_client_options o;
	const struct h1c_io *io;
	struct h1c__url proxy;
	int has_proxy;
	struct cx *idle;
	struct h1c_stats st;
};

/* What one exchange gathers. */
struct xfer {
	struct h1c_client *c;
	const struct h1c_request *req;
	struct h1c_result *res;
	char *body;
	size_t body_len, body_cap;
	int final_head; /* the final response's head arrived */
	int got_100;
	int any_head;   /* any head (1xx included) arrived */
	int expect;     /* Expect: 100-continue was sent */
	int discard;    /* a 417 to be retried: not the caller's */
};

struct h1c_client *h1c_client_new(const struct h1c_client_options *opt)
{
	struct h1c_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (opt)
		c->o = *opt;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = H1C_DEFAULT_CONNECT_TIMEOUT_MS;
	if (c->o.head_timeout_ms <= 0)
		c->o.head_timeout_ms = H1C_DEFAULT_HEAD_TIMEOUT_MS;
	if (c->o.idle_timeout_ms <= 0)
		c->o.idle_timeout_ms = H1C_DEFAULT_IDLE_TIMEOUT_MS;
	if (c->o.keepalive_ms <= 0)
		c->o.keepalive_ms = H1C_DEFAULT_KEEPALIVE_MS;
	if (c->o.expect_timeout_ms <= 0)
		c->o.expect_timeout_ms = H1C_DEFAULT_EXPECT_TIMEOUT_MS;
	c->io = c->o.io ? c->o.io : h1c_io_plain();
	if (c->o.proxy) {
		if (h1c__hostport_parse(c->o.proxy, &c->proxy) != 0) {
			free(c);
			return NULL;
		}
		c->has_proxy = 1;
	}
	c->o.proxy = NULL; /* parsed; the caller's string is not kept */
	return c;
}

static void cx_close(struct h1c_client *c, struct cx *x)
{
	if (!x)
		return;
	if (x->io)
		c->io->close(x->io);
	h1c__conn_free(&x->conn);
	free(x);
}

void h1c_client_free(struct h1c_client *c)
{
	if (!c)
		return;
	while (c->idle) {
		struct cx *x = c->idle;
		c->idle = x->next;
		cx_close(c, x);
	}
	free(c);
}

void h1c_client_stats(const struct h1c_client *c, struct h1c_stats *st)
{
	if (c && st)
		*st = c->st;
}

void h1c_result_free(struct h1c_result *res)
{
	if (!res)
		return;
	free(res->head_);
	free(res->trail_);
	free(res->body);
	memset(res, 0, sizeof(*res));
}

/* Returns 1 when the socket has something to read (bytes or EOF): an idle
 * connection in that state was closed by the server, or holds junk. */
static int readable_now(int fd)
{
	struct pollfd p;

	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) != 0;
}

/* Takes an idle connection for key that can still be used, closing the
 * ones that cannot. */
static int key_eq(const struct key *a, const struct key *b)
{
	return a->port == b->port && a->via_proxy == b->via_proxy && strcmp(a->host, b->host) == 0;
}

static struct cx *take_idle(struct h1c_client *c, const struct key *key)
{
	struct cx **pp = &c->idle;
	long long now = h1c__now_ms();

	while (*pp) {
		struct cx *x = *pp;
		if (!key_eq(&x->key, key)) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		if (h1c__conn_reusable(&x->conn, now - x->last_used, c->o.keepalive_ms) &&
		    !readable_now(x->fd))
			return x;
		cx_close(c, x);
	}
	return NULL;
}

static int cx_open(struct h1c_client *c, const struct key *key, const struct h1c__url *to,
                   struct cx **out)
{
	struct cx *x = calloc(1, sizeof(*x));
	int fd = -1, err;

	if (!x)
		return H1C_ENOMEM;
	x->key = *key;
	err = h1c__conn_init(&x->conn, &c->o.parse, c->has_proxy);
	if (!err)
		err = h1c__connect(to->host, to->port, c->o.connect_timeout_ms, &fd);
	if (!err) {
		x->io = c->io->open(c->o.io_user, fd, to->host, &err);
		if (!x->io) {
			close(fd);
			if (!err)
				err = H1C_ECONNECT;
		}
	}
	if (err) {
		cx_close(c, x);
		return err;
	}
	x->fd = c->io->fd(x->io);
	c->st.connections_opened++;
	*out = x;
	return 0;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p;
		long long left = deadline - h1c__now_ms();
		int rc;

		if (left <= 0)
			return H1C_ETIMEDOUT;
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return H1C_EIO;
	}
}

/* Writes everything the connection has queued. */
static int flush(struct h1c_client *c, struct cx *x)
{
	for (;;) {
		const char *p;
		size_t n;
		long w;

		h1c__conn_output(&x->conn, &p, &n);
		if (!n)
			return 0;
		w = c->io->write(x->io, p, n);
		if (w > 0) {
			h1c__conn_written(&x->conn, (size_t)w);
			continue;
		}
		if (w == H1C_EWANTWRITE || w == H1C_EWANTREAD) {
			int err = wait_fd(x->fd, w == H1C_EWANTWRITE ? POLLOUT : POLLIN,
			                  h1c__now_ms() + c->o.idle_timeout_ms);
			if (err)
				return err;
			continue;
		}
		return w < 0 ? (int)w : H1C_EIO;
	}
}

/* Copies header views into one owned block; returns the block. */
static char *copy_fields(const struct h1c_header *f, size_t n, const char *extra,
                         size_t extra_len, struct h1c_header **out, const char **extra_out)
{
	size_t i, size = n * sizeof(**out) + extra_len + 1;
	struct h1c_header *h;
	char *block, *p;

	for (i = 0; i < n; i++)
		size += f[i].name_len + f[i].value_len + 2;
	block = malloc(size);
	if (!block)
		return NULL;
	h = (struct h1c_header *)(void *)block;
	p = block + n * sizeof(*h);
	for (i = 0; i < n; i++) {
		memcpy(p, f[i].name, f[i].name_len);
		p[f[i].name_len] = '\0';
		h[i].name = p;
		h[i].name_len = f[i].name_len;
		p += f[i].name_len + 1;
		memcpy(p, f[i].value, f[i].value_len);
		p[f[i].value_len] = '\0';
		h[i].value = p;
		h[i].value_len = f[i].value_len;
		p += f[i].value_len + 1;
	}
	if (extra_out) {
		memcpy(p, extra, extra_len);
		p[extra_len] = '\0';
		*extra_out = p;
	}
	*out = h;
	return block;
}

/* Handles one event of the response to the current request. */
static int on_event(struct xfer *t, struct cx *x, const struct h1c_event *ev)
{
	const struct h1c_reader *rd = &x->conn.rd;
	struct h1c_result *res = t->res;

	switch (ev->type) {
	case H1C_EV_HEAD:
		t->any_head = 1;
		if (rd->framing.flags & H1C_FRAMING_INTERIM) {
			if (rd->resp.status == 100)
				t->got_100 = 1;
			break;
		}
		t->final_head = 1;
		free(res->head_);
		res->head_ = copy_fields(rd->resp.headers, rd->resp.num_headers, rd->resp.reason,
		                         rd->resp.reason_len, &res->headers, &res->reason);
		if (!res->head_)
			return H1C_ENOMEM;
		res->num_headers = rd->resp.num_headers;
		res->reason_len = rd->resp.reason_len;
		res->status = rd->resp.status;
		res->version_minor = rd->resp.version_minor;
		t->discard = t->expect && res->status == 417;
		if (!t->discard && t->req->on_head && t->req->on_head(t->req->data_user, res))
			return H1C_ECALLBACK;
		break;
	case H1C_EV_DATA:
		if (t->discard || ev->len == 0)
			break;
		if (t->req->on_data) {
			if (t->req->on_data(t->req->data_user, ev->data, ev->len))
				return H1C_ECALLBACK;
			break;
		}
		if (!t->body || t->body_len + ev->len + 1 > t->body_cap) {
			size_t cap = t->body_cap ? t->body_cap : 4096;
			char *b;
			while (cap < t->body_len + ev->len + 1)
				cap *= 2;
			b = realloc(t->body, cap);
			if (!b)
				return H1C_ENOMEM;
			t->body = b;
			t->body_cap = cap;
		}
		memcpy(t->body + t->body_len, ev->data, ev->len);
		t->body_len += ev->len;
		break;
	case H1C_EV_TRAILERS:
		free(res->trail_);
		res->trail_ = copy_fields(ev->fields, ev->num_fields, NULL, 0, &res->trailers, NULL);
		if (!res->trail_)
			return H1C_ENOMEM;
		res->num_trailers = ev->num_fields;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Reads and handles events until the final response ends (returns 1), or,
 * when stop_at_head is set, until a 100 or a final head arrives (returns 0)
 * or the deadline passes (H1C_ETIMEDOUT).
 */
static int pump(struct xfer *t, struct cx *x, long long deadline, int stop_at_head)
{
	struct h1c_client *c = t->c;

	for (;;) {
		struct h1c_event ev;
		void *user;
		int err = h1c__conn_next(&x->conn, &ev, &user);
		char *space;
		size_t room;
		long n;

		if (err)
			return err;
		if (ev.type != H1C_EV_NEED_MORE) {
			err = on_event(t, x, &ev);
			if (err)
				return err;
			if (ev.type == H1C_EV_DONE && t->final_head)
				return 1;
			if (stop_at_head && (t->got_100 || t->final_head))
				return 0;
			continue;
		}
		err = h1c__conn_space(&x->conn, READ_CHUNK, &space, &room);
		if (err)
			return err;
		n = c->io->read(x->io, space, room);
		if (n > 0) {
			h1c__conn_filled(&x->conn, (size_t)n);
			/* Between bytes of a response, the idle timeout runs. */
			if (t->any_head && !stop_at_head)
				deadline = h1c__now_ms() + c->o.idle_timeout_ms;
			continue;
		}
		if (n == 0) {
			err = h1c__conn_eof(&x->conn, &ev, &user);
			if (err)
				return err;
			if (ev.type == H1C_EV_DONE && t->final_head) {
				on_event(t, x, &ev);
				return 1;
			}
			return H1C_ETRUNCATED;
		}
		if (n == H1C_EWANTREAD || n == H1C_EWANTWRITE) {
			err = wait_fd(x->fd, n == H1C_EWANTREAD ? POLLIN : POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		return (int)n;
	}
}

/* Sends the body of the request, from memory or from its callback. */
static int send_body(struct xfer *t, struct cx *x)
{
	const struct h1c_request *r = t->req;
	int err;

	if (!r->body_read) {
		err = h1c__conn_body(&x->conn, r->body, r->body_len, 0);
		return err ? err : flush(t->c, x);
	}
	for (;;) {
		char chunk[READ_CHUNK];
		long n = r->body_read(r->body_user, chunk, sizeof(chunk));
		if (n < 0)
			return H1C_ECALLBACK;
		err = h1c__conn_body(&x->conn, chunk, (size_t)n, n == 0);
		if (!err)
			err = flush(t->c, x);
		if (err || n == 0)
			return err;
	}
}

/* Builds the target and Host of a request into buf. */
static void request_target(const struct h1c_client *c, const struct h1c__url *u, char *buf,
                           size_t size, struct h1c__req *r, char *host, size_t host_size)
{
	/* A URL with no path, or only a query, gets the "/" it lacks. */
	const char *slash = u->has_path ? "" : "/";

	if (u->port == 80)
		snprintf(host, host_size, u->ipv6 ? "[%s]" : "%s", u->host);
	else
		snprintf(host, host_size, u->ipv6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
	r->host = host;
	/* RFC 9112 section 3.2: absolute-form to a proxy, origin-form else. */
	snprintf(buf, size, "%s%s%s%.*s", c->has_proxy ? "http://" : "", c->has_proxy ? host : "",
	         slash, (int)u->path_len, u->path);
	r->target = buf;
	r->target_len = strlen(buf);
}

/* One exchange on x: write the request, read the whole response. */
static int exchange(struct xfer *t, struct cx *x, const struct h1c__url *u, int expect)
{
	const struct h1c_request *q = t->req;
	struct h1c_client *c = t->c;
	struct h1c__req r;
	char host[300], small[512];
	char *target;
	size_t tsize = u->path_len + sizeof(host) + 16;
	long long deadline;
	int err, has_body;

	/* Most targets fit on the stack: no allocation per request. */
	target = tsize <= sizeof(small) ? small : malloc(tsize);
	if (!target)
		return H1C_ENOMEM;
	memset(&r, 0, sizeof(r));
	r.method = q->method ? q->method : "GET";
	request_target(c, u, target, tsize, &r, host, sizeof(host));
	r.headers = q->headers;
	r.num_headers = q->num_headers;
	r.body_size = q->body_read ? (q->body_size >= 0 ? q->body_size : -1)
	                           : (long long)q->body_len;
	has_body = q->body_read ? 1 : q->body_len > 0;
	r.close = (q->flags & H1C_REQ_CLOSE) != 0;
	r.expect = expect && has_body;
	t->expect = r.expect;
	err = h1c__conn_request(&x->conn, &r);
	if (target != small)
		free(target);
	if (err)
		return err;
	err = flush(c, x);
	if (err)
		return err;
	if (r.expect) {
		/* RFC 9110 section 10.1.1: wait a while for 100, then send anyway;
		 * a final status first means the body is not sent, and since its
		 * length was announced the connection cannot be reused. */
		err = pump(t, x, h1c__now_ms() + c->o.expect_timeout_ms, 1);
		if (err == 1) {
			x->conn.no_reuse = 1; /* answered; the body was never sent */
			return 0;
		}
		if (err < 0 && err != H1C_ETIMEDOUT)
			return err;
		if (t->final_head && !t->got_100) {
			x->conn.no_reuse = 1;
			has_body = 0;
		}
	}
	if (has_body) {
		err = send_body(t, x);
		if (err == H1C_EIO) {
			/* The server may have answered and closed without reading
			 * the body (413, 401...): its response is worth more than the
			 * write error. */
			x->conn.no_reuse = 1;
			if (pump(t, x, h1c__now_ms() + c->o.idle_timeout_ms, 0) == 1)
				return 0;
		}
		if (err)
			return err;
	}
	deadline = h1c__now_ms() + c->o.head_timeout_ms;
	err = pump(t, x, deadline, 0);
	return err == 1 ? 0 : err;
}

/* Keeps x for reuse or closes it. */
static void release(struct h1c_client *c, struct cx *x)
{
	x->last_used = h1c__now_ms();
	if (!h1c__conn_reusable(&x->conn, 0, c->o.keepalive_ms)) {
		cx_close(c, x);
		return;
	}
	x->next = c->idle;
	c->idle = x;
}

int h1c_client_fetch(struct h1c_client *c, const struct h1c_request *req,
                     struct h1c_result *res)
{
	struct h1c__url u;
	const struct h1c__url *to;
	struct key key;
	const char *method;
	int err, attempt, idempotent, expect, retried_417 = 0, replayed = 0;

	if (!c || !req || !res)
		return H1C_EINVAL;
	memset(res, 0, sizeof(*res));
	c->st.requests++;
	err = h1c__url_parse(req->url, &u);
	if (err)
		goto fail;
	method = req->method ? req->method : "GET";
	idempotent = h1c__method_idempotent(method) || (req->flags & H1C_REQ_IDEMPOTENT);
	expect = c->o.expect_threshold > 0 && !(req->flags & H1C_REQ_NO_EXPECT) &&
	         (req->body_read ? (req->body_size < 0 ||
	                            (unsigned long long)req->body_size >= c->o.expect_threshold)
	                         : req->body_len >= c->o.expect_threshold);
	to = c->has_proxy ? &c->proxy : &u;
	memset(&key, 0, sizeof(key));
	memcpy(key.host, to->host, sizeof(key.host));
	key.port = to->port;
	key.via_proxy = c->has_proxy;

	for (attempt = 0;; attempt++) {
		struct xfer t;
		struct cx *x = take_idle(c, &key);
		int reused = x != NULL;

		if (!x) {
			err = cx_open(c, &key, to, &x);
			if (err)
				goto fail;
		} else {
			c->st.connections_reused++;
		}
		memset(&t, 0, sizeof(t));
		t.c = c;
		t.req = req;
		t.res = res;
		err = exchange(&t, x, &u, expect);
		if (err == 0 && res->status == 417 && expect && !retried_417) {
			/* RFC 9110 section 10.1.1: try once more without it. */
			retried_417 = 1;
			expect = 0;
			free(t.body);
			h1c_result_free(res);
			release(c, x);
			attempt--;
			continue;
		}
		if (err == 0) {
			res->body = t.body;
			res->body_len = t.body_len;
			if (!res->body && !req->on_data) {
				res->body = calloc(1, 1);
				if (!res->body) {
					cx_close(c, x);
					err = H1C_ENOMEM;
					goto fail;
				}
			}
			res->reused = reused;
			res->replayed = replayed;
			release(c, x);
			c->st.responses++;
			return 0;
		}
		free(t.body);
		/* The keep-alive race: a reused connection failed before any
		 * byte of the response came back. */
		if (reused && !x->conn.got_bytes && (err == H1C_EIO || err == H1C_ETRUNCATED)) {
			cx_close(c, x);
			h1c_result_free(res);
			if (idempotent && !req->body_read && attempt == 0) {
				c->st.replayed++;
				replayed = 1;
				continue;
			}
			/* Not idempotent, or its body cannot be read again. */
			err = H1C_EUNANSWERED;
			goto fail;
		}
		cx_close(c, x);
		h1c_result_free(res);
		goto fail;
	}
fail:
	c->st.errors++;
	return err;
}
