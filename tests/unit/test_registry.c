/* tests/unit/test_registry.c — registry records (docs/record-format.md "Registry records",
 * docs/lifecycle.md "Registry"): their encoding, cosignatures, and what applying them leaves in the
 * store (the revocation index, the site's node). The outcome of every rule is in the tables of
 * test_apply_rules.c ("registry"); this file checks what those tables cannot: bytes, ids, batches.
 */
#include "tests/unit/apply_fixture.h"

#include "ledger/codec.h"
#include "tests/unit/record_samples.h"

#define BUF_LIMIT (1 << 20)

static void registry_make(struct record *r, struct fixture *f, enum registry_op op, int subject_key)
{
	record_init(r);
	r->type = RECORD_REGISTRY;
	r->site = SL_STR(SITE_A);
	r->actor = SL_STR("it.admin@site-a");
	r->meaning = MEANING_APPROVED;
	r->event_time_ms = (int64_t)FIXTURE_T0_MS;
	r->registry_op = op;
	r->subject_site = sl_str_from_cstr(fixture_key_site[subject_key]);
	if (op != REGISTRY_SITE_REMOVE)
		memcpy(r->subject_key, f->pk[subject_key].bytes, sizeof r->subject_key);
	if (op == REGISTRY_SITE_ADD) {
		r->node_id = 4;
		r->peer_addr = SL_STR("tcp://127.0.0.1:7406");
		r->client_addr = SL_STR("tcp://127.0.0.1:7407");
		r->node_role = REGISTRY_ROLE_LEARNER;
	}
}

/* Cosigning changes neither the signed bytes, the record id nor the record signature; each
 * cosignature verifies under its own key only; the encoding round-trips with key ids ascending. */
static void test_cosignatures_leave_the_id(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct record r, decoded;
	registry_make(&r, &f, REGISTRY_SITE_ADD, KEY_E);
	CHECK_INT_EQ(record_cosign(&r, &f.sk[KEY_B]), SL_EINVAL); /* not signed yet */
	REQUIRE(record_sign(&r, &f.sk[KEY_A]) == 0);
	uint8_t id_before[RECORD_ID_BYTES], id_after[RECORD_ID_BYTES];
	REQUIRE(record_id(&r, id_before) == 0);
	REQUIRE(record_cosign(&r, &f.sk[KEY_C]) == 0);
	REQUIRE(record_cosign(&r, &f.sk[KEY_B]) == 0);
	CHECK_INT_EQ(record_cosign(&r, &f.sk[KEY_B]), SL_EEXIST);
	CHECK_INT_EQ(r.cosignature_count, 2);
	CHECK(memcmp(r.cosignatures[0].key_id.bytes, r.cosignatures[1].key_id.bytes, CRYPTO_KEY_ID_BYTES) < 0);
	REQUIRE(record_id(&r, id_after) == 0);
	CHECK(memcmp(id_before, id_after, RECORD_ID_BYTES) == 0);
	CHECK_INT_EQ(record_verify(&r, &f.pk[KEY_A]), 0);

	struct sl_buf buf;
	sl_buf_init(&buf, BUF_LIMIT);
	REQUIRE(record_encode(&r, &buf) == 0);
	REQUIRE(record_decode(buf.data, buf.len, &decoded, NULL) == 0);
	CHECK_INT_EQ(decoded.cosignature_count, 2);
	CHECK_INT_EQ(decoded.node_role, REGISTRY_ROLE_LEARNER);
	CHECK(sl_str_eq_cstr(decoded.subject_site, SITE_E));
	CHECK(sl_str_eq_cstr(decoded.client_addr, "tcp://127.0.0.1:7407"));
	CHECK_INT_EQ(record_verify(&decoded, &f.pk[KEY_A]), 0);
	for (size_t i = 0; i < 2; i++) {
		CHECK(memcmp(decoded.cosignatures[i].key_id.bytes, r.cosignatures[i].key_id.bytes, 16) == 0);
		struct crypto_key_id b_id;
		crypto_key_id_of(&f.pk[KEY_B], &b_id);
		int signer = memcmp(decoded.cosignatures[i].key_id.bytes, b_id.bytes, 16) == 0 ? KEY_B : KEY_C;
		CHECK_INT_EQ(record_cosignature_verify(&decoded, i, &f.pk[signer]), 0);
		CHECK_INT_EQ(record_cosignature_verify(&decoded, i, &f.pk[signer == KEY_B ? KEY_C : KEY_B]), SL_EBADSIG);
	}
	/* a cosignature is no record signature (its own domain), and vice versa */
	struct record forged = decoded;
	forged.cosignatures = NULL;
	forged.cosignature_count = 0;
	forged.owns_cosignatures = false;
	forged.owns_arrays = false;
	memcpy(forged.signature, decoded.cosignatures[0].signature, CRYPTO_SIGNATURE_BYTES);
	CHECK_INT_EQ(record_verify(&forged, &f.pk[KEY_B]), SL_EBADSIG);
	CHECK_INT_EQ(record_verify(&forged, &f.pk[KEY_C]), SL_EBADSIG);
	record_clear(&decoded);
	record_clear(&r);
	sl_buf_free(&buf);
	fixture_close(&f);
}

