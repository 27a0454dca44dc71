#!/usr/bin/env bash
# tests/integration/test_node_membership.sh — registry records and raft membership with real
# processes (docs/operations.md "Membership"): a three-site cluster adds a fourth site (registry
# record proposed by one site, refused with its signature alone, accepted cosigned by a second),
# its node joins as a learner, catches up, is promoted, holds the same state and writes its own
# records; leadership moves to it on request; then a site is taken out of the raft configuration
# and of the registry (three of four sites sign), and its key is refused from then on. Finally an
# export audits clean: the replay applies the registry records as the nodes did.
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"

# 8 ports: the three nodes of cluster_up and the fourth site's node
CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-$((20000 + ($$ % 1500) * 8))}
cluster_up site-a site-b site-c || exit 0
BASE=$CLUSTER_PORT_BASE
D_PEER="tcp://127.0.0.1:$((BASE + 6))"
ADDR[site-d]="tcp://127.0.0.1:$((BASE + 7))"
KEYS=cluster/keys

members_json() { timeout 10 "$SITELEDGER" members --node "${ADDR[$1]}" --key "$CLUSTER_KEY" --json 2>/dev/null; }
role_at() { members_json "$1" | jq -r --arg s "$2" '.members[] | select(.site == $s) | .role'; }
voters_at() { members_json "$1" | jq '[.members[] | select(.role == "voter")] | length'; }
is_role() { [ "$(role_at "$1" "$2")" = "$3" ]; }
leader_is() { [ "$(leader_of site-a site-b site-c site-d)" = "$1" ]; }

# --- the fourth site's key, data directory (the cluster's registry as at init) and configuration
expect_exit 0 keygen_site_d sl keygen --site site-d --out "$KEYS/site-d.key"
mkdir -p cluster/site-d
expect_exit 0 init_join sl init --data cluster/site-d/data --site site-d --key "$KEYS/site-d.key" --join \
	--site "site-a=$KEYS/site-a.key.pub" --site "site-b=$KEYS/site-b.key.pub" --site "site-c=$KEYS/site-c.key.pub"
{
	printf 'id = 4\nsite = site-d\ndata = data\nkey = %s/%s/site-d.key\n' "$WORK" "$KEYS"
	printf 'peer_listen = %s\nclient_listen = %s\njoin = 1\n' "$D_PEER" "${ADDR[site-d]}"
	printf 'tick_ms = 50\nelection_ticks = 10\nheartbeat_ticks = 2\n'
	i=0
	for s in site-a site-b site-c; do
		printf '\n[peer %s]\nid = %d\nsite = %s\npeer = tcp://127.0.0.1:%d\nclient = tcp://127.0.0.1:%d\n' \
			"$s" $((i + 1)) "$s" $((BASE + 2 * i)) $((BASE + 2 * i + 1))
		printf 'public_key = %s/%s/%s.key.pub\n' "$WORK" "$KEYS" "$s"
		i=$((i + 1))
	done
} >cluster/site-d/node.conf

# --- before registration: the cluster refuses to add an unregistered site's node
expect_exit 2 member_add_unregistered_refused sl member add site-d --node "${ADDR[site-a]}" --key "$KEYS/site-a.key" \
	--wait-ms 1000
check member_add_unregistered_says_why grep -q "not in the registry" <<<"$ERR"

# --- the registry record: one site's signature is not a majority of three; two are
propose() {
	sl registry site-add site-d --public-key "$KEYS/site-d.key.pub" --node-id 4 --peer "$D_PEER" \
		--client "${ADDR[site-d]}" --key "$KEYS/site-a.key" --actor it.admin@site-a --sign-only --out "$1"
}
expect_exit 0 propose_alone propose alone.hex
expect_exit 1 one_of_three_refused sl_at site-a submit alone.hex --json
check one_of_three_is_no_majority grep -q REGISTRY_NO_MAJORITY <<<"$OUT"
expect_exit 0 propose_site_add propose proposal.hex
expect_exit 0 cosign_by_b sl registry cosign --key "$KEYS/site-b.key" proposal.hex --out cosigned.hex
check cosign_shows_the_proposal grep -q "site-add site-d" <<<"$ERR"
expect_exit 2 cosign_twice_refused sl registry cosign --key "$KEYS/site-b.key" cosigned.hex --out again.hex
expect_exit 0 two_of_three_accepted sl_at site-a submit cosigned.hex --json
check registry_lists_site_d poll_until 100 eval '[ "$(members_json site-c | jq -r ".registry[] | select(.site == \"site-d\") | .node")" = 4 ]'

