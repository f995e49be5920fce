/*
 * test_parse.c - the response head parser: views, trimming, folding,
 * limits, re-entry with last_len, tolerances. Every input ends at a guard
 * page.
 */
#include "testutil.h"

static struct h1c_header hs[256];
static struct h1c_response resp;

/* Parses a whole head placed at the guard page. */
static int parse(const char *s, size_t n, const struct h1c_options *opt)
{
	return h1c_parse_response(guarded(s, n), n, 0, &resp, hs, 256, opt);
}

#define PARSE(lit, opt) parse(lit, sizeof(lit) - 1, opt)

static void assert_view(const char *p, size_t n, const char *want)
{
	if (n != strlen(want) || memcmp(p, want, n) != 0)
		fail_msg("got '%.*s', want '%s'", (int)n, p, want);
}

static void test_views(void **state)
{
	static const char in[] = "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\n"
	                         "Content-Type:text/html\r\nX-Empty:\r\nX-Ws: \t a b \t\r\n\r\nBODY";
	(void)state;
	assert_int_equal(PARSE(in, NULL), (int)(sizeof(in) - 1 - 4));
	assert_int_equal(resp.version_minor, 1);
	assert_int_equal(resp.status, 404);
	assert_view(resp.reason, resp.reason_len, "Not Found");
	assert_int_equal(resp.num_headers, 4);
	assert_ptr_equal(resp.headers, hs);
	assert_view(hs[0].name, hs[0].name_len, "Server");
	assert_view(hs[0].value, hs[0].value_len, "nginx/1.22.1");
	assert_view(hs[1].name, hs[1].name_len, "Content-Type");
	assert_view(hs[1].value, hs[1].value_len, "text/html");
	assert_view(hs[2].value, hs[2].value_len, "");
	assert_view(hs[3].value, hs[3].value_len, "a b");
	assert_int_equal(resp.flags, 0);
}

static void test_views_point_into_buffer(void **state)
{
	static const char in[] = "HTTP/1.0 200 OK\r\nA: b\r\n\r\n";
	char *g = guarded(in, sizeof(in) - 1);
	(void)state;
	assert_int_equal(h1c_parse_response(g, sizeof(in) - 1, 0, &resp, hs, 256, NULL),
	                 (int)sizeof(in) - 1);
	assert_ptr_equal(resp.reason, g + 13);
	assert_ptr_equal(hs[0].name, g + 17);
	assert_ptr_equal(hs[0].value, g + 20);
	assert_int_equal(resp.version_minor, 0);
}

static void test_incomplete_at_every_prefix(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\n";
	size_t n;
	(void)state;
	for (n = 0; n < sizeof(in) - 1; n++)
		assert_int_equal(parse(in, n, NULL), H1C_EINCOMPLETE);
	assert_int_equal(parse(in, sizeof(in) - 1, NULL), (int)sizeof(in) - 1);
}

/* Re-entry with last_len looks for the end of the head only in new bytes:
 * bytes already offered are not checked again until the head is whole. */
static void test_last_len_skips_checked_bytes(void **state)
{
	char buf[64] = "HTTP/1.1 200 OK\r\nX: abc";
	size_t len = strlen(buf);
	(void)state;
	assert_int_equal(h1c_parse_response(buf, len, 0, &resp, hs, 256, NULL), H1C_EINCOMPLETE);
	buf[20] = '\0'; /* would be an error if it were scanned again */
	memcpy(buf + len, "de", 2);
	assert_int_equal(h1c_parse_response(buf, len + 2, len, &resp, hs, 256, NULL),
	                 H1C_EINCOMPLETE);
	/* Once the head is whole it is parsed in full, and the NUL is found. */
	memcpy(buf + len + 2, "\r\n\r\n", 4);
	assert_int_equal(h1c_parse_response(buf, len + 6, len + 2, &resp, hs, 256, NULL),
	                 H1C_EHEADER);
	buf[20] = 'a';
	assert_int_equal(h1c_parse_response(buf, len + 6, len + 2, &resp, hs, 256, NULL),
	                 (int)len + 6);
	assert_view(hs[0].value, hs[0].value_len, "abcde");
}

