#!/usr/bin/env bash
# Integration test (issue #4 §4): kill -9 of the leader under load from several clients. Three clients (one per
# site, each through the live nodes in turn) commission packs one record at a time; while they run the leader
# is killed; the clients carry on through the survivors; the killed node restarts and catches up. Then every
# acknowledged record is present exactly once on every node (one ACCEPTED commission per acknowledged serial in
# each node's ledger) and the three ledgers are identical (same size and state hash).
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
GTIN=09506000134352
LOT=LOAD1
SITES=(mfg dc pharmacy)
RECORDS_PER_CLIENT=${LOAD_RECORDS_PER_CLIENT:-40}

cluster_up "${SITES[@]}" || exit 1
LEADER=$(leader_of "${SITES[@]}")

load_start $LOT "$RECORDS_PER_CLIENT" 1
check load_is_flowing poll_until 300 eval '[ "$(acked_total)" -ge 15 ]'
BEFORE_KILL=$(acked_total)
echo "$LEADER" >dead
kill -9 "${PID[$LEADER]}"
wait "${PID[$LEADER]}" 2>/dev/null
load_wait
AFTER=$(acked_total)
check work_carried_on_after_kill test "$AFTER" -gt "$BEFORE_KILL"
check most_records_acknowledged test "$AFTER" -ge $((3 * RECORDS_PER_CLIENT / 2))

start_node "$LEADER"
check all_three_agree poll_until 200 same_state "${SITES[@]}"
cluster_stop "${SITES[@]}"

# --- exactly once, on every node: read each node's ledger directly now that it is stopped
check_acked_exactly_once "${SITES[@]}"
for s in "${SITES[@]}"; do
	lot=$(timeout 30 "$SITELEDGER" lot --data "cluster/$s/data" --json $GTIN $LOT)
	check "lot_counts_cover_acked_on_$s" test "$(jq '[.sites[].counts.commissioned] | add' <<<"$lot")" -ge "$AFTER"
done
