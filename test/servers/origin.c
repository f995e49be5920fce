/*
 * origin.c - the project's loopback origin server, with faults on demand.
 * Independent of the library on purpose: it parses requests its own way.
 *
 *   origin [--port N] [--idle-close MS] [--max-requests N] [--ka-max N]
 *          [--drop-nth N] [--rst-nth N] [--http10] [--out-of-turn] [--slam]
 *          [--no-nodelay] [--split-writes] [--chaos SEED] [--log FILE]
 *
 * Prints "port N" on stdout once listening on 127.0.0.1, then serves until
 * killed. Every response carries X-Conn (connection number) and X-Conn-Req
 * (requests served on it, this one included). Routes:
 *   /bytes/N              N bytes, Content-Length
 *   /chunked/N?size=S     N bytes in S-byte chunks, trailer X-Trailer: done
 *                         (&trickle=M: the trailer section a byte every M ms)
 *   /status/CODE          that status (no body for 1xx, 204, 304)
 *   /echo                 the request body back
 *   /close                Connection: close, then closes
 *   /http10[?ka=0]        an HTTP/1.0 response, kept alive only when the
 *                         request asked with Connection: keep-alive (never
 *                         with ka=0)
 *   /reject               413 at once, closing without reading the body
 *   /reset                half a body, then a TCP reset
 *   /short                Content-Length 100, 50 bytes, then close
 *   /eof?n=N              N bytes (10) with no length: the close ends them
 *   /partial-head         part of a status line and a field, then close
 *   /trickle?ms=M[&n=N][&from=body]
 *                         N bytes (10), the response sent a byte every M ms
 *                         (with from=body, the head at once, then the body)
 *   /interim?ms=M         102 Processing every M ms, never a final response
 *   /delay?ms=M           13 bytes, the whole response held back M ms
 *   /expect?mode=M        for Expect: 100-continue: normal (100, then 200 with
 *                         the body length), ignore (no 100), 417, early (413
 *                         before the body, then close)
 * --idle-close MS closes a connection idle that long; --max-requests N
 * answers the Nth request on a connection with Connection: close;
 * --ka-max N sends Keep-Alive: timeout=5, max=<left> and closes after N;
 * --drop-nth N closes a connection, unanswered, when its Nth request
 * arrives (a server that closed just as the request came: the keep-alive
 * race, made certain); --rst-nth N resets it instead. --http10 answers
 * every request with HTTP/1.0 (kept alive when asked). --out-of-turn
 * answers a second pipelined request in the middle of the first one's
 * response (once per connection): what a broken server or intermediary
 * does, which a client can only notice when the framing breaks. --slam
 * closes every connection as soon as it is accepted.
 *
 * Accepted sockets get TCP_NODELAY, and each response goes out in one
 * write (as far as the socket takes it). --no-nodelay leaves Nagle's
 * algorithm on, as Python's socketserver and many embedded servers do: a
 * small write then waits while an earlier one is unacknowledged, and a
 * client that delays its ACK (about 40 ms on Linux) until it has something
 * to send stalls a pipeline that it refills only now and then (bench/nodelay).
 * --split-writes sends each response's head and body in two writes, as
 * Python's http.server does (end_headers() sends the head, then the body
 * is written): with --no-nodelay that is the worst case, the body waiting
 * for the ACK of the head on every response, at any pipeline depth.
 *
 * --log FILE appends a line per request received: connection, its number
 * there, method, target, and ahead=1 when the next request had already
 * arrived (the client pipelined); dropped=1 when it was seen and left
 * unanswered.
 *
 * --chaos SEED answers /soak?id=N (GET, HEAD, PUT, POST; a PUT or POST body
 * must be "id=N") with a body "id=N;" and padding, and X-Id: N, choosing
 * faults at random, reproducibly from the seed and the connection and
 * request numbers: close unanswered as the request arrives (before or
 * after processing it), 1xx responses
 * first, Connection: close, a reset or a close halfway through the body,
 * a trickled response, a stray 408 on the connection once it is idle, and
 * on some connections Keep-Alive: max=N kept to. The log then holds one
 * line per POST processed ("post id=N"), the server's record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

#define MAXC 4096

struct conn {
	int fd;
	unsigned id, served;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	long long last;     /* last activity, ms */
	long long drip_at;  /* next byte of a trickle, ms; 0: none */
	int drip_ms;
	size_t drip_skip;   /* bytes sent at once before the trickle starts */
	int interim_ms;     /* /interim: another 102 every this many ms */
	int close_after;    /* close once out is written */
	int reset_after;    /* reset once out is written */
	int waiting_body;   /* expect: head seen, deciding */
	long long hold_until; /* send nothing before this, ms; 0: no hold */
	size_t split_at;    /* --split-writes: where the head being sent ends */
	int ooo_done;       /* --out-of-turn already done here */
	int ka10;           /* the request asked for keep-alive */
	unsigned long long rng; /* --chaos: this connection's random state */
	int ka_left;        /* --chaos: requests left under Keep-Alive: max */
	int stray408;       /* --chaos: a 408 once idle */
};

