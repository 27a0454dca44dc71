/* replica/replica.c — open/restore, propose, and the Ready cycle in its three steps
 * (replica/replica.h "Threads").
 *
 * Invariants:
 *  1. rp->applied and rp->snap mirror what the store holds as of the last finished cycle; a
 *     cycle works on copies (rp->inflight) and publishes them in replica_ready_finish, after its
 *     commit. The persist step reads neither them nor the raft core, so the loop thread may use
 *     both while it runs.
 *  2. Nothing of a cycle leaves the replica (hooks) before its commit returned 0 (raft.h Rule 1),
 *     except a leader's messages when the core says so (rd.messages_early, §10.2.1):
 *     replica_ready_send_early sends them between begin and persist, and finish does not again.
 *  3. After a failed cycle the replica is only closed (replica.h rule 2): its raft core may have
 *     handed out a Ready that was never advanced.
 */
#include "replica/replica_internal.h"

#include "ledger/entry.h"
#include "util/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- restore ---- */

struct restore_ctx {
	struct raft_entry *entries;
	size_t count;
	size_t cap;
	uint64_t expect; /* next index: stored entries must be consecutive */
};

static int restore_visit(void *ctx, uint64_t index, uint64_t term, uint8_t type, const uint8_t *data, size_t len)
{
	struct restore_ctx *rc = ctx;
	if (rc->count > 0 && index != rc->expect)
		return SL_ECORRUPT;
	if (rc->count == rc->cap) {
		size_t cap = rc->cap ? 2 * rc->cap : 64;
		if (cap > RAFT_LOG_ENTRIES_MAX)
			return SL_ELIMIT;
		struct raft_entry *grown = realloc(rc->entries, cap * sizeof *grown);
		if (grown == NULL)
			return SL_ENOMEM;
		rc->entries = grown;
		rc->cap = cap;
	}
	/* LMDB memory stays valid for the read transaction, which lives until raft_create copied it */
	rc->entries[rc->count++] = (struct raft_entry){ term, index, type, len ? data : NULL, len };
	rc->expect = index + 1;
	return 0;
}

static int replica_restore(replica *rp)
{
	store_txn *txn;
	int rc = store_txn_begin(rp->st, false, &txn);
	if (rc != 0)
		return rc;
	struct store_raft_hard_state hs;
	int hs_rc = store_raft_hard_state_get(txn, &hs);
	int snap_rc = store_raft_compaction_get(txn, &rp->snap);
	int applied_rc = store_raft_applied_get(txn, &rp->applied);
	rc = hs_rc == SL_ENOENT ? 0 : hs_rc;
	rc = rc != 0 ? rc : snap_rc == SL_ENOENT ? 0 : snap_rc;
	rc = rc != 0 ? rc : applied_rc == SL_ENOENT ? 0 : applied_rc;
	struct restore_ctx log = { NULL, 0, 0, 0 };
	if (rc == 0)
		rc = store_raft_log_iterate(txn, rp->snap.index + 1, restore_visit, &log);
	bool fresh = hs_rc == SL_ENOENT && log.count == 0 && rp->snap.index == 0;
	if (rc == 0) {
		struct raft_storage_state st;
		memset(&st, 0, sizeof st);
		st.hard_state = (struct raft_hard_state){ hs.term, hs.vote, hs.commit };
		st.snapshot.index = rp->snap.index;
		st.snapshot.term = rp->snap.term;
		replica_conf_from_store(&rp->snap, &st.snapshot.conf);
		st.entries = log.entries;
		st.entries_count = log.count;
		st.applied = rp->applied.index > rp->snap.index ? rp->applied.index : rp->snap.index;
		rc = raft_create(&rp->cfg.raft, fresh ? NULL : &st, &rp->r);
		rc = rc == 0 ? 0 : SL_ECORRUPT; /* the core refused what the store holds */
	}
	store_txn_abort(txn);
	free(log.entries);
	return rc;
}

