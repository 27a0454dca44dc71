#!/usr/bin/env bash
# Integration test: reconciliation, containment (where) and SPC on the scripted three-site scenario
# of tests/integration/reconcile_scenario.sh, with known answers (docs/reconciliation.md). The
# manufacturer (mfg) keeps the ledger; the distribution centre (dc) signs on its own host
# (--sign-only) and its records are submitted as files, as scripts/demo.sh does.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/reconcile_scenario.sh"
sl() { "$SITELEDGER" "$@"; }

expect_exit 0 keygen_mfg sl keygen --site mfg --out mfg.key
expect_exit 0 keygen_dc sl keygen --site dc --out dc.key
expect_exit 0 keygen_pharm sl keygen --site pharm --out pharm.key
expect_exit 0 init sl init --data ledger --site mfg --key mfg.key --site dc=dc.key.pub --site pharm=pharm.key.pub
m() { sl "$@" --data ledger --event-time $T0 --actor line-1; }
d() { sl "$@" --key dc.key --sign-only --out dc.records --event-time $T0 --actor dc-clerk; }

# --- the scenario, written by mfg here and by dc through signed files
as_mfg() { local want=$1 name=$2; shift 2; expect_exit "$want" "$name" m "$@"; }
as_dc() {
	local want=$1 name=$2
	shift 2
	rm -f dc.records
	expect_exit 0 "${name}_signed" d "$@"
	expect_exit "$want" "$name" sl submit --data ledger dc.records
}
reconcile_scenario

# --- reconciliation, all sites
expect_exit 0 reconcile_json sl reconcile --data ledger --lot $GTIN/$LOT --json
R=$OUT
reconcile_scenario_check "$R"

# --- the auditor recomputes the same reconciliation from a full export (issues 5 and 6)
mkdir keys && cp mfg.key.pub dc.key.pub pharm.key.pub keys/
# the fields `audit --json` reports per lot, taken from `reconcile --json`
RECON_FIELDS='{gtin, lot, as_of, entries, counts, releasable, counters_agree, open_exceptions, exceptions: (.exceptions | length), unexplained}'
AUDIT_FIELDS='{gtin, lot, as_of, entries, counts, releasable, counters_agree, open_exceptions, exceptions, unexplained}'
# audit_matches_reconcile NAME: export, audit, and compare the lot's numbers with `reconcile --json`
audit_matches_reconcile() {
	expect_exit 0 "${1}_export" sl export --data ledger --out "$1.bundle"
	expect_exit 0 "${1}_reconcile" sl reconcile --data ledger --lot $GTIN/$LOT --json
	local want got
	want=$(jq -S -c "$RECON_FIELDS" <<<"$OUT")
	expect_exit 0 "${1}_audit" sl audit "$1.bundle" --keys keys --json --report-json "$1.json" --report "$1.html"
	AUDIT=$OUT
	got=$(jq -S -c --arg g $GTIN --arg l $LOT ".reconciliation.lots[] | select(.gtin == \$g and .lot == \$l) | $AUDIT_FIELDS" <<<"$AUDIT")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then pass "${1}_same_numbers"; else
		fail "${1}_same_numbers" "reconcile: $want audit: $got"; fi
	got=$(jq -S -c --arg g $GTIN --arg l $LOT ".summary.reconciliation.lots[] | select(.gtin == \$g and .lot == \$l) | $AUDIT_FIELDS" "$1.json")
	if [ "$want" = "$got" ]; then pass "${1}_report_same_numbers"; else
		fail "${1}_report_same_numbers" "reconcile: $want report: $got"; fi
}
audit_matches_reconcile audit_open
check audit_computed test "$(jq -r '.reconciliation.computed' <<<"$AUDIT")" = true
check audit_one_lot test "$(jq -r '[.reconciliation.lots_total, (.reconciliation.lots | length)] | join(",")' <<<"$AUDIT")" = "1,1"
check audit_unexplained_three test "$(jq -r '.reconciliation.lots[0].counts.unexplained' <<<"$AUDIT")" -eq 3
check audit_unexplained_identities test "$(jq -r '.reconciliation.lots[0].unexplained | join(",")' <<<"$AUDIT")" = \
	"$(P 10),$(P 7),$UNK1"
check audit_report_html_lot grep -q "Reconciliation (recomputed from the replay)" audit_open.html
expect_exit 0 audit_text sl audit audit_open.bundle --keys keys
check audit_text_lot grep -q "lot $LOT of GTIN $GTIN: commissioned 10 .* unexplained 3; 5 exceptions (4 open)" <<<"$OUT"
check audit_text_unexplained grep -q "unexplained: $UNK1" <<<"$OUT"
expect_exit 0 export_lot_partial sl export --data ledger --lot $GTIN/$LOT --out lot.bundle
expect_exit 0 audit_partial sl audit lot.bundle --keys keys --json --report-json lot.json
check audit_partial_not_computed test "$(jq -r '.reconciliation | (.computed|tostring) + ":" + .reason' <<<"$OUT")" = \
	"false:reconciliation needs a full export"
