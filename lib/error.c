/*
 * error.c - error strings and the version, from the X-macro list in h1c.h.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

const char *h1c_strerror(int code)
{
	switch (code) {
#define H1C_MSG_(name, num, msg) \
	case num:                    \
		return msg;
		H1C_ERRORS(H1C_MSG_)
#undef H1C_MSG_
	default:
		return "unknown error";
	}
}

const char *h1c_errname(int code)
{
	switch (code) {
#define H1C_NAME_(name, num, msg) \
	case num:                     \
		return #name;
		H1C_ERRORS(H1C_NAME_)
#undef H1C_NAME_
	default:
		return "H1C_EUNKNOWN";
	}
}

const char *h1c_version(void)
{
	return H1C_VERSION_STRING;
}

void h1c__opts_copy(void *out, size_t out_size, const void *in, size_t base)
{
	size_t n = 0;

	memset(out, 0, out_size);
	if (!in)
		return;
	memcpy(&n, in, sizeof(n));
	if (!n)
		n = base;
	memcpy(out, in, n < out_size ? n : out_size);
}

void h1c__out_copy(void *out, size_t out_size, const void *in, size_t in_size)
{
	size_t n = in_size < out_size ? in_size : out_size;

	memcpy(out, in, n);
	if (out_size > n)
		memset((char *)out + n, 0, out_size - n);
}

/* Allocation through the caller's hooks, or libc when there are none. */
void *h1c__malloc(const struct h1c_allocator *al, size_t n)
{
	return al ? al->malloc(al->user, n) : malloc(n);
}

void *h1c__realloc(const struct h1c_allocator *al, void *p, size_t n)
{
	return al ? al->realloc(al->user, p, n) : realloc(p, n);
}

void h1c__free(const struct h1c_allocator *al, void *p)
{
	if (!p)
		return;
	if (al)
		al->free(al->user, p);
	else
		free(p);
}
