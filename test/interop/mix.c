/*
 * mix.c - runs a list of requests of mixed methods through one client and
 * the asynchronous API, for the interop matrix (test/interop/run): what
 * h1c-get cannot do, since its options apply to every URL (a POST queued
 * behind pipelined GETs, a HEAD between GETs).
 *
 *   mix [--pipeline N] [--proxy HOST:PORT] [--expect-threshold BYTES]
 *       [--header 'Name: value'] DIR < LIST
 *
 * LIST has one request a line, "METHOD URL [BODY_FILE]"; all are queued at
 * once, in that order. For the request on line i (from 1) it writes
 * DIR/i.head (the final head as it could have come on the wire) and
 * DIR/i.body, and prints "i STATUS ERROR FLAGS INTERIM" on standard output
 * once all have ended: STATUS 0 and the error's name when it failed, FLAGS
 * letters for H1C_DONE_REUSED (u), _PIPELINED (p) and _REPLAYED (r), or
 * "-", INTERIM the status of the first 1xx response, or "-". The header
 * field (one) goes with every request. Then the client's counters as one JSON line on standard error, as
 * h1c-get --stats prints them. Exits 0 when every request got a response.
 */
#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_REQUESTS 256

struct job {
	int idx;
	const char *dir;
	char method[16];
	char url[1024];
	char body_path[1024];
	FILE *body_in;
	FILE *head_out, *body_out;
	int status, interim, err, done, failed;
	unsigned flags;
};

/* Opens DIR/i.EXT for writing; NULL on failure (reported). */
static FILE *out_file(const struct job *j, const char *ext)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.%s", j->dir, j->idx, ext);
	f = fopen(path, "wb");
	if (!f)
		perror(path);
	return f;
}

static int on_interim(void *user, const struct h1c_response *r)
{
	struct job *j = user;

	if (!j->interim)
		j->interim = r->status;
	return 0;
}

/* The final head: opens the request's files and writes the head. The
 * client shows a request at most one final head. */
static int on_head(void *user, const struct h1c_response *r)
{
	struct job *j = user;
	size_t i;

	j->head_out = out_file(j, "head");
	j->body_out = out_file(j, "body");
	if (!j->head_out || !j->body_out) {
		j->failed = 1;
		return 1;
	}
	j->status = r->status;
	fprintf(j->head_out, "HTTP/1.%d %03d %.*s\r\n", r->version_minor, r->status,
	        (int)r->reason_len, r->reason);
	for (i = 0; i < r->num_headers; i++)
		fprintf(j->head_out, "%.*s: %.*s\r\n", (int)r->headers[i].name_len, r->headers[i].name,
		        (int)r->headers[i].value_len, r->headers[i].value);
	fputs("\r\n", j->head_out);
	return 0;
}

static int on_data(void *user, const char *data, size_t len)
{
	struct job *j = user;

	if (!j->body_out || fwrite(data, 1, len, j->body_out) != len) {
		j->failed = 1;
		return 1;
	}
	return 0;
}

static void on_done(void *user, int err, unsigned flags)
{
	struct job *j = user;

	j->done = 1;
	j->err = err;
	j->flags = flags;
}

static long body_read(void *user, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, user);

	if (n == 0 && ferror((FILE *)user))
		return -1;
	return (long)n;
}

static int body_rewind(void *user)
{
	return fseek(user, 0, SEEK_SET) == 0 ? 0 : -1;
}

static void usage(void)
{
	fputs("usage: mix [--pipeline N] [--proxy HOST:PORT] [--expect-threshold BYTES]\n"
	      "           [--header 'Name: value'] DIR < LIST\n",
	      stderr);
	exit(2);
}

/* Reads LIST into jobs; returns how many, or -1 on a malformed line. */
static int read_list(struct job *jobs, const char *dir)
{
	char line[2200];
	int n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		struct job *j;
		int k;

		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (n == MAX_REQUESTS)
			return -1;
		j = &jobs[n];
		memset(j, 0, sizeof(*j));
		k = sscanf(line, "%15s %1023s %1023s", j->method, j->url, j->body_path);
		if (k < 2)
			return -1;
		j->idx = ++n;
		j->dir = dir;
	}
	return n;
}

/* Queues job j, with the header field hdr when it is not NULL; returns 0,
 * or a negative H1C_E* code (no callback then). */
