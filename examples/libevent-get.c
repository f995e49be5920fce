/*
 * libevent-get - the asynchronous API on a libevent 2 event_base, through
 * the adapter adapters/h1c-libevent.h (libevent is a dependency of this
 * example and the adapter only).
 *
 *   libevent-get [-p DEPTH] URL...
 *
 * Prints "URL STATUS BYTES" or "URL error: MESSAGE" per URL.
 */
#include "../adapters/h1c-libevent.h"
#include "fetch-list.h"

static void stop(void *arg)
{
	event_base_loopbreak((struct event_base *)arg);
}

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_libevent *a;
	struct event_base *base;
	struct fetch *f;
	int first = fetch_args(argc, argv, &co), queued;

	if (!first) {
		fprintf(stderr, "usage: libevent-get [-p DEPTH] URL...\n");
		return 2;
	}
	base = event_base_new();
	c = h1c_client_new(&co);
	a = base && c ? h1c_libevent_attach(c, base, stop, base) : NULL;
	f = a ? fetch_list(c, argv + first, argc - first, &queued) : NULL;
	if (!f)
		return 1;
	if (queued)
		event_base_dispatch(base);
	h1c_libevent_detach(a);
	h1c_client_free(c);
	event_base_free(base);
	free(f);
	return 0;
}
