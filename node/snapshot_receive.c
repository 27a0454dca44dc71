/* node/snapshot_receive.c — the follower's side of a snapshot transfer (node/snapshot.c has the
 * leader's; wire format and assembly rules: node/snapshot_codec.c).
 *
 * Follower: chunks in order are written to DATA/snapshot.partial (space reserved up front); the
 * complete, hash-checked file is mapped read-only and unlinked (staged). raft's SNAPSHOT message
 * from the same sender for the same point is stepped only then (installing); the Ready that
 * installs it reads the mapping on the storage thread (node.h rule 3), and node_snapshot_applied
 * or the applied index passing the point releases it. A staged snapshot whose message never
 * comes expires after NODE_SNAP_STALL_MS.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "node/snapshot_internal.h"
#include "util/error.h"

/* ---- follower ---- */

static void ack_send(struct node *n, uint64_t to, uint8_t status, uint64_t transfer, uint64_t next)
{
	struct node_snap_ack a = { .status = status, .transfer = transfer, .next = next };
	uint8_t bytes[NODE_SNAP_ACK_BYTES];
	node_snap_ack_encode(&a, bytes);
	(void)node_peer_send_plain(n, to, bytes, sizeof bytes); /* a lost ack: the sender resends */
}

void snap_incoming_discard(struct node_snapshot *s)
{
	s->in.active = false;
	if (s->in_fd >= 0) {
		close(s->in_fd);
		s->in_fd = -1;
		(void)unlink(s->partial_path);
	}
}

static void incoming_fail(struct node *n, uint64_t from, uint64_t transfer, enum node_snapshot_fail reason,
			  const char *why)
{
	struct node_snapshot *s = n->snapshot;
	if (s->in.transfer == transfer && s->in.from == from)
		snap_incoming_discard(s);
	n->metrics.snapshot.receive_failed_total[reason]++;
	node_log("warn", "snapshot refused", "from=%" PRIu64 " transfer=%" PRIu64 " reason=%s why=\"%s\"", from, transfer,
		 node_snapshot_fail_names[reason], why);
	if (transfer != 0)
		ack_send(n, from, NODE_SNAP_ACK_REFUSED, transfer, 0);
}

/* A new transfer's partial file, its whole size reserved (a full disk fails now, not midway). */
static int incoming_create(struct node_snapshot *s, uint64_t total)
{
	if (s->in_fd >= 0)
		close(s->in_fd);
	snap_map_release(&s->staged); /* the sender started over: the staged one will not be asked for */
	s->in_fd = open(s->partial_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->in_fd < 0)
		return SL_EIO;
	int rc = posix_fallocate(s->in_fd, 0, (off_t)total);
	return rc == 0 || rc == EOPNOTSUPP || rc == EINVAL ? 0 : rc == ENOSPC ? SL_ENOSPC : SL_EIO;
}

static int incoming_write(int fd, const uint8_t *data, size_t len, uint64_t offset)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(fd, data + done, len - done, (off_t)(offset + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? SL_ENOSPC : SL_EIO;
		done += (size_t)w;
	}
	return 0;
}

/* The whole file, hash-checked: map it read-only, unlink it (the mapping keeps it), stage it. */
static int incoming_finish(struct node *n)
{
	struct node_snapshot *s = n->snapshot;
	void *map = mmap(NULL, (size_t)s->in.total, PROT_READ, MAP_PRIVATE, s->in_fd, 0);
	close(s->in_fd);
	s->in_fd = -1;
	(void)unlink(s->partial_path);
	if (map == MAP_FAILED)
		return SL_EIO;
	snap_map_release(&s->staged);
	s->staged = (struct snap_map){ .has = true, .from = s->in.from, .index = s->in.index, .term = s->in.term,
				       .data = map, .len = (size_t)s->in.total, .since_ms = snap_now_ms(n) };
	return 0;
}

/* The answer to the first chunk of a whole export (D30): the ledger entries this node holds,
 * 0 when it holds none or c is not such a chunk. */
static uint64_t holds_of(struct node *n, const struct node_snap_chunk *c)
{
	uint64_t first = 0;
	struct store_raft_applied own;
	replica_applied_get(n->rp, &own);
	bool whole = c->offset == 0 && replica_snapshot_first_seq(c->data, c->len, &first) == 0 && first == 1;
	return whole ? own.ledger_seq : 0;
}

