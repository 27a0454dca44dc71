/* consensus/log.c — the in-memory Raft log (see internal.h).
 *
 * The log holds every entry after the compaction point (snap.index) in memory; the application
 * bounds it by calling raft_compact() once entries are applied (RAFT_LOG_* are hard ceilings).
 * Durability is tracked by `stable`: entries above it go out in the next Ready.
 *
 * Invariants:
 *  1. ents[start+i].index == snap.index + 1 + i; terms never decrease along the log (§3.5).
 *  2. snap.index <= applied <= applying <= committed <= last index (internal.h I1).
 *  3. Truncation never crosses committed (§3.5, Log Matching + Leader Completeness).
 *  4. Entry data is a refcounted block; the log holds one reference per entry.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus/internal.h"

struct data_block {
	uint32_t refs;
	uint32_t unused;
	uint8_t bytes[];
};

static struct data_block *data_block_of(const uint8_t *bytes)
{
	uintptr_t address = (uintptr_t)bytes - offsetof(struct data_block, bytes);
	return (struct data_block *)address;
}

const uint8_t *data_new(const void *src, size_t len, bool *ok)
{
	*ok = true;
	if (len == 0)
		return NULL;
	struct data_block *block = malloc(sizeof *block + len);
	if (block == NULL) {
		*ok = false;
		return NULL;
	}
	block->refs = 1;
	block->unused = 0;
	memcpy(block->bytes, src, len);
	return block->bytes;
}

void data_ref(const uint8_t *bytes)
{
	if (bytes == NULL)
		return;
	struct data_block *block = data_block_of(bytes);
	assert(block->refs > 0 && block->refs < UINT32_MAX);
	block->refs++;
}

void data_unref(const uint8_t *bytes)
{
	if (bytes == NULL)
		return;
	struct data_block *block = data_block_of(bytes);
	assert(block->refs > 0);
	if (--block->refs == 0)
		free(block);
}

void log_init(struct raft_log *log, const struct raft_snapshot_meta *snap)
{
	memset(log, 0, sizeof *log);
	if (snap != NULL)
		log->snap = *snap;
	log->stable = log->snap.index;
	log->committed = log->snap.index;
	log->applying = log->snap.index;
	log->applied = log->snap.index;
}

static void log_drop_from(struct raft_log *log, size_t keep)
{ /* release entries at positions >= keep */
	for (size_t i = keep; i < log->count; i++) {
		struct raft_entry *e = &log->ents[log->start + i];
		log->bytes -= e->len;
		data_unref(e->data);
	}
	if (keep < log->count)
		log->count = keep;
}

void log_free(struct raft_log *log)
{
	log_drop_from(log, 0);
	free(log->ents);
	log->ents = NULL;
	log->cap = 0;
}

uint64_t log_first_index(const struct raft_log *log)
{
	return log->snap.index + 1;
}

uint64_t log_last_index(const struct raft_log *log)
{
	return log->snap.index + log->count;
}

uint64_t log_last_term(const struct raft_log *log)
{
	if (log->count == 0)
		return log->snap.term;
	return log->ents[log->start + log->count - 1].term;
}

const struct raft_entry *log_entry(const struct raft_log *log, uint64_t index)
{
	if (index <= log->snap.index || index > log_last_index(log))
		return NULL;
	return &log->ents[log->start + (size_t)(index - log->snap.index - 1)];
}

int log_term(const struct raft_log *log, uint64_t index, uint64_t *term_out)
{
	*term_out = 0;
	if (index < log->snap.index)
		return RAFT_ECOMPACTED;
	if (index > log_last_index(log))
		return RAFT_EUNAVAILABLE;
	if (index == log->snap.index) {
		*term_out = log->snap.term;
		return 0;
	}
	*term_out = log_entry(log, index)->term;
	return 0;
}

bool log_match_term(const struct raft_log *log, uint64_t index, uint64_t term)
{
	uint64_t t;
	return log_term(log, index, &t) == 0 && t == term;
}

bool log_is_up_to_date(const struct raft_log *log, uint64_t last_index, uint64_t last_term)
{
	/* §3.6.1: compare last terms first, then lengths. */
	uint64_t our_term = log_last_term(log);
	return last_term > our_term || (last_term == our_term && last_index >= log_last_index(log));
}

uint64_t log_find_conflict(const struct raft_log *log, const struct raft_entry *ents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!log_match_term(log, ents[i].index, ents[i].term))
			return ents[i].index;
	}
	return 0;
}

uint64_t log_find_conflict_by_term(const struct raft_log *log, uint64_t index, uint64_t term, uint64_t *term_out)
{
	/* Fast backtracking: skip every entry whose term is above the other side's term at that
	 * point; those cannot match (Log Matching, §3.5). Bounded by the in-memory log. */
	if (index > log_last_index(log))
		index = log_last_index(log);
	for (;;) {
		uint64_t t;
		if (log_term(log, index, &t) != 0) {
			*term_out = 0;
			return index;
		}
		if (t <= term || index == 0) {
			*term_out = t;
			return index;
		}
		index--;
	}
}

