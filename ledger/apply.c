/* ledger/apply.c — the batch pipeline (see apply.h): decode, verify on all cores, then one write
 * transaction that runs the envelope checks and the lifecycle rules record by record and appends
 * one ledger entry per record.
 *
 * Pipeline:
 *   1. decode every input; encode its unsigned bytes (the verify message) and its record id;
 *   2. read txn: look up each record's key; crypto_verify_batch over all of them, BEFORE the
 *      write txn (apply.h rule 1);
 *   3. write txn, in record order: envelope checks (MALFORMED_RECORD or INVALID_IDENTIFIER,
 *      UNKNOWN_KEY, SITE_MISMATCH, UNKNOWN_SITE, BAD_SIGNATURE, DUPLICATE_RECORD — in that
 *      order), then the item ids (INVALID_IDENTIFIER), supersedes (UNKNOWN_RECORD), the type's
 *      rule; append the entry and its Merkle leaf (store/merkle_store.h); index.
 *
 * Decisions (docs/lifecycle.md "Audit trail"):
 *  1. The ids table holds every AUTHENTIC record (signature verified with a registered key of its
 *     site), accepted or rejected: a retry of a rejected record is DUPLICATE_RECORD, so a client
 *     must fix and re-sign (new nonce, new id), and deviations can cite refused records.
 *     Unauthenticated records never enter the ids table: the id does not cover the signature, so
 *     a forged copy with a bad signature could otherwise block the genuine record forever.
 *  2. History: accepted records go to every item they change (contents included); rejected
 *     authentic records go to the items they name, so a serial's trail shows what was refused;
 *     unauthenticated and duplicate records go to no item's history (anyone could write them).
 *  3. Keys are looked up twice: in the read txn to build the verify jobs and again in the write
 *     txn, which is authoritative; if the key changed in between, that record is verified again
 *     synchronously, so the outcome depends only on the state the write txn sees. Each txn reads
 *     a registry row once per batch (struct apply_registry_cache); the one rule that writes the
 *     registry (rules_registry.c) is followed by dropping the cache, so the next record reads the
 *     registry as that record left it (a revoked key is refused from the next record on).
 *  4. Inputs longer than RECORD_BYTES_MAX cannot be stored in an entry (ENTRY_BYTES_MAX): they are
 *     appended as MALFORMED_RECORD with empty record bytes.
 */
#include "ledger/apply.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/apply_internal.h"
#include "ledger/entry.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "store/merkle_store.h"
#include "util/error.h"

/* Bytes of the unsigned encoding of one record, with room (the signature field is removed). */
#define APPLY_MESSAGE_BYTES_MAX RECORD_BYTES_MAX

struct apply_slot {
	struct record record;
	bool decoded;
	int decode_rc;
	uint8_t id[RECORD_ID_BYTES];
	size_t message_at; /* unsigned encoding in batch.messages */
	size_t message_len;
	bool verified; /* a verify job ran with verify_pk */
	struct crypto_public_key verify_pk;
	int verify_rc;
};

/* Registry rows the write pass read last. Only accepted registry records write the keys or sites
 * tables, and the cache is dropped after each, so a row read once stays what the write txn would
 * read again (decision 3 holds). */
struct apply_registry_cache {
	bool key_known;
	uint8_t key_id[16];
	int key_rc; /* 0 or SL_ENOENT */
	struct store_key key;
	bool site_known;
	char site_id[STORE_SITE_SIZE];
	int site_rc; /* 0 or SL_ENOENT */
	struct store_site site;
};

struct apply_batch {
	struct apply_registry_cache registry;
	const struct ledger_input *inputs;
	size_t count;
	uint64_t ledger_time_ms;
	struct apply_slot *slots;
	struct sl_buf messages;
	struct sl_buf entry;
	struct apply_ctx ctx; /* per record; its arrays are allocated once per batch */
	crypto_verify_cache *known; /* signatures verified before (D15); NULL = none */
};

static bool decode_error_is_identifier(int rc)
{
	return rc == SL_ECHECKDIGIT || rc == SL_ESYNTAX || rc == SL_ECHARSET || rc == SL_ELENGTH ||
	       rc == SL_EDATE || rc == SL_EPREFIX;
}

