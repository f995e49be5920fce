/*
 * manager.h - the connection manager's private state, shared by its rooms
 * (client.c, fetch.c, loop.c, dispatch.c, exchange.c, cx.c, dial.c,
 * pool.c, request.c, timer.c, interest.c). Never installed; nothing here
 * is API.
 */
#ifndef H1C_MANAGER_H
#define H1C_MANAGER_H

#include "internal.h"

#include <poll.h>

/* The built-in loop: epoll on Linux, so an idle pooled socket costs
 * nothing per iteration; poll(2) elsewhere, or with -DH1C_USE_POLL. */
#if defined(__linux__) && !defined(H1C_USE_POLL)
#define H1C__EPOLL 1
#include <sys/epoll.h>
#endif

/* The manager's intrusive doubly linked lists, relinked only here: a list
 * is its head (and its tail, for the _T forms), and an element links
 * through its fields NEXT and PREV (both cleared when it leaves). */
#define H1C__LIST_OUT(head, e, NEXT, PREV)                \
	do {                                              \
		if ((e)->PREV)                            \
			(e)->PREV->NEXT = (e)->NEXT;      \
		else                                      \
			(head) = (e)->NEXT;               \
		if ((e)->NEXT)                            \
			(e)->NEXT->PREV = (e)->PREV;      \
		(e)->NEXT = (e)->PREV = NULL;             \
	} while (0)
#define H1C__LIST_OUT_T(head, tail, e, NEXT, PREV)        \
	do {                                              \
		if (!(e)->NEXT)                           \
			(tail) = (e)->PREV;               \
		H1C__LIST_OUT(head, e, NEXT, PREV);       \
	} while (0)
#define H1C__LIST_FRONT(head, e, NEXT, PREV)              \
	do {                                              \
		(e)->PREV = NULL;                         \
		(e)->NEXT = (head);                       \
		if (head)                                 \
			(head)->PREV = (e);               \
		(head) = (e);                             \
	} while (0)
#define H1C__LIST_FRONT_T(head, tail, e, NEXT, PREV)      \
	do {                                              \
		if (!(head))                              \
			(tail) = (e);                     \
		H1C__LIST_FRONT(head, e, NEXT, PREV);     \
	} while (0)
#define H1C__LIST_BACK_T(head, tail, e, NEXT, PREV)       \
	do {                                              \
		(e)->NEXT = NULL;                         \
		(e)->PREV = (tail);                       \
		if (tail)                                 \
			(tail)->NEXT = (e);               \
		else                                      \
			(head) = (e);                     \
		(tail) = (e);                             \
	} while (0)

#define OWNER(d, type, member) ((type *)(void *)((char *)(d) - offsetof(type, member)))

#define READ_CHUNK 16384   /* a connection's first reads, and body pieces */
#define BUF_OUT_FIRST 1024 /* a new buffer set's output, before it grows */
#define READ_MAX 65536     /* the most one read asks for */
#define BODY_CHUNK 65536 /* body bytes queued ahead of the socket */
#define LOOP_BATCH 16    /* ready descriptors the built-in loop takes per wait */
#define SPARE_BUFS 8     /* buffer sets kept for connections taken from
                            idle, beyond what busy ones took lately
                            (bufs.c); an idle connection keeps none */
#define SPARE_CONNS 8    /* closed connections' records kept for the next
                            dials (cx.c) */
#define SPARE_POOLS 16   /* unused pools kept, with what they learnt of
                            their origin (pool.c) */

/* Spare records and buffer sets are poisoned under AddressSanitizer while
 * they wait for reuse, so that a stale pointer into a closed connection is
 * reported as if they had been freed. */
#if defined(__SANITIZE_ADDRESS__)
#define H1C__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H1C__ASAN 1
#endif
#endif
#ifdef H1C__ASAN
#include <sanitizer/asan_interface.h>
#define H1C__POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define H1C__UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define H1C__POISON(p, n) ((void)(p), (void)(n))
#define H1C__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Where a request is. */
enum { RQ_FREE, RQ_WAITING, RQ_ACTIVE, RQ_DONE };
/* Where its body is. */
enum { BODY_NONE, BODY_WAIT100, BODY_SENDING };
/* Where a connection is: dialling, open, or closed (its record is freed
 * when the outermost call into the client unwinds). */
