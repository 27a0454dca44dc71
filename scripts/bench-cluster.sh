#!/usr/bin/env bash
# scripts/bench-cluster.sh — the cluster section of docs/benchmarks.md (scripts/bench.sh calls it): a
# 3-node siteledgerd cluster beside a 3-member etcd 3.4 cluster, both on loopback, in the same run.
#
#   bash scripts/bench-cluster.sh BUILD VERIFY_PER_S [APPLY100_PER_S]
#
# VERIFY_PER_S: Ed25519 verifications per second on one core, as bench_apply measured it in the same
# run (the issue's goal is stated against it); APPLY100_PER_S: bench_apply's single-node apply rate of
# 100-serial records (for the CPU ceiling of 3 nodes). Markdown goes to stdout, progress to stderr.
#
# Each repetition starts each cluster afresh in temp dirs (durable: siteledgerd commits one LMDB
# transaction with fsync per Ready cycle, etcd fsyncs its WAL before it answers), drives it with
# bench/bench_cluster or bench/bench_etcd at every client count, then stops it and removes its
# dirs; repetitions alternate which system goes first. Medians over repetitions are reported. Then one
# more siteledger window (the largest client count) runs under `perf record -a`, with the leader's
# and a follower's Ready-cycle metrics read before and after it.
#
# Environment: BENCH_QUICK=1 (1 repetition, 2 s windows), BENCH_CLUSTER_RUNS, BENCH_CLUSTER_SECONDS,
# BENCH_CLUSTER_CLIENTS (default 1,4,16), BENCH_PROFILE=0 (no perf window), BENCH_ETCD=0 (no etcd).
# Rules: every wait is bounded; every process started here is stopped (SIGTERM, a bounded wait,
# then SIGKILL) and the temp dir removed, also on error or interrupt; a driver whose final check
# fails (nodes disagree, acknowledged writes missing) fails the whole run: no figures are written.
set -euo pipefail
build=${1:?usage: bench-cluster.sh BUILD VERIFY_PER_S}
verify1=${2:?usage: bench-cluster.sh BUILD VERIFY_PER_S [APPLY100_PER_S]}
apply100=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$root/$build" ;; esac
source "$root/scripts/poll.sh"
cli="$build/bin/siteledger"
daemon="$build/bin/siteledgerd"
driver="$build/bench/bench_cluster"
etcd_driver="$build/bench/bench_etcd"

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then runs=1 seconds=2; else runs=3 seconds=5; fi
runs=${BENCH_CLUSTER_RUNS:-$runs}
seconds=${BENCH_CLUSTER_SECONDS:-$seconds}
clients=${BENCH_CLUSTER_CLIENTS:-1,4,16}
IFS=, read -r -a counts <<<"$clients"
largest=${counts[-1]}
smallest=${counts[0]}
cores=$(nproc)
sites=(bench-a bench-b bench-c)
# 15 ports from a base chosen by our PID, below the Linux ephemeral range: siteledgerd peer/client
# ports (base..base+5, `cluster init`), its metrics (base+6..8), etcd client (+9..11) and peer (+12..14).
base=$((20000 + ($$ % 700) * 16))
work=$(mktemp -d "${TMPDIR:-/tmp}/siteledger-bench-XXXXXX")
PIDS=()
declare -A SL_PID WINDOW_SECONDS WINDOW_RESULT

log() { echo "bench-cluster: $*" >&2; }

stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	for ((k = 0; k < 100; k++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	PIDS=()
}
cleanup() {
	local rc=$?
	stop_all
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

etcd_ok=0
etcd_version=""
if [ "${BENCH_ETCD:-1}" != 0 ]; then
	if ! command -v etcd >/dev/null 2>&1; then
		log "installing etcd-server (Debian) for the side-by-side run"
		bash "$root/scripts/install-deps.sh" etcd-server >&2 || log "could not install etcd-server"
	fi
	etcd_version=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p' || true)
	if [[ "$etcd_version" == 3.4.* ]]; then
		etcd_ok=1
	else
		log "etcd 3.4 not available: the etcd columns stay empty"
	fi
fi

# --- siteledgerd ------------------------------------------------------------------------------
sl_addr() { echo "tcp://127.0.0.1:$((base + 2 * $1 + 1))"; }
sl_metrics() { echo "127.0.0.1:$((base + 6 + $1))"; }
sl_role() { timeout 5 "$cli" node status --node "$(sl_addr "$2")" --key "$1/keys/bench-a.key" --json | jq -r .role; }
sl_leader() { # DIR: sets LEADER to the node index (0..2) that is leader
	local i
	for i in 0 1 2; do
		if [ "$(sl_role "$1" "$i")" = leader ]; then LEADER=$i; return 0; fi
	done
	return 1
}

sl_up() { # DIR: `cluster init`, metrics on, start the 3 nodes, wait for a leader
	local dir=$1 i
	timeout 60 "$cli" cluster init --sites "$(IFS=,; echo "${sites[*]}")" --dir "$dir" --base-port "$base" >/dev/null
	for i in 0 1 2; do
		sed -i "1i metrics_listen = $(sl_metrics "$i")" "$dir/${sites[$i]}/node.conf"
		"$daemon" --config "$dir/${sites[$i]}/node.conf" 2>>"$dir/${sites[$i]}.log" &
		PIDS+=("$!")
		SL_PID[$i]=$!
	done
	if ! poll_until 300 sl_leader "$dir"; then
		log "no siteledgerd leader within 30 s"
		tail -n 5 "$dir"/*.log >&2
		return 1
	fi
}

# SL_CMD: bench_cluster against the cluster in DIR (TAG keeps serials unique), bounded by `timeout`
# (which passes SIGTERM on); more arguments passed on. An array, so that `"${SL_CMD[@]}" &` makes $!
# the timeout process itself.
sl_cmd() {
	local dir=$1 tag=$2
	shift 2
	SL_CMD=(timeout $((60 + ${#counts[@]} * (seconds + 90))) "$driver" --node "$(sl_addr 0)" --node "$(sl_addr 1)"
		--node "$(sl_addr 2)" --key "$dir/keys/bench-a.key" --tag "$tag"
		--pids "${SL_PID[0]},${SL_PID[1]},${SL_PID[2]}" "$@")
}

sl_rep() { # REP
	local dir="$work/sl-$1"
	log "repetition $1: siteledgerd, clients $clients, ${seconds} s windows"
	sl_up "$dir"
	sl_cmd "$dir" "$1" --clients "$clients" --seconds "$seconds"
	if ! "${SL_CMD[@]}" >"$dir.out" 2>"$dir.err"; then
		log "bench_cluster failed:"
		cat "$dir.out" "$dir.err" >&2
		return 1
	fi
	cat "$dir.out" >>"$work/results"
	stop_all
	rm -rf "$dir"
}

# --- etcd ---------------------------------------------------------------------------------------
etcd_client() { echo "127.0.0.1:$((base + 9 + $1))"; }
etcd_peer() { echo "127.0.0.1:$((base + 12 + $1))"; }

etcd_up() { # DIR: sets ETCD_PIDS
	local dir=$1 i members=""
	ETCD_PIDS=()
	mkdir -p "$dir"
	for i in 0 1 2; do members+="${members:+,}m$i=http://$(etcd_peer "$i")"; done
	for i in 0 1 2; do
		etcd --name "m$i" --data-dir "$dir/m$i" --listen-client-urls "http://$(etcd_client "$i")" \
			--advertise-client-urls "http://$(etcd_client "$i")" --listen-peer-urls "http://$(etcd_peer "$i")" \
			--initial-advertise-peer-urls "http://$(etcd_peer "$i")" --initial-cluster "$members" \
			--initial-cluster-state new --initial-cluster-token "siteledger-bench-$$" \
			--logger zap --log-level warn >>"$dir/m$i.log" 2>&1 &
		PIDS+=("$!")
		ETCD_PIDS+=("$!")
	done
}

etcd_rep() { # REP
	local dir="$work/etcd-$1"
	log "repetition $1: etcd, clients $clients, ${seconds} s windows"
	etcd_up "$dir"
	if ! timeout $((60 + ${#counts[@]} * (seconds + 90))) "$etcd_driver" --endpoint "$(etcd_client 0)" \
		--endpoint "$(etcd_client 1)" --endpoint "$(etcd_client 2)" --clients "$clients" --seconds "$seconds" \
		--pids "$(IFS=,; echo "${ETCD_PIDS[*]}")" >"$dir.out" 2>"$dir.err"; then
		log "bench_etcd failed:"
		cat "$dir.out" "$dir.err" >&2
		tail -n 5 "$dir"/*.log >&2
		return 1
	fi
	cat "$dir.out" >>"$work/results"
	stop_all
	rm -rf "$dir"
}

# --- the profiled window ------------------------------------------------------------------------
scrape() { curl -s --max-time 5 "http://$(sl_metrics "$1")/metrics" >"$2" || : >"$2"; }
metric() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }

# one window of CLIENTS clients on the running cluster in DIR, the leader's and a follower's metrics
# read around it (files PREFIX.leader.0/1, PREFIX.follower.0/1), under perf when PERF=1; sets
# WINDOW_SECONDS[PREFIX] and WINDOW_RESULT[PREFIX]
measured_window() {
	local dir=$1 tag=$2 clients_n=$3 prefix=$4 with_perf=$5 driver_pid t0 t1 pid kept=()
	local follower=$(((LEADER + 1) % 3))
	# the driver's window outlasts the measured one (started after the window's marker) by seconds
	sl_cmd "$dir" "$tag" --clients "$clients_n" --seconds $((seconds + 4))
	"${SL_CMD[@]}" >"$dir.$prefix.out" 2>"$dir.$prefix.err" &
	driver_pid=$!
	PIDS+=("$driver_pid")
	if ! poll_until 1200 grep -q "window starts" "$dir.$prefix.err"; then
		log "the measured window ($clients_n clients) did not start"
		return 1
	fi
	scrape "$LEADER" "$work/$prefix.leader.0"
	scrape "$follower" "$work/$prefix.follower.0"
	t0=$(date +%s.%N)
	if [ "$with_perf" = 1 ]; then
		perf record -a -F 499 -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>"$work/perf.err" ||
			log "perf record failed: $(tail -n 1 "$work/perf.err")"
	else
		sleep "$seconds"
	fi
	t1=$(date +%s.%N)
	scrape "$LEADER" "$work/$prefix.leader.1"
	scrape "$follower" "$work/$prefix.follower.1"
	if ! wait "$driver_pid"; then
		log "bench_cluster failed in the measured window:"
		cat "$dir.$prefix.out" "$dir.$prefix.err" >&2
		return 1
	fi
	for pid in "${PIDS[@]}"; do [ "$pid" = "$driver_pid" ] || kept+=("$pid"); done
	PIDS=("${kept[@]}")
	WINDOW_SECONDS[$prefix]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	WINDOW_RESULT[$prefix]=$(grep '^result ' "$dir.$prefix.out" || true)
}

# the largest client count under perf, then the smallest with metrics only, on one fresh cluster
profile_window() {
	local dir="$work/sl-profile"
	log "profile: siteledgerd, $largest clients under perf record -a, then $smallest client(s); ${seconds} s each"
	sl_up "$dir"
	measured_window "$dir" 99 "$largest" large 1
	measured_window "$dir" 98 "$smallest" small 0
	PROFILE_SECONDS=${WINDOW_SECONDS[large]}
	PROFILE_LEADER_PID=${SL_PID[$LEADER]}
	PROFILE_FOLLOWER_PIDS="${SL_PID[$(((LEADER + 1) % 3))]} ${SL_PID[$(((LEADER + 2) % 3))]}"
	PROFILE_RESULT=${WINDOW_RESULT[large]}
	if [ -s "$work/perf.data" ]; then
		perf script -i "$work/perf.data" -F comm,pid,tid,ip,sym,dso 2>/dev/null >"$work/perf.txt" || : >"$work/perf.txt"
	fi
	stop_all
	rm -rf "$dir"
}

# --- the runs -----------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
fs_type=$(df -T "$work" | awk 'NR == 2 { print $2 }')
# what one fsync costs on this disk now: 500 synced 4 KiB writes (dd oflag=dsync), mean ms each
fsync_probe() {
	LC_ALL=C dd if=/dev/zero of="$work/fsync-probe" bs=4k count=500 oflag=dsync 2>&1 |
		sed -n 's/.* copied, \([0-9.e-]*\) s,.*/\1/p' | awk '{ printf "%.3f", $1 * 1000 / 500 }'
	rm -f "$work/fsync-probe"
}
fsync_before=$(fsync_probe)
: >"$work/results"
for ((r = 1; r <= runs; r++)); do
	if [ $((r % 2)) = 1 ]; then
		sl_rep "$r"
		[ "$etcd_ok" = 0 ] || etcd_rep "$r"
	else
		[ "$etcd_ok" = 0 ] || etcd_rep "$r"
		sl_rep "$r"
	fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
profiled=0
if [ "${BENCH_PROFILE:-1}" != 0 ] && command -v perf >/dev/null 2>&1; then
	profile_window
	profiled=1
fi
fsync_ms=$(fsync_probe)

# --- the report ---------------------------------------------------------------------------------
# median KEY over the result lines of SYSTEM at CLIENTS clients ("" when there are none)
median() {
	{ grep "^result system=$1 clients=$2 " "$work/results" || true; } | tr ' ' '\n' | sed -n "s/^$3=//p" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.6g", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { $1 }" </dev/null; } # calc 'printf "%.2f", 1 / 3'
fmt() { if [ -n "$2" ]; then calc "printf \"$1\", $2"; else echo "–"; fi; } # "–" when there is no value
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then calc "if ($2 > 0) printf \"%.6g\", $1 / $2"; fi; }
# verdict RATIO GOAL ge|le: "yes", or "**no**" and how far off
verdict() {
	if [ -z "$1" ]; then
		echo "–"
	elif [ "$3" = ge ]; then
		calc "if ($1 >= $2) print \"yes\"; else printf \"**no**: %.1f× short\", $2 / $1"
	else
		calc "if ($1 <= $2) print \"yes\"; else printf \"**no**: %.1f× over\", $1 / $2"
	fi
}
declare -A SL ETCD
for n in "${counts[@]}"; do
	for key in records_per_s serials_per_s p50_ms p99_ms machine_busy driver_cpu server_cpu_ms_per_op exhausted; do
		SL[$key.$n]=$(median siteledger "$n" "$key")
	done
	for key in ops_per_s p50_ms p99_ms machine_busy server_cpu_ms_per_op; do
		ETCD[$key.$n]=$(median etcd "$n" "$key")
	done
done
driver_rel="$(basename "$build")/bench"

echo "## Cluster: 3 siteledgerd nodes beside 3 etcd members"
echo
echo "Both clusters run on this machine over loopback, data in temp dirs on $fs_type, durable: siteledgerd"
[ "$etcd_ok" = 1 ] || etcd_version="3.4 (not available in this run: its columns are empty)"
echo "commits one LMDB write transaction with fsync per Ready cycle; etcd $etcd_version"
echo "(Debian's etcd-server) fsyncs its WAL before it answers. N client threads, one request in flight"
echo "each, all talking to the leader (siteledger's clients follow the node's REDIRECT; etcd's driver asks"
echo "/v3/maintenance/status which member leads). siteledger: a request is one commission record of 100"
echo "serials, record and request signed before the window, sent through the client protocol (nanomsg"
echo "REQ, node/proto.h) and answered after apply on the leader. etcd: a request is a put of a 256-byte"
echo "value (POST /v3/kv/put through its HTTP gRPC gateway, JSON, HTTP/1.1 keep-alive), answered after"
echo "commit and apply. ${seconds} s windows per client count and system, $runs repetition(s) on fresh"
echo "clusters, alternating which system goes first; medians over repetitions."
echo
echo "Commands (ports and pids vary): \`$driver_rel/bench_cluster --node tcp://127.0.0.1:P1 --node ... --key"
echo "DIR/keys/bench-a.key --clients $clients --seconds $seconds --pids ...\` and \`$driver_rel/bench_etcd"
echo "--endpoint 127.0.0.1:P1 --endpoint ... --clients $clients --seconds $seconds --pids ...\`; both clusters"
echo "started, stopped and removed by \`scripts/bench-cluster.sh\` (part of \`make bench\`)."
echo
echo "| clients | siteledger records/s | serial events/s | p50 ms | p99 ms | etcd puts/s | p50 ms | p99 ms | records/s ÷ puts/s |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in "${counts[@]}"; do
	rec=${SL[records_per_s.$n]} puts=${ETCD[ops_per_s.$n]}
	echo "| $n | $(fmt %.0f "$rec") | $(fmt %.0f "${SL[serials_per_s.$n]}") | $(fmt %.1f "${SL[p50_ms.$n]}") |" \
		"$(fmt %.1f "${SL[p99_ms.$n]}") | $(fmt %.0f "$puts") | $(fmt %.2f "${ETCD[p50_ms.$n]}") |" \
		"$(fmt %.2f "${ETCD[p99_ms.$n]}") | $(fmt %.2f "$(ratio "$rec" "$puts")") |"
done
echo
echo "The machine is shared: $cores cores, and other engineers' builds and tests ran beside this run"
echo "(load average $load_before before it, $load_after after). A synced 4 KiB write (\`dd oflag=dsync\`)"
echo "took ${fsync_before:-?} ms on this disk before the runs and ${fsync_ms:-?} ms after. *Machine busy* is the share of all"
echo "cores' time not idle during a window, whoever used it; *CPU ms per request* is the servers' own"
echo "CPU time (all 3 processes, /proc) per acknowledged request, which the neighbours disturb far less"
echo "than throughput."
echo
echo "| clients | siteledgerd CPU ms per record | etcd CPU ms per put | machine busy, siteledger window | machine busy, etcd window | driver CPU, cores |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for n in "${counts[@]}"; do
	echo "| $n | $(fmt %.2f "${SL[server_cpu_ms_per_op.$n]}") | $(fmt %.2f "${ETCD[server_cpu_ms_per_op.$n]}") |" \
		"$(fmt %.2f "${SL[machine_busy.$n]}") | $(fmt %.2f "${ETCD[machine_busy.$n]}") | $(fmt %.2f "${SL[driver_cpu.$n]}") |"
	[ "${SL[exhausted.$n]:-0}" = 0 ] || echo "| $n | (requests ran out before the window ended: raise --ops-max) | | | | |"
done
echo

peak=""
for n in "${counts[@]}"; do
	rec=${SL[records_per_s.$n]}
	[ -z "$rec" ] || peak=$(calc "print ($rec > ${peak:-0}) ? $rec : ${peak:-0}")
done
verify_ceiling=$(calc "printf \"%.0f\", $cores * $verify1 / 3")
echo "### Against the issue's goals"
echo
echo "| goal | measured | ratio | goal | met |"
echo "| --- | --- | ---: | ---: | --- |"
for n in "${counts[@]}"; do
	rec=${SL[records_per_s.$n]} puts=${ETCD[ops_per_s.$n]}
	r=$(ratio "$rec" "$puts")
	echo "| records/s ≥ 5 × etcd puts/s, $n client(s) | $(fmt %.0f "$rec") records/s, $(fmt %.0f "$puts") puts/s |" \
		"$(fmt %.2f "$r") | ≥ 5 | $(verdict "$r" 5 ge) |"
done
r=$(ratio "$peak" "$verify_ceiling")
echo "| peak records/s ≥ 0.7 × cores × one-core verify/s ÷ nodes | $(fmt %.0f "$peak") records/s; $cores × $verify1 ÷ 3 = $verify_ceiling |" \
	"$(fmt %.3f "$r") | ≥ 0.7 | $(verdict "$r" 0.7 ge) |"
p99=${SL[p99_ms.$smallest]} ep99=${ETCD[p99_ms.$smallest]}
r=$(ratio "$p99" "$ep99")
echo "| p99 at $smallest client(s) ≤ 0.5 × etcd's p99 | $(fmt %.1f "$p99") ms, etcd $(fmt %.2f "$ep99") ms | $(fmt %.2f "$r") | ≤ 0.5 |" \
	"$(verdict "$r" 0.5 le) |"
echo
echo "One-core verify/s is bench_apply's figure above (records of 1 serial; a 100-serial record's"
echo "signed bytes are ~2.4 kB and verify somewhat slower). Every node verifies every record, so 3 nodes"
echo "on one machine share its cores: the second goal's ceiling is cores × verify/s ÷ 3."
if [ -n "$apply100" ]; then
	echo "Verifying is not the whole of apply: bench_apply applies $(fmt %.0f "$apply100") records of 100 serials per"
	echo "second on one node with all cores (rules, 100 items and their history, indexes, Merkle tree), so"
	echo "3 nodes applying every record here top out near $(calc "printf \"%.0f\", $apply100 / 3") records/s before any consensus work."
