#!/usr/bin/env bash
# Run every test binary in the given build directories, then the integration tests, and print
# one closing line "N passed, N failed, N skipped". Exit non-zero on any failure.
#
# Test binaries print "PASS name" / "FAIL name" / "SKIP name: why" lines; each is one test.
# Integration scripts (tests/integration/*.sh) print the same lines. A binary that crashes or
# times out counts as one failure on top of what it printed.
set -u
cd "$(dirname "$0")/.."

TEST_TIMEOUT_SECONDS=${TEST_TIMEOUT_SECONDS:-600}
passed=0
failed=0
skipped=0
failed_names=()
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-testlog-XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

run_one() { # label, command...
	local label=$1
	shift
	local log="$log_dir/out"
	local start=$SECONDS
	timeout --kill-after=10 "$TEST_TIMEOUT_SECONDS" "$@" >"$log" 2>&1
	local rc=$?
	local p f s
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	s=$(grep -c '^SKIP ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL $label exited with status $rc" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	printf '%-48s %4d passed %3d failed %3d skipped  %3ds\n' "$label" "$p" "$f" "$s" $((SECONDS - start))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$label")
		sed 's/^/    /' "$log" | grep -v '^    PASS ' | tail -n 60
	fi
	grep '^SKIP ' "$log" | sed 's/^/    /'
}

for build in "$@"; do
	for bin in "$build"/tests/test_*; do
		[ -x "$bin" ] || continue
		run_one "$bin" "$bin"
	done
	for bin in "$build"/fuzz/fuzz_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		run_one "$bin (corpus + 20000 mutations)" "$bin" --runs 20000 "tests/fuzz/corpus/${name#fuzz_}"
	done
done

# Integration tests use the plain build's programs.
for script in tests/integration/test_*.sh; do
	[ -f "$script" ] || continue
	run_one "$script" bash "$script" "${1:-build}"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failing: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
