/*
 * test_body.c - the body decoders (body.c) used directly, without the
 * reader: chunked, length, close, trailers, and bad arguments.
 */
#include "testutil.h"

/* For the bad-argument checks of the decision beside the decoders'. */
static struct h1c_response resp;
static struct h1c_framing fr;

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
		cmocka_unit_test(test_chunked_decoder_direct),
		cmocka_unit_test(test_length_decoder_and_eof),
		cmocka_unit_test(test_close_decoder),
		cmocka_unit_test(test_trailers_without_array),
		cmocka_unit_test(test_decoder_bad_arguments),
	};
	return cmocka_run_group_tests_name("body", tests, NULL, NULL);
}
