#!/usr/bin/env bash
# Integration test: log compaction and snapshot catch-up between siteledgerd processes
# (docs/operations.md "Snapshots"). A three-node loopback cluster with compact_every = 8 (no tail) and a
# test fault that makes each node corrupt the first chunk of its first snapshot transfer:
#  1. a follower is killed (-9), the others record enough that the leader compacts past it;
#  2. it restarts: it says how many entries it holds and is sent only the suffix it lacks (D30); the
#     first transfer is refused by the hash check (counted), raft retries, the second one installs; every node then has the same ledger size and state hash, and the
#     caught-up node answers status, history and restarts from its compaction point;
#  3. the same follower's ledger is tampered with while it is down (a record applied to its data
#     directory outside raft); after the leader compacts past it again, installing the snapshot
#     finds the difference: the divergence is logged as an error and the node stops with exit 1 —
#     never silently accepted. (Its "alarm" event is published too, but the node stops within
#     milliseconds of starting, before a subscriber's connection is up: PUB is best effort.)
# Every wait is bounded (poll_until); every process is stopped (lib.sh cleanup).
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
GTIN=09506000134352
COMPACT_EVERY=8
# records (one raft entry each) while a follower is down: more than the appends a leader pipelines
# to it (raft's max_inflight_msgs, 64, wait in its peer queue and would catch it up from the log)
CATCHUP_RECORDS=100
# nine ports per run (6 cluster, 3 metrics) in 3000-8999: below the other node tests' ranges
# (10000+) and the Linux ephemeral range; runs with nearby PIDs get disjoint ranges
BASE=$((3000 + ($$ % 600) * 9))
CLUSTER_PORT_BASE=$BASE
SITES=(mfg dc pharmacy)
declare -A METRICS
for i in 0 1 2; do
	METRICS[${SITES[$i]}]="127.0.0.1:$((BASE + 6 + i))"
done

if ! command -v curl >/dev/null; then
	fail compaction_prerequisites "need curl (scripts/install-deps.sh)"
	exit 1
fi

# every node corrupts the first chunk of its first transfer (node/snapshot.c test fault)
export SITELEDGERD_TEST_CORRUPT_SNAPSHOTS=1

scrape() { curl -sf --max-time 5 "http://${METRICS[$1]}/metrics"; }
metric_value() { scrape "$1" | awk -v m="$2" '$1 == m { print $2; found = 1 } END { exit !found }'; }
metric_at_least() { local v; v=$(metric_value "$1" "$2") && [ "${v%.*}" -ge "$3" ]; }
# commission SITE_KEY NODE LOT SERIAL...: one request, so one raft entry
commission() {
	local key=$1 node=$2 lot=$3
	shift 3
	local args=()
	for serial in "$@"; do args+=(--serial "$serial"); done
	sl commission --node "${ADDR[$node]}" --key "cluster/keys/$key.key" --gtin $GTIN --lot "$lot" \
		--expiry 281100 "${args[@]}" >/dev/null 2>&1
}
# big_commission SERIAL_PREFIX: one record of BIG_SERIALS long serials (about 12 KiB), so that
# CATCHUP_RECORDS of them make a snapshot of more than one 1 MiB chunk
BIG_SERIALS=600
big_commission() {
	local serials
	mapfile -t serials < <(seq -f "$1-%015g" 1 $BIG_SERIALS)
	commission mfg "$LEADER" C1 "${serials[@]}"
}
# compacted_past SITE INDEX: SITE's compaction point is beyond INDEX
compacted_past() { local v; v=$(metric_value "$1" siteledger_raft_compaction_index) && [ "${v%.*}" -gt "$2" ]; }

# --- the cluster: small compaction interval, metrics on every node, no checkpoint records (cluster.sh's
# default: the ledger sizes below count only this test's records)
# and no tail kept (compact_keep = 0: every compaction moves past the follower; the tail is
# tests/unit/test_replica.c's)
cluster_configure() {
	sed -i "1i compact_every = $COMPACT_EVERY\ncompact_keep = 0\nmetrics_listen = ${METRICS[$1]}" "cluster/$1/node.conf"
}
cluster_up "${SITES[@]}" || exit 1
if ! LEADER=$(leader_of "${SITES[@]}"); then
	fail leader_known "the leader elected in cluster_up stepped down; the remaining checks would only time out"
	exit 1
fi
check fault_injection_logged grep -q 'msg="test fault injection".*corrupt_transfers=1' "$LEADER.log"
FOLLOWER=mfg
[ "$LEADER" = mfg ] && FOLLOWER=dc
OTHERS=()
for s in "${SITES[@]}"; do [ "$s" != "$FOLLOWER" ] && OTHERS+=("$s"); done

check first_records commission mfg "$LEADER" C0 A1 A2
check replicas_agree_before poll_until 50 same_state "${SITES[@]}"
FOLLOWER_APPLIED=$(node_json "$FOLLOWER" | jq -r .applied)

# --- 1. the follower is killed; the others record until the leader compacted past it
kill -9 "${PID[$FOLLOWER]}"
wait "${PID[$FOLLOWER]}" 2>/dev/null
ok=1
for i in $(seq 1 $CATCHUP_RECORDS); do
	big_commission "S$i" || { ok=0; break; }
done
check records_while_follower_down test "$ok" -eq 1
check leader_compacted_past_follower poll_until 50 compacted_past "$LEADER" "$((FOLLOWER_APPLIED + 1))"
check others_agree poll_until 50 same_state "${OTHERS[@]}"

