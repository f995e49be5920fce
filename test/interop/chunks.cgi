#!/bin/sh
# chunks.cgi - a CGI program for the interop matrix's apache2 and lighttpd
# (test/interop/run): the bytes of piece.bin, found beside this script,
# with no Content-Length, so that an HTTP/1.1 server has to frame them
# (chunked) as they come.
printf 'Content-Type: application/octet-stream\r\n\r\n'
exec cat "${SCRIPT_FILENAME%/*}/piece.bin"
