#!/usr/bin/env bash
# The cluster demo (`make demo`, after scripts/demo.sh): three sites on loopback, each running the real
# siteledgerd — a manufacturer, a packaging site and a distribution centre — replicate one signed ledger
# (Raft). Narrates a day: commission, pack, ship, receive, dispense, refusals asked through two nodes,
# a quarantine honoured at another site, the leader killed with kill -9 and restarted.
# Rules: every wait is bounded in time and count; any step that does not behave as narrated ends the
# demo with a non-zero exit; every process it started is stopped and its temp dir removed, also on error.
set -euo pipefail
build=${1:-build}
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
bin="$build/bin/siteledger"
daemon="$build/bin/siteledgerd"
work=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-cluster-demo-XXXXXX")
declare -A PID ADDR
SITES=(mfg-basel pack-milan dc-lyon)

# stop every node this demo started: SIGTERM, a bounded wait, kill -9 only as a fallback
stop_node() {
	local pid=${PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((k = 0; k < 50; k++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	PID[$1]=""
}
cleanup() {
	local rc=$?
	for s in "${SITES[@]}"; do stop_node "$s"; done
	if [ "$rc" -ne 0 ]; then
		echo "demo-cluster: FAILED (exit $rc); last node log lines:" >&2
		tail -n 5 "$work"/*.log >&2 2>/dev/null || true
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

bold=""
plain=""
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	plain=$(tput sgr0 2>/dev/null || true)
fi
die() { echo "demo-cluster: $*" >&2; exit 1; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# every CLI call is bounded (one call to a node waits at most 20 s itself)
sl() { timeout 30 "$bin" "$@"; }
key() { echo "cluster/keys/$1.key"; }
# run SITE VIA CMD ARGS...: SITE signs, the request goes to VIA's node
run() {
	local site=$1 via=$2 cmd=$3
	shift 3
	printf '$ siteledger %s --node %s --key %s %s\n' "$cmd" "${ADDR[$via]}" "$(key "$site")" "$*"
	sl $cmd --node "${ADDR[$via]}" --key "$(key "$site")" "$@" || die "step refused: $cmd $*"
}
# refused OUTCOME|* SITE VIA CMD ARGS...: must exit 1 with that outcome (the refusal is itself recorded)
refused() {
	local want=$1 site=$2 via=$3 cmd=$4 out rc got
	shift 4
	printf '$ siteledger %s --node %s --key %s %s\n' "$cmd" "${ADDR[$via]}" "$(key "$site")" "$*"
	set +e
	out=$(sl $cmd --node "${ADDR[$via]}" --key "$(key "$site")" --json "$@")
	rc=$?
	set -e
	got=$(jq -r '[.results[]?.outcome | select(. != "ACCEPTED")] | first // "none"' <<<"$out" 2>/dev/null) || got=none
	[ "$rc" -eq 1 ] || die "expected a refusal (exit 1), got exit $rc: $out"
	# want "*": any refusal, remembered in LAST_REFUSAL so a second node can be asked the same
	[ "$want" = "*" ] || [ "$got" = "$want" ] || die "expected outcome $want, got $got: $out"
	[ "$got" != none ] || die "refusal without an outcome: $out"
	LAST_REFUSAL=$got
	echo "   -> refused: $got (asked through ${via}'s node; the refusal is itself a ledger entry)"
}
# runj FILE SITE VIA CMD ARGS...: like run, with the JSON answer kept in FILE
runj() {
	local file=$1 site=$2 via=$3 cmd=$4
	shift 4
	printf '$ siteledger %s --node %s --key %s %s\n' "$cmd" "${ADDR[$via]}" "$(key "$site")" "$*"
	sl $cmd --node "${ADDR[$via]}" --key "$(key "$site")" --json "$@" >"$file" || die "step refused: $(cat "$file")"
	echo "   -> $(jq -r '[.results[]?.outcome] | unique | join(",")' "$file")"
}
node_json() { timeout 5 "$bin" node status --node "${ADDR[$1]}" --key "$(key mfg-basel)" --json 2>/dev/null; }
# shellcheck source=scripts/poll.sh
source "$root/scripts/poll.sh"
# leader_of, same_state (given node_json)
# shellcheck source=scripts/cluster-view.sh
source "$root/scripts/cluster-view.sh"
start_node() {
	"$daemon" --config "cluster/$1/node.conf" 2>>"$1.log" &
	PID[$1]=$!
}
status_at() { sl status --node "${ADDR[$2]}" --key "$(key "$2")" --json "$1" | jq -r '.status + "@" + .site'; }

GTIN=09506000134352
LOT=L2611C
EXP=281130

say "Three sites on one machine (loopback): a manufacturer, a packaging site, a distribution centre"
# six ports per run below the Linux ephemeral range; a busy range (another run) moves to the next one
# (SITELEDGER_DEMO_BASE_PORT forces the first range tried, to check that fallback)
base=${SITELEDGER_DEMO_BASE_PORT:-$((21000 + ($$ % 1500) * 6))}
for ((try = 0; try < 5; try++)); do
	busy=0
	for ((p = base; p < base + 6; p++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && busy=1
	done
	[ "$busy" -eq 0 ] && break
	echo "   ports $base-$((base + 5)) are in use (another run?): trying the next six"
	base=$((base + 6))
done
[ "$busy" -eq 0 ] || die "no free range of six ports found"
printf '$ siteledger cluster init --sites %s --dir cluster --base-port %s\n' "$(IFS=,; echo "${SITES[*]}")" "$base"
sl cluster init --sites "$(IFS=,; echo "${SITES[*]}")" --dir cluster --base-port "$base" --json >init.json ||
	die "cluster init failed"
for i in 0 1 2; do ADDR[${SITES[$i]}]="tcp://127.0.0.1:$((base + 2 * i + 1))"; done
echo "   one key pair per site (cluster/keys), one node.conf per site; nodes:"
for s in "${SITES[@]}"; do echo "   $s  ${ADDR[$s]}"; done

say "Each site starts its node (siteledgerd); they elect a leader"
for s in "${SITES[@]}"; do
	echo "\$ siteledgerd --config cluster/$s/node.conf &"
	start_node "$s"
done
poll_until 100 leader_of "${SITES[@]}" || die "no leader within 10 s"
LEADER=$(leader_of "${SITES[@]}")
echo "   leader: $LEADER"

say "mfg-basel commissions 8 packs of lot $LOT with random serials (through its own node)"
runj commission.json mfg-basel mfg-basel commission --gtin $GTIN --lot $LOT --expiry $EXP --count 8 --actor line-3
mapfile -t serials < <(jq -r '.serials[]' commission.json)
[ "${#serials[@]}" -eq 8 ] || die "expected 8 serials, got ${#serials[@]}"
packs=()
for x in "${serials[@]}"; do packs+=("(01)$GTIN(21)$x"); done
printf '   %s\n' "${packs[@]}"

say "A duplicate serial from another line is refused — the same answer through two different nodes"
refused DUPLICATE_COMMISSION mfg-basel mfg-basel commission --gtin $GTIN --lot $LOT --expiry $EXP --serial "${serials[0]}" --actor line-4
refused DUPLICATE_COMMISSION mfg-basel dc-lyon commission --gtin $GTIN --lot $LOT --expiry $EXP --serial "${serials[0]}" --actor line-4

say "mfg-basel ships the packs to the packaging site; pack-milan receives them (each signs its own record)"
run mfg-basel mfg-basel ship --to pack-milan "${packs[@]}" --actor s.keller
run pack-milan pack-milan receive "${packs[@]}" --actor a.rossi
echo "   status of ${packs[0]}, asked through dc-lyon's node: $(status_at "${packs[0]}" dc-lyon)"

say "pack-milan commissions two cases and a pallet (SSCCs), packs 4 + 4 into the cases, the cases onto the pallet"
CASE1='(00)095060001000000043'
CASE2='(00)095060001000000050'
PALLET='(00)095060001000000067'
run pack-milan pack-milan commission-container "$CASE1" "$CASE2" "$PALLET"
run pack-milan pack-milan aggregate --parent "$CASE1" "${packs[@]:0:4}"
run pack-milan pack-milan aggregate --parent "$CASE2" "${packs[@]:4:4}"
run pack-milan pack-milan aggregate --parent "$PALLET" "$CASE1" "$CASE2"

say "An aggregation error: a pack already in case 1 scanned into case 2 — refused, and the same through dc-lyon's node"
refused '*' pack-milan pack-milan aggregate --parent "$CASE2" "${packs[0]}"
refused "$LAST_REFUSAL" pack-milan dc-lyon aggregate --parent "$CASE2" "${packs[0]}"

say "pack-milan ships the pallet to dc-lyon (everything on it goes in transit); dc-lyon receives it"
run pack-milan pack-milan ship --to dc-lyon "$PALLET" --actor a.rossi
run dc-lyon dc-lyon receive "$PALLET" --actor j.martin
st=$(status_at "${packs[5]}" mfg-basel)
echo "   status of ${packs[5]}, asked through mfg-basel's node: $st"
[ "$st" = active@dc-lyon ] || die "expected active@dc-lyon, got $st"

LEADER=$(leader_of "${SITES[@]}") || die "no leader"
say "Power cut: the leader ($LEADER) is killed with kill -9 in the middle of the day"
echo "\$ kill -9 ${PID[$LEADER]}   # siteledgerd of $LEADER"
kill -9 "${PID[$LEADER]}"
wait "${PID[$LEADER]}" 2>/dev/null || true
PID[$LEADER]=""
REST=()
for s in "${SITES[@]}"; do [ "$s" != "$LEADER" ] && REST+=("$s"); done
poll_until 100 leader_of "${REST[@]}" || die "no new leader within 10 s"
NEW=$(leader_of "${REST[@]}")
echo "   new leader: $NEW (the two remaining sites are a majority)"
# dc-lyon's staff use a node that is up: their own, or another site's if theirs was the one killed
VIA=dc-lyon
[ "$LEADER" = dc-lyon ] && VIA=$NEW
OTHER=${REST[0]}
[ "$OTHER" = "$VIA" ] && OTHER=${REST[1]}

say "The work carries on: dc-lyon dispenses two packs and destroys a damaged one (through ${VIA}'s node)"
run dc-lyon "$VIA" decommission --reason dispensed "${packs[4]}" "${packs[5]}" --actor pharm.dupont
run dc-lyon "$VIA" decommission --reason destroyed "${packs[6]}" --actor j.martin

say "Quality at mfg-basel quarantines lot $LOT (a lot lock), through ${OTHER}'s node"
run mfg-basel "$OTHER" lock --scope lot --reason quarantine "$GTIN/$LOT" --actor qa.weber
say "At dc-lyon a dispense from the locked lot is refused, through ${VIA}'s node — the lock is honoured there"
refused LOCKED dc-lyon "$VIA" decommission --reason dispensed "${packs[7]}" --actor pharm.dupont

say "The killed node ($LEADER) is restarted: it recovers its ledger and catches up from the new leader"
echo "\$ siteledgerd --config cluster/$LEADER/node.conf &"
start_node "$LEADER"
poll_until 150 same_state "${SITES[@]}" || die "the three ledgers did not agree within 15 s"

say "End of the day: the same ledger on all three sites (ledger size and state hash per node)"
for s in "${SITES[@]}"; do
	printf '$ siteledger node status --node %s --key %s\n' "${ADDR[$s]}" "$(key "$s")"
	sl node status --node "${ADDR[$s]}" --key "$(key "$s")" || die "node status failed on $s"
done
same_state "${SITES[@]}" || die "the ledgers differ"
echo
echo "   all three nodes: $(node_json mfg-basel | jq -r '"\(.ledger_size) entries, state hash \(.state_hash)"')"

say "Stop the three nodes (SIGTERM) and clean up"
for s in "${SITES[@]}"; do
	echo "\$ kill -TERM ${PID[$s]}   # siteledgerd of $s"
	stop_node "$s"
done
echo "demo-cluster: done"
