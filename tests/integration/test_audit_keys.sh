#!/usr/bin/env bash
# tests/integration/test_audit_keys.sh — audits across a key rotation (docs/decisions.md D27,
# docs/auditor-guide.md "Keys in force"): a site adds a second key, signs records and checkpoints
# with it, revokes its first key. Full, partial (--lot, --since) and proof bundles audit clean
# against the keys registered at init alone; a checkpoint signed with the revoked key, a partial
# bundle missing the key's registry record and a registry record without a majority are named.
source "$(dirname "$0")/lib.sh" "${1:-build}"
sl() { "$SITELEDGER" "$@"; }
GTIN=09506000134352

# registry_change OP PUBKEY SIGNER: proposed by SIGNER (an mfg key), cosigned by dc, applied
registry_change() {
	sl registry "$1" mfg --public-key "$2" --key "$3" --actor qa@mfg --sign-only --out "$1.hex" &&
		sl registry cosign --key dc.key "$1.hex" --out "$1.cosigned.hex" 2>/dev/null &&
		sl submit --data ledger "$1.cosigned.hex"
}

# audit_ok NAME BUNDLE [proof [KEYS]]: audit (or verify-proof) exits 0 and says so
audit_ok() {
	local cmd=audit
	[ "${3:-}" = proof ] && cmd=verify-proof
	expect_exit 0 "$1" sl "$cmd" "$2" --keys "${4:-keys}"
	[ "$OUT" != "" ] && grep -q "AUDIT PASSED" <<<"$OUT" || fail "$1_says_passed" "${OUT:0:600}"
}

# audit_names NAME BUNDLE PATTERN: audit exits 1 naming PATTERN
audit_names() {
	OUT=$(sl audit "$2" --keys keys 2>&1)
	local rc=$?
	if [ "$rc" -eq 1 ] && grep -q -- "$3" <<<"$OUT"; then pass "$1"; else fail "$1" "exit $rc: ${OUT:0:600}"; fi
}

# without_entry IN OUT SEQ: the bundle without entry SEQ (end count adjusted)
without_entry() {
	local n
	n=$(grep -c '^entry ' "$1")
	grep -v "^entry $3 " "$1" | sed "s/^end $n\$/end $((n - 1))/" >"$2"
}

# --- three sites, this directory is mfg's; the auditor holds the three keys registered at init
for s in mfg dc ph; do sl keygen --site $s --out $s.key >/dev/null; done
sl keygen --site mfg --out mfg-2.key >/dev/null
mkdir keys && cp mfg.key.pub dc.key.pub ph.key.pub keys/
sl init --data ledger --site mfg --key mfg.key --site dc=dc.key.pub --site ph=ph.key.pub >/dev/null
OUT=$(sl commission --data ledger --gtin $GTIN --lot A1 --expiry 281100 --count 2 --json)
OLD_PACK=$(jq -r '.serials[0]' <<<"$OUT")                                        # seq 1, first key
expect_exit 0 checkpoint_first_key sl checkpoint --data ledger --out cp1.note      # size 1
expect_exit 0 key_add registry_change key-add mfg-2.key.pub mfg.key                 # seq 2
OUT=$(sl commission --data ledger --key mfg-2.key --gtin $GTIN --lot A1 --expiry 281100 --count 2 --json)
NEW_PACK=$(jq -r '.serials[0]' <<<"$OUT")                                        # seq 3, second key
check new_key_accepted test "$(jq -r '.results[0].outcome' <<<"$OUT")" = ACCEPTED
expect_exit 0 key_revoke registry_change key-revoke mfg.key.pub mfg-2.key          # seq 4
OUT=$(sl commission --data ledger --key mfg.key --gtin $GTIN --lot B2 --expiry 281100 --count 1 --json)
check revoked_key_refused test "$(jq -r '.results[0].outcome' <<<"$OUT")" = UNKNOWN_KEY # seq 5
expect_exit 2 checkpoint_revoked_key_refused sl checkpoint --data ledger --key mfg.key --out x.note
check checkpoint_refusal_says_why grep -q "revoked" <<<"$ERR"
expect_exit 0 checkpoint_second_key sl checkpoint --data ledger --key mfg-2.key --out cp2.note # size 5
check checkpoint_signed_by_second_key test "$(grep -c $'^\xe2\x80\x94 mfg ' cp2.note)" -eq 1

# --- every kind of bundle audits clean with the init keys alone
expect_exit 0 export_full sl export --data ledger --out full.bundle
audit_ok audit_full_across_rotation full.bundle
check full_both_checkpoints_signed grep -q "2 checkpoints (last: size 5, signed by mfg)" <<<"$OUT"
expect_exit 0 export_lot sl export --data ledger --out lot.bundle --lot $GTIN/A1
check lot_bundle_carries_registry_records eval '[ "$(grep -o "^entry [0-9]*" lot.bundle | tr "\n" " ")" = "entry 1 entry 2 entry 3 entry 4 " ]'
audit_ok audit_lot_across_rotation lot.bundle
expect_exit 0 export_since sl export --data ledger --out since.bundle --since 3
check since_bundle_carries_earlier_registry_record eval '[ "$(grep -o "^entry [0-9]*" since.bundle | tr "\n" " ")" = "entry 2 entry 3 entry 4 entry 5 " ]'
audit_ok audit_since_across_rotation since.bundle
expect_exit 0 prove_new_pack sl prove --data ledger "(01)$GTIN(21)$NEW_PACK" --out new.proof
check proof_carries_registry_records eval '[ "$(grep -o "^entry [0-9]*" new.proof | tr "\n" " ")" = "entry 2 entry 3 entry 4 " ]'
audit_ok verify_proof_new_key new.proof proof
expect_exit 0 prove_old_pack sl prove --data ledger "(01)$GTIN(21)$OLD_PACK" --out old.proof
audit_ok verify_proof_old_key old.proof proof
expect_exit 0 audit_json_signatures sl audit lot.bundle --keys keys --json
check partial_checks_registry_signatures test "$(jq -r .signatures_checked <<<"$OUT")" -eq 4