static struct conn *conns[MAXC];
static unsigned next_id = 1;
static int idle_close_ms, max_requests, ka_max, drop_nth, rst_nth, http10, out_of_turn, slam;
static int no_nodelay, split_writes;
static FILE *logf;
static int ooo_inner; /* handling the pair of an out-of-turn answer */
static int cur_head; /* the request being answered is a HEAD */
static unsigned long long chaos_seed;
static int chaos;

static void put(struct conn *c, const void *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		c->out = realloc(c->out, cap);
		if (!c->out)
			abort();
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void putf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void putf(struct conn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(c, buf, (size_t)n);
}

static void drop(int i)
{
	struct conn *c = conns[i];
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	conns[i] = NULL;
}

/* Finds a header value (case-insensitive name) in the head; copies it. */
static int header(const char *head, size_t hlen, const char *name, char *val, size_t vsize)
{
	const char *p = head, *end = head + hlen;
	size_t nl = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;
			while (*v == ' ' || *v == '\t')
				v++;
			n = (size_t)(eol - v);
			while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n >= vsize)
				n = vsize - 1;
			memcpy(val, v, n);
			val[n] = '\0';
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

/* Returns the request body length when the whole body is in, -1 when more
 * is needed, -2 when it is malformed. Chunked bodies are decoded in place. */
static long body_ready(struct conn *c, size_t head_len, long cl, int chunked, size_t *total)
{
	char *p = c->in + head_len, *end = c->in + c->in_len, *w = p;

	if (!chunked) {
		if ((long)(c->in_len - head_len) < cl)
			return -1;
		*total = head_len + (size_t)cl;
		return cl;
	}
	for (;;) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		unsigned long n;
		if (!eol)
			return -1;
		n = strtoul(p, NULL, 16);
		p = eol + 1;
		if (n == 0) {
			/* No trailers from our client: expect the final CRLF. */
			if (end - p < 2)
				return -1;
			*total = (size_t)(p + 2 - c->in);
			/* Decoding into place is only done once everything arrived. */
			{
				char *q = c->in + head_len;
				w = q;
				while (q < p) {
					char *e2 = memchr(q, '\n', (size_t)(p - q));
					unsigned long m = strtoul(q, NULL, 16);
					q = e2 + 1;
					if (!m)
						break;
					memmove(w, q, m);
					w += m;
					q += m + 2;
				}
			}
			return (long)(w - (c->in + head_len));
		}
		if ((unsigned long)(end - p) < n + 2)
			return -1;
		p += n + 2;
	}
}

static void respond(struct conn *c, int status, const char *reason, const char *extra,
                    const char *body, size_t blen, int minor, int keep)
{
	int closing, any10 = http10 && minor == 1;

	if (any10) {
		minor = 0;
		keep = keep && c->ka10;
	}
	closing = !keep || (max_requests && c->served >= (unsigned)max_requests) ||
	          (ka_max && c->served >= (unsigned)ka_max);

	putf(c, "HTTP/1.%d %d %s\r\nX-Conn: %u\r\nX-Conn-Req: %u\r\n", minor, status, reason, c->id,
	     c->served);
	if (extra)
		putf(c, "%s", extra);
	if (ka_max && !closing)
		putf(c, "Keep-Alive: timeout=5, max=%u\r\n", ka_max - c->served);
	if (closing)
		putf(c, "Connection: close\r\n");
	else if (minor == 0)
		putf(c, "Connection: keep-alive\r\n");
	if (status >= 200 && status != 204 && status != 304)
		putf(c, "Content-Length: %zu\r\n", blen);
	putf(c, "\r\n");
	if (split_writes && body && blen && !cur_head)
		c->split_at = c->out_len;
	if (body && !cur_head)
		put(c, body, blen);
	if (closing)
		c->close_after = 1;
}

