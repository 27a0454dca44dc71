#!/usr/bin/env bash
# scripts/sim-soak.sh BUILD [SECONDS] — `make soak`: run siteledger-sim seeds (5 nodes, every fault,
# SOAK_STEPS steps, default 2000) in chunks on every core until SECONDS (default 600) have passed,
# starting at SOAK_FIRST_SEED (default 1). Prints every failing seed with its replay command and a
# closing line "soak: seeds A-B, runs R, violations V, liveness failures L, S s". Exit 1 on any.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-600}
steps=${SOAK_STEPS:-2000}
nodes=${SOAK_NODES:-5}
first=${SOAK_FIRST_SEED:-1}
chunk=${SOAK_CHUNK:-25}
jobs=$(nproc 2>/dev/null || echo 2)
sim="$build/bin/siteledger-sim"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-soak-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
next=$first
runs=0 violations=0 liveness=0
while [ $((SECONDS - start)) -lt "$seconds" ]; do
	pids=()
	for j in $(seq 1 "$jobs"); do
		lo=$next
		hi=$((next + chunk - 1))
		next=$((hi + 1))
		TMPDIR="$tmp" "$sim" --seeds "$lo-$hi" --nodes "$nodes" --steps "$steps" --faults all >"$tmp/$j.out" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for j in $(seq 1 "$jobs"); do
		grep -v '^summary' "$tmp/$j.out"
		s=$(grep '^summary' "$tmp/$j.out")
		r=$(printf '%s' "$s" | sed -E 's/.*runs=([0-9]+).*/\1/')
		v=$(printf '%s' "$s" | sed -E 's/.*violations=([0-9]+).*/\1/')
		l=$(printf '%s' "$s" | sed -E 's/.*liveness_failures=([0-9]+).*/\1/')
		runs=$((runs + ${r:-0}))
		violations=$((violations + ${v:-1}))
		liveness=$((liveness + ${l:-0}))
	done
done
echo "soak: seeds $first-$((next - 1)), runs $runs, violations $violations, liveness failures $liveness," \
	"$((SECONDS - start)) s ($nodes nodes, $steps steps, --faults all)"
[ "$violations" -eq 0 ] && [ "$liveness" -eq 0 ]
