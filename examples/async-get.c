/*
 * async-get - fetches every URL given at once through the asynchronous API
 * and h1c_client_run(), and prints one line per URL as it ends:
 *
 *   URL STATUS BYTES        or        URL error: MESSAGE
 *
 *   async-get [-p DEPTH] [-c CONNS] URL...
 *
 * An example of h1c_client_request(3) and h1c_client_run(3).
 */
#include "fetch-list.h"

/* As fetch_done, and says which requests were pipelined. */
static void on_done(void *user, int err, unsigned flags)
{
	fetch_print((const struct fetch *)user, err,
	            (flags & H1C_DONE_PIPELINED) ? " (pipelined)" : "");
}

int main(int argc, char **argv)
{
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_head = fetch_head,
		.on_data = fetch_data,
		.on_done = on_done,
	};
	struct h1c_client_options co;
	struct h1c_client *c;
	struct fetch *f;
	int i = 1, n, rc = 0;

	memset(&co, 0, sizeof(co));
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-p") == 0)
			co.pipeline_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "-c") == 0)
			co.max_per_origin = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: async-get [-p DEPTH] [-c CONNS] URL...\n");
		return 2;
	}
	c = h1c_client_new(&co);
	f = calloc((size_t)(argc - i), sizeof(*f));
	if (!c || !f) {
		h1c_client_free(c);
		free(f);
		return 1;
	}
	for (n = 0; i < argc; i++, n++) {
		struct h1c_request rq;
		long long id;

		memset(&rq, 0, sizeof(rq));
		rq.url = argv[i];
		f[n].url = argv[i];
		id = h1c_client_request(c, &rq, &cb, &f[n]);
		if (id < 0) { /* refused at once: no callback will come */
			printf("%s error: %s\n", argv[i], h1c_strerror((int)id));
			rc = 1;
		}
	}
	/* Drive everything until nothing is pending. */
	while (h1c_client_run(c, -1) > 0)
		;
	h1c_client_free(c);
	free(f);
	return rc;
}
