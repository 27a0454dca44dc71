/* tests/unit/test_checkpoint.c — checkpoint records (ledger/checkpoint.h): the C2SP note a record
 * stands for, both signature types, and the apply rule inside one batch (test_apply_rules.c holds
 * the table rows for every checkpoint outcome).
 */
#include "tests/unit/apply_fixture.h"

#include "crypto/note.h"

/* A checkpoint record of (size, the store's root) by `key`, encoded into out. */
static int checkpoint_encode(struct fixture *f, int key, int64_t size, struct sl_buf *out)
{
	struct spec s = { .type = RECORD_CHECKPOINT, .key = key, .cp_size = size };
	return fixture_build(f, &s, NULL, out);
}

static int commission_one(struct fixture *f, const char *serial)
{
	return fixture_do(f, &(struct spec){ .type = RECORD_COMMISSION, .items = serial }, NULL);
}

/* A checkpoint record of an explicit (size, root) by `key`, encoded into out (initialised here). */
static int checkpoint_encode_root(struct fixture *f, int key, uint64_t size, const uint8_t root[32],
				  struct sl_buf *out)
{
	struct record r;
	record_init(&r);
	r.site = sl_str_from_cstr(fixture_key_site[key]);
	r.actor = SL_STR("siteledgerd");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)f->now_ms;
	sl_buf_init(out, RECORD_BYTES_MAX);
	int rc = ledger_checkpoint_fill(&r, FIXTURE_CP_ORIGIN, size, root, fixture_key_site[key], &f->sk[key]);
	if (rc == 0)
		rc = record_sign(&r, &f->sk[key]);
	return rc == 0 ? record_encode(&r, out) : rc;
}