static int batch_alloc(struct apply_batch *b)
{
	b->slots = calloc(b->count, sizeof b->slots[0]);
	b->ctx.names = calloc(RECORD_ITEMS_MAX, sizeof b->ctx.names[0]);
	b->ctx.first = calloc(RECORD_ITEMS_MAX, sizeof b->ctx.first[0]);
	b->ctx.sorted = calloc(RECORD_ITEMS_MAX, sizeof b->ctx.sorted[0]);
	sl_buf_init(&b->messages, b->count * (size_t)APPLY_MESSAGE_BYTES_MAX);
	sl_buf_init(&b->entry, ENTRY_BYTES_MAX);
	if (b->slots == NULL || b->ctx.names == NULL || b->ctx.first == NULL || b->ctx.sorted == NULL)
		return SL_ENOMEM;
	return 0;
}

static void batch_free(struct apply_batch *b)
{
	for (size_t i = 0; b->slots != NULL && i < b->count; i++)
		if (b->slots[i].decoded)
			record_clear(&b->slots[i].record);
	free(b->slots);
	free(b->ctx.names);
	free(b->ctx.first);
	free(b->ctx.sorted);
	sl_buf_free(&b->messages);
	sl_buf_free(&b->entry);
}

/* Step 1 for one input. Only resource errors are returned: bad input is an outcome. */
static int slot_decode(struct apply_batch *b, size_t i)
{
	struct apply_slot *slot = &b->slots[i];
	const struct ledger_input *input = &b->inputs[i];
	int rc = record_decode(input->bytes, input->len, &slot->record, NULL);
	if (rc == SL_ENOMEM)
		return rc;
	if (rc != 0) {
		slot->decode_rc = rc;
		return 0;
	}
	slot->decoded = true;
	slot->message_at = b->messages.len;
	if (slot->record.type == RECORD_REGISTRY) /* cosignatures inside the body: re-encode */
		rc = record_encode_unsigned(&slot->record, &b->messages);
	else
		rc = record_unsigned_from_bytes(input->bytes, input->len, &b->messages); /* decoded: canonical */
	if (rc == SL_ENOMEM)
		return rc;
	if (rc != 0) { /* no canonical signature tail (a decoded record always has one): undecodable */
		record_clear(&slot->record);
		slot->decoded = false;
		slot->decode_rc = rc;
		return 0;
	}
	slot->message_len = b->messages.len - slot->message_at;
	crypto_sha256_2((const uint8_t *)RECORD_SIGN_DOMAIN, sizeof RECORD_SIGN_DOMAIN,
			b->messages.data + slot->message_at, slot->message_len, slot->id);
	return 0;
}

/* store_key_get through the batch's registry cache. */
static int registry_key_get(struct apply_batch *b, store_txn *txn, const uint8_t key_id[16], struct store_key *out)
{
	struct apply_registry_cache *c = &b->registry;
	if (!c->key_known || memcmp(c->key_id, key_id, sizeof c->key_id) != 0) {
		struct store_key key = { 0 };
		int rc = store_key_get(txn, key_id, &key);
		if (rc != 0 && rc != SL_ENOENT)
			return rc; /* errors are not remembered */
		c->key = key;
		c->key_known = true;
		c->key_rc = rc;
		memcpy(c->key_id, key_id, sizeof c->key_id);
	}
	if (c->key_rc == 0)
		*out = c->key;
	return c->key_rc;
}

/* store_site_get through the batch's registry cache. */
static int registry_site_get(struct apply_batch *b, store_txn *txn, const char *site_id, struct store_site *out)
{
	struct apply_registry_cache *c = &b->registry;
	if (!c->site_known || strcmp(c->site_id, site_id) != 0) {
		struct store_site site = { 0 };
		int rc = store_site_get(txn, site_id, &site);
		if (rc != 0 && rc != SL_ENOENT)
			return rc;
		c->site = site;
		c->site_known = true;
		c->site_rc = rc;
		memcpy(c->site_id, site_id, sizeof c->site_id);
	}
	if (c->site_rc == 0)
		*out = c->site;
	return c->site_rc;
}

/* Jobs the known cache holds succeeded before (crypto/verify_cache.h): done. The others move to
 * the front; returns how many are left to verify. */
