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
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
cat "$out"
