#!/usr/bin/env bash
# scripts/bench-snapshot.sh — a follower caught up by snapshot on a large ledger (docs/benchmarks.md
# "Snapshot catch-up"): a 3-node loopback cluster (compact_every = 50, compact_keep = 0) takes
# LOAD_SECONDS of 16 clients (16 records of 100 serials per request); one follower is killed (-9), the
# leader takes 10 s more from 16 clients (one record per request: more appends than raft keeps in flight
# for it, past several compaction points); the follower restarts and the script waits until every node
# has the same ledger. One line of results:
#
#   held=<entries the follower held> ledger=<entries after> exported_bytes=<the leader's export>
#   sent_bytes=<bytes of the transfer that succeeded> transfer_ms=<its time> catch_up_ms=<restart to agreement>
#
#   bash scripts/bench-snapshot.sh BUILD [LOAD_SECONDS (default 20)]
#
# BUILD is a build directory with bin/siteledger, bin/siteledgerd and bench/bench_cluster (make bench
# builds them). Every wait is bounded; every process is stopped (tests/integration/lib.sh's cleanup).
source "$(dirname "$0")/../tests/integration/lib.sh" "${1:?usage: bench-snapshot.sh BUILD [LOAD_SECONDS]}" >/dev/null
source "$ROOT/tests/integration/cluster.sh"
LOAD=${2:-20}
BENCH="$BUILD_DIR/bench/bench_cluster"
SITES=(a b c)
field() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p"; } # FIELD < log line: its number
cluster_configure() { sed -i "1i compact_every = 50\ncompact_keep = 0" "cluster/$1/node.conf"; }
cluster_up "${SITES[@]}" >/dev/null || { echo "bench-snapshot: no cluster (logs: $WORK)" >&2; exit 1; }
LEADER=$(leader_of "${SITES[@]}")
FOLLOWER=a
[ "$LEADER" = a ] && FOLLOWER=b
"$BENCH" --node "${ADDR[$LEADER]}" --key "cluster/keys/$LEADER.key" --clients 16 --seconds "$LOAD" --per-request 16 \
	--serials 100 >/dev/null 2>&1
poll_until 300 same_state "${SITES[@]}" >/dev/null || { echo "bench-snapshot: nodes disagree" >&2; exit 1; }
held=${STATE%% *}
kill -9 "${PID[$FOLLOWER]}"
wait "${PID[$FOLLOWER]}" 2>/dev/null
"$BENCH" --node "${ADDR[$LEADER]}" --key "cluster/keys/$LEADER.key" --clients 16 --seconds 10 --per-request 1 \
	--serials 100 --tag 7 >/dev/null 2>&1
start=$(date +%s%N)
start_node "$FOLLOWER"
poll_until 1200 same_state "${SITES[@]}" >/dev/null || { echo "bench-snapshot: no catch-up in 120 s" >&2; exit 1; }
end=$(date +%s%N)
sent=$(grep 'msg="snapshot sent"' "$LEADER.log" | tail -1)
echo "held=$held ledger=${STATE%% *} exported_bytes=$(grep 'msg="snapshot exported"' "$LEADER.log" | tail -1 | field bytes)" \
	"sent_bytes=$(field bytes <<<"$sent") transfer_ms=$(field ms <<<"$sent") catch_up_ms=$(((end - start) / 1000000))"
cluster_stop "${SITES[@]}"
