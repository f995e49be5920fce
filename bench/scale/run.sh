#!/bin/bash
# The scaling benchmark (make bench-scale): one client thread, N = 1, 16,
# 256, 1,024, 4,096 and 10,000 connections to nginx on 127.0.0.1 (one
# worker, pinned to one core; the client pinned to the other), each cell a
# separate process:
#   busy  all N connections carry sequential keep-alive GETs of a 100-byte
#         file, as fast as nginx answers
#   idle  N connections opened, then N-1 left idle in the pool and one
#         carrying sequential GETs
# for h1c on its built-in loop, the libuv adapter and the libevent adapter
# (bench/scale/h1c-scale.c), and for libcurl's multi interface
# (bench/scale/curl-scale.c: multi_socket_action on epoll, and
# multi_perform + multi_poll), and for the floor (bench/scale/floor-scale.c:
# no library, one send and one recv per request on epoll: what the kernel
# charges for the same traffic, so its ratio to N = 16 is the part of every
# row's ratio no client can remove). Each cell measures, over a window of
# SCALE_WINDOW seconds after a warm-up: CPU per request (user + system,
# getrusage, of the client process), requests/s, allocations per request
# (through h1c's allocator hooks, and process-wide), and the heap per
# connection once the pool is warm. Phases that run too long are cut (the
# cell is marked) so that the whole run stays bounded.
# Prints the table; the raw JSON lines are kept in $B/bench/scale.jsonl.
#
# usage: bench/scale/run.sh BUILD_DIR
# environment (defaults): SCALE_NS ("1 16 256 1024 4096 10000"),
#   SCALE_LOOPS ("builtin libuv libevent"), SCALE_CURL ("socket poll"; "" for
#   none), SCALE_FLOOR ("epoll"; "" for none), SCALE_SCENARIOS ("busy
#   idle"), SCALE_WINDOW (2: seconds the window lasts at least; busy: and
#   2 N requests), SCALE_WINDOW_CAP (10: seconds at most), SCALE_SETUP_CAP
#   (30), SCALE_WARM_CAP (4),
#   SCALE_CPUS ("0 1": nginx's core, the client's), SCALE_ROUNDS (1: the
#   whole sequence is repeated that many times and the table shows medians)
set -u
B=$1
NS=${SCALE_NS:-1 16 256 1024 4096 10000}
LOOPS=${SCALE_LOOPS-builtin libuv libevent}
CURLS=${SCALE_CURL-socket poll}
FLOORS=${SCALE_FLOOR-epoll}
SCENARIOS=${SCALE_SCENARIOS:-busy idle}
WINDOW=${SCALE_WINDOW:-2}
WINDOW_CAP=${SCALE_WINDOW_CAP:-10}
SETUP_CAP=${SCALE_SETUP_CAP:-30}
WARM_CAP=${SCALE_WARM_CAP:-4}
ROUNDS=${SCALE_ROUNDS:-1}
read -r SRV_CPU CLI_CPU <<<"${SCALE_CPUS:-0 1}"
for t in nginx python3 taskset timeout; do
	command -v $t >/dev/null || { echo "scale: $t is missing: run 'make bench-deps'"; exit 1; }
