#!/usr/bin/env bash
# Integration test: checkpoints as ledger records and alarms (docs/operations.md "Checkpoints",
# "Events", "Metrics"; docs/reconciliation.md "Alarms") on a three-node loopback cluster with a short
# checkpoint_every_ms:
#   - every site's node signs and submits checkpoint records on its own; `checkpoint --node` asks for
#     one now and prints its note;
#   - a burst of refusals on one day after clean days makes the p-chart signal (above the upper
#     limit, computed below): a subscriber sees the "spc" alarm with site, line, rule and records;
#   - a checkpoint signed with a site key over a forked copy of the ledger is refused
#     (CHECKPOINT_ROOT_MISMATCH) and raises the "divergence" alarm; both alarms are counted;
#   - an export audits clean and names each site's checkpoint records as verified in-ledger
#     checkpoints.
# Every wait is bounded; every process is stopped.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
EVENTS_SUB="$BUILD_DIR/itest/events_sub"
GTIN=09506000134352
DAY_MS=86400000
SITES=(mfg dc pharmacy)
# twelve ports per run (6 cluster, 3 events, 3 metrics) in 5000-9799: below the other tests' ranges
# (test_node_observe.sh 10000+, cluster.sh 20000+) and the Linux ephemeral range
BASE=$((5000 + ($$ % 400) * 12))
CLUSTER_PORT_BASE=$BASE
CLUSTER_CHECKPOINT_EVERY_MS=300 # every node checkpoints three times a second (cluster.sh)
declare -A EVENTS METRICS
for i in 0 1 2; do
	EVENTS[${SITES[$i]}]="tcp://127.0.0.1:$((BASE + 6 + i))"
	METRICS[${SITES[$i]}]="127.0.0.1:$((BASE + 9 + i))"
done

if [ ! -x "$EVENTS_SUB" ] || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
	fail checkpoint_prerequisites "need $EVENTS_SUB (make unit-bins), curl and jq (scripts/install-deps.sh)"
	exit 1
fi

# Called by cluster_up between `cluster init` and each node's start. The copy of mfg's data directory
# made before its node opens it is an empty ledger of this cluster: a fork to sign a checkpoint from.
cluster_configure() {
	sed -i "1i spc_every_ms = 300\nevents_listen = ${EVENTS[$1]}\nmetrics_listen = ${METRICS[$1]}" "cluster/$1/node.conf"
	if [ "$1" = mfg ]; then cp -r cluster/mfg/data forked; fi
}

scrape() { curl -sf --max-time 5 "http://${METRICS[$1]}/metrics"; }
metric_at_least() { local v; v=$(scrape "$1" | awk -v m="$2" '$1 == m { print $2 }') && [ -n "$v" ] && [ "${v%.*}" -ge "$3" ]; }
# checkpoint records the node of SITE submitted and saw accepted (its log: node/checkpoint.c)
accepted_checkpoints() { grep -c 'msg="checkpoint submitted".*outcome=ACCEPTED' "$1.log"; }
has_checkpoints() { [ "$(accepted_checkpoints "$1")" -ge "$2" ]; }

cluster_up "${SITES[@]}" || exit 1

# --- every site signs on its own once the ledger has content (one checkpoint per site at least)
expect_exit 0 content_committed sl_at mfg commission --gtin $GTIN --lot CP1 --expiry 281100 --serial C1 --serial C2
for s in "${SITES[@]}"; do
	check "checkpoint_record_of_$s" poll_until 100 has_checkpoints "$s" 1
done
check checkpoints_logged_with_origin grep -q 'msg="checkpoints" origin=siteledger/cluster every_ms=300' dc.log

# --- on demand: the asked node (dc) signs its head, submits it, prints the note
expect_exit 0 checkpoint_on_demand sl checkpoint --node "${ADDR[dc]}" --key cluster/keys/mfg.key --json
jq -j .note <<<"$OUT" >demand.note
check on_demand_accepted test "$(jq -r .outcome <<<"$OUT")" = ACCEPTED
check on_demand_note_origin test "$(head -n 1 demand.note)" = siteledger/cluster
check on_demand_note_size test "$(sed -n 2p demand.note)" -ge 4
check on_demand_note_signed_by_dc grep -q $'^\xe2\x80\x94 dc ' demand.note
check on_demand_note_one_line test "$(wc -l <demand.note)" -eq 5
expect_exit 2 checkpoint_on_demand_needs_key sl checkpoint --node "${ADDR[dc]}"

