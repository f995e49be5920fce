/*
 * guard.h - a struct placed right before a PROT_NONE page, for the tests
 * that show the library reads no more of a caller's struct than its size
 * says: reading one byte past it crashes at once.
 */
#ifndef H1C_TEST_GUARD_H
#define H1C_TEST_GUARD_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Copies n bytes of p so that they end right before a PROT_NONE page.
 * Returns the copy; munmap(*map, *maplen) releases it. */
static inline void *guard_copy(const void *p, size_t n, void **map, size_t *maplen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + page, page, PROT_NONE), 0);
	memcpy(m + page - n, p, n);
	*map = m;
	*maplen = 2 * page;
	return m + page - n;
}

#endif
