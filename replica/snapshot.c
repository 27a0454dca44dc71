/* replica/snapshot.c — the ledger as the snapshot (replica.h rule 4), and state hashes.
 *
 * Export format (fixed little-endian integers; siteledgerd streams it between processes, node/snapshot.c):
 *     "slsnap1\0" | index u64 | term u64 | ledger_seq u64 | ledger_time_ms u64 | hash[32] |
 *     ledger_seq times: { length u32 | entry bytes }            (integers little-endian)
 * Suffix format (D30: what a receiver holding first_seq - 1 entries lacks):
 *     "slsnap2\0" | the same five fields | first_seq u64 | entries first_seq..ledger_seq, as above
 * Install (receiver, inside the cycle's transaction):
 *  0. a suffix must start at most right after the receiver's last entry (replica_snapshot_first_seq
 *     lets the caller check that before it hands the data over: the receiver may have applied
 *     more since it said what it holds); the running hash is recomputed from the receiver's own
 *     entries before the suffix — never taken from its stored state — so step 3 also proves
 *     those equal the sender's;
 *  1. entries it already holds must equal the shipped ones byte for byte;
 *  2. the others are re-applied one record at a time at the entry's ledger time — apply is
 *     deterministic (ledger/apply.h), so the entry it writes must equal the shipped entry;
 *  3. the running hash after the last entry must equal the shipped hash.
 * A failure of 1-3 is a divergence: reported through hooks.diverged, SL_ECORRUPT.
 */
#include "replica/replica_internal.h"

#include "crypto/crypto.h"
#include "ledger/entry.h"
#include "util/error.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SNAP_MAGIC "slsnap1"
#define SNAP_SUFFIX_MAGIC "slsnap2"
#define SNAP_HEADER_BYTES (8 + 4 * 8 + REPLICA_HASH_BYTES)
_Static_assert(SNAP_HEADER_BYTES + 8 == REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES, "a suffix header adds first_seq");

void replica_hash_step(uint8_t hash[REPLICA_HASH_BYTES], const uint8_t *entry, size_t len)
{
	uint8_t out[REPLICA_HASH_BYTES];
	crypto_sha256_2(hash, REPLICA_HASH_BYTES, entry, len, out);
	memcpy(hash, out, REPLICA_HASH_BYTES);
}

void replica_conf_to_store(const struct raft_conf_state *conf, struct store_raft_compaction *c)
{
	memset(c->voters, 0, sizeof c->voters);
	memset(c->learners, 0, sizeof c->learners);
	for (size_t i = 0; i < conf->voters_count; i++)
		c->voters[i] = conf->voters[i];
	for (size_t i = 0; i < conf->learners_count; i++)
		c->learners[i] = conf->learners[i];
	c->voters_count = conf->voters_count;
	c->learners_count = conf->learners_count;
}

void replica_conf_from_store(const struct store_raft_compaction *c, struct raft_conf_state *conf)
{
	memset(conf, 0, sizeof *conf);
	for (size_t i = 0; i < c->voters_count && i < RAFT_VOTERS_MAX; i++)
		conf->voters[conf->voters_count++] = c->voters[i];
	for (size_t i = 0; i < c->learners_count && i < RAFT_LEARNERS_MAX; i++)
		conf->learners[conf->learners_count++] = c->learners[i];
}

struct export_ctx {
	int (*write)(void *ctx, const uint8_t *bytes, size_t len);
	void *ctx;
};