# --- what is named
without_entry lot.bundle lot-no-key-add.bundle 2
audit_names partial_without_key_add_named lot-no-key-add.bundle "FAIL entry 3 (entry): signature"
without_entry new.proof new-no-key-add.proof 2
audit_names proof_without_key_add_named new-no-key-add.proof "FAIL entry 3 (entry): signature"
# the bundle's init registry naming the second key as mfg's: refused against the trusted key
sed "s/^site mfg .*/site mfg $(grep -o '[0-9a-f]\{64\}' mfg-2.key.pub | head -1)/" lot.bundle >swapped.bundle
audit_names swapped_init_key_named swapped.bundle "registry site mfg: public key differs from the trusted key"

# the last checkpoint with a valid cosignature by the first key, revoked within its size
expect_exit 0 cosign_with_revoked_key sl cosign --key mfg.key --out cp2.cosigned cp2.note
sed "s|^checkpoint $(base64 -w0 cp2.note)\$|checkpoint $(base64 -w0 cp2.cosigned)|" full.bundle >forged.bundle
check forged_bundle_differs eval '! cmp -s full.bundle forged.bundle'
audit_names checkpoint_by_revoked_key_named forged.bundle \
	"FAIL checkpoint 2 (size 5): checkpoint: .*signature line 2 by mfg uses a key revoked within the checkpoint's size"

# a cosignature by a key the registry does not know (yet) is not kept: checked only once its key is
# added, a bad one would fail every later audit
sl keygen --site dc --out dc-2.key >/dev/null
expect_exit 0 cosign_with_unknown_key sl cosign --key dc-2.key --out cp2.dc2 cp2.note
expect_exit 0 checkpoint_add_unknown_cosigner sl checkpoint --data ledger --add cp2.dc2
check unknown_cosigner_left_out_says_so grep -q "left out 1 signature line" <<<"$ERR"
check unknown_cosigner_not_stored eval '! grep -q "^— dc " <<<"$OUT"'

# --- a registry record without a majority: a ledger where mfg alone was the registry (its
# majority), bundled as if dc and ph had been registered at init too
sl init --data lone --site mfg --key mfg.key >/dev/null
sl registry key-add mfg --public-key mfg-2.key.pub --key mfg.key --actor qa@mfg --data lone >/dev/null
sl commission --data lone --key mfg-2.key --gtin $GTIN --lot A1 --expiry 281100 --count 1 >/dev/null
expect_exit 0 export_lone sl export --data lone --out lone.bundle --lot $GTIN/A1
mkdir mfg-only && cp mfg.key.pub mfg-only/
audit_ok audit_lone_site_ledger lone.bundle - mfg-only # an auditor of a one-site ledger
# the auditor of the three sites: their ledger has dc and ph, this one does not (a fork of mfg's)
audit_names lone_bundle_lacks_trusted_sites lone.bundle "FAIL trusted site dc: in the ledger's registry"
awk -v dc="site dc $(grep -o '[0-9a-f]\{64\}' dc.key.pub | head -1)" -v ph="site ph $(grep -o '[0-9a-f]\{64\}' ph.key.pub | head -1)" \
	'{ print } /^site mfg / { print dc; print ph }' lone.bundle >minority.bundle
audit_names key_add_without_majority_named minority.bundle "FAIL entry 1 (entry): registry record: expected signatures of a majority of the 3 registered sites (found 1)"
audit_names minority_key_signs_nothing minority.bundle "FAIL entry 2 (entry): signature"

# --- a fork where mfg alone was the registry, registers "dc" under a key of its own and writes as dc:
# the auditor's dc is not that one, whatever the bundle's majority
sl keygen --site dc --out evil-dc.key >/dev/null
sl init --data fork --site mfg --key mfg.key >/dev/null
sl registry site-add dc --public-key evil-dc.key.pub --node-id 2 --peer tcp://127.0.0.1:1 --client tcp://127.0.0.1:2 \
	--key mfg.key --actor qa@mfg --data fork >/dev/null
sl commission --data fork --key evil-dc.key --gtin $GTIN --lot A1 --expiry 281100 --count 1 >/dev/null
expect_exit 0 export_fork_full sl export --data fork --out fork.bundle
expect_exit 0 export_fork_lot sl export --data fork --out fork-lot.bundle --lot $GTIN/A1
audit_names fork_full_names_forged_site fork.bundle "FAIL trusted site dc: in the ledger's registry"
audit_names fork_partial_names_forged_site fork-lot.bundle "FAIL trusted site dc: in the ledger's registry"
exit 0