/* Encode r, cut the body out, let `edit` change its fields, join and decode. */
struct body_edit {
	unsigned drop_key;  /* body key to remove; 99: none */
	unsigned add_key;   /* body key to add with add_value; 99: none */
	const uint8_t *add_value;
	size_t add_len;
};

static int decode_edited(const struct record *r, const struct body_edit *edit)
{
	struct sl_buf enc, body, out;
	sl_buf_init(&enc, BUF_LIMIT);
	sl_buf_init(&body, BUF_LIMIT);
	sl_buf_init(&out, BUF_LIMIT);
	if (record_encode(r, &enc) != 0)
		return -1000;
	struct sample_field fields[SAMPLE_FIELDS_MAX], inner[SAMPLE_FIELDS_MAX + 1];
	size_t n = sample_split(enc.data, enc.len, fields);
	for (size_t i = 0; i < n; i++) {
		if (fields[i].key != 10)
			continue;
		size_t m = sample_split(fields[i].value, fields[i].len, inner), k = 0;
		struct sample_field kept[SAMPLE_FIELDS_MAX + 1];
		bool added = false;
		for (size_t j = 0; j < m; j++) {
			if (!added && edit->add_key < inner[j].key) {
				kept[k++] = (struct sample_field){ edit->add_key, edit->add_value, edit->add_len };
				added = true;
			}
			if (inner[j].key != edit->drop_key)
				kept[k++] = inner[j];
		}
		if (!added && edit->add_key != 99)
			kept[k++] = (struct sample_field){ edit->add_key, edit->add_value, edit->add_len };
		sample_join(kept, k, &body);
		fields[i].value = body.data;
		fields[i].len = body.len;
	}
	sample_join(fields, n, &out);
	struct record decoded;
	int rc = record_decode(out.data, out.len, &decoded, NULL);
	if (rc == 0)
		record_clear(&decoded);
	sl_buf_free(&enc);
	sl_buf_free(&body);
	sl_buf_free(&out);
	return rc;
}

