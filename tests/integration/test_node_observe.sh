#!/usr/bin/env bash
# Integration test: siteledgerd's observability (docs/operations.md "Metrics" and "Events") on a
# three-node loopback cluster — GET /metrics after accepted and rejected submissions, 404/405,
# commit and reject events on a subscriber of a follower and of the leader, a bad metrics_listen,
# a clean SIGTERM with the HTTP thread running. Every wait is bounded; every process is stopped.
source "$(dirname "$0")/lib.sh" "${1:-build}"
SITELEDGERD="$BUILD_DIR/bin/siteledgerd"
EVENTS_SUB="$BUILD_DIR/itest/events_sub"
sl() { timeout 30 "$SITELEDGER" "$@"; }
GTIN=09506000134352
# twelve ports per run (6 cluster, 3 metrics, 3 events) in 10000-19599: below test_node.sh's range
# (20000+) and the Linux ephemeral range; runs with nearby PIDs get disjoint ranges
BASE=$((10000 + ($$ % 800) * 12))
SITES=(mfg dc pharmacy)
declare -A PID ADDR METRICS EVENTS
for i in 0 1 2; do
	ADDR[${SITES[$i]}]="tcp://127.0.0.1:$((BASE + 2 * i + 1))"
	METRICS[${SITES[$i]}]="127.0.0.1:$((BASE + 6 + i))"
	EVENTS[${SITES[$i]}]="tcp://127.0.0.1:$((BASE + 9 + i))"
done

if [ ! -x "$EVENTS_SUB" ] || ! command -v curl >/dev/null; then
	fail observe_prerequisites "need $EVENTS_SUB (make unit-bins) and curl (scripts/install-deps.sh)"
	exit 1
fi


scrape() { curl -sf --max-time 5 "http://${METRICS[$1]}/metrics"; }
# metric_value SITE 'name{labels}': its value on stdout
metric_value() { scrape "$1" | awk -v m="$2" '$1 == m { print $2; found = 1 } END { exit !found }'; }
metric_at_least() { local v; v=$(metric_value "$1" "$2") && [ "${v%.*}" -ge "$3" ]; }
leader_of() {
	for s in "${SITES[@]}"; do
		[ "$(metric_value "$s" 'siteledger_raft_role{role="leader"}')" = 1 ] && { echo "$s"; return 0; }
	done
	return 1
}

# --- a cluster whose nodes serve metrics and events
expect_exit 0 cluster_init sl cluster init --sites mfg,dc,pharmacy --dir cluster --base-port "$BASE" --json
for s in "${SITES[@]}"; do
	# no periodic checkpoint records: the subscribers below count exact events
	sed -i "1i metrics_listen = ${METRICS[$s]}\nevents_listen = ${EVENTS[$s]}\ncheckpoint_every_ms = 0" "cluster/$s/node.conf"
done
# a bad metrics_listen is refused at start with its line (exit 2), before anything is opened
sed "s/^metrics_listen = .*/metrics_listen = localhost:80/" cluster/mfg/node.conf >cluster/mfg/bad.conf
expect_exit 2 bad_metrics_listen_refused timeout 10 "$SITELEDGERD" --config cluster/mfg/bad.conf
check bad_metrics_listen_names_line grep -q 'line 1: expected a numeric IPv4 address' <<<"$ERR"

