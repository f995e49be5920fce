#!/bin/sh
# sha.cgi - a CGI program for the interop matrix's apache2 and lighttpd
# (test/interop/run): answers "SHA256HEX LENGTH" of the request body, with
# no Content-Length (the server frames it).
t=$(mktemp) || exit 1
trap 'rm -f "$t"' EXIT
cat > "$t"
printf 'Content-Type: text/plain\r\n\r\n%s %s\n' "$(sha256sum < "$t" | cut -d' ' -f1)" "$(wc -c < "$t" | tr -d ' ')"