/* Which body keys an operation carries is strict both ways; cosignatures must ascend. */
static void test_strict_bodies(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct record r;
	registry_make(&r, &f, REGISTRY_KEY_ADD, KEY_A2);
	REQUIRE(record_sign(&r, &f.sk[KEY_A]) == 0);
	static const uint8_t node4[] = { 0x04 };
	static const uint8_t role1[] = { 0x01 };
	struct body_edit none = { 99, 99, NULL, 0 };
	CHECK_INT_EQ(decode_edited(&r, &none), 0);
	struct body_edit no_key = { 2, 99, NULL, 0 };
	CHECK_INT_EQ(decode_edited(&r, &no_key), SL_EMISSING);
	struct body_edit no_cosignatures = { 7, 99, NULL, 0 };
	CHECK_INT_EQ(decode_edited(&r, &no_cosignatures), SL_EMISSING);
	struct body_edit node_on_key_add = { 99, 3, node4, 1 };
	CHECK_INT_EQ(decode_edited(&r, &node_on_key_add), SL_EUNKNOWNFIELD);
	struct body_edit role_on_key_add = { 99, 6, role1, 1 };
	CHECK_INT_EQ(decode_edited(&r, &role_on_key_add), SL_EUNKNOWNFIELD);
	struct body_edit beyond = { 99, 8, role1, 1 };
	CHECK_INT_EQ(decode_edited(&r, &beyond), SL_EUNKNOWNFIELD);

	/* hand-built records: fields the operation does not carry are refused, not dropped */
	r.node_id = 4;
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	r.node_id = 0;
	r.registry_op = REGISTRY_SITE_REMOVE; /* still carries a public key */
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	r.registry_op = 5;
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	r.registry_op = REGISTRY_SITE_ADD;
	r.node_id = 4;
	r.node_role = REGISTRY_ROLE_VOTER;
	r.peer_addr = SL_STR("tcp://127.0.0.1:7406");
	r.client_addr = SL_STR("127.0.0.1:7407"); /* no scheme */
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	r.client_addr = SL_STR("tcp://127.0.0.1:7407");
	CHECK_INT_EQ(record_validate(&r, NULL), 0);
	r.node_id = RECORD_NODE_ID_MAX + 1;
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	r.node_id = 4;
	memset(r.subject_key, 0, sizeof r.subject_key);
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	memcpy(r.subject_key, f.pk[KEY_E].bytes, sizeof r.subject_key);
	struct record_cosignature two[2];
	memset(two, 0, sizeof two);
	memset(two[0].key_id.bytes, 0x22, 16);
	memset(two[1].key_id.bytes, 0x11, 16); /* descending */
	r.cosignatures = two;
	r.cosignature_count = 2;
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	memset(two[1].key_id.bytes, 0x22, 16); /* the same key twice */
	CHECK_INT_EQ(record_validate(&r, NULL), SL_EVALUE);
	memset(two[1].key_id.bytes, 0x33, 16);
	CHECK_INT_EQ(record_validate(&r, NULL), 0);
	fixture_close(&f);
}

/* Apply spec as part of a batch of records built now. */
static void batch_apply(struct fixture *f, const struct spec *specs, size_t count, struct ledger_result *results)
{
	struct sl_buf recs[4];
	REQUIRE(count <= 4);
	for (size_t i = 0; i < count; i++)
		REQUIRE(fixture_build(f, &specs[i], NULL, &recs[i]) == 0);
	CHECK_INT_EQ(fixture_apply(f, recs, count, results), 0);
	for (size_t i = 0; i < count; i++)
		sl_buf_free(&recs[i]);
	f->now_ms += FIXTURE_STEP_MS;
}

static int key_event(struct fixture *f, int k, struct store_key_event *event)
{
	struct crypto_key_id id;
	crypto_key_id_of(&f->pk[k], &id);
	store_txn *txn = NULL;
	int rc = store_txn_begin(f->st, false, &txn);
	if (rc == 0)
		rc = store_key_event_get(txn, id.bytes, event);
	if (txn != NULL)
		store_txn_abort(txn);
	return rc;
}

/* A revocation takes effect from the next record, within one batch too: a record signed with the
 * key before the revocation stays accepted, one after it is refused; the revocation index holds
 * the seqs that say so (what the audit checks "the key in force at that point" against). */
static void test_revocation_takes_effect_from_the_next_record(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct spec add = { .type = RECORD_REGISTRY, .reg_op = REGISTRY_KEY_ADD, .reg_key = KEY_A2 + 1,
			    .cosign = COSIGN(KEY_B) };
	struct ledger_result results[4];
	batch_apply(&f, &add, 1, results);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	uint64_t added_at = results[0].seq;

	struct spec batch[3] = {
		{ .type = RECORD_COMMISSION, .key = KEY_A2, .items = "S1" },
		{ .type = RECORD_REGISTRY, .reg_op = REGISTRY_KEY_REVOKE, .reg_key = KEY_A2 + 1, .key = KEY_A2,
		  .cosign = COSIGN(KEY_C) }, /* signed by the key it revokes: the one key read last */
		{ .type = RECORD_COMMISSION, .key = KEY_A2, .items = "S2" },
	};
	batch_apply(&f, batch, 3, results);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[2].outcome, OUTCOME_UNKNOWN_KEY);
	struct store_key_event event;
	REQUIRE(key_event(&f, KEY_A2, &event) == 0);
	CHECK_INT_EQ(event.added_seq, added_at);
	CHECK_INT_EQ(event.revoked_seq, results[1].seq);
	CHECK_INT_EQ(key_event(&f, KEY_A, &event), SL_ENOENT); /* registered at init, in force */
	CHECK_INT_EQ(fixture_status(&f, P("S1")), ITEM_ACTIVE);
	CHECK_INT_EQ(fixture_status(&f, P("S2")), 0);
	fixture_close(&f);
}