for s in "${SITES[@]}"; do start_node "$s"; done
check metrics_served poll_until 100 scrape mfg
check leader_elected_per_metrics poll_until 100 leader_of
if ! LEADER=$(leader_of); then
	fail cluster_running "no leader (see below); the remaining checks would only time out"
	tail -n 5 ./*.log
	exit 1
fi
FOLLOWER=mfg
[ "$LEADER" = mfg ] && FOLLOWER=dc

# --- subscribers first (PUB does not keep messages for late subscribers): one per topic on a
# follower, one for everything on the leader; each exits after its count or 20 s
timeout 30 "$EVENTS_SUB" "${EVENTS[$FOLLOWER]}" 2 20000 commit >commit.out 2>commit.err &
SUB_COMMIT=$!
timeout 30 "$EVENTS_SUB" "${EVENTS[$FOLLOWER]}" 1 20000 reject >reject.out 2>reject.err &
SUB_REJECT=$!
timeout 30 "$EVENTS_SUB" "${EVENTS[$LEADER]}" 3 20000 >all.out 2>all.err &
SUB_ALL=$!
# the operator's subscriber: `siteledger events`, JSON objects only
sl events --node-events "${EVENTS[$FOLLOWER]}" --topic reject --topic commit --count 3 --wait-ms 20000 --json \
	>cli_events.out 2>cli_events.err &
SUB_CLI=$!
BACKGROUND_PIDS+=("$SUB_COMMIT" "$SUB_REJECT" "$SUB_ALL" "$SUB_CLI")
sleep 1 # the subscribers' TCP connections and subscriptions reach the publishers

# --- two accepted records and one duplicate (a rejection by reason)
expect_exit 0 commission_accepted sl commission --node "${ADDR[$FOLLOWER]}" --key cluster/keys/mfg.key \
	--gtin $GTIN --lot OBS1 --expiry 281100 --serial O1 --json
ID1=$(jq -r '.results[0].record_id' <<<"$OUT")
expect_exit 0 second_commission_accepted sl commission --node "${ADDR[$LEADER]}" --key cluster/keys/mfg.key \
	--gtin $GTIN --lot OBS1 --expiry 281100 --serial O2 --json
expect_exit 1 duplicate_rejected sl commission --node "${ADDR[$LEADER]}" --key cluster/keys/mfg.key \
	--gtin $GTIN --lot OBS1 --expiry 281100 --serial O1 --json
ID3=$(jq -r '.results[0].record_id' <<<"$OUT")

# --- events
wait "$SUB_COMMIT"
check commit_subscriber_got_two test $? -eq 0
wait "$SUB_REJECT"
check reject_subscriber_got_one test $? -eq 0
wait "$SUB_ALL"
check leader_subscriber_got_three test $? -eq 0
check commit_topic_only test "$(grep -c '^commit {' commit.out)" -eq 2
COMMIT_RE="^commit {\"raft_index\":[0-9]*,\"seq\":[0-9]*,\"ledger_time_ms\":[0-9]*,\"record_id\":\"$ID1\","
COMMIT_RE+="\"type\":\"commission\",\"site\":\"mfg\",\"outcome\":\"ACCEPTED\"}\$"
check commit_event_names_record grep -q "$COMMIT_RE" commit.out
check commit_event_is_json eval "sed 's/^commit //' commit.out | jq -e 'select(.outcome == \"ACCEPTED\") | .seq > 0' >/dev/null"
check reject_event_reason grep -q "^reject {.*\"record_id\":\"$ID3\".*\"outcome\":\"DUPLICATE_COMMISSION\"}\$" reject.out
check leader_events_in_order eval '[ "$(cut -d" " -f1 all.out | tr "\n" " ")" = "commit commit reject " ]'
wait "$SUB_CLI"
check cli_events_exit_0 test $? -eq 0
check cli_events_json_lines test "$(jq -r .outcome cli_events.out 2>/dev/null | tr '\n' ' ')" = \
	"ACCEPTED ACCEPTED DUPLICATE_COMMISSION "
check cli_events_record_id test "$(jq -r 'select(.outcome != "ACCEPTED") | .record_id' cli_events.out)" = "$ID3"
expect_exit 1 cli_events_wait_bounded sl events --node-events "${EVENTS[$FOLLOWER]}" --topic alarm --count 1 --wait-ms 300
expect_exit 2 cli_events_bad_topic sl events --node-events "${EVENTS[$FOLLOWER]}" --topic commits --count 1
check same_events_on_both_nodes eval '[ "$(grep -v "^reject" all.out)" = "$(cat commit.out)" ]'

# --- metrics after the submissions (published once per tick: polled)
for s in "$LEADER" "$FOLLOWER"; do
	check "accepted_counted_on_$s" poll_until 50 metric_at_least "$s" 'siteledger_records_total{outcome="ACCEPTED"}' 2
	check "rejection_by_reason_on_$s" poll_until 50 metric_at_least "$s" \
		'siteledger_records_total{outcome="DUPLICATE_COMMISSION"}' 1
	check "applied_index_on_$s" poll_until 50 metric_at_least "$s" siteledger_raft_applied_index 4
	check "ledger_entries_on_$s" poll_until 50 metric_at_least "$s" siteledger_ledger_entries_total 3
	check "events_published_on_$s" poll_until 50 metric_at_least "$s" siteledger_events_published_total 3
done
scrape "$LEADER" >leader.metrics
for name in siteledger_raft_term siteledger_raft_commit_index siteledger_raft_entries_applied_total \
	siteledger_ready_cycle_seconds_count siteledger_peer_unknown_sender_total; do
	check "metric_$name" grep -q "^$name [0-9]" leader.metrics
done
check metric_help_and_type grep -q '^# TYPE siteledger_records_total counter$' leader.metrics
check metric_histogram_inf grep -q '^siteledger_ready_cycle_seconds_bucket{le="+Inf"} [1-9]' leader.metrics
check term_positive metric_at_least "$LEADER" siteledger_raft_term 1
check follower_role_gauge test "$(metric_value "$FOLLOWER" 'siteledger_raft_role{role="follower"}')" = 1
# the leader hears from both followers (heartbeat replies) and knows how far each has the log
check leader_heard_follower grep -q "^siteledger_peer_last_heard_seconds{peer=\"$FOLLOWER\"} [0-9]" leader.metrics
check leader_match_index poll_until 50 metric_at_least "$LEADER" "siteledger_peer_match_index{peer=\"$FOLLOWER\"}" 4
check peer_drop_reasons grep -q "^siteledger_peer_messages_dropped_total{peer=\"$FOLLOWER\",reason=\"queue_full\"} [0-9]" leader.metrics
CTYPE=$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "http://${METRICS[$LEADER]}/metrics")
check content_type_0_0_4 test "$CTYPE" = "text/plain; version=0.0.4; charset=utf-8"
check other_path_404 test "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://${METRICS[$LEADER]}/")" = 404
check post_405 test "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST -d x "http://${METRICS[$LEADER]}/metrics")" = 405

# --- SIGTERM with the HTTP thread and the PUB socket open: clean stop, exit 0, port released
for s in "${SITES[@]}"; do
	kill -TERM "${PID[$s]}"
	wait "${PID[$s]}"
	check "sigterm_exit_0_$s" test $? -eq 0
done
check metrics_port_released eval "! curl -s --max-time 2 http://${METRICS[$LEADER]}/metrics"