static size_t jobs_skip_known(struct apply_batch *b, struct crypto_verify_job *jobs, size_t *job_slots, size_t count)
{
	size_t left = 0;
	for (size_t j = 0; j < count; j++) {
		if (b->known != NULL && crypto_verify_cache_take(b->known, &jobs[j])) {
			b->slots[job_slots[j]].verify_rc = 0;
			continue;
		}
		jobs[left] = jobs[j];
		job_slots[left++] = job_slots[j];
	}
	return left;
}

/* Step 2: keys through `txn` (a read txn, or the caller's write txn before its first write of
 * this batch), then all signatures at once. */
static int batch_verify(store_txn *txn, struct apply_batch *b, unsigned threads)
{
	struct crypto_verify_job *jobs = calloc(b->count, sizeof *jobs);
	int *job_results = calloc(b->count, sizeof *job_results);
	size_t *job_slots = calloc(b->count, sizeof *job_slots);
	size_t job_count = 0;
	int rc = (jobs && job_results && job_slots) ? 0 : SL_ENOMEM;

	memset(&b->registry, 0, sizeof b->registry); /* one snapshot: a key read once stays true */
	for (size_t i = 0; rc == 0 && i < b->count; i++) {
		struct apply_slot *slot = &b->slots[i];
		struct store_key key;
		if (!slot->decoded)
			continue;
		rc = registry_key_get(b, txn, slot->record.key_id.bytes, &key);
		if (rc == SL_ENOENT || (rc == 0 && key.revoked)) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		memcpy(slot->verify_pk.bytes, key.public_key, sizeof slot->verify_pk.bytes);
		slot->verified = true;
		job_slots[job_count++] = i;
	}
	/* Pointers into b->messages are taken only now: the buffer no longer grows. */
	for (size_t j = 0; rc == 0 && j < job_count; j++) {
		struct apply_slot *slot = &b->slots[job_slots[j]];
		jobs[j] = (struct crypto_verify_job){ &slot->verify_pk, RECORD_SIGN_DOMAIN,
						      b->messages.data + slot->message_at, slot->message_len,
						      slot->record.signature };
	}
	if (rc == 0)
		job_count = jobs_skip_known(b, jobs, job_slots, job_count);
	if (rc == 0 && job_count > 0)
		rc = crypto_verify_batch(jobs, job_count, job_results, threads);
	for (size_t j = 0; rc == 0 && j < job_count; j++)
		b->slots[job_slots[j]].verify_rc = job_results[j];
	free(jobs);
	free(job_results);
	free(job_slots);
	return rc;
}

/* Envelope checks in the write txn (see the top of the file): an outcome (> 0), 0 when the record
 * is authentic and new (its id is then indexed with `seq`), or an error (< 0). */
static int check_envelope(struct apply_batch *b, struct apply_slot *slot, store_txn *txn, uint64_t seq)
{
	const struct record *r = &slot->record;
	struct store_key key;
	struct store_site site;
	char site_id[STORE_SITE_SIZE];

	if (!slot->decoded)
		return decode_error_is_identifier(slot->decode_rc) ? OUTCOME_INVALID_IDENTIFIER : OUTCOME_MALFORMED_RECORD;
	int rc = registry_key_get(b, txn, r->key_id.bytes, &key);
	if (rc == SL_ENOENT || (rc == 0 && key.revoked))
		return OUTCOME_UNKNOWN_KEY;
	if (rc != 0)
		return rc;
	if (!apply_str_copy(r->site, site_id, sizeof site_id) || strncmp(key.site, site_id, sizeof key.site) != 0)
		return OUTCOME_SITE_MISMATCH;
	rc = registry_site_get(b, txn, site_id, &site);
	if (rc == SL_ENOENT || (rc == 0 && !site.active))
		return OUTCOME_UNKNOWN_SITE;
	if (rc != 0)
		return rc;

	rc = slot->verify_rc;
	if (!slot->verified || memcmp(slot->verify_pk.bytes, key.public_key, sizeof key.public_key) != 0) {
		struct crypto_public_key pk; /* the registry changed since step 2 (decision 3) */
		memcpy(pk.bytes, key.public_key, sizeof pk.bytes);
		rc = crypto_verify(&pk, RECORD_SIGN_DOMAIN, b->messages.data + slot->message_at, slot->message_len,
				   r->signature);
	}
	if (rc == SL_EBADSIG)
		return OUTCOME_BAD_SIGNATURE;
	if (rc != 0)
		return rc;

	/* Decision 1: an authentic new record's id is indexed whatever the rules decide, so it is put
	 * now; the put (MDB_NOOVERWRITE) is also the duplicate check, one lookup instead of two.
	 * Nothing in between reads it back: a record cannot name its own id (a SHA-256 of its bytes). */
	rc = store_id_put(txn, slot->id, seq);
	return rc == SL_EEXIST ? OUTCOME_DUPLICATE_RECORD : rc;
}

