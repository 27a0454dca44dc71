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
CLIENT_SECONDS=120 # each client stops by then, whatever it reached

cluster_up "${SITES[@]}" || exit 1
LEADER=$(leader_of "${SITES[@]}")

# client SITE: commissions SITE-1, SITE-2, ... through the nodes not listed in ./dead, one by one; appends
# each serial whose commission was acknowledged ACCEPTED to acked.SITE
client() {
	local site=$1 i=0 n=0 node out deadline=$((SECONDS + CLIENT_SECONDS))
	while [ "$i" -lt "$RECORDS_PER_CLIENT" ] && [ "$SECONDS" -lt "$deadline" ]; do
		node=${SITES[$(((i + n) % 3))]}
		if grep -qx "$node" dead 2>/dev/null; then
			n=$((n + 1))
			continue
		fi
		i=$((i + 1))
		out=$(timeout 30 "$SITELEDGER" commission --node "${ADDR[$node]}" --key "cluster/keys/$site.key" \
			--gtin $GTIN --lot $LOT --expiry 281100 --serial "$site-$i" --json 2>>"client.$site.err")
		if [ "$(jq -r '.results[0].outcome' <<<"$out" 2>/dev/null)" = ACCEPTED ]; then
			echo "$site-$i" >>"acked.$site"
		fi
	done
}

touch dead acked.mfg acked.dc acked.pharmacy
CLIENTS=()
for s in "${SITES[@]}"; do
	client "$s" &
	CLIENTS+=("$!")
	BACKGROUND_PIDS+=("$!")
done

acked_total() { cat acked.* | wc -l; }
check load_is_flowing poll_until 300 eval '[ "$(acked_total)" -ge 15 ]'
BEFORE_KILL=$(acked_total)
echo "$LEADER" >dead
kill -9 "${PID[$LEADER]}"
wait "${PID[$LEADER]}" 2>/dev/null
for pid in "${CLIENTS[@]}"; do wait "$pid"; done
AFTER=$(acked_total)
check work_carried_on_after_kill test "$AFTER" -gt "$BEFORE_KILL"
check most_records_acknowledged test "$AFTER" -ge $((3 * RECORDS_PER_CLIENT / 2))

start_node "$LEADER"
check all_three_agree poll_until 200 same_state "${SITES[@]}"
cluster_stop "${SITES[@]}"

# --- exactly once, on every node: read each node's ledger directly now that it is stopped
for s in "${SITES[@]}"; do
	missing=0 twice=0
	while read -r serial; do
		count=$(timeout 30 "$SITELEDGER" history --data "cluster/$s/data" --json "(01)$GTIN(21)$serial" |
			jq '[.entries[] | select(.type == "commission" and .outcome == "ACCEPTED")] | length')
		if [ "${count:-0}" -eq 0 ]; then missing=$((missing + 1)); fi
		if [ "${count:-0}" -gt 1 ]; then twice=$((twice + 1)); fi
	done < <(cat acked.*)
	check "every_acked_record_on_$s" test "$missing" -eq 0
	check "no_record_twice_on_$s" test "$twice" -eq 0
	lot=$(timeout 30 "$SITELEDGER" lot --data "cluster/$s/data" --json $GTIN $LOT)
	check "lot_counts_cover_acked_on_$s" test "$(jq '[.sites[].counts.commissioned] | add' <<<"$lot")" -ge "$AFTER"
done
