/*
 * io-counting.c - the I/O vtable pattern: a vtable that wraps the plain
 * socket one and counts the bytes that cross it. A TLS layer plugs in the
 * same way: open() starts the session over fd, read()/write() go through it
 * and return H1C_EWANTREAD / H1C_EWANTWRITE when the session needs the
 * socket to be readable or writable.
 *
 *   io-counting URL...
 */
#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>

struct counted {
	void *inner; /* the plain vtable's context */
	unsigned long long *in, *out;
};

struct totals {
	unsigned long long in, out;
};

static const struct h1c_io *plain;

static void *c_open(void *user, int fd, const char *host, int *err)
{
	struct totals *t = user;
	struct counted *c = malloc(sizeof(*c));

	if (!c) {
		*err = H1C_ENOMEM;
		return NULL;
	}
	c->inner = plain->open(NULL, fd, host, err);
	if (!c->inner) {
		free(c);
		return NULL;
	}
	c->in = &t->in;
	c->out = &t->out;
	return c;
}

static long c_read(void *ctx, void *buf, size_t len)
{
	struct counted *c = ctx;
	long n = plain->read(c->inner, buf, len);

	if (n > 0)
		*c->in += (unsigned long long)n;
	return n;
}

static long c_write(void *ctx, const void *buf, size_t len)
{
	struct counted *c = ctx;
	long n = plain->write(c->inner, buf, len);

	if (n > 0)
		*c->out += (unsigned long long)n;
	return n;
}

static int c_fd(void *ctx)
{
	return plain->fd(((struct counted *)ctx)->inner);
}

static void c_close(void *ctx)
{
	struct counted *c = ctx;

	plain->close(c->inner);
	free(c);
}

int main(int argc, char **argv)
{
	static const struct h1c_io counting = {
		.size = sizeof(counting),
		.name = "counting",
		.open = c_open,
		.read = c_read,
		.write = c_write,
		.fd = c_fd,
		.close = c_close,
	};
	struct h1c_client_options o = {0};
	struct totals t = {0, 0};
	struct h1c_client *cl;
	int i, rc = 0;

	plain = h1c_io_plain();
	o.io = &counting;
	o.io_user = &t;
	cl = h1c_client_new(&o);
	if (!cl)
		return 2;
	for (i = 1; i < argc; i++) {
		struct h1c_request rq = {0};
		struct h1c_result res;
		int err;

		rq.url = argv[i];
		err = h1c_client_fetch(cl, &rq, &res);
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[i], h1c_strerror(err));
			rc = 1;
			continue;
		}
		printf("%s: %d, %zu body bytes\n", argv[i], res.status, res.body_len);
		h1c_result_free(&res);
	}
	printf("bytes written %llu, read %llu\n", t.out, t.in);
	h1c_client_free(cl);
	return rc;
}
