# scripts/cluster-view.sh — what a loopback cluster's nodes say about themselves, shared by the cluster
# demo and the integration tests' cluster.sh (source it). The caller defines node_json SITE: that
# site's `siteledger node status --json` answer, empty when its node does not answer (bounded).
#
#   leader_of SITE...    the site whose node is leader, among those given (return 1: none)
#   same_state SITE...   the nodes agree on ledger size and state hash; sets STATE="SIZE HASH"
leader_of() {
	local s
	for s in "$@"; do
		[ "$(node_json "$s" | jq -r .role 2>/dev/null)" = leader ] && { echo "$s"; return 0; }
	done
	return 1
}

same_state() {
	local first="" s v
	for s in "$@"; do
		v=$(node_json "$s" | jq -r '"\(.ledger_size) \(.state_hash)"') || return 1
		[ -n "$v" ] || return 1
		if [ -z "$first" ]; then first=$v; elif [ "$v" != "$first" ]; then return 1; fi
	done
	STATE=$first
}
