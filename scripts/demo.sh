#!/usr/bin/env bash
# The embedded single-site demo (`make demo`): one manufacturing site keeps a signed serial ledger on
# its own machine, with no daemon, and a distribution centre signs its records on its own host.
# Narrates a realistic day and the refusals a real site meets. Leaves nothing behind.
set -euo pipefail
build=${1:-build}
bin="$(cd "$(dirname "$0")/.." && pwd)/$build/bin/siteledger"
work=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

bold=""
plain=""
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	plain=$(tput sgr0 2>/dev/null || true)
fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ siteledger %s\n' "$*"; "$bin" "$@"; }
# A command that the ledger must refuse (exit 1): show it, and fail the demo if it was accepted.
refused() {
	printf '$ siteledger %s\n' "$*"
	set +e
	"$bin" "$@"
	local rc=$?
	set -e
	if [ "$rc" -ne 1 ]; then
		echo "demo: expected a rejection (exit 1), got exit $rc" >&2
		exit 1
	fi
	echo "   -> refused, and the refusal is itself recorded in the ledger"
}

GTIN=09506000134352
LOT=L2611A
EXP=281130

say "Keys: the manufacturer (mfg-basel) and the distribution centre (dc-lyon) each make a key pair"
run keygen --site mfg-basel --out mfg.key
run keygen --site dc-lyon --out dc.key

say "The manufacturer's ledger, which knows the distribution centre's public key"
run init --data ledger --site mfg-basel --key mfg.key --site dc-lyon=dc.key.pub

say "Packaging line: commission 8 packs of lot $LOT with random serials (EU FMD randomisation)"
printf '$ siteledger commission --data ledger --gtin %s --lot %s --expiry %s --count 8 --actor line-3\n' $GTIN $LOT $EXP
"$bin" commission --data ledger --gtin $GTIN --lot $LOT --expiry $EXP --count 8 --actor line-3 | tee commission.out
mapfile -t packs < <(grep '^(01)' commission.out | sed 's/(10).*//')
serials=()
for p in "${packs[@]}"; do serials+=("${p#*(21)}"); done

say "Two cases and a pallet (SSCCs), then pack 4 + 4 into the cases and the cases onto the pallet"
CASE1='(00)095060001000000012'
CASE2='(00)095060001000000029'
PALLET='(00)095060001000000036'
run commission-container --data ledger "$CASE1" "$CASE2" "$PALLET"
run aggregate --data ledger --parent "$CASE1" "${packs[@]:0:4}"
run aggregate --data ledger --parent "$CASE2" "${packs[@]:4:4}"
run aggregate --data ledger --parent "$PALLET" "$CASE1" "$CASE2"

say "A duplicate serial from another line is refused"
refused commission --data ledger --gtin $GTIN --lot $LOT --expiry $EXP --serial "${serials[0]}" --actor line-4

say "An aggregation error is refused: a pack already in case 1 scanned into case 2"
refused aggregate --data ledger --parent "$CASE2" "${packs[0]}"

say "Ship the pallet to dc-lyon: everything on it goes in transit"
run ship --data ledger --to dc-lyon "$PALLET"
run status --data ledger "${packs[0]}"

say "dc-lyon receives on its own host: it signs with its key (--sign-only); the records travel as a file"
run receive --key dc.key --sign-only --out from-dc.records "$PALLET" --actor "j.martin"
run decommission --key dc.key --sign-only --out from-dc.records --reason dispensed "${packs[1]}" --actor "pharm.dupont"
run submit --data ledger from-dc.records

say "The dispense was a mistake: dc-lyon reverts it (EU FMD undo, same site, within 10 days)"
run revert --key dc.key --sign-only --out undo.records "${packs[1]}"
run submit --data ledger undo.records

say "A tampered record is caught: the actor's name is changed after signing"
run decommission --key dc.key --sign-only --out tampered.records --reason destroyed "${packs[2]}" --actor pharm.dupont
sed -i 's/6475706f6e74/6475706f6e64/' tampered.records   # "dupont" -> "dupond" inside the signed bytes
refused submit --data ledger tampered.records

say "Quality puts lot $LOT in quarantine; dispensing it is now refused, destruction is still allowed"
run lock --data ledger --scope lot --reason quarantine "$GTIN/$LOT" --justification "temperature excursion"
run decommission --key dc.key --sign-only --out locked.records --reason dispensed "${packs[3]}"
refused submit --data ledger locked.records
run decommission --key dc.key --sign-only --out destroy.records --reason destroyed "${packs[5]}"
run submit --data ledger destroy.records

say "Where the lot stands, per site"
run lot --data ledger $GTIN $LOT

say "The full story of one pack, its case and its pallet"
run history --data ledger "${packs[1]}"

say "An auditor checks everything offline, with nothing but an export and the sites' public keys"
run checkpoint --data ledger
run export --data ledger --out ledger.bundle
mkdir -p auditor-keys && cp mfg.key.pub dc.key.pub auditor-keys/
run audit ledger.bundle --keys auditor-keys --report audit.html
echo "   (audit.html: every record with its signer, time, meaning of the signature and outcome)"

say "Done: every accepted and refused record is in the signed ledger at $work/ledger (removed now)"