int replica_open(const struct replica_config *config, replica **out)
{
	assert(config != NULL && out != NULL);
	*out = NULL;
	replica *rp = calloc(1, sizeof *rp);
	if (rp == NULL)
		return SL_ENOMEM;
	rp->cfg = *config;
	if (strlen(config->dir) >= sizeof rp->dir || config->compact_keep > REPLICA_COMPACT_KEEP_MAX) {
		free(rp);
		return SL_EINVAL;
	}
	if (config->compact_keep > 0 && (rp->kept = calloc(REPLICA_KEPT_STATES, sizeof *rp->kept)) == NULL) {
		free(rp);
		return SL_ENOMEM;
	}
	strcpy(rp->dir, config->dir);
	rp->cfg.dir = rp->dir;
	int rc = store_open(&rp->st, rp->dir, &config->store);
	if (rc == 0)
		rc = replica_restore(rp);
	if (rc != 0) {
		replica_close(rp);
		return rc;
	}
	*out = rp;
	return 0;
}

void replica_close(replica *rp)
{
	if (rp == NULL)
		return;
	if (rp->inflight.txn != NULL)
		store_txn_abort(rp->inflight.txn); /* written, never committed: nothing of it persists */
	if (rp->r != NULL)
		raft_destroy(rp->r);
	if (rp->st != NULL)
		store_close(rp->st);
	free(rp->scratch.apps);
	free(rp->scratch.apps_offset);
	free(rp->scratch.results);
	free(rp->scratch.records);
	free(rp->kept);
	free(rp);
}

raft *replica_raft(replica *rp)
{
	return rp->r;
}

store *replica_store(replica *rp)
{
	return rp->st;
}

void replica_applied_get(const replica *rp, struct store_raft_applied *out)
{
	*out = rp->applied;
}

int replica_propose(replica *rp, uint64_t ledger_time_ms, const struct ledger_input *records, size_t count,
		    uint64_t *index_out)
{
	struct sl_buf batch;
	sl_buf_init(&batch, RAFT_ENTRY_BYTES_MAX);
	int rc = replica_batch_encode(ledger_time_ms, records, count, &batch);
	if (rc == 0)
		rc = raft_propose(rp->r, batch.data, batch.len, index_out);
	sl_buf_free(&batch);
	return rc;
}

/* ---- the cycle ---- */

static int scratch_reserve(struct replica_scratch *s, size_t apps, size_t pool)
{
	if (apps > s->apps_cap) {
		void *p = realloc(s->apps, apps * sizeof *s->apps);
		if (p != NULL)
			s->apps = p;
		void *o = realloc(s->apps_offset, apps * sizeof *s->apps_offset);
		if (o != NULL)
			s->apps_offset = o;
		if (p == NULL || o == NULL)
			return SL_ENOMEM;
		s->apps_cap = apps;
	}
	if (pool > s->pool_cap) {
		void *a = realloc(s->results, pool * sizeof *s->results);
		if (a != NULL)
			s->results = a;
		void *b = realloc(s->records, pool * sizeof *s->records);
		if (b != NULL)
			s->records = b;
		if (a == NULL || b == NULL)
			return SL_ENOMEM;
		s->pool_cap = pool;
	}
	return 0;
}

struct hash_ctx {
	uint8_t *hash;
	uint64_t *time_ms;
};

static int hash_visit(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	struct hash_ctx *h = ctx;
	(void)seq;
	replica_hash_step(h->hash, entry, len);
	struct ledger_entry e;
	struct sl_error_detail detail;
	if (entry_decode(entry, len, &e, &detail) == 0)
		*h->time_ms = e.ledger_time_ms;
	return 0;
}