done
maxn=0
for n in $NS; do [ "$n" -gt "$maxn" ] && maxn=$n; done
# Descriptors: the drivers raise their own soft limit up to the hard one;
# as root the hard one can be raised here, for them and for nginx.
want=$((maxn + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
	ulimit -Hn "$want" 2>/dev/null ||
		echo "scale: hard RLIMIT_NOFILE $(ulimit -Hn) < $want and not raisable: large N will fail"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# nginx's worker sets its own limit (worker_rlimit_nofile), which may not
# pass the hard one either (setrlimit fails, and nginx says so).
ngx_nofile=$((maxn + 4096))
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$ngx_nofile" ] && ngx_nofile=$(ulimit -Hn)
tmp=$(mktemp -d)
ngx=
trap '[ -n "$ngx" ] && kill $ngx 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 755 "$tmp" "$tmp/www" # nginx workers run as another user
head -c 100 /dev/zero | tr '\0' 'a' > "$tmp/www/100.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/nginx.conf" <<EOC
worker_processes 1;
worker_rlimit_nofile $ngx_nofile;
daemon off;
error_log $tmp/nginx/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections $((maxn + 2048)); multi_accept on; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 3600s;
	client_body_temp_path $tmp/nginx;
	proxy_temp_path $tmp/nginx;
	fastcgi_temp_path $tmp/nginx;
	uwsgi_temp_path $tmp/nginx;
	scgi_temp_path $tmp/nginx;
	server { listen 127.0.0.1:$PORT backlog=65535; root $tmp/www; }
}
EOC
taskset -c "$SRV_CPU" nginx -c "$tmp/nginx.conf" -p "$tmp/nginx" &
ngx=$!
for i in $(seq 1 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT))" 2>/dev/null && break
	sleep 0.05
done
url="http://127.0.0.1:$PORT/100.bin"
out="$B/bench/scale.jsonl"
mkdir -p "$B/bench"
: > "$out"
# A cell that outlives every phase limit is killed.
cell_limit=$(python3 -c "print(int($SETUP_CAP + $WARM_CAP + $WINDOW_CAP + 60))")
run() { # label scenario n command...
	local label=$1 sc=$2 n=$3 line rc
	shift 3
	line=$(timeout -k 5 "$cell_limit" taskset -c "$CLI_CPU" "$@" 2>"$tmp/err")
	rc=$?
	if [ -z "$line" ]; then
		echo "  $label $sc N=$n: no result (exit $rc): $(head -c 300 "$tmp/err")" >&2
		line="{\"loop\":\"$label\",\"scenario\":\"$sc\",\"n\":$n,\"cut\":\"killed\"}"
	elif [ "$rc" -ne 0 ]; then
		echo "  $label $sc N=$n: exit $rc: $(head -c 300 "$tmp/err")" >&2
	fi
	echo "{\"label\":\"$label\",\"round\":$round,\"exit\":$rc,${line#\{}" >> "$out"
	echo "$line" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = "  %-16s %-4s N=%-6d" % (sys.argv[1], d["scenario"], d["n"])
if "cpu_us_per_req" in d:
    s += " %9.1f us/req %9.0f req/s" % (d["cpu_us_per_req"], d["rps"])
s += " conns %s setup %.1fs" % (d.get("connections", "?"), d.get("setup_s", 0))
if d.get("cut"):
    s += " [cut: %s]" % d["cut"]
print(s)' "$label"
	# Let nginx close the connections of this cell before the next.
	if [ "$n" -ge 1000 ]; then sleep 1; else sleep 0.2; fi
}
start=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
[ "$ROUNDS" -gt 1 ] && echo "== round $round of $ROUNDS"
for n in $NS; do
	for sc in $SCENARIOS; do
		for l in $LOOPS; do
			run "$l" "$sc" "$n" "$B/bench/scale-h1c" "$l" "$url" "$sc" "$n" "$WINDOW" "$WINDOW_CAP" "$SETUP_CAP" "$WARM_CAP"
		done
		for m in $CURLS; do
			run "curl-$m" "$sc" "$n" "$B/bench/scale-curl" "$m" "$url" "$sc" "$n" "$WINDOW" "$WINDOW_CAP" "$SETUP_CAP" "$WARM_CAP"
		done
		for m in $FLOORS; do
			run "floor" "$sc" "$n" "$B/bench/scale-floor" "$m" "$url" "$sc" "$n" "$WINDOW" "$WINDOW_CAP" "$SETUP_CAP" "$WARM_CAP"
		done
	done
done
done
echo "scale: $(( $(date +%s) - start )) s for all cells; raw results in $out"
if grep -qE '\[(alert|crit|emerg)\]' "$tmp/nginx/error.log" 2>/dev/null; then
	echo "scale: nginx complained (first lines):"
	grep -E '\[(alert|crit|emerg)\]' "$tmp/nginx/error.log" | head -5
fi
python3 bench/scale/table.py "$out"
