/* node/snapshot.c — catching a follower up from behind the leader's compaction point (node.h
 * "node/snapshot.c"; wire format and assembly rules: node/snapshot_codec.c): the leader's side,
 * and opening, ticking and closing both sides (the follower's: node/snapshot_receive.c).
 *
 * Leader, per follower (struct snap_out), driven by raft's SNAPSHOT message, acks and ticks:
 *
 *     idle ──SNAPSHOT msg──▶ streaming ──ack COMPLETE──▶ send the SNAPSHOT msg, report ok ──▶ idle
 *                              │  ▲ ack PROGRESS: window moves; no ack for RESEND_MS: go back
 *                              └──┴─ ack REFUSED, STALL_MS without progress, export failed:
 *                                    report not ok, no new transfer for RETRY_MS ──▶ idle
 *
 * The ledger is exported once per compaction point, on the thread pool (D28: a large ledger must
 * not stop the loop's ticks and heartbeats), into DATA/snapshot.out, which is then mapped
 * read-only and unlinked: the mapping is the export every transfer of that point shares, released
 * when no transfer uses it. Transfers asked for while the export runs wait for it (waiting); one
 * export runs at a time. A transfer of an older point is superseded (reported not ok) when a newer
 * one is exported, so at most one export (REPLICA_SNAPSHOT_BYTES_MAX, on disk) is held. The
 * SHA-256 is computed as chunks first leave and travels in the last chunk.
 *
 * Test-only fault: SITELEDGERD_TEST_CORRUPT_SNAPSHOTS=N makes the leader flip one byte of the first
 * chunk of its first N transfers after hashing it, so the follower must refuse them
 * (tests/integration/test_node_compaction.sh).
 */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "node/node.h"
#include "node/snapshot_internal.h"
#include "util/error.h"

#define SNAP_OUT_NAME "snapshot.out"
#define SNAP_EXPORT_BUFFER_BYTES (1u << 20) /* the export's writes to its file */
#define SNAP_INDEX_EVERY 1024 /* the export's index: where entries 1, 1025, 2049, ... start (D30) */
#define SNAP_FAULT_ENV "SITELEDGERD_TEST_CORRUPT_SNAPSHOTS"
#define SNAP_FAULT_MAX 100 /* the fault countdown is for tests: a few transfers */

_Static_assert(NODE_SNAP_WINDOW_CHUNKS * (NODE_SNAP_CHUNK_BYTES_MAX + NODE_SNAP_CHUNK_HEADER_BYTES + 64) <=
		       NODE_PEER_QUEUE_BYTES_MAX / 2,
	       "a full window fits half a peer queue");


/* One export on the thread pool. The worker touches only this job (and the store through its own
 * read transaction) until the after-work callback, on the loop thread, takes the result. */
struct snap_export {
	uv_work_t work;
	struct node *n;
	store *st;
	struct store_raft_compaction point; /* copied on the loop thread */
	struct raft_snapshot_meta meta;
	char path[NODE_CONFIG_PATH_BYTES + sizeof SNAP_OUT_NAME + 1];
	int fd;
	uint8_t *buffer; /* SNAP_EXPORT_BUFFER_BYTES */
	size_t buffered;
	uint64_t bytes;
	uint8_t *map; /* the finished file, mapped read-only (unlinked) */
	size_t *index; /* where entry k * SNAP_INDEX_EVERY + 1 starts, for k < index_count */
	size_t index_count;
	int rc;
	atomic_bool cancel; /* node_snapshot_cancel: stop at the next write */
	uint64_t started_ms;
};



uint64_t snap_now_ms(const struct node *n)
{
	return uv_now(n->loop);
}

static int peer_index(const struct node *n, uint64_t id)
{
	for (size_t i = 0; i < n->peer_count; i++) /* slots may be relinked to others (membership) */
		if (n->peers[i].linked && n->peers[i].config->id == id)
			return (int)i;
	return -1;
}

void snap_map_release(struct snap_map *m)
{
	if (m->has && m->data != NULL)
		munmap(m->data, m->len);
	memset(m, 0, sizeof *m);
}

