#!/usr/bin/env bash
# tests/integration/test_node_keys.sh — a site rotates its key with real processes (docs/decisions.md D26,
# docs/operations.md "Rotating a site's key"): site-b registers a second key (key-add, cosigned by a
# majority), restarts its node with it and stays linked to its peers (it catches up and writes with the
# new key); once its old key is revoked, a node started with the old key is cut off (its peers cannot
# open its messages and count them as unopened) and says in its log that its key is revoked; back on
# the new key it catches up again.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"

# 9 ports: the cluster's 6 and site-a's metrics, from a base below test_node_observe.sh's range
CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-$((19600 + ($$ % 40) * 9))}
A_METRICS="127.0.0.1:$((CLUSTER_PORT_BASE + 6))"
cluster_configure() {
	[ "$1" = site-a ] && sed -i "1i metrics_listen = $A_METRICS" cluster/site-a/node.conf
	return 0
}
cluster_up site-a site-b site-c || exit 0
KEYS=cluster/keys
B_CONF=cluster/site-b/node.conf

# site-a's count of messages from site-b it could not open
unopened_from_b() {
	curl -sf --max-time 5 "http://$A_METRICS/metrics" |
		sed -n 's/^siteledger_peer_messages_dropped_total{peer="site-b",reason="unopened"} //p'
}
restart_b() { # KEYFILE: stop site-b's node, point its configuration at KEYFILE, start it again; wait
	# until site-a and site-c agree on a leader (site-b may have led: a write must not race the election)
	cluster_stop site-b
	sed -i "s|^key = .*|key = $WORK/$1|" "$B_CONF"
	start_node site-b
	poll_until 100 leader_of site-a site-b site-c >/dev/null
}
commission() { # SITE LOT SERIAL [KEY]
	sl commission --node "${ADDR[$1]}" --key "${4:-$KEYS/$1.key}" --gtin 09506000134352 --lot "$2" \
		--expiry 271231 --serial "$3"
}
registry_change() { # OP PUBKEY SIGNER COSIGNER: proposed by SIGNER (a site-b key), cosigned, submitted
	sl registry "$1" site-b --public-key "$2" --key "$3" --actor it.admin@site-b --sign-only --out "$1.hex" &&
		sl registry cosign --key "$4" "$1.hex" --out "$1.cosigned.hex" &&
		sl_at site-b submit "$1.cosigned.hex" --json
}

expect_exit 0 keygen_second_key sl keygen --site site-b --out "$KEYS/site-b-2.key"
expect_exit 0 key_add_cosigned registry_change key-add "$KEYS/site-b-2.key.pub" "$KEYS/site-b.key" "$KEYS/site-a.key"
check key_add_applied_everywhere poll_until 100 same_state site-a site-b site-c

# --- site-b's node runs on the new key: its peers open its messages with it and answer it
restart_b "$KEYS/site-b-2.key"
expect_exit 0 a_writes_after_b_rotated commission site-a A1 A-0001
check b_catches_up_on_new_key poll_until 200 same_state site-a site-b site-c
expect_exit 0 b_writes_with_new_key commission site-b B1 B-0001 "$KEYS/site-b-2.key"
check same_state_after_b_writes poll_until 100 same_state site-a site-b site-c

# --- the old key revoked (signed with the new one): a node on the old key is cut off
expect_exit 0 key_revoke_cosigned registry_change key-revoke "$KEYS/site-b.key.pub" "$KEYS/site-b-2.key" \
	"$KEYS/site-c.key"
check revoke_applied_everywhere poll_until 100 same_state site-a site-b site-c
before=$(unopened_from_b)
check metrics_answer test -n "$before"
restart_b "$KEYS/site-b.key"
check b_says_its_key_is_revoked poll_until 100 grep -q "this node's key is revoked" site-b.log
expect_exit 0 a_writes_while_b_on_revoked_key commission site-a A2 A-0002
check a_and_c_agree poll_until 100 same_state site-a site-c
check a_drops_b_messages_sealed_with_revoked_key poll_until 100 eval '[ "$(unopened_from_b)" -gt "${before:-0}" ]'
same_state site-a site-c
ac_state=$STATE
b_state() { node_json site-b | jq -r '"\(.ledger_size) \(.state_hash)"'; }
check b_on_revoked_key_stays_behind eval '[ -n "$(b_state)" ] && [ "$(b_state)" != "$ac_state" ]'

# --- back on the new key, it catches up
restart_b "$KEYS/site-b-2.key"
check b_catches_up_again poll_until 200 same_state site-a site-b site-c

# --- an auditor holding only the keys registered at init audits site-b's export (its checkpoint signed
# with the new key) and a proof of a pack written with the new key (D27)
mkdir trusted && cp "$KEYS/site-a.key.pub" "$KEYS/site-b.key.pub" "$KEYS/site-c.key.pub" trusted/
expect_exit 0 export_from_b_on_new_key sl export --node "${ADDR[site-b]}" --key "$KEYS/site-b-2.key" --out b.bundle
expect_exit 0 audit_across_rotation sl audit b.bundle --keys trusted
expect_exit 0 prove_from_b sl prove --node "${ADDR[site-b]}" --key "$KEYS/site-b-2.key" \
	'(01)09506000134352(21)B-0001' --out b2.proof
expect_exit 0 verify_proof_across_rotation sl verify-proof b2.proof --keys trusted
cluster_stop site-a site-b site-c