fi
cpu=${SL[server_cpu_ms_per_op.$largest]}
if [ -n "$cpu" ] && calc "exit !($cpu > 0)"; then
	echo "At $(fmt %.2f "$cpu") CPU ms per record over the 3 nodes ($largest clients), the cores of this machine"
	echo "would carry at most $(calc "printf \"%.0f\", $cores * 1000 / $cpu") records/s if siteledgerd had them to itself."
fi
echo
echo "What moves each goal, by construction (the profile below gives this run's shares):"
echo
echo "- Latency (the p99 goal): a record's answer waits for the leader's append and a follower's side by"
echo "  side, each a write transaction with two flushes (pages, then LMDB's meta page; the leader sends its"
echo "  appends before its own write, docs/decisions.md D22), then for the leader's apply once the entry is"
echo "  committed; the answer goes out as soon as the apply is computed, while that cycle commits with one"
echo "  flush (D24, D25), and the next record's append waits for that commit. An etcd put waits for one WAL"
echo "  fsync per member and is applied in memory (its backend commits in the background)."
echo "- Throughput (the other goals): in this closed loop the nodes are bound by their CPU per record, so"
echo "  records/s rise only as CPU per record falls. A record is verified five times in the cluster (the"
echo "  leader: request signature, thread pool, apply; each follower: apply — docs/decisions.md D15) and"
echo "  applied three times, 100 items each; an etcd put is one 256-byte key per member."
echo "- One record per request: even $largest clients fill a raft entry with only a few records (the Ready-cycle"
echo "  table below). \`bench_cluster --per-request K\` shows what fewer round trips give; the table keeps one"
echo "  write per request on both sides (D19)."
echo
[ "$profiled" = 1 ] || exit 0

