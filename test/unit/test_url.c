/*
 * test_url.c - http URLs and proxy host:port.
 */
#include "testutil.h"

#include "internal.h"

static void test_urls(void **state)
{
	struct h1c__url u;
	(void)state;
	assert_int_equal(h1c__url_parse("http://example.test/a/b?c=d#frag", &u), 0);
	assert_string_equal(u.host, "example.test");
	assert_int_equal(u.port, 80);
	assert_int_equal(u.path_len, 8);
	assert_memory_equal(u.path, "/a/b?c=d", 8);
	assert_int_equal(u.absolute_len, strlen("http://example.test/a/b?c=d"));
	assert_int_equal(h1c__url_parse("HTTP://127.0.0.1:8080", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_int_equal(u.path_len, 0);
	assert_int_equal(h1c__url_parse("http://[::1]:81/x", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_true(u.ipv6);
	assert_int_equal(u.port, 81);
	assert_int_equal(h1c__url_parse("http://h?q", &u), 0);
	assert_false(u.has_path);
	assert_memory_equal(u.path, "?q", 2);
	assert_false(u.tls);
	assert_int_equal(h1c__url_parse("HTTPS://example.test/s", &u), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_int_equal(h1c__url_parse("https://[::1]:8443", &u), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 8443);
}

static void test_bad_urls(void **state)
{
	static const char *const bad[] = {
		"httpss://example.test/", "https:/x/", "https://", "ftp://x/", "http://", "http:///x", "http://a b/",
		"http://a/b c", "http://a:0/", "http://a:65536/", "http://a:/", "http://a:8x/",
		"http://user@a/", "http://[::1/", "http://[::g]/", "http://a/\x01", "http://a/\xc3\xa9",
		"example.test/", "http://a|b/", "http://a`b/", NULL,
	};
	struct h1c__url u;
	size_t i;
	(void)state;
	for (i = 0; bad[i]; i++)
		if (h1c__url_parse(bad[i], &u) != H1C_EURL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(h1c__url_parse(NULL, &u), H1C_EURL);
	assert_int_equal(h1c__hostport_parse(NULL, &u), H1C_EURL);
}

static void test_proxy(void **state)
{
	struct h1c__url u;
	(void)state;
	assert_int_equal(h1c__hostport_parse("127.0.0.1:3129", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 3129);
	assert_int_equal(h1c__hostport_parse("proxy.test", &u), 0);
	assert_int_equal(u.port, 3128);
	assert_int_equal(h1c__hostport_parse("http://[::1]:8080/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(h1c__hostport_parse("a:b", &u), H1C_EURL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_proxy),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