/* ---- leader ---- */

static void blob_release(struct node_snapshot *s)
{
	if (s->blob != NULL)
		munmap(s->blob, s->blob_len);
	s->blob = NULL;
	s->blob_len = 0;
	free(s->blob_index);
	s->blob_index = NULL;
	s->blob_index_count = 0;
	s->blob_entries = 0;
	s->blob_ready = false;
}

static void blob_release_if_unused(struct node_snapshot *s)
{
	for (size_t i = 0; i < NODE_PEERS_MAX; i++)
		if (s->out[i].active)
			return;
	blob_release(s);
}

/* End transfer i; report to raft unless raft already moved on (leadership lost, replaced). */
static void out_end(struct node *n, size_t i, bool report, bool ok, const char *why)
{
	struct node_snapshot *s = n->snapshot;
	struct snap_out *o = &s->out[i];
	assert(o->active);
	o->active = false;
	uint64_t took_ms = snap_now_ms(n) - o->started_ms;
	if (ok) {
		n->metrics.snapshot.sent_total++;
		node_log("info", "snapshot sent", "peer=%s index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64
			 " transfer=%" PRIu64 " ms=%" PRIu64, n->peers[i].config->name, o->msg.snapshot.index,
			 o->msg.snapshot.term, o->total, o->transfer, took_ms);
	} else {
		n->metrics.snapshot.send_failed_total++;
		o->retry_after_ms = snap_now_ms(n) + NODE_SNAP_RETRY_MS;
		node_log("warn", "snapshot transfer failed", "peer=%s index=%" PRIu64 " sent=%" PRIu64 " acked=%" PRIu64
			 " total=%" PRIu64 " transfer=%" PRIu64 " ms=%" PRIu64 " why=\"%s\"", n->peers[i].config->name,
			 o->msg.snapshot.index, o->sent, o->acked, o->total, o->transfer, took_ms, why);
	}
	if (report)
		raft_report_snapshot(replica_raft(n->rp), o->to, ok);
	blob_release_if_unused(s);
}

/* ---- the export, on the thread pool (file comment) */