enum { CX_DIAL, CX_OPEN, CX_DEAD };

struct pool;
struct cx;
struct h1c__stage; /* dial.c */

/* One request, from h1c_client_request() to its on_done. */
struct rq {
	struct rq *next, *prev;   /* the pool's wait queue */
	struct rq *lnext, *lprev; /* every pending request */
	struct rq *hnext;         /* the next in its bucket of the id table */
	struct rq *cnext;         /* cancellations asked for from callbacks */
	struct h1c__deadline dl;  /* its own timeout_ms, when it has one */
	long long id;
	int state;
	struct pool *pool;
	struct cx *cx;            /* its connection when RQ_ACTIVE */
	/* The copy: header array, then method, target and host strings. */
	char *mem;
	size_t mem_cap;
	struct h1c__req req;
	struct h1c_header *fields;
	/* The body, the caller's until on_done. */
	const void *body;
	size_t body_len;
	long (*body_read)(void *user, void *buf, size_t len);
	int (*body_rewind)(void *user);
	void *body_user;
	long long body_size;
	long long body_sent;
	int has_body, idempotent, replayable, head, expect;
	unsigned replays;
	long long deadline;       /* 0: none */
	struct h1c_callbacks cb;
	void *user;
	unsigned long long start_off; /* its first byte in the connection's output */
	int body_state;
	int begun;                /* a head of its response arrived */
	int final_head;
	int discard;              /* a 417 or 408 answered: retried */
	int retry408;             /* it was a 408 */
	int no_expect;
	int body_touched;         /* body_read was called */
	int cancel;               /* cancelled from a callback; ended later */
	unsigned flags;           /* H1C_DONE_* */
	int end_err;              /* RQ_DONE: the code its on_done gets */
	unsigned long long max_body; /* body bytes it accepts; 0: no limit */
	unsigned long long body_got; /* body bytes of its response so far */
};

/* Connections and waiting requests of one key. */
struct pool {
	struct pool *next, *prev; /* every pool */
	struct pool *hnext;       /* the next in its bucket of the pool table */
	struct pool *rnext, *rprev; /* with requests waiting and news: to visit */
	struct pool *snext, *sprev; /* waiting for room under max_connections */
	struct pool *gcnext;      /* pools that may have become unused */
	struct pool *unext, *uprev; /* unused ones kept */
	int ready, slotq, gc, unused; /* on those four lists */
	int visiting;             /* dispatch is at it: news needs no visit */
	struct cx *conns;         /* its connections */
	struct cx *idle;          /* its idle ones, most recently used first */
	/* Its connections that may take one more request in a pipeline, by
	 * requests in flight (pipe[k]: k of them), so that the one with the
	 * fewest is found without a walk. */
	struct cx *pipe[H1C_MAX_PIPELINE];
	char host[256]; /* what is connected to: the origin, or the proxy */
	unsigned port;
	int via_proxy;
	const struct h1c_io *io;
	void *io_user;            /* passed to io->open() */
	unsigned nconns, ndial;
	struct rq *wait_head, *wait_tail;
	unsigned nwait;
	long long no_pipeline_until;
	unsigned fresh_fails;     /* new connections lost before carrying a
	                             response, since the pool's last response */
};

/* One connection. */
struct cx {
	struct cx *next, *prev;   /* every connection */
	struct cx *lnext, *lprev; /* idle ones, most recently used first */
	struct cx *pnext, *pprev; /* its pool's connections */
	struct cx *inext, *iprev; /* its pool's idle ones */
	struct cx *tnext, *tprev; /* touched: deadline and interest to settle */
	struct cx *fnext, *fprev; /* output queued by this dispatch, to write */
	struct cx *qnext, *qprev; /* its pool's pipe[pipe_slot] */
	unsigned pipe_slot;       /* 0: on none */
	int touched, flushq;      /* on those two lists */
	struct h1c__deadline dl;  /* when it needs attention (lazily early) */
	struct pool *pool;
	int state;
	int idle;
	void *io;                 /* the I/O layer's context, once opened */
	int fd;                   /* its socket (or the layer's), once connected */
	struct rq *writing;       /* body still to send, or waiting for 100 */
	long long wait100_until;
	long long last_io, idle_since;
	long long head_since;     /* the head of the FIFO waits for its head since */
	long long rate_since;     /* the current rate window began (0: no body
	                             is arriving) */
	unsigned long long rate_bytes; /* bytes read in that window */
	unsigned long long queued, written; /* bytes of output, ever */
	int pipeline_ok;          /* a HTTP/1.1 response showed persistence */
	size_t read_want;         /* room asked for per read: grows while reads
	                             fill it, up to READ_MAX */
	int write_failed;
	int wr_wants_read;        /* the I/O layer's write waits for readability
	                             (a TLS handshake) */
	int rd_wants_write;       /* its read waits for writability */
	/* Last, so that what every event reads above shares a few cache
	 * lines: the connection (its FIFO at its end), then the dial. */
	struct h1c__conn conn;
	/* Its dial (CX_DIAL): the stages it passes, the one it is at, and the
	 * connect stage's address race. */
	const struct h1c__stage *const *plan;
	unsigned stage;
	long long dial_since;
	struct h1c__dial dial;
};