static int name_compare(const void *a, const void *b)
{
	const struct apply_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Index the names for duplicate detection (first[]) and lookups (sorted[]). */
static void names_index(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->name_count; i++)
		ctx->sorted[i] = (struct apply_name){ ctx->names[i], (uint32_t)i };
	qsort(ctx->sorted, ctx->name_count, sizeof ctx->sorted[0], name_compare);
	uint32_t leader = 0;
	for (size_t k = 0; k < ctx->name_count; k++) {
		if (k == 0 || strcmp(ctx->sorted[k].name, ctx->sorted[k - 1].name) != 0)
			leader = ctx->sorted[k].index; /* the smallest index of its group */
		ctx->first[ctx->sorted[k].index] = leader;
	}
}

static int name_from_item_id(struct sl_str text, char out[STORE_ITEM_ID_SIZE])
{
	if (!apply_str_copy(text, out, STORE_ITEM_ID_SIZE) || gs1_item_id_parse(out, text.len, NULL, NULL) != 0)
		return OUTCOME_INVALID_IDENTIFIER;
	return 0;
}

/* Commission: "(01)" GTIN "(21)" serial (gs1.h item id). */
static int name_from_serial(const char *gtin, struct sl_str serial, char out[STORE_ITEM_ID_SIZE])
{
	if (serial.len == 0 || serial.len > GS1_SERIAL_CHARS_MAX ||
	    gs1_cset82_validate(serial.ptr, serial.len, GS1_SERIAL_CHARS_MAX, NULL) != 0)
		return OUTCOME_INVALID_IDENTIFIER;
	memcpy(out, "(01)", 4);
	memcpy(out + 4, gtin, GS1_GTIN_DIGITS);
	memcpy(out + 4 + GS1_GTIN_DIGITS, "(21)", 4);
	memcpy(out + 8 + GS1_GTIN_DIGITS, serial.ptr, serial.len);
	out[8 + GS1_GTIN_DIGITS + serial.len] = '\0';
	return 0;
}

/* Build ctx->names (and ctx->parent) from the record; the decoder has checked the syntax, this
 * re-checks what the rules rely on. */
static int names_prepare(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	char gtin[GS1_GTIN_DIGITS + 1], normal[GS1_GTIN_DIGITS + 1];
	if (r->type == RECORD_LOCK || r->type == RECORD_UNLOCK || r->type == RECORD_DEVIATION)
		return 0;
	if (r->item_count > RECORD_ITEMS_MAX)
		return apply_verdict(ctx, OUTCOME_MALFORMED_RECORD, -1);
	if (r->type == RECORD_COMMISSION &&
	    (!apply_str_copy(r->gtin, gtin, sizeof gtin) || strlen(gtin) != GS1_GTIN_DIGITS ||
	     gs1_gtin_normalize(gtin, normal, NULL) != 0 || strcmp(gtin, normal) != 0))
		return apply_verdict(ctx, OUTCOME_INVALID_IDENTIFIER, -1);
	if ((r->type == RECORD_AGGREGATE || r->type == RECORD_DISAGGREGATE) &&
	    name_from_item_id(r->parent, ctx->parent) != 0)
		return apply_verdict(ctx, OUTCOME_INVALID_IDENTIFIER, -1);
	for (size_t i = 0; i < r->item_count; i++) {
		int rc = r->type == RECORD_COMMISSION ? name_from_serial(gtin, r->items[i], ctx->names[i])
						      : name_from_item_id(r->items[i], ctx->names[i]);
		if (rc != 0)
			return apply_verdict(ctx, rc, (int32_t)i);
	}
	ctx->name_count = r->item_count;
	names_index(ctx);
	return 0;
}