check audit_partial_report_not_computed test "$(jq -r '.summary.reconciliation.computed' lot.json)" = false
expect_exit 0 audit_partial_text sl audit lot.bundle --keys keys
check audit_partial_text_says grep -q "reconciliation: not computed (reconciliation needs a full export)" <<<"$OUT"

# --- the identities behind a count, one command away
expect_exit 0 show_shipped sl reconcile --data ledger --lot $GTIN/$LOT --show shipped --json
check shipped_identities test "$(jq -r '.items | join(",")' <<<"$OUT")" = "$(P 1),$(P 2),$(P 3),$(P 4),$(P 5),$(P 6)"
expect_exit 0 show_in_transit_text sl reconcile --data ledger --lot $GTIN/$LOT --show in_transit
check in_transit_text test "$OUT" = "$(P 5)
$(P 6)"
expect_exit 2 show_unknown_count sl reconcile --data ledger --lot $GTIN/$LOT --show nonsense
expect_exit 2 bad_lot_option sl reconcile --data ledger --lot nonsense
expect_exit 0 reconcile_text sl reconcile --data ledger --lot $GTIN/$LOT
check text_says_must_be_zero grep -q "must be 0 before release" <<<"$OUT"

# --- shipped but not received: overdue after N days of ledger time (0: at once)
expect_exit 0 reconcile_overdue sl reconcile --data ledger --lot $GTIN/$LOT --overdue-days 0 --json
check overdue_exception test "$(jq -r '[.exceptions[] | select(.category == "data_no_product")][0] | (.items | join(",")) + ">" + .other_site' <<<"$OUT")" = \
	"$(P 5),$(P 6)>pharm"
check overdue_unexplained test "$(jq -r .counts.unexplained <<<"$OUT")" -eq 5

# --- one site's view
expect_exit 0 reconcile_dc sl reconcile --data ledger --lot $GTIN/$LOT --site dc --json
check dc_counts test "$(jq -r '[.counts.commissioned, .counts.on_hand, .counts.sampled, .counts.received, .counts.shipped] | map(tostring) | join(",")' <<<"$OUT")" = "0,3,1,4,0"
check dc_exceptions test "$(jq '.exceptions | length' <<<"$OUT")" -eq 2
check dc_unexplained test "$(jq -r .counts.unexplained <<<"$OUT")" -eq 2

# --- one line (the actor that signed the commission: docs/reconciliation.md "One line")
expect_exit 0 reconcile_line_1 sl reconcile --data ledger --lot $GTIN/$LOT --line line-1 --json
check line_1_counts test "$(jq -r '[.counts.commissioned, .counts.shipped, .counts.on_hand, .line] | map(tostring) | join(",")' <<<"$OUT")" = "10,6,4,line-1"
check line_1_no_unknown_serial test "$(jq -r '[(.exceptions | length), .counts.unexplained] | map(tostring) | join(",")' <<<"$OUT")" = "4,2"
expect_exit 0 reconcile_line_dc sl reconcile --data ledger --lot $GTIN/$LOT --line dc-clerk --json
check line_dc_made_nothing test "$(jq -r '[.counts.commissioned, .counts.received, (.exceptions | length)] | map(tostring) | join(",")' <<<"$OUT")" = "0,0,0"
check line_counters_still_checked test "$(jq -r .counters_agree <<<"$OUT")" = true

# --- periods of ledger time (docs/reconciliation.md "A period"); the ledger was written just now
expect_exit 0 reconcile_all_time sl reconcile --data ledger --lot $GTIN/$LOT --from 2000-01-01 --to 2999-12-31 --json
check all_time_same_counts test "$(jq -c .counts <<<"$OUT")" = "$(jq -c .counts <<<"$R")"
check all_time_period_echoed test "$(jq -r '.from + "/" + .to' <<<"$OUT")" = "2000-01-01T00:00:00.000Z/3000-01-01T00:00:00.000Z"
expect_exit 0 reconcile_future sl reconcile --data ledger --lot $GTIN/$LOT --from 2999-01-01 --json
check future_nothing test "$(jq -r '[.counts.commissioned, .counts.on_hand, (.exceptions | length), .releasable] | map(tostring) | join(",")' <<<"$OUT")" = "0,0,0,true"
# up to the refused aggregation (its entry excluded): the commissions only; P7 is still as commissioned
AGG_TIME=$(jq -r '.exceptions[0].time' <<<"$R")
expect_exit 0 reconcile_before_agg sl reconcile --data ledger --lot $GTIN/$LOT --to "$AGG_TIME" --json
check before_agg_counts test "$(jq -r '[.counts.commissioned, .counts.shipped, .counts.received, .counts.on_hand, .counts.locked, .counts.aggregated, (.exceptions | length)] | map(tostring) | join(",")' <<<"$OUT")" = "10,0,0,1,1,0,0"
expect_exit 0 reconcile_from_agg sl reconcile --data ledger --lot $GTIN/$LOT --from "$AGG_TIME" --json
check from_agg_counts test "$(jq -r '[.counts.commissioned, .counts.shipped, .counts.received, (.exceptions | length)] | map(tostring) | join(",")' <<<"$OUT")" = "0,6,4,5"
expect_exit 0 reconcile_period_text sl reconcile --data ledger --lot $GTIN/$LOT --from 2999-01-01 --line line-1 --html period.html
check period_text_says grep -q "Period (ledger time): from 2999-01-01T00:00:00.000Z to now" <<<"$OUT"
check period_html_says grep -q "Period (ledger time): from 2999-01-01T00:00:00.000Z to now" period.html
check line_html_says grep -q "Packs commissioned by line line-1 only" period.html
expect_exit 2 period_bad_day sl reconcile --data ledger --lot $GTIN/$LOT --from 2026-02-30
expect_exit 2 period_backwards sl reconcile --data ledger --lot $GTIN/$LOT --from 2026-11-02 --to 2026-11-01
expect_exit 2 period_bad_instant sl reconcile --data ledger --lot $GTIN/$LOT --to 2026-11-02T25:00:00Z
expect_exit 2 line_empty sl reconcile --data ledger --lot $GTIN/$LOT --line ""

