/*
 * fetch.c - the blocking call, h1c_client_fetch(), and its results: a
 * request queued with h1c_client_request() whose callbacks copy the head,
 * the body and the trailers into an h1c_result, and the client driven
 * until that request ends. Results own their memory and keep their own
 * copy of the allocator hooks, so they outlive the client.
 */
#include "manager.h"

#include <string.h>

/* What h1c_client_fetch() gathers. */
struct fetch {
	const struct h1c_request *req;
	struct h1c_result *res;
	const struct h1c_allocator *al; /* NULL, or the copy in res */
	char *body;
	size_t body_len, body_cap;
	int done, err;
	int nomem; /* a copy failed: the request stopped for want of memory */
	unsigned flags;
};

/* Copies header views into one owned block; returns the block. */
static char *copy_fields(const struct h1c_allocator *al, const struct h1c_header *f, size_t n,
                         const char *extra, size_t extra_len, struct h1c_header **out,
                         const char **extra_out)
{
	size_t i, size = n * sizeof(**out) + extra_len + 1;
	struct h1c_header *h;
	char *block, *p;

	for (i = 0; i < n; i++)
		size += f[i].name_len + f[i].value_len + 2;
	block = h1c__malloc(al, size);
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

static int fetch_head(void *user, const struct h1c_response *resp)
{
	struct fetch *f = user;
	struct h1c_result *res = f->res;

	h1c__free(f->al, res->head_);
	res->head_ = copy_fields(f->al, resp->headers, resp->num_headers, resp->reason,
	                         resp->reason_len, &res->headers, &res->reason);
	if (!res->head_)
		return f->nomem = 1;
	res->num_headers = resp->num_headers;
	res->reason_len = resp->reason_len;
	res->status = resp->status;
	res->version_minor = resp->version_minor;
	return f->req->on_head ? f->req->on_head(f->req->data_user, res) : 0;
}

static int fetch_data(void *user, const char *data, size_t len)
{
	struct fetch *f = user;

	if (f->req->on_data)
		return f->req->on_data(f->req->data_user, data, len);
	if (f->body_len + len + 1 > f->body_cap) {
		size_t cap = f->body_cap ? f->body_cap : 4096;
		char *b;
		while (cap < f->body_len + len + 1)
			cap *= 2;
		b = h1c__realloc(f->al, f->body, cap);
		if (!b)
			return f->nomem = 1;
		f->body = b;
		f->body_cap = cap;
	}
	memcpy(f->body + f->body_len, data, len);
	f->body_len += len;
	return 0;
}

static int fetch_trailers(void *user, const struct h1c_header *fields, size_t n)
{
	struct fetch *f = user;
	struct h1c_result *res = f->res;

	h1c__free(f->al, res->trail_);
	res->trail_ = copy_fields(f->al, fields, n, NULL, 0, &res->trailers, NULL);
	if (!res->trail_)
		return f->nomem = 1;
	res->num_trailers = n;
	return 0;
}

static void fetch_done(void *user, int err, unsigned flags)
{
	struct fetch *f = user;

	f->done = 1;
	/* Stopped by our own copy failing: the caller's error is memory. */
	f->err = err == H1C_ECALLBACK && f->nomem ? H1C_ENOMEM : err;
	f->flags = flags;
}

/*
 * The h1c_result of each header version, by the size of the h1c_request
 * of the same header: a version that grows h1c_result grows h1c_request
 * too (abi/h1c.structs pairs them), so the request a program passes says
 * how large its result is. Later versions are appended.
 */
static const struct {
	size_t request, result;
} layouts[] = {
	{H1C__V02_REQUEST, H1C__V02_RESULT},
};

/* The bytes of h1c_result a caller whose h1c_request is size bytes long
 * (0: the 0.2 layout) has: the layout of the newest version whose request
 * fits in size, the 0.2 one for a size below it, and never more than
 * this library's own struct. */
static size_t result_size(size_t size)
{
	size_t i, n = layouts[0].result;

	for (i = 1; size && i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].request <= size)
			n = layouts[i].result;
	return n < sizeof(struct h1c_result) ? n : sizeof(struct h1c_result);
}

