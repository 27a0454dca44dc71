#!/usr/bin/env bash
# Integration test: three siteledgerd nodes on loopback — election, replicated submissions from
# several clients, refusals, kill -9 of the leader, restart and catch-up, SIGTERM.
# Every wait is bounded (poll_until); every node is stopped at the end (lib.sh cleanup).
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
GTIN=09506000134352
SITES=(mfg dc pharmacy)

# --- cluster init and start
BASE=${CLUSTER_PORT_BASE:-$((20000 + ($$ % 2000) * 6))}
cluster_up "${SITES[@]}" || exit 1
check cluster_three_configs test -s cluster/mfg/node.conf -a -s cluster/dc/node.conf -a -s cluster/pharmacy/node.conf
check cluster_key_mode_0600 test "$(stat -c %a cluster/keys/mfg.key)" = 600
expect_exit 2 cluster_init_refuses_existing_dir sl cluster init --sites mfg,dc,pharmacy --dir cluster --base-port "$BASE"
check cluster_init_names_existing_file grep -q "already exists" <<<"$ERR"
LEADER=$(leader_of "${SITES[@]}")

# --- submissions from several clients, through leader and followers
expect_exit 0 mfg_commissions_via_mfg sl commission --node "${ADDR[mfg]}" --key cluster/keys/mfg.key \
	--gtin $GTIN --lot NODE1 --expiry 281100 --serial M1 --serial M2 --json
check mfg_outcome_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED
expect_exit 0 dc_commissions_via_pharmacy sl commission --node "${ADDR[pharmacy]}" --key cluster/keys/dc.key \
	--gtin $GTIN --lot NODE2 --expiry 281100 --count 3 --json
check dc_outcome_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED
sl commission --sign-only --key cluster/keys/pharmacy.key --gtin $GTIN --lot NODE3 --expiry 281100 \
	--serial P1 --serial P2 >pharmacy.hex
expect_exit 0 pharmacy_submits_presigned sl submit --node "${ADDR[dc]}" --key cluster/keys/pharmacy.key --json pharmacy.hex
check pharmacy_outcome_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED
expect_exit 1 duplicate_commission_rejected sl commission --node "${ADDR[dc]}" --key cluster/keys/dc.key \
	--gtin $GTIN --lot NODE2 --expiry 281100 --serial M1 --json
check duplicate_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = DUPLICATE_COMMISSION
check replicas_agree_after_submissions poll_until 50 same_state "${SITES[@]}"
for s in "${SITES[@]}"; do
	expect_exit 0 "status_on_$s" sl status --node "${ADDR[$s]}" --key cluster/keys/mfg.key --json "(01)$GTIN(21)M1"
	check "m1_owned_by_mfg_on_$s" test "$(jq -r '.status + "@" + .site' <<<"$OUT")" = active@mfg
done
expect_exit 1 status_unknown_item sl status --node "${ADDR[dc]}" --key cluster/keys/mfg.key "(01)$GTIN(21)NOPE"

# --- a shipment between sites, each signing its own record through a different node
expect_exit 0 ship_via_node sl ship --node "${ADDR[dc]}" --key cluster/keys/mfg.key --to dc "(01)$GTIN(21)M2"
expect_exit 0 receive_via_node sl receive --node "${ADDR[pharmacy]}" --key cluster/keys/dc.key "(01)$GTIN(21)M2"
check m2_received_at_dc poll_until 50 eval \
	'[ "$(sl status --node "${ADDR[mfg]}" --key cluster/keys/mfg.key --json "(01)$GTIN(21)M2" | jq -r .site)" = dc ]'

# --- refusals
sl keygen --site rogue --out rogue.key >/dev/null
expect_exit 2 unregistered_key_refused sl commission --node "${ADDR[$LEADER]}" --key rogue.key \
	--gtin $GTIN --lot NODE4 --expiry 281100 --serial R1
check unregistered_key_message grep -q "unknown key" <<<"$ERR"
expect_exit 2 other_sites_records_refused sl submit --node "${ADDR[$LEADER]}" --key cluster/keys/mfg.key pharmacy.hex
check other_site_message grep -q "writes only that site's records" <<<"$ERR"
expect_exit 2 node_status_needs_key sl node status --node "${ADDR[mfg]}"

# --- kill -9 the leader: a new one is elected and submissions continue
kill -9 "${PID[$LEADER]}"
wait "${PID[$LEADER]}" 2>/dev/null
REST=()
for s in "${SITES[@]}"; do [ "$s" != "$LEADER" ] && REST+=("$s"); done
check new_leader_elected poll_until 100 leader_of "${REST[@]}"
NEW_LEADER=$(leader_of "${REST[@]}") || NEW_LEADER=none
check leader_changed test "$NEW_LEADER" != "$LEADER"
expect_exit 0 submit_after_failover sl commission --node "${ADDR[${REST[0]}]}" --key "cluster/keys/${REST[0]}.key" \
	--gtin $GTIN --lot NODE5 --expiry 281100 --count 2 --json
check failover_outcome_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED

# --- restart the killed node: it catches up and all three agree
start_node "$LEADER"
check all_three_agree_after_restart poll_until 100 same_size 7 "${SITES[@]}"
# seven entries: three commissions, the refused duplicate (refusals are entries too), ship, receive, failover;
# equal state hashes mean every replica recorded the same outcomes (replica.h rule 3)
check ledger_has_seven_entries test "${STATE%% *}" -eq 7
check restarted_node_log_says_recovered grep -q 'msg="replica open".*applied=[1-9]' "$LEADER.log"
check logs_are_logfmt grep -q '^ts=[0-9T:.-]*Z level=info msg="started"' "$LEADER.log"

# --- SIGTERM: clean stop, exit 0
VICTIM=${REST[1]}
kill -TERM "${PID[$VICTIM]}"
wait "${PID[$VICTIM]}"
check sigterm_exit_0 test $? -eq 0
check sigterm_logged grep -q 'msg="stopped" exit=0' "$VICTIM.log"
start_node "$VICTIM"
check restart_after_sigterm_agrees poll_until 100 same_state "${SITES[@]}"
for s in "${SITES[@]}"; do
	kill -TERM "${PID[$s]}" 2>/dev/null
	wait "${PID[$s]}" 2>/dev/null
done
