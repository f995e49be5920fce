#!/bin/sh
# make demo: starts the project's loopback origin server (test/servers/),
# fetches a batch of URLs with h1c-get over kept-alive connections so the
# reuse shows in --stats, decodes a pipelined byte stream with h1c-decode,
# and stops the server. Needs nothing but what make built.
B=${1:-build}
set -e
out=$(mktemp)
"$B/origin" > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
i=0
port=
while [ -z "$port" ] && [ $i -lt 500 ]; do
	port=$(awk '$1 == "port" {print $2}' "$out")
	[ -n "$port" ] || sleep 0.01
	i=$((i + 1))
done
[ -n "$port" ] || { echo "demo: the origin did not start" >&2; exit 1; }
u=http://127.0.0.1:$port
echo "== h1c-get -i: three requests to the loopback origin on port $port"
"$B/h1c-get" -i "$u/" "$u/bytes/26" "$u/chunked/20?size=6" | tr -d '\r'
echo
echo "== h1c-get --stats: 8 more, then /close and 2 after it"
"$B/h1c-get" -s --stats -o /dev/null "$u/" "$u/bytes/10" "$u/bytes/100000" "$u/chunked/5000?size=100" \
	"$u/status/204" "$u/status/304" "$u/echo" "$u/http10" 2>&1
"$B/h1c-get" -s --stats -o /dev/null "$u/bytes/10" "$u/close" "$u/bytes/10" 2>&1
echo "   (X-Conn is the server's connection number: the same one all along;"
echo "    after /close a new connection is opened, as the --stats line says)"
echo
echo "== h1c-get --pipeline 8: 32 GETs pipelined on one connection"
"$B/h1c-get" -s --stats --pipeline 8 -o /dev/null $(for i in $(seq 1 32); do echo "$u/bytes/$i"; done) 2>&1
echo "   (\"pipelined\" requests went out while others were in flight; at most"
echo "    \"max_in_flight\" at once, all on \"connections_opened\": 1)"
echo
echo "== h1c-decode: a pipelined stream, fed one byte at a time"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nchunked\r\n0\r\nServer-Timing: db;dur=53\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated' |
	"$B/h1c-decode" --split 1 HEAD GET POST
