/* tests/unit/apply_fixture.h — fixture for the apply tests: a temporary store with sites A, B and
 * C registered (generated keys), an unregistered key, a revoked key, a key whose site is not
 * registered; and helpers to build, sign, apply and inspect records.
 *
 * Records are described by a struct spec (designated initializers keep the tables readable);
 * items are one space-separated string. Scenarios are lists of steps with the expected outcome
 * and offending item, run against a fresh fixture; every outcome seen is recorded in
 * apply_outcomes_seen[] for the coverage test.
 */
#ifndef SL_TESTS_UNIT_APPLY_FIXTURE_H
#define SL_TESTS_UNIT_APPLY_FIXTURE_H

/* test.h's test_rmtree joins PATH_MAX paths; GCC's truncation warning there is not about this file */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include "tests/unit/test.h"

#include "crypto/crypto.h"
#include "ledger/apply.h"
#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "store/merkle_store.h"
#include "store/store.h"

#define FIXTURE_UNUSED __attribute__((unused))

#define GTIN "09506000134352"
#define GTIN2 "09506000134369"
#define P(serial) "(01)" GTIN "(21)" serial
#define Q(serial) "(01)" GTIN2 "(21)" serial
#define LOT_KEY(lot) "(01)" GTIN "(10)" lot
#define GTIN_KEY "(01)" GTIN
#define C1 "(00)106141410000000019"
#define C2 "(00)106141410000000026"
#define C3 "(00)106141410000000033"
#define C4 "(00)106141410000000040"
#define C5 "(00)106141410000000057"
#define C6 "(00)106141410000000064"
#define C7 "(00)106141410000000071"
#define C8 "(00)106141410000000088"
#define C9 "(00)106141410000000095"
#define CONTAINERS_ALL C1 " " C2 " " C3 " " C4 " " C5 " " C6 " " C7 " " C8 " " C9

#define SITE_A "site-a"
#define SITE_B "site-b"
#define SITE_C "site-c"
#define SITE_D "site-d" /* has a key, is not a registered site */
#define SITE_X "site-x" /* nothing */
#define SITE_E "site-e" /* KEY_E, KEY_F: fresh keys for registry records to register */
#define SITE_F "site-f"

#define FIXTURE_T0_MS 1700000000000ULL
#define FIXTURE_STEP_MS 1000ULL
#define DAY_MS (24ULL * 3600 * 1000)

enum fixture_key { KEY_A, KEY_B, KEY_C, KEY_STRANGER, KEY_REVOKED, KEY_D, KEY_E, KEY_F, KEY_A2, KEY_COUNT };

struct fixture {
	char dir[PATH_MAX];
	store *st;
	struct crypto_public_key pk[KEY_COUNT];
	struct crypto_secret_key sk[KEY_COUNT];
	uint64_t now_ms;
};

static const char *const fixture_key_site[KEY_COUNT] = { SITE_A, SITE_B, SITE_C, SITE_A, SITE_A,
							  SITE_D, SITE_E, SITE_F, SITE_A };

/* What a record says; unset fields take the defaults noted. */
struct spec {
	int type;
	int key;	      /* enum fixture_key (KEY_A = 0 by default) */
	const char *site;     /* NULL: the key's site */
	const char *items;    /* space-separated serials (commission) or item ids */
	const char *gtin;     /* commission, NULL: GTIN */
	const char *lot;      /* commission, NULL: "L1" */
	const char *parent;   /* aggregate, disaggregate */
	const char *to;	      /* ship */
	int reason;	      /* decommission reason or lock reason */
	int scope;	      /* lock scope */
	const char *target;   /* lock target */
	int ref_step;	      /* deviation: 1-based step whose record id is cited; -1: an unknown id */
	int supersedes_step;  /* 1-based step superseded; -1: an unknown id */
	bool bad_signature;   /* flip a bit of the signature */
	const char *patch;    /* replace the first occurrence of patch ... */
	const char *patch_to; /* ... by this (same length) in the encoded bytes */
	const char *raw;      /* not a record: these bytes as they are */
	int repeat_step;      /* 1-based step whose exact bytes are applied again */
	/* checkpoint: size (FIXTURE_CP_LEDGER = the ledger's size before the record); root = the
	 * store's root at that size (zeros beyond it) unless wrong_root; the note is signed by the
	 * record's key unless note_key names another (+1, so 0 = the record's) or bad_note flips it */
	int64_t cp_size;
	bool cp_wrong_root;
	bool cp_bad_note;
	int cp_note_key;
	/* registry: operation on reg_site (NULL: the subject key's site) with the public key of
	 * reg_key (+1, so 0 = none), cosigned by every key in the cosign bit mask (bit k: key k);
	 * bad_cosign flips a bit of the first cosignature; node id 4 unless reg_node */
	int reg_op;
	const char *reg_site;
	int reg_key;
	unsigned cosign;
	bool bad_cosign;
	uint64_t reg_node;
};
#define COSIGN(k) (1u << (k))
#define FIXTURE_CP_LEDGER (-1)
#define FIXTURE_CP_ORIGIN "siteledger/fixture"

