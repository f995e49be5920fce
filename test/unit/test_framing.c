/*
 * test_framing.c - the message-length decision and the keep-alive verdict
 * (framing.c); the decoders are test_body.c's.
 */
#include "testutil.h"

static struct h1c_header hs[64];
static struct h1c_response resp;
static struct h1c_framing fr;
static char headbuf[4096];

/* Parses head (copied) and decides its framing for method. */
static int decide(const char *method, const char *head, const struct h1c_options *opt)
{
	size_t n = strlen(head);
	int r;

	memcpy(headbuf, head, n);
	r = h1c_parse_response(headbuf, n, 0, &resp, hs, 64, opt);
	assert_int_equal(r, (int)n);
	return h1c_framing_decide(method, &resp, opt, &fr);
}

static void test_no_body_statuses(void **state)
{
	static const int st[] = {100, 102, 103, 199, 204, 304};
	char head[128];
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		snprintf(head, sizeof(head),
		         "HTTP/1.1 %d X\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n", st[i]);
		assert_int_equal(decide("GET", head, NULL), 0);
		assert_int_equal(fr.kind, H1C_FRAMING_NONE);
		assert_int_equal(!!(fr.flags & H1C_FRAMING_INTERIM), st[i] < 200);
		assert_int_equal(fr.keep_alive, 1);
	}
	assert_int_equal(decide("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_NONE);
	/* HEAD ignores even a malformed length it does not use. */
	assert_int_equal(decide("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", NULL), 0);
	/* A method is case-sensitive: "head" is not HEAD. */
	assert_int_equal(decide("head", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_LENGTH);
}

static void test_switching(void **state)
{
	(void)state;
	assert_int_equal(decide("GET", "HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_NONE);
	assert_true(fr.flags & H1C_FRAMING_SWITCHED);
	assert_false(fr.flags & H1C_FRAMING_INTERIM);
	assert_int_equal(fr.keep_alive, 0);
	assert_int_equal(decide("CONNECT", "HTTP/1.1 204 OK\r\n\r\n", NULL), 0);
	assert_true(fr.flags & H1C_FRAMING_SWITCHED);
	assert_int_equal(decide("CONNECT", "HTTP/1.1 403 No\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_false(fr.flags & H1C_FRAMING_SWITCHED);
	assert_int_equal(fr.kind, H1C_FRAMING_LENGTH);
}

static void test_precedence(void **state)
{
	(void)state;
	/* Transfer-Encoding over Content-Length, and no reuse. */
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_CHUNKED);
	assert_true(fr.flags & H1C_FRAMING_TE_AND_CL);
	assert_int_equal(fr.keep_alive, 0);
	/* ... even when the Content-Length is garbage. */
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: zz\r\nTransfer-Encoding: chunked\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_CHUNKED);
	/* Content-Length over byteranges. */
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges; boundary=x\r\nContent-Length: 9\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_LENGTH);
	assert_int_equal(fr.content_length, 9);
	/* byteranges over close. */
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges;boundary=\"q r\"\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_BYTERANGES);
	assert_int_equal(fr.boundary_len, 3);
	assert_memory_equal(fr.boundary, "q r", 3);
	assert_int_equal(fr.keep_alive, 1);
	/* Other multipart types do not delimit themselves. */
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_CLOSE);
	assert_int_equal(fr.keep_alive, 0);
	/* Unknown final coding: read to close. */
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_CLOSE);
	assert_int_equal(fr.keep_alive, 0);
}

static void test_content_length_values(void **state)
{
	(void)state;
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", NULL), 0);
	assert_true(fr.content_length == UINT64_MAX);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", NULL),
	                 H1C_ECONTENTLENGTH);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n", NULL), 0);
	assert_int_equal(fr.content_length, 7);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n", NULL),
	                 H1C_ECLCONFLICT);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: \"7\"\r\n\r\n", NULL),
	                 H1C_ECONTENTLENGTH);
}

static void test_keep_alive_verdict(void **state)
{
	struct h1c_options via = {0};
	(void)state;
	via.flags = H1C_OPT_VIA_PROXY;
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 1);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 0);
	assert_true(fr.flags & H1C_FRAMING_CLOSE_TOKEN);
	/* close wins over keep-alive. */
	assert_int_equal(decide("GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 0);
	assert_int_equal(decide("GET", "HTTP/1.0 200 OK\r\nConnection: KEEP-ALIVE\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 1);
	/* "closed" and "keep-alive-ish" are other tokens. */
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 1);
	assert_int_equal(decide("GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive-ish\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 0);
	assert_int_equal(decide("GET", "HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n", &via), 0);
	assert_int_equal(fr.keep_alive, 1);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 1);
	/* 204 and 304 keep the connection; a HEAD too. */
	assert_int_equal(decide("GET", "HTTP/1.1 304 Not Modified\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 1);
	assert_int_equal(decide("HEAD", "HTTP/1.0 200 OK\r\n\r\n", NULL), 0);
	assert_int_equal(fr.keep_alive, 0);
}

static void test_keep_alive_hints(void **state)
{
	(void)state;
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.ka_timeout, 5);
	assert_int_equal(fr.ka_max, 100);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nKeep-Alive: MAX = \"7\" ,foo=bar, Timeout=x\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.ka_timeout, -1);
	assert_int_equal(fr.ka_max, 7);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.ka_timeout, -1);
	assert_int_equal(fr.ka_max, -1);
	assert_int_equal(decide("GET", "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=99999999999999\r\nContent-Length: 0\r\n\r\n", NULL), 0);
	assert_int_equal(fr.ka_timeout, INT32_MAX);
}

static void test_boundary_rules(void **state)
{
	(void)state;
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges; charset=x\r\n\r\n", NULL),
	                 H1C_EBYTERANGES);
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges; boundary=\"\"\r\n\r\n", NULL),
	                 H1C_EBYTERANGES);
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges; boundary=\"a\\b\"\r\n\r\n", NULL),
	                 H1C_EBYTERANGES);
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byterangesX; boundary=a\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_CLOSE);
	assert_int_equal(decide("GET", "HTTP/1.1 206 P\r\nContent-Type: multipart/byteranges; a=b; boundary=zz\r\n\r\n", NULL), 0);
	assert_int_equal(fr.kind, H1C_FRAMING_BYTERANGES);
	assert_memory_equal(fr.boundary, "zz", 2);
}

static void test_framing_names(void **state)
{
	(void)state;
	assert_string_equal(h1c_framing_name(H1C_FRAMING_NONE), "none");
	assert_string_equal(h1c_framing_name(H1C_FRAMING_CHUNKED), "chunked");
	assert_string_equal(h1c_framing_name(H1C_FRAMING_LENGTH), "length");
	assert_string_equal(h1c_framing_name(H1C_FRAMING_BYTERANGES), "byteranges");
	assert_string_equal(h1c_framing_name(H1C_FRAMING_CLOSE), "close");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_switching),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_content_length_values),
		cmocka_unit_test(test_keep_alive_verdict),
		cmocka_unit_test(test_keep_alive_hints),
		cmocka_unit_test(test_boundary_rules),
		cmocka_unit_test(test_framing_names),
	};
	return cmocka_run_group_tests_name("framing", tests, NULL, NULL);
}
