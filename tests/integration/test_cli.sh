#!/usr/bin/env bash
# Integration test: the `siteledger` command in embedded mode, as a site and its partners use it.
source "$(dirname "$0")/lib.sh" "${1:-build}"
sl() { "$SITELEDGER" "$@"; }
GTIN=09506000134352
LOT=IT-LOT1

# --- keys and init
expect_exit 0 keygen_mfg sl keygen --site mfg --out mfg.key
expect_exit 0 keygen_dc sl keygen --site dc --out dc.key
expect_exit 0 keygen_rogue sl keygen --site rogue --out rogue.key
check keygen_secret_mode_0600 test "$(stat -c %a mfg.key)" = 600
check keygen_public_written test -s mfg.key.pub
expect_exit 2 keygen_refuses_overwrite sl keygen --site mfg --out mfg.key
expect_exit 2 keygen_bad_site_id sl keygen --site "Bad Site" --out bad.key
cp mfg.key loose.key && chmod 644 loose.key
expect_exit 2 init_refuses_world_readable_key sl init --data loose --site mfg --key loose.key
check init_loose_key_message_names_permissions grep -q -i "permission" <<<"$ERR"
expect_exit 0 init sl init --data ledger --site mfg --key mfg.key --site dc=dc.key.pub
expect_exit 2 init_twice_refused sl init --data ledger --site mfg --key mfg.key
expect_exit 2 command_without_data_dir sl status '(01)09506000134352(21)X'
expect_exit 2 data_dir_not_initialised sl lot --data nowhere $GTIN $LOT

# --- commission
expect_exit 0 commission_generated sl commission --data ledger --gtin $GTIN --lot $LOT --expiry 281100 --count 5 --json
check commission_json_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED
mapfile -t SERIALS < <(jq -r '.serials[]' <<<"$OUT")
check commission_five_serials test "${#SERIALS[@]}" -eq 5
P0="(01)$GTIN(21)${SERIALS[0]}"
P1="(01)$GTIN(21)${SERIALS[1]}"
P2="(01)$GTIN(21)${SERIALS[2]}"
P3="(01)$GTIN(21)${SERIALS[3]}"
P4="(01)$GTIN(21)${SERIALS[4]}"
expect_exit 0 status_active sl status --data ledger --json "$P0"
check status_is_active_at_mfg test "$(jq -r '.status + "@" + .site' <<<"$OUT")" = active@mfg
expect_exit 1 duplicate_commission_rejected sl commission --data ledger --gtin $GTIN --lot $LOT --expiry 281100 --serial "${SERIALS[0]}" --json
check duplicate_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = DUPLICATE_COMMISSION
expect_exit 0 commission_split_into_records sl commission --data ledger --gtin $GTIN --lot BIG --expiry 281100 --count 2500 --json
check commission_2500_in_three_records test "$(jq '[.results[] | select(.outcome == "ACCEPTED")] | length' <<<"$OUT")" -eq 3
expect_exit 0 lot_counts sl lot --data ledger --json $GTIN BIG
check lot_counts_2500_active test "$(jq '[.sites[].counts.active] | add' <<<"$OUT")" -eq 2500
expect_exit 2 commission_bad_gtin sl commission --data ledger --gtin 09506000134353 --lot $LOT --expiry 281100 --serial A1
expect_exit 2 commission_bad_expiry sl commission --data ledger --gtin $GTIN --lot $LOT --expiry 281332 --serial A1
expect_exit 2 commission_bad_serial_charset sl commission --data ledger --gtin $GTIN --lot $LOT --expiry 281100 --serial "A B"
expect_exit 2 unknown_option sl commission --data ledger --colour blue

# --- identifier forms all name the same pack
EPC="urn:epc:id:sgtin:9506000.013435.${SERIALS[0]}"
DL="https://id.gs1.org/01/$GTIN/21/${SERIALS[0]}"
expect_exit 0 status_by_epc_uri sl status --data ledger --json "$EPC"
check epc_uri_same_item test "$(jq -r .id <<<"$OUT")" = "$P0"
expect_exit 0 status_by_digital_link sl status --data ledger --json "$DL"
check digital_link_same_item test "$(jq -r .id <<<"$OUT")" = "$P0"

# --- aggregation
CASE='(00)095060001000000012'
PALLET='(00)095060001000000036'
expect_exit 0 commission_containers sl commission-container --data ledger "$CASE" "$PALLET"
expect_exit 0 aggregate_case sl aggregate --data ledger --parent "$CASE" "$P0" "$P1" "$P2"
expect_exit 0 aggregate_pallet sl aggregate --data ledger --parent "$PALLET" "$CASE"
expect_exit 1 already_aggregated sl aggregate --data ledger --json --parent "$PALLET" "$P0"
check already_aggregated_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ALREADY_AGGREGATED
expect_exit 1 aggregation_cycle sl aggregate --data ledger --json --parent "$CASE" "$PALLET"
check aggregation_cycle_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = AGGREGATION_CYCLE