# perf script lines "COMM PID/TID IP SYM (DSO)" -> shares by process class ("classes"), the leader's
# and a follower's samples by library ("dso"), the leader's by symbol ("sym"); sorted, tab-separated
profile_tables() {
	awk -v L="$PROFILE_LEADER_PID" -v F="$PROFILE_FOLLOWER_PIDS" -v out="$1" '
	BEGIN { split(F, f, " "); F1 = f[1]; follower[f[1]] = 1; follower[f[2]] = 1 }
	{
		for (i = 1; i <= NF && $i !~ /^[0-9]+\/[0-9]+$/; i++) {}
		if (i > NF) next
		split($i, pt, "/"); pid = pt[1]; tid = pt[2]
		dso = $NF; gsub(/[()\[\]]/, "", dso); n = split(dso, parts, "/"); dso = parts[n]
		sub(/\.so.*/, "", dso); if (dso == "kernel.kallsyms") dso = "kernel"
		sym = ""; for (j = i + 2; j < NF; j++) sym = sym (sym == "" ? "" : " ") $j
		if (sym == "" || sym == "[unknown]") sym = "(" dso ", no symbols)"
		total++
		if (pid == 0) cls = "idle (no task on the CPU)"
		else if (pid == L) cls = tid == L ? "leader: loop thread" : "leader: other threads (verify, storage, HTTP)"
		else if (pid in follower) cls = "followers (2)"
		else if ($1 == "bench_cluster") cls = "load driver (bench_cluster)"
		else cls = "other processes (other builds and tests)"
		class[cls]++
		if (pid == L) { lead++; lead_dso[dso]++; lead_sym[sym]++ }
		if (pid == F1) { fol++; fol_dso[dso]++ }
	}
	END {
		if (out == "classes") for (c in class) printf "%.1f\t%s\n", 100 * class[c] / total, c
		if (out == "dso") for (d in lead_dso) printf "%.1f\t%s\t%.1f\n", 100 * lead_dso[d] / lead, d, fol ? 100 * fol_dso[d] / fol : 0
		if (out == "dso") for (d in fol_dso) if (!(d in lead_dso)) printf "0.0\t%s\t%.1f\n", d, 100 * fol_dso[d] / fol
		if (out == "sym") for (s in lead_sym) printf "%.1f\t%s\n", 100 * lead_sym[s] / lead, s
	}' "$work/perf.txt" | sort -t$'\t' -k1,1 -rn
}
share() { profile_tables classes | awk -F'\t' -v c="$1" 'index($2, c) == 1 { s += $1 } END { printf "%.0f", s }'; }
delta() { calc "print $(metric "$work/$1.1" "$2") - $(metric "$work/$1.0" "$2")"; }
cycle_row() { # LABEL FILE-PREFIX SECONDS
	local n s e l
	n=$(delta "$2" siteledger_ready_cycle_seconds_count)
	s=$(delta "$2" siteledger_ready_cycle_seconds_sum)
	e=$(delta "$2" siteledger_raft_entries_applied_total)
	l=$(delta "$2" siteledger_ledger_entries_total)
	echo "| $1 | $(calc "printf \"%.0f\", $n / $3") | $(calc "if ($n > 0) printf \"%.2f\", 1000 * $s / $n") |" \
		"$(calc "printf \"%.0f%%\", 100 * $s / $3") | $(calc "printf \"%.0f\", $e / $3") |" \
		"$(calc "if ($e > 0) printf \"%.1f\", $l / $e") |"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"${2:-$PROFILE_RESULT}"; }