# --- the node joins as a learner, catches up, is promoted
start_node site-d
expect_exit 0 member_add_learner sl member add site-d --node "${ADDR[site-a]}" --key "$KEYS/site-a.key" --wait-ms 20000
check learner_everywhere poll_until 100 eval 'is_role site-b site-d learner && is_role site-c site-d learner'
check learner_caught_up poll_until 200 same_state site-a site-b site-c site-d
expect_exit 0 member_promote sl member promote site-d --node "${ADDR[site-b]}" --key "$KEYS/site-b.key" --wait-ms 20000
check four_voters poll_until 100 eval '[ "$(voters_at site-d)" = 4 ]'
expect_exit 2 promote_again_refused sl member promote site-d --node "${ADDR[site-a]}" --key "$KEYS/site-a.key" \
	--wait-ms 1000

# --- the new site writes its own records through its own node
expect_exit 0 site_d_commissions sl commission --node "${ADDR[site-d]}" --key "$KEYS/site-d.key" \
	--gtin 09506000134352 --lot D1 --expiry 271231 --serial D-0001 --serial D-0002
check same_state_after_site_d_writes poll_until 100 same_state site-a site-b site-c site-d
check site_d_sees_its_item poll_until 50 eval 'sl status --node "${ADDR[site-d]}" --key "$KEYS/site-d.key" "(01)09506000134352(21)D-0001"'

# --- a node restarted with its old configuration file finds site-d in its registry again
cluster_stop site-b
start_node site-b
expect_exit 0 site_d_writes_after_restart sl commission --node "${ADDR[site-d]}" --key "$KEYS/site-d.key" \
	--gtin 09506000134352 --lot D1 --expiry 271231 --serial D-0003
check restarted_node_relinks poll_until 150 same_state site-a site-b site-c site-d

# --- leadership moves to the named site
expect_exit 0 leader_transfer sl leader transfer site-d --node "${ADDR[site-b]}" --key "$KEYS/site-b.key" --wait-ms 20000
check site_d_leads poll_until 100 leader_is site-d
expect_exit 0 commission_under_new_leader sl_at site-a commission --gtin 09506000134352 --lot A1 --expiry 271231 \
	--serial A-0001

# --- a site leaves: raft first, then the registry (three of four sites sign)
expect_exit 0 member_remove sl member remove site-c --node "${ADDR[site-a]}" --key "$KEYS/site-a.key" --wait-ms 20000
check three_members_left poll_until 100 eval '[ "$(members_json site-a | jq ".members | length")" = 3 ]'
expect_exit 0 propose_site_remove sl registry site-remove site-c --key "$KEYS/site-a.key" --sign-only --out remove.hex
expect_exit 0 cosign_remove_b sl registry cosign --key "$KEYS/site-b.key" remove.hex --out remove-b.hex
expect_exit 0 cosign_remove_d sl registry cosign --key "$KEYS/site-d.key" remove-b.hex --out remove-bd.hex
expect_exit 0 three_of_four_accepted sl_at site-a submit remove-bd.hex
check site_c_removed poll_until 100 eval '[ "$(members_json site-d | jq -r ".registry[] | select(.site == \"site-c\") | .active")" = false ]'
expect_exit 2 removed_site_key_refused sl commission --node "${ADDR[site-a]}" --key "$KEYS/site-c.key" \
	--gtin 09506000134352 --lot C1 --expiry 271231 --serial C-0001
check same_state_after_removal poll_until 100 same_state site-a site-b site-d
check cluster_still_writes eval 'sl_at site-b commission --gtin 09506000134352 --lot B1 --expiry 271231 --serial B-0001'

cluster_stop site-a site-b site-c site-d
check no_node_crashed eval '! grep -q -e "ready cycle failed" -e Sanitizer -e "runtime error" site-*.log'

# --- the auditor replays the registry records: the bundle's registry is the one at init
mkdir -p trusted && cp "$KEYS/site-a.key.pub" "$KEYS/site-b.key.pub" "$KEYS/site-c.key.pub" trusted/
expect_exit 0 export_after_membership sl export --data cluster/site-b/data --out bundle.txt
check bundle_registry_as_at_init eval 'grep -q "^site site-c " bundle.txt && ! grep -q "^site site-d " bundle.txt'
expect_exit 0 audit_replays_registry_records sl audit bundle.txt --keys trusted
check audit_passed grep -q "AUDIT PASSED" <<<"$OUT"
# a partial bundle carries the site-add and site-remove records and checks them itself (D27): site-d's
# records verify under the key its site-add registered, after site-c left
expect_exit 0 export_lot_after_membership sl export --data cluster/site-b/data --out lot.txt --lot 09506000134352/D1
check lot_bundle_carries_registry_records test "$(grep -c '^entry ' lot.txt)" -ge 4
expect_exit 0 audit_partial_across_membership sl audit lot.txt --keys trusted
check audit_partial_passed grep -q "AUDIT PASSED" <<<"$OUT"