/* Apply one committed entry into the cycle's transaction; fills one scratch slot. */
static int apply_entry(replica *rp, store_txn *txn, const struct raft_entry *e, struct store_raft_applied *applied)
{
	struct replica_scratch *s = &rp->scratch;
	int rc = scratch_reserve(s, s->apps_count + 1, s->pool_count + REPLICA_BATCH_RECORDS_MAX);
	if (rc != 0)
		return rc;
	s->apps_offset[s->apps_count] = s->pool_count;
	struct replica_applied *a = &s->apps[s->apps_count++];
	memset(a, 0, sizeof *a);
	*a = (struct replica_applied){ .index = e->index, .term = e->term, .type = e->type, .data = e->data,
				       .len = e->len };
	uint64_t stamped = 0;
	size_t n = 0;
	struct ledger_input *records = s->records + s->pool_count;
	struct ledger_result *results = s->results + s->pool_count;
	if (e->type == RAFT_ENTRY_NORMAL && e->len > 0 &&
	    replica_batch_decode(e->data, e->len, &stamped, records, REPLICA_BATCH_RECORDS_MAX, &n) != 0)
		n = 0; /* rule 1: an undecodable batch applies as no records, everywhere */
	if (n > 0) {
		uint64_t time_ms = stamped > applied->ledger_time_ms ? stamped : applied->ledger_time_ms;
		rc = ledger_apply_batch_txn_known(txn, records, n, time_ms, results, rp->cfg.verify_threads,
						  rp->cfg.verified);
		if (rc != 0)
			return rc;
		applied->ledger_time_ms = time_ms;
		struct hash_ctx h = { applied->state_hash, &applied->ledger_time_ms };
		rc = store_ledger_iterate(txn, applied->ledger_seq + 1, n, hash_visit, &h);
		if (rc != 0)
			return rc;
		applied->ledger_seq += n;
		s->pool_count += n;
	}
	applied->index = e->index;
	a->results_count = n; /* records and results: set by cycle_publish (the pools may move) */
	a->ledger_time_ms = applied->ledger_time_ms;
	a->ledger_seq = applied->ledger_seq;
	memcpy(a->state_hash, applied->state_hash, REPLICA_HASH_BYTES);
	return 0;
}

/* The applied state after entry `index`, when still kept (rule 8); NULL otherwise. */
static const struct store_raft_applied *kept_state(const replica *rp, uint64_t index)
{
	if (index == rp->applied.index)
		return &rp->applied;
	const struct store_raft_applied *k = rp->kept != NULL ? &rp->kept[index % REPLICA_KEPT_STATES] : NULL;
	return k != NULL && k->index == index && index != 0 ? k : NULL;
}

/* Compaction due (rule 8): drop the in-memory log up to the new point; the store follows in this
 * cycle. */
static bool compact_due(replica *rp, struct store_raft_compaction *snap)
{
	uint64_t applied = rp->applied.index;
	if (rp->cfg.compact_every == 0 || applied <= rp->snap.index)
		return false;
	struct raft_status st;
	raft_status_get(rp->r, &st);
	uint64_t bytes_due = rp->cfg.compact_bytes != 0 ? rp->cfg.compact_bytes : REPLICA_COMPACT_BYTES_DEFAULT;
	const struct store_raft_applied *at = NULL;
	if (st.log_bytes >= bytes_due)
		at = &rp->applied; /* the log is filling up: keep nothing */
	else if (applied >= rp->snap.index + rp->cfg.compact_every + rp->cfg.compact_keep)
		at = kept_state(rp, applied - rp->cfg.compact_keep);
	struct raft_snapshot_meta meta;
	if (at == NULL || raft_compact(rp->r, at->index, &meta) != 0)
		return false;
	memset(snap, 0, sizeof *snap);
	snap->index = meta.index;
	snap->term = meta.term;
	replica_conf_to_store(&meta.conf, snap);
	snap->ledger_seq = at->ledger_seq;
	snap->ledger_time_ms = at->ledger_time_ms;
	memcpy(snap->state_hash, at->state_hash, REPLICA_HASH_BYTES);
	return true;
}

/* Keep the applied state after each entry this cycle applied (rule 8). */
static void kept_record(replica *rp)
{
	const struct replica_scratch *s = &rp->scratch;
	for (size_t i = 0; rp->kept != NULL && i < s->apps_count; i++) {
		const struct replica_applied *a = &s->apps[i];
		struct store_raft_applied *k = &rp->kept[a->index % REPLICA_KEPT_STATES];
		k->index = a->index;
		k->ledger_seq = a->ledger_seq;
		k->ledger_time_ms = a->ledger_time_ms;
		memcpy(k->state_hash, a->state_hash, REPLICA_HASH_BYTES);
	}
}

