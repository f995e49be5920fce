/*
 * libevent-get - the asynchronous API on a libevent 2 event_base, through
 * the adapter adapters/h1c-libevent.h (libevent is a dependency of this
 * example and the adapter only).
 *
 *   libevent-get [-p DEPTH] URL...
 *
 * Prints "URL STATUS BYTES" or "URL error: MESSAGE" per URL.
 * event_base_dispatch() returns by itself once the last request has ended:
 * the adapter takes its events out of the base when nothing is pending (no
 * on_idle needed).
 */
#include "../adapters/h1c-libevent.h"
#include "fetch-list.h"

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
	a = base && c ? h1c_libevent_attach(c, base, NULL, NULL) : NULL;
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