# --- SPC: four clean days of 5 records, then a day with 5 refusals (duplicate commissions), all by
# line qa-line-1 of mfg. Line series: p = 0, 0, 0, 0, 1; centre 5/25 = 0.2; sigma = sqrt(0.2 * 0.8 / 5)
# = 0.179; UCL = 0.2 + 3 * 0.179 = 0.737 < 1: the fifth day is above the upper limit (rule "beyond").
# The site's series also holds today's clean records: a lower centre, the same signal.
timeout 60 "$EVENTS_SUB" "${EVENTS[dc]}" 2 45000 'alarm {"alarm":"spc"' >spc.out 2>spc.err &
SUB_SPC=$!
BACKGROUND_PIDS+=("$SUB_SPC")
sleep 1 # the subscription reaches the publisher (PUB keeps nothing for late subscribers)
NOW_MS=$(($(date +%s) * 1000))
sign() { # DAYS-AGO SERIAL: one record of line qa-line-1 into spc.records
	"$SITELEDGER" commission --sign-only --key cluster/keys/mfg.key --actor qa-line-1 \
		--event-time $((NOW_MS - $1 * DAY_MS)) --gtin $GTIN --lot SPC --expiry 281100 --serial "$2" --out spc.records
}
SIGNED=0
for d in 5 4 3 2; do
	for k in 1 2 3 4 5; do sign "$d" "S$d$k" && SIGNED=$((SIGNED + 1)); done
done
for k in 1 2 3 4 5; do sign 1 "S2$k" && SIGNED=$((SIGNED + 1)); done # already commissioned: refused
check spc_records_signed test "$SIGNED" -eq 25
expect_exit 1 spc_burst_submitted sl submit --node "${ADDR[mfg]}" --key cluster/keys/mfg.key spc.records --json
REFUSED=$(jq -c '[.results[] | select(.outcome == "DUPLICATE_COMMISSION") | .seq]' <<<"$OUT")
check spc_five_refused test "$(jq length <<<"$REFUSED")" -eq 5
wait "$SUB_SPC"
check spc_alarm_received test $? -eq 0
sed 's/^alarm //' spc.out >spc.json
check spc_alarm_site_line_rule jq -e -s 'map(select(.site == "mfg" and .line == "qa-line-1" and .rule == "beyond")) | length == 1' spc.json
check spc_alarm_site_series jq -e -s 'map(select(.site == "mfg" and .line == "" and .rule == "beyond")) | length == 1' spc.json
check spc_alarm_records jq -e -s --argjson want "$REFUSED" 'all(.[]; .records == $want)' spc.json
check spc_alarm_logged grep -q 'msg="alarm" kind=spc site=mfg line="qa-line-1" rule=beyond records=' dc.log

# --- a checkpoint of a forked ledger: mfg's key signs size 1 of a copy where entry 1 differs
timeout 60 "$EVENTS_SUB" "${EVENTS[pharmacy]}" 1 30000 'alarm {"alarm":"divergence"' >divergence.out 2>divergence.err &
SUB_DIV=$!
BACKGROUND_PIDS+=("$SUB_DIV")
sleep 1
expect_exit 0 fork_diverges sl commission --data forked --gtin $GTIN --lot FORK --expiry 281100 --serial F1
expect_exit 0 forged_checkpoint_signed sl checkpoint --data forked --sign-only --size 1 --out forged.record
expect_exit 1 forged_checkpoint_refused sl submit --node "${ADDR[dc]}" --key cluster/keys/mfg.key forged.record --json
FORGED_SEQ=$(jq -r '.results[0].seq' <<<"$OUT")
check forged_root_mismatch test "$(jq -r '.results[0].outcome' <<<"$OUT")" = CHECKPOINT_ROOT_MISMATCH
wait "$SUB_DIV"
check divergence_alarm_received test $? -eq 0
check divergence_alarm_fields jq -e --argjson seq "$FORGED_SEQ" \
	'.site == "mfg" and .records == [$seq] and (.what | test("CHECKPOINT_ROOT_MISMATCH"))' <(sed 's/^alarm //' divergence.out)
