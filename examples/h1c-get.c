/*
 * h1c-get - fetches URLs in order over kept-alive connections.
 *
 *   h1c-get [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file FILE]
 *           [-o FILE] [-s] [-i] [--proxy HOST:PORT] [--timeout MS]
 *           [--expect-threshold BYTES] [--progress] [--stats] URL...
 *
 * See h1c-get(1). Uses only the public API.
 */
#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADERS 64

struct out {
	FILE *f;
	int include;
	int progress;
	unsigned long long got;
	unsigned long long next_report;
	const char *url;
	int failed;
};

static int on_data(void *user, const char *data, size_t len)
{
	struct out *o = user;

	if (fwrite(data, 1, len, o->f) != len) {
		o->failed = 1;
		return 1;
	}
	o->got += len;
	if (o->progress && o->got >= o->next_report) {
		fprintf(stderr, "\r%s: %llu bytes", o->url, o->got);
		o->next_report = o->got + (1u << 20);
	}
	return 0;
}

static void print_head(FILE *f, const struct h1c_result *res);

static int on_head(void *user, const struct h1c_result *res)
{
	struct out *o = user;

	if (o->include)
		print_head(o->f, res);
	return 0;
}

static long file_read(void *user, void *buf, size_t len)
{
	FILE *f = user;
	size_t n = fread(buf, 1, len, f);

	if (n == 0 && ferror(f))
		return -1;
	return (long)n;
}

static void usage(void)
{
	fputs("usage: h1c-get [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file FILE]\n"
	      "               [-o FILE] [-s] [-i] [--proxy HOST:PORT] [--timeout MS]\n"
	      "               [--expect-threshold BYTES] [--progress] [--stats] URL...\n",
	      stderr);
	exit(2);
}

/* Writes the head of res as it could have come on the wire. */
static void print_head(FILE *f, const struct h1c_result *res)
{
	size_t i;

	fprintf(f, "HTTP/1.%d %03d %.*s\r\n", res->version_minor, res->status, (int)res->reason_len,
	        res->reason);
	for (i = 0; i < res->num_headers; i++)
		fprintf(f, "%.*s: %.*s\r\n", (int)res->headers[i].name_len, res->headers[i].name,
		        (int)res->headers[i].value_len, res->headers[i].value);
	fputs("\r\n", f);
}

int main(int argc, char **argv)
{
	struct h1c_client_options co;
	struct h1c_header hdr[MAX_HEADERS];
	struct h1c_request rq;
	struct h1c_client *c;
	struct h1c_stats st;
	struct out o;
	const char *method = NULL, *data = NULL, *data_file = NULL, *outfile = NULL;
	size_t nh = 0;
	int silent = 0, include = 0, stats = 0, progress = 0, i, rc = 0;
	long timeout = 0;

	memset(&co, 0, sizeof(co));
	for (i = 1; i < argc && argv[i] && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-X") == 0 && v) {
			method = v;
			i++;
		} else if (strcmp(a, "-H") == 0 && v) {
			const char *colon = strchr(v, ':');
			if (!colon || nh == MAX_HEADERS)
				usage();
			hdr[nh].name = v;
			hdr[nh].name_len = (size_t)(colon - v);
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			hdr[nh].value = colon;
			hdr[nh].value_len = strlen(colon);
			nh++;
			i++;
		} else if (strcmp(a, "-d") == 0 && v) {
			data = v;
			i++;
		} else if (strcmp(a, "--data-file") == 0 && v) {
			data_file = v;
			i++;
		} else if (strcmp(a, "-o") == 0 && v) {
			outfile = v;
			i++;
		} else if (strcmp(a, "-s") == 0) {
			silent = 1;
		} else if (strcmp(a, "-i") == 0) {
			include = 1;
		} else if (strcmp(a, "--proxy") == 0 && v) {
			co.proxy = v;
			i++;
		} else if (strcmp(a, "--timeout") == 0 && v) {
			timeout = strtol(v, NULL, 10);
			if (timeout <= 0 || timeout > 86400000L)
				usage();
			i++;
		} else if (strcmp(a, "--expect-threshold") == 0 && v) {
			co.expect_threshold = (size_t)strtoull(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--progress") == 0) {
			progress = 1;
		} else if (strcmp(a, "--stats") == 0) {
			stats = 1;
		} else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else {
			usage();
		}
	}
	if (i == argc || (data && data_file))
		usage();
	if (timeout) {
		co.connect_timeout_ms = (int)timeout;
		co.head_timeout_ms = (int)timeout;
		co.idle_timeout_ms = (int)timeout;
	}
	c = h1c_client_new(&co);
	if (!c) {
		fprintf(stderr, "h1c-get: bad proxy or out of memory\n");
		return 2;
	}
	memset(&o, 0, sizeof(o));
	if (outfile && strcmp(outfile, "-") == 0)
		outfile = NULL;
	o.f = outfile ? fopen(outfile, "wb") : stdout;
	if (!o.f) {
		perror(outfile);
		h1c_client_free(c);
		return 2;
	}
	o.progress = progress && !silent && isatty(2);
	o.include = include;

	for (; i < argc; i++) {
		struct h1c_result res;
		FILE *df = NULL;
		int err;

		memset(&rq, 0, sizeof(rq));
		rq.method = method ? method : (data || data_file) ? "POST" : "GET";
		rq.url = argv[i];
		rq.headers = hdr;
		rq.num_headers = nh;
		if (data) {
			rq.body = data;
			rq.body_len = strlen(data);
		} else if (data_file) {
			struct stat sb;
			df = fopen(data_file, "rb");
			if (!df || fstat(fileno(df), &sb) != 0) {
				perror(data_file);
				rc = 1;
				if (df)
					fclose(df);
				continue;
			}
			rq.body_read = file_read;
			rq.body_user = df;
			rq.body_size = S_ISREG(sb.st_mode) ? (long long)sb.st_size : -1;
		}
		rq.on_head = on_head;
		rq.on_data = on_data;
		rq.data_user = &o;
		o.url = argv[i];
		o.got = 0;
		o.next_report = 1u << 20;
		err = h1c_client_fetch(c, &rq, &res);
		if (df)
			fclose(df);
		if (o.progress && o.got >= (1u << 20))
			fputc('\n', stderr);
		if (err) {
			if (!silent)
				fprintf(stderr, "h1c-get: %s: %s\n", argv[i], h1c_strerror(err));
			rc = 1;
			continue;
		}
		h1c_result_free(&res);
	}
	fflush(o.f);
	if (o.failed) {
		fprintf(stderr, "h1c-get: write error\n");
		rc = 1;
	}
	if (stats) {
		h1c_client_stats(c, &st);
		fprintf(stderr,
		        "{\"requests\":%lu,\"responses\":%lu,\"errors\":%lu,\"connections_opened\":%lu,"
		        "\"connections_reused\":%lu,\"replayed\":%lu}\n",
		        st.requests, st.responses, st.errors, st.connections_opened,
		        st.connections_reused, st.replayed);
	}
	if (outfile)
		fclose(o.f);
	h1c_client_free(c);
	return rc;
}
