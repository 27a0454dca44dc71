# tests/integration/reconcile_scenario.sh — the scripted three-site lot of docs/reconciliation.md with known
# answers, shared by test_reconcile.sh (one embedded ledger, other sites' records submitted as files) and
# test_node_reconcile.sh (a three-node cluster, each site writing through a node). Source after lib.sh.
#
# The caller defines how each site writes one record:
#   as_mfg WANT NAME CMD ARGS...   a record command of the manufacturer (mfg); WANT is the expected exit status
#   as_dc WANT NAME CMD ARGS...    the same for the distribution centre (dc)
# and gets:
#   reconcile_scenario             writes the lot; sets AGG_ERR (the refused aggregation) and DAMAGED (record ids)
#   reconcile_scenario_check JSON  checks `reconcile --json` of the lot, all sites, against the known answers
#
# The lot: 10 packs S1..S10.
#   S1..S4 packed in CASE (an attempt to pack S1 into CASE2 too is refused: aggregation error, later explained
#   by a deviation); CASE shipped to dc and received; dc samples S2 (it leaves the case). S5, S6 shipped to pharm
#   and never received (the lost shipment). dc "receives" S7, which nobody shipped (overage), and a serial never
#   commissioned (UNK1). S7 is quarantined and its shipment refused (LOCKED). S8 sampled and S9 destroyed at mfg.
#   S10 dispensed, reverted, then decommissioned as damaged.
GTIN=09506000134352
LOT=RC-LOT1
P() { echo "(01)$GTIN(21)S$1"; }
CASE='(00)095060001000000012'
CASE2='(00)095060001000000036'
UNK1="(01)$GTIN(21)UNK1"
T0=2026-11-02T09:00:00Z

reconcile_scenario() {
	as_mfg 0 commission_ten commission --gtin $GTIN --lot $LOT --expiry 281100 \
		$(for i in $(seq 1 10); do printf -- '--serial S%d ' "$i"; done)
	as_mfg 0 commission_cases commission-container "$CASE" "$CASE2"
	as_mfg 0 pack_case aggregate --parent "$CASE" "$(P 1)" "$(P 2)" "$(P 3)" "$(P 4)"
	as_mfg 1 aggregation_error aggregate --json --parent "$CASE2" "$(P 1)"
	AGG_ERR=$(jq -r '.results[0].record_id' <<<"$OUT")
	check aggregation_error_already_aggregated test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ALREADY_AGGREGATED
	as_mfg 0 ship_case ship --to dc "$CASE"
	as_mfg 0 ship_lost ship --to pharm "$(P 5)" "$(P 6)"
	as_dc 0 dc_receive_case receive "$CASE"
	as_dc 0 dc_sample decommission --reason sample "$(P 2)"
	as_dc 1 dc_overage_p7 receive "$(P 7)"
	as_dc 1 dc_overage_unknown receive "$UNK1"
	as_mfg 0 quarantine_p7 lock --scope serial --reason quarantine "$(P 7)"
	as_mfg 1 ship_locked ship --json --to pharm "$(P 7)"
	check ship_locked_refused test "$(jq -r '.results[0].outcome' <<<"$OUT")" = LOCKED
	as_mfg 0 sample_p8 decommission --reason sample "$(P 8)"
	as_mfg 0 destroy_p9 decommission --reason destroyed "$(P 9)"
	as_mfg 0 dispense_p10 decommission --reason dispensed "$(P 10)"
	as_mfg 0 revert_p10 revert "$(P 10)"
	as_mfg 0 damaged_p10 decommission --json --reason damaged "$(P 10)"
	DAMAGED=$(jq -r '.results[0].record_id' <<<"$OUT")
	as_mfg 0 deviation_aggregation deviation --category packaging_labelling --ref "$AGG_ERR" \
		--text "S1 scanned twice at packing; physically in CASE only"
}

reconcile_scenario_check() { # JSON of `reconcile --json --lot GTIN/LOT`
	local R=$1
	count() { jq -r ".counts.$1" <<<"$R"; }
	check count_commissioned test "$(count commissioned)" -eq 10
	check count_aggregated test "$(count aggregated)" -eq 3
	check count_shipped test "$(count shipped)" -eq 6
	check count_in_transit test "$(count in_transit)" -eq 2
	check count_received test "$(count received)" -eq 4
	check count_on_hand test "$(count on_hand)" -eq 4
	check count_sampled test "$(count sampled)" -eq 2
	check count_destroyed test "$(count destroyed)" -eq 1
	check count_damaged test "$(count damaged)" -eq 1
	check count_dispensed_zero test "$(count dispensed)" -eq 0
	check count_stolen_zero test "$(count stolen)" -eq 0
	check count_locked test "$(count locked)" -eq 1
	check count_reverted test "$(count reverted)" -eq 1
	check count_unexplained test "$(count unexplained)" -eq 3
	check not_releasable test "$(jq -r .releasable <<<"$R")" = false
	check counters_agree test "$(jq -r .counters_agree <<<"$R")" = true
	check five_exceptions test "$(jq '.exceptions | length' <<<"$R")" -eq 5
	check four_open test "$(jq '.open_exceptions' <<<"$R")" -eq 4
	check exception_categories test "$(jq -r '[.exceptions[].category] | join(",")' <<<"$R")" = \
		"packaging_labelling,product_no_data,product_no_data,unavailable_for_distribution,damaged"
	check packaging_resolved_by_deviation test "$(jq -r '.exceptions[0].resolved' <<<"$R")" = true
	check packaging_names_s1 test "$(jq -r '.exceptions[0].items | join(",")' <<<"$R")" = "$(P 1)"
	check packaging_record_is_the_refusal test "$(jq -r '.exceptions[0].record_id' <<<"$R")" = "$AGG_ERR"
	check overage_names_s7_at_dc test \
		"$(jq -r '.exceptions[1] | .items[0] + "@" + .site + ":" + .outcome' <<<"$R")" = "$(P 7)@dc:NOT_IN_TRANSIT"
	check overage_unknown_serial test "$(jq -r '.exceptions[2].items[0]' <<<"$R")" = "$UNK1"
	check damaged_open test "$(jq -r '.exceptions[4] | .items[0] + ":" + (.resolved|tostring)' <<<"$R")" = \
		"$(P 10):false"
	site_row() { jq -r --arg s "$1" '.sites[] | select(.site == $s) | [.commissioned, .on_hand, .in_transit_out, .in_transit_in, .decommissioned] | map(tostring) | join(",")' <<<"$R"; }
	check sites_mfg test "$(site_row mfg)" = "10,1,2,0,3"
	check sites_dc test "$(site_row dc)" = "0,3,0,0,1"
	check sites_pharm test "$(site_row pharm)" = "0,0,0,2,0"
	check unexplained_identities test "$(jq -r '.unexplained | join(",")' <<<"$R")" = "$(P 10),$(P 7),$UNK1"
}
