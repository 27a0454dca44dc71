/* node/node.h — siteledgerd internals shared by its files: the node, its peers and its clients.
 *
 * Threads (DESIGN.md "Node", docs/decisions.md D15):
 *  - The libuv loop thread owns everything here unless said otherwise: the tick timer, uv_poll on
 *    the nanomsg receive (and, while a peer's queue is backed up, send) descriptors, the raft
 *    core via replica/ (begin and finish of each Ready: replica.h "Threads"), the client slots,
 *    the events socket, the metrics, every log line. Its reads of the store (request keys, item
 *    status) use their own read transactions.
 *  - The storage thread (node/storage.c) runs the persist step of the one Ready in flight: the
 *    LMDB write transaction, apply, fsync. It touches the store, the in-flight Ready and
 *    struct node_storage only; hooks.snapshot_data and hooks.diverged run on it (node.c).
 *  - The libuv thread pool authenticates client requests (node/client.c, node/verify.c): a worker
 *    reads the slot it was handed (state SLOT_VERIFYING, which the loop leaves alone) and the
 *    store through its own read transaction, and writes only that slot's verdict and the
 *    thread-safe cache of verified signatures (n->verified) that apply takes them from. It also runs reads
 *    (node/query.c): a worker owns its session (state SESSION_RUNNING) and reads the store through
 *    the session's own read transaction.
 *  - The HTTP thread reads only the metrics copy published each tick under its mutex
 *    (node/metrics.h).
 *
 * Invariants:
 *  1. Every queue is bounded: NODE_PEER_QUEUE_MSGS_MAX / _BYTES_MAX per peer (oldest dropped,
 *     Raft retries), NODE_CLIENT_PENDING_MAX client requests (more: BUSY).
 *  2. A client request gets exactly one reply: its outcomes after apply on this (leader) node,
 *     or an error (redirect, unavailable, refused, invalid, busy, timeout, shutting down).
 *  3. Input from peers and clients is decoded strictly; what does not decode, open or
 *     authenticate is dropped (peers) or refused (clients) and counted.
 */
#ifndef SL_NODE_NODE_H
#define SL_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "crypto/seal.h"
#include "crypto/verify_cache.h"
#include "node/config.h"
#include "node/metrics.h"
#include "node/proto.h"
#include "replica/replica.h"

#define NODE_PEER_QUEUE_MSGS_MAX 256 /* sealed messages waiting for one peer's socket */
#define NODE_PEER_QUEUE_BYTES_MAX (32u << 20) /* and their bytes */
#define NODE_PEER_ENVELOPE_BYTES (8 + CRYPTO_SEAL_OVERHEAD_BYTES) /* sender id + nonce + tag */
#define NODE_PEER_MSG_BYTES_MAX (RAFT_MSG_BYTES_MAX + NODE_PEER_ENVELOPE_BYTES)
#define NODE_PEER_KEYS_MAX 4 /* keys in force per peer a link opens with (a key rotation: D26) */
#define NODE_PEER_RECV_PER_WAKE_MAX 256 /* messages taken per poll wake-up: others wait their turn */
#define NODE_CLIENT_PENDING_MAX 256 /* client requests held at once (verifying, queued or proposed) */
#define NODE_CLIENT_RECV_PER_WAKE_MAX 64
#define NODE_CLIENT_TIMEOUT_MS 10000 /* a submit not applied by then is answered TIMEOUT */
#define NODE_CYCLES_PER_DRIVE_MAX 16 /* Readies with nothing to persist finished in one drive */
#define NODE_MAP_BYTES (1ull << 34) /* LMDB map: address space only, the file grows as used */
#define NODE_VERIFIED_ENTRIES (1u << 17) /* verify cache: twice the records all slots can hold */
_Static_assert(NODE_VERIFIED_ENTRIES >= 2u * NODE_CLIENT_PENDING_MAX * PROTO_RECORDS_MAX, "cache too small");
_Static_assert(NODE_VERIFIED_ENTRIES <= CRYPTO_VERIFY_CACHE_ENTRIES_MAX, "cache too large");

