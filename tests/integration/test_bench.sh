#!/usr/bin/env bash
# Integration test: the cluster benchmark's load drivers (bench/bench_cluster, bench/bench_etcd) count
# what they claim. bench_cluster drives a 3-node loopback cluster briefly (clients spread over the nodes,
# following redirects); its result lines add up, every acknowledged record is in every node's ledger,
# and a key the cluster does not know gives errors and exit 1, not figures. bench_etcd does the same
# against one etcd member when etcd is installed (`make bench` installs it; `make test` does not need
# it: SKIP otherwise). Every wait is bounded; every process is stopped at the end (lib.sh cleanup).
source "$(dirname "$0")/lib.sh" "${1:-build}"
source "$ROOT/tests/integration/cluster.sh"
SITES=(mfg dc pharmacy)
DRIVER="$BUILD_DIR/bench/bench_cluster"
ETCD_DRIVER="$BUILD_DIR/bench/bench_etcd"

# field KEY LINE: the value of KEY=... in a result or check line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

cluster_up "${SITES[@]}" || exit 1
pids=$(IFS=,; echo "${PID[mfg]},${PID[dc]},${PID[pharmacy]}")
expect_exit 0 bench_cluster_runs timeout 120 "$DRIVER" --node "${ADDR[dc]}" --node "${ADDR[pharmacy]}" \
	--node "${ADDR[mfg]}" --key cluster/keys/mfg.key --clients 1,3 --seconds 1 --serials 5 --pids "$pids"
one=$(grep '^result system=siteledger clients=1 ' <<<"$OUT")
three=$(grep '^result system=siteledger clients=3 ' <<<"$OUT")
checkline=$(grep '^check system=siteledger ' <<<"$OUT")
check bench_cluster_two_windows test -n "$one" -a -n "$three"
check bench_cluster_no_errors test "$(field errors "$one")$(field errors "$three")" = 00
check bench_cluster_did_work test "$(field ops "$one")" -gt 0 -a "$(field ops "$three")" -gt 0
check bench_cluster_rate_is_ops_over_seconds awk -v o="$(field ops "$three")" -v s="$(field seconds "$three")" \
	-v r="$(field ops_per_s "$three")" 'BEGIN { exit !(s >= 1 && (o / s - r) ^ 2 < 1) }'
check bench_cluster_serials_per_record awk -v r="$(field records_per_s "$one")" -v e="$(field serials_per_s "$one")" \
	'BEGIN { exit !(r > 0 && (e - 5 * r) ^ 2 < 4) }'
check bench_cluster_latency_order awk -v a="$(field p50_ms "$one")" -v b="$(field p99_ms "$one")" \
	-v c="$(field max_ms "$one")" 'BEGIN { exit !(a > 0 && a <= b && b <= c) }'
check bench_cluster_server_cpu_measured awk -v c="$(field server_cpu_ms_per_op "$three")" 'BEGIN { exit !(c > 0) }'
# acknowledged = window ops + one warm-up per client (1 + 3), one record each; all in every ledger
acked=$(($(field ops "$one") + $(field ops "$three") + 4))
check bench_cluster_counts_warmups test "$(field acked_records "$checkline")" = "$acked"
check bench_cluster_nodes_agree test "$(field agree "$checkline")" = 1
check bench_cluster_ledger_has_acked test "$(field ledger_added "$checkline")" -ge "$acked"
check replicas_agree_after_bench poll_until 50 same_state "${SITES[@]}"

# a key no node knows: refused, counted as errors, exit 1
sl keygen --site stranger --out stranger.key >/dev/null 2>&1
expect_exit 1 bench_cluster_unknown_key_fails timeout 120 "$DRIVER" --node "${ADDR[mfg]}" --key stranger.key \
	--clients 1 --seconds 1 --serials 5
check bench_cluster_unknown_key_says_why grep -q "unknown key" <<<"$ERR"
expect_exit 2 bench_cluster_bad_clients "$DRIVER" --node "${ADDR[mfg]}" --key cluster/keys/mfg.key --clients 0
cluster_stop "${SITES[@]}"

if ! command -v etcd >/dev/null 2>&1; then
	echo "SKIP bench_etcd: etcd not installed (make bench installs Debian's etcd-server)"
	exit 0
fi
port=$((32100 + ($$ % 300) * 2)) # below the ephemeral range, apart from cluster.sh's ports
etcd --name solo --data-dir etcd-data --listen-client-urls "http://127.0.0.1:$port" \
	--advertise-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
	--initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
	--initial-cluster "solo=http://127.0.0.1:$((port + 1))" --logger zap --log-level error 2>etcd.log &
BACKGROUND_PIDS+=("$!")
expect_exit 0 bench_etcd_runs timeout 120 "$ETCD_DRIVER" --endpoint "127.0.0.1:$port" --clients 2 --seconds 1 \
	--value-bytes 64
two=$(grep '^result system=etcd clients=2 ' <<<"$OUT")
checkline=$(grep '^check system=etcd ' <<<"$OUT")
check bench_etcd_no_errors test "$(field errors "$two")" = 0
check bench_etcd_keep_alive test "$(field connects "$two")" = 2
check bench_etcd_counts_puts test "$(field acked_puts "$checkline")" = $(($(field ops "$two") + 2))
check bench_etcd_keys_match test "$(field keys_added "$checkline")" = "$(field acked_puts "$checkline")"