#define AT(index) ((index) + 1) /* expected offending item; 0 means none */

struct step {
	struct spec rec;
	int expect;
	int at;
	uint64_t advance_ms; /* ledger time advance before this step; 0: FIXTURE_STEP_MS */
};

struct scenario {
	const char *name;
	const struct step *steps;
	size_t count;
};
#define SCENARIO(name, steps) { (name), (steps), sizeof(steps) / sizeof((steps)[0]) }

static bool apply_outcomes_seen[64];

static FIXTURE_UNUSED int fixture_register(struct fixture *f)
{
	store_txn *txn;
	int rc = store_txn_begin(f->st, true, &txn);
	if (rc != 0)
		return rc;
	/* The revoked key first, so site A's current key is KEY_A afterwards. */
	rc = ledger_registry_add_site(txn, SITE_A, &f->pk[KEY_REVOKED]);
	for (int k = KEY_A; rc == 0 && k <= KEY_C; k++)
		rc = ledger_registry_add_site(txn, fixture_key_site[k], &f->pk[k]);
	struct crypto_key_id id;
	struct store_key key;
	crypto_key_id_of(&f->pk[KEY_REVOKED], &id);
	if (rc == 0)
		rc = store_key_get(txn, id.bytes, &key);
	key.revoked = 1;
	if (rc == 0)
		rc = store_key_put(txn, id.bytes, &key);
	memset(&key, 0, sizeof key);
	memcpy(key.public_key, f->pk[KEY_D].bytes, sizeof key.public_key);
	strcpy(key.site, SITE_D);
	crypto_key_id_of(&f->pk[KEY_D], &id);
	if (rc == 0)
		rc = store_key_put(txn, id.bytes, &key);
	if (rc != 0) {
		store_txn_abort(txn);
		return rc;
	}
	return store_txn_commit(txn);
}

/* A fresh store; keys generated, or the same as `twin`'s when non-NULL (determinism tests). */
static FIXTURE_UNUSED int fixture_open_twin(struct fixture *f, const struct fixture *twin)
{
	memset(f, 0, sizeof *f);
	if (crypto_init() != 0 || test_tmpdir(f->dir) != 0)
		return -1;
	struct store_options options = { .no_sync = true };
	if (store_open(&f->st, f->dir, &options) != 0)
		return -1;
	for (int k = 0; k < KEY_COUNT; k++) {
		if (twin != NULL) {
			f->pk[k] = twin->pk[k];
			f->sk[k] = twin->sk[k];
		} else if (crypto_keypair_generate(&f->pk[k], &f->sk[k]) != 0) {
			return -1;
		}
	}
	f->now_ms = FIXTURE_T0_MS;
	return fixture_register(f);
}

static FIXTURE_UNUSED int fixture_open(struct fixture *f)
{
	return fixture_open_twin(f, NULL);
}

static FIXTURE_UNUSED void fixture_close(struct fixture *f)
{
	if (f->st != NULL)
		store_close(f->st);
	f->st = NULL;
	for (int k = 0; k < KEY_COUNT; k++)
		crypto_secret_key_wipe(&f->sk[k]);
	test_rmtree(f->dir);
}

/* Split `text` (copied into `storage`) at spaces into items; returns the count. */
static FIXTURE_UNUSED size_t fixture_split(const char *text, char *storage, size_t storage_size,
					   struct sl_str *items, size_t items_max)
{
	size_t count = 0;
	if (text == NULL)
		return 0;
	snprintf(storage, storage_size, "%s", text);
	for (char *p = storage; *p != '\0' && count < items_max;) {
		while (*p == ' ')
			p++;
		char *end = p;
		while (*end != '\0' && *end != ' ')
			end++;
		if (end > p)
			items[count++] = (struct sl_str){ p, (size_t)(end - p) };
		p = end;
	}
	return count;
}

