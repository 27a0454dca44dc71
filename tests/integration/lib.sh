# tests/integration/lib.sh — helpers for integration tests that drive the real programs.
# Each check prints "PASS name" or "FAIL name: why" (counted by scripts/run-tests.sh).
# Usage: source it, then `expect_exit CODE name -- command...`.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${1:-build}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SITELEDGER="$BUILD_DIR/bin/siteledger"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-it-XXXXXX")
BACKGROUND_PIDS=()
cleanup() {
	for pid in "${BACKGROUND_PIDS[@]+"${BACKGROUND_PIDS[@]}"}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 1

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# expect_exit CODE NAME COMMAND... : run, keep stdout in $OUT and stderr in $ERR
expect_exit() {
	local want=$1 name=$2
	shift 2
	OUT=$("$@" 2>"$WORK/.stderr")
	local got=$?
	ERR=$(cat "$WORK/.stderr")
	if [ "$got" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $got, expected $want; stdout: ${OUT:0:400} stderr: ${ERR:0:400}"
	fi
}

# check NAME CONDITION-COMMAND... : pass when the command succeeds
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "condition failed: $*"; fi
}

# poll_until TENTHS COMMAND... (bounded waiting, shared with the demos)
source "$ROOT/scripts/poll.sh"

# start_node SITE: run siteledgerd with cluster/SITE/node.conf in the background (stopped at exit);
# its PID goes to PID[SITE] (an associative array the test declares), its log to SITE.log.
start_node() {
	"$SITELEDGERD" --config "cluster/$1/node.conf" 2>>"$1.log" &
	PID[$1]=$!
	BACKGROUND_PIDS+=("$!")
}
