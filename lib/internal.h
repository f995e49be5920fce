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

/* Resets *ev to an empty event of the given type (no views, ranges -1). */
static inline void h1c__ev_set(struct h1c_event *ev, enum h1c_event_type type)
{
	static const struct h1c_event blank = {H1C_EV_NEED_MORE, NULL, 0, NULL, 0, 0, -1, -1, -1};

	*ev = blank;
	ev->type = type;
}

/* The bytes of struct type up to the end of field. */
#define H1C__END(type, field) \
	(offsetof(struct type, field) + sizeof(((struct type *)0)->field))

/* The 0.2 layouts (what a size of 0 stands for, see H1C_OPTIONS_INIT):
 * each ends at the last field 0.2 had, whatever is added after it. */
#define H1C__V02_OPTIONS H1C__END(h1c_options, flags)
#define H1C__V02_CLIENT_OPTIONS H1C__END(h1c_client_options, max_body)
#define H1C__V02_REQUEST H1C__END(h1c_request, max_body)
#define H1C__V02_IO H1C__END(h1c_io, close)
#define H1C__V02_ALLOCATOR H1C__END(h1c_allocator, user)
#define H1C__V02_CALLBACKS H1C__END(h1c_callbacks, on_done)
#define H1C__V02_LOOP H1C__END(h1c_loop, user)
#define H1C__V02_RESULT H1C__END(h1c_result, alloc_)

/* The one way the library reads a struct the caller fills, which starts
 * with its size (see H1C_OPTIONS_INIT): copies it into out[0..out_size),
 * zeroed first, no more than the caller's size, and base bytes (its 0.2
 * layout) when that is 0; so a field the caller's size does not cover
 * reads as 0 or NULL. in NULL leaves out all zeroes. */
void h1c__opts_copy(void *out, size_t out_size, const void *in, size_t base);

/* The one way the library writes a struct into the caller's memory, which
 * is out_size bytes long by the caller's header: copies in[0..in_size) to
 * it, no more than out_size bytes, and zeroes the rest of out_size. */
void h1c__out_copy(void *out, size_t out_size, const void *in, size_t in_size);

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

/* ---- url.c ---------------------------------------------------------------- */

/* The port a URL means when it names none. */
#define H1C__DEFAULT_PORT(tls) ((tls) ? 443u : 80u)

/* A parsed http or https URL. host is a copy (without brackets); the rest
 * are views into the URL string. */
struct h1c__url {
	char host[256];
	int ipv6;
	unsigned port;
	const char *path;     /* origin-form target: path and query */
	size_t path_len;      /* 0 when the URL has none ("/" is sent) */
	int has_path;         /* the target starts with '/' */
	int tls;              /* https: (default port 443) */
	const char *absolute; /* absolute-form target, fragment removed */
	size_t absolute_len;
};

/* Parses "http://host[:port][/path][?query][#fragment]". */
int h1c__url_parse(const char *url, struct h1c__url *u);

/* Parses "host[:port]" (default port 3128), as for a proxy. */
int h1c__hostport_parse(const char *s, struct h1c__url *u);

/* ---- transport.c ---------------------------------------------------------- */

/* The monotonic clock, in milliseconds (client.c and transport.c only). */
long long h1c__now_ms(void);

/*
 * Resolves host and connects to port, racing the addresses (RFC 8305
 * style) within timeout_ms. On success stores a connected, non-blocking
 * socket with TCP_NODELAY in *fd. Returns 0, H1C_ERESOLVE, H1C_ECONNECT,
 * H1C_ENOFD (no descriptor for a socket) or H1C_ETIMEDOUT.
 */
int h1c__connect(const char *host, unsigned port, int timeout_ms, int *fd);

struct addrinfo;
/* The race of h1c__connect() over resolved addresses, in resolver order:
 * families alternate, a new attempt starts every 250 ms while earlier ones
 * are still connecting, a refused address makes way for the next at once. */
int h1c__connect_race(struct addrinfo *res, int timeout_ms, int *fd);

#define H1C__DIAL_MAX 8 /* addresses tried per connection */

/* That race as a non-blocking state machine, for the client's event loop:
 * the sockets of the live attempts are fds[0..live), each waiting to
 * become writable. */
struct h1c__dial {
	struct addrinfo *res; /* owned, or NULL */
	struct addrinfo *list[H1C__DIAL_MAX];
	int fds[H1C__DIAL_MAX];
	size_t n, started, live;
	long long next_start, deadline;
	int nofd; /* an attempt found no descriptor left (EMFILE, ENFILE) */
	/* Called just before an attempt's socket is closed (may be NULL). */
	void (*on_close)(void *arg, int fd);
	void *arg;
};