/* The end of the head split across calls right inside CRLF CRLF. */
static void test_last_len_terminator_straddles(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
	char buf[64];
	size_t n = sizeof(in) - 1, k;
	(void)state;
	for (k = 1; k < n; k++) {
		memcpy(buf, in, n);
		assert_int_equal(h1c_parse_response(buf, k, 0, &resp, hs, 256, NULL), H1C_EINCOMPLETE);
		assert_int_equal(h1c_parse_response(buf, n, k, &resp, hs, 256, NULL), (int)n);
	}
}

static void test_obs_fold_replaced_in_place(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nX-Long: one\r\n \ttwo\r\nY: z\r\n\r\n";
	(void)state;
	assert_int_equal(PARSE(in, NULL), (int)sizeof(in) - 1);
	assert_int_equal(resp.num_headers, 2);
	assert_view(hs[0].value, hs[0].value_len, "one    two");
	assert_view(hs[1].name, hs[1].name_len, "Y");
	assert_true(resp.flags & H1C_RESP_FOLDED);
	assert_false(resp.flags & H1C_RESP_LENIENT);
}

/* Found by fuzz_decode: a fold right after the colon gave "   a" when the
 * head came whole but "a" when it came in pieces, because a pass over an
 * unfinished head had already rewritten the fold. Folds are now rewritten
 * only once the whole section has parsed. */
static void test_obs_fold_same_whole_and_in_pieces(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nX:\r\n \t a\r\n \tb \r\nY: z\r\n\r\n";
	char buf[sizeof(in)];
	size_t n = sizeof(in) - 1, k;
	(void)state;
	for (k = 0; k < n; k++) {
		int r;
		memcpy(buf, in, n);
		if (k) {
			r = h1c_parse_response(buf, k, 0, &resp, hs, 256, NULL);
			assert_int_equal(r, H1C_EINCOMPLETE);
			/* Nothing is rewritten while the head is unfinished. */
			assert_memory_equal(buf, in, n);
		}
		r = h1c_parse_response(buf, n, k, &resp, hs, 256, NULL);
		assert_int_equal(r, (int)n);
		assert_view(hs[0].value, hs[0].value_len, "a    b");
		assert_view(hs[1].value, hs[1].value_len, "z");
	}
}

static void test_obs_fold_forbidden_in_framing_fields(void **state)
{
	(void)state;
	assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 0\r\n\r\n", NULL), H1C_EOBSFOLD);
	assert_int_equal(PARSE("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\tchunked\r\n\r\n", NULL),
	                 H1C_EOBSFOLD);
	assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nConnection: a\r\n close\r\n\r\n", NULL), H1C_EOBSFOLD);
	assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nProxy-Connection: a\r\n close\r\n\r\n", NULL), H1C_EOBSFOLD);
}

static void test_header_count_limit(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	struct h1c_options o = {0};
	(void)state;
	o.max_headers = 3;
	assert_int_equal(PARSE(in, &o), (int)sizeof(in) - 1);
	o.max_headers = 2;
	assert_int_equal(PARSE(in, &o), H1C_EHEADERCOUNT);
	/* The caller's array is a limit too. */
	assert_int_equal(h1c_parse_response(guarded(in, sizeof(in) - 1), sizeof(in) - 1, 0, &resp, hs, 2,
	                                    NULL),
	                 H1C_EHEADERCOUNT);
}