static void chunk_taken(struct node *n, struct node_peer *p, const struct node_snap_chunk *c,
			enum node_snap_verdict verdict)
{
	struct node_snapshot *s = n->snapshot;
	uint64_t from = p->config->id;
	int rc = c->offset == 0 ? incoming_create(s, c->total) : 0;
	if (rc == 0)
		rc = incoming_write(s->in_fd, c->data, c->len, c->offset);
	if (rc == 0 && verdict == NODE_SNAP_COMPLETE)
		rc = incoming_finish(n);
	if (rc != 0) {
		incoming_fail(n, from, c->transfer, NODE_SNAPSHOT_FAIL_IO, sl_strerror(rc));
		return;
	}
	n->metrics.snapshot.bytes_received_total += c->len;
	uint64_t held = verdict == NODE_SNAP_ACCEPTED ? holds_of(n, c) : 0;
	if (held > 0) {
		ack_send(n, from, NODE_SNAP_ACK_HOLDS, c->transfer, held); /* D30: the suffix will do */
		return;
	}
	if (verdict == NODE_SNAP_ACCEPTED) {
		ack_send(n, from, NODE_SNAP_ACK_PROGRESS, c->transfer, s->in.next);
		return;
	}
	n->metrics.snapshot.received_total++;
	node_log("info", "snapshot received", "from=%s index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64
		 " transfer=%" PRIu64, p->config->name, s->in.index, s->in.term, s->in.total, c->transfer);
	ack_send(n, from, NODE_SNAP_ACK_COMPLETE, c->transfer, s->in.total);
}

static void chunk_receive(struct node *n, struct node_peer *p, const uint8_t *bytes, size_t len)
{
	struct node_snapshot *s = n->snapshot;
	uint64_t from = p->config->id;
	struct node_snap_chunk c;
	int rc = node_snap_chunk_decode(bytes, len, &c);
	if (rc != 0) {
		n->counters.peer_dropped_malformed++;
		p->dropped_malformed++;
		incoming_fail(n, from, c.transfer,
			      rc == SL_EOVERSIZE ? NODE_SNAPSHOT_FAIL_OVERSIZE : NODE_SNAPSHOT_FAIL_MALFORMED, sl_errname(rc));
		return;
	}
	const char *why = "";
	enum node_snap_verdict verdict = node_snap_assembly_offer(&s->in, from, &c, snap_now_ms(n), &why);
	switch (verdict) {
	case NODE_SNAP_IGNORED:
		n->metrics.snapshot.chunks_ignored_total++;
		if (s->in.active && s->in.from == from && s->in.transfer == c.transfer && holds_of(n, &c) > 0)
			ack_send(n, from, NODE_SNAP_ACK_HOLDS, c.transfer, holds_of(n, &c)); /* the first one was lost */
		else if (s->in.active && s->in.from == from && s->in.transfer == c.transfer)
			ack_send(n, from, NODE_SNAP_ACK_PROGRESS, c.transfer, s->in.next); /* where to resume */
		return;
	case NODE_SNAP_UNKNOWN:
		n->metrics.snapshot.chunks_ignored_total++;
		ack_send(n, from, NODE_SNAP_ACK_REFUSED, c.transfer, 0); /* e.g. we restarted mid-transfer */
		return;
	case NODE_SNAP_REFUSED:
		snap_incoming_discard(s);
		incoming_fail(n, from, c.transfer, NODE_SNAPSHOT_FAIL_INCONSISTENT, why);
		return;
	case NODE_SNAP_BAD_HASH:
		snap_incoming_discard(s);
		incoming_fail(n, from, c.transfer, NODE_SNAPSHOT_FAIL_HASH, why);
		return;
	case NODE_SNAP_ACCEPTED:
	case NODE_SNAP_COMPLETE:
		chunk_taken(n, p, &c, verdict);
		return;
	}
}

void node_snapshot_receive(struct node *n, struct node_peer *p, const uint8_t *bytes, size_t len)
{
	assert(len > 0);
	if (n->snapshot == NULL)
		return;
	if (bytes[0] == NODE_SNAP_KIND_CHUNK) {
		chunk_receive(n, p, bytes, len);
	} else if (bytes[0] == NODE_SNAP_KIND_ACK) {
		snap_ack_receive(n, p, bytes, len);
	} else {
		n->counters.peer_dropped_malformed++;
		p->dropped_malformed++;
	}
}

