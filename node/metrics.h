/* node/metrics.h — siteledgerd's Prometheus metrics: the counters the loop thread keeps, their
 * text exposition (format 0.0.4), and the HTTP endpoint that serves them (libmicrohttpd).
 *
 * Threads (DESIGN.md "Node"): the loop thread owns a struct node_metrics and updates it in place;
 * once per tick it copies it into the endpoint with node_http_publish (under a mutex). The HTTP
 * thread (MHD's internal polling thread) only ever reads that copy: it never touches the raft
 * core, the store or the loop's struct (docs/operations.md "Metrics").
 *
 * Rules:
 *  1. node_metrics_format is pure: the same struct and clock give the same text. It writes into
 *     the caller's buffer and never allocates; SL_ELIMIT when the text does not fit.
 *  2. Counters only grow (Prometheus derives rates with rate()); gauges are as of the last publish.
 *  3. GET /metrics is the only resource: other paths 404, other methods 405.
 */
#ifndef SL_NODE_METRICS_H
#define SL_NODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "ledger/record.h"
#include "node/config.h"

#define NODE_METRICS_OUTCOMES_MAX 64 /* ledger outcome codes counted (reason.h's LEDGER_OUTCOME_COUNT; room to append) */
#define NODE_METRICS_CYCLE_BUCKETS 12 /* histogram buckets of one Ready cycle's duration, +Inf apart */
#define NODE_METRICS_TEXT_BYTES_MAX (64u << 10) /* the exposition text: about 8 KiB with 8 peers */

struct node_metrics_peer {
	char name[RECORD_SITE_SIZE];
	uint64_t id;
	uint64_t last_heard_ms;	  /* wall clock of the last authenticated message; 0 = never */
	uint64_t match_index;	  /* leader only: the raft progress' match; 0 otherwise */
	uint64_t dropped_queue;	  /* sends dropped on its full queue */
	uint64_t dropped_send;	  /* sends nanomsg refused */
	uint64_t dropped_unopened; /* received boxes that did not open with its key */
	uint64_t dropped_malformed; /* opened but not a valid raft message for us */
};

/* Why an incoming snapshot transfer failed (node/snapshot.c); the metric's reason label. */
enum node_snapshot_fail {
	NODE_SNAPSHOT_FAIL_OVERSIZE = 0, /* larger than REPLICA_SNAPSHOT_BYTES_MAX or a chunk too big */
	NODE_SNAPSHOT_FAIL_MALFORMED,	 /* a chunk that did not decode */
	NODE_SNAPSHOT_FAIL_INCONSISTENT, /* a chunk that disagrees with its transfer */
	NODE_SNAPSHOT_FAIL_HASH,	 /* the assembled bytes' SHA-256 differs from the sender's */
	NODE_SNAPSHOT_FAIL_IO,		 /* the partial file could not be written or mapped */
	NODE_SNAPSHOT_FAIL_TIMEOUT,	 /* no chunk for NODE_SNAP_STALL_MS */
	NODE_SNAPSHOT_FAIL_COUNT
};
extern const char *const node_snapshot_fail_names[NODE_SNAPSHOT_FAIL_COUNT];

struct node_metrics_snapshot {
	uint64_t compaction_index; /* gauge: the raft log's compaction point here */
	uint64_t sent_total;	    /* leader: transfers the follower acknowledged complete */
	uint64_t send_failed_total; /* leader: refused, timed out, superseded or not exported */
	uint64_t bytes_sent_total;  /* leader: snapshot bytes handed to peer queues (resends too) */
	uint64_t received_total;    /* follower: complete, hash-checked transfers */
	uint64_t bytes_received_total; /* follower: bytes taken in order */
	uint64_t receive_failed_total[NODE_SNAPSHOT_FAIL_COUNT];
	uint64_t chunks_ignored_total; /* stale, duplicate or unknown chunks and acks */
	uint64_t installed_total;      /* snapshots installed into the ledger */
	uint64_t divergences_total;    /* installs that found a different ledger (the node stops) */
};

/* Alarm kinds (docs/operations.md "Events"), the label of siteledger_alarms_total. */
enum node_alarm_kind {
	NODE_ALARM_DIVERGENCE = 0, /* a replica or a checkpoint record disagrees with this ledger */
	NODE_ALARM_CYCLE_FAILED,   /* a store write failed; the node stops */
	NODE_ALARM_CHECKPOINT,	   /* a checkpoint record's note signature does not verify */
	NODE_ALARM_SPC,		   /* a p-chart out of control (above its limit, or a run above centre) */
	NODE_ALARM_OTHER,
	NODE_ALARM_KIND_COUNT
};
extern const char *const node_alarm_kind_names[NODE_ALARM_KIND_COUNT];
/* The kind of an alarm name; NODE_ALARM_OTHER for names not in the table. */
enum node_alarm_kind node_alarm_kind_of(const char *name);

struct node_metrics {
	/* gauges */
	uint64_t raft_term;
	enum raft_role raft_role;
	uint64_t raft_commit_index;
	uint64_t raft_applied_index;
	uint64_t ledger_entries; /* ledger size */
	/* counters */
	uint64_t raft_entries_applied_total;
	uint64_t records_total[NODE_METRICS_OUTCOMES_MAX]; /* by outcome (reason.h) */
	uint64_t records_other_total;			   /* an outcome beyond the table (never expected) */
	uint64_t cycle_buckets[NODE_METRICS_CYCLE_BUCKETS]; /* non-cumulative; formatting accumulates */
	uint64_t cycle_count;
	uint64_t cycle_ns_sum;
	uint64_t peer_unknown_sender_total;
	uint64_t client_refused_total;
	uint64_t client_invalid_total;
	uint64_t events_published_total;
	uint64_t events_dropped_total;
	uint64_t alarms_total[NODE_ALARM_KIND_COUNT]; /* alarms raised, by kind */
	struct node_metrics_snapshot snapshot;
	struct node_metrics_peer peers[NODE_PEERS_MAX];
	size_t peer_count;
};

/* Upper bounds of the cycle histogram's buckets, in seconds, ascending. */
extern const double node_metrics_cycle_bounds[NODE_METRICS_CYCLE_BUCKETS];

void node_metrics_cycle_observe(struct node_metrics *m, uint64_t duration_ns);
void node_metrics_outcome_count(struct node_metrics *m, int outcome);
/* The exposition text of m at wall clock now_ms into out[0..cap); *len_out its length. */
int node_metrics_format(const struct node_metrics *m, uint64_t now_ms, char *out, size_t cap, size_t *len_out);

/* The HTTP endpoint (node/metrics_http.c). */
typedef struct node_http node_http;
/* Listen on addr ("A.B.C.D:PORT", node_config_http_addr_parse) in MHD's own thread. */
int node_http_start(const char *addr, node_http **out);
/* Copy m for the HTTP thread (loop thread only). */
void node_http_publish(node_http *h, const struct node_metrics *m);
/* Stop the thread (waits for it) and free. NULL is a no-op. */
void node_http_stop(node_http *h);

#endif
