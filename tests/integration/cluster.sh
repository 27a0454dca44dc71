# tests/integration/cluster.sh — a loopback siteledgerd cluster for integration tests (source after lib.sh).
#
#   cluster_up SITE...     `siteledger cluster init` for the sites in ./cluster, start every node, wait for a
#                          leader (bounded); returns 1, after printing FAIL cluster_running and the logs' tails,
#                          when none is elected. Sets ADDR[SITE] (client address) and PID[SITE].
#   node_json SITE         `siteledger node status --json` of SITE's node (empty when it does not answer)
#   leader_of SITE...      the site whose node is leader, among those given (return 1: none)
#   same_state SITE...     the nodes agree on ledger size and state hash; sets STATE="SIZE HASH"
#                          (both from scripts/cluster-view.sh, shared with the cluster demo)
#   same_size SIZE SITE... same_state, at ledger size SIZE: a client hears its outcome while the cycle that
#                          applied it commits (D25), so equal states right after the last answer may
#                          still be the ones before it
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
same_size() { local size=$1; shift; same_state "$@" && [ "${STATE%% *}" -eq "$size" ]; }

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

# --- load from several clients, for failover tests (kill -9, SIGTERM) that check exactly-once afterwards
#   load_start LOT RECORDS SERIALS  one client per cluster site, in the background: it commissions RECORDS
#                                   records of SERIALS serials (SITE-i-1..SERIALS) through the nodes not
#                                   listed in ./dead, one request at a time, for at most LOAD_SECONDS; it
#                                   appends SITE-i-1 of each record acknowledged ACCEPTED to acked.SITE
#   load_wait                       wait for every client
#   acked_total                     records acknowledged so far, all clients
#   check_acked_exactly_once SITE.. on each stopped node's data directory: one ACCEPTED commission per
#                                   acknowledged serial
LOAD_SECONDS=120
LOAD_CLIENTS=()

load_client() { # SITE LOT RECORDS SERIALS
	local site=$1 lot=$2 records=$3 serials=$4 i=0 n=0 node out deadline=$((SECONDS + LOAD_SECONDS))
	local count=${#CLUSTER_SITES[@]}
	while [ "$i" -lt "$records" ] && [ "$SECONDS" -lt "$deadline" ] && [ "$n" -lt $((records * count)) ]; do
		node=${CLUSTER_SITES[$(((i + n) % count))]}
		if grep -qx "$node" dead 2>/dev/null; then
			n=$((n + 1))
			continue
		fi
		i=$((i + 1))
		seq -f "$site-$i-%g" 1 "$serials" >"serials.$site"
		out=$(timeout 30 "$SITELEDGER" commission --node "${ADDR[$node]}" --key "cluster/keys/$site.key" \
			--gtin 09506000134352 --lot "$lot" --expiry 281100 --serials-file "serials.$site" --json \
			2>>"client.$site.err")
		if [ "$(jq -r '.results[0].outcome' <<<"$out" 2>/dev/null)" = ACCEPTED ]; then
			echo "$site-$i-1" >>"acked.$site"
		fi
	done
}

load_start() {
	local s
	touch dead
	for s in "${CLUSTER_SITES[@]}"; do
		touch "acked.$s"
		load_client "$s" "$@" &
		LOAD_CLIENTS+=("$!")
		BACKGROUND_PIDS+=("$!")
	done
}

load_wait() {
	local pid
	for pid in "${LOAD_CLIENTS[@]}"; do wait "$pid"; done
	LOAD_CLIENTS=()
}

acked_total() { cat acked.* | wc -l; }

check_acked_exactly_once() {
	local s serial count missing twice
	for s in "$@"; do
		missing=0 twice=0
		while read -r serial; do
			count=$(timeout 30 "$SITELEDGER" history --data "cluster/$s/data" --json "(01)09506000134352(21)$serial" |
				jq '[.entries[] | select(.type == "commission" and .outcome == "ACCEPTED")] | length')
			if [ "${count:-0}" -eq 0 ]; then missing=$((missing + 1)); fi
			if [ "${count:-0}" -gt 1 ]; then twice=$((twice + 1)); fi
		done < <(cat acked.*)
		check "every_acked_record_on_$s" test "$missing" -eq 0
		check "no_record_twice_on_$s" test "$twice" -eq 0
	done
}