/* What the client knows of a descriptor. */
struct fdent {
	struct cx *cx;
	unsigned watched;
	unsigned ep;              /* the events registered with the built-in
	                             loop's epoll set */
	void *slot;
	unsigned pend;            /* readiness told from a callback, handled */
	int pnext;                /* as the call unwinds; the next such fd + 1 */
};

struct h1c_client {
	struct h1c_client_options o;
	struct h1c_options parse; /* the copy of o.parse, defaults filled */
	struct h1c_allocator al_copy;
	const struct h1c_allocator *al;
	const struct h1c_io *io;  /* &io_copy: pools and connections read
	                             the vtables through full-size copies */
	struct h1c_io io_copy, tls_copy; /* o.io (or h1c_io_plain()) and
	                             o.tls_io, made when c is */
	struct h1c__url proxy;
	int has_proxy;
	struct pool *pools;
	struct pool **pbuckets;   /* pools by key */
	size_t npbuckets, npools;
	struct pool *ready_head, *ready_tail; /* pools to visit, in order */
	struct pool *slot_head, *slot_tail;   /* pools waiting for room under
	                                         max_connections, in order */
	unsigned nslot;                       /* on that list */
	struct pool *gcq;         /* pools that may be unused now */
	struct pool *unused_head, *unused_tail; /* unused pools kept (no
	                             connection, no request), the one unused
	                             last first */
	unsigned nunused;         /* on that list */
	struct rq **ibuckets;     /* pending requests by id */
	size_t nibuckets;
	struct rq *cancelq;
	struct cx *touched;       /* connections whose deadline and interest
	                             may have changed */
	struct cx *flushq;        /* connections given requests to write */
	struct h1c__heap heap;    /* every deadline */
	struct h1c__bufs *bufs;   /* the spare buffer sets, a stack (bufs.c) */
	unsigned nbufs, bufs_cap;
	unsigned bufs_held;       /* connections holding a set (or their own
	                             header array) */
	unsigned bufs_taken;      /* sets taken since the last settle */
	unsigned bufs_peak[2];    /* the most held at once, in this period of
	                             settles and in the one before */
	unsigned bufs_burst[2];   /* the most taken between two settles, in
	                             this period and the one before */
	unsigned bufs_settles;    /* settles in this period ... */
	unsigned bufs_period_takes; /* ... and takes */
	unsigned loop_batch;      /* the most ready sockets one pass of the
	                             built-in loop reads: LOOP_BATCH on epoll,
	                             UINT_MAX once the poll(2) loop has run */
	struct cx *conns;
	struct cx *dead;          /* closed, freed as the call unwinds */
	struct cx *spare_cx;      /* records kept for the next dials */
	unsigned nspare_cx;       /* on that list */
	unsigned nconns;
	struct cx *idle_head, *idle_tail;
	unsigned nidle;           /* connections on that list */
	struct rq *live;
	unsigned nlive, nwaiting;
	struct rq *spare;
	struct rq *done_head, *done_tail; /* ended, their on_done still to run */
	long long next_id;
	struct fdent *fds;
	size_t fds_cap;
	struct h1c_loop loop;
	int has_loop, timer_reported;
	long long timer_at;       /* the deadline behind timer_reported > 0 */
	int epfd;                /* the built-in loop's epoll set, or -1 */
	struct pollfd *pfd;      /* run_loop's poll array ... */
	struct h1c_watch *wv;    /* ... and the watches it is made from */
	size_t pfd_cap;          /* entries in each */
	unsigned ntimers;         /* armed module timers */
	int busy;
	int closing;
	int free_pending;         /* h1c_client_free() called from a callback */
	int need_dispatch;        /* requests came since the last dispatch */
	int pend_first;           /* readiness told from callbacks: fd + 1, or 0 */
	int timeout_pend;         /* h1c_client_on_timeout() from a callback */
	unsigned fd_cap;          /* connections that fit in the descriptors
	                             the process has left, as last found by a
	                             dial that had none; 0: not known */
	struct h1c_stats st;
};