struct node_peer {
	const struct node_peer_config *config; /* kept when unlinked: the slot's last peer */
	bool linked; /* sends and receives flow; false after node_peer_unlink (membership) */
	int endpoint; /* nn_connect's endpoint, shut down by node_peer_unlink */
	int sock; /* NN_PUSH connected to the peer's peer address; kept while unlinked */
	/* The site's keys this link accepts (D26): the key it was linked with, then the keys in force
	 * the registry lists for the peer's site. Sends seal with keys[key_current], the one that
	 * opened the peer's last message (or the newest); receives try that one first. */
	struct crypto_seal_key keys[NODE_PEER_KEYS_MAX];
	struct crypto_public_key key_pks[NODE_PEER_KEYS_MAX];
	size_t key_count, key_current;
	struct crypto_public_key link_pk; /* the key node_peer_link was given (or read) */
	uv_poll_t send_poll;
	bool send_polling;
	uint8_t *queue[NODE_PEER_QUEUE_MSGS_MAX];
	size_t queue_len[NODE_PEER_QUEUE_MSGS_MAX];
	size_t queue_head, queue_count, queue_bytes;
	uint64_t dropped; /* sends nanomsg refused */
	uint64_t dropped_queue; /* sends dropped on this peer's full queue */
	uint64_t dropped_unopened, dropped_malformed; /* received from this peer and dropped */
	uint64_t last_heard_ms; /* wall clock of its last authenticated message; 0 = never */
};

enum node_slot_state { SLOT_FREE = 0, SLOT_VERIFYING, SLOT_QUEUED, SLOT_PROPOSED };

/* A worker's verdict on a request (node/client.c). */
struct node_verdict {
	uint8_t code;		       /* PROTO_OK when authentic and acceptable, else the refusal code */
	char message[PROTO_TEXT_BYTES]; /* the refusal's text */
	bool count_invalid;	       /* counted as client_invalid (else client_refused) */
	bool log;		       /* log the refusal (unknown or revoked key, bad signature) */
};

struct node_slot {
	enum node_slot_state state;
	uv_work_t work;	      /* SLOT_VERIFYING: the thread pool's request; work.data = the node */
	bool verify_records;  /* a submit that arrived at the leader: the worker checks its records */
	struct node_verdict verdict; /* written by the worker, read by the loop after it */
	void *control; /* nanomsg SP header of the request (raw REP): the reply's route */
	void *bytes;   /* request bytes (nn_allocmsg'd by nanomsg); req borrows from them */
	struct proto_request req;
	uint64_t arrival;
	uint64_t index, term; /* the raft entry proposed */
	size_t offset;	      /* first of this request's records in that entry's batch */
	uint64_t deadline_ms;
};

struct node_counters {
	uint64_t peer_dropped_unknown; /* sender id not in the configuration */
	uint64_t peer_dropped_unopened; /* box did not open: wrong key or altered */
	uint64_t peer_dropped_malformed; /* opened but not a valid raft message for us */
	uint64_t peer_dropped_queue; /* sends dropped on full queues */
	uint64_t client_refused;
	uint64_t client_invalid;
};

/* The storage thread's hand-off (node/storage.c). */
#define NODE_DIVERGED_BYTES 160 /* a divergence's text, as replica/snapshot.c words it */
struct node_storage {
	uv_thread_t thread;
	uv_mutex_t mutex;
	uv_cond_t cond;
	uv_async_t done_async;
	bool started, sync_ready;
	bool busy;		 /* loop thread: a Ready is in flight (between persist and done) */
	bool job, quit, done;	 /* under mutex */
	bool written;		 /* under mutex: the Ready is applied, its commit runs (D25) */
	int rc;			 /* under mutex: the persist step's result */
	char diverged[NODE_DIVERGED_BYTES]; /* storage thread during a persist; loop after it */
};