for s in "${SITES[@]}"; do
	check "divergence_logged_$s" poll_until 50 grep -q "msg=\"alarm\" kind=divergence site=mfg line=\"\" rule=- records=$FORGED_SEQ" "$s.log"
	check "divergence_counted_$s" poll_until 50 metric_at_least "$s" 'siteledger_alarms_total{kind="divergence"}' 1
	check "spc_counted_$s" poll_until 50 metric_at_least "$s" 'siteledger_alarms_total{kind="spc"}' 2
done
check checkpoint_outcome_counted poll_until 50 metric_at_least dc 'siteledger_records_total{outcome="CHECKPOINT_ROOT_MISMATCH"}' 1

# --- the nodes agree, then stop; an export of one data directory audits clean with every site's
# checkpoint records verified against the replayed tree. Once the ledger is idle every node signs
# the same size (node/checkpoint.c: trailing checkpoint records are left out): a cosigned head.
last_size() { grep 'msg="checkpoint submitted".*outcome=ACCEPTED' "$1.log" | tail -n 1 | sed 's/.* size=\([0-9]*\) .*/\1/'; }
cosigned() { local a b c; a=$(last_size mfg) b=$(last_size dc) c=$(last_size pharmacy); [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]; }
check idle_head_cosigned_by_all poll_until 100 cosigned
check cluster_agrees poll_until 100 same_state "${SITES[@]}"
for s in "${SITES[@]}"; do
	kill -TERM "${PID[$s]}"
	wait "${PID[$s]}"
	check "sigterm_exit_0_$s" test $? -eq 0
done
mkdir keys && cp cluster/keys/*.pub keys/
expect_exit 0 export_written sl export --data cluster/pharmacy/data --out ledger.bundle
expect_exit 0 export_audits_clean sl audit ledger.bundle --keys keys --json --report-json report.json
check audit_names_ledger_checkpoints jq -e '.ledger_checkpoints.accepted >= 4 and .ledger_checkpoints.refused == 1' <<<"$OUT"
for s in "${SITES[@]}"; do
	check "audit_verified_checkpoints_of_$s" jq -e --arg s "$s" '.ledger_checkpoints.per_site[$s] >= 1' <<<"$OUT"
	check "report_lists_checkpoints_of_$s" jq -e --arg s "$s" \
		'[.records[] | select(.type == "checkpoint" and .site == $s and .outcome == "ACCEPTED")] | length >= 1' report.json
done
check report_lists_forged jq -e '[.records[] | select(.outcome == "CHECKPOINT_ROOT_MISMATCH")] | length == 1' report.json
# a bundle whose checkpoint record was altered fails its audit (the record's signature, its root)
python3 - ledger.bundle altered.bundle <<'EOF' || true
import sys
lines = open(sys.argv[1]).read().split("\n")
for i, line in enumerate(lines):
    if line.startswith("entry ") and "8a0001010c" in line: # a record map whose type is 12 (checkpoint)
        seq, hexa = line.split(" ")[1:3]
        j = len(hexa) - 200 # inside the record, before its signature's last bytes
        hexa = hexa[:j] + ("0" if hexa[j] != "0" else "1") + hexa[j + 1:]
        lines[i] = "entry %s %s" % (seq, hexa)
        break
open(sys.argv[2], "w").write("\n".join(lines))
EOF
expect_exit 1 altered_checkpoint_record_fails_audit sl audit altered.bundle --keys keys

# --- a proof for one serial is anchored on the sites' cosigned checkpoint kept in the ledger
expect_exit 0 proof_written sl prove --data cluster/pharmacy/data "(01)$GTIN(21)C1" --out c1.proof
expect_exit 0 proof_verifies sl verify-proof c1.proof --keys keys
check proof_anchor_cosigned eval 'grep -q "signed by .*mfg" <<<"$OUT" && grep -q "signed by .*dc" <<<"$OUT" && grep -q "signed by .*pharmacy" <<<"$OUT"'
check proof_anchor_size_is_the_cosigned_head test "$(grep -o 'last: size [0-9]*' <<<"$OUT")" = "last: size $(last_size dc)"
