/* node/node.h — siteledgerd internals shared by its files: the node, its peers and its clients.
 *
 * One libuv loop thread owns everything here (DESIGN.md "Node"): the tick timer, uv_poll on the
 * nanomsg receive (and, while a peer's queue is backed up, send) descriptors, the raft core via
 * replica/, the pending client requests and the events socket. The one thing shared with
 * another thread is the metrics copy published once per tick to the HTTP thread under its mutex
 * (node/metrics.h); the HTTP thread touches nothing else. In this
 * slice the Ready cycle (one LMDB write transaction) also runs on the loop thread
 * (docs/decisions.md D11).
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
#include "node/config.h"
#include "node/metrics.h"
#include "node/proto.h"
#include "replica/replica.h"

#define NODE_PEER_QUEUE_MSGS_MAX 256 /* sealed messages waiting for one peer's socket */
#define NODE_PEER_QUEUE_BYTES_MAX (32u << 20) /* and their bytes */
#define NODE_PEER_ENVELOPE_BYTES (8 + CRYPTO_SEAL_OVERHEAD_BYTES) /* sender id + nonce + tag */
#define NODE_PEER_MSG_BYTES_MAX (RAFT_MSG_BYTES_MAX + NODE_PEER_ENVELOPE_BYTES)
#define NODE_PEER_RECV_PER_WAKE_MAX 256 /* messages taken per poll wake-up: others wait their turn */
#define NODE_CLIENT_PENDING_MAX 256 /* client requests held at once (queued or proposed) */
#define NODE_CLIENT_RECV_PER_WAKE_MAX 64
#define NODE_CLIENT_TIMEOUT_MS 10000 /* a submit not applied by then is answered TIMEOUT */
#define NODE_CYCLES_PER_DRIVE_MAX 16 /* Ready cycles per loop iteration before yielding */
#define NODE_MAP_BYTES (1ull << 34) /* LMDB map: address space only, the file grows as used */

struct node_peer {
	const struct node_peer_config *config;
	int sock; /* NN_PUSH connected to the peer's peer address */
	struct crypto_seal_key key;
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

enum node_slot_state { SLOT_FREE = 0, SLOT_QUEUED, SLOT_PROPOSED };

struct node_slot {
	enum node_slot_state state;
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
	struct node_peer peers[NODE_PEERS_MAX];
	size_t peer_count;
	uint8_t *plain; /* NODE_PEER_MSG_BYTES_MAX scratch: a message encoded to send, or opened */
	struct node_slot *slots; /* NODE_CLIENT_PENDING_MAX */
	uint64_t arrivals;
	struct node_counters counters;
	struct node_metrics metrics; /* loop thread's copy; published each tick (node/metrics.h) */
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

/* node/client.c */
int node_clients_open(struct node *n);
void node_clients_fail_all(struct node *n, const char *why); /* answer every pending request UNAVAILABLE */
void node_clients_close(struct node *n); /* fail_all, then close the socket (after its poll handle) */
void node_clients_propose(struct node *n); /* leader: group-commit queued requests */
void node_clients_applied(struct node *n, const struct replica_applied *a);
void node_clients_expire(struct node *n);
const struct node_peer_config *node_peer_by_id(const struct node *n, uint64_t id);

/* node/events.c: events for subscribers (docs/operations.md "Events"). Each message is a topic
 * word, one space, then one JSON object. Sends never block: PUB drops for slow subscribers. */
#define NODE_EVENT_BYTES_MAX 1024 /* one event message; the longest (an alarm) is cut to fit */
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

/* node/node.c */
int node_run(const char *config_path); /* returns the process exit code */
void node_drive(struct node *n); /* propose + Ready cycles, after any input */

#endif
