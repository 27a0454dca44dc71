#!/usr/bin/env bash
# tests/integration/test_sim.sh — siteledger-sim under `make test` (docs/simulation.md):
#   scenarios   short runs per fault kind, 3 and 9 nodes, membership off, the CLI's usage errors
#   seeds       SIM_TEST_SEEDS (default 200) seeds x 5 nodes x every fault, on two processes:
#               zero violations and zero liveness failures
#   determinism one seed with --trace twice: byte-for-byte identical output
#   planted     scripts/sim-check-planted.sh: each planted bug caught within 1,000 seeds
# Steps per seed: SIM_TEST_STEPS (default 1500). Usage: test_sim.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
SIM="$BUILD_DIR/bin/siteledger-sim"
seeds=${SIM_TEST_SEEDS:-200}
steps=${SIM_TEST_STEPS:-1500}
export TMPDIR="$WORK" # node directories of the runs, removed with WORK

if [ ! -x "$SIM" ]; then
	fail sim-binary "$SIM missing"
	exit 1
fi

# ---- scenarios ----
expect_exit 0 sim-no-faults "$SIM" --seed 1 --nodes 5 --steps 1000 --faults none
case "$OUT" in *"seed 1: ok"*) pass sim-no-faults-output ;; *) fail sim-no-faults-output "$OUT" ;; esac
for f in partition crash loss dup reorder skew disk; do
	expect_exit 0 "sim-fault-$f" "$SIM" --seeds 1-5 --nodes 5 --steps 1000 --faults "$f"
done
expect_exit 0 sim-3-nodes "$SIM" --seeds 1-10 --nodes 3 --steps 1000 --faults all
expect_exit 0 sim-9-nodes "$SIM" --seeds 1-5 --nodes 9 --steps 1000 --faults all
expect_exit 0 sim-no-membership "$SIM" --seeds 1-5 --nodes 5 --steps 1000 --faults all --no-membership
expect_exit 2 sim-usage-nodes "$SIM" --seed 1 --nodes 10
expect_exit 2 sim-usage-faults "$SIM" --seed 1 --faults fire
expect_exit 2 sim-usage-range "$SIM" --seeds 9-3

# ---- seeds: two halves in parallel (2 cores) ----
half=$((seeds / 2))
"$SIM" --seeds "1-$half" --nodes 5 --steps "$steps" --faults all >"$WORK/a.out" 2>&1 &
pa=$!
"$SIM" --seeds "$((half + 1))-$seeds" --nodes 5 --steps "$steps" --faults all >"$WORK/b.out" 2>&1
rb=$?
wait "$pa"
ra=$?
sa=$(tail -1 "$WORK/a.out")
sb=$(tail -1 "$WORK/b.out")
if [ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && [[ "$sa" == *"violations=0 liveness_failures=0"* ]] &&
	[[ "$sb" == *"violations=0 liveness_failures=0"* ]]; then
	pass "sim-$seeds-seeds-all-faults ($sa; $sb)"
else
	fail "sim-$seeds-seeds-all-faults" "$(grep -v '^summary' "$WORK/a.out" "$WORK/b.out" | head -20) $sa $sb"
fi

# ---- determinism ----
"$SIM" --seed 7 --nodes 5 --steps "$steps" --faults all --trace >"$WORK/t1" 2>&1
"$SIM" --seed 7 --nodes 5 --steps "$steps" --faults all --trace >"$WORK/t2" 2>&1
if cmp -s "$WORK/t1" "$WORK/t2" && [ "$(wc -l <"$WORK/t1")" -gt 100 ]; then
	pass "sim-determinism (seed 7, $(wc -l <"$WORK/t1") trace lines identical)"
else
	fail sim-determinism "traces differ or are empty"
fi

# ---- planted bugs ----
if out=$(bash "$ROOT/scripts/sim-check-planted.sh" 2>&1); then :; fi
printf '%s\n' "$out" | grep -E '^(PASS|FAIL) '