static void test_default_header_count_limit(void **state)
{
	static char in[8192];
	size_t n = 0;
	int i;
	(void)state;
	n += (size_t)sprintf(in + n, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < (int)H1C_DEFAULT_MAX_HEADERS; i++)
		n += (size_t)sprintf(in + n, "H%d: v\r\n", i);
	n += (size_t)sprintf(in + n, "\r\n");
	assert_int_equal(parse(in, n, NULL), (int)n);
	assert_int_equal(resp.num_headers, H1C_DEFAULT_MAX_HEADERS);
	n -= 2;
	n += (size_t)sprintf(in + n, "Extra: 1\r\n\r\n");
	assert_int_equal(parse(in, n, NULL), H1C_EHEADERCOUNT);
}

static void test_head_size_limit(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: 0123456789\r\n\r\n";
	struct h1c_options o = {0};
	size_t n = sizeof(in) - 1;
	(void)state;
	o.max_head_size = n;
	assert_int_equal(PARSE(in, &o), (int)n);
	o.max_head_size = n - 1;
	assert_int_equal(PARSE(in, &o), H1C_EHEADERSIZE);
	/* Incomplete but already at the limit: an error, not a wait. */
	assert_int_equal(parse(in, n - 1, &o), H1C_EHEADERSIZE);
	assert_int_equal(parse(in, n - 2, &o), H1C_EINCOMPLETE);
}

static void test_default_head_size_limit(void **state)
{
	static char in[H1C_DEFAULT_MAX_HEAD_SIZE + 64];
	size_t n;
	(void)state;
	memset(in, 'a', sizeof(in));
	memcpy(in, "HTTP/1.1 200 OK\r\nX: ", 20);
	n = H1C_DEFAULT_MAX_HEAD_SIZE - 4;
	memcpy(in + n, "\r\n\r\n", 4);
	assert_int_equal(parse(in, n + 4, NULL), (int)(n + 4));
	memset(in + n, 'a', 4);
	memcpy(in + n + 1, "\r\n\r\n", 4);
	assert_int_equal(parse(in, n + 5, NULL), H1C_EHEADERSIZE);
}

static void test_versions(void **state)
{
	(void)state;
	assert_true(PARSE("HTTP/1.0 200 OK\r\n\r\n", NULL) > 0);
	assert_int_equal(resp.version_minor, 0);
	assert_true(PARSE("HTTP/1.9 200 OK\r\n\r\n", NULL) > 0);
	assert_int_equal(resp.version_minor, 9);
	assert_int_equal(PARSE("HTTP/2 200 OK\r\n\r\n", NULL), H1C_EVERSION);
	assert_int_equal(PARSE("HTTP/0.9 200 OK\r\n\r\n", NULL), H1C_EVERSION);
	assert_int_equal(PARSE("HTTP/1.x 200 OK\r\n\r\n", NULL), H1C_EVERSION);
	assert_int_equal(PARSE("HTTP/1.1\t200 OK\r\n\r\n", NULL), H1C_EVERSION);
	/* Early rejection: a wrong prefix is an error before the line ends. */
	assert_int_equal(PARSE("HTTX", NULL), H1C_EVERSION);
	assert_int_equal(PARSE("HTTP/1.1 2x", NULL), H1C_ESTATUS);
}

static void test_status_codes(void **state)
{
	(void)state;
	assert_true(PARSE("HTTP/1.1 100 Continue\r\n\r\n", NULL) > 0);
	assert_int_equal(resp.status, 100);
	assert_true(PARSE("HTTP/1.1 999 Odd\r\n\r\n", NULL) > 0);
	assert_int_equal(resp.status, 999);
	assert_int_equal(PARSE("HTTP/1.1 000 Zero\r\n\r\n", NULL), H1C_ESTATUS);
	assert_int_equal(PARSE("HTTP/1.1 -20 X\r\n\r\n", NULL), H1C_ESTATUS);
	assert_int_equal(PARSE("HTTP/1.1 200OK\r\n\r\n", NULL), H1C_ESTATUS);
	assert_int_equal(PARSE("HTTP/1.1 200 O\x01K\r\n\r\n", NULL), H1C_ESTATUS);
}

