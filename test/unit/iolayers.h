/*
 * iolayers.h - the pieces the tests' own I/O layers are made of: each of
 * these passes straight through to the plain-socket vtable, so a test
 * layer writes only the one call it changes (a write that never gets a
 * byte out, a socket moved to another number...).
 */
#ifndef H1C_TEST_IOLAYERS_H
#define H1C_TEST_IOLAYERS_H

#include "h1c.h"

static inline void *pass_open(void *user, int fd, const char *host, int *err)
{
	return h1c_io_plain()->open(user, fd, host, err);
}

static inline long pass_read(void *ctx, void *buf, size_t len)
{
	return h1c_io_plain()->read(ctx, buf, len);
}

static inline long pass_write(void *ctx, const void *buf, size_t len)
{
	return h1c_io_plain()->write(ctx, buf, len);
}

static inline int pass_fd(void *ctx)
{
	return h1c_io_plain()->fd(ctx);
}

static inline void pass_close(void *ctx)
{
	h1c_io_plain()->close(ctx);
}

#endif
