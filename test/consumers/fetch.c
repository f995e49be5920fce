/*
 * fetch.c - what every consumer project builds: one program that uses h1c
 * the way an application would, fetching a URL twice on one kept-alive
 * connection. Prints "VERSION STATUS BYTES CONNECTIONS" and exits 0 when
 * both answers were 200 with the same body over one connection.
 *
 *   fetch URL
 */
#include <h1c.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct h1c_client *c;
	struct h1c_request rq;
	struct h1c_result a, b;
	struct h1c_stats st;
	int ok;

	if (argc != 2) {
		fprintf(stderr, "usage: fetch URL\n");
		return 2;
	}
	c = h1c_client_new(NULL);
	if (!c)
		return 1;
	memset(&rq, 0, sizeof(rq));
	rq.url = argv[1];
	if (h1c_client_fetch(c, &rq, &a) != 0)
		return 1;
	if (h1c_client_fetch(c, &rq, &b) != 0)
		return 1;
	h1c_client_stats(c, &st, sizeof(st));
	printf("%s %d %zu %lu\n", h1c_version(), a.status, a.body_len, st.connections_opened);
	ok = a.status == 200 && b.status == 200 && a.body_len == b.body_len &&
	     memcmp(a.body, b.body, a.body_len) == 0 && st.connections_opened == 1 &&
	     strcmp(h1c_version(), H1C_VERSION_STRING) == 0;
	h1c_result_free(&a);
	h1c_result_free(&b);
	h1c_client_free(c);
	return ok ? 0 : 1;
}
