# tests/integration/cluster.sh — a loopback siteledgerd cluster for integration tests (source after lib.sh).
#
#   cluster_up SITE...     `siteledger cluster init` for the sites in ./cluster, start every node, wait for a
#                          leader (bounded); returns 1, after printing FAIL cluster_running and the logs' tails,
#                          when none is elected. Sets ADDR[SITE] (client address) and PID[SITE].
#   node_json SITE         `siteledger node status --json` of SITE's node (empty when it does not answer)
#   leader_of SITE...      the site whose node is leader, among those given (return 1: none)
#   same_state SITE...     the nodes agree on ledger size and state hash; sets STATE="SIZE HASH"
#                          (both from scripts/cluster-view.sh, shared with the cluster demo)
#   sl_at SITE CMD ARGS... a CLI command against SITE's node, signed with SITE's key
#   cluster_stop SITE...   SIGTERM and wait, every node given
#   cluster_configure      optional, defined by the test: called as `cluster_configure SITE` after
#                          cluster init and before the node starts (to add lines to cluster/SITE/node.conf)
#
# Periodic checkpoint records (node.conf checkpoint_every_ms) are off unless the test sets
# CLUSTER_CHECKPOINT_EVERY_MS (or the key in cluster_configure): they add ledger entries that tests
# counting exact ledger sizes do not expect.
#
# Ports: 2 per site from a base chosen by the caller's PID, below the Linux ephemeral range, so runs with
# nearby PIDs get disjoint ranges (CLUSTER_PORT_BASE overrides it).
SITELEDGERD="$BUILD_DIR/bin/siteledgerd"
declare -A PID ADDR
CLUSTER_SITES=()
CLUSTER_KEY=""

# every CLI call is bounded (its own bound for one call to a node is 20 s, CLI_NODE_WAIT_MS)
sl() { timeout 30 "$SITELEDGER" "$@"; }

node_json() { timeout 5 "$SITELEDGER" node status --node "${ADDR[$1]}" --key "$CLUSTER_KEY" --json 2>/dev/null; }
# leader_of, same_state
source "$ROOT/scripts/cluster-view.sh"

sl_at() { # SITE CMD ARGS...: the command through SITE's node, signed by SITE's key
	local site=$1 cmd=$2
	shift 2
	sl "$cmd" --node "${ADDR[$site]}" --key "cluster/keys/$site.key" "$@"
}

cluster_up() {
	local base=${CLUSTER_PORT_BASE:-$((20000 + ($$ % 2000) * 6))} i=0 s sites
	CLUSTER_SITES=("$@")
	CLUSTER_KEY="cluster/keys/$1.key"
	sites=$(IFS=,; echo "$*")
	if ! sl cluster init --sites "$sites" --dir cluster --base-port "$base" >/dev/null; then
		fail cluster_running "siteledger cluster init failed"
		return 1
	fi
	for s in "$@"; do
		ADDR[$s]="tcp://127.0.0.1:$((base + 2 * i + 1))"
		i=$((i + 1))
		if declare -F cluster_configure >/dev/null; then cluster_configure "$s"; fi
		grep -q '^checkpoint_every_ms' "cluster/$s/node.conf" || # unless cluster_configure set it
			sed -i "1i checkpoint_every_ms = ${CLUSTER_CHECKPOINT_EVERY_MS:-0}" "cluster/$s/node.conf"
		start_node "$s"
	done
	if ! poll_until 100 leader_of "$@"; then
		fail cluster_running "no leader elected; the remaining checks would only time out"
		tail -n 5 ./*.log
		return 1
	fi
	pass cluster_running
}

cluster_stop() {
	local s
	for s in "$@"; do
		kill -TERM "${PID[$s]}" 2>/dev/null
		wait "${PID[$s]}" 2>/dev/null
	done
}