/* ---- what the rooms call in each other ---------------------------------------- */

/* Runs the built-in loop until *stop is set, nothing is pending, or the
 * time is up (deadline -1: never). Returns the requests still pending, or
 * a negative code when the wait failed; 0 also when a callback asked for
 * the client to be freed, which the caller then does (h1c__freed_now()). */
int h1c__run(struct h1c_client *c, long long deadline, const int *stop);
/* client.c: frees c when a callback asked for it and no call into the
 * client is under way; returns 1 when c is gone. */
int h1c__freed_now(struct h1c_client *c);
/* client.c: h1c_client_request() for a request struct of the full size
 * (fetch.c's own copy). */
long long h1c__submit(struct h1c_client *c, const struct h1c_request *q,
                      const struct h1c_callbacks *cb, void *user);

/* request.c: records, the id table, the completion queue. */
/* Grows the id table to a bucket per pending request: 0 or H1C_ENOMEM. */
int h1c__ids_grow(struct h1c_client *c);
struct rq *h1c__id_find(const struct h1c_client *c, long long id);
void h1c__id_add(struct h1c_client *c, struct rq *r);
/* 1 when q describes a request that can exist. */
int h1c__request_valid(const struct h1c_request *q);
/* Copies what r needs beyond the call (fields, method, target, Host). */
int h1c__rq_copy(struct h1c_client *c, struct rq *r, const struct h1c_request *q,
                 const struct h1c__url *u);
/* Ends r (on no pool's queue): queued for its on_done. */
void h1c__rq_end(struct h1c_client *c, struct rq *r, int err);
/* Runs the on_done of every ended request, in order. */
void h1c__complete(struct h1c_client *c);

/* pool.c: pools, their queues and idle lists. */
struct pool *h1c__pool_get(struct h1c_client *c, const struct h1c__url *to,
                           const struct h1c_io *io, void *io_user);
/* Something changed in p: it is visited by the next dispatch when it has
 * waiting requests; it leaves the dispatch lists when it has none, and is
 * noted for h1c__pool_gc() when it may be unused. */
void h1c__pool_update(struct h1c_client *c, struct pool *p);
/* The next pool to visit, taken off its list, or NULL. */
struct pool *h1c__ready_pop(struct h1c_client *c);
/* p waits for room under the client's total, at the back of that line (at
 * its front again, when it was taken from there), and h1c__slot_pop()
 * takes the first. */
void h1c__slot_wait(struct h1c_client *c, struct pool *p, int front);
struct pool *h1c__slot_pop(struct h1c_client *c);
/* Files x under its pool's pipe[slot] (0: under none). */
void h1c__pipe_file(struct cx *x, unsigned slot);
void h1c__pool_gc(struct h1c_client *c);
void h1c__pool_enqueue(struct h1c_client *c, struct rq *r);
void h1c__wait_unlink(struct h1c_client *c, struct rq *r);
void h1c__wait_push_front(struct h1c_client *c, struct rq *r);
void h1c__idle_unlink(struct h1c_client *c, struct cx *x);
void h1c__idle_push(struct h1c_client *c, struct cx *x);
/* Ends the requests waiting in p when p has no connection to serve them. */
void h1c__pool_fail(struct h1c_client *c, struct pool *p, int err);

/* bufs.c: the spare buffer sets, a stack (the warmest on top). */
void h1c__bufs_park(struct h1c_client *c, struct cx *x);
void h1c__bufs_trim(struct h1c_client *c);
/* Sets up a new connection's buffers: the set on top of the stack, else a
 * whole set of its own. Returns 0, or an error (x's conn.c part then holds
 * at most buffers of its own, freed with it). */
int h1c__bufs_init(struct h1c_client *c, struct cx *x, int via_proxy);
/* A connection closes: a whole set it holds goes to the stack (or is
 * freed past what the stack may keep). */