static int rules_dispatch(struct apply_ctx *ctx)
{
	switch (ctx->record->type) {
	case RECORD_COMMISSION:
		return rules_commission(ctx);
	case RECORD_COMMISSION_CONTAINER:
		return rules_commission_container(ctx);
	case RECORD_AGGREGATE:
		return rules_aggregate(ctx);
	case RECORD_DISAGGREGATE:
		return rules_disaggregate(ctx);
	case RECORD_SHIP:
		return rules_ship(ctx);
	case RECORD_RECEIVE:
		return rules_receive(ctx);
	case RECORD_DECOMMISSION:
		return rules_decommission(ctx);
	case RECORD_REVERT:
		return rules_revert(ctx);
	case RECORD_LOCK:
		return rules_lock(ctx);
	case RECORD_UNLOCK:
		return rules_unlock(ctx);
	case RECORD_DEVIATION:
		return rules_deviation(ctx);
	case RECORD_CHECKPOINT:
		return rules_checkpoint(ctx);
	case RECORD_REGISTRY:
		return rules_registry(ctx);
	default:
		return apply_verdict(ctx, OUTCOME_MALFORMED_RECORD, -1); /* the decoder refuses it first */
	}
}

/* Supersedes, names, the type's rule, and counters of an authentic new record. */
static int run_rules(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	int rc = names_prepare(ctx); /* first, so a refused record still reaches its items' history */
	if (rc != 0 || apply_rejected(ctx))
		return rc;
	if (r->has_supersedes) {
		uint64_t seq;
		rc = store_id_get(ctx->txn, r->supersedes, &seq);
		if (rc == SL_ENOENT)
			return apply_verdict(ctx, OUTCOME_UNKNOWN_RECORD, -1);
		if (rc != 0)
			return rc;
	}
	rc = rules_dispatch(ctx);
	if (rc != 0)
		return rc;
	assert(!apply_rejected(ctx) || ctx->delta_count == 0); /* rejections write nothing */
	return apply_counters_flush(ctx);
}

/* Decision 2: a rejected authentic record joins the history of the items it names. */
static int history_of_rejected(struct apply_ctx *ctx)
{
	const struct record *r = ctx->record;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ctx->name_count; i++)
		if (ctx->first[i] == i)
			rc = apply_history_add(ctx, ctx->names[i]);
	if (rc == 0 && ctx->parent[0] != '\0' && apply_name_find(ctx, ctx->parent) < 0)
		rc = apply_history_add(ctx, ctx->parent);
	if (rc == 0 && (r->type == RECORD_LOCK || r->type == RECORD_UNLOCK) && r->lock_scope == LOCK_SCOPE_SERIAL) {
		char target[STORE_ITEM_ID_SIZE];
		if (apply_str_copy(r->lock_target, target, sizeof target) &&
		    gs1_item_id_parse(target, strlen(target), NULL, NULL) == 0)
			rc = apply_history_add(ctx, target);
	}
	return rc;
}

static void ctx_reset(struct apply_ctx *ctx, store_txn *txn, const struct record *r, uint64_t seq,
		      uint64_t ledger_time_ms)
{
	ctx->txn = txn;
	ctx->record = r;
	ctx->seq = seq;
	ctx->ledger_time_ms = ledger_time_ms;
	memset(ctx->site, 0, sizeof ctx->site);
	memset(ctx->parent, 0, sizeof ctx->parent);
	if (r != NULL)
		(void)apply_str_copy(r->site, ctx->site, sizeof ctx->site); /* checked by check_envelope */
	ctx->name_count = 0;
	ctx->reach = 0;
	ctx->delta_count = 0;
	ctx->outcome = OUTCOME_ACCEPTED;
	ctx->item = -1;
}

