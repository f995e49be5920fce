/*
 * ka_idle.c - two fetches of one URL with an idle gap between them, for
 * the scenarios where the gap is the point: a server that closes idle
 * connections (nginx keepalive_timeout, the origin's --idle-close). Prints
 * both statuses and the client's counters as JSON.
 *
 *   ka_idle URL GAP_MS [METHOD]
 */
#define _POSIX_C_SOURCE 200809L
#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct h1c_client *c;
	struct h1c_request rq = {0};
	struct h1c_result r1, r2;
	struct h1c_stats st;
	struct timespec gap;
	long ms;
	int e1, e2;

	if (argc < 3)
		return 2;
	ms = atol(argv[2]);
	gap.tv_sec = ms / 1000;
	gap.tv_nsec = (ms % 1000) * 1000000L;
	c = h1c_client_new(NULL);
	if (!c)
		return 2;
	rq.url = argv[1];
	rq.method = argc > 3 ? argv[3] : "GET";
	e1 = h1c_client_fetch(c, &rq, &r1);
	nanosleep(&gap, NULL);
	e2 = h1c_client_fetch(c, &rq, &r2);
	h1c_client_stats(c, &st, sizeof(st));
	printf("{\"first\":%d,\"second\":%d,\"error\":\"%s\",\"connections_opened\":%lu,"
	       "\"replayed\":%lu}\n",
	       e1 ? e1 : r1.status, e2 ? e2 : r2.status, h1c_errname(e2 ? e2 : e1),
	       st.connections_opened, st.replayed);
	h1c_result_free(&r1);
	h1c_result_free(&r2);
	h1c_client_free(c);
	return e1 || e2;
}