echo "### Where the time goes: $largest clients under perf"
echo
echo "One more siteledger window of $largest clients on a fresh cluster, profiled with \`perf record -a -F 499\`"
echo "for ${PROFILE_SECONDS} s (on-CPU samples of every process on the machine). That window measured"
echo "$(fmt %.0f "$(field records_per_s)") records/s, p99 $(fmt %.1f "$(field p99_ms)") ms, $(fmt %.2f "$(field server_cpu_ms_per_op)") CPU ms per record."
echo
if [ ! -s "$work/perf.txt" ]; then
	echo "perf recorded nothing here ($(tail -n 1 "$work/perf.err" 2>/dev/null))."
	echo
fi
echo "| share of all cores' time | % |"
echo "| --- | ---: |"
profile_tables classes | awk -F'\t' '{ printf "| %s | %s |\n", $2, $1 }'
echo
echo "The leader's and one follower's samples by library (kernel: system calls, page-cache writes of"
echo "LMDB pages, fsync, loopback TCP, scheduling; libsodium: Ed25519 verification and the sealed peer"
echo "messages):"
echo
echo "| library | leader % | follower % |"
echo "| --- | ---: | ---: |"
profile_tables dso | head -n 8 | awk -F'\t' '{ printf "| %s | %s | %s |\n", $2, $1, $3 }'
echo
echo "The leader's top symbols (a library without symbols is counted whole):"
echo
echo "| symbol | leader % |"
echo "| --- | ---: |"
profile_tables sym | head -n 12 | awk -F'\t' '{ printf "| %s | %s |\n", $2, $1 }'
echo
echo "Ready cycles (node metrics: siteledger_ready_cycle_seconds, one write transaction with fsync, then"
echo "sends and apply) in the same ${PROFILE_SECONDS} s, and in a window of $smallest client(s) that followed"
echo "it on the same cluster (${WINDOW_SECONDS[small]} s, not under perf):"
echo
echo "| node | cycles/s | mean ms per cycle | time inside cycles | raft entries applied/s | records per entry |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
cycle_row "leader, $largest clients" large.leader "$PROFILE_SECONDS"
cycle_row "follower, $largest clients" large.follower "$PROFILE_SECONDS"
cycle_row "leader, $smallest client(s)" small.leader "${WINDOW_SECONDS[small]}"
cycle_row "follower, $smallest client(s)" small.follower "${WINDOW_SECONDS[small]}"
echo
idle=$(share idle)
others=$(share other)
leader_cpu=$(calc "printf \"%.0f\", $(share leader) * $cores")
nodes_share=$(calc "print $(share leader) + $(share followers)")
inside=$(calc "printf \"%.0f\", 100 * $(delta large.leader siteledger_ready_cycle_seconds_sum) / $PROFILE_SECONDS")
cycle_ms=$(calc "n = $(delta large.leader siteledger_ready_cycle_seconds_count); if (n > 0) printf \"%.2f\", 1000 * $(delta large.leader siteledger_ready_cycle_seconds_sum) / n")
cpu_ms=$(field server_cpu_ms_per_op)
measured=$(field records_per_s)
echo "Reading it (computed from the tables above):"
echo
fsync_part="a large part of a cycle"
if [ -n "$fsync_ms" ] && [ -n "$cycle_ms" ] && calc "exit !($fsync_ms < 0.25 * $cycle_ms)"; then
	fsync_part="a small part of a cycle: the rest is CPU work and waiting for a core"