/* Resolves host (blocking: getaddrinfo) and prepares the race. Returns 0
 * or H1C_ERESOLVE. */
int h1c__dial_start(struct h1c__dial *d, const char *host, unsigned port, long long now,
                    int timeout_ms);
/* Prepares the race over res (owned when owned is 1). */
void h1c__dial_init(struct h1c__dial *d, struct addrinfo *res, int owned, long long now,
                    int timeout_ms);
/* Advances the race at time now; ready_fd is an attempt reported writable
 * (or in error), or -1. Returns 0 with the connected socket in *fd (the
 * race is over and freed), H1C_EWANTWRITE while attempts are live (wait
 * for them, or until h1c__dial_deadline()), H1C_ECONNECT, H1C_ENOFD (no
 * attempt could start for want of descriptors) or H1C_ETIMEDOUT. */
int h1c__dial_step(struct h1c__dial *d, long long now, int ready_fd, int *fd);
long long h1c__dial_deadline(const struct h1c__dial *d);
/* Closes the live attempts and frees the addresses. */
void h1c__dial_free(struct h1c__dial *d);

/* ---- allocation through the caller's hooks (NULL: libc) ------------------- */

void *h1c__malloc(const struct h1c_allocator *al, size_t n);
void *h1c__realloc(const struct h1c_allocator *al, void *p, size_t n);
void h1c__free(const struct h1c_allocator *al, void *p);

/* ---- conn.c ----------------------------------------------------------------- */

#define H1C__MAXQ 64 /* requests in flight on one connection */
#define H1C__METHOD_MAX 24 /* a method is shorter than this */

/* A request in flight. */
struct h1c__pending {
	const char *method; /* what the framing needs of it: "HEAD",
	                       "CONNECT" or "GET" (static strings) */
	int chunked; /* its body is sent chunked */
	void *user;
};

/* What the request writer needs. */
struct h1c__req {
	const char *method;
	const char *target; /* origin-form, or absolute-form through a proxy */
	size_t target_len;
	const char *host;   /* Host field value */
	const struct h1c_header *headers;
	size_t num_headers;
	long long body_size; /* -1: chunked */
	int close;           /* Connection: close */
	int expect;          /* Expect: 100-continue */
	int checked;         /* h1c__req_check() passed already */
	void *user;
};

/* One HTTP/1.1 connection, sans-I/O. */
struct h1c__conn {
	struct h1c_header *hdr;
	size_t hdr_cap;
	char *in, *out;
	size_t in_len, in_cap, in_off;
	size_t out_len, out_cap, out_off;
	unsigned q_head, q_n;
	unsigned long sent, done; /* requests written, final responses read */
	long ka_max, ka_timeout;  /* the server's latest hints, or -1 */
	long long ka_limit;       /* sent must stay below this; -1: no hint */
	int no_reuse;             /* the connection must not carry another */
	int got_bytes;            /* bytes of the current response arrived */
	const struct h1c_allocator *al;
	struct h1c_options opt;
	struct h1c_reader rd;
	struct h1c__pending q[H1C__MAXQ]; /* last: one entry is read per
	                                     response, the fields above always */
};

/* framing.c: an unsigned decimal view; returns 0 and stores it in *out,
 * or -1 (empty, not a digit, past UINT64_MAX). */
int h1c__parse_u64(const char *s, size_t n, uint64_t *out);

/* reader.c: 1 when r is between responses, ready for the next head (not
 * after a last response, a switch of protocols or part of a head). */
int h1c__reader_between(const struct h1c_reader *r);
/* Points r, between responses, at another header-view array of the same
 * size. Returns 1, or 0 when r is not between responses (left alone). */
int h1c__reader_rehome(struct h1c_reader *r, struct h1c_header *headers);

/* A connection's buffers: input, output and the header views. */
struct h1c__bufs {
	char *in, *out;
	size_t in_cap, out_cap;
	struct h1c_header *hdr; /* hdr_cap entries, the same for every
	                           connection of a client */
};

int h1c__conn_init(struct h1c__conn *c, const struct h1c_options *opt, int via_proxy,
                   const struct h1c_allocator *al);
/* h1c__conn_init() with b's buffers (a whole set, of the same client)
 * instead of a new header array; b NULL: as h1c__conn_init(). On failure
 * c holds none of b's. */
