/* node/node.c — siteledgerd's loop: open the replica, peers, clients and the storage thread;
 * tick; drive the Ready cycles; stop cleanly on SIGTERM/SIGINT.
 *
 * Driving (node.h "Threads", replica.h "Threads"): every input (tick, peer message, client
 * request) only steps the raft core or queues work. node_drive — after inputs and once per loop
 * iteration from the uv_prepare callback — does nothing while a Ready is in flight; otherwise it
 * proposes the queued client records (leader; packing everything that queued during the last
 * persist) and begins the next Ready. A Ready with something durable goes to the storage thread
 * (node/storage.c); meanwhile the loop keeps ticking, stepping peer messages and serving
 * clients. When the persist returns, node_ready_persisted finishes the Ready on the loop thread
 * (sends, outcomes to clients, events, raft_advance) and drives again. A Ready with nothing to
 * persist (heartbeats, votes refused without a term change) is finished at once, up to
 * NODE_CYCLES_PER_DRIVE_MAX per drive; when more are due an idle handle keeps the loop from
 * blocking.
 *
 * Observing: each tick publishes the metrics (node/metrics.h) to the HTTP thread; every applied
 * record becomes an event, and a divergence or a failed cycle an alarm (node/events.c).
 *
 * Stopping: SIGTERM/SIGINT first waits for the persist step in flight, if any (its clients are
 * answered with their outcomes); then pending clients are told to retry, the storage thread is
 * joined, every handle is closed, the loop ends, and the sockets, replica and key are released.
 * Exit 0. A failed persist (replica.h rule 2: the store may be poisoned) stops the node with
 * exit 1 and every pending client told to retry: restarting reopens the store (CONVENTIONS.md 6).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/random.h"
#include "node/node.h"
#include "util/error.h"

static void on_send(void *ctx, const struct raft_msg *msg)
{
	node_peer_send(ctx, msg);
}

static void on_applied(void *ctx, const struct replica_applied *a)
{
	struct node *n = ctx;
	node_clients_applied(n, a);
	n->metrics.raft_entries_applied_total++;
	for (size_t i = 0; i < a->results_count; i++)
		node_metrics_outcome_count(&n->metrics, a->results[i].outcome);
	node_events_applied(n, a);
	node_checkpoint_applied(n, a); /* content seq; alarms for refused checkpoint records */
	node_alarms_applied(n, a);     /* SPC */
	node_snapshot_applied(n, a); /* releases the installed snapshot's mapping */
	node_queries_applied(n); /* linearizable reads waiting for this index */
	node_membership_applied(n, a); /* peer links follow configuration changes */
}

/* Loop thread, while the storage thread commits the cycle (replica.h rule 7, D25): the clients
 * whose records this cycle applied hear their outcomes now; plain reads wait until the store
 * shows them (node/query.c). */
static void on_answered(void *ctx, const struct replica_applied *a)
{
	struct node *n = ctx;
	node_clients_applied(n, a);
	if (a->index > n->answered_index)
		n->answered_index = a->index;
}

static void on_read_states(void *ctx, const struct raft_read_state *states, size_t count)
{
	node_queries_read_states(ctx, states, count);
}

/* Storage thread (persist step, replica.h T1): may read only what the loop handed over before
 * the Ready began, and the bytes it returns must stay put until the Ready is finished. */
static int on_snapshot_data(void *ctx, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len)
{
	return node_snapshot_data(ctx, meta, data, len); /* a pinned read-only mapping (node.h) */
}

/* Storage thread (persist step): keep the text; the loop logs it and raises the alarm. */
static void on_diverged(void *ctx, const char *what)
{
	node_storage_diverged(ctx, what);
}

static uint64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Gauges from the raft core and the replica, counters from the loop's tallies; then hand the
 * copy to the HTTP thread (node/metrics.h: the only state shared across threads). */
static void metrics_publish(struct node *n)
{
	if (n->http == NULL)
		return;
	struct node_metrics *m = &n->metrics;
	assert(n->peer_count <= NODE_PEERS_MAX); /* m->peers has room for each */
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	m->raft_term = st.term;
	m->raft_role = st.role;
	m->raft_commit_index = st.commit;
	m->raft_applied_index = a.index;
	m->ledger_entries = a.ledger_seq;
	m->peer_unknown_sender_total = n->counters.peer_dropped_unknown;
	m->client_refused_total = n->counters.client_refused;
	m->client_invalid_total = n->counters.client_invalid;
	m->peer_count = n->peer_count;
	for (size_t i = 0; i < n->peer_count; i++) {
		const struct node_peer *p = &n->peers[i];
		struct node_metrics_peer *mp = &m->peers[i];
		snprintf(mp->name, sizeof mp->name, "%s", p->config->name);
		mp->id = p->config->id;
		mp->last_heard_ms = p->last_heard_ms;
		mp->dropped_queue = p->dropped_queue;
		mp->dropped_send = p->dropped;
		mp->dropped_unopened = p->dropped_unopened;
		mp->dropped_malformed = p->dropped_malformed;
		mp->match_index = 0;
		for (size_t j = 0; st.role == RAFT_LEADER && j < st.progress_count; j++)
			if (st.progress[j].id == mp->id)
				mp->match_index = st.progress[j].match;
	}
	node_http_publish(n->http, m);
}

