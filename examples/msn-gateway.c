/*
 * msn-gateway - one MSN Messenger HTTP gateway session from the command
 * line: MSNP commands read from standard input (a payload command's line
 * followed by its payload bytes) are sent in order; every command received
 * is written to standard output exactly as received (line, then payload).
 * After standard input ends the session keeps polling until the server
 * closes it (exit 0) or the timeout passes (exit 1); a gateway error exits
 * 1 with a message on standard error.
 *
 *   msn-gateway --gateway HOST:PORT [--proxy HOST:PORT] [--server NS|SB]
 *               [--ip TARGET] [--poll-ms N] [--batch] [--timeout MS]
 *
 * See msn-gateway(1). Uses only the public API, with its own poll(2) loop
 * that watches standard input beside the client's sockets.
 */
#include <h1c.h>
#include <h1c_msngw.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct state {
	int ended, err;
	struct h1c_msngw *s;
};

static void on_command(void *user, const char *line, size_t line_len, const char *payload,
                       size_t payload_len)
{
	(void)user;
	fwrite(line, 1, line_len, stdout);
	fwrite(payload, 1, payload_len, stdout);
	fflush(stdout);
}

static void on_unsure(void *user, const char *data, size_t len)
{
	(void)user;
	fprintf(stderr, "msn-gateway: the connection broke; this may not have arrived: %.*s\n",
	        (int)strcspn(data, "\r\n") < (int)len ? (int)strcspn(data, "\r\n") : (int)len, data);
}

static void on_end(void *user, int err)
{
	struct state *st = user;

	st->ended = 1;
	st->err = err;
}

static void usage(void)
{
	fputs("usage: msn-gateway --gateway HOST:PORT [--proxy HOST:PORT] [--server NS|SB]\n"
	      "                   [--ip TARGET] [--poll-ms N] [--batch] [--timeout MS]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct h1c_msngw_callbacks cb = {
		.size = sizeof(cb),
		.on_command = on_command,
		.on_unsure = on_unsure,
		.on_end = on_end,
	};
	struct h1c_client_options co;
	struct h1c_msngw_options mo;
	struct h1c_client *c;
	struct state st;
	char *in = NULL;
	size_t in_len = 0, in_cap = 0;
	long timeout = 30000;
	long long eof_at = -1;
	int i, stdin_open = 1;

	memset(&co, 0, sizeof(co));
	memset(&mo, 0, sizeof(mo));
	for (i = 1; i < argc && argv[i]; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--gateway") == 0 && v)
			mo.gateway = argv[++i];
		else if (strcmp(argv[i], "--proxy") == 0 && v)
			co.proxy = argv[++i];
		else if (strcmp(argv[i], "--server") == 0 && v)
			mo.server = argv[++i];
		else if (strcmp(argv[i], "--ip") == 0 && v)
			mo.ip = argv[++i];
		else if (strcmp(argv[i], "--poll-ms") == 0 && v)
			mo.poll_ms = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			mo.batch = 1;
		else if (strcmp(argv[i], "--timeout") == 0 && v)
			timeout = strtol(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!mo.gateway || timeout <= 0)
		usage();
	c = h1c_client_new(&co);
	if (!c) {
		fprintf(stderr, "msn-gateway: bad proxy or out of memory\n");
		return 2;
	}
	memset(&st, 0, sizeof(st));
	st.s = h1c_msngw_open(c, &mo, &cb, &st);
	if (!st.s) {
		fprintf(stderr, "msn-gateway: bad --gateway, --server or --ip\n");
		h1c_client_free(c);
		return 2;
	}
	while (!st.ended) {
		struct h1c_watch w[64];
		struct pollfd p[65];
		size_t n = h1c_client_watches(c, w, 64), k, np = 0;
		int wait = h1c_client_timeout(c), rc;

		if (n > 64)
			n = 64;
		for (k = 0; k < n; k++, np++) {
			p[np].fd = w[k].fd;
			p[np].events = (short)(((w[k].events & H1C_READ) ? POLLIN : 0) |
			                       ((w[k].events & H1C_WRITE) ? POLLOUT : 0));
			p[np].revents = 0;
		}
		if (stdin_open) {
			p[np].fd = 0;
			p[np].events = POLLIN;
			p[np].revents = 0;
			np++;
		} else {
			/* After standard input: the timeout runs. */
			struct timespec ts;
			long long now, left;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			if (eof_at < 0)
				eof_at = now;
			left = eof_at + timeout - now;
			if (left <= 0) {
				fprintf(stderr, "msn-gateway: timed out waiting for the session to close\n");
				free(in);
				h1c_msngw_free(st.s);
				h1c_client_free(c);
				return 1;
			}
			if (wait < 0 || wait > left)
				wait = (int)left;
		}
		rc = poll(p, (nfds_t)np, wait);
		if (rc < 0 && errno != EINTR)
			break;
		for (k = 0; k < n; k++)
			if (p[k].revents)
				h1c_client_on_ready(c, p[k].fd,
				                    ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) ? H1C_READ : 0u) |
				                        ((p[k].revents & (POLLOUT | POLLHUP | POLLERR)) ? H1C_WRITE
				                                                                       : 0u));
		if (stdin_open && p[np - 1].revents) {
			ssize_t r;
			long len;
			if (in_len + 65536 > in_cap) {
				char *more = realloc(in, in_len + 65536);
				if (!more) {
					free(in);
					return 1;
				}
				in = more;
				in_cap = in_len + 65536;
			}
			r = read(0, in + in_len, in_cap - in_len);
			if (r <= 0)
				stdin_open = 0;
			else
				in_len += (size_t)r;
			/* Every whole command, in order. */
			while ((len = h1c_msngw_command_len(st.s, in, in_len)) > 0) {
				int err = h1c_msngw_send(st.s, in, (size_t)len);
				if (err)
					fprintf(stderr, "msn-gateway: not sent: %s\n", h1c_strerror(err));
				memmove(in, in + len, in_len - (size_t)len);
				in_len -= (size_t)len;
			}
			if (len < 0 || (!stdin_open && in_len)) {
				fprintf(stderr, "msn-gateway: malformed command on standard input\n");
				in_len = 0;
			}
		}
		h1c_client_on_timeout(c);
	}
	free(in);
	if (st.err) {
		const char *reason;
		int status = h1c_msngw_http_status(st.s, &reason);
		if (status)
			fprintf(stderr, "msn-gateway: %s (HTTP %d %s)\n", h1c_strerror(st.err), status,
			        reason);
		else
			fprintf(stderr, "msn-gateway: %s\n", h1c_strerror(st.err));
	}
	h1c_msngw_free(st.s);
	h1c_client_free(c);
	return st.err || !st.ended ? 1 : 0;
}