struct node {
	struct node_config config;
	uv_loop_t *loop;
	uv_timer_t tick;
	uv_prepare_t prepare;
	uv_idle_t idle;
	uv_signal_t sigterm, sigint;
	uv_poll_t peer_poll, client_poll;
	int peer_sock;	 /* NN_PULL */
	int client_sock; /* raw NN_REP */
	struct crypto_secret_key sk;
	replica *rp;
	struct replica_hooks hooks; /* set once at start; read by the loop and the storage thread */
	crypto_verify_cache *verified; /* record signatures the pool verified; apply takes them (D15) */
	struct node_storage storage;
	uint64_t cycle_start_ns; /* the Ready in flight began (metrics) */
	bool tick_held;		 /* a tick came while a Ready persisted (node.c tick_cb) */
	struct node_peer peers[NODE_PEERS_MAX];
	size_t peer_count;
	uint8_t *plain; /* NODE_PEER_MSG_BYTES_MAX scratch: a message encoded to send, or opened */
	struct node_slot *slots; /* NODE_CLIENT_PENDING_MAX */
	uint64_t arrivals;
	uint64_t answered_index; /* highest entry whose outcomes clients were told (D25) */
	struct node_counters counters;
	struct node_metrics metrics; /* loop thread's copy; published each tick (node/metrics.h) */
	struct node_snapshot *snapshot; /* snapshot streaming state (node/snapshot.c) */
	struct node_checkpoint *checkpoint; /* periodic and asked-for checkpoints (node/checkpoint.c) */
	struct node_queries *queries; /* reads in progress (node/query.c) */
	struct node_alarms *alarms;	    /* SPC alarms (node/alarms.c) */
	struct node_membership *membership; /* peers learnt from registry records (node/membership.c) */
	node_http *http;	      /* NULL without metrics_listen */
	int events_sock;	      /* NN_PUB; -1 without events_listen */
	enum raft_role last_role;
	uint64_t last_leader, last_term;
	bool stopping;
	int exit_code;
};

/* node/log.c: one logfmt line on stderr: ts=... level=... msg="..." then `fields` (already
 * "key=value key=value", printf-style). */
void node_log(const char *level, const char *msg, const char *fields, ...) __attribute__((format(printf, 3, 4)));
uint64_t node_clock_ms(void); /* wall clock, ms since the epoch */

/* node/peer.c */
int node_peers_open(struct node *n);
void node_peers_close(struct node *n);
void node_peer_send(struct node *n, const struct raft_msg *msg); /* replica hook */
void node_peer_send_raft(struct node *n, const struct raft_msg *msg); /* encoded as is, SNAPSHOT too */
/* Seal plain[0..len) for peer `to` and queue it; SL_ENOENT for an id not linked. */
int node_peer_send_plain(struct node *n, uint64_t to, const uint8_t *plain, size_t len);
/* Link a peer (node/membership.c decides which): seal key from pk (NULL: config->public_key_path),
 * connect to config->peer_addr. config must outlive the link. A slot unlinked earlier is reused
 * (its own id first); SL_ELIMIT when NODE_PEERS_MAX slots are linked. 0 when already linked. */
int node_peer_link(struct node *n, const struct node_peer_config *config, const struct crypto_public_key *pk);
/* Stop sending to and accepting from `id` (queue dropped, endpoint shut down); no-op if unlinked. */
void node_peer_unlink(struct node *n, uint64_t id);
/* The peer's keys in force (newest first; node/membership.c from the registry): the link accepts
 * these from now on (D26); with none, the link is dropped. */
void node_peer_rekey(struct node *n, uint64_t id, const struct crypto_public_key *pks, size_t count);
bool node_peer_linked(const struct node *n, uint64_t id);

/* node/client.c */
int node_clients_open(struct node *n);
void node_clients_fail_all(struct node *n, const char *why); /* answer every pending request UNAVAILABLE */
void node_clients_close(struct node *n); /* fail_all, then close the socket (after its poll handle) */
void node_clients_propose(struct node *n); /* leader: group-commit queued requests */
void node_clients_applied(struct node *n, const struct replica_applied *a);
void node_clients_expire(struct node *n);
const struct node_peer_config *node_peer_by_id(const struct node *n, uint64_t id);

/* node/verify.c: thread pool side of a request (see that file): authenticate it and, when
 * `records`, check a submit's records early, remembering good signatures in `verified`. Reads req
 * and the store; writes only *out and the (thread-safe) cache. */
void node_verify_request(store *st, crypto_verify_cache *verified, const struct proto_request *req, bool records,
			 struct node_verdict *out);

/* node/events.c: events for subscribers (docs/operations.md "Events"). Each message is a topic
 * word, one space, then one JSON object. Sends never block: PUB drops for slow subscribers. */
#define NODE_EVENT_BYTES_MAX 4096 /* one event message: the longest alarm, every field cut and escaped */
#define NODE_EVENT_WHAT_BYTES_MAX 128 /* an alarm's free text, cut (escaped: up to 6x in the message) */