static int put_u64(struct export_ctx *e, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return e->write(e->ctx, b, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int export_entry(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	struct export_ctx *e = ctx;
	(void)seq;
	uint8_t b[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
	int rc = e->write(e->ctx, b, 4);
	return rc == 0 ? e->write(e->ctx, entry, len) : rc;
}

const struct store_raft_compaction *replica_snapshot_point(const replica *rp)
{
	return &rp->snap;
}

int replica_snapshot_write(store *st, const struct store_raft_compaction *c,
			   int (*write)(void *ctx, const uint8_t *bytes, size_t len), void *ctx,
			   struct raft_snapshot_meta *meta_out)
{
	if (c->index == 0)
		return SL_ENOENT;
	memset(meta_out, 0, sizeof *meta_out);
	meta_out->index = c->index;
	meta_out->term = c->term;
	replica_conf_from_store(c, &meta_out->conf);
	struct export_ctx e = { write, ctx };
	int rc = write(ctx, (const uint8_t *)SNAP_MAGIC, 8);
	if (rc == 0)
		rc = put_u64(&e, c->index);
	if (rc == 0)
		rc = put_u64(&e, c->term);
	if (rc == 0)
		rc = put_u64(&e, c->ledger_seq);
	if (rc == 0)
		rc = put_u64(&e, c->ledger_time_ms);
	if (rc == 0)
		rc = write(ctx, c->state_hash, REPLICA_HASH_BYTES);
	store_txn *txn;
	if (rc == 0)
		rc = store_txn_begin(st, false, &txn);
	if (rc != 0)
		return rc;
	if (c->ledger_seq > 0)
		rc = store_ledger_iterate(txn, 1, c->ledger_seq, export_entry, &e);
	store_txn_abort(txn);
	return rc;
}

static int buf_write(void *ctx, const uint8_t *bytes, size_t len)
{
	return sl_buf_append(ctx, bytes, len);
}

int replica_snapshot_export(replica *rp, struct sl_buf *out, struct raft_snapshot_meta *meta_out)
{
	return replica_snapshot_write(rp->st, &rp->snap, buf_write, out, meta_out);
}

static int snap_next(const uint8_t **p, const uint8_t *end, const uint8_t **entry, size_t *len);

int replica_snapshot_first_seq(const uint8_t *data, size_t len, uint64_t *first)
{
	if (len >= SNAP_HEADER_BYTES && memcmp(data, SNAP_MAGIC, 8) == 0) {
		*first = 1;
		return 0;
	}
	if (len < REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES || memcmp(data, SNAP_SUFFIX_MAGIC, 8) != 0)
		return SL_EINVAL;
	*first = get_u64(data + SNAP_HEADER_BYTES);
	return *first >= 2 && *first <= get_u64(data + 24) + 1 ? 0 : SL_EINVAL;
}

int replica_snapshot_entry_offset(const uint8_t *data, size_t len, uint64_t seq, size_t *offset)
{
	return replica_snapshot_entry_walk(data, len, 1, SNAP_HEADER_BYTES, seq, offset);
}

int replica_snapshot_entry_walk(const uint8_t *data, size_t len, uint64_t from_seq, size_t from_offset, uint64_t seq,
				size_t *offset)
{
	if (len < SNAP_HEADER_BYTES || memcmp(data, SNAP_MAGIC, 8) != 0 || seq == 0 || seq > get_u64(data + 24) + 1 ||
	    from_seq == 0 || from_seq > seq || from_offset < SNAP_HEADER_BYTES || from_offset > len)
		return SL_EINVAL;
	const uint8_t *p = data + from_offset, *end = data + len;
	for (uint64_t s = from_seq; s < seq; s++) {
		const uint8_t *entry;
		size_t n;
		int rc = snap_next(&p, end, &entry, &n);
		if (rc != 0)
			return rc;
	}
	*offset = (size_t)(p - data);
	return 0;
}

int replica_snapshot_suffix(const uint8_t *data, size_t len, uint64_t held, struct sl_buf *out)
{
	uint8_t head[REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES];
	size_t from = 0;
	int rc = replica_snapshot_entry_offset(data, len, held + 1, &from);
	if (rc == 0)
		rc = replica_snapshot_suffix_header(data, len, held + 1, head);
	if (rc == 0)
		rc = sl_buf_append(out, head, sizeof head);
	return rc == 0 ? sl_buf_append(out, data + from, len - from) : rc;
}

int replica_snapshot_suffix_header(const uint8_t *export_header, size_t len, uint64_t first_seq,
				   uint8_t out[REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES])
{
	if (len < SNAP_HEADER_BYTES || memcmp(export_header, SNAP_MAGIC, 8) != 0 || first_seq < 2 ||
	    first_seq > get_u64(export_header + 24) + 1)
		return SL_EINVAL;
	memcpy(out, SNAP_SUFFIX_MAGIC, 8);
	memcpy(out + 8, export_header + 8, SNAP_HEADER_BYTES - 8);
	for (int i = 0; i < 8; i++)
		out[SNAP_HEADER_BYTES + i] = (uint8_t)(first_seq >> (8 * i));
	return 0;
}

__attribute__((format(printf, 2, 3))) static int diverged(const struct replica_hooks *hooks, const char *format, ...);
static int diverged(const struct replica_hooks *hooks, const char *format, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, format);
	vsnprintf(what, sizeof what, format, ap);
	va_end(ap);
	if (hooks->diverged != NULL)
		hooks->diverged(hooks->ctx, what);
	return SL_ECORRUPT;
}

/* Next shipped entry into entry and len, advancing *p; SL_ETRUNCATED past the end. */
static int snap_next(const uint8_t **p, const uint8_t *end, const uint8_t **entry, size_t *len)
{
	if (end - *p < 4)
		return SL_ETRUNCATED;
	size_t n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8 | (size_t)(*p)[2] << 16 | (size_t)(*p)[3] << 24;
	*p += 4;
	if ((size_t)(end - *p) < n || n == 0)
		return SL_ETRUNCATED;
	*entry = *p;
	*len = n;
	*p += n;
	return 0;
}

/* Step 2 for one shipped entry: re-apply its record, compare what apply wrote. */
static int snap_reapply(replica *rp, store_txn *txn, uint64_t seq, const uint8_t *bytes, size_t len,
			const struct replica_hooks *hooks, uint64_t *time_ms)
{
	struct ledger_entry entry;
	struct sl_error_detail detail;
	int rc = entry_decode(bytes, len, &entry, &detail);
	if (rc != 0 || entry.seq != seq || entry.record_len == 0)
		return diverged(hooks, "snapshot entry %llu does not decode (%llu)", (unsigned long long)seq,
				(unsigned long long)(unsigned)-rc);
	struct ledger_input input = { entry.record, entry.record_len };
	struct ledger_result result;
	rc = ledger_apply_batch_txn(txn, &input, 1, entry.ledger_time_ms, &result, rp->cfg.verify_threads);
	if (rc != 0)
		return rc;
	const uint8_t *mine;
	size_t mine_len;
	rc = store_ledger_get(txn, seq, &mine, &mine_len);
	if (rc != 0)
		return rc;
	if (mine_len != len || memcmp(mine, bytes, len) != 0)
		return diverged(hooks, "re-applied entry %llu differs from the leader's (outcome %llu)",
				(unsigned long long)seq, (unsigned long long)result.outcome);
	*time_ms = entry.ledger_time_ms;
	return 0;
}

static int own_hash_visit(void *ctx, uint64_t seq, const uint8_t *entry, size_t len)
{
	(void)seq;
	replica_hash_step(ctx, entry, len);
	return 0;
}

static int snap_ledger(replica *rp, store_txn *txn, const uint8_t *p, const uint8_t *end, uint64_t first,
		       uint64_t seq_total, const struct replica_hooks *hooks, struct store_raft_applied *applied)
{
	uint64_t own = 0;
	int rc = store_ledger_count(txn, &own);
	if (rc != 0)
		return rc;
	if (own > seq_total || own != applied->ledger_seq)
		return diverged(hooks, "ledger holds %llu entries, snapshot %llu", (unsigned long long)own,
				(unsigned long long)seq_total);
	if (first > own + 1)
		return SL_EINVAL; /* step 0: the caller hands over only a suffix this ledger reaches */
	if (first > 1) { /* step 0: the running hash of this ledger's own entries before the suffix */
		memset(applied->state_hash, 0, REPLICA_HASH_BYTES);
		rc = store_ledger_iterate(txn, 1, first - 1, own_hash_visit, applied->state_hash);
		if (rc != 0)
			return rc;
	}
	for (uint64_t seq = first; rc == 0 && seq <= seq_total; seq++) {
		const uint8_t *bytes;
		size_t len;
		rc = snap_next(&p, end, &bytes, &len);
		if (rc != 0)
			return rc;
		if (seq <= own) {
			const uint8_t *mine;
			size_t mine_len;
			rc = store_ledger_get(txn, seq, &mine, &mine_len);
			if (rc == 0 && (mine_len != len || memcmp(mine, bytes, len) != 0))
				return diverged(hooks, "ledger entry %llu differs from the snapshot's (%llu)",
						(unsigned long long)seq, (unsigned long long)own);
			if (rc == 0 && first > 1)
				replica_hash_step(applied->state_hash, bytes, len); /* a whole export's stays own's */
			continue;
		}
		rc = snap_reapply(rp, txn, seq, bytes, len, hooks, &applied->ledger_time_ms);
		if (rc == 0)
			replica_hash_step(applied->state_hash, bytes, len);
	}
	applied->ledger_seq = seq_total;
	return rc == 0 && p != end ? SL_ETRAILING : rc;
}

int replica_snapshot_install(replica *rp, store_txn *txn, const struct raft_snapshot_meta *meta,
			     const struct replica_hooks *hooks, struct store_raft_applied *applied,
			     struct store_raft_compaction *snap)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	if (hooks->snapshot_data == NULL)
		return SL_EINVAL;
	int rc = hooks->snapshot_data(hooks->ctx, meta, &data, &len);
	if (rc != 0)
		return rc;
	uint64_t first = 0;
	if (data == NULL || len > REPLICA_SNAPSHOT_BYTES_MAX || replica_snapshot_first_seq(data, len, &first) != 0)
		return SL_EINVAL;
	if (get_u64(data + 8) != meta->index || get_u64(data + 16) != meta->term)
		return SL_EINVAL;
	uint64_t seq_total = get_u64(data + 24);
	size_t header = first == 1 && memcmp(data, SNAP_MAGIC, 8) == 0 ? SNAP_HEADER_BYTES
								       : REPLICA_SNAPSHOT_SUFFIX_HEADER_BYTES;
	rc = snap_ledger(rp, txn, data + header, data + len, first, seq_total, hooks, applied);
	if (rc != 0)
		return rc;
	if (memcmp(applied->state_hash, data + 40, REPLICA_HASH_BYTES) != 0)
		return diverged(hooks, "state hash differs after installing snapshot %llu (%llu entries)",
				(unsigned long long)meta->index, (unsigned long long)seq_total);
	applied->index = meta->index;
	memset(snap, 0, sizeof *snap);
	snap->index = meta->index;
	snap->term = meta->term;
	replica_conf_to_store(&meta->conf, snap);
	snap->ledger_seq = applied->ledger_seq;
	snap->ledger_time_ms = applied->ledger_time_ms;
	memcpy(snap->state_hash, applied->state_hash, REPLICA_HASH_BYTES);
	rc = store_raft_log_truncate(txn, 1); /* the log restarts after the snapshot (§5.3) */
	if (rc == 0)
		rc = store_raft_compaction_put(txn, snap);
	return rc;
}

struct lifecycle_ctx {
	uint8_t hash[REPLICA_HASH_BYTES];
	struct sl_buf row;
};

/* Chained over rows: h' = SHA-256(h || table || key length || value length || key || value). */
static int lifecycle_visit(void *ctx, int table, const void *key, size_t key_len, const void *value,
			   size_t value_len)
{
	struct lifecycle_ctx *l = ctx;
	uint8_t head[17];
	head[0] = (uint8_t)table;
	for (int i = 0; i < 8; i++) {
		head[1 + i] = (uint8_t)((uint64_t)key_len >> (8 * i));
		head[9 + i] = (uint8_t)((uint64_t)value_len >> (8 * i));
	}
	sl_buf_reset(&l->row);
	int rc = sl_buf_append(&l->row, head, sizeof head);
	if (rc == 0)
		rc = sl_buf_append(&l->row, key, key_len);
	if (rc == 0)
		rc = sl_buf_append(&l->row, value, value_len);
	if (rc == 0)
		replica_hash_step(l->hash, l->row.data, l->row.len);
	return rc;
}

int replica_lifecycle_hash(replica *rp, uint8_t out[REPLICA_HASH_BYTES])
{
	store_txn *txn;
	int rc = store_txn_begin(rp->st, false, &txn);
	if (rc != 0)
		return rc;
	struct lifecycle_ctx l;
	memset(l.hash, 0, sizeof l.hash);
	sl_buf_init(&l.row, 1u << 20); /* one row: keys and values are small fixed structs */
	rc = store_scan_lifecycle(txn, lifecycle_visit, &l);
	store_txn_abort(txn);
	sl_buf_free(&l.row);
	memcpy(out, l.hash, REPLICA_HASH_BYTES);
	return rc;
}
