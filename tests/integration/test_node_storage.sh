#!/usr/bin/env bash
# Integration test (issue #4, docs/decisions.md D15): the storage thread and the thread pool of siteledgerd.
#  1. While large batches persist (three clients, each request 40 commissions of 1000 serials), the leader
#     and a follower keep answering `node status`, and some answers show commit > applied: the loop
#     answered while a Ready's write transaction was running on the storage thread.
#  2. A request whose record carries a bad signature is refused before it is proposed (thread pool
#     verification); nothing of it reaches the ledger.
#  3. SIGTERM to the leader under load from three clients: it exits 0 after the persist in flight, the
#     clients carry on through the survivors, the node restarts and catches up, and every acknowledged record
#     is present exactly once on every node.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
GTIN=09506000134352
SITES=(mfg dc pharmacy)
BURST_RECORDS=40 # per request; 1000 serials each: about 530 KB of records
LOAD_RECORDS=${STORAGE_LOAD_RECORDS_PER_CLIENT:-30}

cluster_up "${SITES[@]}" || exit 1
LEADER=$(leader_of "${SITES[@]}")
FOLLOWER=mfg
[ "$LEADER" = mfg ] && FOLLOWER=dc

# --- 1. node status during a burst of large submissions
for s in "${SITES[@]}"; do
	for f in 1 2; do
		for ((r = 0; r < BURST_RECORDS; r++)); do
			sl commission --sign-only --key "cluster/keys/$s.key" --gtin $GTIN --lot "BURST$f" --expiry 281100 \
				--count 1000
		done >"burst.$s.$f"
	done
done
check burst_records_signed test "$(cat burst.*.* | wc -l)" -eq $((3 * 2 * BURST_RECORDS))

# status_poll SITE: node status every ~50 ms until ./burst.done exists (bounded); one line per answer
# "commit applied", one line "FAIL" per call that was not answered
status_poll() {
	local i out
	for ((i = 0; i < 1200; i++)); do
		[ -e burst.done ] && break
		if out=$(timeout 5 "$SITELEDGER" node status --node "${ADDR[$1]}" --key "$CLUSTER_KEY" --json 2>/dev/null); then
			jq -r '"\(.commit) \(.applied)"' <<<"$out"
		else
			echo FAIL
		fi
		sleep 0.05
	done
}
status_poll "$LEADER" >status.leader &
POLL_LEADER=$!
status_poll "$FOLLOWER" >status.follower &
POLL_FOLLOWER=$!
BACKGROUND_PIDS+=("$POLL_LEADER" "$POLL_FOLLOWER")
sleep 0.3 # both pollers have answers from before the burst
BURST=()
for s in "${SITES[@]}"; do
	(for f in 1 2; do
		sl submit --node "${ADDR[$s]}" --key "cluster/keys/$s.key" --json "burst.$s.$f" >"burst.$s.$f.out" 2>&1 ||
			echo "$s.$f" >>burst.failed
	done) &
	BURST+=("$!")
	BACKGROUND_PIDS+=("$!")
done
for pid in "${BURST[@]}"; do wait "$pid"; done
touch burst.done
wait "$POLL_LEADER" "$POLL_FOLLOWER"
check burst_all_submits_accepted test ! -e burst.failed
check burst_outcomes_accepted test "$(cat burst.*.*.out | jq -r '.results[].outcome' | sort -u)" = ACCEPTED
check status_answered_during_burst test "$(grep -vc FAIL status.leader)" -ge 10 -a "$(grep -vc FAIL status.follower)" -ge 10
check status_never_unanswered test "$(cat status.leader status.follower | grep -c FAIL)" -eq 0
mid_persist() { awk '$1 > $2 { n++ } END { print n + 0 }' status.leader status.follower; }
check status_answered_mid_persist test "$(mid_persist)" -ge 1
check burst_replicas_agree poll_until 300 same_size $((3 * 2 * BURST_RECORDS)) "${SITES[@]}"
check burst_ledger_size test "${STATE%% *}" -eq $((3 * 2 * BURST_RECORDS))

# --- 2. a record with a bad signature is refused before it is proposed
sl commission --sign-only --key "cluster/keys/$LEADER.key" --gtin $GTIN --lot BADSIG --expiry 281100 --serial B1 >good.hex
line=$(cat good.hex)
pos=$((${#line} - 20)) # inside the signature: the record's last 128 hex digits
digit=${line:$pos:1}
[ "$digit" = 0 ] && repl=1 || repl=0
printf '%s%s%s\n' "${line:0:$pos}" "$repl" "${line:$((pos + 1))}" >bad.hex
expect_exit 2 bad_record_signature_refused sl submit --node "${ADDR[$LEADER]}" --key "cluster/keys/$LEADER.key" bad.hex
check bad_record_signature_message grep -q "record 1: record signature does not verify" <<<"$ERR"
check bad_record_not_in_ledger test "$(node_json "$LEADER" | jq .ledger_size)" -eq $((3 * 2 * BURST_RECORDS))
expect_exit 0 good_record_accepted sl submit --node "${ADDR[$LEADER]}" --key "cluster/keys/$LEADER.key" --json good.hex

# --- 3. SIGTERM to the leader under load
LEADER=$(leader_of "${SITES[@]}")
load_start TERM "$LOAD_RECORDS" 50
check load_is_flowing poll_until 300 eval '[ "$(acked_total)" -ge 12 ]'
BEFORE=$(acked_total)
echo "$LEADER" >dead
kill -TERM "${PID[$LEADER]}"
wait "${PID[$LEADER]}"
check sigterm_under_load_exit_0 test $? -eq 0
check sigterm_under_load_logged grep -q 'msg="stopped" exit=0' "$LEADER.log"
load_wait
AFTER=$(acked_total)
check work_carried_on_after_sigterm test "$AFTER" -gt "$BEFORE"
check most_requests_acknowledged test "$AFTER" -ge $((3 * LOAD_RECORDS * 2 / 3))
start_node "$LEADER"
check all_agree_after_restart poll_until 300 same_state "${SITES[@]}"
cluster_stop "${SITES[@]}"

# exactly once, on every node: each node's ledger read directly now that it is stopped
check_acked_exactly_once "${SITES[@]}"