static void test_note_round_trip(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(commission_one(&f, "S1"), OUTCOME_ACCEPTED);
	struct sl_buf bytes;
	REQUIRE(checkpoint_encode(&f, KEY_B, 1, &bytes) == 0);
	struct record r;
	REQUIRE(record_decode(bytes.data, bytes.len, &r, NULL) == 0);
	char text[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	REQUIRE(ledger_checkpoint_note(&r, text, sizeof text, &len) == 0);
	CHECK_INT_EQ(len, strlen(text));
	CHECK(strncmp(text, FIXTURE_CP_ORIGIN "\n1\n", strlen(FIXTURE_CP_ORIGIN) + 3) == 0);
	CHECK(strstr(text, "\n\n\xe2\x80\x94 " SITE_B " ") != NULL); /* "— site-b " after the body */
	/* the note verifies with crypto/note.h alone, under B's key and no other */
	struct note *note = calloc(1, sizeof *note);
	REQUIRE(note != NULL);
	REQUIRE(note_parse(text, len, note) == 0);
	REQUIRE(note->signature_count == 1);
	struct checkpoint cp;
	REQUIRE(checkpoint_parse(note->body, note->body_len, &cp) == 0);
	CHECK_INT_EQ(cp.size, 1);
	CHECK(memcmp(cp.root, r.checkpoint_root, sizeof cp.root) == 0);
	uint8_t type = 0;
	CHECK_INT_EQ(note_signature_verify(note, &note->signatures[0], SITE_B, &f.pk[KEY_B], &type, NULL), 0);
	CHECK_INT_EQ(type, NOTE_TYPE_ED25519);
	CHECK_INT_EQ(note_signature_verify(note, &note->signatures[0], SITE_B, &f.pk[KEY_A], NULL, NULL), SL_EBADSIG);
	CHECK_INT_EQ(ledger_checkpoint_verify(&r, &f.pk[KEY_B], NULL), 0);
	CHECK_INT_EQ(ledger_checkpoint_verify(&r, &f.pk[KEY_C], NULL), SL_EBADSIG);
	r.checkpoint_size = 2; /* the signature covers the size */
	CHECK_INT_EQ(ledger_checkpoint_verify(&r, &f.pk[KEY_B], NULL), SL_EBADSIG);
	free(note);
	record_clear(&r);
	sl_buf_free(&bytes);
	fixture_close(&f);
}

/* A tlog-cosignature (0x04, with its timestamp) is accepted as the record's note signature. */
static void test_cosignature_accepted(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(commission_one(&f, "S1"), OUTCOME_ACCEPTED);
	struct sl_buf bytes;
	REQUIRE(checkpoint_encode(&f, KEY_C, 1, &bytes) == 0);
	struct record r;
	REQUIRE(record_decode(bytes.data, bytes.len, &r, NULL) == 0);
	char text[NOTE_BYTES_MAX + 1];
	size_t len = 0, body_len = 0;
	REQUIRE(ledger_checkpoint_body(&r, text, sizeof text, &body_len) == 0);
	len = body_len;
	REQUIRE(note_cosign(text, body_len, SITE_C, &f.sk[KEY_C], 1700000000u, text, sizeof text, &len) == 0);
	struct note *note = calloc(1, sizeof *note);
	REQUIRE(note != NULL && note_parse(text, len, note) == 0);
	const struct note_signature *sig = &note->signatures[0];
	REQUIRE(sig->len == 72);
	memcpy(r.note_signature, sig->key_id, NOTE_KEY_ID_BYTES);
	memcpy(r.note_signature + NOTE_KEY_ID_BYTES, sig->bytes, sig->len);
	r.note_signature_len = NOTE_KEY_ID_BYTES + sig->len;
	uint8_t type = 0;
	CHECK_INT_EQ(ledger_checkpoint_verify(&r, &f.pk[KEY_C], &type), 0);
	CHECK_INT_EQ(type, NOTE_TYPE_COSIGNATURE);
	memset(r.nonce, 0, sizeof r.nonce); /* sign anew: a fresh record */
	REQUIRE(record_sign(&r, &f.sk[KEY_C]) == 0);
	struct sl_buf cosigned;
	sl_buf_init(&cosigned, RECORD_BYTES_MAX);
	REQUIRE(record_encode(&r, &cosigned) == 0);
	struct ledger_result result;
	REQUIRE(fixture_apply(&f, &cosigned, 1, &result) == 0);
	CHECK_INT_EQ(result.outcome, OUTCOME_ACCEPTED);
	free(note);
	record_clear(&r);
	sl_buf_free(&cosigned);
	sl_buf_free(&bytes);
	fixture_close(&f);
}

/* Within one batch a checkpoint sees the records before it (apply.h rule 4), not itself nor those
 * after it; an accepted checkpoint changes no item and joins no history. */
static void test_batch_order(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(commission_one(&f, "S1"), OUTCOME_ACCEPTED);
	struct sl_buf batch[5];
	struct spec commission = { .type = RECORD_COMMISSION, .items = "S2" };
	REQUIRE(fixture_build(&f, &commission, NULL, &batch[0]) == 0);
	/* the root of size 2 = entry 1 (in the store) and entry 2 (the commission above, applied in
	 * this batch at seq 2 and ledger time now_ms), computed here independently of apply */
	uint8_t leaf1[MERKLE_HASH_BYTES], leaf2[MERKLE_HASH_BYTES], root2[MERKLE_HASH_BYTES];
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	REQUIRE(store_merkle_node_get(txn, 0, 0, leaf1) == 0);
	store_txn_abort(txn);
	struct ledger_entry entry = { 2, f.now_ms, OUTCOME_ACCEPTED, batch[0].data, batch[0].len, false, 0 };
	struct sl_buf entry_bytes;
	sl_buf_init(&entry_bytes, ENTRY_BYTES_MAX);
	REQUIRE(entry_encode(&entry, &entry_bytes) == 0);
	merkle_leaf_hash(entry_bytes.data, entry_bytes.len, leaf2);
	merkle_node_hash(leaf1, leaf2, root2);
	REQUIRE(checkpoint_encode_root(&f, KEY_B, 2, root2, &batch[1]) == 0);
	REQUIRE(checkpoint_encode(&f, KEY_A, 1, &batch[2]) == 0);
	root2[0] ^= 1;
	REQUIRE(checkpoint_encode_root(&f, KEY_C, 2, root2, &batch[3]) == 0);
	REQUIRE(checkpoint_encode(&f, KEY_C, 6, &batch[4]) == 0); /* it is entry 6 itself */
	struct ledger_result results[5];
	REQUIRE(fixture_apply(&f, batch, 5, results) == 0);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_ACCEPTED);		    /* sees the commission before it */
	CHECK_INT_EQ(results[2].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[3].outcome, OUTCOME_CHECKPOINT_ROOT_MISMATCH); /* same size, another root */
	CHECK_INT_EQ(results[4].outcome, OUTCOME_CHECKPOINT_BEYOND_LEDGER);
	CHECK_INT_EQ(results[4].seq, 6);
	CHECK_INT_EQ(fixture_ledger_count(&f), 6);
	struct history_list list;
	CHECK_INT_EQ(fixture_history(&f, P("S1"), &list), 1); /* its commission only */
	CHECK_INT_EQ(fixture_status(&f, P("S2")), ITEM_ACTIVE);
	for (size_t i = 0; i < 5; i++)
		sl_buf_free(&batch[i]);
	sl_buf_free(&entry_bytes);
	fixture_close(&f);
}

