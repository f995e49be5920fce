/*
 * common.h - what every end-to-end benchmark client reports: one JSON line
 * with the rate, the client's CPU time per request (user + system, from
 * getrusage) and its peak RSS.
 */
#ifndef H1C_BENCH_E2E_COMMON_H
#define H1C_BENCH_E2E_COMMON_H

#include <stdio.h>
#include <sys/resource.h>

#include "../measure.h"

static long e2e_maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Prints the result line; extra is more JSON members (may be ""). */
static void e2e_report(const char *client, int depth, int conns, long n, double secs, double cpu,
                       const char *extra)
{
	printf("{\"client\":\"%s\",\"depth\":%d,\"conns\":%d,\"requests\":%ld,\"seconds\":%.3f,"
	       "\"rps\":%.0f,\"cpu_us_per_req\":%.2f,\"max_rss_kb\":%ld%s%s}\n",
	       client, depth, conns, n, secs, (double)n / secs, cpu * 1e6 / (double)n,
	       e2e_maxrss_kb(), *extra ? "," : "", extra);
	fflush(stdout);
}

#endif
