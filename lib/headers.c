/*
 * headers.c - helpers over parsed header fields: case-insensitive lookup
 * and comma-separated lists (RFC 9110 section 5.6.1).
 */
#include "internal.h"

#include <string.h>

/* Returns c folded to lower case (ASCII only). */
static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Returns 1 when a[0..n) and b[0..n) are equal ignoring ASCII case. */
static int memcmp_ci(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int h1c__ieq(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp_ci(s, name, n);
}

const struct h1c_header *h1c_header_find(const struct h1c_header *headers, size_t n,
                                         const char *name)
{
	size_t i;

	if (!headers || !name)
		return NULL;
	for (i = 0; i < n; i++)
		if (h1c__ieq(headers[i].name, headers[i].name_len, name))
			return &headers[i];
	return NULL;
}

int h1c__list_next(const char *v, size_t n, size_t *off, const char **elem,
                   size_t *elem_len)
{
	size_t i = *off;

	while (i < n) {
		size_t start, end;
		int quoted = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i == n)
			break;
		start = i;
		/* An element runs to the next comma outside a quoted-string. */
		for (; i < n; i++) {
			if (quoted) {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				else if (v[i] == '"')
					quoted = 0;
			} else if (v[i] == '"') {
				quoted = 1;
			} else if (v[i] == ',') {
				break;
			}
		}
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		*elem = v + start;
		*elem_len = end - start;
		*off = i;
		return 1;
	}
	*off = n;
	return 0;
}

int h1c_header_has_token(const struct h1c_header *headers, size_t n,
                         const char *name, const char *token)
{
	size_t i;

	if (!headers || !name || !token)
		return 0;
	for (i = 0; i < n; i++) {
		const char *e;
		size_t off = 0, elen;

		if (!h1c__ieq(headers[i].name, headers[i].name_len, name))
			continue;
		while (h1c__list_next(headers[i].value, headers[i].value_len, &off, &e, &elen))
			if (h1c__ieq(e, elen, token))
				return 1;
	}
	return 0;
}

int h1c_header_is_hop_by_hop(const struct h1c_header *headers, size_t n, size_t i)
{
	static const char *const fixed[] = {
		"connection", "proxy-connection", "keep-alive", "te", "trailer",
		"transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization",
	};
	const struct h1c_header *h;
	size_t k;

	if (!headers || i >= n)
		return 0;
	h = &headers[i];
	for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		if (h1c__ieq(h->name, h->name_len, fixed[k]))
			return 1;
	/* RFC 9110 section 7.6.1: the fields a Connection field names. */
	for (k = 0; k < n; k++) {
		const char *e;
		size_t off = 0, elen;

		if (!h1c__ieq(headers[k].name, headers[k].name_len, "connection") &&
		    !h1c__ieq(headers[k].name, headers[k].name_len, "proxy-connection"))
			continue;
		while (h1c__list_next(headers[k].value, headers[k].value_len, &off, &e, &elen))
			if (elen == h->name_len && memcmp_ci(e, h->name, elen))
				return 1;
	}
	return 0;
}

size_t h1c_headers_strip_hop_by_hop(struct h1c_header *headers, size_t n)
{
	size_t i, kept = 0;

	if (!headers)
		return 0;
	/* Kept fields are swapped to the front, so the array stays a
	 * permutation of the original and every verdict still sees all the
	 * Connection fields. */
	for (i = 0; i < n; i++) {
		if (h1c_header_is_hop_by_hop(headers, n, i))
			continue;
		if (kept != i) {
			struct h1c_header t = headers[kept];
			headers[kept] = headers[i];
			headers[i] = t;
		}
		kept++;
	}
	return kept;
}
