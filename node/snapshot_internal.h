/* node/snapshot_internal.h — the state node/snapshot.c (the leader's side, open, tick, close) and
 * node/snapshot_receive.c (the follower's side) share. Loop thread only, except what node.h rule 3
 * says of the installing mapping. */
#ifndef SL_NODE_SNAPSHOT_INTERNAL_H
#define SL_NODE_SNAPSHOT_INTERNAL_H

#include "node/node.h"

#define SNAP_PARTIAL_NAME "snapshot.partial"

struct snap_export; /* node/snapshot.c: one export on the thread pool */

struct snap_out {
	bool active;
	uint64_t to;
	uint64_t transfer;
	struct raft_msg msg; /* raft's SNAPSHOT message: sent once the follower holds the data */
	uint64_t total, sent, acked, hashed;
	struct crypto_sha256_stream hash;
	uint8_t digest[CRYPTO_SHA256_BYTES]; /* valid once hashed == total */
	uint64_t started_ms, progress_ms, resend_ms;
	uint64_t retry_after_ms; /* kept across transfers: no new one before this */
	uint64_t done_index, done_term, done_ms; /* the last transfer that succeeded, and when */
	bool corrupt;		 /* test fault: damage the first chunk */
	bool waiting;		 /* asked for while the export ran: msg starts once it is done */
	/* D30: a whole export goes out one chunk at a time until the follower's first ack says how
	 * many entries it holds; a suffix then starts at `from` in the export, after `head` */
	bool probing;
	bool suffix;
	size_t from;
	uint8_t head[REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES];
};

struct snap_map {
	bool has;
	uint64_t from, index, term;
	uint8_t *data;
	size_t len;
	uint64_t since_ms;
};

struct node_snapshot {
	uint8_t *blob; /* the export all transfers share: a read-only mapping of an unlinked file */
	size_t blob_len;
	size_t *blob_index; /* its index (struct snap_export) */
	size_t blob_index_count;
	uint64_t blob_entries; /* its ledger entries (the compaction point's ledger size) */
	struct raft_snapshot_meta blob_meta;
	bool blob_ready;
	struct snap_export *exporting; /* the export under way, NULL when none */
	struct snap_out out[NODE_PEERS_MAX]; /* by peer index */
	uint8_t *chunk; /* one encoded chunk (chunk_cap bytes) */
	uint8_t *stage; /* a suffix's first chunk: its head, then the export's bytes (D30) */
	size_t chunk_cap;
	uint64_t transfer_last;
	unsigned fault_corrupt;
	struct node_snap_assembly in;
	int in_fd;
	char partial_path[NODE_CONFIG_PATH_BYTES + sizeof SNAP_PARTIAL_NAME + 1];
	struct snap_map staged, installing;
};

uint64_t snap_now_ms(const struct node *n);
void snap_map_release(struct snap_map *m);
/* node/snapshot.c: an acknowledgement from the follower p (kind 0x82). */
void snap_ack_receive(struct node *n, struct node_peer *p, const uint8_t *bytes, size_t len);
/* node/snapshot_receive.c: the incoming transfer dropped (its partial file too), and its timers. */
void snap_incoming_discard(struct node_snapshot *s);
void snap_in_tick(struct node *n);

#endif