void h1c__bufs_closing(struct h1c_client *c, struct cx *x);
int h1c__bufs_take(struct h1c_client *c, struct cx *x);
void h1c__bufs_free_all(struct h1c_client *c);

/* The rooms above request and pool (one way: client, loop, dispatch, cx,
 * then the interest table). */
/* interest.c */
int h1c__readable_now(int fd);
struct fdent *h1c__fdent(struct h1c_client *c, int fd);
void h1c__watch(struct h1c_client *c, int fd, unsigned events);
void h1c__fd_forget(struct h1c_client *c, int fd);
void h1c__dial_closing(void *arg, int fd); /* a dial attempt closes its socket */
void h1c__cx_touch(struct h1c_client *c, struct cx *x);
void h1c__touched_unlink(struct h1c_client *c, struct cx *x);
void h1c__flush_later(struct h1c_client *c, struct cx *x);
void h1c__flushq_unlink(struct h1c_client *c, struct cx *x);
/* dial.c: a connection's stages from nothing to ready. */
/* Starts x at its pool's first stage. */
void h1c__dial_begin(struct cx *x);
/* Runs the stages of x from where it is (fd: a descriptor of its stage is
 * ready, or -1). Returns 0 once the last is done (x->io and x->fd are the
 * open connection), H1C_EWANTREAD / H1C_EWANTWRITE while a stage waits
 * (for h1c__dial_watches() or h1c__dial_when()), else the error. */
int h1c__dial_advance(struct h1c_client *c, struct cx *x, int fd);
long long h1c__dial_when(const struct cx *x);
size_t h1c__dial_watches(const struct cx *x, struct h1c_watch *w, size_t max);
/* Ends the dial of x where it is: what its stage holds, its socket. */
void h1c__dial_stop(struct h1c_client *c, struct cx *x);
/* t + ms, or 0 (never) when the timeout is off (ms < 0). */
static inline long long h1c__ms_after(long long t, int ms)
{
	return ms < 0 ? 0 : t + ms;
}

/* exchange.c: what passes over an open connection (x may close in each). */
void h1c__assign(struct h1c_client *c, struct rq *r, struct cx *x);
void h1c__cx_flush(struct h1c_client *c, struct cx *x);
void h1c__cx_read(struct h1c_client *c, struct cx *x);
void h1c__cx_due(struct h1c_client *c, struct cx *x, long long now);
/* cx.c. Whatever a call does to a connection, x stays valid until the
 * outermost call into the client unwinds: a caller asks h1c__cx_closed()
 * whether it is still open. */
static inline int h1c__cx_closed(const struct cx *x)
{
	return x->state == CX_DEAD;
}
void h1c__cx_close(struct h1c_client *c, struct cx *x);
void h1c__cx_reap(struct h1c_client *c); /* frees the closed records (a few kept
                                            while c is not closing) */
int h1c__cx_open(struct h1c_client *c, struct pool *p);
int h1c__fresh_lost(const struct h1c_client *c, struct cx *x);
void h1c__cx_fail(struct h1c_client *c, struct cx *x, int err, const struct rq *culprit);
void h1c__cx_settle(struct h1c_client *c, struct cx *x);
int h1c__cx_dial(struct h1c_client *c, struct cx *x, int ready_fd);
long long h1c__cx_deadline(const struct h1c_client *c, const struct cx *x);
void h1c__rq_abort(struct h1c_client *c, struct rq *r, int err);
unsigned h1c__cx_wants(const struct cx *x);
/* dispatch.c */
int h1c__stale_close(struct h1c_client *c, struct cx *x);
void h1c__dispatch(struct h1c_client *c);
void h1c__do_cancels(struct h1c_client *c);
/* loop.c */
int h1c__pending_work(const struct h1c_client *c);
void h1c__expire(struct h1c_client *c, long long now);
void h1c__sync_loop(struct h1c_client *c);
void h1c__ready(struct h1c_client *c, int fd, unsigned events);
/* From a callback: fd's readiness (fd < 0: the clock) is handled as the
 * call unwinds, not inside the callback. */
void h1c__ready_later(struct h1c_client *c, int fd, unsigned events);
void h1c__unwind(struct h1c_client *c);

#endif /* H1C_MANAGER_H */
