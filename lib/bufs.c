/*
 * bufs.c - the client's spare buffer sets (input, output, header views),
 * a stack: a connection gives its set back whenever it holds no byte (idle
 * in the pool, or waiting for a response with nothing read yet) and takes
 * the top one when it reads or is given a request. The set on top is the
 * one given back last, still in the cache: with thousands of connections
 * busy, each event touches a few warm sets instead of its connection's
 * own, cold one. Calls conn.c only.
 */
#include "manager.h"

/* Sets the stack may keep: a few for connections taken from idle, and one
 * for every connection that is not idle (it holds one, or will take one
 * back when its response comes), so that a busy client allocates nothing
 * and an idle one keeps SPARE_BUFS sets at most. */
static unsigned keep(const struct h1c_client *c)
{
	return SPARE_BUFS + (c->nconns - c->nidle);
}

static void bufs_free(const struct h1c_client *c, const struct h1c__bufs *b)
{
	h1c__free(c->al, b->in);
	h1c__free(c->al, b->out);
	h1c__free(c->al, b->hdr);
}

/* Gives x's buffers to the stack when x holds no byte in them: idle, or
 * waiting for a response of which nothing has arrived (its reader between
 * responses, nothing to write, no body to send; not after a response that
 * was the last, whose reader must see what follows as it is). Past what
 * the stack keeps, sets are freed. */
void h1c__bufs_park(struct h1c_client *c, struct cx *x)
{
	struct h1c__bufs b;

	if (!x->idle && (x->state != CX_OPEN || x->writing || x->rd_wants_write ||
	                 x->wr_wants_read || !h1c__conn_between(&x->conn)))
		return;
	if (!h1c__conn_park(&x->conn, &b))
		return;
	/* A set whose input or output buffer has not been made yet (they
	 * grow on first use) stays with a busy connection: taken by another,
	 * it would grow there, an allocation in the busy steady state. */
	if (!x->idle && (!b.in || !b.out)) {
		(void)h1c__conn_unpark(&x->conn, &b);
		return;
	}
	if (c->nbufs == c->bufs_cap && c->nbufs < keep(c)) {
		unsigned cap = c->bufs_cap ? c->bufs_cap * 2 : SPARE_BUFS;
		struct h1c__bufs *v = h1c__realloc(c->al, c->bufs, cap * sizeof(*v));
		if (v) {
			c->bufs = v;
			c->bufs_cap = cap;
		}
	}
	if (c->nbufs < c->bufs_cap && c->nbufs < keep(c))
		c->bufs[c->nbufs++] = b;
	else
		bufs_free(c, &b);
	/* Connections gone or idle since the stack last grew leave it longer
	 * than it need be. */
	while (c->nbufs > keep(c))
		bufs_free(c, &c->bufs[--c->nbufs]);
}

/* Gives x buffers again when it gave them back: the set on top of the
 * stack, or a new one. Returns 0 or H1C_ENOMEM. */
int h1c__bufs_take(struct h1c_client *c, struct cx *x)
{
	int err;

	if (!c->nbufs)
		return h1c__conn_unpark(&x->conn, NULL);
	err = h1c__conn_unpark(&x->conn, &c->bufs[c->nbufs - 1]);
	if (!err && h1c__conn_has_hdr(&x->conn, c->bufs[c->nbufs - 1].hdr))
		c->nbufs--;
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
