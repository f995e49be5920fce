/*
 * test_framing.c - the message-length decision, the keep-alive verdict and
 * the body decoders used directly (without the reader).
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

/* The chunked decoder on its own: data views, bytes used, the next
 * response's first byte left alone. */
static void test_chunked_decoder_direct(void **state)
{
	static const char body[] = "4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nT: v\r\n\r\nHTTP/1.1";
	struct h1c_framing f = {0};
	struct h1c_body dec;
	struct h1c_event ev;
	struct h1c_header tf[4];
	char out[32];
	size_t olen = 0, pos = 0, len = sizeof(body) - 1;
	char *g = guarded(body, len);
	int n, trailers = 0;
	(void)state;
	f.kind = H1C_FRAMING_CHUNKED;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, tf, 4), 0);
	for (;;) {
		n = h1c_body_decode(&dec, g + pos, len - pos, &ev);
		assert_true(n >= 0);
		pos += (size_t)n;
		if (ev.type == H1C_EV_DATA) {
			memcpy(out + olen, ev.data, ev.len);
			olen += ev.len;
		} else if (ev.type == H1C_EV_TRAILERS) {
			assert_int_equal(ev.num_fields, 1);
			assert_memory_equal(ev.fields[0].value, "v", 1);
			trailers++;
		} else if (ev.type == H1C_EV_DONE) {
			break;
		} else {
			fail_msg("unexpected event %d", ev.type);
		}
	}
	assert_int_equal(olen, 9);
	assert_memory_equal(out, "Wikipedia", 9);
	assert_int_equal(trailers, 1);
	assert_int_equal(len - pos, 8); /* "HTTP/1.1" is the next response's */
	assert_int_equal(h1c_body_eof(&dec), 0);
	assert_int_equal(h1c_body_lenient(&dec), 0);
}

static void test_length_decoder_and_eof(void **state)
{
	struct h1c_framing f = {0};
	struct h1c_body dec;
	struct h1c_event ev;
	(void)state;
	f.kind = H1C_FRAMING_LENGTH;
	f.content_length = 3;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded("ab", 2), 2, &ev), 2);
	assert_int_equal(ev.type, H1C_EV_DATA);
	assert_int_equal(h1c_body_decode(&dec, guarded("", 0), 0, &ev), 0);
	assert_int_equal(ev.type, H1C_EV_NEED_MORE);
	assert_int_equal(h1c_body_eof(&dec), H1C_ETRUNCATED);
	assert_int_equal(h1c_body_decode(&dec, guarded("cdef", 4), 4, &ev), 1);
	assert_int_equal(h1c_body_decode(&dec, guarded("def", 3), 3, &ev), 0);
	assert_int_equal(ev.type, H1C_EV_DONE);
	/* A length beyond size_t on 32-bit hosts is still consumed in pieces. */
	f.content_length = UINT64_MAX;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded("xyz", 3), 3, &ev), 3);
	assert_int_equal(ev.type, H1C_EV_DATA);
}

static void test_close_decoder(void **state)
{
	struct h1c_framing f = {0};
	struct h1c_body dec;
	struct h1c_event ev;
	(void)state;
	f.kind = H1C_FRAMING_CLOSE;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded("HTTP/1.1 200", 12), 12, &ev), 12);
	assert_int_equal(ev.type, H1C_EV_DATA);
	assert_int_equal(h1c_body_eof(&dec), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded("x", 1), 1, &ev), 0);
	assert_int_equal(ev.type, H1C_EV_DONE);
}

/* Trailers parsed with no array are checked but not reported. */
static void test_trailers_without_array(void **state)
{
	struct h1c_framing f = {0};
	struct h1c_body dec;
	struct h1c_event ev;
	static const char ok[] = "0\r\nA: 1\r\nB: 2\r\n\r\n";
	static const char bad[] = "0\r\nA 1\r\n\r\n";
	(void)state;
	f.kind = H1C_FRAMING_CHUNKED;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded(ok, sizeof(ok) - 1), sizeof(ok) - 1, &ev),
	                 (int)sizeof(ok) - 1);
	assert_int_equal(ev.type, H1C_EV_TRAILERS);
	assert_int_equal(ev.num_fields, 0);
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, guarded(bad, sizeof(bad) - 1), sizeof(bad) - 1, &ev),
	                 H1C_ETRAILER);
}

static void test_decoder_bad_arguments(void **state)
{
	struct h1c_framing f = {0};
	struct h1c_body dec;
	struct h1c_event ev;
	(void)state;
	f.kind = H1C_FRAMING_BYTERANGES; /* without a boundary */
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), H1C_EINVAL);
	f.kind = (enum h1c_framing_kind)42;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), H1C_EINVAL);
	f.kind = H1C_FRAMING_LENGTH;
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 3), H1C_EINVAL);
	assert_int_equal(h1c_body_init(NULL, &f, NULL, NULL, 0), H1C_EINVAL);
	assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
	assert_int_equal(h1c_body_decode(&dec, NULL, 3, &ev), H1C_EINVAL);
	{
		/* A decoder h1c_body_init() never set up (garbage): refused. */
		struct h1c_body junk;
		char b[4] = "abc";
		memset(&junk, 0x5a, sizeof(junk));
		assert_int_equal(h1c_body_decode(&junk, b, 3, &ev), H1C_EINVAL);
	}
	assert_int_equal(h1c_framing_decide(NULL, &resp, NULL, &fr), H1C_EINVAL);
	assert_int_equal(h1c_body_eof(NULL), H1C_EINVAL);
	assert_string_equal(h1c_framing_name((enum h1c_framing_kind)42), "unknown");
	assert_int_equal(h1c_body_lenient(NULL), 0);
	{
		/* A length beyond INT32_MAX is taken in int-sized steps; only
		 * what the body still lacks is read. */
		char three[3] = {'a', 'b', 'c'};
		f.kind = H1C_FRAMING_LENGTH;
		f.content_length = 3;
		assert_int_equal(h1c_body_init(&dec, &f, NULL, NULL, 0), 0);
		assert_int_equal(h1c_body_decode(&dec, three, (size_t)INT32_MAX + 10, &ev), 3);
		assert_int_equal(ev.type, H1C_EV_DATA);
		assert_int_equal(ev.len, 3);
	}
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
		cmocka_unit_test(test_chunked_decoder_direct),
		cmocka_unit_test(test_length_decoder_and_eof),
		cmocka_unit_test(test_close_decoder),
		cmocka_unit_test(test_trailers_without_array),
		cmocka_unit_test(test_decoder_bad_arguments),
	};
	return cmocka_run_group_tests_name("framing", tests, NULL, NULL);
}