int h1c__conn_init_with(struct h1c__conn *c, const struct h1c_options *opt, int via_proxy,
                        const struct h1c_allocator *al, const struct h1c__bufs *b);
/* Moves c's buffers into *b, whatever they hold, when c has a whole set
 * (c is closing: its bytes no longer matter). Returns 1 when they moved. */
int h1c__conn_release(struct h1c__conn *c, struct h1c__bufs *b);

/* Moves c's buffers into *b while c is idle with nothing unread or
 * unwritten, so that an idle connection keeps none. Returns 1 when they
 * moved, 0 when c has bytes pending (or none to give). */
int h1c__conn_park(struct h1c__conn *c, struct h1c__bufs *b);
/* Gives a parked c buffers again: those in b, or (b NULL) a new header
 * array, the others growing on demand. Returns 0 or H1C_ENOMEM. */
int h1c__conn_unpark(struct h1c__conn *c, const struct h1c__bufs *b);
/* h1c__conn_unpark(c, NULL), with input and output buffers of at least in
 * and out bytes at once: a set made whole, so that its first use by
 * whichever connection takes it allocates nothing. */
int h1c__conn_bufs_new(struct h1c__conn *c, size_t in, size_t out);
void h1c__conn_free(struct h1c__conn *c);
/* Returns 1 for GET, HEAD, PUT, DELETE, OPTIONS and TRACE. */
int h1c__method_idempotent(const char *method);
/* Returns 0 when the request can be written, H1C_EBADREQUEST when any
 * part of it could split it or set what the library writes itself. */
int h1c__req_check(const struct h1c__req *r);
/* Writes a request head to the output and queues it in the FIFO; refuses
 * (H1C_EBADREQUEST) what h1c__req_check() refuses. */
int h1c__conn_request(struct h1c__conn *c, const struct h1c__req *r);
/* Appends body bytes of the last request (chunk-framed when chunked);
 * last ends a chunked body. */
int h1c__conn_body(struct h1c__conn *c, const void *data, size_t n, int last);
/* The bytes waiting to be written, and how many were. */
void h1c__conn_output(const struct h1c__conn *c, const char **p, size_t *n);
void h1c__conn_written(struct h1c__conn *c, size_t n);
/* Bytes read: copied in, or read straight into space the connection lends. */
int h1c__conn_feed(struct h1c__conn *c, const char *p, size_t n);
int h1c__conn_space(struct h1c__conn *c, size_t want, char **p, size_t *n);
void h1c__conn_filled(struct h1c__conn *c, size_t n);
/* The next event of the response at the head of the FIFO, with the user
 * pointer of its request. Views stay valid until the next feed or space.
 * The head of an interim (1xx) response comes as H1C__EV_INTERIM and its
 * end as no event; H1C_EV_HEAD and H1C_EV_DONE are the final response's.
 * Bytes after a response that ended the connection's use are its end:
 * H1C_ETRUNCATED, with none of them counted as an answer. */
#define H1C__EV_INTERIM 100
int h1c__conn_next(struct h1c__conn *c, struct h1c_event *ev, void **user);
/* The server closed: the last event, or H1C_ETRUNCATED. */
int h1c__conn_eof(struct h1c__conn *c, struct h1c_event *ev, void **user);
/* What the manager may know of a connection, without reaching into it. */
/* Requests in flight (written, or queued to be, and not yet answered). */
static inline unsigned h1c__conn_in_flight(const struct h1c__conn *c)
{
	return c->q_n;
}
/* The user pointer of the i-th request in flight (0: the one whose
 * response comes next), NULL when it was forgotten. */
static inline void *h1c__conn_user(const struct h1c__conn *c, unsigned i)
{
	return c->q[(c->q_head + i) % H1C__MAXQ].user;
}
/* Forgets the user pointer of the i-th request in flight (a request
 * cancelled behind the head: its response is still read, then dropped). */
static inline void h1c__conn_forget(struct h1c__conn *c, unsigned i)
{
	c->q[(c->q_head + i) % H1C__MAXQ].user = NULL;
}
/* The connection will carry no other request (Connection: close sent, a
 * body not sent whose length was announced, a failed write). */
static inline void h1c__conn_no_reuse(struct h1c__conn *c)
{
	c->no_reuse = 1;
}
/* The connection is lost: nothing is in flight any more (the manager has
 * dealt with every request). */
