/*
 * test_headers.c - header lookup and comma-separated token lists.
 */
#include "testutil.h"

#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static void test_find(void **state)
{
	static const struct h1c_header hs[] = {
		H("Content-Type", "text/plain"), H("X-A", "1"), H("x-a", "2"),
	};
	const struct h1c_header *h;
	(void)state;
	h = h1c_header_find(hs, 3, "content-type");
	assert_ptr_equal(h, &hs[0]);
	h = h1c_header_find(hs, 3, "X-a");
	assert_ptr_equal(h, &hs[1]); /* the first of several */
	assert_null(h1c_header_find(hs, 3, "Content-Typ"));
	assert_null(h1c_header_find(hs, 3, "Content-Type2"));
	assert_null(h1c_header_find(NULL, 0, "a"));
	assert_null(h1c_header_find(hs, 0, "X-A"));
}

static void test_has_token(void **state)
{
	static const struct h1c_header hs[] = {
		H("Connection", "Upgrade, \tkeep-alive ,,"), H("connection", "TE"),
		H("Cache-Control", "no-cache=\"a, close\", max-age=0"),
	};
	(void)state;
	assert_int_equal(h1c_header_has_token(hs, 3, "Connection", "upgrade"), 1);
	assert_int_equal(h1c_header_has_token(hs, 3, "connection", "Keep-Alive"), 1);
	assert_int_equal(h1c_header_has_token(hs, 3, "CONNECTION", "te"), 1);
	assert_int_equal(h1c_header_has_token(hs, 3, "Connection", "close"), 0);
	assert_int_equal(h1c_header_has_token(hs, 3, "Connection", "keep"), 0);
	/* A comma inside a quoted string does not split the list. */
	assert_int_equal(h1c_header_has_token(hs, 3, "Cache-Control", "close\""), 0);
	assert_int_equal(h1c_header_has_token(hs, 3, "Cache-Control", "max-age=0"), 1);
	assert_int_equal(h1c_header_has_token(NULL, 3, "Connection", "te"), 0);
}

static void test_hop_by_hop(void **state)
{
	struct h1c_header hs[] = {
		H("Date", "x"), H("Connection", "X-Private, close"), H("Keep-Alive", "timeout=5"),
		H("x-private", "secret"), H("Content-Length", "3"), H("Transfer-Encoding", "chunked"),
		H("Proxy-Connection", "X-Other"), H("X-Other", "1"), H("Server", "s"), H("TE", "trailers"),
		H("Upgrade", "h2c"), H("Trailer", "X"), H("Proxy-Authenticate", "Basic"),
	};
	size_t n = sizeof(hs) / sizeof(hs[0]);
	(void)state;
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, 0), 0);
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, 1), 1);
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, 3), 1); /* named by Connection */
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, 4), 0);
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, 7), 1); /* named by Proxy-Connection */
	assert_int_equal(h1c_header_is_hop_by_hop(hs, n, n), 0);
	assert_int_equal(h1c_headers_strip_hop_by_hop(NULL, 3), 0);
	n = h1c_headers_strip_hop_by_hop(hs, n);
	assert_int_equal(n, 3);
	assert_memory_equal(hs[0].name, "Date", 4);
	assert_memory_equal(hs[1].name, "Content-Length", 14);
	assert_memory_equal(hs[2].name, "Server", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_has_token),
		cmocka_unit_test(test_hop_by_hop),
	};
	return cmocka_run_group_tests_name("headers", tests, NULL, NULL);
}
