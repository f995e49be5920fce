/*
 * curl.c - the end-to-end benchmark's libcurl clients: N GETs of one URL,
 * either one easy handle reused in a loop (CONNS 0) or the multi interface
 * with CONNS transfers at a time and at most CONNS connections.
 *
 *   e2e-curl URL N CONNS
 */
#include <curl/curl.h>

#include <stdlib.h>
#include <string.h>

#include "common.h"

static size_t sink(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	*(long long *)u += (long long)(size * n);
	return size * n;
}

static long long got;

static CURL *easy(const char *url)
{
	CURL *e = curl_easy_init();

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	return e;
}

int main(int argc, char **argv)
{
	const char *url;
	long n, bad = 0, i;
	int conns;
	double t0, c0;
	char extra[64];

	if (argc != 4) {
		fprintf(stderr, "usage: e2e-curl URL N CONNS\n");
		return 2;
	}
	url = argv[1];
	n = atol(argv[2]);
	conns = atoi(argv[3]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t0 = bench_now();
	c0 = bench_cpu();
	if (conns == 0) {
		CURL *e = easy(url);
		for (i = 0; i < n; i++) {
			long code = 0;
			if (curl_easy_perform(e) != CURLE_OK)
				bad++;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			if (code != 200)
				bad++;
		}
		curl_easy_cleanup(e);
	} else {
		CURLM *m = curl_multi_init();
		long started = 0, done = 0;
		int running = 0;
		curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
		curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
		for (i = 0; i < conns && started < n; i++, started++)
			curl_multi_add_handle(m, easy(url));
		while (done < n) {
			CURLMsg *msg;
			int left;
			curl_multi_perform(m, &running);
			while ((msg = curl_multi_info_read(m, &left))) {
				CURL *e = msg->easy_handle;
				long code = 0;
				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
				if (msg->data.result != CURLE_OK || code != 200)
					bad++;
				done++;
				curl_multi_remove_handle(m, e);
				if (started < n) {
					/* The same handle again: its connection is reused. */
					curl_multi_add_handle(m, e);
					started++;
				} else {
					curl_easy_cleanup(e);
				}
			}
			if (done < n)
				curl_multi_poll(m, NULL, 0, 1000, NULL);
		}
		curl_multi_cleanup(m);
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld", bad);
	e2e_report(conns ? "curl-multi" : "curl-easy", 1, conns ? conns : 1, n, bench_now() - t0,
	           bench_cpu() - c0, extra);
	curl_global_cleanup();
	return bad ? 1 : 0;
}
