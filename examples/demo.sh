#!/bin/sh
# make demo: decodes a pipelined stream a server might send on one kept-alive
# connection - a HEAD, a chunked body with trailers, an interim 100 before a
# POST's answer, a multipart/byteranges body and a Connection: close - fed to
# the library one byte at a time, and prints the JSON lines of h1c-decode(1).
DEC=${1:-build/h1c-decode}
set -e
printf '%s\n' "Requests: HEAD /, GET /chunked, POST /form, GET /ranges, GET /last"
printf '%s\n' "Bytes fed one at a time (--split 1); one JSON line per response:"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: "v1"\r\n\r\n''HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;ext="a;b"\r\nchunked\r\n6\r\n body!\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n''HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 7\r\nKeep-Alive: timeout=5, max=100\r\n\r\ncreated''HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=SEP\r\n\r\n--SEP\r\nContent-Range: bytes 0-3/20\r\n\r\nh1c!\r\n--SEP\r\nContent-Range: bytes 16-19/20\r\n\r\nbyes\r\n--SEP--\r\n''HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye' |
	"$DEC" --split 1 HEAD GET POST GET GET
