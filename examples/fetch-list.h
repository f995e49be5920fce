/*
 * fetch-list.h - what the asynchronous examples (async-get, epoll-get,
 * libevent-get, libuv-get) share: queue a list of URLs on a client, and
 * print "URL STATUS BYTES" or "URL error: MESSAGE" as each one ends.
 */
#ifndef H1C_EXAMPLE_FETCH_LIST_H
#define H1C_EXAMPLE_FETCH_LIST_H

#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetch {
	const char *url;
	int status;
	unsigned long long bytes;
};

static inline int fetch_head(void *user, const struct h1c_response *resp)
{
	((struct fetch *)user)->status = resp->status;
	return 0;
}

static inline int fetch_data(void *user, const char *data, size_t len)
{
	(void)data;
	((struct fetch *)user)->bytes += len;
	return 0;
}

/* Prints how f ended: its status and bytes, then note (may be ""), or
 * the error. */
static inline void fetch_print(const struct fetch *f, int err, const char *note)
{
	if (err)
		printf("%s error: %s\n", f->url, h1c_strerror(err));
	else
		printf("%s %d %llu%s\n", f->url, f->status, f->bytes, note);
}

static inline void fetch_done(void *user, int err, unsigned flags)
{
	(void)flags;
	fetch_print((const struct fetch *)user, err, "");
}

/* Queues urls[0..n) on c; returns the array of records (free it) and the
 * number queued in *queued, or NULL when out of memory. */
static inline struct fetch *fetch_list(struct h1c_client *c, char **urls, int n, int *queued)
{
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_head = fetch_head,
		.on_data = fetch_data,
		.on_done = fetch_done,
	};
	struct fetch *f = (struct fetch *)calloc((size_t)n, sizeof(*f));
	int i;

	*queued = 0;
	if (!f)
		return NULL;
	for (i = 0; i < n; i++) {
		struct h1c_request rq;

		memset(&rq, 0, sizeof(rq));
		rq.url = urls[i];
		f[i].url = urls[i];
		if (h1c_client_request(c, &rq, &cb, &f[i]) < 0)
			printf("%s error: refused\n", urls[i]);
		else
			(*queued)++;
	}
	return f;
}

/* Parses "[-p DEPTH] URL..." into the options; returns the index of the
 * first URL, or 0 on a usage error. */
static inline int fetch_args(int argc, char **argv, struct h1c_client_options *co)
{
	int i = 1;

	memset(co, 0, sizeof(*co));
	if (i + 1 < argc && strcmp(argv[i], "-p") == 0) {
		co->pipeline_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
		i += 2;
	}
	return i < argc ? i : 0;
}

#endif