# --- 2. restart: a refused transfer (the test fault), a retry, the install
start_node "$FOLLOWER"
check caught_up_by_snapshot poll_until 300 same_size $((1 + CATCHUP_RECORDS)) "${SITES[@]}"
check ledger_size_all_records test "${STATE%% *}" -eq $((1 + CATCHUP_RECORDS))
check snapshot_installed_metric poll_until 30 metric_at_least "$FOLLOWER" siteledger_snapshot_installed_total 1
check snapshot_received_metric metric_at_least "$FOLLOWER" siteledger_snapshot_received_total 1
check corrupt_chunk_refused_by_hash metric_at_least "$FOLLOWER" 'siteledger_snapshot_receive_failed_total{reason="hash"}' 1
check corrupt_refusal_logged grep -q 'msg="snapshot refused".*reason=hash' "$FOLLOWER.log"
check leader_counted_failed_transfer metric_at_least "$LEADER" siteledger_snapshot_send_failed_total 1
check leader_counted_sent_transfer metric_at_least "$LEADER" siteledger_snapshot_sent_total 1
# more than one chunk: the first (corrupted) transfer and the good one each sent every byte
check snapshot_spans_chunks metric_at_least "$LEADER" siteledger_snapshot_sent_bytes_total $((2 * 1048576 + 1))
check installed_logged grep -q 'msg="snapshot installed"' "$FOLLOWER.log"
check no_partial_file_left test ! -e "cluster/$FOLLOWER/data/snapshot.partial"
# the leader exported on its thread pool into a file it mapped and unlinked (D28)
check leader_logged_export grep -q 'msg="snapshot exported".*bytes=[1-9]' "$LEADER.log"
# the follower held its first entries: it was sent only the suffix it lacked (D30)
narrowed() { grep 'msg="snapshot transfer narrowed to a suffix"' "$LEADER.log" | tail -1; }
check leader_sent_a_suffix eval 'narrowed | grep -q "holds=[1-9]"'
exported_bytes=$(grep 'msg="snapshot exported"' "$LEADER.log" | tail -1 | sed -n 's/.* bytes=\([0-9]*\).*/\1/p')
suffix_bytes=$(narrowed | sed -n 's/.* bytes=\([0-9]*\).*/\1/p')
check suffix_smaller_than_export test "${suffix_bytes:-0}" -gt 0 -a "${suffix_bytes:-0}" -lt "${exported_bytes:-0}"
check no_export_file_left test ! -e "cluster/$LEADER/data/snapshot.out"
expect_exit 0 status_on_caught_up_node sl status --node "${ADDR[$FOLLOWER]}" --key cluster/keys/mfg.key --json \
	"(01)$GTIN(21)S5-000000000000007"
check caught_up_status_active test "$(jq -r '.status + "@" + .site' <<<"$OUT")" = active@mfg
check new_records_reach_it commission mfg "$LEADER" C2 B1
check agree_after_catch_up poll_until 50 same_state "${SITES[@]}"

# the caught-up node's own files: history of an item (the node holds the directory: stop it first),
# then a restart from its compaction point
kill -TERM "${PID[$FOLLOWER]}"
wait "${PID[$FOLLOWER]}"
check caught_up_sigterm_exit_0 test $? -eq 0
expect_exit 0 history_on_caught_up_node sl history --data "cluster/$FOLLOWER/data" --json "(01)$GTIN(21)S3-000000000000600"
check history_names_commission grep -q '"ACCEPTED"' <<<"$OUT"
start_node "$FOLLOWER"
check restart_from_compaction_point poll_until 100 same_state "${SITES[@]}"

# --- 3. a tampered follower: its snapshot install diverges
FOLLOWER_APPLIED=$(node_json "$FOLLOWER" | jq -r .applied)
kill -9 "${PID[$FOLLOWER]}"
wait "${PID[$FOLLOWER]}" 2>/dev/null
# a record applied straight to the follower's data directory, outside raft
expect_exit 0 tamper_follower_ledger sl commission --data "cluster/$FOLLOWER/data" --key "cluster/keys/$FOLLOWER.key" \
	--gtin $GTIN --lot ROGUE --expiry 281100 --serial X1
ok=1
for i in $(seq 1 $CATCHUP_RECORDS); do
	commission mfg "$LEADER" C3 "T$i" || { ok=0; break; }
done
check records_while_tampered_down test "$ok" -eq 1
check leader_compacted_past_again poll_until 50 compacted_past "$LEADER" "$((FOLLOWER_APPLIED + 1))"
start_node "$FOLLOWER"
if poll_until 300 eval '! kill -0 "${PID[$FOLLOWER]}" 2>/dev/null'; then
	pass tampered_node_stops
	wait "${PID[$FOLLOWER]}"
	check tampered_node_exit_1 test $? -eq 1
else
	fail tampered_node_stops "still running 30 s after its restart (log tail below)"
	tail -n 20 "$FOLLOWER.log"
fi
check divergence_logged grep -q 'level=error msg="divergence while installing a snapshot"' "$FOLLOWER.log"
# it was sent a suffix (it held entries): the running hash carried on from its own tampered ledger (D30)
narrowings() { local s; for s in "${OTHERS[@]}"; do cat "$s.log"; done | grep -c 'msg="snapshot transfer narrowed to a suffix"'; }
check tampered_node_sent_a_suffix test "$(narrowings)" -ge 2
check others_still_agree poll_until 50 same_state "${OTHERS[@]}"
check others_still_accept commission mfg "$LEADER" C4 D1

cluster_stop "${OTHERS[@]}"
