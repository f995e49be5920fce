/*
 * failalloc.h - an allocator for the allocation-failure torture tests
 * (SQLite and curl style): it fails the fail_at-th allocation of a run
 * (counted in alloc_no; 0: none fails) and counts the blocks still live,
 * which must be 0 once everything is freed.
 */
#ifndef H1C_TEST_FAILALLOC_H
#define H1C_TEST_FAILALLOC_H

#include <stdlib.h>

#include "h1c.h"

/* Where the blocks come from (a test that wraps malloc itself sets this). */
#ifndef FAILALLOC_MALLOC
#define FAILALLOC_MALLOC malloc
#endif

static long fail_at, alloc_no, live_blocks;

static void *f_malloc(void *u, size_t n)
{
	(void)u;
	if (++alloc_no == fail_at)
		return NULL;
	live_blocks++;
	return FAILALLOC_MALLOC(n);
}

static void *f_realloc(void *u, void *p, size_t n)
{
	void *q;

	(void)u;
	if (++alloc_no == fail_at)
		return NULL;
	q = realloc(p, n);
	if (q && !p)
		live_blocks++;
	return q;
}

static void f_free(void *u, void *p)
{
	(void)u;
	if (p)
		live_blocks--;
	free(p);
}

/* Starts run number n: allocation n fails (none when n is 0). */
static void failalloc_start(long n)
{
	fail_at = n;
	alloc_no = 0;
	live_blocks = 0;
}

static const struct h1c_allocator failing_allocator = {
	.size = sizeof(failing_allocator),
	.malloc = f_malloc,
	.realloc = f_realloc,
	.free = f_free,
};

#endif
