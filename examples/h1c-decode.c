/*
 * h1c-decode - the conformance driver: decodes the bytes one server sent on
 * one connection and prints every response as one JSON line.
 *
 *   h1c-decode [--split N] [--proxy] [--no-byteranges] [--lenient LIST]
 *              [--max-head-size N] [--max-headers N] [--max-chunk-ext N]
 *              [--max-trailer-size N] [--max-interim N] [METHOD ...] < bytes
 *
 * See h1c-decode(1). Uses only the public API.
 */
#include <h1c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable string; the driver exits on allocation failure. */
struct str {
	char *p;
	size_t len, cap;
};

static void str_put(struct str *s, const char *p, size_t n)
{
	if (n == 0 && s->p)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = realloc(s->p, cap);
		if (!s->p) {
			fputs("h1c-decode: out of memory\n", stderr);
			exit(2);
		}
		s->cap = cap;
	}
	if (n)
		memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void str_puts(struct str *s, const char *z)
{
	str_put(s, z, strlen(z));
}

/* Appends p[0..n) as a JSON string: byte b is the code point b. */
static void str_json(struct str *s, const char *p, size_t n)
{
	size_t i;
	char esc[8];

	str_put(s, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)p[i];
		if (b >= 0x20 && b <= 0x7e && b != '"' && b != '\\') {
			str_put(s, (const char *)&b, 1);
		} else if (b == '"' || b == '\\') {
			esc[0] = '\\';
			esc[1] = (char)b;
			str_put(s, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", b);
			str_put(s, esc, 6);
		}
	}
	str_put(s, "\"", 1);
}

static void str_fields(struct str *s, const struct h1c_header *h, size_t n)
{
	size_t i;

	str_puts(s, "[");
	for (i = 0; i < n; i++) {
		if (i)
			str_puts(s, ",");
		str_puts(s, "[");
		str_json(s, h[i].name, h[i].name_len);
		str_puts(s, ",");
		str_json(s, h[i].value, h[i].value_len);
		str_puts(s, "]");
	}
	str_puts(s, "]");
}

/* What is gathered about the response being decoded. */
struct resp_out {
	struct str head;     /* "{status...,"framing":"..." */
	struct str body;
	struct str trailers; /* "[...]" */
	struct str parts;    /* part objects, comma separated */
	struct str part_body;
	int in_part;
	size_t body_start;   /* offset of the body in the input */
};

static void part_close(struct resp_out *o)
{
	if (!o->in_part)
		return;
	str_puts(&o->parts, ",\"body\":");
	str_json(&o->parts, o->part_body.p ? o->part_body.p : "", o->part_body.len);
	str_puts(&o->parts, "}");
	o->part_body.len = 0;
	o->in_part = 0;
}

static void print_error(int code, unsigned response)
{
	printf("{\"error\":\"%s\",\"message\":\"%s\",\"response\":%u}\n", h1c_errname(code),
	       h1c_strerror(code), response);
}

static void usage(void)
{
	fputs("usage: h1c-decode [--split N] [--proxy] [--no-byteranges] [--lenient LIST]\n"
	      "                  [--max-head-size N] [--max-headers N] [--max-chunk-ext N]\n"
	      "                  [--max-trailer-size N] [--max-interim N] [METHOD ...] < bytes\n"
	      "LIST: comma-separated of bare-lf, space-before-colon, value-ctl,\n"
	      "      no-reason-sp, chunk-ws, all\n",
	      stderr);
	exit(2);
}

/* Parses a size option value; exits with the usage on error. */
static size_t arg_size(const char *v)
{
	char *end;
	unsigned long long n;

	if (!v || *v < '0' || *v > '9')
		usage();
	n = strtoull(v, &end, 10);
	if (*end || n == 0 || n > (unsigned long long)SIZE_MAX)
		usage();
	return (size_t)n;
}

static unsigned arg_lenient(const char *v)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"bare-lf", H1C_LENIENT_BARE_LF},
		{"space-before-colon", H1C_LENIENT_SPACE_BEFORE_COLON},
		{"value-ctl", H1C_LENIENT_VALUE_CTL},
		{"no-reason-sp", H1C_LENIENT_NO_REASON_SP},
		{"chunk-ws", H1C_LENIENT_CHUNK_WS},
		{"all", H1C_LENIENT_ALL},
	};
	unsigned bits = 0;

	if (!v)
		usage();
	while (*v) {
		size_t n = strcspn(v, ","), i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(v, names[i].name, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			usage();
		bits |= names[i].bit;
		v += n;
		if (*v == ',')
			v++;
	}
	return bits;
}

