/*
 * h1c-get - fetches URLs in order over kept-alive connections.
 *
 *   h1c-get [-X METHOD] [-H 'Name: value']... [-d DATA | --data-file FILE]
 *           [-o FILE] [-s] [-i] [--proxy HOST:PORT] [--timeout MS]
 *           [--expect-threshold BYTES] [--progress] [--stats]
 *           [--pipeline N] [--parallel M] URL...
 *
 * See h1c-get(1). Uses only the public API: h1c_client_fetch() one URL
 * after another, or, with --pipeline or --parallel, every URL queued at
 * once with h1c_client_request() and driven by h1c_client_run(), the
 * output still written in URL order.
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
	      "               [--expect-threshold BYTES] [--progress] [--stats]\n"
	      "               [--pipeline N] [--parallel M] URL...\n",
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

/* ---- every URL at once (--pipeline, --parallel) ---------------------------- */

struct job;

/* The output, written in URL order: the earliest unfinished job streams,
 * later ones are held in memory until their turn. */
struct batch {
	struct job *jobs;
	int n, next_out;
	FILE *f;
	int include, silent, failed, rc;
};

struct job {
	struct batch *b;
	int idx;
	const char *url;
	FILE *df;
	char *buf;
	size_t len, cap;
	int done, err;
};

/* Writes bytes of job j: straight out when it is its turn, else held. */
static int emit(struct job *j, const char *p, size_t n)
{
	if (j->idx == j->b->next_out) {
		if (n && fwrite(p, 1, n, j->b->f) != n) {
			j->b->failed = 1;
			return 1;
		}
		return 0;
	}
	if (j->len + n > j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 4096;
		char *q;
		while (cap < j->len + n)
			cap *= 2;
		q = realloc(j->buf, cap);
		if (!q)
			return 1;
		j->buf = q;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, p, n);
	j->len += n;
	return 0;
}

static int job_head(void *user, const struct h1c_response *r)
{
	struct job *j = user;
	char line[512];
	size_t i;
	int n;

	if (!j->b->include)
		return 0;
	n = snprintf(line, sizeof(line), "HTTP/1.%d %03d %.*s\r\n", r->version_minor, r->status,
	             (int)(r->reason_len > 400 ? 400 : r->reason_len), r->reason);
	if (emit(j, line, (size_t)n))
		return 1;
	for (i = 0; i < r->num_headers; i++)
		if (emit(j, r->headers[i].name, r->headers[i].name_len) || emit(j, ": ", 2) ||
		    emit(j, r->headers[i].value, r->headers[i].value_len) || emit(j, "\r\n", 2))
			return 1;
	return emit(j, "\r\n", 2);
}

static int job_data(void *user, const char *data, size_t len)
{
	return emit(user, data, len);
}

/* Moves the turn on past every finished job, then lets the next one
 * catch up with what it holds. */
static void advance(struct batch *b)
{
	while (b->next_out < b->n) {
		struct job *j = &b->jobs[b->next_out];
		if (j->len && fwrite(j->buf, 1, j->len, b->f) != j->len)
			b->failed = 1;
		free(j->buf);
		j->buf = NULL;
		j->len = j->cap = 0;
		if (!j->done)
			return;
		if (j->err) {
			if (!b->silent)
				fprintf(stderr, "h1c-get: %s: %s\n", j->url, h1c_strerror(j->err));
			b->rc = 1;
		}
		b->next_out++;
	}
}

static void job_done(void *user, int err, unsigned flags)
{
	struct job *j = user;

	(void)flags;
	j->done = 1;
	j->err = err;
	if (j->df)
		fclose(j->df);
	j->df = NULL;
	if (j->idx == j->b->next_out)
		advance(j->b);
}

static int file_rewind(void *user)
{
	return fseek(user, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* Queues every URL, runs the client until all have ended. */
static int run_batch(struct h1c_client *c, char **urls, int n, const struct h1c_request *tmpl,
                     const char *data_file, FILE *f, int include, int silent)
{
	static const struct h1c_callbacks cb = {NULL, job_head, job_data, NULL, job_done};
	struct batch b;
	int i;

	memset(&b, 0, sizeof(b));
	b.jobs = calloc((size_t)n, sizeof(*b.jobs));
	if (!b.jobs)
		return 1;
	b.n = n;
	b.f = f;
	b.include = include;
	b.silent = silent;
	for (i = 0; i < n; i++) {
		struct job *j = &b.jobs[i];
		struct h1c_request rq = *tmpl;
		long long id;

		j->b = &b;
		j->idx = i;
		j->url = urls[i];
		rq.url = urls[i];
		if (data_file) {
			struct stat sb;
			j->df = fopen(data_file, "rb");
			if (!j->df || fstat(fileno(j->df), &sb) != 0) {
				perror(data_file);
				j->done = 1;
				j->err = H1C_EINVAL;
				continue;
			}
			rq.body_read = file_read;
			rq.body_rewind = file_rewind;
			rq.body_user = j->df;
			rq.body_size = S_ISREG(sb.st_mode) ? (long long)sb.st_size : -1;
		}
		id = h1c_client_request(c, &rq, &cb, j);
		if (id < 0) {
			j->done = 1;
			j->err = (int)id;
			if (j->df)
				fclose(j->df);
			j->df = NULL;
		}
	}
	advance(&b);
	while (h1c_client_run(c, -1) > 0)
		;
	advance(&b);
	free(b.jobs);
	if (b.failed) {
		fprintf(stderr, "h1c-get: write error\n");
		b.rc = 1;
	}
	return b.rc;
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
	int silent = 0, include = 0, stats = 0, progress = 0, batch = 0, i, rc = 0;
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
		} else if (strcmp(a, "--pipeline") == 0 && v) {
			long d = strtol(v, NULL, 10);
			if (d < 1 || d > H1C_MAX_PIPELINE)
				usage();
			co.pipeline_depth = (unsigned)d;
			batch = 1;
			i++;
		} else if (strcmp(a, "--parallel") == 0 && v) {
			long m = strtol(v, NULL, 10);
			if (m < 1 || m > 65536)
				usage();
			co.max_per_origin = (unsigned)m;
			if ((unsigned)m > H1C_DEFAULT_MAX_CONNECTIONS)
				co.max_connections = (unsigned)m;
			batch = 1;
			i++;
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
	if (!co.max_per_origin)
		co.max_per_origin = 1; /* one connection unless --parallel */
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

	if (batch) {
		memset(&rq, 0, sizeof(rq));
		rq.method = method ? method : (data || data_file) ? "POST" : "GET";
		rq.headers = hdr;
		rq.num_headers = nh;
		if (data) {
			rq.body = data;
			rq.body_len = strlen(data);
		}
		rc = run_batch(c, argv + i, argc - i, &rq, data_file, o.f, include, silent);
		i = argc;
	}

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
		        "\"connections_reused\":%lu,\"replayed\":%lu,\"pipelined\":%lu,"
		        "\"max_in_flight\":%lu,\"connections_failed\":%lu,"
		        "\"pipeline_fallbacks\":%lu,\"stale_closed\":%lu}\n",
		        st.requests, st.responses, st.errors, st.connections_opened,
		        st.connections_reused, st.replayed, st.pipelined, st.max_in_flight,
		        st.connections_failed, st.pipeline_fallbacks, st.stale_closed);
	}
	if (outfile)
		fclose(o.f);
	h1c_client_free(c);
	return rc;
}
