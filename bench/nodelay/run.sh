#!/bin/bash
# Pipelining against servers that leave Nagle's algorithm on (issue 13 item
# 7). N GETs of a 100-byte body through build/h1c-get --pipeline D, one
# connection, for D = 1, 4, 8 and 32, against:
#   origin               the project's origin, TCP_NODELAY set (the baseline)
#   origin --no-nodelay  Nagle on, each response in one write
#   origin --no-nodelay --split-writes
#                        Nagle on, head and body in two writes
#   python http.server   HTTP/1.1, no TCP_NODELAY, head and body in two
#                        writes (bench/nodelay/pyserver.py), when python3 is
#                        there
# With Nagle on, a server's small write waits while an earlier one is
# unacknowledged; a client that has nothing to send delays its ACK (about
# 40 ms on Linux): a pipeline refilled only when half of it had been
# answered paid one delayed ACK every round, and a server writing head and
# body apart one per response, until the client refilled at once and
# acknowledged promptly (TCP_QUICKACK).
# Prints seconds, requests/s and the rate over the same server's at depth 1.
# Only 127.0.0.1; every run is bounded (NODELAY_TIMEOUT seconds, 60) and
# the servers are stopped at the end. Raw lines go to $B/bench/nodelay.jsonl.
# usage: bench/nodelay/run.sh BUILD_DIR
#   NODELAY_REQUESTS="200 1000"   the request counts
#   NODELAY_DEPTHS="1 4 8 32"     the pipeline depths (1 first: the ratios)
#   NODELAY_TIMEOUT=60            seconds a run may take before it is cut
set -u
B=${1:-build}
COUNTS=${NODELAY_REQUESTS:-200 1000}
DEPTHS=${NODELAY_DEPTHS:-1 4 8 32}
LIMIT=${NODELAY_TIMEOUT:-60}
GET=$B/h1c-get
for f in "$GET" "$B/origin"; do
	[ -x "$f" ] || { echo "nodelay: $f is missing: run make"; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME COMMAND...: starts a server that prints "port N"; sets PORT.
start() {
	local name=$1; shift
	"$@" > "$tmp/$name.port" 2>"$tmp/$name.err" &
	pids+=($!)
	PORT=
	for _ in $(seq 1 500); do
		PORT=$(awk '$1 == "port" {print $2}' "$tmp/$name.port" 2>/dev/null)
		[ -n "$PORT" ] && return 0
		sleep 0.01
	done
	echo "nodelay: $name did not start: $(cat "$tmp/$name.err")" >&2
	return 1
}

peers=()
start origin "$B/origin" && peers+=("origin|$PORT|/bytes/100")
start nonodelay "$B/origin" --no-nodelay && peers+=("origin --no-nodelay|$PORT|/bytes/100")
start split "$B/origin" --no-nodelay --split-writes &&
	peers+=("origin --no-nodelay --split-writes|$PORT|/bytes/100")
if command -v python3 >/dev/null; then
	start python python3 "$(dirname "$0")/pyserver.py" 100 && peers+=("python http.server|$PORT|/p")
else
	echo "nodelay: python3 not found, no http.server row"
fi

mkdir -p "$B/bench"
out=$B/bench/nodelay.jsonl
: > "$out"
printf '%-36s %6s %5s %9s %9s %9s\n' server N depth seconds "req/s" "vs d=1"
for peer in "${peers[@]}"; do
	IFS='|' read -r name port path <<< "$peer"
	for n in $COUNTS; do
		urls=()
		for _ in $(seq 1 "$n"); do urls+=("http://127.0.0.1:$port$path"); done
		base=
		for d in $DEPTHS; do
			t0=$EPOCHREALTIME
			timeout "$LIMIT" "$GET" -s --stats --pipeline "$d" -o /dev/null "${urls[@]}" 2>"$tmp/stats"
			rc=$?
			t1=$EPOCHREALTIME
			got=$(sed -n 's/.*"responses":\([0-9]*\).*/\1/p' "$tmp/stats")
			if [ $rc != 0 ] || [ "${got:-0}" != "$n" ]; then
				printf '%-36s %6s %5s %9s\n' "$name" "$n" "$d" \
					"$([ $rc = 124 ] && echo "over ${LIMIT}s" || echo "failed rc=$rc")"
				continue
			fi
			read -r secs rate <<< "$(awk -v a="$t0" -v b="$t1" -v n="$n" \
				'BEGIN { s = b - a; if (s < 1e-6) s = 1e-6; printf "%.3f %.0f\n", s, n / s }')"
			[ "$d" = 1 ] && base=$rate
			ratio=$(awk -v r="$rate" -v b="$base" 'BEGIN { if (b > 0) printf "%.3fx\n", r / b; else print "-" }')
			printf '%-36s %6s %5s %9s %9s %9s\n' "$name" "$n" "$d" "$secs" "$rate" "$ratio"
			echo "{\"server\":\"$name\",\"count\":$n,\"depth\":$d,\"seconds\":$secs,\"rps\":$rate,$(sed -n 's/^{//p' "$tmp/stats")" >> "$out"
		done
	done
done
