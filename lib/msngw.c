/*
 * msngw.c - MSN Messenger HTTP gateway sessions (the optional module; the
 * core never calls into it). MSNP commands go in the bodies of POST
 * requests to /gateway/gateway.dll, one request at a time per session; the
 * session id and the gateway address come back in X-MSN-Messenger and are
 * echoed on the next request; while nothing is sent the session polls. The
 * bodies of one session are one MSNP stream, cut into commands here
 * whatever the response boundaries.
 */
#include "internal.h"

#include <limits.h>
#include "h1c_msngw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Commands followed by a payload whose length is their last argument. */
static const char *const payload_in[] = {
	"MSG", "NOT", "GCF", "UBX", "UBN", "UBM", "IPG", "ADL", "RML",
	"FQY", "SDG", "NFY", "PUT", "DEL", "GET", "FSL", NULL,
};
static const char *const payload_out[] = {
	"MSG", "QRY", "UUX", "ADL", "RML", "FQY", "UUN", "UUM",
	"PUT", "DEL", "SDG", "SDC", "PGD", NULL,
};

#define MAX_LINE 65536 /* the longest command line accepted */

/* ---- the MSNP stream splitter -------------------------------------------------- */

/* Returns 1 when name[0..n) is in the NULL-terminated table. */
static int in_table(const char *const *t, const char *name, size_t n)
{
	if (!t)
		return 0;
	for (; *t; t++)
		if (strlen(*t) == n && memcmp(*t, name, n) == 0)
			return 1;
	return 0;
}

/*
 * Looks at the command starting at p[0..len): stores the length of its line
 * (terminator included) in *line_len and of its payload in *payload_len.
 * Returns 1 when the whole command is there, 0 when more bytes are needed,
 * H1C_EMSNSYNTAX when it is malformed, H1C_EMSNPAYLOAD when its payload is
 * longer than max. tables: the payload commands for this direction, then
 * the application's extra ones. A numeric reply (an error) carries a
 * payload when it has two arguments or more and the last is a number.
 */