static FIXTURE_UNUSED void fixture_fill_body(struct record *r, const struct spec *s)
{
	r->gtin = sl_str_from_cstr(s->gtin ? s->gtin : GTIN);
	r->lot = sl_str_from_cstr(s->lot ? s->lot : "L1");
	r->expiry = SL_STR("271231");
	r->parent = sl_str_from_cstr(s->parent ? s->parent : "");
	r->to = sl_str_from_cstr(s->to ? s->to : "");
	r->decommission_reason = (uint32_t)s->reason;
	r->lock_reason = (uint32_t)s->reason;
	r->lock_scope = (uint32_t)s->scope;
	r->lock_target = sl_str_from_cstr(s->target ? s->target : "");
	r->deviation_category = DEVIATION_OTHER;
	r->text = SL_STR("see attached investigation");
}

/* Replace the first occurrence of `from` in the buffer by `to` (same length). */
static FIXTURE_UNUSED bool fixture_patch(struct sl_buf *out, const char *from, const char *to)
{
	size_t n = strlen(from);
	if (strlen(to) != n)
		return false;
	for (size_t i = 0; i + n <= out->len; i++) {
		if (memcmp(out->data + i, from, n) == 0) {
			memcpy(out->data + i, to, n);
			return true;
		}
	}
	return false;
}

static FIXTURE_UNUSED uint64_t fixture_ledger_count_raw(struct fixture *f)
{
	store_txn *txn;
	uint64_t count = 0;
	if (store_txn_begin(f->st, false, &txn) != 0)
		return 0;
	if (store_ledger_count(txn, &count) != 0)
		count = 0;
	store_txn_abort(txn);
	return count;
}

/* Checkpoint body of a spec (see struct spec): the root comes from the fixture's store. */
static FIXTURE_UNUSED int fixture_checkpoint_fill(struct fixture *f, const struct spec *s, struct record *r)
{
	uint64_t count = fixture_ledger_count_raw(f);
	uint64_t size = s->cp_size == FIXTURE_CP_LEDGER ? count : (uint64_t)s->cp_size;
	uint8_t root[MERKLE_HASH_BYTES] = { 0 };
	store_txn *txn = NULL;
	int rc = size <= count ? store_txn_begin(f->st, false, &txn) : 0;
	if (rc == 0 && txn != NULL) {
		rc = store_merkle_root(txn, size, root);
		store_txn_abort(txn);
	}
	if (s->cp_wrong_root)
		root[7] ^= 0x01;
	int note_key = s->cp_note_key > 0 ? s->cp_note_key - 1 : s->key;
	if (rc == 0)
		rc = ledger_checkpoint_fill(r, FIXTURE_CP_ORIGIN, size, root, fixture_key_site[s->key], &f->sk[note_key]);
	if (rc == 0 && s->cp_bad_note)
		r->note_signature[20] ^= 0x10;
	return rc;
}

/* Registry body of a spec (see struct spec), cosignatures included. */
static FIXTURE_UNUSED int fixture_registry_fill(struct fixture *f, const struct spec *s, struct record *r)
{
	r->registry_op = (uint32_t)s->reg_op;
	const char *subject = s->reg_site != NULL ? s->reg_site : s->reg_key > 0 ? fixture_key_site[s->reg_key - 1] : "";
	r->subject_site = sl_str_from_cstr(subject);
	if (s->reg_op != REGISTRY_SITE_REMOVE && s->reg_key > 0)
		memcpy(r->subject_key, f->pk[s->reg_key - 1].bytes, sizeof r->subject_key);
	if (s->reg_op == REGISTRY_SITE_ADD) {
		r->node_id = s->reg_node ? s->reg_node : 4;
		r->peer_addr = SL_STR("tcp://127.0.0.1:7406");
		r->client_addr = SL_STR("tcp://127.0.0.1:7407");
		r->node_role = REGISTRY_ROLE_VOTER;
	}
	int rc = record_sign(r, &f->sk[s->key]); /* fixes key id and nonce: what cosigners sign */
	for (int k = 0; rc == 0 && k < KEY_COUNT; k++)
		if (s->cosign & COSIGN(k))
			rc = record_cosign(r, &f->sk[k]);
	if (rc == 0 && s->bad_cosign && r->cosignature_count > 0)
		((struct record_cosignature *)(uintptr_t)r->cosignatures)[0].signature[5] ^= 0x01;
	return rc;
}

/* Build, sign and encode a record (or copy raw bytes) into `out` (initialised here). `ids` holds
 * the record ids of earlier steps (for refs and supersedes). */