static void test_reason_phrase(void **state)
{
	(void)state;
	assert_true(PARSE("HTTP/1.1 200 \r\n\r\n", NULL) > 0);
	assert_int_equal(resp.reason_len, 0);
	assert_true(PARSE("HTTP/1.1 200 D\xe9j\xe0 vu\t!\r\n\r\n", NULL) > 0);
	assert_view(resp.reason, resp.reason_len, "D\xe9j\xe0 vu\t!");
}

static void test_tolerances_flag_the_response(void **state)
{
	struct h1c_options o = {0};
	(void)state;
	o.lenient = H1C_LENIENT_BARE_LF;
	assert_true(PARSE("HTTP/1.1 200 OK\nA: b\n\n", &o) > 0);
	assert_true(resp.flags & H1C_RESP_LENIENT);
	assert_view(hs[0].value, hs[0].value_len, "b");
	/* A strict head under a lenient option is not flagged. */
	assert_true(PARSE("HTTP/1.1 200 OK\r\nA: b\r\n\r\n", &o) > 0);
	assert_false(resp.flags & H1C_RESP_LENIENT);
	/* Bare CR stays an error whatever the tolerance. */
	assert_int_equal(PARSE("HTTP/1.1 200 OK\rA: b\r\n\r\n", &o), H1C_ELINEEND);
	o.lenient = H1C_LENIENT_SPACE_BEFORE_COLON;
	assert_true(PARSE("HTTP/1.1 200 OK\r\nA \t: b\r\n\r\n", &o) > 0);
	assert_view(hs[0].name, hs[0].name_len, "A");
	assert_true(resp.flags & H1C_RESP_LENIENT);
	o.lenient = H1C_LENIENT_VALUE_CTL;
	assert_int_equal(PARSE("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", &o), H1C_EHEADER);
	o.lenient = H1C_LENIENT_NO_REASON_SP;
	assert_true(PARSE("HTTP/1.1 204\r\n\r\n", &o) > 0);
	assert_int_equal(resp.status, 204);
	assert_int_equal(resp.reason_len, 0);
}

static void test_bad_arguments(void **state)
{
	char b[4] = "HTTP";
	(void)state;
	assert_int_equal(h1c_parse_response(NULL, 0, 0, &resp, hs, 1, NULL), H1C_EINVAL);
	assert_int_equal(h1c_parse_response(b, 4, 0, NULL, hs, 1, NULL), H1C_EINVAL);
	assert_int_equal(h1c_parse_response(b, 4, 0, &resp, NULL, 3, NULL), H1C_EINVAL);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(h1c_errname(H1C_ECHUNKSIZE), "H1C_ECHUNKSIZE");
	assert_string_equal(h1c_strerror(H1C_EINCOMPLETE), "need more input");
	assert_string_equal(h1c_strerror(12345), "unknown error");
	assert_string_equal(h1c_version(), H1C_VERSION_STRING);
	/* Every code has its own name and message. */
	{
		int a, b;
		for (a = H1C_ELAST_ + 1; a <= 0; a++)
			for (b = a + 1; b <= 0; b++) {
				assert_string_not_equal(h1c_errname(a), h1c_errname(b));
				assert_string_not_equal(h1c_strerror(a), h1c_strerror(b));
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_views_point_into_buffer),
		cmocka_unit_test(test_incomplete_at_every_prefix),
		cmocka_unit_test(test_last_len_skips_checked_bytes),
		cmocka_unit_test(test_last_len_terminator_straddles),
		cmocka_unit_test(test_obs_fold_replaced_in_place),
		cmocka_unit_test(test_obs_fold_same_whole_and_in_pieces),
		cmocka_unit_test(test_obs_fold_forbidden_in_framing_fields),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_default_header_count_limit),
		cmocka_unit_test(test_head_size_limit),
		cmocka_unit_test(test_default_head_size_limit),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_reason_phrase),
		cmocka_unit_test(test_tolerances_flag_the_response),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