struct node_event_record {
	uint64_t raft_index;
	uint64_t seq; /* ledger sequence of the entry */
	uint64_t ledger_time_ms;
	const uint8_t *record_id; /* RECORD_ID_BYTES; zero when the record did not decode */
	const char *type;	  /* record_type_name; NULL when the record did not decode */
	const char *site;	  /* NULL when the record did not decode */
	int outcome;		  /* enum ledger_outcome */
};

/* Pure formatters: "commit {...}" (ACCEPTED) or "reject {...}", and "alarm {...}", into
 * out[0..cap) NUL-terminated; *len_out excludes the NUL. SL_ELIMIT when it does not fit. */
int node_event_record_format(const struct node_event_record *e, char *out, size_t cap, size_t *len_out);
int node_event_alarm_format(const char *alarm, const char *what, uint64_t at_ms, char *out, size_t cap,
			    size_t *len_out);
int node_events_open(struct node *n); /* 0 also when events are not configured */
void node_events_applied(struct node *n, const struct replica_applied *a);
void node_events_alarm(struct node *n, const char *alarm, const char *what);
void node_events_close(struct node *n);

/* An alarm with what it is about (node/alarms.c raises them: logfmt line, metric, event). */
#define NODE_ALARM_SEQS_MAX 8 /* records named by one alarm (ledger seqs): the event stays small */
struct node_alarm {
	const char *kind;     /* node_alarm_kind_names (node/metrics.h) */
	const char *what;     /* one line for people */
	const char *site;     /* NULL when not about one site */
	const char *line;     /* SPC: the line (record actor); NULL otherwise */
	const char *rule;     /* SPC: "beyond" or "run"; NULL otherwise */
	const uint64_t *seqs; /* the records behind it, at most NODE_ALARM_SEQS_MAX are published */
	size_t seq_count;
};
int node_event_alarm_format_full(const struct node_alarm *a, uint64_t at_ms, char *out, size_t cap, size_t *len_out);
void node_events_alarm_full(struct node *n, const struct node_alarm *a); /* counts and publishes */

/* node/alarms.c: raise an alarm (logfmt warn line, siteledger_alarms_total, PUB event), and the SPC
 * monitor (ledger/spc_live.h) fed by applied entries and charted at most every spc_every_ms. */
void node_alarm_raise(struct node *n, const struct node_alarm *a);
int node_alarms_open(struct node *n); /* 0 also when spc_every_ms = 0 (no SPC alarms) */
void node_alarms_applied(struct node *n, const struct replica_applied *a);
void node_alarms_close(struct node *n); /* after the loop ended */

/* node/checkpoint.c: this node's checkpoints (docs/operations.md "Checkpoints"). Every
 * checkpoint_every_ms, when the ledger grew by more than checkpoint records since this node's last
 * one, it signs its applied tree head (less trailing checkpoint records) with the site key and
 * submits it as a checkpoint record through the client path to the leader; PROTO_CHECKPOINT asks
 * for one now (the reply carries the note and the outcome). A refused checkpoint record raises an
 * alarm ("divergence", or "checkpoint" for a bad note signature). One submission at a time. */
int node_checkpoint_open(struct node *n); /* after the replica and the client socket */
void node_checkpoint_applied(struct node *n, const struct replica_applied *a);
void node_checkpoint_request(struct node *n, void *control); /* PROTO_CHECKPOINT; takes control */
void node_checkpoint_close(struct node *n); /* after the loop ended */
/* node/client.c: send resp on a request's route (ownership of control passes). */
void node_clients_reply(struct node *n, void *control, const struct proto_response *resp);

/* node/membership.c: which peers this node links to (docs/operations.md "Membership"). The wanted
 * set is the applied raft configuration (voters and learners) other than this node, or, while that
 * is empty (a node joining), the configured peers. A wanted node is found in the configuration
 * file, else in the registry (store site_nodes: the node a site-add record announced, sealed with
 * the key it registered). Links are made and dropped after each applied configuration change or
 * snapshot and every NODE_MEMBERSHIP_SYNC_TICKS ticks (a node whose address arrives later). */
#define NODE_MEMBERSHIP_SYNC_TICKS 20
int node_membership_open(struct node *n); /* after node_peers_open */
void node_membership_applied(struct node *n, const struct replica_applied *a);
void node_membership_tick(struct node *n);
void node_membership_close(struct node *n);
/* A node learnt from the registry (its site, addresses), or NULL. */
const struct node_peer_config *node_membership_peer(const struct node *n, uint64_t id);

