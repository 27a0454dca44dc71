#!/usr/bin/env bash
# scripts/sim-check-planted.sh — show that the simulator's checker catches real bugs.
#
# For each planted consensus bug X in A..E (consensus/internal.h, docs/simulation.md): build
# siteledger-sim with PLANT=X into build-plant-X, run seeds 1..SIM_PLANT_SEEDS (default 1000) of
# 5 nodes with every fault until the first violation, and print
#   PASS planted-X: seed N, check <name> ...      when a violation was reported
#   FAIL planted-X: ...                            when none was within the seeds or the time
# Bounded: each bug gets SIM_PLANT_SECONDS (default 240) of simulation. Exit 1 on any FAIL.
set -u
cd "$(dirname "$0")/.."
seeds=${SIM_PLANT_SEEDS:-1000}
seconds=${SIM_PLANT_SECONDS:-240}
steps=${SIM_PLANT_STEPS:-2000}
jobs=${SIM_PLANT_JOBS:-2}
status=0
# the simulator's node directories go here, so a run cut short by the time bound leaves nothing
sim_tmp=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-plant-XXXXXX")
trap 'rm -rf "$sim_tmp"' EXIT
for x in A B C D E; do
	build=build-plant-$x
	if ! make --no-print-directory -j"$jobs" BUILD="$build" PLANT="$x" "$build/bin/siteledger-sim" >"/tmp/sim-plant-$x-$$.log" 2>&1; then
		echo "FAIL planted-$x: build failed (see /tmp/sim-plant-$x-$$.log)"
		status=1
		continue
	fi
	rm -f "/tmp/sim-plant-$x-$$.log"
	start=$SECONDS
	out=$(TMPDIR="$sim_tmp" timeout "$seconds" "$build/bin/siteledger-sim" --seeds "1-$seeds" --nodes 5 --steps "$steps" \
		--faults all --stop-on-failure 2>&1)
	line=$(printf '%s\n' "$out" | grep -m1 -E '^seed [0-9]+: VIOLATION')
	if [ -n "$line" ]; then
		seed=$(printf '%s' "$line" | sed -E 's/^seed ([0-9]+): VIOLATION ([a-z-]+): .*/\1/')
		check=$(printf '%s' "$line" | sed -E 's/^seed ([0-9]+): VIOLATION ([a-z-]+): .*/\2/')
		echo "PASS planted-$x: seed $seed, check $check ($((SECONDS - start))s) -- ${line#*: VIOLATION }"
		printf '%s\n' "$out" | grep -m1 '  replay:' | sed "s|siteledger-sim|$build/bin/siteledger-sim|"
	else
		echo "FAIL planted-$x: no violation within $seeds seeds / ${seconds}s: $(printf '%s\n' "$out" | tail -1)"
		status=1
	fi
done
exit $status