/* The newest cosigned checkpoint: every site's accepted line for the latest size, refusals and
 * other origins left out. */
static void test_newest_cosigned(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK_INT_EQ(commission_one(&f, "S1"), OUTCOME_ACCEPTED);
	const int keys[] = { KEY_C, KEY_A, KEY_B };
	for (size_t i = 0; i < 3; i++)
		CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_CHECKPOINT, .key = keys[i], .cp_size = 1 }, NULL),
			     OUTCOME_ACCEPTED);
	CHECK_INT_EQ(fixture_do(&f, &(struct spec){ .type = RECORD_CHECKPOINT, .cp_size = 4, .cp_wrong_root = true }, NULL),
		     OUTCOME_CHECKPOINT_ROOT_MISMATCH);
	CHECK_INT_EQ(commission_one(&f, "S2"), OUTCOME_ACCEPTED);
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	char text[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	uint64_t size = 0;
	REQUIRE(ledger_checkpoint_newest(txn, FIXTURE_CP_ORIGIN, 1, 1000, text, sizeof text, &len, &size) == 0);
	CHECK_INT_EQ(size, 1);
	CHECK_INT_EQ(ledger_checkpoint_newest(txn, FIXTURE_CP_ORIGIN, 2, 1000, text, sizeof text, &len, &size), SL_ENOENT);
	CHECK_INT_EQ(ledger_checkpoint_newest(txn, "siteledger/other", 1, 1000, text, sizeof text, &len, &size), SL_ENOENT);
	CHECK_INT_EQ(ledger_checkpoint_newest(txn, FIXTURE_CP_ORIGIN, 1, 2, text, sizeof text, &len, &size), SL_ENOENT);
	REQUIRE(ledger_checkpoint_newest(txn, FIXTURE_CP_ORIGIN, 1, 1000, text, sizeof text, &len, &size) == 0);
	store_txn_abort(txn);
	struct note *note = calloc(1, sizeof *note);
	REQUIRE(note != NULL && note_parse(text, len, note) == 0);
	REQUIRE(note->signature_count == 3); /* the latest record's line first, then back in time */
	CHECK_STR_EQ(note->signatures[0].name, SITE_B);
	CHECK_STR_EQ(note->signatures[1].name, SITE_A);
	CHECK_STR_EQ(note->signatures[2].name, SITE_C);
	const int owners[] = { KEY_B, KEY_A, KEY_C };
	for (size_t i = 0; i < 3; i++)
		CHECK_INT_EQ(note_signature_verify(note, &note->signatures[i], note->signatures[i].name, &f.pk[owners[i]],
						   NULL, NULL),
			     0);
	free(note);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_note_round_trip),
	TEST_CASE(test_cosignature_accepted),
	TEST_CASE(test_batch_order),
	TEST_CASE(test_newest_cosigned),
};

TEST_MAIN(cases)