static void close_walk_cb(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

/* No Ready in flight: answer whoever still waits, join the storage thread, close the handles
 * (the loop ends once the thread pool's verifications have called back too). */
static void node_stop_complete(struct node *n)
{
	assert(n->stopping);
	assert(!n->storage.busy);
	node_clients_fail_all(n, "node shutting down; retry");
	node_snapshot_cancel(n); /* an export under way ends at its next write (the loop waits for it) */
	node_storage_stop(n);
	uv_walk(n->loop, close_walk_cb, NULL);
}

static void node_stop(struct node *n, int exit_code, const char *why)
{
	if (n->stopping)
		return;
	n->stopping = true;
	n->exit_code = exit_code;
	node_log(exit_code == 0 ? "info" : "error", "stopping", "why=\"%s\" persist_in_flight=%d", why,
		 n->storage.busy);
	if (!n->storage.busy)
		node_stop_complete(n); /* else node_ready_persisted completes it */
}

static void role_watch(struct node *n)
{
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	if (st.role == n->last_role && st.leader == n->last_leader && st.term == n->last_term)
		return;
	n->last_role = st.role;
	n->last_leader = st.leader;
	n->last_term = st.term;
	node_log("info", "raft state", "role=%s term=%" PRIu64 " leader=%" PRIu64 " commit=%" PRIu64,
		 raft_role_name(st.role), st.term, st.leader, st.commit);
	if (st.role != RAFT_LEADER)
		node_clients_propose(n); /* queued requests of a deposed leader are answered, not kept */
}

static void idle_cb(uv_idle_t *idle)
{
	(void)idle; /* being active keeps the loop from blocking; prepare_cb does the work */
}

/* A Ready failed (begin or persist): the store may be poisoned (replica.h rule 2). */
static void ready_failed(struct node *n, int rc)
{
	const char *why = store_last_error(replica_store(n->rp));
	if (n->storage.diverged[0] != '\0') {
		node_log("error", "divergence while installing a snapshot", "what=\"%s\"", n->storage.diverged);
		node_events_alarm(n, "divergence", n->storage.diverged);
		node_snapshot_diverged(n);
	}
	node_log("error", "ready cycle failed", "err=%s store=\"%s\"", sl_errname(rc), why ? why : "");
	node_events_alarm(n, "cycle_failed", sl_errname(rc));
	if (!n->stopping) {
		node_stop(n, 1, "ready cycle failed");
		return;
	}
	n->exit_code = 1; /* failed while draining for a signal */
	node_stop_complete(n);
}

static void ready_finish(struct node *n)
{
	replica_ready_finish(n->rp, &n->hooks);
	node_metrics_cycle_observe(&n->metrics, monotonic_ns() - n->cycle_start_ns);
}

/* Begin Readies until one goes to the storage thread, none is left, or the bound. */
static void ready_start(struct node *n)
{
	for (int i = 0; i < NODE_CYCLES_PER_DRIVE_MAX && !n->storage.busy; i++) {
		n->cycle_start_ns = monotonic_ns();
		int rc = replica_ready_begin(n->rp);
		if (rc == 0)
			return;
		if (rc < 0) {
			ready_failed(n, rc);
			return;
		}
		if (replica_ready_needs_persist(n->rp)) {
			replica_ready_send_early(n->rp, &n->hooks); /* a leader's appends overlap its write */
			node_storage_persist(n);
			return;
		}
		ready_finish(n); /* nothing durable: send at once (raft.h rule 1 holds trivially) */
	}
}

void node_drive(struct node *n)
{
	if (n->stopping)
		return;
	if (!n->storage.busy) {
		node_clients_propose(n);
		ready_start(n);
		if (n->stopping)
			return;
	}
	role_watch(n);
	if (!n->storage.busy && raft_has_ready(replica_raft(n->rp)))
		uv_idle_start(&n->idle, idle_cb);
	else
		uv_idle_stop(&n->idle);
}

void node_ready_persisted(struct node *n, int rc)
{
	assert(!n->storage.busy);
	if (rc != 0) {
		ready_failed(n, rc);
		return;
	}
	ready_finish(n);
	if (n->stopping) {
		node_stop_complete(n); /* the signal came during the persist: now nothing is in flight */
		return;
	}
	if (n->tick_held)
		raft_tick(replica_raft(n->rp));
	n->tick_held = false;
	node_drive(n);
}

/* While a Ready persists, the core's clock stands still (D15): anything a tick would make it
 * send waits for that Ready anyway, and its timers would only expire on the silence this node's
 * own persist causes (its replies and heartbeats are held until then). One held tick is given
 * after the persist, as a loop blocked by the persist would have given it. */
static void tick_cb(uv_timer_t *timer)
{
	struct node *n = timer->data;
	if (n->storage.busy)
		n->tick_held = true;
	else
		raft_tick(replica_raft(n->rp));
	node_clients_expire(n);
	node_snapshot_tick(n);
	node_membership_tick(n);
	metrics_publish(n);
}

static void prepare_cb(uv_prepare_t *prepare)
{
	node_drive(prepare->data);
}

static void signal_cb(uv_signal_t *handle, int signum)
{
	node_stop(handle->data, 0, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int replica_start(struct node *n)
{
	struct replica_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.raft.id = n->config.id;
	uint64_t ids[RAFT_VOTERS_MAX];
	size_t count = 0;
	ids[count++] = n->config.id;
	for (size_t i = 0; i < n->config.peer_count; i++)
		ids[count++] = n->config.peers[i].id;
	for (size_t i = 1; i < count; i++) /* raft wants voters ascending */
		for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			uint64_t t = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	if (n->config.join)
		count = 0; /* joining: the leader's log brings the configuration (node/membership.c) */
	memcpy(cfg.raft.initial.voters, ids, count * sizeof ids[0]);
	cfg.raft.initial.voters_count = (uint8_t)count;
	cfg.raft.election_ticks = n->config.election_ticks;
	cfg.raft.heartbeat_ticks = n->config.heartbeat_ticks;
	cfg.raft.pre_vote = true;
	cfg.raft.check_quorum = true;
	crypto_random_bytes(&cfg.raft.seed, sizeof cfg.raft.seed);
	cfg.dir = n->config.data_dir;
	cfg.store.map_bytes = NODE_MAP_BYTES;
	cfg.verify_threads = 0;
	cfg.compact_every = n->config.compact_every; /* followers behind it catch up by snapshot */
	cfg.compact_keep = n->config.compact_keep;
	int rc = crypto_verify_cache_create(NODE_VERIFIED_ENTRIES, &n->verified);
	cfg.verified = n->verified;
	if (rc == 0)
		rc = replica_open(&cfg, &n->rp);
	if (rc != 0) {
		node_log("error", "cannot open the data directory", "dir=%s err=%s", n->config.data_dir, sl_errname(rc));
		return rc;
	}
	struct store_raft_applied a;
	replica_applied_get(n->rp, &a);
	node_log("info", "replica open", "dir=%s applied=%" PRIu64 " ledger_size=%" PRIu64, n->config.data_dir, a.index,
		 a.ledger_seq);
	return 0;
}

static int handles_start(struct node *n)
{
	int rc = uv_timer_init(n->loop, &n->tick);
	n->tick.data = n;
	if (rc == 0)
		rc = uv_timer_start(&n->tick, tick_cb, n->config.tick_ms, n->config.tick_ms);
	if (rc == 0)
		rc = uv_prepare_init(n->loop, &n->prepare);
	n->prepare.data = n;
	if (rc == 0)
		rc = uv_prepare_start(&n->prepare, prepare_cb);
	if (rc == 0)
		rc = uv_idle_init(n->loop, &n->idle);
	if (rc == 0)
		rc = uv_signal_init(n->loop, &n->sigterm);
	n->sigterm.data = n;
	if (rc == 0)
		rc = uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
	if (rc == 0)
		rc = uv_signal_init(n->loop, &n->sigint);
	n->sigint.data = n;
	if (rc == 0)
		rc = uv_signal_start(&n->sigint, signal_cb, SIGINT);
	return rc == 0 ? 0 : SL_EIO;
}

static int node_start(struct node *n)
{
	char label[RECORD_SITE_SIZE];
	int rc = crypto_secret_key_read(n->config.key_path, &n->sk, label, sizeof label);
	if (rc != 0) {
		node_log("error", "cannot read the site key", "path=%s err=%s", n->config.key_path, sl_errname(rc));
		return rc;
	}
	if (strcmp(label, n->config.site) != 0) {
		node_log("error", "the key belongs to another site", "key_site=%s site=%s", label, n->config.site);
		return SL_EINVAL;
	}
	n->plain = malloc(NODE_PEER_MSG_BYTES_MAX);
	if (n->plain == NULL)
		return SL_ENOMEM;
	n->hooks = (struct replica_hooks){ .ctx = n,
					   .send = on_send,
					   .applied = on_applied,
					   .answered = on_answered,
					   .snapshot_data = on_snapshot_data,
					   .diverged = on_diverged,
					   .read_states = on_read_states };
	rc = replica_start(n);
	if (rc == 0)
		rc = node_storage_start(n);
	if (rc == 0)
		rc = node_snapshot_open(n);
	if (rc == 0)
		rc = node_peers_open(n);
	if (rc == 0)
		rc = node_membership_open(n);
	if (rc == 0)
		rc = node_clients_open(n);
	if (rc == 0)
		rc = node_events_open(n);
	if (rc == 0)
		rc = node_checkpoint_open(n);
	if (rc == 0)
		rc = node_alarms_open(n);
	if (rc == 0 && n->config.metrics_listen[0] != '\0') {
		rc = node_http_start(n->config.metrics_listen, &n->http);
		if (rc != 0)
			node_log("error", "cannot serve metrics", "addr=%s err=%s", n->config.metrics_listen,
				 sl_errname(rc));
	}
	if (rc == 0)
		rc = handles_start(n);
	return rc;
}

static void node_release(struct node *n)
{
	node_http_stop(n->http); /* first: its thread reads nothing of ours but the published copy */
	n->http = NULL;
	node_checkpoint_close(n); /* may answer a waiting request: before the client socket goes */
	node_alarms_close(n);
	node_events_close(n);
	node_clients_close(n);
	node_peers_close(n);
	node_membership_close(n); /* after the peers: links point into it */
	node_storage_stop(n); /* joined before the replica goes (no persist is in flight) */
	node_snapshot_close(n); /* after the storage thread: it may have read a mapping */
	if (n->rp != NULL)
		replica_close(n->rp);
	n->rp = NULL;
	crypto_verify_cache_destroy(n->verified); /* after the storage thread and the pool are done */
	n->verified = NULL;
	crypto_secret_key_wipe(&n->sk);
	free(n->plain);
}

int node_run(const char *config_path)
{
	static struct node node; /* large (peer queues, config): not on the stack */
	struct node *n = &node;
	memset(n, 0, sizeof *n);
	n->peer_sock = n->client_sock = n->events_sock = -1;
	for (size_t i = 0; i < NODE_PEERS_MAX; i++)
		n->peers[i].sock = -1;
	unsigned line = 0;
	struct sl_error_detail detail = { "" };
	int rc = node_config_load(config_path, &n->config, &line, &detail);
	if (rc != 0) {
		node_log("error", "bad configuration", "file=%s err=%s detail=\"%s\"", config_path, sl_errname(rc),
			 detail.text);
		return 2;
	}
	if (crypto_init() != 0)
		return 1;
	n->loop = uv_default_loop();
	rc = node_start(n);
	if (rc == 0) {
		node_log("info", "started",
			 "id=%" PRIu64 " site=%s peer_listen=%s client_listen=%s metrics_listen=%s events_listen=%s peers=%zu",
			 n->config.id, n->config.site, n->config.peer_listen, n->config.client_listen,
			 n->config.metrics_listen[0] ? n->config.metrics_listen : "-",
			 n->config.events_listen[0] ? n->config.events_listen : "-", n->config.peer_count);
		uv_run(n->loop, UV_RUN_DEFAULT);
	} else {
		n->exit_code = 1;
		n->stopping = true;
		uv_walk(n->loop, close_walk_cb, NULL);
		uv_run(n->loop, UV_RUN_DEFAULT);
	}
	node_log("info", "stopped", "exit=%d peer_dropped_unknown=%" PRIu64 " peer_dropped_unopened=%" PRIu64
		 " peer_dropped_malformed=%" PRIu64 " peer_dropped_queue=%" PRIu64 " client_refused=%" PRIu64
		 " client_invalid=%" PRIu64, n->exit_code, n->counters.peer_dropped_unknown,
		 n->counters.peer_dropped_unopened, n->counters.peer_dropped_malformed, n->counters.peer_dropped_queue,
		 n->counters.client_refused, n->counters.client_invalid);
	node_release(n);
	(void)uv_loop_close(n->loop);
	return n->exit_code;
}