static unsigned chaos_rand(struct conn *c)
{
	/* xorshift64*: reproducible from the seed and the connection. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (unsigned)((c->rng * 2685821657736338717ULL) >> 33);
}

/* --chaos: answers /soak?id=N with a fault chosen at random. Returns 0 when
 * the request is dropped unanswered. */
static int chaos_respond(struct conn *c, const char *method, const char *target,
                         const char *body, long blen)
{
	const char *q = strstr(target, "id=");
	unsigned long id = q ? strtoul(q + 3, NULL, 10) : 0;
	unsigned roll = chaos_rand(c) % 1000, pad = chaos_rand(c) % 3000, i;
	int head = strcmp(method, "HEAD") == 0, chunked = chaos_rand(c) % 3 == 0;
	int closing = 0, has_body = strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0;
	size_t start, body_at, len;
	char want[32];

	if (roll < 8)
		return 0; /* closed just as the request arrived */
	if (has_body) {
		snprintf(want, sizeof(want), "id=%lu", id);
		if (blen != (long)strlen(want) || memcmp(body, want, (size_t)blen) != 0) {
			respond(c, 400, "Bad Request", NULL, "bad body", 8, 1, 0);
			return 1;
		}
	}
	if (logf && strcmp(method, "POST") == 0) {
		fprintf(logf, "post id=%lu\n", id);
		fflush(logf);
	}
	if (roll < 10)
		return 0; /* processed, then the connection died unanswered */
	start = c->out_len;
	if (roll >= 10 && roll < 40)
		putf(c, roll & 1 ? "HTTP/1.1 100 Continue\r\n\r\n"
		                 : "HTTP/1.1 103 Early Hints\r\nLink: </s>; rel=preload\r\n\r\n");
	if (roll >= 40 && roll < 52)
		closing = 1;
	if (c->ka_left && --c->ka_left == 0)
		closing = 1;
	putf(c, "HTTP/1.1 200 OK\r\nX-Id: %lu\r\nX-Conn: %u\r\n", id, c->id);
	if (c->ka_left)
		putf(c, "Keep-Alive: timeout=5, max=%d\r\n", c->ka_left);
	if (closing)
		putf(c, "Connection: close\r\n");
	len = (size_t)snprintf(want, sizeof(want), "id=%lu;", id) + pad;
	if (chunked)
		putf(c, "Transfer-Encoding: chunked\r\n\r\n");
	else
		putf(c, "Content-Length: %zu\r\n\r\n", len);
	body_at = c->out_len;
	if (!head) {
		char x[3000];
		memset(x, 'x', sizeof(x));
		if (chunked) {
			putf(c, "%zx\r\n%s", strlen(want), want);
			for (i = 0; i < pad; i += 1000) {
				unsigned k = pad - i < 1000 ? pad - i : 1000;
				putf(c, "\r\n%x\r\n", k);
				put(c, x, k);
			}
			putf(c, "\r\n0\r\n\r\n");
		} else {
			put(c, want, strlen(want));
			put(c, x, pad);
		}
	}
	c->close_after = closing;
	if (roll >= 52 && roll < 62 && !head) {
		/* A reset, or a plain close, halfway through the body. */
		c->out_len = body_at + (c->out_len - body_at) / 2;
		if (roll < 57)
			c->reset_after = 1;
		else
			c->close_after = 1;
	} else if (roll >= 62 && roll < 72) {
		c->drip_ms = 0; /* a byte per write */
		c->drip_skip = start + (c->out_len - start) / 3;
		c->drip_at = now_ms();
	} else if (roll >= 72 && roll < 82 && !closing) {
		c->stray408 = 1;
	}
	return 1;
}

/* Handles the request at the start of c->in if it is whole; returns 1 when
 * one was handled. */
static int handle(struct conn *c)
{
	char *hend, method[16], target[1024], val[256];
	size_t head_len, total = 0;
	long cl = 0, blen;
	int chunked, expect, keep10;
	char *q;

	if (!ooo_inner &&
	    (c->out_len > c->out_off || c->drip_at || c->close_after || c->reset_after ||
	     c->interim_ms))
		return 0; /* one response at a time */
	if (!c->in_len)
		return 0;
	hend = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!hend)
		return 0;
	head_len = (size_t)(hend + 4 - c->in);
	if (sscanf(c->in, "%15s %1023s", method, target) != 2) {
		c->close_after = 1;
		respond(c, 400, "Bad Request", NULL, "", 0, 1, 0);
		return 1;
	}
	if (header(c->in, head_len, "Content-Length", val, sizeof(val)))
		cl = atol(val);
	chunked = header(c->in, head_len, "Transfer-Encoding", val, sizeof(val)) &&
	          strcasestr(val, "chunked");
	expect = header(c->in, head_len, "Expect", val, sizeof(val)) &&
	         strcasecmp(val, "100-continue") == 0;
	keep10 = header(c->in, head_len, "Connection", val, sizeof(val)) &&
	         strcasestr(val, "keep-alive");
	c->ka10 = keep10;
	q = strchr(target, '?');

	if (out_of_turn && !ooo_inner && !c->ooo_done && cl == 0 && !chunked) {
		/* A second whole request behind this one: answer it inside the
		 * first one's response. */
		char *h2 = memmem(c->in + head_len, c->in_len - head_len, "\r\n\r\n", 4);
		if (h2) {
			size_t start = c->out_len, mid, end, half;
			char *tmp;
			c->ooo_done = 1;
			ooo_inner = 1;
			handle(c);
			mid = c->out_len;
			handle(c);
			ooo_inner = 0;
			end = c->out_len;
			half = (mid - start) / 2;
			tmp = malloc(end - start);
			memcpy(tmp, c->out + start, half);
			memcpy(tmp + half, c->out + mid, end - mid);
			memcpy(tmp + half + (end - mid), c->out + start + half, mid - start - half);
			memcpy(c->out + start, tmp, end - start);
			free(tmp);
			return 1;
		}
	}

	if (strncmp(target, "/expect", 7) == 0 && expect && !c->waiting_body) {
		const char *mode = q && strstr(q, "mode=") ? strstr(q, "mode=") + 5 : "normal";
		c->waiting_body = 1;
		if (strncmp(mode, "417", 3) == 0) {
			c->served++;
			c->waiting_body = 0;
			c->close_after = 1;
			respond(c, 417, "Expectation Failed", NULL, "no", 2, 1, 0);
			c->in_len = 0;
			return 1;
		}
		if (strncmp(mode, "early", 5) == 0) {
			c->served++;
			c->waiting_body = 0;
			respond(c, 413, "Content Too Large", NULL, "too big", 7, 1, 0);
			c->in_len = 0;
			return 1;
		}
		if (strncmp(mode, "normal", 6) == 0)
			put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	if (strcmp(target, "/reject") == 0) {
		/* Answers before the body and closes without reading it. */
		c->served++;
		respond(c, 413, "Content Too Large", NULL, "rejected", 8, 1, 0);
		c->in_len = 0;
		return 1;
	}
	blen = body_ready(c, head_len, cl, chunked, &total);
	if (blen == -1)
		return 0;
	if (logf) {
		/* ahead: bytes of a next request were already here. */
		fprintf(logf, "conn=%u req=%u method=%s target=%s ahead=%d%s\n", c->id, c->served + 1,
		        method, target, c->in_len > total,
		        (drop_nth && c->served + 1 == (unsigned)drop_nth) ||
		                (rst_nth && c->served + 1 == (unsigned)rst_nth)
		            ? " dropped=1"
		            : "");
		fflush(logf);
	}
	if (chaos && strncmp(target, "/soak", 5) == 0) {
		c->served++;
		if (!chaos_respond(c, method, target, c->in + head_len, blen)) {
			c->close_after = 1;
			c->in_len = 0;
			return 1;
		}
		memmove(c->in, c->in + total, c->in_len - total);
		c->in_len -= total;
		return 1;
	}
	if ((drop_nth && c->served + 1 == (unsigned)drop_nth) ||
	    (rst_nth && c->served + 1 == (unsigned)rst_nth)) {
		c->reset_after = rst_nth != 0;
		c->close_after = 1;
		c->in_len = 0;
		return 1;
	}
	c->waiting_body = 0;
	c->served++;
	cur_head = strcmp(method, "HEAD") == 0;
	if (strncmp(target, "/bytes/", 7) == 0 || strcmp(target, "/") == 0) {
		size_t n = target[1] ? strtoul(target + 7, NULL, 10) : 13, i;
		char *b = malloc(n + 1);
		for (i = 0; i < n; i++)
			b[i] = (char)('a' + i % 26);
		if (!target[1])
			memcpy(b, "hello, h1c!\n\n", 13);
		respond(c, 200, "OK", "Content-Type: text/plain\r\n", b, n, 1, 1);
		free(b);
	} else if (strncmp(target, "/chunked/", 9) == 0) {
		size_t n = strtoul(target + 9, NULL, 10), size = 100, done = 0;
		int closing = max_requests && c->served >= (unsigned)max_requests;
		if (q && strstr(q, "size="))
			size = strtoul(strstr(q, "size=") + 5, NULL, 10);
		if (!size)
			size = 1;
		putf(c, "HTTP/1.1 200 OK\r\nX-Conn: %u\r\nX-Conn-Req: %u\r\n%sTransfer-Encoding: chunked\r\n\r\n",
		     c->id, c->served, closing ? "Connection: close\r\n" : "");
		if (split_writes)
			c->split_at = c->out_len;
		while (done < n) {
			size_t k = n - done < size ? n - done : size, i;
			putf(c, "%zx\r\n", k);
			for (i = 0; i < k; i++)
				put(c, &"0123456789"[(done + i) % 10], 1);
			put(c, "\r\n", 2);
			done += k;
		}
		if (q && strstr(q, "trickle=")) {
			c->drip_ms = atoi(strstr(q, "trickle=") + 8);
			c->drip_skip = c->out_len - c->out_off + 3; /* up to "0\r\n" */
			c->drip_at = now_ms();
		}
		putf(c, "0\r\nX-Trailer: done\r\n\r\n");
		c->close_after = closing;
	} else if (strncmp(target, "/status/", 8) == 0) {
		int st = atoi(target + 8);
		respond(c, st, "Status", NULL, st == 204 || st == 304 || st < 200 ? NULL : "status", 6, 1, 1);
	} else if (strcmp(target, "/echo") == 0 || strncmp(target, "/expect", 7) == 0) {
		char len[64];
		snprintf(len, sizeof(len), "X-Body-Length: %ld\r\n", blen);
		respond(c, 200, "OK", len, c->in + head_len, (size_t)blen, 1, 1);
	} else if (strcmp(target, "/close") == 0) {
		respond(c, 200, "OK", NULL, "bye", 3, 1, 0);
	} else if (strncmp(target, "/http10", 7) == 0) {
		/* ?ka=0: an old server that never keeps a connection alive. */
		respond(c, 200, "OK", NULL, "old", 3, 0, keep10 && !(q && strstr(q, "ka=0")));
	} else if (strcmp(target, "/reset") == 0) {
		putf(c, "HTTP/1.1 200 OK\r\nX-Conn: %u\r\nContent-Length: 1000\r\n\r\nhalf", c->id);
		c->reset_after = 1;
	} else if (strcmp(target, "/short") == 0) {
		char half[50];
		memset(half, 's', sizeof(half));
		putf(c, "HTTP/1.1 200 OK\r\nX-Conn: %u\r\nContent-Length: 100\r\n\r\n", c->id);
		put(c, half, sizeof(half));
		c->close_after = 1;
	} else if (strncmp(target, "/eof", 4) == 0) {
		size_t n = q && strstr(q, "n=") ? strtoul(strstr(q, "n=") + 2, NULL, 10) : 10, i;
		putf(c, "HTTP/1.1 200 OK\r\nX-Conn: %u\r\n\r\n", c->id);
		for (i = 0; i < n && !cur_head; i++)
			put(c, &"0123456789"[i % 10], 1);
		c->close_after = 1;
	} else if (strcmp(target, "/partial-head") == 0) {
		putf(c, "HTTP/1.1 200 OK\r\nX-Conn: %u\r\nX-Part", c->id);
		c->close_after = 1;
	} else if (strncmp(target, "/delay", 6) == 0) {
		int ms = q && strstr(q, "ms=") ? atoi(strstr(q, "ms=") + 3) : 100;
		respond(c, 200, "OK", NULL, "hello, h1c!\n\n", 13, 1, 1);
		c->hold_until = now_ms() + ms;
	} else if (strncmp(target, "/trickle", 8) == 0) {
		size_t n = q && strstr(q, "n=") ? strtoul(strstr(q, "n=") + 2, NULL, 10) : 10, i;
		char *b = malloc(n + 1);
		for (i = 0; i < n; i++)
			b[i] = (char)('0' + i % 10);
		c->drip_ms = q && strstr(q, "ms=") ? atoi(strstr(q, "ms=") + 3) : 100;
		respond(c, 200, "OK", NULL, b, n, 1, 1);
		free(b);
		c->drip_skip = q && strstr(q, "from=body") ? c->out_len - n - c->out_off : 0;
		c->drip_at = now_ms();
	} else if (strncmp(target, "/interim", 8) == 0) {
		c->interim_ms = q && strstr(q, "ms=") ? atoi(strstr(q, "ms=") + 3) : 100;
		put(c, "HTTP/1.1 102 Processing\r\n\r\n", 27);
	} else {
		respond(c, 404, "Not Found", NULL, "not found", 9, 1, 1);
	}
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int lfd, port = 0, i;

	signal(SIGPIPE, SIG_IGN);
	{
		/* As many connections as the tests open at once. */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--idle-close") == 0 && i + 1 < argc)
			idle_close_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--max-requests") == 0 && i + 1 < argc)
			max_requests = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ka-max") == 0 && i + 1 < argc)
			ka_max = atoi(argv[++i]);
		else if (strcmp(argv[i], "--drop-nth") == 0 && i + 1 < argc)
			drop_nth = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rst-nth") == 0 && i + 1 < argc)
			rst_nth = atoi(argv[++i]);
		else if (strcmp(argv[i], "--http10") == 0)
			http10 = 1;
		else if (strcmp(argv[i], "--out-of-turn") == 0)
			out_of_turn = 1;
		else if (strcmp(argv[i], "--slam") == 0)
			slam = 1;
		else if (strcmp(argv[i], "--no-nodelay") == 0)
			no_nodelay = 1;
		else if (strcmp(argv[i], "--split-writes") == 0)
			split_writes = 1;
		else if (strcmp(argv[i], "--chaos") == 0 && i + 1 < argc) {
			chaos = 1;
			chaos_seed = strtoull(argv[++i], NULL, 10);
		}
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			logf = fopen(argv[++i], "a");
			if (!logf) {
				perror(argv[i]);
				return 2;
			}
		}
		else {
			fprintf(stderr, "usage: origin [--port N] [--idle-close MS] [--max-requests N] "
			                "[--ka-max N] [--drop-nth N] [--rst-nth N] [--http10] "
			                "[--out-of-turn] [--slam] [--no-nodelay] [--split-writes] "
			                "[--chaos SEED] [--log FILE]\n");
			return 2;
		}
	}
	lfd = listen_loopback(port, 4096, &sa);
	if (lfd < 0) {
		perror("origin");
		return 1;
	}
	printf("port %d\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (;;) {
		static struct pollfd pf[MAXC + 1];
		static int idx[MAXC + 1];
		int n = 0, timeout = 1000;
		long long now = now_ms();

		pf[n].fd = lfd;
		pf[n].events = POLLIN;
		idx[n++] = -1;
		for (i = 0; i < MAXC; i++) {
			struct conn *c = conns[i];
			if (!c)
				continue;
			pf[n].fd = c->fd;
			pf[n].events = POLLIN;
			if (c->out_len > c->out_off && (!c->drip_at || c->drip_at <= now) &&
			    c->hold_until <= now)
				pf[n].events |= POLLOUT;
			if (c->hold_until > now && c->hold_until - now < timeout)
				timeout = (int)(c->hold_until - now);
			if (c->drip_at && c->drip_at > now && c->drip_at - now < timeout)
				timeout = (int)(c->drip_at - now);
			if (idle_close_ms && c->out_len == c->out_off) {
				long long left = c->last + idle_close_ms - now;
				if (left < timeout)
					timeout = left < 0 ? 0 : (int)left;
			}
			idx[n++] = i;
		}
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return 1;
		now = now_ms();
		if (pf[0].revents & POLLIN) {
			int fd = accept_ready(lfd, no_nodelay);
			if (fd >= 0 && slam) {
				/* --slam: every connection closed as it is accepted. */
				if (logf) {
					fprintf(logf, "slammed\n");
					fflush(logf);
				}
				close(fd);
				fd = -1;
			}
			for (i = 0; fd >= 0 && i < MAXC && conns[i]; i++)
				;
			if (fd >= 0 && i < MAXC) {
				struct conn *c = calloc(1, sizeof(*c));
				c->fd = fd;
				c->id = next_id++;
				if (chaos) {
					c->rng = (chaos_seed + 1) * 0x9E3779B97F4A7C15ULL ^ c->id;
					c->rng = c->rng ? c->rng : 1;
					if (chaos_rand(c) % 10 == 0)
						c->ka_left = 1 + (int)(chaos_rand(c) % 8);
				}
				c->last = now;
				conns[i] = c;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (i = 1; i < n; i++) {
			struct conn *c = conns[idx[i]];
			if (!c)
				continue;
			if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (read_more(c->fd, &c->in, &c->in_len, &c->in_cap) <= 0) {
					drop(idx[i]);
					continue;
				}
				c->last = now;
			}
			while (handle(c))
				;
			if (c->out_len > c->out_off && (!c->drip_at || c->drip_at <= now) &&
			    c->hold_until <= now) {
				size_t want = !c->drip_at ? c->out_len - c->out_off
				              : c->out_off < c->drip_skip ? c->drip_skip - c->out_off : 1;
				ssize_t w;
				if (c->split_at > c->out_off && c->out_off + want > c->split_at)
					want = c->split_at - c->out_off; /* the head alone first */
				w = send(c->fd, c->out + c->out_off, want, MSG_NOSIGNAL);
				if (w > 0) {
					c->out_off += (size_t)w;
					c->last = now;
					if (c->drip_at)
						c->drip_at = c->out_off < c->drip_skip ? now : now + c->drip_ms;
				} else if (w < 0 && errno != EAGAIN) {
					drop(idx[i]);
					continue;
				}
			}
			if (c->out_off == c->out_len) {
				c->out_off = c->out_len = 0;
				c->drip_at = 0;
				c->drip_skip = 0;
				c->hold_until = 0;
				c->split_at = 0;
				if (c->stray408 && !c->in_len) {
					/* Idle now: a server's idle timeout, as a 408. */
					c->stray408 = 0;
					putf(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
					        "Content-Length: 0\r\n\r\n");
					c->close_after = 1;
					continue;
				}
				c->stray408 = 0;
				if (c->interim_ms) {
					put(c, "HTTP/1.1 102 Processing\r\n\r\n", 27);
					c->hold_until = now + c->interim_ms;
					continue;
				}
				if (c->reset_after) {
					struct linger lg = {1, 0};
					setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
					drop(idx[i]);
					continue;
				}
				if (c->close_after) {
					drop(idx[i]);
					continue;
				}
				while (handle(c))
					;
			}
			if (idle_close_ms && c->out_len == 0 && now - c->last >= idle_close_ms) {
				drop(idx[i]);
				continue;
			}
		}
	}
}