static int append_entry(struct apply_batch *b, store_txn *txn, size_t i, const struct apply_ctx *ctx)
{
	const struct ledger_input *input = &b->inputs[i];
	struct ledger_entry entry = {
		.seq = ctx->seq,
		.ledger_time_ms = b->ledger_time_ms,
		.outcome = (uint32_t)ctx->outcome,
		.record = input->len <= RECORD_BYTES_MAX ? input->bytes : NULL, /* decision 4 */
		.record_len = input->len <= RECORD_BYTES_MAX ? input->len : 0,
		.has_item = ctx->item >= 0,
		.item = ctx->item >= 0 ? (uint32_t)ctx->item : 0,
	};
	sl_buf_reset(&b->entry);
	int rc = entry_encode(&entry, &b->entry);
	uint64_t seq = 0;
	if (rc == 0)
		rc = store_ledger_append(txn, b->entry.data, b->entry.len, &seq);
	if (rc == 0 && seq != ctx->seq)
		rc = SL_ECORRUPT; /* the ledger grew under the single writer */
	if (rc == 0) { /* leaf seq - 1 of the RFC 9162 tree, same transaction (merkle_store.h rule 1) */
		uint8_t leaf[MERKLE_HASH_BYTES];
		merkle_leaf_hash(b->entry.data, b->entry.len, leaf);
		rc = store_merkle_append(txn, seq - 1, leaf);
	}
	return rc;
}

/* Step 3 for one record. */
static int apply_one(struct apply_batch *b, store_txn *txn, size_t i, uint64_t seq, struct ledger_result *result)
{
	struct apply_slot *slot = &b->slots[i];
	struct apply_ctx *ctx = &b->ctx;
	ctx_reset(ctx, txn, slot->decoded ? &slot->record : NULL, seq, b->ledger_time_ms);

	int rc = apply_verdict(ctx, check_envelope(b, slot, txn, seq), -1);
	bool fresh = rc == 0 && !apply_rejected(ctx); /* authentic and new: the rules decide */
	if (fresh)
		rc = run_rules(ctx);
	if (rc == 0 && fresh && !apply_rejected(ctx) && slot->record.type == RECORD_REGISTRY)
		memset(&b->registry, 0, sizeof b->registry); /* it changed the registry: decision 3 */
	if (rc == 0)
		rc = append_entry(b, txn, i, ctx);
	if (rc == 0 && fresh && apply_rejected(ctx))
		rc = history_of_rejected(ctx);
	if (rc != 0)
		return rc;
	result->seq = seq;
	result->outcome = ctx->outcome;
	result->item = ctx->item;
	if (slot->decoded)
		memcpy(result->record_id, slot->id, RECORD_ID_BYTES);
	else
		memset(result->record_id, 0, RECORD_ID_BYTES);
	return 0;
}

static int inputs_check(const struct ledger_input *inputs, size_t count)
{
	if (count > 0 && inputs == NULL)
		return SL_EINVAL;
	if (count > APPLY_BATCH_RECORDS_MAX)
		return SL_ELIMIT;
	for (size_t i = 0; i < count; i++)
		if (inputs[i].bytes == NULL && inputs[i].len > 0)
			return SL_EINVAL;
	return 0;
}

/* Step 3: every record in order, in `txn`. */
static int batch_write(store_txn *txn, struct apply_batch *b, struct ledger_result *results)
{
	uint64_t count = 0;
	memset(&b->registry, 0, sizeof b->registry); /* read again in this txn: decision 3 */
	int rc = store_ledger_count(txn, &count);
	for (size_t i = 0; rc == 0 && i < b->count; i++)
		rc = apply_one(b, txn, i, count + 1 + i, &results[i]);
	return rc;
}

static int arguments_check(const struct ledger_input *inputs, size_t count, const struct ledger_result *results)
{
	if (count > 0 && results == NULL)
		return SL_EINVAL;
	return inputs_check(inputs, count);
}

/* Step 1, and the batch's memory. */
static int batch_prepare(struct apply_batch *b, const struct ledger_input *inputs, size_t count,
			 uint64_t ledger_time_ms)
{
	memset(b, 0, sizeof *b);
	b->inputs = inputs;
	b->count = count;
	b->ledger_time_ms = ledger_time_ms;
	int rc = batch_alloc(b);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = slot_decode(b, i);
	return rc;
}

struct ledger_prepared {
	struct apply_batch batch;
};