/* Drives one request to its end, gathering the response into *res, the
 * library's own full-size result. Returns 0 or a negative H1C_E* code
 * with res emptied. */
static int fetch(struct h1c_client *c, const struct h1c_request *req, struct h1c_result *res)
{
	static const struct h1c_callbacks cb = {.size = sizeof(struct h1c_callbacks),
	                                        .on_head = fetch_head,
	                                        .on_data = fetch_data,
	                                        .on_trailers = fetch_trailers,
	                                        .on_done = fetch_done};
	struct fetch f;
	struct h1c_request q;
	struct h1c_allocator al;
	long long id;
	int rc;

	memset(&f, 0, sizeof(f));
	memset(&al, 0, sizeof(al));
	/* The result and this call keep their own copy of the hooks: a
	 * result may be freed after its client, and a callback may free the
	 * client during this call. */
	if (c->al)
		al = res->alloc_ = *c->al;
	/* A body kept in memory is bounded by the client's max_body. */
	h1c__opts_copy(&q, sizeof(q), req, H1C__V02_REQUEST);
	q.size = sizeof(q);
	f.req = &q;
	f.res = res;
	f.al = c->al ? &al : NULL;
	if (!q.max_body && !q.on_data)
		q.max_body = c->o.max_body;
	id = h1c__submit(c, &q, &cb, &f); /* q is a copy already */
	if (id < 0) {
		c->st.errors++;
		return (int)id;
	}
	/* A callback may have asked for the client to be freed: it is freed
	 * here, and from then on only f and res are used. */
	rc = h1c__run(c, -1, &f.done);
	if (h1c__freed_now(c))
		c = NULL;
	if (rc < 0 && !f.done && c) {
		h1c_client_cancel(c, id);
		f.err = rc;
	}
	if (f.err) {
		h1c__free(f.al, f.body);
		h1c_result_free(res);
		return f.err;
	}
	if (!f.body && !q.on_data) {
		f.body = h1c__malloc(f.al, 1);
		if (!f.body) {
			h1c_result_free(res);
			return H1C_ENOMEM;
		}
	}
	if (f.body)
		f.body[f.body_len] = '\0';
	res->body = f.body;
	res->body_len = f.body_len;
	res->reused = (f.flags & H1C_DONE_REUSED) != 0;
	res->replayed = (f.flags & H1C_DONE_REPLAYED) != 0;
	return 0;
}

int h1c_client_fetch(struct h1c_client *c, const struct h1c_request *req,
                     struct h1c_result *res)
{
	struct h1c_result mine;
	size_t size;
	int err;

	if (!c || !req || !res || c->busy)
		return H1C_EINVAL;
	/* The response is gathered in a result of this library's layout and
	 * copied out at the caller's, which its request tells. */
	memcpy(&size, req, sizeof(size));
	memset(&mine, 0, sizeof(mine));
	mine.size_ = result_size(size);
	err = fetch(c, req, &mine);
	h1c__out_copy(res, mine.size_, &mine, sizeof(mine));
	return err;
}

/* Frees what res owns and empties it: no more of it than the library
 * filled (size_), so a program's older, smaller result is safe. */
void h1c_result_free(struct h1c_result *res)
{
	const struct h1c_allocator *al;
	size_t size;

	if (!res)
		return;
	size = res->size_ ? res->size_ : H1C__V02_RESULT;
	if (size > sizeof(*res))
		size = sizeof(*res);
	al = res->alloc_.free ? &res->alloc_ : NULL;
	h1c__free(al, res->head_);
	h1c__free(al, res->trail_);
	h1c__free(al, res->body);
	memset(res, 0, size);
	res->size_ = size;
}
