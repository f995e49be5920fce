#!/bin/bash
# The end-to-end benchmark: nginx on loopback (1 worker, keepalive_requests
# high, access_log off) serving a 100-byte and a 64 KiB file, and N GETs of
# each by every client below, each a separate process, one after another:
#   h1c sequential, pipelined at depth 8 and 32, 4 and 64 connections;
#   libcurl: one easy handle in a loop, multi with 4 and 64 transfers;
#   the raw-socket floor, sequential and at depths 8 and 32;
#   wrk (pipelining through a Lua script) as the reference for what
#   loopback and nginx can take, at depths 1, 8 and 32.
# The whole sequence is repeated ROUNDS times (default 3), so that every
# client meets the same moments of a noisy machine; the table shows each
# client's median. Prints a table with ratios h1c / floor, h1c / libcurl and
# h1c / wrk; the raw JSON lines are kept in $B/bench/e2e.jsonl.
# usage: bench/e2e/run.sh BUILD_DIR [N [ROUNDS]]
set -u
B=$1
N=${2:-100000}
ROUNDS=${3:-3}
WRK_SECONDS=${WRK_SECONDS:-5}
for t in nginx wrk python3; do
	command -v $t >/dev/null || { echo "e2e: $t is missing: run 'make bench-deps'"; exit 1; }
done
tmp=$(mktemp -d)
trap 'kill $ngx 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 755 "$tmp" "$tmp/www" # nginx workers run as another user
head -c 100 /dev/zero | tr '\0' 'a' > "$tmp/www/100.bin"
head -c 65536 /dev/zero | tr '\0' 'b' > "$tmp/www/64k.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/nginx.conf" <<EOC
worker_processes 1;
daemon off;
error_log $tmp/nginx/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
	client_body_temp_path $tmp/nginx;
	proxy_temp_path $tmp/nginx;
	fastcgi_temp_path $tmp/nginx;
	uwsgi_temp_path $tmp/nginx;
	scgi_temp_path $tmp/nginx;
	server { listen 127.0.0.1:$PORT; root $tmp/www; }
}
EOC
nginx -c "$tmp/nginx.conf" -p "$tmp/nginx" &
ngx=$!
for i in $(seq 1 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT))" 2>/dev/null && break
	sleep 0.05
done
out="$B/bench/e2e.jsonl"
: > "$out"
run() { # file label command...
	local file=$1 label=$2; shift 2
	local line
	line=$("$@" 2>"$tmp/err") || { echo "e2e: $label failed (exit $?): $(cat "$tmp/err") $line" >&2; return; }
	echo "{\"file\":\"$file\",\"label\":\"$label\",${line#\{}" >> "$out"
	echo "  $label: $(echo "$line" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f req/s, %.1f us CPU/req" % (d["rps"], d["cpu_us_per_req"]))')"
}
for round in $(seq 1 "$ROUNDS"); do
for file in 100.bin 64k.bin; do
	url="http://127.0.0.1:$PORT/$file"
	echo "== round $round of $ROUNDS: $file, $N GETs"
	run $file "h1c seq" "$B/bench/e2e-h1c" "$url" "$N" 1 1
	run $file "h1c pipe 8" "$B/bench/e2e-h1c" "$url" "$N" 8 1
	run $file "h1c pipe 32" "$B/bench/e2e-h1c" "$url" "$N" 32 1
	run $file "h1c conns 4" "$B/bench/e2e-h1c" "$url" "$N" 1 4
	run $file "h1c conns 64" "$B/bench/e2e-h1c" "$url" "$N" 1 64
	run $file "curl easy" "$B/bench/e2e-curl" "$url" "$N" 0
	run $file "curl multi 4" "$B/bench/e2e-curl" "$url" "$N" 4
	run $file "curl multi 64" "$B/bench/e2e-curl" "$url" "$N" 64
	run $file "floor seq" "$B/bench/e2e-floor" 127.0.0.1 "$PORT" "/$file" "$N" 1
	run $file "floor pipe 8" "$B/bench/e2e-floor" 127.0.0.1 "$PORT" "/$file" "$N" 8
	run $file "floor pipe 32" "$B/bench/e2e-floor" 127.0.0.1 "$PORT" "/$file" "$N" 32
	for d in 1 8 32; do
		rps=$(DEPTH=$d wrk -t1 -c1 -d${WRK_SECONDS}s -s bench/e2e/pipeline.lua "$url" 2>&1 |
			sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
		[ -n "$rps" ] && echo "{\"file\":\"$file\",\"label\":\"wrk pipe $d\",\"client\":\"wrk\",\"depth\":$d,\"conns\":1,\"rps\":$rps}" >> "$out"
		echo "  wrk pipe $d: ${rps:-?} req/s"
	done
done
done
python3 bench/e2e/table.py "$out"