/* node/admin.c: PROTO_MEMBERS (any node, local view), PROTO_MEMBER_CHANGE and
 * PROTO_LEADER_TRANSFER (the leader; others redirect). Takes control. */
void node_admin_request(struct node *n, void *control, const struct proto_request *req);

/* node/query.c: reads (PROTO_QUERY, PROTO_EXPORT) served from this node's copy by the query code
 * the CLI runs on --data (query/query.h), on the thread pool, chunked; --linearizable ones after
 * Raft ReadIndex (see that file). */
int node_queries_open(struct node *n);
void node_query_request(struct node *n, void *control, const struct proto_request *req); /* takes control */
void node_queries_applied(struct node *n); /* after entries were applied: reads waiting on them */
void node_queries_read_states(struct node *n, const struct raft_read_state *states, size_t count); /* hook */
void node_queries_expire(struct node *n); /* each tick */
void node_queries_fail_all(struct node *n, const char *why);
void node_queries_close(struct node *n); /* after the loop ended */

/* node/snapshot.c (leader), node/snapshot_receive.c (follower), node/snapshot_codec.c: catch-up of a
 * follower behind the leader's compaction point (docs/operations.md "Peer protocol",
 * docs/decisions.md). The leader exports the ledger (replica_snapshot_write, on the thread pool
 * into a file it maps: D28) and streams the entries the follower lacks (D30) in sealed chunks,
 * each acknowledged; the follower assembles them in DATA/snapshot.partial, checks the SHA-256,
 * maps the finished file read-only and only then steps raft's SNAPSHOT message, whose Ready
 * installs it (replica.h rule 4).
 *
 * Rules:
 *  1. One transfer per follower on the leader (a new SNAPSHOT message for another index replaces
 *     it) and one incoming transfer on a follower; chunks in flight per transfer are bounded by
 *     NODE_SNAP_WINDOW_CHUNKS and by the peer queue (never filled past half: raft traffic keeps
 *     its room). A transfer without progress for NODE_SNAP_STALL_MS is aborted.
 *  2. raft_report_snapshot(to, ok) is called once per transfer with the real result: ok when the
 *     follower acknowledged the complete, hash-checked data; not ok when it refused, timed out, or
 *     the export failed (raft then probes and asks again, not before NODE_SNAP_RETRY_MS).
 *  3. What node_snapshot_data hands out is a read-only private mapping of an unlinked, finished
 *     file; it stays mapped until the snapshot was installed (node_snapshot_applied) or found
 *     unnecessary, so the storage thread may read it while the loop thread runs (replica.h T1).
 *  4. Everything else here runs on the loop thread. */
#define NODE_SNAP_CHUNK_BYTES_MAX (1u << 20) /* snapshot bytes per chunk: one peer message */
#define NODE_SNAP_CHUNK_HEADER_BYTES 55
#define NODE_SNAP_ACK_BYTES 19
#define NODE_SNAP_WINDOW_CHUNKS 4 /* chunks sent and not yet acknowledged, per transfer */
#define NODE_SNAP_STALL_MS 10000 /* a transfer without progress this long is aborted */
#define NODE_SNAP_RESEND_MS 1000 /* without an ack this long, resend from the acknowledged point */
#define NODE_SNAP_RETRY_MS 1000 /* after a failed transfer to a follower, wait before the next */
#define NODE_SNAP_KIND_CHUNK 0x81u
#define NODE_SNAP_KIND_ACK 0x82u
#define NODE_SNAP_FLAG_LAST 0x01u

/* HOLDS (D30): the answer to the first chunk of a whole export, whose `next` is the number of
 * ledger entries the follower holds; the leader then ships only the suffix it lacks. */
enum node_snap_ack_status {
	NODE_SNAP_ACK_PROGRESS = 0,
	NODE_SNAP_ACK_COMPLETE = 1,
	NODE_SNAP_ACK_REFUSED = 2,
	NODE_SNAP_ACK_HOLDS = 3
};