int ledger_prepare(store *st, const struct ledger_input *inputs, size_t count, unsigned threads,
		   ledger_prepared **out)
{
	*out = NULL;
	int rc = st == NULL ? SL_EINVAL : inputs_check(inputs, count);
	if (rc != 0)
		return rc;
	ledger_prepared *p = calloc(1, sizeof *p);
	if (p == NULL)
		return SL_ENOMEM;
	store_txn *txn = NULL;
	rc = batch_prepare(&p->batch, inputs, count, 0);
	if (rc == 0 && count > 0)
		rc = store_txn_begin(st, false, &txn);
	if (rc == 0 && count > 0) {
		rc = batch_verify(txn, &p->batch, threads); /* no writer held: rule 1 */
		store_txn_abort(txn);
	}
	if (rc != 0) {
		ledger_prepared_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void ledger_prepared_free(ledger_prepared *p)
{
	if (p == NULL)
		return;
	batch_free(&p->batch);
	free(p);
}

void ledger_prepared_remember(const ledger_prepared *p, crypto_verify_cache *known)
{
	assert(p != NULL && known != NULL);
	const struct apply_batch *b = &p->batch;
	for (size_t i = 0; i < b->count; i++) {
		const struct apply_slot *slot = &b->slots[i];
		if (!slot->decoded || !slot->verified || slot->verify_rc != 0)
			continue;
		struct crypto_verify_job job = { &slot->verify_pk, RECORD_SIGN_DOMAIN,
						 b->messages.data + slot->message_at, slot->message_len,
						 slot->record.signature };
		crypto_verify_cache_add(known, &job);
	}
}

int ledger_prepared_check(const ledger_prepared *p, size_t i, const struct record **record_out)
{
	assert(p != NULL && record_out != NULL);
	assert(i < p->batch.count);
	const struct apply_slot *slot = &p->batch.slots[i];
	*record_out = NULL;
	if (!slot->decoded)
		return slot->decode_rc;
	*record_out = &slot->record;
	if (!slot->verified)
		return SL_ENOENT; /* unknown or revoked key when prepared: no job ran */
	return slot->verify_rc;
}

int ledger_apply_prepared_txn(store_txn *txn, ledger_prepared *p, uint64_t ledger_time_ms,
			      struct ledger_result *results)
{
	if (txn == NULL || p == NULL || (p->batch.count > 0 && results == NULL))
		return SL_EINVAL;
	p->batch.ledger_time_ms = ledger_time_ms;
	return batch_write(txn, &p->batch, results); /* check_envelope re-reads keys: decision 3 */
}

int ledger_apply_prepared(store *st, ledger_prepared *p, uint64_t ledger_time_ms, struct ledger_result *results)
{
	if (st == NULL || p == NULL)
		return SL_EINVAL;
	if (p->batch.count == 0)
		return 0;
	store_txn *txn = NULL;
	int rc = store_txn_begin(st, true, &txn);
	if (rc != 0)
		return rc;
	rc = ledger_apply_prepared_txn(txn, p, ledger_time_ms, results);
	if (rc == 0)
		rc = store_txn_commit(txn);
	else
		store_txn_abort(txn);
	return rc;
}

int ledger_apply_batch(store *st, const struct ledger_input *inputs, size_t count, uint64_t ledger_time_ms,
		       struct ledger_result *results, unsigned threads)
{
	int rc = st == NULL ? SL_EINVAL : arguments_check(inputs, count, results);
	if (rc != 0 || count == 0)
		return rc;
	ledger_prepared *p = NULL;
	rc = ledger_prepare(st, inputs, count, threads, &p);
	if (rc == 0)
		rc = ledger_apply_prepared(st, p, ledger_time_ms, results);
	ledger_prepared_free(p);
	return rc;
}

int ledger_apply_batch_txn(store_txn *txn, const struct ledger_input *inputs, size_t count,
			   uint64_t ledger_time_ms, struct ledger_result *results, unsigned threads)
{
	return ledger_apply_batch_txn_known(txn, inputs, count, ledger_time_ms, results, threads, NULL);
}

int ledger_apply_batch_txn_known(store_txn *txn, const struct ledger_input *inputs, size_t count,
				 uint64_t ledger_time_ms, struct ledger_result *results, unsigned threads,
				 crypto_verify_cache *known)
{
	int rc = txn == NULL ? SL_EINVAL : arguments_check(inputs, count, results);
	if (rc != 0 || count == 0)
		return rc;
	struct apply_batch b;
	rc = batch_prepare(&b, inputs, count, ledger_time_ms);
	b.known = known;
	if (rc == 0)
		rc = batch_verify(txn, &b, threads);
	if (rc == 0)
		rc = batch_write(txn, &b, results);
	batch_free(&b);
	return rc;
}
