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
 * output still written in URL order (a response ahead of its turn is held,
 * in memory up to a bound, past it in an unlinked temporary file).
 */
#define _FILE_OFFSET_BITS 64 /* a temporary file past 2 GiB on 32-bit systems */
#include <h1c.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
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
	      "               [--pipeline N] [--parallel M] [--max-body BYTES] URL...\n",
	      stderr);
	exit(2);
}

/* Returns 1 when the n bytes at s equal lit, ignoring ASCII case. */
static int name_is(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (strlen(lit) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != lit[i])
			return 0;
	return 1;
}

/* A -H field the library writes itself (framing and persistence): the
 * ones with a meaning here become a request flag or an option and return
 * 1; the others are refused with what to use instead. */
static int library_field(const struct h1c_header *h, unsigned *flags,
                         struct h1c_client_options *co)
{
	static const char *const owned[][2] = {
		{"content-length", "the body's length is written from -d or --data-file"},
		{"transfer-encoding", "a --data-file of unknown size is sent chunked"},
		{"proxy-connection", "the client asks proxies for keep-alive itself"},
		{"te", "the client accepts trailers itself"},
		{"upgrade", "h1c speaks HTTP/1.1 only"},
	};
	size_t i;

	if (name_is(h->name, h->name_len, "connection")) {
		if (name_is(h->value, h->value_len, "close")) {
			*flags |= H1C_REQ_CLOSE;
			return 1;
		}
		if (name_is(h->value, h->value_len, "keep-alive"))
			return 1; /* what HTTP/1.1 does anyway */
		fprintf(stderr, "h1c-get: -H '%.*s: %.*s': the client writes Connection itself; "
		        "only 'close' and 'keep-alive' are taken\n", (int)h->name_len, h->name,
		        (int)h->value_len, h->value);
		exit(2);
	}
	if (name_is(h->name, h->name_len, "expect")) {
		if (name_is(h->value, h->value_len, "100-continue")) {
			co->expect_threshold = 1;
			return 1;
		}
		fprintf(stderr, "h1c-get: -H 'Expect': only 100-continue is sent "
		        "(or use --expect-threshold)\n");
		exit(2);
	}
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (name_is(h->name, h->name_len, owned[i][0])) {
			fprintf(stderr, "h1c-get: -H '%.*s': a field the client writes itself (%s)\n",
			        (int)h->name_len, h->name, owned[i][1]);
			exit(2);
		}
	return 0;
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

/* The output is written in URL order. The earliest unfinished response
 * streams straight out as it arrives; a later one is held until its turn.
 * A held response keeps at most HOLD_MEM bytes in memory, and the finished
 * ones waiting for their turn at most HELD_MEM between them; everything
 * past that goes to one temporary file. So memory stays bounded however
 * long a held response is (a server sending without end) and however many
 * wait behind a slow one. */
#define HOLD_MEM ((size_t)1 << 20)
#define HELD_MEM ((size_t)8 << 20)

/* A run of a held response's bytes in the temporary file. */
struct extent {
	off_t off;
	size_t len;
};

/* The batch's temporary file: made in $TMPDIR (else /tmp) when first
 * needed and unlinked at once, so that nothing is left behind however
 * h1c-get ends. Held responses append to it; a response's runs are read
 * back when its turn comes; once every byte in it has been written out it
 * is emptied, so it holds no more than what is waiting. */
struct spill {
	int fd;     /* -1: not made yet */
	off_t end;  /* where the next bytes go */
	off_t live; /* bytes in it not written out yet */
};

struct job;

struct batch {
	struct job *jobs;
	int n, next_out;
	FILE *f;
	int include, silent, failed, rc;
	struct spill sp;
	size_t held; /* memory kept by finished responses waiting for their turn */
};

struct job {
	struct batch *b;
	int idx;
	const char *url;
	FILE *df;
	struct extent *ext; /* held bytes in the temporary file, in order */
	size_t next_ext, ext_cap;
	char *buf;          /* held bytes after those, in memory */
	size_t len, cap;
	size_t kept;        /* this job's share of b->held */
	int done, err;
	int spill_err;      /* an errno: the temporary file failed this response */
};

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

/* Makes the temporary file unless there is one; returns 0 or an errno. */
static int spill_open(struct spill *sp)
{
	char path[4096];
	int n;

	if (sp->fd >= 0)
		return 0;
	n = snprintf(path, sizeof(path), "%s/h1c-get.XXXXXX", tmp_dir());
	if (n < 0 || (size_t)n >= sizeof(path))
		return ENAMETOOLONG;
	sp->fd = mkstemp(path);
	if (sp->fd < 0)
		return errno;
	unlink(path);
	return 0;
}

/* Appends n bytes to job j's runs in the temporary file; returns 0 or an
 * errno (the bytes are then not j's, and the next append overwrites any
 * that reached the file). */
static int spill_put(struct job *j, const char *p, size_t n)
{
	struct spill *sp = &j->b->sp;
	size_t done = 0;
	int err, extend;

	if (!n)
		return 0;
	err = spill_open(sp);
	if (err)
		return err;
	/* Bytes that follow j's last run in the file lengthen it. */
	extend = j->next_ext &&
	         j->ext[j->next_ext - 1].off + (off_t)j->ext[j->next_ext - 1].len == sp->end;
	if (!extend && j->next_ext == j->ext_cap) {
		size_t cap = j->ext_cap ? j->ext_cap * 2 : 8;
		struct extent *e = realloc(j->ext, cap * sizeof(*e));
		if (!e)
			return ENOMEM;
		j->ext = e;
		j->ext_cap = cap;
	}
	while (done < n) {
		ssize_t w = pwrite(sp->fd, p + done, n - done, sp->end + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		done += (size_t)w;
	}
	if (extend) {
		j->ext[j->next_ext - 1].len += n;
	} else {
		j->ext[j->next_ext].off = sp->end;
		j->ext[j->next_ext].len = n;
		j->next_ext++;
	}
	sp->end += (off_t)n;
	sp->live += (off_t)n;
	return 0;
}

/* Makes room for want bytes (at most HOLD_MEM) in j's memory; 0 or -1. */
static int grow(struct job *j, size_t want)
{
	size_t cap = j->cap ? j->cap : 4096;
	char *q;

	if (want <= j->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > HOLD_MEM)
		cap = HOLD_MEM;
	q = realloc(j->buf, cap);
	if (!q)
		return -1;
	j->buf = q;
	j->cap = cap;
	return 0;
}

/* Holds n bytes of job j until its turn: in memory while it keeps no more
 * than HOLD_MEM there, else what it kept goes to the temporary file and
 * these bytes start its memory again. Returns 0, or 1 when the file failed
 * (j->spill_err says why; what was held is kept, these bytes are not). */
static int hold(struct job *j, const char *p, size_t n)
{
	int err;

	if (j->len + n <= HOLD_MEM && grow(j, j->len + n) == 0) {
		memcpy(j->buf + j->len, p, n);
		j->len += n;
		return 0;
	}
	err = spill_put(j, j->buf, j->len);
	if (!err) {
		j->len = 0;
		if (n <= j->cap) {
			memcpy(j->buf, p, n);
			j->len = n;
			return 0;
		}
		err = spill_put(j, p, n);
	}
	if (err) {
		j->spill_err = err;
		return 1;
	}
	return 0;
}

/* Writes bytes of job j: straight out when it is its turn, else held. */
static int emit(struct job *j, const char *p, size_t n)
{
	if (j->spill_err)
		return 1;
	if (j->idx == j->b->next_out) {
		if (n && fwrite(p, 1, n, j->b->f) != n) {
			j->b->failed = 1;
			return 1;
		}
		return 0;
	}
	return hold(j, p, n);
}

/* Job j has finished before its turn: its memory joins what the finished
 * responses keep, unless that would pass HELD_MEM; then it goes to the
 * temporary file (or, when the file fails, stays in memory: nothing of a
 * whole response is dropped for want of the file). */
static void settle(struct job *j)
{
	struct batch *b = j->b;

	if (j->len && b->held + j->len > HELD_MEM && spill_put(j, j->buf, j->len) == 0)
		j->len = 0;
	if (!j->len) {
		free(j->buf);
		j->buf = NULL;
		j->cap = 0;
	} else if (j->len < j->cap) {
		char *q = realloc(j->buf, j->len);
		if (q) {
			j->buf = q;
			j->cap = j->len;
		}
	}
	j->kept = j->cap;
	b->held += j->kept;
}

/* Writes out what job j held, its runs in the temporary file and then its
 * memory, and frees them. Returns 0, or an errno when the file could not
 * be read back (the rest of j is then not written). */
static int release(struct job *j)
{
	struct batch *b = j->b;
	char chunk[16384];
	size_t i;
	int err = 0;

	for (i = 0; i < j->next_ext; i++) {
		off_t off = j->ext[i].off;
		size_t left = j->ext[i].len;
		while (left && !err) {
			ssize_t r = pread(b->sp.fd, chunk, left < sizeof(chunk) ? left : sizeof(chunk), off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				err = r < 0 ? errno : EIO;
				break;
			}
			if (fwrite(chunk, 1, (size_t)r, b->f) != (size_t)r)
				b->failed = 1;
			off += r;
			left -= (size_t)r;
		}
		b->sp.live -= (off_t)j->ext[i].len;
	}
	free(j->ext);
	j->ext = NULL;
	j->next_ext = j->ext_cap = 0;
	if (b->sp.fd >= 0 && b->sp.live == 0 && b->sp.end && ftruncate(b->sp.fd, 0) == 0)
		b->sp.end = 0;
	if (!err && j->len && fwrite(j->buf, 1, j->len, b->f) != j->len)
		b->failed = 1;
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
	b->held -= j->kept;
	j->kept = 0;
	return err;
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
		int err = release(j);
		if (err && !j->spill_err)
			j->spill_err = err; /* a job still running stops at its next bytes */
		if (!j->done)
			return;
		if (j->spill_err) {
			if (!b->silent)
				fprintf(stderr, "h1c-get: %s: holding the response for its turn: "
				        "temporary file in %s: %s\n", j->url, tmp_dir(), strerror(j->spill_err));
			b->rc = 1;
		} else if (j->err) {
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
	else
		settle(j);
}

static int file_rewind(void *user)
{
	return fseek(user, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* Queues every URL, runs the client until all have ended. */
static int run_batch(struct h1c_client *c, char **urls, int n, const struct h1c_request *tmpl,
                     const char *data_file, FILE *f, int include, int silent)
{
	static const struct h1c_callbacks cb = {
		.size = sizeof(cb),
		.on_head = job_head,
		.on_data = job_data,
		.on_done = job_done,
	};
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
	b.sp.fd = -1;
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
	if (b.sp.fd >= 0)
		close(b.sp.fd);
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
	unsigned req_flags = 0;
	long long max_body = 0;
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
			if (!library_field(&hdr[nh], &req_flags, &co))
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
		} else if (strcmp(a, "--max-body") == 0 && v) {
			char *end;
			max_body = strtoll(v, &end, 10);
			if (*end || max_body < 1)
				usage();
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
		rq.flags = req_flags;
		rq.max_body = max_body;
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
		rq.flags = req_flags;
		rq.max_body = max_body;
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
		h1c_client_stats(c, &st, sizeof(st));
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