static FIXTURE_UNUSED int fixture_build(struct fixture *f, const struct spec *s, const uint8_t (*ids)[32],
					struct sl_buf *out)
{
	static char storage[RECORD_ITEMS_MAX * (GS1_ITEM_ID_SIZE + 1)];
	static struct sl_str items[RECORD_ITEMS_MAX];
	static const uint8_t unknown_id[32] = { 0xde, 0xad, 0xbe, 0xef };
	sl_buf_init(out, 2 * RECORD_BYTES_MAX);
	if (s->raw != NULL)
		return sl_buf_append(out, s->raw, strlen(s->raw));

	struct record r;
	record_init(&r);
	r.type = (enum record_type)s->type;
	r.site = sl_str_from_cstr(s->site ? s->site : fixture_key_site[s->key]);
	r.actor = SL_STR("jane.doe@qa");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)f->now_ms;
	fixture_fill_body(&r, s);
	r.items = items;
	r.item_count = fixture_split(s->items, storage, sizeof storage, items, RECORD_ITEMS_MAX);
	const uint8_t(*ref)[32] = NULL;
	if (s->ref_step != 0)
		ref = s->ref_step > 0 ? &ids[s->ref_step - 1] : &unknown_id;
	r.refs = ref;
	r.ref_count = ref != NULL;
	if (s->supersedes_step != 0) {
		r.has_supersedes = true;
		memcpy(r.supersedes, s->supersedes_step > 0 ? ids[s->supersedes_step - 1] : unknown_id, 32);
	}
	int rc = r.type == RECORD_CHECKPOINT ? fixture_checkpoint_fill(f, s, &r) : 0;
	if (rc == 0 && r.type == RECORD_REGISTRY)
		rc = fixture_registry_fill(f, s, &r); /* signs, then cosigns what was signed */
	else if (rc == 0)
		rc = record_sign(&r, &f->sk[s->key]);
	if (rc == 0 && s->bad_signature)
		r.signature[10] ^= 0x20;
	if (rc == 0)
		rc = record_encode(&r, out);
	if (rc == 0 && s->patch != NULL && !fixture_patch(out, s->patch, s->patch_to))
		rc = SL_EINVAL;
	record_clear(&r); /* frees the cosignatures only: the other arrays are borrowed */
	return rc;
}

/* Apply `count` encoded records as one batch at the current ledger time. */
static FIXTURE_UNUSED int fixture_apply(struct fixture *f, const struct sl_buf *records, size_t count,
					struct ledger_result *results)
{
	struct ledger_input inputs[64] = { { NULL, 0 } };
	if (count > 64)
		return SL_EINVAL;
	for (size_t i = 0; i < count; i++)
		inputs[i] = (struct ledger_input){ records[i].data, records[i].len };
	int rc = ledger_apply_batch(f->st, inputs, count, f->now_ms, results, 0);
	for (size_t i = 0; rc == 0 && i < count; i++)
		if (results[i].outcome >= 0 && results[i].outcome < 64)
			apply_outcomes_seen[results[i].outcome] = true;
	return rc;
}

/* Build and apply one record; returns its outcome (or a negative error), item in *item. */
static FIXTURE_UNUSED int fixture_do(struct fixture *f, const struct spec *s, struct ledger_result *result)
{
	struct sl_buf rec;
	struct ledger_result local;
	if (result == NULL)
		result = &local;
	int rc = fixture_build(f, s, NULL, &rec);
	if (rc == 0)
		rc = fixture_apply(f, &rec, 1, result);
	sl_buf_free(&rec);
	f->now_ms += FIXTURE_STEP_MS;
	return rc == 0 ? result->outcome : rc;
}

static FIXTURE_UNUSED const char *fixture_outcome_name(int outcome)
{
	const char *name = ledger_outcome_name(outcome);
	return name != NULL ? name : sl_errname(outcome);
}

static FIXTURE_UNUSED void scenario_check(const struct scenario *sc, size_t i, int rc,
					   const struct ledger_result *result)
{
	const struct step *step = &sc->steps[i];
	if (rc == 0 && result->outcome == step->expect && result->item == step->at - 1)
		return;
	char what[256];
	snprintf(what, sizeof what, "scenario %s step %zu: %s item %d, expected %s item %d", sc->name, i + 1,
		 rc != 0 ? sl_errname(rc) : fixture_outcome_name(result->outcome), result->item,
		 fixture_outcome_name(step->expect), step->at - 1);
	test_fail(__FILE__, __LINE__, what);
}

