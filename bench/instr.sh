#!/bin/sh
# Instructions per response for every case and parser, counted by
# callgrind: repeatable on this noisy class of machine, where wall-clock
# ratios move from run to run. Each count is (run of 2N - run of N) / N, so
# start-up and the buffer copy done for every parser alike cancel out.
# usage: bench/instr.sh build/bench/bench_parse
BIN=${1:-build/bench/bench_parse}
N=${N:-200}
command -v valgrind >/dev/null || { echo "instr: valgrind not installed"; exit 0; }
count() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" --run "$1" "$2" "$3" 2>&1 |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
names=$("$BIN" --names)
echo "instructions per response (callgrind, N=$N)"
printf '%-18s' case
echo "$names" | awk '$1 == "parser" {printf " %15s", $3}'
echo
for c in $(echo "$names" | awk '$1 == "case" {print $2}'); do
	printf '%-18s' "$(echo "$names" | awk -v c="$c" '$1 == "case" && $2 == c {print $3}')"
	for p in $(echo "$names" | awk '$1 == "parser" {print $2}'); do
		a=$(count "$c" "$p" "$N"); b=$(count "$c" "$p" $((2 * N)))
		printf ' %15d' $(( (b - a) / N ))
	done
	echo
done
