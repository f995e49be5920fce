/*
 * fuzz_url.c - libFuzzer target for the URL and proxy host:port parsers.
 * The input is copied into an exact-size, NUL-terminated buffer; a parsed
 * URL must have its views inside the input, a host that fits, and a port
 * in range; parsing must be deterministic.
 */
#include "../../lib/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h1c__url u, u2;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (h1c__url_parse(s, &u) == 0) {
		size_t len = strlen(s);
		if (strlen(u.host) >= sizeof(u.host) || u.port == 0 || u.port > 65535)
			__builtin_trap();
		if (u.path_len && (u.path < s || u.path + u.path_len > s + len))
			__builtin_trap();
		if (u.absolute_len && (u.absolute < s || u.absolute + u.absolute_len > s + len))
			__builtin_trap();
		if (h1c__url_parse(s, &u2) != 0 || strcmp(u.host, u2.host) != 0 || u.port != u2.port ||
		    u.tls != u2.tls)
			__builtin_trap();
		/* The scheme decides TLS: https:// and nothing else. */
		if (u.tls != (len >= 8 && (s[4] == 's' || s[4] == 'S')))
			__builtin_trap();
	}
	if (h1c__hostport_parse(s, &u) == 0) {
		if (strlen(u.host) >= sizeof(u.host) || u.port == 0 || u.port > 65535)
			__builtin_trap();
	}
	free(s);
	return 0;
}