/* Reads all of stdin. */
static char *read_all(size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		size_t got;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, stdin);
		n += got;
		if (got == 0)
			break;
	}
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	struct h1c_options opt;
	struct h1c_header headers[512];
	struct h1c_reader rd;
	struct resp_out o;
	size_t split = 0, total, pos = 0, avail;
	unsigned final_done = 0;
	int argi, nmethods, mi = 0, rc = 0;
	char **methods;
	char *buf;

	memset(&opt, 0, sizeof(opt));
	memset(&o, 0, sizeof(o));
	for (argi = 1; argi < argc && argv[argi][0] == '-'; argi++) {
		const char *a = argv[argi];
		if (strcmp(a, "--split") == 0)
			split = arg_size(argv[++argi]);
		else if (strcmp(a, "--proxy") == 0)
			opt.flags |= H1C_OPT_VIA_PROXY;
		else if (strcmp(a, "--no-byteranges") == 0)
			opt.flags |= H1C_OPT_NO_BYTERANGES;
		else if (strcmp(a, "--lenient") == 0)
			opt.lenient = arg_lenient(argv[++argi]);
		else if (strcmp(a, "--max-head-size") == 0)
			opt.max_head_size = arg_size(argv[++argi]);
		else if (strcmp(a, "--max-headers") == 0)
			opt.max_headers = arg_size(argv[++argi]);
		else if (strcmp(a, "--max-chunk-ext") == 0)
			opt.max_chunk_ext = arg_size(argv[++argi]);
		else if (strcmp(a, "--max-trailer-size") == 0)
			opt.max_trailer_size = arg_size(argv[++argi]);
		else if (strcmp(a, "--max-interim") == 0)
			opt.max_interim = (unsigned)arg_size(argv[++argi]);
		else if (strcmp(a, "--") == 0) {
			argi++;
			break;
		} else
			usage();
	}
	if (opt.max_headers > sizeof(headers) / sizeof(headers[0]) / 2)
		opt.max_headers = sizeof(headers) / sizeof(headers[0]) / 2;
	methods = argv + argi;
	nmethods = argc - argi;

	buf = read_all(&total);
	if (!buf) {
		fputs("h1c-decode: out of memory\n", stderr);
		return 2;
	}
	if (h1c_reader_init(&rd, &opt, headers, sizeof(headers) / sizeof(headers[0])) != 0)
		return 2;
	avail = split && split < total ? split : total;

	for (;;) {
		struct h1c_event ev;
		const char *method = mi < nmethods ? methods[mi] : "GET";
		int n = h1c_reader_feed(&rd, buf + pos, avail - pos, method, &ev);

		if (n == H1C_EEXTRADATA || n == H1C_ESWITCHED) {
			/* A client would close here; what follows is no response. */
			fprintf(stderr, "h1c-decode: %zu bytes after the last response ignored (%s)\n",
			        total - pos, h1c_strerror(n));
			break;
		}
		if (n < 0) {
			print_error(n, final_done + 1);
			rc = 1;
			break;
		}
		pos += (size_t)n;
		if (ev.type == H1C_EV_NEED_MORE) {
			if (avail < total) {
				avail += split;
				if (avail > total)
					avail = total;
				continue;
			}
			n = h1c_reader_eof(&rd, buf + pos, total - pos, &ev);
			if (n < 0) {
				print_error(n, final_done + 1);
				rc = 1;
				break;
			}
			if (ev.type != H1C_EV_DONE)
				break;
		}
		switch (ev.type) {
		case H1C_EV_HEAD: {
			char num[64];
			o.head.len = o.body.len = o.trailers.len = o.parts.len = 0;
			o.in_part = 0;
			o.body_start = pos;
			snprintf(num, sizeof(num), "{\"status\":%d,\"version\":\"1.%d\",\"reason\":",
			         rd.resp.status, rd.resp.version_minor);
			str_puts(&o.head, num);
			str_json(&o.head, rd.resp.reason, rd.resp.reason_len);
			str_puts(&o.head, ",\"headers\":");
			str_fields(&o.head, rd.resp.headers, rd.resp.num_headers);
			str_puts(&o.head, ",\"framing\":\"");
			str_puts(&o.head, h1c_framing_name(rd.framing.kind));
			str_puts(&o.head, "\"");
			str_puts(&o.trailers, "[]");
			break;
		}
		case H1C_EV_DATA:
			if (rd.framing.kind == H1C_FRAMING_BYTERANGES)
				str_put(&o.part_body, ev.data, ev.len);
			else
				str_put(&o.body, ev.data, ev.len);
			break;
		case H1C_EV_PART:
			part_close(&o);
			if (o.parts.len)
				str_puts(&o.parts, ",");
			str_puts(&o.parts, "{\"headers\":");
			str_fields(&o.parts, ev.fields, ev.num_fields);
			o.in_part = 1;
			break;
		case H1C_EV_TRAILERS:
			o.trailers.len = 0;
			str_fields(&o.trailers, ev.fields, ev.num_fields);
			break;
		case H1C_EV_DONE: {
			struct str line = {0};
			part_close(&o);
			str_put(&line, o.head.p, o.head.len);
			str_puts(&line, ",\"body\":");
			if (rd.framing.kind == H1C_FRAMING_BYTERANGES)
				str_json(&line, buf + o.body_start, pos - o.body_start);
			else
				str_json(&line, o.body.p ? o.body.p : "", o.body.len);
			str_puts(&line, ",\"trailers\":");
			str_put(&line, o.trailers.p, o.trailers.len);
			if (rd.framing.kind == H1C_FRAMING_BYTERANGES) {
				str_puts(&line, ",\"parts\":[");
				if (o.parts.len)
					str_put(&line, o.parts.p, o.parts.len);
				str_puts(&line, "]");
			}
			str_puts(&line, rd.framing.keep_alive ? ",\"keep_alive\":true}\n"
			                                      : ",\"keep_alive\":false}\n");
			fputs(line.p, stdout);
			free(line.p);
			if (!(rd.framing.flags & H1C_FRAMING_INTERIM)) {
				final_done++;
				mi++;
			}
			break;
		}
		default:
			break;
		}
	}
	free(o.head.p);
	free(o.body.p);
	free(o.trailers.p);
	free(o.parts.p);
	free(o.part_body.p);
	free(buf);
	return rc;
}
