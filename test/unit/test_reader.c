/*
 * test_reader.c - the response-stream reader: event order, views that
 * outlive the body, EOF handling, what follows a final response.
 */
#include "testutil.h"

static struct h1c_header hs[64];

static void test_head_views_survive_trailers(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "1\r\nx\r\n0\r\nT1: a\r\nT2: b\r\n\r\n";
	struct h1c_reader rd;
	struct h1c_event ev;
	char *g = guarded(in, sizeof(in) - 1);
	size_t pos = 0, len = sizeof(in) - 1;
	int n, seen = 0;
	(void)state;
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	do {
		n = h1c_reader_feed(&rd, g + pos, len - pos, "GET", &ev);
		assert_true(n >= 0);
		pos += (size_t)n;
		if (ev.type == H1C_EV_TRAILERS) {
			assert_int_equal(ev.num_fields, 2);
			assert_ptr_equal(ev.fields, hs + 2);
			seen = 1;
		}
	} while (ev.type != H1C_EV_DONE);
	assert_true(seen);
	assert_int_equal(rd.resp.num_headers, 2);
	assert_memory_equal(rd.resp.headers[0].name, "A", 1);
	assert_memory_equal(rd.resp.headers[1].value, "chunked", 7);
	assert_int_equal(pos, len);
	assert_int_equal(h1c_reader_eof(&rd, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, H1C_EV_NEED_MORE);
}

/* Trailers that do not fit next to the head's fields are an error. */
static void test_trailer_room(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\nU: b\r\n\r\n";
	struct h1c_reader rd;
	struct h1c_event ev;
	char *g = guarded(in, sizeof(in) - 1);
	int n;
	(void)state;
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 2), 0);
	n = h1c_reader_feed(&rd, g, sizeof(in) - 1, "GET", &ev);
	assert_true(n > 0);
	assert_int_equal(ev.type, H1C_EV_HEAD);
	assert_int_equal(h1c_reader_feed(&rd, g + n, sizeof(in) - 1 - (size_t)n, "GET", &ev),
	                 H1C_EHEADERCOUNT);
}

static void test_method_read_only_at_head(void **state)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	struct h1c_reader rd;
	struct h1c_event ev;
	char *g = guarded(in, sizeof(in) - 1);
	int n;
	(void)state;
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	n = h1c_reader_feed(&rd, g, sizeof(in) - 1, "GET", &ev);
	assert_int_equal(ev.type, H1C_EV_HEAD);
	assert_int_equal(rd.framing.kind, H1C_FRAMING_LENGTH);
	/* The method passed while the body is read does not matter. */
	assert_int_equal(h1c_reader_feed(&rd, g + n, 2, "HEAD", &ev), 2);
	assert_int_equal(ev.type, H1C_EV_DATA);
	assert_int_equal(h1c_reader_feed(&rd, g + n + 2, 0, "HEAD", &ev), 0);
	assert_int_equal(ev.type, H1C_EV_DONE);
	/* NULL method means GET. */
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	assert_int_equal(h1c_reader_feed(&rd, g, sizeof(in) - 1, NULL, &ev), n);
	assert_int_equal(rd.framing.kind, H1C_FRAMING_LENGTH);
}

static void test_eof_states(void **state)
{
	struct h1c_reader rd;
	struct h1c_event ev;
	(void)state;
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	assert_int_equal(h1c_reader_eof(&rd, NULL, 0, &ev), 0);
	assert_int_equal(ev.type, H1C_EV_NEED_MORE);
	assert_int_equal(h1c_reader_feed(&rd, guarded("HTTP/1.1 2", 10), 10, "GET", &ev), 0);
	assert_int_equal(h1c_reader_eof(&rd, guarded("HTTP/1.1 2", 10), 10, &ev), H1C_ETRUNCATED);
	/* A fault in the unfinished head is reported rather than the cut. */
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	assert_int_equal(h1c_reader_feed(&rd, guarded("HTTP/1.1 2", 10), 10, "GET", &ev), 0);
	assert_int_equal(h1c_reader_feed(&rd, guarded("HTTP/1.1 2\xff", 11), 11, "GET", &ev), 0);
	assert_int_equal(h1c_reader_eof(&rd, guarded("HTTP/1.1 2\xff", 11), 11, &ev), H1C_ESTATUS);
}

static void test_interim_count_resets(void **state)
{
	/* Two 1xx before each of two finals, with a bound of 2: fine. */
	static const char in[] = "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 102 B\r\n\r\nHTTP/1.1 204 C\r\n\r\n"
	                         "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 103 B\r\n\r\nHTTP/1.1 204 C\r\n\r\n";
	struct h1c_options o = {0};
	(void)state;
	o.max_interim = 2;
	expect_stream(in, sizeof(in) - 1, NULL, &o,
	              "[100 v1.1 none body= ka=1][102 v1.1 none body= ka=1][204 v1.1 none body= ka=1]"
	              "[100 v1.1 none body= ka=1][103 v1.1 none body= ka=1][204 v1.1 none body= ka=1]");
}

static void test_bad_arguments(void **state)
{
	struct h1c_reader rd;
	struct h1c_event ev;
	(void)state;
	assert_int_equal(h1c_reader_init(&rd, NULL, NULL, 0), H1C_EINVAL);
	assert_int_equal(h1c_reader_init(NULL, NULL, hs, 64), H1C_EINVAL);
	assert_int_equal(h1c_reader_init(&rd, NULL, hs, 64), 0);
	assert_int_equal(h1c_reader_feed(&rd, NULL, 1, "GET", &ev), H1C_EINVAL);
	assert_int_equal(h1c_reader_feed(&rd, NULL, 0, "GET", NULL), H1C_EINVAL);
	assert_int_equal(h1c_reader_eof(NULL, NULL, 0, &ev), H1C_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_views_survive_trailers),
		cmocka_unit_test(test_trailer_room),
		cmocka_unit_test(test_method_read_only_at_head),
		cmocka_unit_test(test_eof_states),
		cmocka_unit_test(test_interim_count_resets),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