struct node_snap_chunk {
	uint8_t flags;		/* NODE_SNAP_FLAG_LAST on the chunk that ends at total */
	uint64_t transfer;	/* the sender's id of this transfer: nonzero, growing */
	uint64_t leader_term;	/* the sender's raft term when the transfer began */
	uint64_t index, term;	/* the snapshot's compaction point */
	uint64_t total;		/* bytes of the whole snapshot */
	uint64_t offset;	/* of data in the snapshot */
	const uint8_t *data;	/* borrowed: into the decoded message, or the caller's */
	size_t len;
	uint8_t hash[CRYPTO_SHA256_BYTES]; /* LAST only: SHA-256 of bytes [0, total) */
};

struct node_snap_ack {
	uint8_t status; /* enum node_snap_ack_status */
	uint64_t transfer;
	uint64_t next; /* bytes received in order; total when complete */
};

size_t node_snap_chunk_encoded_bytes(size_t len, bool last);
/* SL_EINVAL for a chunk that would not decode, SL_ELIMIT when cap is too small. */
int node_snap_chunk_encode(const struct node_snap_chunk *c, uint8_t *out, size_t cap, size_t *len_out);
/* Strict (node/snapshot_codec.c); c->data borrows from bytes. */
int node_snap_chunk_decode(const uint8_t *bytes, size_t len, struct node_snap_chunk *c);
void node_snap_ack_encode(const struct node_snap_ack *a, uint8_t out[NODE_SNAP_ACK_BYTES]);
int node_snap_ack_decode(const uint8_t *bytes, size_t len, struct node_snap_ack *a);

/* The receiver's state of one incoming transfer (pure: the caller stores the data). */
struct node_snap_assembly {
	bool active;
	uint64_t from; /* sender's node id */
	uint64_t transfer, leader_term, index, term, total;
	uint64_t next; /* bytes taken in order */
	uint64_t last_ms; /* when a chunk was last taken */
	struct crypto_sha256_stream hash;
};

enum node_snap_verdict {
	NODE_SNAP_IGNORED,  /* stale transfer, duplicate or after a gap: nothing changed */
	NODE_SNAP_UNKNOWN,  /* past offset 0 of no current transfer: tell the sender to restart */
	NODE_SNAP_ACCEPTED, /* in order: store c->data at c->offset (offset 0: a new transfer began) */
	NODE_SNAP_COMPLETE, /* the last chunk, and the hash matches: store it; the snapshot is whole */
	NODE_SNAP_REFUSED,  /* inconsistent with its transfer: the transfer ended */
	NODE_SNAP_BAD_HASH, /* the last chunk, but the SHA-256 differs: the transfer ended */
};

/* Offer chunk c from node `from` at now_ms (a monotonic clock); *why says why it was not taken. */
enum node_snap_verdict node_snap_assembly_offer(struct node_snap_assembly *a, uint64_t from,
						 const struct node_snap_chunk *c, uint64_t now_ms, const char **why);

int node_snapshot_open(struct node *n); /* after the replica: clears a partial file left by a crash */
/* Shutdown: an export under way on the thread pool stops at its next write. */
void node_snapshot_cancel(struct node *n);
void node_snapshot_close(struct node *n);
void node_snapshot_send(struct node *n, const struct raft_msg *msg); /* a SNAPSHOT message from raft */
void node_snapshot_receive(struct node *n, struct node_peer *p, const uint8_t *bytes, size_t len); /* kind 0x8x */
void node_snapshot_step(struct node *n, const struct raft_msg *msg); /* a SNAPSHOT message from a peer */
int node_snapshot_data(struct node *n, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len);
void node_snapshot_applied(struct node *n, const struct replica_applied *a);
void node_snapshot_diverged(struct node *n); /* a failed install found a divergence: count it */
void node_snapshot_tick(struct node *n); /* timeouts, resends, and sends as the queues drain */

/* node/node.c */
int node_run(const char *config_path); /* returns the process exit code */
/* After any input: propose queued client records and begin the next Ready when none is in
 * flight (its persist step goes to the storage thread). */
void node_drive(struct node *n);
/* Loop thread, from node/storage.c: the persist step of the Ready in flight returned rc. */
void node_ready_persisted(struct node *n, int rc);

/* node/storage.c: the storage thread (see the top of that file). */
int node_storage_start(struct node *n);
void node_storage_persist(struct node *n); /* hand the begun Ready over; busy until done */
void node_storage_diverged(struct node *n, const char *what); /* storage thread: keep the text */
void node_storage_stop(struct node *n); /* not busy: tell the thread to quit, join it */

#endif
