/*
 * bufs.c - the client's spare buffer sets (input, output, header views),
 * a stack: a connection gives its set back whenever it holds no byte in
 * it (idle in the pool, or waiting for a response of which nothing has
 * come) and takes the top one (the one given back last, still in the
 * cache) when it reads or is given a request; a new connection takes the
 * top one as it opens, and a closing one gives its set back. So an idle
 * connection keeps no buffer, nor does one waiting for an answer; with
 * thousands busy, each event touches a few warm sets instead of its own
 * cold one; and a steady stream of requests allocates none, on warm
 * connections or on a new one for each. Only whole sets are kept, as many
 * as one call may take and a few more. Calls conn.c only.
 */
#include "manager.h"

/* A period ends once it has seen at least this many takes and settles
 * (trims); then the peaks start over, and those of the period before are
 * remembered too. Both: with 10,000 busy the built-in loop takes 16 sets
 * a settle, the poll(2) loop as many as are ready, an outside loop one or
 * two, and a period must hold enough of each loop's settles to have seen
 * its largest batch, and enough takes to outlast a burst. */
#define PERIOD_TAKES 1024
#define PERIOD_SETTLES 256

static unsigned max2(const unsigned v[2])
{
	return v[0] > v[1] ? v[0] : v[1];
}

/* Sets the stack may keep: a few for connections taken from idle, and,
 * at most one for every connection that is not idle, the most of:
 * - one pass of the built-in loop's reads (16 ready sockets on epoll,
 *   every ready one on poll(2): there, a set for every busy connection,
 *   since the most ready in a pass keeps growing long after a burst);
 * - the sets taken between two settles lately, and since the last (sets
 *   come back only as the call settles, so that is what one call needs
 *   on the stack);
 * - the sets held at once lately beyond those held now (many responses
 *   that end together, whose connections take sets again).
 * So an idle client keeps SPARE_BUFS sets, a steady stream whose batches
 * vary frees none its next batch takes, and 10,000 connections waiting for
 * their answers, a few at a time of which are read, keep a few dozen sets
 * between them, not 10,000 (once the burst that sent them is a period or
 * two past). */
static unsigned keep(const struct h1c_client *c)
{
	unsigned busy = c->nconns - c->nidle;
	unsigned peak = max2(c->bufs_peak), burst = max2(c->bufs_burst);
	unsigned more = peak > c->bufs_held ? peak - c->bufs_held : 0;

	if (more < c->loop_batch)
		more = c->loop_batch;
	if (more < burst)
		more = burst;
	if (more < c->bufs_taken)
		more = c->bufs_taken;
	return SPARE_BUFS + (more < busy ? more : busy);
}

/* One more connection holds a set (a new connection's own header array, or
 * a set taken). */
static void held_one(struct h1c_client *c)
{
	c->bufs_held++;
	c->bufs_taken++;
	c->bufs_period_takes++;
	if (c->bufs_held > c->bufs_peak[0])
		c->bufs_peak[0] = c->bufs_held;
}

/* A set on the stack is poisoned under AddressSanitizer (its input and
 * output buffers), so that a stale view into a closed or parked
 * connection's bytes is caught; unpoisoned as it leaves the stack. */
static void poison(const struct h1c__bufs *b)
{
	H1C__POISON(b->in, b->in_cap);
	H1C__POISON(b->out, b->out_cap);
}

static void unpoison(const struct h1c__bufs *b)
{
	H1C__UNPOISON(b->in, b->in_cap);
	H1C__UNPOISON(b->out, b->out_cap);
}

static void bufs_free(const struct h1c_client *c, const struct h1c__bufs *b)
{
	unpoison(b);
	h1c__free(c->al, b->in);
	h1c__free(c->al, b->out);
	h1c__free(c->al, b->hdr);
}

/* Puts the whole set b on the stack, or frees it past what the stack may
 * keep. */
static void stack_put(struct h1c_client *c, const struct h1c__bufs *b)
{
	unsigned k = keep(c);

	if (c->nbufs == c->bufs_cap && c->nbufs < k) {
		unsigned cap = c->bufs_cap ? c->bufs_cap * 2 : SPARE_BUFS;
		struct h1c__bufs *v = h1c__realloc(c->al, c->bufs, cap * sizeof(*v));
		if (v) {
			c->bufs = v;
			c->bufs_cap = cap;
		}
	}
	if (c->nbufs < c->bufs_cap && c->nbufs < k) {
		c->bufs[c->nbufs++] = *b;
		poison(b);
	} else {
		bufs_free(c, b);
	}
}

/* The set on top of the stack, unpoisoned for a connection to take; NULL
 * when the stack is empty. */
static const struct h1c__bufs *stack_top(const struct h1c_client *c)
{
	if (!c->nbufs)
		return NULL;
	unpoison(&c->bufs[c->nbufs - 1]);
	return &c->bufs[c->nbufs - 1];
}

