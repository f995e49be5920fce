/*
 * libuv-get - the asynchronous API on a libuv loop, through the adapter
 * adapters/h1c-libuv.h (libuv is a dependency of this example and the
 * adapter only).
 *
 *   libuv-get [-p DEPTH] URL...
 *
 * Prints "URL STATUS BYTES" or "URL error: MESSAGE" per URL. uv_run()
 * returns by itself once the last request has ended: the adapter stops
 * holding the loop when nothing is pending (no on_idle needed).
 */
#include "../adapters/h1c-libuv.h"
#include "fetch-list.h"

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_libuv *a;
	uv_loop_t loop;
	struct fetch *f;
	int first = fetch_args(argc, argv, &co), queued;

	if (!first) {
		fprintf(stderr, "usage: libuv-get [-p DEPTH] URL...\n");
		return 2;
	}
	if (uv_loop_init(&loop) != 0)
		return 1;
	c = h1c_client_new(&co);
	a = c ? h1c_libuv_attach(c, &loop, NULL, NULL) : NULL;
	f = a ? fetch_list(c, argv + first, argc - first, &queued) : NULL;
	if (!f)
		return 1;
	if (queued)
		uv_run(&loop, UV_RUN_DEFAULT);
	h1c_libuv_detach(a);
	h1c_client_free(c);
	uv_run(&loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
	free(f);
	return uv_loop_close(&loop) == 0 ? 0 : 1;
}
