#!/usr/bin/env bash
# Run the benchmarks and write docs/benchmarks.md with the figures and the commands that made them.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (scripts/bench.sh). Machines here are shared and noisy: read ratios and"
	echo "medians measured side by side in one run, not absolute numbers."
	echo
	echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr), $(cc --version | head -1)."
	echo
	echo "## Single-node apply vs. Ed25519 verification"
	echo
	echo "Group commit under load fills batches up to APPLY_BATCH_RECORDS_MAX (4096); the first table is"
	echo "that case, the second shows smaller batches (fixed per-batch costs: fsync, thread start)."
	echo
	echo "Command: \`$build/bench/bench_apply --records 40000 --batch 4000 --runs 5\`"
	echo
	"$build/bench/bench_apply" --records 40000 --batch 4000 --runs 5
	echo
	echo "Command: \`$build/bench/bench_apply --records 20000 --batch 1000 --runs 5\`"
	echo
	"$build/bench/bench_apply" --records 20000 --batch 1000 --runs 5
	echo
	echo "## Audit of an export, and Merkle proofs"
	echo
	echo "The audit replays every record of a full export into a scratch store (signatures on all cores,"
	echo "the lifecycle rules, byte-for-byte entries), hashes every entry into the RFC 9162 tree and checks"
	echo "every checkpoint. The issue's figure is a 1M-record export:"
	echo "\`$build/bench/bench_audit --records 1000000\` (minutes to build); \`make bench\` runs a smaller one."
	echo
	echo "Command: \`$build/bench/bench_audit --records ${AUDIT_RECORDS:-100000}\`"
	echo
	"$build/bench/bench_audit" --records "${AUDIT_RECORDS:-100000}"
	echo
	echo "## Simulator"
	echo
	echo "siteledger-sim's speed: 5 nodes in one process, each with its raft core, ledger apply and LMDB"
	echo "environment (no_sync); steps are 10 ms raft ticks; the workload offers about one client operation"
	echo "every three steps, so entries/s measure the simulation, not the ledger's ceiling (docs/simulation.md)."
	echo
	echo "Command: \`$build/bench/bench_sim --seeds 5 --steps 3000\`"
	echo
	"$build/bench/bench_sim" --seeds 5 --steps 3000
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
cat "$out"