/* A site added by a record can write at once (same batch), and its node is kept for the nodes;
 * removing it keeps the row with the seq of the removal. */
static void test_site_add_and_remove_keep_the_node(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct spec batch[2] = {
		{ .type = RECORD_REGISTRY, .reg_op = REGISTRY_SITE_ADD, .reg_key = KEY_E + 1, .reg_node = 7,
		  .cosign = COSIGN(KEY_C) },
		{ .type = RECORD_COMMISSION, .key = KEY_E, .items = "E1" },
	};
	struct ledger_result results[4];
	batch_apply(&f, batch, 2, results);
	CHECK_INT_EQ(results[0].outcome, OUTCOME_ACCEPTED);
	CHECK_INT_EQ(results[1].outcome, OUTCOME_ACCEPTED);
	struct spec remove = { .type = RECORD_REGISTRY, .reg_op = REGISTRY_SITE_REMOVE, .reg_key = KEY_E + 1,
			       .key = KEY_B, .cosign = COSIGN(KEY_C) | COSIGN(KEY_E) };
	batch_apply(&f, &remove, 1, results + 2);
	CHECK_INT_EQ(results[2].outcome, OUTCOME_ACCEPTED);
	store_txn *txn = NULL;
	REQUIRE(store_txn_begin(f.st, false, &txn) == 0);
	struct store_site_node node;
	struct store_site site;
	CHECK_INT_EQ(store_site_node_get(txn, SITE_E, &node), 0);
	CHECK_INT_EQ(node.node_id, 7);
	CHECK_INT_EQ(node.role, REGISTRY_ROLE_VOTER);
	CHECK_INT_EQ(node.added_seq, results[0].seq);
	CHECK_INT_EQ(node.removed_seq, results[2].seq);
	CHECK_STR_EQ(node.peer_addr, "tcp://127.0.0.1:7406");
	CHECK_INT_EQ(store_site_get(txn, SITE_E, &site), 0);
	CHECK_INT_EQ(site.active, 0);
	CHECK_INT_EQ(store_site_node_get(txn, SITE_B, &node), SL_ENOENT); /* registered at init */
	store_txn_abort(txn);
	fixture_close(&f);
}

/* One encoding per set of cosignatures, whatever the order the cosigners signed in. */
static void test_cosignature_order_is_canonical(void)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct record a, b;
	registry_make(&a, &f, REGISTRY_KEY_ADD, KEY_A2);
	REQUIRE(record_sign(&a, &f.sk[KEY_A]) == 0);
	b = a;
	REQUIRE(record_cosign(&a, &f.sk[KEY_B]) == 0 && record_cosign(&a, &f.sk[KEY_C]) == 0);
	REQUIRE(record_cosign(&b, &f.sk[KEY_C]) == 0 && record_cosign(&b, &f.sk[KEY_B]) == 0);
	struct sl_buf ea, eb;
	sl_buf_init(&ea, BUF_LIMIT);
	sl_buf_init(&eb, BUF_LIMIT);
	REQUIRE(record_encode(&a, &ea) == 0 && record_encode(&b, &eb) == 0);
	CHECK(ea.len == eb.len && memcmp(ea.data, eb.data, ea.len) == 0); /* one encoding per set */
	record_clear(&a);
	record_clear(&b);
	sl_buf_free(&ea);
	sl_buf_free(&eb);
	fixture_close(&f);
}

static const struct test_case cases[] = {
	TEST_CASE(test_cosignatures_leave_the_id),
	TEST_CASE(test_strict_bodies),
	TEST_CASE(test_revocation_takes_effect_from_the_next_record),
	TEST_CASE(test_site_add_and_remove_keep_the_node),
	TEST_CASE(test_cosignature_order_is_canonical),
};
TEST_MAIN(cases)
