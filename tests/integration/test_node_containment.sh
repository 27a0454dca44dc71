#!/usr/bin/env bash
# Integration test (issue #6 §3): containment across three siteledgerd nodes. A lock of a lot issued at one
# site, through its own node, is enforced at the other sites, through theirs, from the next commit: ships,
# receipts and dispensing of affected packs are refused with LOCKED; destruction and return to the maker stay
# possible; a quarantine can be lifted, a recall cannot. Every node ends with the same ledger.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
GTIN=09506000134352
LOT=CONT1
pack() { echo "(01)$GTIN(21)$1"; }

outcome_is() { # WANT: the first result's outcome in the last JSON answer
	[ "$(jq -r '.results[0].outcome' <<<"$OUT")" = "$1" ]
}

status_on() { # SITE ITEM: "status@site" of ITEM as SITE's node reports it
	sl status --node "${ADDR[$1]}" --key "cluster/keys/$1.key" --json "$2" | jq -r '.status + "@" + .site'
}

cluster_up mfg dc pharmacy || exit 1

# --- before the lock: stock at the three places
expect_exit 0 commission sl_at mfg commission --gtin $GTIN --lot $LOT --expiry 281100 \
	--serial K1 --serial K2 --serial K3 --serial K4 --serial K5 --json
expect_exit 0 ship_to_dc sl_at mfg ship --to dc "$(pack K1)" "$(pack K2)" "$(pack K3)" "$(pack K5)" --json
expect_exit 0 dc_receives sl_at dc receive "$(pack K1)" "$(pack K2)" "$(pack K3)" "$(pack K5)" --json
expect_exit 0 ship_k4_to_pharmacy sl_at mfg ship --to pharmacy "$(pack K4)" --json

# --- the pharmacy quarantines the lot through its own node
expect_exit 0 pharmacy_quarantines sl_at pharmacy lock --scope lot --reason quarantine "$GTIN/$LOT" --json
check quarantine_accepted outcome_is ACCEPTED

# --- enforced at dc (through dc's node) and at the pharmacy for the goods arriving there
expect_exit 1 dc_ship_onwards_refused sl_at dc ship --to pharmacy "$(pack K1)" --json
check dc_ship_onwards_locked outcome_is LOCKED
expect_exit 1 dc_dispense_refused sl_at dc decommission --reason dispensed "$(pack K2)" --json
check dc_dispense_locked outcome_is LOCKED
expect_exit 1 pharmacy_receipt_refused sl_at pharmacy receive "$(pack K4)" --json
check pharmacy_receipt_locked outcome_is LOCKED
check k4_stays_in_transit test "$(status_on dc "$(pack K4)")" = in_transit@mfg

# --- what stays possible: destruction, and return to the maker (received into quarantine there)
expect_exit 0 dc_destroys sl_at dc decommission --reason destroyed "$(pack K3)" --json
check dc_destroy_accepted outcome_is ACCEPTED
expect_exit 0 dc_returns_to_maker sl_at dc ship --to mfg "$(pack K2)" --json
check return_accepted outcome_is ACCEPTED
expect_exit 0 maker_receives_return sl_at mfg receive "$(pack K2)" --json
check return_received outcome_is ACCEPTED
expect_exit 1 returned_pack_still_locked sl_at mfg decommission --reason dispensed "$(pack K2)" --json
check returned_pack_locked outcome_is LOCKED

# --- the quarantine is lifted at dc: the lot moves again
expect_exit 0 dc_lifts_quarantine sl_at dc unlock --scope lot --reason quarantine "$GTIN/$LOT" --json
check unlock_accepted outcome_is ACCEPTED
expect_exit 0 pharmacy_receives_after_unlock sl_at pharmacy receive "$(pack K4)" --json
expect_exit 0 dc_dispenses_after_unlock sl_at dc decommission --reason dispensed "$(pack K1)" --json

# --- a recall from mfg: final, and enforced everywhere
expect_exit 0 mfg_recalls sl_at mfg lock --scope lot --reason recall "$GTIN/$LOT" --json
expect_exit 1 recall_cannot_be_lifted sl_at dc unlock --scope lot --reason recall "$GTIN/$LOT" --json
check recall_irreversible outcome_is IRREVERSIBLE_STATE
expect_exit 1 pharmacy_dispense_after_recall sl_at pharmacy decommission --reason dispensed "$(pack K4)" --json
check pharmacy_dispense_recall_locked outcome_is LOCKED
expect_exit 1 recalled_lot_commission_refused sl_at mfg commission --gtin $GTIN --lot $LOT --expiry 281100 \
	--serial K9 --json
check recalled_commission_locked outcome_is LOCKED
expect_exit 0 pharmacy_destroys_recalled sl_at pharmacy decommission --reason destroyed "$(pack K4)" --json

# --- every node holds the same ledger and answers the same statuses
check nodes_agree poll_until 100 same_state mfg dc pharmacy
for s in mfg dc pharmacy; do
	check "k2_returned_on_$s" test "$(status_on "$s" "$(pack K2)")" = active@mfg
	check "k5_still_at_dc_on_$s" test "$(status_on "$s" "$(pack K5)")" = active@dc
	check "k4_destroyed_on_$s" test "$(status_on "$s" "$(pack K4)")" = decommissioned@pharmacy
done
cluster_stop mfg dc pharmacy