static int export_flush(struct snap_export *x)
{
	for (size_t done = 0; done < x->buffered;) {
		ssize_t w = write(x->fd, x->buffer + done, x->buffered - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? SL_ENOSPC : SL_EIO;
		done += (size_t)w;
	}
	x->buffered = 0;
	return 0;
}

static int export_write(void *ctx, const uint8_t *bytes, size_t len)
{
	struct snap_export *x = ctx;
	if (atomic_load(&x->cancel))
		return SL_EIO; /* the node stops */
	if (x->bytes + len > REPLICA_SNAPSHOT_BYTES_MAX)
		return SL_EOVERSIZE;
	x->bytes += len;
	while (len > 0) {
		size_t room = SNAP_EXPORT_BUFFER_BYTES - x->buffered;
		size_t n = len < room ? len : room;
		memcpy(x->buffer + x->buffered, bytes, n);
		x->buffered += n;
		bytes += n;
		len -= n;
		int rc = x->buffered == SNAP_EXPORT_BUFFER_BYTES ? export_flush(x) : 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Where every SNAP_INDEX_EVERY-th entry starts, so finding a suffix's start on the loop thread
 * walks at most SNAP_INDEX_EVERY lengths (D30). One pass over the mapping, here on the pool. */
static int export_index(struct snap_export *x)
{
	uint64_t entries = x->point.ledger_seq;
	size_t count = (size_t)(entries / SNAP_INDEX_EVERY) + 1;
	x->index = malloc(count * sizeof *x->index);
	if (x->index == NULL)
		return SL_ENOMEM;
	int rc = replica_snapshot_entry_offset(x->map, (size_t)x->bytes, 1, &x->index[0]);
	for (size_t k = 1; rc == 0 && k < count; k++)
		rc = replica_snapshot_entry_walk(x->map, (size_t)x->bytes, (uint64_t)(k - 1) * SNAP_INDEX_EVERY + 1,
						 x->index[k - 1], (uint64_t)k * SNAP_INDEX_EVERY + 1, &x->index[k]);
	x->index_count = count;
	return rc;
}

static void export_work(uv_work_t *work)
{
	struct snap_export *x = work->data;
	x->fd = open(x->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	x->buffer = malloc(SNAP_EXPORT_BUFFER_BYTES);
	int rc = x->fd < 0 ? SL_EIO : x->buffer == NULL ? SL_ENOMEM : 0;
	if (rc == 0)
		rc = replica_snapshot_write(x->st, &x->point, export_write, x, &x->meta);
	if (rc == 0)
		rc = export_flush(x);
	if (rc == 0) {
		void *map = mmap(NULL, (size_t)x->bytes, PROT_READ, MAP_SHARED, x->fd, 0);
		if (map == MAP_FAILED)
			rc = SL_EIO;
		else
			x->map = map;
	}
	if (rc == 0)
		rc = export_index(x);
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	(void)unlink(x->path); /* the mapping keeps the file */
	free(x->buffer);
	x->buffer = NULL;
	x->rc = rc;
}

static void out_start(struct node *n, size_t i);
static void out_fail_export(struct node *n, size_t i, int rc);

/* Start exporting the replica's compaction point, which must be meta's. 0 when started (or one
 * runs already: the waiting transfers are looked at again when it ends), SL_ENOENT when the
 * replica has compacted again since raft asked (raft asks again with the new point). */
static int export_start(struct node *n, const struct raft_snapshot_meta *meta);

static void export_done(uv_work_t *work, int status)
{
	struct snap_export *x = work->data;
	struct node *n = x->n;
	struct node_snapshot *s = n->snapshot;
	s->exporting = NULL;
	int rc = status != 0 ? SL_EIO : x->rc;
	if (rc == 0 && !n->stopping) {
		for (size_t i = 0; i < n->peer_count; i++) /* transfers of an older point are superseded */
			if (s->out[i].active && (s->out[i].msg.snapshot.index != x->meta.index ||
						 s->out[i].msg.snapshot.term != x->meta.term))
				out_end(n, i, true, false, "superseded by a newer compaction point");
		blob_release_if_unused(s);
	}
	if (rc == 0 && !n->stopping && !s->blob_ready) {
		s->blob = x->map;
		s->blob_len = (size_t)x->bytes;
		s->blob_meta = x->meta;
		s->blob_index = x->index;
		s->blob_index_count = x->index_count;
		s->blob_entries = x->point.ledger_seq;
		s->blob_ready = true;
		x->map = NULL;
		x->index = NULL;
		uv_update_time(n->loop);
		node_log("info", "snapshot exported", "index=%" PRIu64 " term=%" PRIu64 " bytes=%zu ms=%" PRIu64,
			 x->meta.index, x->meta.term, s->blob_len, snap_now_ms(n) - x->started_ms);
	}
	if (x->map != NULL)
		munmap(x->map, (size_t)x->bytes);
	free(x->index);
	free(x);
	for (size_t i = 0; i < n->peer_count && !n->stopping; i++) {
		struct snap_out *o = &s->out[i];
		if (!o->waiting)
			continue;
		o->waiting = false;
		if (s->blob_ready && o->msg.snapshot.index == s->blob_meta.index &&
		    o->msg.snapshot.term == s->blob_meta.term)
			out_start(n, i);
		else if (rc != 0)
			out_fail_export(n, i, rc);
		else if ((rc = export_start(n, &o->msg.snapshot)) == 0)
			o->waiting = true; /* a newer point than the one just exported */
		else
			out_fail_export(n, i, rc);
	}
	if (!n->stopping)
		blob_release_if_unused(s); /* nobody waited for it any more (leadership lost, peer gone) */
}

static int export_start(struct node *n, const struct raft_snapshot_meta *meta)
{
	struct node_snapshot *s = n->snapshot;
	if (s->exporting != NULL)
		return 0;
	const struct store_raft_compaction *point = replica_snapshot_point(n->rp);
	if (point->index != meta->index || point->term != meta->term)
		return SL_ENOENT;
	struct snap_export *x = calloc(1, sizeof *x);
	if (x == NULL)
		return SL_ENOMEM;
	x->work.data = x;
	x->n = n;
	x->st = replica_store(n->rp);
	x->point = *point;
	x->fd = -1;
	atomic_init(&x->cancel, false);
	uv_update_time(n->loop);
	x->started_ms = snap_now_ms(n);
	snprintf(x->path, sizeof x->path, "%s/%s", n->config.data_dir, SNAP_OUT_NAME);
	int rc = uv_queue_work(n->loop, &x->work, export_work, export_done);
	if (rc != 0) {
		free(x);
		return SL_EIO;
	}
	s->exporting = x;
	return 0;
}

/* The bytes [sent, sent + len) of transfer o: the export's, or a suffix's (its head, then the
 * export's entries from o->from), which only the first chunk assembles in s->stage. */
static const uint8_t *out_bytes(struct node_snapshot *s, const struct snap_out *o, size_t len)
{
	if (!o->suffix)
		return s->blob + o->sent;
	if (o->sent >= sizeof o->head)
		return s->blob + o->from + (o->sent - sizeof o->head);
	size_t head = sizeof o->head - (size_t)o->sent;
	memcpy(s->stage, o->head + o->sent, head);
	memcpy(s->stage + head, s->blob + o->from, len - head);
	return s->stage;
}

/* Send chunks of transfer i while its window and the peer's queue have room. */
static void out_pump(struct node *n, size_t i)
{
	struct node_snapshot *s = n->snapshot;
	struct snap_out *o = &s->out[i];
	const struct node_peer *p = &n->peers[i];
	while (o->active && o->sent < o->total && !(o->probing && o->sent > 0) &&
	       o->sent - o->acked < (uint64_t)NODE_SNAP_WINDOW_CHUNKS * NODE_SNAP_CHUNK_BYTES_MAX) {
		uint64_t left = o->total - o->sent;
		size_t len = left < NODE_SNAP_CHUNK_BYTES_MAX ? (size_t)left : NODE_SNAP_CHUNK_BYTES_MAX;
		bool last = o->sent + len == o->total;
		size_t encoded = node_snap_chunk_encoded_bytes(len, last);
		if (p->queue_count >= NODE_PEER_QUEUE_MSGS_MAX / 2 ||
		    p->queue_bytes + encoded + NODE_PEER_ENVELOPE_BYTES > NODE_PEER_QUEUE_BYTES_MAX / 2)
			return; /* resumes on the next ack or tick, as the queue drains */
		const uint8_t *data = out_bytes(s, o, len);
		if (o->sent == o->hashed) { /* first time out: chunks start at multiples of the size */
			crypto_sha256_stream_update(&o->hash, data, len);
			o->hashed += len;
			if (o->hashed == o->total)
				crypto_sha256_stream_final(&o->hash, o->digest);
		}
		struct node_snap_chunk c = { .flags = last ? NODE_SNAP_FLAG_LAST : 0, .transfer = o->transfer,
					     .leader_term = o->msg.term, .index = o->msg.snapshot.index,
					     .term = o->msg.snapshot.term, .total = o->total, .offset = o->sent,
					     .data = data, .len = len };
		memcpy(c.hash, o->digest, sizeof c.hash);
		size_t out_len = 0;
		int rc = node_snap_chunk_encode(&c, s->chunk, s->chunk_cap, &out_len);
		if (rc == 0 && o->corrupt && o->sent == 0)
			s->chunk[NODE_SNAP_CHUNK_HEADER_BYTES + len - 1] ^= 0x01; /* test fault (file comment) */
		if (rc == 0)
			rc = node_peer_send_plain(n, o->to, s->chunk, out_len);
		if (rc != 0) {
			out_end(n, i, true, false, sl_errname(rc));
			return;
		}
		n->metrics.snapshot.bytes_sent_total += len;
		o->sent += len;
	}
}

static uint64_t transfer_id_next(struct node *n)
{
	struct node_snapshot *s = n->snapshot;
	uint64_t id = node_clock_ms() << 16; /* grows across restarts too (assembly rule 1) */
	s->transfer_last = id > s->transfer_last ? id : s->transfer_last + 1;
	return s->transfer_last;
}

void node_snapshot_send(struct node *n, const struct raft_msg *msg)
{
	struct node_snapshot *s = n->snapshot;
	int i = peer_index(n, msg->to);
	if (s == NULL || i < 0)
		return;
	struct snap_out *o = &s->out[i];
	if (o->active && o->to != msg->to)
		out_end(n, (size_t)i, true, false, "the peer's slot was relinked");
	if (o->to != msg->to) { /* the slot served another peer before */
		memset(o, 0, sizeof *o);
		o->to = msg->to;
	}
	if ((o->active || o->waiting) && o->msg.term == msg->term && o->msg.snapshot.index == msg->snapshot.index &&
	    o->msg.snapshot.term == msg->snapshot.term)
		return; /* the same request again: the transfer under way (or its export) answers it */
	if (o->active)
		out_end(n, (size_t)i, false, false, "replaced by another snapshot");
	if (o->done_index == msg->snapshot.index && o->done_term == msg->snapshot.term &&
	    snap_now_ms(n) - o->done_ms < NODE_SNAP_STALL_MS) {
		/* it holds this data already (raft asks again on stale rejections): the message only */
		node_peer_send_raft(n, msg);
		raft_report_snapshot(replica_raft(n->rp), msg->to, true);
		return;
	}
	if (snap_now_ms(n) < o->retry_after_ms) {
		raft_report_snapshot(replica_raft(n->rp), msg->to, false); /* raft asks again after a probe */
		return;
	}
	o->msg = *msg;
	o->msg.entries = NULL;
	o->msg.entries_count = 0;
	if (s->blob_ready && s->blob_meta.index == msg->snapshot.index && s->blob_meta.term == msg->snapshot.term) {
		out_start(n, (size_t)i);
		return;
	}
	int rc = export_start(n, &msg->snapshot);
	if (rc == 0)
		o->waiting = true; /* export_done starts it */
	else
		out_fail_export(n, (size_t)i, rc);
}

/* The export for transfer i could not be made: raft hears not ok and asks again later. */
static void out_fail_export(struct node *n, size_t i, int rc)
{
	struct snap_out *o = &n->snapshot->out[i];
	n->metrics.snapshot.send_failed_total++;
	o->retry_after_ms = snap_now_ms(n) + NODE_SNAP_RETRY_MS;
	node_log(rc == SL_ENOENT ? "info" : "error", "cannot export the snapshot", "peer=%s index=%" PRIu64 " err=%s",
		 n->peers[i].config->name, o->msg.snapshot.index, sl_errname(rc));
	raft_report_snapshot(replica_raft(n->rp), o->to, false);
}

/* Transfer i of o->msg's point, whose export is ready. */
static void out_start(struct node *n, size_t i)
{
	struct node_snapshot *s = n->snapshot;
	struct snap_out *o = &s->out[i];
	struct raft_msg msg = o->msg;
	*o = (struct snap_out){ .active = true, .to = o->to, .transfer = transfer_id_next(n), .msg = msg,
				.total = s->blob_len, .started_ms = snap_now_ms(n), .progress_ms = snap_now_ms(n),
				.retry_after_ms = o->retry_after_ms, .done_index = o->done_index,
				.done_term = o->done_term, .done_ms = o->done_ms, .probing = true };
	crypto_sha256_stream_init(&o->hash);
	if (s->fault_corrupt > 0) {
		s->fault_corrupt--;
		o->corrupt = true;
	}
	node_log("info", "snapshot transfer started", "peer=%s index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64
		 " transfer=%" PRIu64 "%s", n->peers[i].config->name, o->msg.snapshot.index, o->msg.snapshot.term,
		 o->total, o->transfer, o->corrupt ? " test_fault=corrupt" : "");
	out_pump(n, i);
}

/* The follower holds the whole snapshot, hash-checked: raft's message goes now, then the report. */
static void out_complete(struct node *n, size_t i)
{
	struct snap_out *o = &n->snapshot->out[i];
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	if (st.role != RAFT_LEADER || st.term != o->msg.term) {
		out_end(n, i, false, false, "no longer leader");
		return;
	}
	node_peer_send_raft(n, &o->msg);
	o->done_index = o->msg.snapshot.index;
	o->done_term = o->msg.snapshot.term;
	o->done_ms = snap_now_ms(n);
	out_end(n, i, true, true, "");
}

/* The follower holds `held` ledger entries (D30): when they are a prefix of the export, ship the
 * suffix it lacks instead, as a new transfer; otherwise the whole export goes on (a follower
 * holding more than the export diverged, and its install will say so). */
static void out_holds(struct node *n, size_t i, uint64_t held)
{
	struct node_snapshot *s = n->snapshot;
	struct snap_out *o = &s->out[i];
	if (!o->probing)
		return;
	o->probing = false;
	uint64_t entries = s->blob_entries;
	size_t from = 0, k = held / SNAP_INDEX_EVERY; /* entry held + 1 is at most SNAP_INDEX_EVERY past index[k] */
	if (held == 0 || held > entries || k >= s->blob_index_count ||
	    replica_snapshot_entry_walk(s->blob, s->blob_len, (uint64_t)k * SNAP_INDEX_EVERY + 1, s->blob_index[k],
					held + 1, &from) != 0 ||
	    replica_snapshot_suffix_header(s->blob, s->blob_len, held + 1, o->head) != 0) {
		out_pump(n, i);
		return;
	}
	o->suffix = true;
	o->from = from;
	o->transfer = transfer_id_next(n);
	o->total = sizeof o->head + (s->blob_len - from);
	o->sent = o->acked = o->hashed = 0;
	o->progress_ms = snap_now_ms(n);
	crypto_sha256_stream_init(&o->hash);
	node_log("info", "snapshot transfer narrowed to a suffix", "peer=%s holds=%" PRIu64 " entries=%" PRIu64
		 " bytes=%" PRIu64 " transfer=%" PRIu64, n->peers[i].config->name, held, entries, o->total, o->transfer);
	out_pump(n, i);
}

void snap_ack_receive(struct node *n, struct node_peer *p, const uint8_t *bytes, size_t len)
{
	struct node_snap_ack a;
	if (node_snap_ack_decode(bytes, len, &a) != 0) {
		n->counters.peer_dropped_malformed++;
		p->dropped_malformed++;
		return;
	}
	int i = peer_index(n, p->config->id);
	struct snap_out *o = i >= 0 ? &n->snapshot->out[i] : NULL;
	if (o != NULL && o->active && o->to == p->config->id && a.transfer == o->transfer &&
	    a.status == NODE_SNAP_ACK_HOLDS) {
		out_holds(n, (size_t)i, a.next); /* next counts entries here, not bytes */
		return;
	}
	if (o != NULL && o->active && a.transfer == o->transfer)
		o->probing = false; /* a follower that does not say what it holds gets the whole export */
	if (o == NULL || !o->active || o->to != p->config->id || a.transfer != o->transfer || a.next > o->sent) {
		n->metrics.snapshot.chunks_ignored_total++; /* an old transfer's, or beyond what was sent */
		return;
	}
	if (a.status == NODE_SNAP_ACK_REFUSED) {
		out_end(n, (size_t)i, true, false, "the follower refused the transfer");
		return;
	}
	if (a.next > o->acked) {
		o->acked = a.next;
		o->progress_ms = snap_now_ms(n);
	}
	if (a.status == NODE_SNAP_ACK_COMPLETE && a.next == o->total)
		out_complete(n, (size_t)i);
	else
		out_pump(n, (size_t)i);
}

static void out_tick(struct node *n, const struct raft_status *st)
{
	if (st->role != RAFT_LEADER && n->snapshot->blob_ready)
		blob_release_if_unused(n->snapshot); /* a follower keeps no export: its disk is for its own */
	struct node_snapshot *s = n->snapshot;
	uint64_t now = snap_now_ms(n);
	for (size_t i = 0; i < n->peer_count; i++) {
		struct snap_out *o = &s->out[i];
		bool gone = !n->peers[i].linked || n->peers[i].config->id != o->to;
		if (o->waiting && (gone || st->role != RAFT_LEADER || st->term != o->msg.term)) {
			o->waiting = false; /* the export goes on for nobody; raft hears of the peer if it is linked */
			if (gone)
				raft_report_snapshot(replica_raft(n->rp), o->to, false);
		}
		if (!o->active)
			continue;
		if (gone) {
			out_end(n, i, true, false, "the peer is no longer linked");
			continue;
		}
		if (st->role != RAFT_LEADER || st->term != o->msg.term) {
			out_end(n, i, false, false, "no longer leader");
			continue;
		}
		if (now - o->progress_ms >= NODE_SNAP_STALL_MS) {
			out_end(n, i, true, false, "timed out");
			continue;
		}
		uint64_t quiet_since = o->progress_ms > o->resend_ms ? o->progress_ms : o->resend_ms;
		if (o->sent > o->acked && now - quiet_since >= NODE_SNAP_RESEND_MS) {
			o->sent = o->acked; /* go back: a chunk or its ack was lost */
			o->resend_ms = now;
		}
		out_pump(n, i);
	}
}

void node_snapshot_tick(struct node *n)
{
	if (n->snapshot == NULL)
		return;
	struct raft_status st;
	raft_status_get(replica_raft(n->rp), &st);
	n->metrics.snapshot.compaction_index = st.snapshot.index;
	out_tick(n, &st);
	snap_in_tick(n);
}

int node_snapshot_open(struct node *n)
{
	struct node_snapshot *s = calloc(1, sizeof *s);
	if (s == NULL)
		return SL_ENOMEM;
	s->chunk_cap = node_snap_chunk_encoded_bytes(NODE_SNAP_CHUNK_BYTES_MAX, true);
	s->chunk = malloc(s->chunk_cap);
	s->stage = malloc(NODE_SNAP_CHUNK_BYTES_MAX);
	int len = snprintf(s->partial_path, sizeof s->partial_path, "%s/%s", n->config.data_dir, SNAP_PARTIAL_NAME);
	if (s->chunk == NULL || s->stage == NULL || len < 0 || (size_t)len >= sizeof s->partial_path) {
		int rc = s->chunk == NULL || s->stage == NULL ? SL_ENOMEM : SL_ELIMIT;
		free(s->chunk);
		free(s->stage);
		free(s);
		return rc;
	}
	s->in_fd = -1;
	(void)unlink(s->partial_path); /* left by a crash mid-transfer: the leader sends it again */
	char out_path[sizeof s->partial_path + sizeof SNAP_OUT_NAME];
	snprintf(out_path, sizeof out_path, "%s/%s", n->config.data_dir, SNAP_OUT_NAME);
	(void)unlink(out_path); /* an export left by a crash */
	const char *fault = getenv(SNAP_FAULT_ENV);
	if (fault != NULL && fault[0] != '\0') {
		long v = strtol(fault, NULL, 10);
		s->fault_corrupt = v > 0 && v <= SNAP_FAULT_MAX ? (unsigned)v : 0;
		node_log("warn", "test fault injection", "env=%s corrupt_transfers=%u", SNAP_FAULT_ENV, s->fault_corrupt);
	}
	n->snapshot = s;
	return 0;
}

void node_snapshot_cancel(struct node *n)
{
	if (n->snapshot != NULL && n->snapshot->exporting != NULL)
		atomic_store(&n->snapshot->exporting->cancel, true);
}

void node_snapshot_close(struct node *n)
{
	struct node_snapshot *s = n->snapshot;
	if (s == NULL)
		return;
	snap_incoming_discard(s);
	snap_map_release(&s->staged);
	snap_map_release(&s->installing);
	blob_release(s);
	free(s->chunk); /* no export is left: the loop ran until its after-work callback */
	free(s->stage);
	free(s);
	n->snapshot = NULL;
}
