/*
 * measure.h - what every benchmark measures with: the clocks (wall and the
 * process's CPU), and the allocator hooks of the h1c drivers (e2e and
 * scale), which count allocations and live bytes.
 */
#ifndef H1C_BENCH_MEASURE_H
#define H1C_BENCH_MEASURE_H

#include <stddef.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds of CPU the process has used, user and system. */
static inline double bench_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Allocator hooks for struct h1c_allocator that count the allocations
 * (malloc and realloc calls) and the bytes live through them; each block
 * keeps its size in front of it.
 */
static unsigned long bench_allocs;
static size_t bench_live;

static inline void *bench_malloc(void *u, size_t n)
{
	size_t *p = (size_t *)malloc(n + sizeof(size_t) * 2);

	(void)u;
	if (!p)
		return NULL;
	bench_allocs++;
	bench_live += n;
	p[0] = n;
	return p + 2;
}

static inline void bench_free(void *u, void *q)
{
	size_t *p = (size_t *)q;

	(void)u;
	if (!p)
		return;
	bench_live -= p[-2];
	free(p - 2);
}

static inline void *bench_realloc(void *u, void *q, size_t n)
{
	size_t *p = (size_t *)q, *r;

	if (!q)
		return bench_malloc(u, n);
	r = (size_t *)realloc(p - 2, n + sizeof(size_t) * 2);
	if (!r)
		return NULL;
	bench_allocs++;
	bench_live += n;
	bench_live -= r[0];
	r[0] = n;
	return r + 2;
}

#endif