static int persist_entries(store_txn *txn, const struct raft_ready *rd)
{
	if (rd->entries_count == 0)
		return 0;
	int rc = store_raft_log_truncate(txn, rd->entries[0].index); /* §3.5: replaces from here on */
	for (size_t i = 0; rc == 0 && i < rd->entries_count; i++) {
		const struct raft_entry *e = &rd->entries[i];
		rc = store_raft_log_put(txn, e->index, e->term, e->type, e->data, e->len);
	}
	return rc;
}

/* Everything of one Ready inside one write transaction, left open for cycle_commit. */
static int cycle_write(replica *rp, const struct raft_ready *rd, const struct replica_hooks *hooks, bool compact,
		       struct store_raft_applied *applied, struct store_raft_compaction *snap, store_txn **out)
{
	store_txn *txn;
	int rc = store_txn_begin(rp->st, true, &txn);
	if (rc != 0)
		return rc;
	if (compact) {
		rc = store_raft_compaction_put(txn, snap);
		if (rc == 0)
			rc = store_raft_log_compact(txn, snap->index);
	}
	if (rc == 0 && rd->has_snapshot)
		rc = replica_snapshot_install(rp, txn, &rd->snapshot, hooks, applied, snap);
	if (rc == 0)
		rc = persist_entries(txn, rd);
	if (rc == 0 && rd->has_hard_state) {
		struct store_raft_hard_state hs = { rd->hard_state.term, rd->hard_state.vote, rd->hard_state.commit };
		rc = store_raft_hard_state_put(txn, &hs);
	}
	for (size_t i = 0; rc == 0 && i < rd->committed_count; i++)
		if (rd->committed[i].index > applied->index)
			rc = apply_entry(rp, txn, &rd->committed[i], applied);
	if (rc == 0)
		rc = store_raft_applied_put(txn, applied);
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	struct replica_scratch *s = &rp->scratch; /* the pools no longer move: point into them */
	for (size_t i = 0; i < s->apps_count; i++) {
		s->apps[i].records = s->records + s->apps_offset[i];
		s->apps[i].results = s->results + s->apps_offset[i];
	}
	*out = txn;
	return 0;
}

static void cycle_publish(replica *rp, const struct raft_ready *rd, const struct replica_hooks *hooks)
{
	for (size_t i = 0; hooks->persisted != NULL && i < rd->entries_count; i++)
		hooks->persisted(hooks->ctx, &rd->entries[i]);
	for (size_t i = 0; !rp->inflight.sent && i < rd->messages_count; i++)
		hooks->send(hooks->ctx, &rd->messages[i]);
	if (hooks->read_states != NULL && rd->read_states_count > 0) /* the applied state is published */
		hooks->read_states(hooks->ctx, rd->read_states, rd->read_states_count);
	if (hooks->applied == NULL)
		return;
	if (rd->has_snapshot) {
		struct replica_applied a = { .index = rp->snap.index, .term = rp->snap.term, .snapshot = true,
					     .ledger_seq = rp->snap.ledger_seq,
					     .ledger_time_ms = rp->snap.ledger_time_ms };
		memcpy(a.state_hash, rp->snap.state_hash, REPLICA_HASH_BYTES);
		hooks->applied(hooks->ctx, &a);
	}
	struct replica_scratch *s = &rp->scratch;
	for (size_t i = 0; i < s->apps_count; i++)
		hooks->applied(hooks->ctx, &s->apps[i]);
}

int replica_ready_begin(replica *rp)
{
	assert(rp != NULL);
	if (!raft_has_ready(rp->r))
		return 0;
	struct replica_inflight *f = &rp->inflight;
	if (f->taken)
		return SL_EINVAL; /* begin again before finish: the caller broke the step order */
	f->snap = rp->snap;
	f->compact = compact_due(rp, &f->snap);
	if (raft_ready(rp->r, &f->rd) != 0)
		return SL_EINVAL; /* invariant 3: a previous cycle failed and was not closed */
	f->applied = rp->applied;
	f->taken = true;
	f->written = false;
	f->answered = false;
	f->persisted = false;
	f->sent = false;
	rp->scratch.apps_count = 0;
	rp->scratch.pool_count = 0;
	return 1;
}