static int log_reserve(struct raft_log *log, size_t more)
{
	if (log->start + log->count + more <= log->cap)
		return 0;
	if (log->start > 0) { /* reclaim the compacted prefix before growing */
		memmove(log->ents, log->ents + log->start, log->count * sizeof *log->ents);
		log->start = 0;
		if (log->count + more <= log->cap)
			return 0;
	}
	size_t cap = log->cap ? log->cap : 64;
	while (cap < log->count + more)
		cap *= 2;
	struct raft_entry *ents = realloc(log->ents, cap * sizeof *ents);
	if (ents == NULL)
		return RAFT_ENOMEM;
	log->ents = ents;
	log->cap = cap;
	return 0;
}

int log_append(struct raft_log *log, const struct raft_entry *ents, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t first = ents[0].index;
	assert(first > log->committed);
	assert(first > log->snap.index && first <= log_last_index(log) + 1);
	size_t keep = (size_t)(first - log->snap.index - 1);
	size_t kept_bytes = log->bytes;
	for (size_t i = keep; i < log->count; i++)
		kept_bytes -= log->ents[log->start + i].len;
	size_t add_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (ents[i].len > RAFT_LOG_BYTES_MAX - add_bytes)
			return RAFT_ELIMIT;
		add_bytes += ents[i].len;
	}
	if (keep + n > RAFT_LOG_ENTRIES_MAX || add_bytes > RAFT_LOG_BYTES_MAX - kept_bytes)
		return RAFT_ELIMIT;
	int rc = log_reserve(log, n);
	if (rc != 0)
		return rc;
	/* copy data first so that a failed allocation leaves the log unchanged */
	const uint8_t **copies = calloc(n, sizeof *copies);
	if (copies == NULL)
		return RAFT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool ok;
		copies[i] = data_new(ents[i].data, ents[i].len, &ok);
		if (!ok) {
			for (size_t j = 0; j < i; j++)
				data_unref(copies[j]);
			free(copies);
			return RAFT_ENOMEM;
		}
	}
	log_drop_from(log, keep); /* truncation on conflict (§3.5) */
	if (log->stable >= first)
		log->stable = first - 1;
	for (size_t i = 0; i < n; i++) {
		struct raft_entry *e = &log->ents[log->start + log->count];
		*e = ents[i];
		e->data = copies[i];
		log->count++;
		log->bytes += e->len;
	}
	free(copies);
	return 0;
}

int log_append_owned(struct raft_log *log, uint64_t term, uint8_t type, const uint8_t *data, size_t len)
{
	assert(term >= log_last_term(log));
	if (log->count + 1 > RAFT_LOG_ENTRIES_MAX || len > RAFT_LOG_BYTES_MAX - log->bytes)
		return RAFT_ELIMIT;
	int rc = log_reserve(log, 1);
	if (rc != 0)
		return rc;
	struct raft_entry *e = &log->ents[log->start + log->count];
	e->term = term;
	e->index = log_last_index(log) + 1;
	e->type = type;
	e->data = data;
	e->len = len;
	log->count++;
	log->bytes += len;
	return 0;
}

size_t log_slice_count(const struct raft_log *log, uint64_t lo, size_t max_bytes, size_t max_count,
		       size_t *bytes_out)
{
	size_t n = 0;
	size_t bytes = 0;
	for (uint64_t i = lo; i <= log_last_index(log) && n < max_count; i++) {
		const struct raft_entry *e = log_entry(log, i);
		if (e == NULL)
			break;
		if (n > 0 && e->len > max_bytes - bytes)
			break; /* the first entry always goes, even when larger than max_bytes */
		bytes += e->len;
		n++;
		if (bytes >= max_bytes)
			break;
	}
	*bytes_out = bytes;
	return n;
}

void log_commit_to(struct raft_log *log, uint64_t index)
{
	/* Commitment never goes backwards (§3.6.2); callers clamp to what they know matches. */
	if (index <= log->committed)
		return;
	assert(index <= log_last_index(log));
	log->committed = index;
}

void log_stable_to(struct raft_log *log, uint64_t index, uint64_t term)
{
	/* Ignore an acknowledgement for entries that were replaced while being persisted. */
	if (index <= log->stable || !log_match_term(log, index, term))
		return;
	log->stable = index;
}

void log_restore(struct raft_log *log, const struct raft_snapshot_meta *snap)
{
	log_drop_from(log, 0);
	log->start = 0;
	log->snap = *snap;
	log->snap_unstable = true;
	log->stable = snap->index;
	log->committed = snap->index;
	/* applied catches up when the Ready carrying the snapshot is advanced */
	if (log->applying < snap->index)
		log->applying = snap->index;
}

void log_compact(struct raft_log *log, uint64_t index, const struct raft_conf_state *conf)
{
	assert(index > log->snap.index && index <= log->applied && index <= log->stable);
	uint64_t term = log_entry(log, index)->term;
	size_t drop = (size_t)(index - log->snap.index);
	for (size_t i = 0; i < drop; i++) {
		struct raft_entry *e = &log->ents[log->start + i];
		log->bytes -= e->len;
		data_unref(e->data);
	}
	log->start += drop;
	log->count -= drop;
	log->snap.index = index;
	log->snap.term = term;
	log->snap.conf = *conf;
}