# --- shipping and receiving across sites
expect_exit 1 ship_unknown_site sl ship --data ledger --json --to nowhere "$PALLET"
check ship_unknown_site_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = UNKNOWN_SITE
expect_exit 0 ship_pallet sl ship --data ledger --to dc "$PALLET"
expect_exit 0 status_in_transit sl status --data ledger --json "$P1"
check contents_in_transit_to_dc test "$(jq -r '.status + ">" + .destination' <<<"$OUT")" = "in_transit>dc"
expect_exit 1 receive_by_wrong_site sl receive --data ledger --json "$PALLET"
check receive_wrong_site_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = NOT_DESTINATION
expect_exit 0 dc_signs_receive sl receive --key dc.key --sign-only --out dc.records "$PALLET"
expect_exit 0 submit_receive sl submit --data ledger --json dc.records
expect_exit 0 status_received sl status --data ledger --json "$P2"
check contents_active_at_dc test "$(jq -r '.status + "@" + .site' <<<"$OUT")" = active@dc

# --- signatures and keys
expect_exit 1 site_mismatch sl decommission --data ledger --key dc.key --json --reason destroyed "$P3"
check site_mismatch_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = SITE_MISMATCH
expect_exit 0 rogue_signs sl decommission --key rogue.key --sign-only --out rogue.records --reason destroyed "$P3"
expect_exit 1 unknown_key_rejected sl submit --data ledger --json rogue.records
check unknown_key_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = UNKNOWN_KEY
expect_exit 0 dc_signs_dispense sl decommission --key dc.key --sign-only --out tamper.records --reason dispensed "$P1"
# change one hex digit inside the signature (the record's last 128 hex digits)
line=$(cat tamper.records)
pos=$(( ${#line} - 20 ))
digit=${line:$pos:1}
[ "$digit" = 0 ] && repl=1 || repl=0
printf '%s%s%s\n' "${line:0:$pos}" "$repl" "${line:$((pos + 1))}" >tampered.records
expect_exit 1 tampered_signature_rejected sl submit --data ledger --json tampered.records
check tampered_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = BAD_SIGNATURE
echo "not hex at all" >garbage.records
expect_exit 2 submit_garbage_refused sl submit --data ledger garbage.records
echo "81a3666f6f01" >notarecord.records
expect_exit 2 submit_malformed_refused sl submit --data ledger notarecord.records
check submit_malformed_names_line grep -q "notarecord.records:1" <<<"$ERR"

# --- locks, dispensing, revert
expect_exit 0 lock_lot_quarantine sl lock --data ledger --scope lot --reason quarantine "$GTIN/$LOT"
expect_exit 0 dc_signs_locked_dispense sl decommission --key dc.key --sign-only --out locked.records --reason dispensed "$P1"
expect_exit 1 dispense_locked_rejected sl submit --data ledger --json locked.records
check dispense_locked_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = LOCKED
expect_exit 0 unlock_quarantine sl unlock --data ledger --scope lot --reason quarantine "$GTIN/$LOT"
expect_exit 0 dispense_after_unlock sl submit --data ledger tamper.records
expect_exit 0 status_dispensed sl status --data ledger --json "$P1"
check dispensed_status test "$(jq -r '.status + ":" + .decommission_reason' <<<"$OUT")" = decommissioned:dispensed
expect_exit 0 dc_signs_revert sl revert --key dc.key --sign-only --out revert.records "$P1"
expect_exit 0 revert_accepted sl submit --data ledger revert.records
expect_exit 0 status_reverted sl status --data ledger --json "$P1"
check reverted_active test "$(jq -r '.status' <<<"$OUT")" = active
expect_exit 0 recall_gtin sl lock --data ledger --scope gtin --reason recall $GTIN
expect_exit 1 recall_cannot_be_lifted sl unlock --data ledger --json --scope gtin --reason recall $GTIN
check recall_irreversible_reason test "$(jq -r '.results[0].outcome' <<<"$OUT")" = IRREVERSIBLE_STATE

# --- queries
expect_exit 0 history_json sl history --data ledger --json "$P2"
check history_lists_entries test "$(jq ".entries | length" <<<"$OUT")" -ge 5
check history_includes_container_entries test "$(jq '[.entries[] | select(.via != "")] | length' <<<"$OUT")" -ge 1
expect_exit 1 status_unknown_item sl status --data ledger "(01)$GTIN(21)NEVER"
expect_exit 2 status_bad_identifier sl status --data ledger "(01)12345(21)X"

# --- the data directory is held by one process at a time
flock -n ledger/LOCK -c 'sleep 5' &
BACKGROUND_PIDS+=($!)
sleep 0.5
expect_exit 2 data_dir_in_use_refused sl commission --data ledger --gtin $GTIN --lot $LOT --expiry 281100 --count 1
check data_dir_in_use_message grep -q "in use\|another" <<<"$ERR"

# --- help everywhere
for command in keygen init commission commission-container aggregate disaggregate ship receive decommission \
	revert lock unlock deviation submit status history lot; do
	expect_exit 0 "help_$command" sl "$command" --help
done
expect_exit 0 help_top sl --help
expect_exit 2 unknown_command sl frobnicate