/* After x tried to take top (NULL: the stack was empty): the set is x's
 * once x holds its header array, whether or not a later step failed, and
 * leaves the stack; otherwise it stays the stack's, poisoned again. */
static void top_taken(struct h1c_client *c, const struct cx *x, const struct h1c__bufs *top)
{
	if (!top)
		return;
	if (h1c__conn_has_hdr(&x->conn, top->hdr))
		c->nbufs--;
	else
		poison(top);
}

/* (manager.h) */
int h1c__bufs_init(struct h1c_client *c, struct cx *x, int via_proxy)
{
	const struct h1c__bufs *top = stack_top(c);
	int err = h1c__conn_init_with(&x->conn, &c->parse, via_proxy, c->al, top);

	/* No set on the stack: a whole one of its own, as a take from an
	 * empty stack makes, given back whole while it dials or waits. */
	if (!err && !top)
		err = h1c__conn_bufs_new(&x->conn, READ_CHUNK, BUF_OUT_FIRST);
	top_taken(c, x, top);
	if (err)
		return err;
	held_one(c);
	return 0;
}

/* (manager.h) */
void h1c__bufs_closing(struct h1c_client *c, struct cx *x)
{
	struct h1c__bufs b;

	if (h1c__conn_parked(&x->conn))
		return;
	c->bufs_held--;
	/* Its bytes are past use; its buffers serve the next connection (a
	 * server that closes after each response costs no set a request),
	 * unless the client is being freed. */
	if (!c->closing && h1c__conn_release(&x->conn, &b))
		stack_put(c, &b);
}

/* Gives x's buffers to the stack when x holds no byte in them: idle,
 * dialling, or open and waiting for a response of which nothing has
 * arrived (its reader between responses, nothing to write, no body to
 * send, no read or write of the I/O layer waiting on the other, its set
 * whole). Past what the stack may keep, the set is freed. */
void h1c__bufs_park(struct h1c_client *c, struct cx *x)
{
	struct h1c__bufs b;
	int whole;

	if (!x->idle && (x->writing || x->rd_wants_write || x->wr_wants_read ||
	                 h1c__conn_got_bytes(&x->conn)))
		return;
	whole = h1c__conn_whole(&x->conn);
	if (!h1c__conn_park(&x->conn, &b))
		return;
	c->bufs_held--;
	/* Only whole sets: one missing its input or output buffer (left so by
	 * an allocation that failed) would allocate it in the middle of some
	 * later connection's steady stream of requests. */
	if (whole)
		stack_put(c, &b);
	else
		bufs_free(c, &b);
}

/* Frees the sets past what the stack may keep, once every touched
 * connection is settled: connections closed or gone idle since it grew.
 * Trimmed then, and not as each one parks, the stack keeps what the
 * connections given requests by the same call took and gave back, so that
 * a burst of responses that leaves many idle for a moment (their next
 * requests come from their on_done) frees nothing that the next requests
 * would allocate again; and trimmed on every settle, an idle client keeps
 * SPARE_BUFS sets, never one more or less. */
void h1c__bufs_trim(struct h1c_client *c)
{
	unsigned k = keep(c); /* (what nbufs is does not change it) */

	while (c->nbufs > k)
		bufs_free(c, &c->bufs[--c->nbufs]);
	if (c->bufs_taken > c->bufs_burst[0])
		c->bufs_burst[0] = c->bufs_taken;
	c->bufs_taken = 0;
	/* A period ends: a burst long past no longer keeps its sets. */
	if (++c->bufs_settles >= PERIOD_SETTLES && c->bufs_period_takes >= PERIOD_TAKES) {
		c->bufs_settles = 0;
		c->bufs_period_takes = 0;
		c->bufs_peak[1] = c->bufs_peak[0];
		c->bufs_peak[0] = c->bufs_held;
		c->bufs_burst[1] = c->bufs_burst[0];
		c->bufs_burst[0] = 0;
	}
}

/* Gives x buffers again when it gave them back: the set on top of the
 * stack, or a new one. Returns 0 or H1C_ENOMEM. */
int h1c__bufs_take(struct h1c_client *c, struct cx *x)
{
	const struct h1c__bufs *top;
	int err;

	if (!h1c__conn_parked(&x->conn))
		return 0; /* it kept them */
	top = stack_top(c);
	err = top ? h1c__conn_unpark(&x->conn, top)
	          : h1c__conn_bufs_new(&x->conn, READ_CHUNK, BUF_OUT_FIRST);
	top_taken(c, x, top);
	/* Even failing, a new set may have left it a header array. */
	if (!h1c__conn_parked(&x->conn))
		held_one(c);
	return err;
}

/* Frees every set the stack holds (the client is being freed). */
void h1c__bufs_free_all(struct h1c_client *c)
{
	while (c->nbufs)
		bufs_free(c, &c->bufs[--c->nbufs]);
	h1c__free(c->al, c->bufs);
	c->bufs = NULL;
	c->bufs_cap = 0;
}
