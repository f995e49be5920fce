/*
 * url.c - http URLs (RFC 9110 section 4.2.1, RFC 3986): scheme, host
 * (reg-name, IPv4 or a bracketed IPv6 literal), port and the origin-form
 * target, and "host:port" for proxies.
 */
#include "internal.h"

#include <string.h>

/* Returns 1 when c may appear in a URL as sent on the wire: no control
 * bytes, no space, nothing outside ASCII. */
static int url_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Parses host[:port] at s[0..n) into u; default port def. */
static int parse_authority(const char *s, size_t n, unsigned def, struct h1c__url *u)
{
	const char *host, *p = s, *end = s + n;
	size_t hlen;
	unsigned long port = def;

	if (memchr(s, '@', n))
		return H1C_EURL; /* userinfo is not supported */
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', n);
		if (!rb)
			return H1C_EURL;
		host = p + 1;
		hlen = (size_t)(rb - host);
		for (p = host; p < rb; p++)
			if (!((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') ||
			      *p == ':' || *p == '.'))
				return H1C_EURL;
		u->ipv6 = 1;
		p = rb + 1;
	} else {
		host = p;
		while (p < end && *p != ':')
			p++;
		hlen = (size_t)(p - host);
		u->ipv6 = 0;
		for (const char *q = host; q < p; q++)
			if (!(h1c__tchar[(unsigned char)*q] || *q == '%') || *q == '|' || *q == '`')
				return H1C_EURL;
	}
	if (hlen == 0 || hlen >= sizeof(u->host))
		return H1C_EURL;
	if (p < end) {
		if (*p != ':' || p + 1 == end)
			return H1C_EURL;
		port = 0;
		for (p++; p < end; p++) {
			if (*p < '0' || *p > '9')
				return H1C_EURL;
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return H1C_EURL;
		}
		if (port == 0)
			return H1C_EURL;
	}
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	u->port = (unsigned)port;
	return 0;
}

int h1c__url_parse(const char *url, struct h1c__url *u)
{
	const char *p, *auth, *end;
	size_t i, n;

	if (!url)
		return H1C_EURL;
	n = strlen(url);
	for (i = 0; i < n; i++)
		if (!url_byte((unsigned char)url[i]))
			return H1C_EURL;
	if (n >= 7 && h1c__ieq(url, 7, "http://")) {
		auth = url + 7;
		u->tls = 0;
	} else if (n >= 8 && h1c__ieq(url, 8, "https://")) {
		auth = url + 8;
		u->tls = 1;
	} else {
		return H1C_EURL;
	}
	p = auth;
	while (*p && *p != '/' && *p != '?' && *p != '#')
		p++;
	if (parse_authority(auth, (size_t)(p - auth), H1C__DEFAULT_PORT(u->tls), u))
		return H1C_EURL;
	/* The fragment is never sent. */
	end = strchr(p, '#');
	if (!end)
		end = url + n;
	u->path = p;
	u->path_len = (size_t)(end - p);
	u->absolute = url;
	u->absolute_len = (size_t)(end - url);
	u->has_path = *p == '/';
	return 0;
}

int h1c__hostport_parse(const char *s, struct h1c__url *u)
{
	if (!s)
		return H1C_EURL;
	if (h1c__ieq(s, strlen(s) < 7 ? strlen(s) : 7, "http://"))
		s += 7;
	{
		size_t n = strlen(s);
		while (n && s[n - 1] == '/')
			n--;
		if (parse_authority(s, n, 3128, u))
			return H1C_EURL;
	}
	u->tls = 0;
	u->path = "/";
	u->path_len = 1;
	u->absolute = NULL;
	u->absolute_len = 0;
	u->has_path = 1;
	return 0;
}