void node_snapshot_step(struct node *n, const struct raft_msg *msg)
{
	struct node_snapshot *s = n->snapshot;
	const struct raft_snapshot_meta *meta = &msg->snapshot;
	if (s == NULL)
		return;
	if (!s->staged.has || s->staged.from != msg->from || s->staged.index != meta->index ||
	    s->staged.term != meta->term || s->installing.has) {
		struct raft_status st;
		raft_status_get(replica_raft(n->rp), &st);
		if (meta->index <= st.commit)
			(void)raft_step(replica_raft(n->rp), msg); /* raft only answers: no data needed */
		else
			n->metrics.snapshot.chunks_ignored_total++; /* no data for it (yet): the leader retries */
		return;
	}
	uint64_t first = 0;
	struct store_raft_applied own;
	replica_applied_get(n->rp, &own);
	if (replica_snapshot_first_seq(s->staged.data, s->staged.len, &first) != 0 ||
	    first > own.ledger_seq + 1) {
		node_log("warn", "staged snapshot dropped", "index=%" PRIu64 " first_seq=%" PRIu64 " ledger_size=%" PRIu64
			 " why=\"a suffix that starts past this ledger's end\"", s->staged.index, first, own.ledger_seq);
		snap_map_release(&s->staged); /* installing it would fail the cycle: the leader sends again */
		n->metrics.snapshot.chunks_ignored_total++;
		return;
	}
	s->installing = s->staged; /* pinned for the storage thread (node.h rule 3) */
	memset(&s->staged, 0, sizeof s->staged);
	int rc = raft_step(replica_raft(n->rp), msg);
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	if (rc != 0 || st.snapshot.index != meta->index || st.snapshot.term != meta->term) {
		snap_map_release(&s->installing); /* stale, or the log already had it: nothing to install */
		return;
	}
	node_log("info", "snapshot accepted by raft", "from=%" PRIu64 " index=%" PRIu64 " term=%" PRIu64, msg->from,
		 meta->index, meta->term);
}

/* Storage thread: reads only the pinned mapping, which the loop leaves alone until the Ready
 * that installs it is finished (node.h rule 3). */
int node_snapshot_data(struct node *n, const struct raft_snapshot_meta *meta, const uint8_t **data, size_t *len)
{
	const struct node_snapshot *s = n->snapshot;
	if (s == NULL || !s->installing.has || s->installing.index != meta->index || s->installing.term != meta->term)
		return SL_ENOENT;
	*data = s->installing.data;
	*len = s->installing.len;
	return 0;
}

void node_snapshot_applied(struct node *n, const struct replica_applied *a)
{
	struct node_snapshot *s = n->snapshot;
	if (s == NULL || !a->snapshot)
		return;
	n->metrics.snapshot.installed_total++;
	node_log("info", "snapshot installed", "index=%" PRIu64 " term=%" PRIu64 " ledger_size=%" PRIu64, a->index,
		 a->term, a->ledger_seq);
	snap_map_release(&s->installing);
}

void node_snapshot_diverged(struct node *n)
{
	n->metrics.snapshot.divergences_total++;
}

void snap_in_tick(struct node *n)
{
	struct node_snapshot *s = n->snapshot;
	uint64_t now = snap_now_ms(n);
	if (s->in.active && now - s->in.last_ms >= NODE_SNAP_STALL_MS)
		incoming_fail(n, s->in.from, s->in.transfer, NODE_SNAPSHOT_FAIL_TIMEOUT, "no chunk for too long");
	if (s->staged.has && now - s->staged.since_ms >= NODE_SNAP_STALL_MS) {
		node_log("info", "staged snapshot expired", "index=%" PRIu64 " why=\"raft's message never came\"",
			 s->staged.index);
		snap_map_release(&s->staged);
	}
	if (s->installing.has) {
		struct store_raft_applied a;
		replica_applied_get(n->rp, &a);
		if (a.index >= s->installing.index)
			snap_map_release(&s->installing); /* installed, or no longer needed */
	}
}