bool replica_ready_needs_persist(const replica *rp)
{
	const struct replica_inflight *f = &rp->inflight;
	assert(f->taken);
	return f->compact || f->rd.has_snapshot || f->rd.entries_count > 0 || f->rd.has_hard_state ||
	       f->rd.committed_count > 0;
}

void replica_ready_send_early(replica *rp, const struct replica_hooks *hooks)
{
	struct replica_inflight *f = &rp->inflight;
	assert(hooks != NULL && hooks->send != NULL);
	assert(f->taken && !f->persisted);
	if (!f->rd.messages_early || f->sent)
		return; /* invariant 2: these wait for the commit */
	for (size_t i = 0; i < f->rd.messages_count; i++)
		hooks->send(hooks->ctx, &f->rd.messages[i]);
	f->sent = true;
}

int replica_ready_write(replica *rp, const struct replica_hooks *hooks)
{
	struct replica_inflight *f = &rp->inflight;
	assert(hooks != NULL);
	assert(f->taken && !f->written && !f->persisted);
	int rc = cycle_write(rp, &f->rd, hooks, f->compact, &f->applied, &f->snap, &f->txn);
	if (rc == 0)
		f->written = true;
	return rc;
}

bool replica_ready_answerable(const replica *rp)
{
	return rp->inflight.written && rp->scratch.apps_count > 0;
}

void replica_ready_answer(replica *rp, const struct replica_hooks *hooks)
{
	struct replica_inflight *f = &rp->inflight;
	assert(f->written);
	if (f->answered || hooks->answered == NULL)
		return;
	f->answered = true;
	const struct replica_scratch *s = &rp->scratch;
	for (size_t i = 0; i < s->apps_count; i++)
		hooks->answered(hooks->ctx, &s->apps[i]);
}

int replica_ready_commit(replica *rp)
{
	struct replica_inflight *f = &rp->inflight;
	assert(f->written && !f->persisted && f->txn != NULL);
	store_txn *txn = f->txn;
	f->txn = NULL;
	/* Rule 6 (D24): a Ready that promises nothing (no entries, term or vote) only applies; an OS
	 * crash that undoes it leaves the applied index behind the durable log, which applies again. */
	int rc = f->rd.must_sync ? store_txn_commit(txn) : store_txn_commit_undoable(txn);
	if (rc == 0)
		f->persisted = true;
	return rc;
}

int replica_ready_persist(replica *rp, const struct replica_hooks *hooks)
{
	int rc = replica_ready_write(rp, hooks);
	return rc == 0 ? replica_ready_commit(rp) : rc;
}

void replica_ready_finish(replica *rp, const struct replica_hooks *hooks)
{
	struct replica_inflight *f = &rp->inflight;
	assert(hooks != NULL && hooks->send != NULL);
	assert(f->taken);
	assert(f->persisted || !replica_ready_needs_persist(rp)); /* invariant 2 */
	rp->applied = f->applied;
	rp->snap = f->snap;
	kept_record(rp);
	cycle_publish(rp, &f->rd, hooks);
	raft_advance(rp->r, &f->rd);
	f->taken = false;
	f->written = false;
	f->answered = false;
	f->persisted = false;
	f->sent = false;
}

int replica_cycle(replica *rp, const struct replica_hooks *hooks)
{
	assert(hooks != NULL && hooks->send != NULL);
	int rc = replica_ready_begin(rp);
	if (rc <= 0)
		return rc;
	replica_ready_send_early(rp, hooks);
	rc = replica_ready_write(rp, hooks);
	if (rc != 0)
		return rc;
	replica_ready_answer(rp, hooks);
	rc = replica_ready_commit(rp);
	if (rc != 0)
		return rc;
	replica_ready_finish(rp, hooks);
	return 1;
}