fi
echo "- The leader was inside Ready cycles ${inside}% of the window (mean ${cycle_ms:-?} ms per cycle) while its"
echo "  threads together used ${leader_cpu}% of one core. A synced 4 KiB write took ${fsync_ms:-?} ms right after, so"
echo "  fsync is $fsync_part."
if [ -n "$cpu_ms" ] && calc "exit !($cpu_ms > 0)"; then
	predicted=$(calc "printf \"%.0f\", $nodes_share / 100 * $cores * 1000 / $cpu_ms")
	echo "- The 3 nodes had $(fmt %.0f "$nodes_share")% of the machine's cores; at $(fmt %.2f "$cpu_ms") CPU ms per record that pays for"
	echo "  $predicted records/s, and the window measured $(fmt %.0f "$measured"): $(calc "r = $measured / $predicted; if (r > 0.75 && r < 1.33) print \"throughput is bound by the CPU the nodes got\"; else print \"throughput is not bound by the CPU the nodes got (latency: batches wait for one another)\"")."
fi
echo "- The machine was idle ${idle}% of the time; other processes took ${others}% of it."
small_rec=$(field records_per_s "${WINDOW_RESULT[small]}")
if [ -n "$small_rec" ] && calc "exit !($small_rec > 0)"; then
	per_record() { calc "printf \"%.1f\", $(delta "$1" siteledger_ready_cycle_seconds_count) / ${WINDOW_SECONDS[small]} / $small_rec"; }
	mean_ms() { calc "n = $(delta "$1" siteledger_ready_cycle_seconds_count); if (n > 0) printf \"%.2f\", 1000 * $(delta "$1" siteledger_ready_cycle_seconds_sum) / n"; }
	lc=$(per_record small.leader) lm=$(mean_ms small.leader) fc=$(per_record small.follower) fm=$(mean_ms small.follower)
	echo "- Latency at $smallest client(s) ($(fmt %.0f "$small_rec") records/s, p50 $(fmt %.1f "$(field p50_ms "${WINDOW_RESULT[small]}")") ms): per record the leader ran"
	echo "  $lc Ready cycles of ${lm:-?} ms and a follower $fc of ${fm:-?} ms. On each record's path: the leader's"
	echo "  append and a follower's side by side (the leader sends before its own write, D22), then the"
	echo "  leader's apply once committed, answered before its commit (D25) — at most about $(calc "m = ${lm:-0}; if (${fm:-0} > m) m = ${fm:-0}; printf \"%.1f\", m + ${lm:-0}") ms (etcd's p50 at $smallest client(s): $(fmt %.2f "${ETCD[p50_ms.$smallest]}") ms in all)."
fi
if [ "$inside" -ge 80 ]; then
	echo "- Ready cycles ran back to back: they are the serial stage. One cycle at a time appends, applies"
	echo "  and commits; records that arrive meanwhile wait for the next cycle (each raft entry takes two:"
	echo "  append, then apply once committed)."
fi
echo
