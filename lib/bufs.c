/*
 * bufs.c - the client's spare buffer sets (input, output, header views),
 * a stack: a connection gives its set back when it goes idle in the pool
 * and takes the top one (the one given back last, still in the cache)
 * when it is given a request again, so that an idle connection keeps no
 * buffer and a steady stream of requests allocates none. Only whole sets
 * are kept, and only a few. Calls conn.c only.
 */
#include "manager.h"

/* Sets the stack may keep: a few for connections taken from idle, and one
 * for every connection that is not idle (one of those may go idle and
 * give its set back while another is taken again), so that an idle client
 * keeps SPARE_BUFS sets at most. */
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

/* Gives x's buffers to the stack when x is idle (holding no byte in
 * them). Past what the stack keeps, sets are freed. */
void h1c__bufs_park(struct h1c_client *c, struct cx *x)
{
	struct h1c__bufs b;

	/* Idle connections only. A connection waiting for its response
	 * could give its set back too, and take the warmest one when the
	 * response comes (fewer cache misses with thousands busy), but the
	 * stack then holds a set per waiting connection in no fixed number:
	 * a burst took sets the stack had freed, allocating in a steady
	 * stream, and what an idle client keeps varied by a set or two. */
	if (!x->idle)
		return;
	if (!h1c__conn_park(&x->conn, &b))
		return;
	if (c->nbufs == c->bufs_cap && c->nbufs < keep(c)) {
		unsigned cap = c->bufs_cap ? c->bufs_cap * 2 : SPARE_BUFS;
		struct h1c__bufs *v = h1c__realloc(c->al, c->bufs, cap * sizeof(*v));
		if (v) {
			c->bufs = v;
			c->bufs_cap = cap;
		}
	}
	/* Only whole sets: one missing its input or output buffer (a new
	 * connection's, never used) would allocate it in the middle of some
	 * later connection's steady stream of requests. */
	if (b.in && b.out && c->nbufs < c->bufs_cap && c->nbufs < keep(c))
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

	if (!h1c__conn_parked(&x->conn))
		return 0; /* it kept them */
	if (!c->nbufs)
		return h1c__conn_bufs_new(&x->conn, READ_CHUNK, BUF_OUT_FIRST);
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
