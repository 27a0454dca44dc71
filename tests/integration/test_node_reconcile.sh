#!/usr/bin/env bash
# Integration test (issue #6 §4): the scripted lot of tests/integration/reconcile_scenario.sh written by three
# sites through their own siteledgerd nodes; the reconciliation has the known answers, is the same on every node,
# and equals the auditor's recomputation from an export streamed through a node.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
source "$ROOT/tests/integration/reconcile_scenario.sh"
SITES=(mfg dc pharm)

cluster_up "${SITES[@]}" || exit 1

as_mfg() { local want=$1 name=$2 cmd=$3; shift 3; expect_exit "$want" "$name" sl_at mfg "$cmd" "$@" --event-time $T0 --actor line-1; }
as_dc() { local want=$1 name=$2 cmd=$3; shift 3; expect_exit "$want" "$name" sl_at dc "$cmd" "$@" --event-time $T0 --actor dc-clerk; }
reconcile_scenario
check nodes_agree poll_until 100 same_state "${SITES[@]}"

# --- the known answers, from every node
for s in "${SITES[@]}"; do
	expect_exit 0 "reconcile_on_$s" sl reconcile --node "${ADDR[$s]}" --key "cluster/keys/$s.key" --json --lot $GTIN/$LOT
	echo "$OUT" >"reconcile.$s"
done
reconcile_scenario_check "$(cat reconcile.mfg)"
check same_numbers_on_dc cmp -s reconcile.mfg reconcile.dc
check same_numbers_on_pharm cmp -s reconcile.mfg reconcile.pharm

# --- and from an export: the auditor's numbers are the nodes'
mkdir keys && cp cluster/keys/*.pub keys/
expect_exit 0 export_via_node sl_at pharm export --out lot.bundle
expect_exit 0 export_audits sl audit lot.bundle --keys keys --json
RECON_FIELDS='{gtin, lot, as_of, entries, counts, releasable, counters_agree, open_exceptions, exceptions: (.exceptions | length), unexplained}'
AUDIT_FIELDS='{gtin, lot, as_of, entries, counts, releasable, counters_agree, open_exceptions, exceptions, unexplained}'
want=$(jq -S -c "$RECON_FIELDS" reconcile.mfg)
got=$(jq -S -c --arg g $GTIN --arg l $LOT ".reconciliation.lots[] | select(.gtin == \$g and .lot == \$l) | $AUDIT_FIELDS" <<<"$OUT")
if [ -n "$want" ] && [ "$want" = "$got" ]; then pass audit_numbers_equal_nodes; else
	fail audit_numbers_equal_nodes "reconcile: $want audit: $got"; fi
cluster_stop "${SITES[@]}"