static int queue(struct h1c_client *c, struct job *j, const struct h1c_header *hdr)
{
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_interim = on_interim,
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
	};
	struct h1c_request rq;
	long long id;

	memset(&rq, 0, sizeof(rq));
	rq.method = j->method;
	rq.url = j->url;
	rq.headers = hdr;
	rq.num_headers = hdr ? 1 : 0;
	if (j->body_path[0]) {
		struct stat sb;
		j->body_in = fopen(j->body_path, "rb");
		if (!j->body_in || fstat(fileno(j->body_in), &sb) != 0) {
			perror(j->body_path);
			return H1C_EINVAL;
		}
		rq.body_read = body_read;
		rq.body_rewind = body_rewind;
		rq.body_user = j->body_in;
		rq.body_size = (long long)sb.st_size;
	}
	id = h1c_client_request(c, &rq, &cb, j);
	return id < 0 ? (int)id : 0;
}

int main(int argc, char **argv)
{
	static struct job jobs[MAX_REQUESTS];
	struct h1c_client_options co;
	struct h1c_client *c;
	struct h1c_stats st;
	struct h1c_header field, *hdr = NULL;
	const char *dir;
	int i, n, rc = 0;

	memset(&co, 0, sizeof(co));
	co.max_per_origin = 1; /* one connection, as h1c-get without --parallel */
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--pipeline") == 0) {
			long d = strtol(argv[i + 1], NULL, 10);
			if (d < 1 || d > H1C_MAX_PIPELINE)
				usage();
			co.pipeline_depth = (unsigned)d;
		} else if (strcmp(argv[i], "--proxy") == 0) {
			co.proxy = argv[i + 1];
		} else if (strcmp(argv[i], "--expect-threshold") == 0) {
			co.expect_threshold = (size_t)strtoull(argv[i + 1], NULL, 10);
		} else if (strcmp(argv[i], "--header") == 0) {
			const char *v = argv[i + 1], *colon = strchr(v, ':');
			if (!colon)
				usage();
			field.name = v;
			field.name_len = (size_t)(colon - v);
			for (colon++; *colon == ' '; colon++)
				;
			field.value = colon;
			field.value_len = strlen(colon);
			hdr = &field;
		} else {
			usage();
		}
	}
	if (i + 1 != argc)
		usage();
	dir = argv[i];
	n = read_list(jobs, dir);
	if (n <= 0)
		usage();
	c = h1c_client_new(&co);
	if (!c) {
		fputs("mix: bad proxy or out of memory\n", stderr);
		return 2;
	}
	for (i = 0; i < n; i++) {
		int err = queue(c, &jobs[i], hdr);
		if (err) {
			jobs[i].done = 1;
			jobs[i].err = err;
		}
	}
	while (h1c_client_run(c, -1) > 0)
		;
	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		char fl[4], *p = fl;

		if (j->flags & H1C_DONE_REUSED)
			*p++ = 'u';
		if (j->flags & H1C_DONE_PIPELINED)
			*p++ = 'p';
		if (j->flags & H1C_DONE_REPLAYED)
			*p++ = 'r';
		if (p == fl)
			*p++ = '-';
		*p = '\0';
		if (!j->done || j->err || j->failed)
			rc = 1;
		printf("%d %d %s %s ", j->idx, j->err ? 0 : j->status,
		       j->err ? h1c_errname(j->err) : j->failed ? "write-error" : "-", fl);
		if (j->interim)
			printf("%d\n", j->interim);
		else
			puts("-");
		if (j->head_out)
			fclose(j->head_out);
		if (j->body_out)
			fclose(j->body_out);
		if (j->body_in)
			fclose(j->body_in);
	}
	h1c_client_stats(c, &st, sizeof(st));
	fprintf(stderr,
	        "{\"requests\":%lu,\"responses\":%lu,\"errors\":%lu,\"connections_opened\":%lu,"
	        "\"connections_reused\":%lu,\"replayed\":%lu,\"pipelined\":%lu,"
	        "\"max_in_flight\":%lu,\"connections_failed\":%lu,"
	        "\"pipeline_fallbacks\":%lu,\"stale_closed\":%lu}\n",
	        st.requests, st.responses, st.errors, st.connections_opened, st.connections_reused,
	        st.replayed, st.pipelined, st.max_in_flight, st.connections_failed,
	        st.pipeline_fallbacks, st.stale_closed);
	h1c_client_free(c);
	return rc;
}