static int msnp_command(const char *p, size_t len, const char *const *table,
                        const char *const *extra, size_t max, size_t *line_len,
                        size_t *payload_len)
{
	const char *lf = memchr(p, '\n', len < MAX_LINE ? len : MAX_LINE);
	size_t end, name_len = 0, nargs = 0, i, last_start = 0;
	unsigned long long n = 0;
	int numeric;

	if (!lf)
		return len >= MAX_LINE ? H1C_EMSNSYNTAX : 0;
	*line_len = (size_t)(lf - p) + 1;
	end = (size_t)(lf - p);
	if (end && p[end - 1] == '\r')
		end--;
	while (name_len < end && p[name_len] != ' ')
		name_len++;
	if (name_len == 0)
		return H1C_EMSNSYNTAX;
	for (i = 0; i < name_len; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return H1C_EMSNSYNTAX;
	/* The arguments: count them, keep where the last starts. */
	for (i = name_len; i < end;) {
		while (i < end && p[i] == ' ')
			i++;
		if (i == end)
			break;
		last_start = i;
		nargs++;
		while (i < end && p[i] != ' ')
			i++;
	}
	numeric = name_len == 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	          p[2] >= '0' && p[2] <= '9';
	*payload_len = 0;
	if (!(in_table(table, p, name_len) || in_table(extra, p, name_len) ||
	      (numeric && nargs >= 2)))
		return 1;
	if (nargs == 0)
		return H1C_EMSNSYNTAX;
	for (i = last_start; i < end && p[i] != ' '; i++) {
		if (p[i] < '0' || p[i] > '9') {
			if (numeric)
				return 1; /* a numeric reply without a length */
			return H1C_EMSNSYNTAX;
		}
		n = n * 10 + (unsigned)(p[i] - '0');
		if (n > max)
			return H1C_EMSNPAYLOAD;
	}
	*payload_len = (size_t)n;
	return len - *line_len >= *payload_len ? 1 : 0;
}

/* ---- X-MSN-Messenger ---------------------------------------------------------- */

/* What an X-MSN-Messenger value says. */
struct gw_header {
	const char *sid, *gwip;
	size_t sid_len, gwip_len;
	int close;
};

/* Returns 1 when s[0..n) equals lit, ignoring ASCII case. */
static int ieq(const char *s, size_t n, const char *lit)
{
	return h1c__ieq(s, n, lit);
}

/*
 * Parses "SessionID=954547325.13160; GW-IP=207.46.110.18[; Session=close]"
 * leniently: keys in any order and any case, spaces optional, unknown keys
 * ignored. Returns 0 when a session id was found, else H1C_EMSNSESSION.
 */
static int gw_header_parse(const char *v, size_t n, struct gw_header *h)
{
	size_t i = 0;

	memset(h, 0, sizeof(*h));
	while (i < n) {
		size_t ks, ke, vs, ve;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
			i++;
		ks = i;
		while (i < n && v[i] != '=' && v[i] != ';')
			i++;
		ke = i;
		while (ke > ks && (v[ke - 1] == ' ' || v[ke - 1] == '\t'))
			ke--;
		if (i < n && v[i] == '=')
			i++;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		vs = i;
		while (i < n && v[i] != ';')
			i++;
		ve = i;
		while (ve > vs && (v[ve - 1] == ' ' || v[ve - 1] == '\t'))
			ve--;
		if (ieq(v + ks, ke - ks, "sessionid") && ve > vs) {
			h->sid = v + vs;
			h->sid_len = ve - vs;
		} else if (ieq(v + ks, ke - ks, "gw-ip") && ve > vs) {
			h->gwip = v + vs;
			h->gwip_len = ve - vs;
		} else if (ieq(v + ks, ke - ks, "session") && ieq(v + vs, ve - vs, "close")) {
			h->close = 1;
		}
	}
	return h->sid ? 0 : H1C_EMSNSESSION;
}

/* ---- the session ---------------------------------------------------------------- */

enum { REQ_NONE, REQ_OPEN, REQ_SEND, REQ_POLL };

struct h1c_msngw {
	struct h1c_client *c;
	struct h1c_msngw_callbacks cb;
	void *user;
	const struct h1c_allocator *al;
	char gw_host[256];
	unsigned gw_port;
	char server[3];
	char ip[256];
	int poll_ms, batch, close_timeout_ms;
	int max_retries, retries; /* requests cut in a row, and the bound */
	size_t max_payload;
	struct h1c_header *hdrs; /* the fields sent, defaults merged */
	size_t nhdrs;
	const char *const *extra;
	char sid[128];
	int opened;              /* the open request was answered */
	int ended, closing, out_queued;
	/* Commands waiting: bytes, and where each command ends. */
	char *q;
	size_t q_len, q_cap;
	size_t *cuts;
	size_t n_cuts, cuts_cap;
	/* The request outstanding. */
	int req;
	long long req_id;
	char *body;              /* the bytes it carries (for on_unsure) */
	size_t body_len, body_cap;
	/* The incoming stream. */
	char *in;
	size_t in_len, in_cap;
	int http_status;
	char reason[128];
	int end_pending, end_err; /* the session ends once this request is done */
	struct h1c__timer timer;
	long long last_request; /* when the last request went out */
	long long close_deadline;
	char url[600];
};

static void *grow(const struct h1c_allocator *al, void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = h1c__realloc(al, p, c * size);
	if (!q)
		return NULL;
	*cap = c;
	return q;
}

/* Queues one command's bytes at the back, or at the front (a send that
 * never left goes first again). Returns 0 or H1C_ENOMEM, the queue then as
 * it was. */
static int queue_put(struct h1c_msngw *s, const char *data, size_t len, int front)
{
	char *q = grow(s->al, s->q, &s->q_cap, s->q_len + len, 1);
	size_t *cuts, i;

	if (!q)
		return H1C_ENOMEM;
	s->q = q;
	cuts = grow(s->al, s->cuts, &s->cuts_cap, s->n_cuts + 1, sizeof(size_t));
	if (!cuts)
		return H1C_ENOMEM;
	s->cuts = cuts;
	if (!front) {
		memcpy(s->q + s->q_len, data, len);
		s->q_len += len;
		s->cuts[s->n_cuts++] = s->q_len;
		return 0;
	}
	memmove(s->q + len, s->q, s->q_len);
	memcpy(s->q, data, len);
	s->q_len += len;
	for (i = 0; i < s->n_cuts; i++)
		s->cuts[i] += len;
	memmove(s->cuts + 1, s->cuts, s->n_cuts * sizeof(size_t));
	s->cuts[0] = len;
	s->n_cuts++;
	return 0;
}

/* Ends the session once: on_end with err (0: closed by the server). */
static void session_end(struct h1c_msngw *s, int err)
{
	if (s->ended)
		return;
	s->ended = 1;
	h1c__timer_disarm(s->c, &s->timer);
	if (s->cb.on_end)
		s->cb.on_end(s->user, err);
}

/* Ends the session with err, for a reason that is not an HTTP answer
 * (why: what h1c_msngw_http_status() reports; NULL: err's message). */
static void session_fail(struct h1c_msngw *s, int err, const char *why)
{
	s->http_status = 0;
	snprintf(s->reason, sizeof(s->reason), "%s", why ? why : h1c_strerror(err));
	session_end(s, err);
}

/* A request whose connection broke before its answer: the gateway may be
 * fine, and the session goes on (within max_retries). */
static int cut_short(int err)
{
	return err == H1C_EUNANSWERED || err == H1C_ETRUNCATED || err == H1C_EIO ||
	       err == H1C_ENOTSENT;
}

static void kick(struct h1c_msngw *s);

/* The client's callbacks for the request outstanding. */
static int gw_head(void *user, const struct h1c_response *resp)
{
	struct h1c_msngw *s = user;
	const struct h1c_header *h;
	struct gw_header g;

	if (resp->status != 200) {
		s->http_status = resp->status;
		snprintf(s->reason, sizeof(s->reason), "%.*s",
		         (int)(resp->reason_len < 120 ? resp->reason_len : 120), resp->reason);
		s->end_pending = 1;
		s->end_err = H1C_EMSNHTTP;
		return 0;
	}
	h = h1c_header_find(resp->headers, resp->num_headers, "X-MSN-Messenger");
	if (!h || gw_header_parse(h->value, h->value_len, &g) != 0 || g.sid_len >= sizeof(s->sid) ||
	    g.gwip_len >= sizeof(s->gw_host)) {
		s->http_status = resp->status;
		snprintf(s->reason, sizeof(s->reason), "no X-MSN-Messenger session");
		s->end_pending = 1;
		s->end_err = H1C_EMSNSESSION;
		return 0;
	}
	/* The newest id, whole; the next request goes where GW-IP says. */
	memcpy(s->sid, g.sid, g.sid_len);
	s->sid[g.sid_len] = '\0';
	if (g.gwip) {
		memcpy(s->gw_host, g.gwip, g.gwip_len);
		s->gw_host[g.gwip_len] = '\0';
	}
	if (s->req == REQ_OPEN)
		s->opened = 1;
	s->retries = 0;
	if (g.close) {
		s->end_pending = 1;
		s->end_err = 0;
	}
	return 0;
}

/* Cuts whole commands off the incoming stream and hands them over. */
static int gw_data(void *user, const char *data, size_t len)
{
	struct h1c_msngw *s = user;
	size_t off = 0;

	if (s->end_pending && s->end_err)
		return 0; /* an error page, not MSNP */
	{
		char *in = grow(s->al, s->in, &s->in_cap, s->in_len + len, 1);
		if (!in) {
			s->end_pending = 1;
			s->end_err = H1C_ENOMEM;
			return 1;
		}
		s->in = in;
	}
	memcpy(s->in + s->in_len, data, len);
	s->in_len += len;
	for (;;) {
		size_t line_len, payload_len;
		int rc = msnp_command(s->in + off, s->in_len - off, payload_in, s->extra, s->max_payload,
		                      &line_len, &payload_len);
		if (rc == 0)
			break;
		if (rc < 0) {
			s->end_pending = 1;
			s->end_err = rc;
			return 1;
		}
		if (s->cb.on_command)
			s->cb.on_command(s->user, s->in + off, line_len, s->in + off + line_len, payload_len);
		off += line_len + payload_len;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	return 0;
}

static void poll_due(void *arg);

static void gw_done(void *user, int err, unsigned flags)
{
	struct h1c_msngw *s = user;
	int kind = s->req;

	(void)flags;
	s->req = REQ_NONE;
	s->req_id = 0;
	if (s->ended)
		return;
	if (s->end_pending) {
		session_end(s, s->end_err);
		return;
	}
	if (cut_short(err) && ++s->retries > s->max_retries) {
		/* The gateway keeps breaking connections: give up. */
		char why[sizeof(s->reason)];
		if (kind == REQ_SEND && s->opened && err != H1C_ENOTSENT && s->cb.on_unsure)
			s->cb.on_unsure(s->user, s->body, s->body_len);
		snprintf(why, sizeof(why), "%d requests in a row cut: %s", s->retries,
		         h1c_strerror(err));
		session_fail(s, err, why);
		return;
	}
	if (kind == REQ_POLL && cut_short(err)) {
		/* A poll that was cut is sent again: it carries nothing. */
	} else if (kind == REQ_SEND && s->opened && cut_short(err) && err != H1C_ENOTSENT) {
		/* It may or may not have arrived: said, never re-sent. */
		if (s->cb.on_unsure)
			s->cb.on_unsure(s->user, s->body, s->body_len);
	} else if (kind == REQ_SEND && err == H1C_ENOTSENT) {
		/* Never reached the gateway: send it again, first. */
		if (queue_put(s, s->body, s->body_len, 1) != 0) {
			session_fail(s, H1C_ENOMEM, NULL);
			return;
		}
	} else if (err) {
		session_fail(s, err, NULL);
		return;
	}
	kick(s);
}

static const struct h1c_callbacks gw_callbacks = {.size = sizeof(struct h1c_callbacks),
                                                  .on_head = gw_head,
                                                  .on_data = gw_data,
                                                  .on_done = gw_done};

/* Sends the next request of s when none is outstanding: the open, queued
 * commands, or nothing (a poll comes when the interval has passed). */
static void kick(struct h1c_msngw *s)
{
	struct h1c_request rq;
	size_t take = 0, ncmd = 0, base;
	long long id, now = h1c__now_ms();
	int kind, v6;
	char *body;

	if (s->ended || s->req != REQ_NONE)
		return;
	if (s->closing && !s->out_queued) {
		h1c_msngw_send(s, "OUT\r\n", 5);
		s->out_queued = 1;
	}
	/* What goes in the body: one command, or all when batching. */
	if (s->n_cuts) {
		ncmd = s->batch ? s->n_cuts : 1;
		take = s->cuts[ncmd - 1];
	}
	if (!s->opened) {
		kind = REQ_OPEN;
	} else if (take) {
		kind = REQ_SEND;
	} else if (s->poll_ms >= 0 && now >= s->last_request + s->poll_ms) {
		kind = REQ_POLL; /* idle for the interval */
	} else {
		/* The next poll (none when polling is off), or the close
		 * deadline when it comes first. */
		long long at = s->poll_ms >= 0 ? s->last_request + s->poll_ms : 0;
		if (s->closing && s->close_deadline && (!at || s->close_deadline < at))
			at = s->close_deadline;
		if (at)
			h1c__timer_arm(s->c, &s->timer, at);
		else
			h1c__timer_disarm(s->c, &s->timer);
		return;
	}
	/* The gateway (GW-IP may have moved it), then what this request is. */
	v6 = strchr(s->gw_host, ':') != NULL;
	base = (size_t)snprintf(s->url, sizeof(s->url), "http://%s%s%s:%u/gateway/gateway.dll?",
	                        v6 ? "[" : "", s->gw_host, v6 ? "]" : "", s->gw_port);
	if (kind == REQ_OPEN)
		snprintf(s->url + base, sizeof(s->url) - base, "Action=open&Server=%s&IP=%s", s->server,
		         s->ip);
	else
		snprintf(s->url + base, sizeof(s->url) - base, "%sSessionID=%s",
		         kind == REQ_POLL ? "Action=poll&" : "", s->sid);
	/* The body leaves the queue now; kept for on_unsure. */
	body = grow(s->al, s->body, &s->body_cap, take + 1, 1);
	if (!body) {
		session_fail(s, H1C_ENOMEM, NULL);
		return;
	}
	s->body = body;
	if (take)
		memcpy(s->body, s->q, take);
	s->body_len = take;
	if (take) {
		size_t i;
		memmove(s->q, s->q + take, s->q_len - take);
		s->q_len -= take;
		for (i = ncmd; i < s->n_cuts; i++)
			s->cuts[i - ncmd] = s->cuts[i] - take;
		s->n_cuts -= ncmd;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = s->url;
	rq.headers = s->hdrs;
	rq.num_headers = s->nhdrs;
	rq.body = s->body;
	rq.body_len = s->body_len;
	rq.flags = H1C_REQ_NO_EXPECT;
	if (s->closing && s->close_deadline)
		rq.timeout_ms = s->close_deadline > now ? (int)(s->close_deadline - now) : 1;
	s->req = kind;
	s->last_request = now;
	h1c__timer_disarm(s->c, &s->timer);
	id = h1c_client_request(s->c, &rq, &gw_callbacks, s);
	if (id < 0) {
		s->req = REQ_NONE;
		session_fail(s, (int)id, NULL);
		return;
	}
	s->req_id = id;
}

/* The poll timer (and the close timeout). */
static void poll_due(void *arg)
{
	struct h1c_msngw *s = arg;

	if (s->closing && s->close_deadline && h1c__now_ms() >= s->close_deadline) {
		long long id = s->req_id;
		session_fail(s, H1C_ETIMEDOUT, "no answer to OUT in time");
		if (id)
			h1c_client_cancel(s->c, id);
		return;
	}
	kick(s);
}

/* The default fields, replaced by or merged with the caller's. */
static int build_headers(struct h1c_msngw *s, const struct h1c_msngw_options *o)
{
	static const struct h1c_header defaults[] = {
		{"Content-Type", 12, "application/x-msn-messenger", 27},
		{"User-Agent", 10, "MSMSGS", 6},
		{"Accept", 6, "*/*", 3},
		{"Pragma", 6, "no-cache", 8},
	};
	size_t nd = sizeof(defaults) / sizeof(defaults[0]), i, j, n = 0;
	size_t extra = o ? o->num_headers : 0;

	s->hdrs = h1c__malloc(s->al, (nd + extra + 1) * sizeof(*s->hdrs));
	if (!s->hdrs)
		return H1C_ENOMEM;
	for (i = 0; i < nd; i++) {
		int replaced = 0;
		for (j = 0; j < extra; j++)
			if (o->headers[j].name_len == defaults[i].name_len &&
			    h1c__ieq(o->headers[j].name, o->headers[j].name_len, defaults[i].name))
				replaced = 1;
		if (!replaced)
			s->hdrs[n++] = defaults[i];
	}
	for (j = 0; j < extra; j++)
		s->hdrs[n++] = o->headers[j];
	s->nhdrs = n;
	return 0;
}

struct h1c_msngw *h1c_msngw_open(struct h1c_client *c, const struct h1c_msngw_options *opt,
                                 const struct h1c_msngw_callbacks *cb, void *user)
{
	struct h1c_msngw_options copy;
	const struct h1c_msngw_options *o;
	struct h1c_msngw *s;
	struct h1c__url gw;
	const char *server, *ip, *gws;
	const struct h1c_allocator *al;

	/* No more of the caller's struct than its size says. */
	h1c__opts_copy(&copy, sizeof(copy), opt, H1C__END(h1c_msngw_options, max_retries));
	o = opt ? &copy : NULL;
	server = o && o->server ? o->server : "NS";
	ip = o && o->ip ? o->ip : NULL;
	if (!c || (strcmp(server, "NS") != 0 && strcmp(server, "SB") != 0))
		return NULL;
	/* 0: the default, -1: off; below that is no value. */
	if (o && (o->poll_ms < -1 || o->close_timeout_ms < -1 || o->max_retries < -1))
		return NULL;
	if (!ip) {
		if (server[0] == 'S')
			return NULL; /* a switchboard needs the XFR address */
		ip = H1C_MSNGW_DEFAULT_NS;
	}
	gws = o && o->gateway ? o->gateway : H1C_MSNGW_DEFAULT_GATEWAY;
	if (h1c__hostport_parse(gws, &gw) != 0)
		return NULL;
	{
		/* No port given: 80, not the proxy default of the parser. */
		const char *rb = strrchr(gws, ']');
		if (!strchr(rb ? rb : gws, ':'))
			gw.port = 80;
	}
	al = h1c__client_allocator(c);
	s = h1c__malloc(al, sizeof(*s));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->al = al;
	s->c = c;
	/* Likewise the callbacks: those past the caller's size are NULL. */
	h1c__opts_copy(&s->cb, sizeof(s->cb), cb, H1C__END(h1c_msngw_callbacks, on_end));
	s->user = user;
	memcpy(s->gw_host, gw.host, sizeof(s->gw_host));
	s->gw_port = gw.port;
	memcpy(s->server, server, 3);
	/* SB: the address without its port. */
	snprintf(s->ip, sizeof(s->ip), "%.*s", (int)strcspn(ip, server[0] == 'S' ? ":" : ""), ip);
	s->poll_ms = o && o->poll_ms ? o->poll_ms : H1C_MSNGW_DEFAULT_POLL_MS;
	s->batch = o && o->batch;
	s->close_timeout_ms =
	    o && o->close_timeout_ms ? o->close_timeout_ms : H1C_MSNGW_DEFAULT_CLOSE_TIMEOUT_MS;
	s->max_payload = o && o->max_payload ? o->max_payload : H1C_MSNGW_DEFAULT_MAX_PAYLOAD;
	s->max_retries = !o || !o->max_retries ? H1C_MSNGW_DEFAULT_MAX_RETRIES
	                 : o->max_retries < 0  ? INT_MAX /* no bound */
	                                       : o->max_retries;
	s->extra = o ? o->payload_commands : NULL;
	s->timer.fire = poll_due;
	s->timer.arg = s;
	if (build_headers(s, o) != 0) {
		h1c__free(al, s);
		return NULL;
	}
	if (h1c__timer_reserve(c) != 0) {
		h1c__free(al, s->hdrs);
		h1c__free(al, s);
		return NULL;
	}
	/* The open goes out at the next turn of the loop, with what was sent
	 * by then. */
	s->last_request = h1c__now_ms() - s->poll_ms;
	h1c__timer_arm(c, &s->timer, h1c__now_ms());
	return s;
}

int h1c_msngw_send(struct h1c_msngw *s, const char *data, size_t len)
{
	size_t line_len, payload_len;
	int rc;

	if (!s || !data)
		return H1C_EINVAL;
	if (s->ended || (s->closing && s->out_queued))
		return H1C_EMSNCLOSED;
	rc = msnp_command(data, len, payload_out, s->extra, (size_t)-1 / 2, &line_len, &payload_len);
	if (rc != 1 || line_len + payload_len != len)
		return H1C_EMSNSYNTAX;
	/* PNG over the gateway gets an HTTP error and the client dropped. */
	if (line_len >= 3 && memcmp(data, "PNG", 3) == 0 &&
	    (line_len == 3 || data[3] == ' ' || data[3] == '\r' || data[3] == '\n'))
		return H1C_EMSNPNG;
	if (queue_put(s, data, len, 0) != 0)
		return H1C_ENOMEM;
	if (s->opened && s->req == REQ_NONE)
		h1c__timer_arm(s->c, &s->timer, h1c__now_ms()); /* send at the next turn */
	return 0;
}

long h1c_msngw_command_len(const struct h1c_msngw *s, const char *data, size_t len)
{
	size_t line_len, payload_len;
	int rc;

	if (!data)
		return H1C_EINVAL;
	rc = msnp_command(data, len, payload_out, s ? s->extra : NULL, (size_t)-1 / 2, &line_len,
	                  &payload_len);
	if (rc <= 0)
		return rc;
	return (long)(line_len + payload_len);
}

int h1c_msngw_close(struct h1c_msngw *s)
{
	if (!s)
		return H1C_EINVAL;
	if (s->ended || s->closing)
		return H1C_EMSNCLOSED;
	s->closing = 1;
	s->close_deadline = s->close_timeout_ms < 0 ? 0 : h1c__now_ms() + s->close_timeout_ms;
	/* OUT goes at the next turn; a request already outstanding (sent
	 * with no deadline) is given up when the close timeout passes. */
	if (s->req == REQ_NONE)
		h1c__timer_arm(s->c, &s->timer, h1c__now_ms());
	else if (s->close_deadline)
		h1c__timer_arm(s->c, &s->timer, s->close_deadline);
	return 0;
}

void h1c_msngw_free(struct h1c_msngw *s)
{
	const struct h1c_allocator *al;

	if (!s)
		return;
	al = s->al;
	s->ended = 1;
	h1c__timer_disarm(s->c, &s->timer);
	h1c__timer_release(s->c);
	if (s->req_id)
		h1c_client_cancel(s->c, s->req_id);
	h1c__free(al, s->hdrs);
	h1c__free(al, s->q);
	h1c__free(al, s->cuts);
	h1c__free(al, s->body);
	h1c__free(al, s->in);
	h1c__free(al, s);
}

const char *h1c_msngw_session_id(const struct h1c_msngw *s)
{
	return s && s->sid[0] ? s->sid : NULL;
}

int h1c_msngw_http_status(const struct h1c_msngw *s, const char **reason)
{
	if (reason)
		*reason = s ? s->reason : "";
	return s ? s->http_status : 0;
}