/* Run a scenario on a fresh fixture; failures name the scenario and step. With `keep` non-NULL
 * the fixture stays open for further checks (the caller closes it). */
static FIXTURE_UNUSED void scenario_run(const struct scenario *sc, struct fixture *keep)
{
	struct fixture local;
	struct fixture *f = keep != NULL ? keep : &local;
	if (fixture_open(f) != 0) {
		test_fail(__FILE__, __LINE__, "fixture_open");
		return;
	}
	uint8_t(*ids)[32] = calloc(sc->count, sizeof *ids);
	struct sl_buf *recs = calloc(sc->count, sizeof *recs);
	for (size_t i = 0; ids != NULL && recs != NULL && i < sc->count; i++) {
		const struct step *step = &sc->steps[i];
		struct ledger_result result = { 0 };
		int rc = 0;
		f->now_ms += step->advance_ms ? step->advance_ms : FIXTURE_STEP_MS;
		if (step->rec.repeat_step > 0) {
			sl_buf_init(&recs[i], 2 * RECORD_BYTES_MAX);
			const struct sl_buf *old = &recs[step->rec.repeat_step - 1];
			rc = sl_buf_append(&recs[i], old->data, old->len);
		} else {
			rc = fixture_build(f, &step->rec, (const uint8_t(*)[32])ids, &recs[i]);
		}
		if (rc == 0)
			rc = fixture_apply(f, &recs[i], 1, &result);
		memcpy(ids[i], result.record_id, 32);
		scenario_check(sc, i, rc, &result);
	}
	for (size_t i = 0; recs != NULL && i < sc->count; i++)
		sl_buf_free(&recs[i]);
	free(recs);
	free(ids);
	if (keep == NULL)
		fixture_close(f);
}

/* Store inspection. */
static FIXTURE_UNUSED int fixture_item(struct fixture *f, const char *item_id, struct store_item *item)
{
	store_txn *txn;
	int rc = store_txn_begin(f->st, false, &txn);
	if (rc != 0)
		return rc;
	rc = store_item_get(txn, item_id, item);
	store_txn_abort(txn);
	return rc;
}

/* Status of an item, 0 when absent. */
static FIXTURE_UNUSED int fixture_status(struct fixture *f, const char *item_id)
{
	struct store_item item;
	return fixture_item(f, item_id, &item) == 0 ? item.status : 0;
}

static FIXTURE_UNUSED uint64_t fixture_counter(struct fixture *f, const char *lot_key, const char *site,
					       unsigned slot)
{
	store_txn *txn;
	struct store_lot_counters counters;
	memset(&counters, 0, sizeof counters);
	if (store_txn_begin(f->st, false, &txn) != 0)
		return UINT64_MAX;
	int rc = store_lot_get(txn, lot_key, site, &counters);
	store_txn_abort(txn);
	if (rc == SL_ENOENT)
		return 0;
	return rc == 0 ? counters.counts[slot] : UINT64_MAX;
}

static FIXTURE_UNUSED uint64_t fixture_ledger_count(struct fixture *f)
{
	store_txn *txn;
	uint64_t count = UINT64_MAX;
	if (store_txn_begin(f->st, false, &txn) != 0)
		return count;
	if (store_ledger_count(txn, &count) != 0)
		count = UINT64_MAX;
	store_txn_abort(txn);
	return count;
}

struct history_list {
	uint64_t seqs[64];
	size_t count;
};

static FIXTURE_UNUSED int fixture_history_visit(void *ctx, uint64_t seq)
{
	struct history_list *list = ctx;
	if (list->count < 64)
		list->seqs[list->count] = seq;
	list->count++;
	return 0;
}

static FIXTURE_UNUSED size_t fixture_history(struct fixture *f, const char *item_id, struct history_list *list)
{
	store_txn *txn;
	memset(list, 0, sizeof *list);
	if (store_txn_begin(f->st, false, &txn) != 0)
		return SIZE_MAX;
	int rc = store_history_iterate(txn, item_id, fixture_history_visit, list);
	store_txn_abort(txn);
	return rc == 0 || rc == SL_ENOENT ? list->count : SIZE_MAX;
}

static FIXTURE_UNUSED bool fixture_history_has(struct fixture *f, const char *item_id, uint64_t seq)
{
	struct history_list list;
	size_t n = fixture_history(f, item_id, &list);
	for (size_t i = 0; n != SIZE_MAX && i < n && i < 64; i++)
		if (list.seqs[i] == seq)
			return true;
	return false;
}

#endif