# --- deviations close the remaining exceptions: unexplained drops to 0
REFS=$(jq -r '.exceptions[] | select(.resolved == false) | "--ref " + .record_id' <<<"$R")
expect_exit 0 deviation_rest m deviation --category other $REFS --text "investigated: see QA file 2026-117"
expect_exit 0 reconcile_after sl reconcile --data ledger --lot $GTIN/$LOT --json --html report.html
check releasable_after_deviations test "$(jq -r '.counts.unexplained' <<<"$OUT")" -eq 0
check all_resolved test "$(jq '[.exceptions[] | select(.resolved)] | length' <<<"$OUT")" -eq 5
check html_written grep -q "Unexplained is 0" report.html
check html_no_external_assets bash -c '! grep -Eq "(src|href)=" report.html'
audit_matches_reconcile audit_resolved
check audit_releasable_after_deviations test "$(jq -r '.reconciliation.lots[0] | (.counts.unexplained|tostring) + ":" + (.releasable|tostring)' <<<"$AUDIT")" = \
	"0:true"

# --- containment
expect_exit 0 where_json sl where --data ledger --lot $GTIN/$LOT --json
check where_p5_in_transit test "$(jq -r --arg id "$(P 5)" '.items[] | select(.id == $id) | .status + ":" + .site + ">" + .destination' <<<"$OUT")" = \
	"in_transit:mfg>pharm"
check where_p3_in_case_at_dc test "$(jq -r --arg id "$(P 3)" '.items[] | select(.id == $id) | .site + ":" + .top_container' <<<"$OUT")" = \
	"dc:$CASE"
check where_summary_on_hand_dc test "$(jq -r '.summary[] | select(.status == "active" and .site == "dc") | .count' <<<"$OUT")" -eq 3
check where_p7_locked test "$(jq -r --arg id "$(P 7)" '.items[] | select(.id == $id) | .locked' <<<"$OUT")" = true
expect_exit 0 where_text sl where --data ledger --lot $GTIN/$LOT
check where_text_transit grep -q "in transit from mfg to pharm" <<<"$OUT"

# --- SPC over the same ledger: mfg line-1 and dc records on one day
expect_exit 0 spc_json sl spc --data ledger --json --html spc.html
check spc_has_series test "$(jq '.series | length' <<<"$OUT")" -gt 0
check spc_dc_rejected test "$(jq -r '.series[] | select(.site == "dc" and .metric == "rejected" and .line == "" and .shift == -1) | .points[0] | (.defects|tostring) + "/" + (.size|tostring)' <<<"$OUT")" = "2/4"
check spc_html_svg grep -q "<svg" spc.html
expect_exit 2 spc_bad_since sl spc --data ledger --since 2026-13-01
expect_exit 2 spc_bad_shift sl spc --data ledger --shift-hours 7
for command in reconcile where spc; do
	expect_exit 0 "help_$command" sl "$command" --help
done
expect_exit 2 reconcile_needs_lot sl reconcile --data ledger
expect_exit 2 reconcile_needs_data sl reconcile --lot $GTIN/$LOT
expect_exit 2 reconcile_bad_site sl reconcile --data ledger --lot $GTIN/$LOT --site "Bad Site"
expect_exit 2 reconcile_bad_overdue sl reconcile --data ledger --lot $GTIN/$LOT --overdue-days 99999
expect_exit 0 reconcile_unknown_lot sl reconcile --data ledger --lot $GTIN/NOPE --json
check unknown_lot_zero test "$(jq -r '.counts.commissioned' <<<"$OUT")" -eq 0