static inline void h1c__conn_drop(struct h1c__conn *c)
{
	c->q_n = 0;
}
/* Requests written on it, final responses read, ever. */
static inline unsigned long h1c__conn_sent(const struct h1c__conn *c)
{
	return c->sent;
}
static inline unsigned long h1c__conn_done(const struct h1c__conn *c)
{
	return c->done;
}
/* 1 when bytes of the response at the head have arrived. */
static inline int h1c__conn_got_bytes(const struct h1c__conn *c)
{
	return c->got_bytes;
}
/* The server's Keep-Alive timeout hint in seconds, or -1. */
static inline long h1c__conn_ka_timeout(const struct h1c__conn *c)
{
	return c->ka_timeout;
}
/* The head and the framing of the response being read, valid after an
 * H1C_EV_HEAD or H1C__EV_INTERIM event until the next head. */
static inline const struct h1c_response *h1c__conn_response(const struct h1c__conn *c)
{
	return &c->rd.resp;
}
static inline const struct h1c_framing *h1c__conn_framing(const struct h1c__conn *c)
{
	return &c->rd.framing;
}
/* 1 when the connection gave its buffers back (h1c__conn_park()). */
static inline int h1c__conn_parked(const struct h1c__conn *c)
{
	return c->hdr == NULL;
}
/* 1 when the connection holds a whole set: header views, input and
 * output buffers. */
static inline int h1c__conn_whole(const struct h1c__conn *c)
{
	return c->hdr && c->in && c->out;
}
/* 1 when the connection holds hdr as its header-view array (it took that
 * spare set of buffers). */
static inline int h1c__conn_has_hdr(const struct h1c__conn *c, const struct h1c_header *hdr)
{
	return c->hdr == hdr;
}

/* Returns 1 when the connection may take one more request now: it is fit
 * for reuse and the server's Keep-Alive max allows one more. */
int h1c__conn_may_send(const struct h1c__conn *c);
/* Returns 1 when the connection may carry another request after idle_ms
 * idle, given the client's own limit (< 0: none) and the server's hints. */
int h1c__conn_reusable(const struct h1c__conn *c, long long idle_ms, long long limit_ms);

/* ---- timer.c ------------------------------------------------------------------ */

/* What a deadline belongs to (its owner embeds it). */
enum { H1C__DL_CX = 1, H1C__DL_RQ, H1C__DL_TIMER };

/* A deadline: at (h1c__now_ms() clock) while armed, idx its place in the
 * heap + 1 (0: not armed). */
struct h1c__deadline {
	long long at;
	size_t idx;
	int kind;
};

/* A min-heap of deadlines. reserved: the places owners have reserved;
 * cap >= reserved, so arming never allocates. */
struct h1c__heap {
	struct h1c__deadline **v;
	size_t n, cap, reserved;
};

/* Reserves places for more deadlines (an owner comes to be). Returns 0 or
 * H1C_ENOMEM. */
int h1c__heap_reserve(struct h1c__heap *h, const struct h1c_allocator *al, size_t more);
/* Gives n places back (owners gone; their deadlines must be removed). */
void h1c__heap_release(struct h1c__heap *h, size_t n);
/* Arms d at time at, or moves it there when armed. */
void h1c__heap_set(struct h1c__heap *h, struct h1c__deadline *d, long long at);
/* Disarms d (a no-op when it is not armed). */
void h1c__heap_del(struct h1c__heap *h, struct h1c__deadline *d);
/* The earliest deadline, or NULL. */
static inline struct h1c__deadline *h1c__heap_top(const struct h1c__heap *h)
{
	return h->n ? h->v[0] : NULL;
}
void h1c__heap_free(struct h1c__heap *h, const struct h1c_allocator *al);

/* ---- client.c, for optional modules (msngw.c) -------------------------------- */

/* A timer driven by the client's loop; zero it, set fire and arg, and
 * reserve its place with h1c__timer_reserve() before arming it. While
 * armed it counts as pending work for h1c_client_run(). */
struct h1c__timer {
	struct h1c__deadline dl;
	int armed;
	void (*fire)(void *arg);
	void *arg;
};

/* Reserves (and gives back) the place of one timer in the client's
 * deadlines. Returns 0 or H1C_ENOMEM. */
int h1c__timer_reserve(struct h1c_client *c);
void h1c__timer_release(struct h1c_client *c);
/* Arms t to fire at time at (h1c__now_ms() clock), re-arming it if armed. */
void h1c__timer_arm(struct h1c_client *c, struct h1c__timer *t, long long at);
void h1c__timer_disarm(struct h1c_client *c, struct h1c__timer *t);
/* The client's allocator hooks, or NULL. */
const struct h1c_allocator *h1c__client_allocator(const struct h1c_client *c);

#endif /* H1C_INTERNAL_H */
