/* tests/unit/record_samples.h — valid sample records of every type, for the record and entry
 * tests and the fuzz corpus (header only; every function is static).
 *
 * Samples are deterministic: a fixed key (RFC 8032 §7.1 TEST 1 seed), fixed nonces and times, so
 * their encodings are the same on every run (Ed25519 signatures are deterministic).
 */
#ifndef SL_TESTS_UNIT_RECORD_SAMPLES_H
#define SL_TESTS_UNIT_RECORD_SAMPLES_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "ledger/codec.h"
#include "ledger/record.h"

#define SAMPLE_GTIN "09506000134352"
#define SAMPLE_SSCC_1 "(00)106141412345678908"
#define SAMPLE_SSCC_2 "(00)006141411234567890"
#define SAMPLE_PACK_1 "(01)09506000134352(21)SN0001"
#define SAMPLE_PACK_2 "(01)09506000134352(21)SN0002"
#define SAMPLE_PACK_3 "(01)09506000134352(21)SN0003"
#define SAMPLE_EVENT_TIME_MS INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */

struct sample {
	struct record record;
	struct sl_str items[4];
	uint8_t refs[2][RECORD_ID_BYTES];
	struct record_cosignature cosignatures[2];
};

static inline void sample_keypair(struct crypto_public_key *pk, struct crypto_secret_key *sk)
{
	uint8_t seed[32];
	if (crypto_hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed,
			      sizeof seed) != 0 ||
	    crypto_sign_seed_keypair(pk->bytes, sk->bytes, seed) != 0)
		abort();
}

static inline void sample_items(struct sample *s, const char *a, const char *b, const char *c)
{
	const char *list[3] = { a, b, c };
	s->record.item_count = 0;
	for (size_t i = 0; i < 3 && list[i] != NULL; i++)
		s->items[s->record.item_count++] = sl_str_from_cstr(list[i]);
	s->record.items = s->items;
}

static inline void sample_body(struct sample *s, enum record_type type)
{
	struct record *r = &s->record;
	switch (type) {
	case RECORD_COMMISSION:
		r->gtin = SL_STR(SAMPLE_GTIN);
		r->lot = SL_STR("LOT-42A");
		r->expiry = SL_STR("261231");
		sample_items(s, "SN0001", "SN0002", "SN0003");
		break;
	case RECORD_COMMISSION_CONTAINER:
		sample_items(s, SAMPLE_SSCC_1, SAMPLE_SSCC_2, NULL);
		break;
	case RECORD_AGGREGATE:
		r->parent = SL_STR(SAMPLE_SSCC_1);
		sample_items(s, SAMPLE_PACK_1, SAMPLE_PACK_2, NULL);
		break;
	case RECORD_DISAGGREGATE:
		r->parent = SL_STR(SAMPLE_SSCC_1); /* no items: all children */
		break;
	case RECORD_SHIP:
		r->to = SL_STR("site-b");
		sample_items(s, SAMPLE_SSCC_1, NULL, NULL);
		break;
	case RECORD_RECEIVE:
	case RECORD_REVERT:
		sample_items(s, type == RECORD_RECEIVE ? SAMPLE_SSCC_1 : SAMPLE_PACK_3, NULL, NULL);
		break;
	case RECORD_DECOMMISSION:
		r->decommission_reason = DECOMMISSION_DISPENSED;
		sample_items(s, SAMPLE_PACK_3, NULL, NULL);
		break;
	case RECORD_LOCK:
		r->lock_scope = LOCK_SCOPE_LOT;
		r->lock_target = SL_STR("(01)" SAMPLE_GTIN "(10)LOT-42A");
		r->lock_reason = LOCK_QUARANTINE;
		break;
	case RECORD_UNLOCK:
		r->lock_scope = LOCK_SCOPE_SERIAL;
		r->lock_target = SL_STR(SAMPLE_PACK_1);
		r->lock_reason = LOCK_QUARANTINE;
		break;
	case RECORD_DEVIATION:
		r->deviation_category = DEVIATION_DAMAGED;
		memset(s->refs[0], 0xab, RECORD_ID_BYTES);
		memset(s->refs[1], 0xcd, RECORD_ID_BYTES);
		r->refs = (const uint8_t(*)[RECORD_ID_BYTES])s->refs;
		r->ref_count = 2;
		r->text = SL_STR("Case arrived crushed.\nThree packs opened for inspection: all intact.");
		break;
	case RECORD_CHECKPOINT:
		r->origin = SL_STR("siteledger/sample-cluster");
		r->checkpoint_size = 1000;
		memset(r->checkpoint_root, 0x3c, sizeof r->checkpoint_root);
		memset(r->note_signature, 0x7a, 4 + 64); /* shape only: apply checks it, the codec does not */
		r->note_signature_len = 4 + 64;
		break;
	case RECORD_REGISTRY:
		r->registry_op = REGISTRY_SITE_ADD;
		r->subject_site = SL_STR("site-d");
		memset(r->subject_key, 0x4d, sizeof r->subject_key);
		r->node_id = 4;
		r->peer_addr = SL_STR("tcp://10.0.0.4:7400");
		r->client_addr = SL_STR("tcp://10.0.0.4:7401");
		r->node_role = REGISTRY_ROLE_VOTER;
		for (size_t i = 0; i < 2; i++) { /* shape only: apply verifies them, the codec does not */
			memset(s->cosignatures[i].key_id.bytes, 0x10 * (int)(i + 1), CRYPTO_KEY_ID_BYTES);
			memset(s->cosignatures[i].signature, 0x60 + (int)i, CRYPTO_SIGNATURE_BYTES);
		}
		r->cosignatures = s->cosignatures;
		r->cosignature_count = 2;
		break;
	}
}

/* A valid unsigned sample of `type`; sample_sign signs it with the sample key. */
static inline void sample_make(struct sample *s, enum record_type type)
{
	memset(s, 0, sizeof *s);
	record_init(&s->record);
	struct record *r = &s->record;
	r->type = type;
	r->site = SL_STR("site-a");
	r->actor = SL_STR("qa.lead@site-a");
	r->meaning = type == RECORD_DEVIATION ? MEANING_REVIEWED : MEANING_AUTHORED;
	r->event_time_ms = SAMPLE_EVENT_TIME_MS + type;
	for (size_t i = 0; i < RECORD_NONCE_BYTES; i++)
		r->nonce[i] = (uint8_t)(type * 16 + i + 1);
	if (type == RECORD_DECOMMISSION || type == RECORD_LOCK) {
		r->has_reason = true;
		r->reason = SL_STR("Deviation DV-2023-117: temperature excursion, café fridge 2");
	}
	if (type == RECORD_REVERT) {
		r->has_supersedes = true;
		memset(r->supersedes, 0x5e, sizeof r->supersedes);
	}
	sample_body(s, type);
}

static inline void sample_sign(struct sample *s)
{
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	sample_keypair(&pk, &sk);
	if (record_sign(&s->record, &sk) != 0)
		abort();
	crypto_secret_key_wipe(&sk);
}

/* Signed and encoded sample of `type` into out (initialised by the caller). */
static inline void sample_encode(enum record_type type, struct sl_buf *out)
{
	struct sample s;
	sample_make(&s, type);
	sample_sign(&s);
	if (record_encode(&s.record, out) != 0)
		abort();
}

/* Cutting an encoded map into its entries and putting it back together, for malformed inputs. */
#define SAMPLE_FIELDS_MAX 16
struct sample_field {
	uint64_t key;
	const uint8_t *value;
	size_t len;
};

static inline size_t sample_split(const uint8_t *bytes, size_t len, struct sample_field *fields)
{
	struct codec_reader reader;
	struct codec_map map;
	codec_reader_init(&reader, bytes, len);
	if (codec_map_begin(&reader, &map) != 0)
		abort();
	size_t n = 0;
	unsigned key;
	while (codec_map_next(&reader, &map, &key) == 1 && n < SAMPLE_FIELDS_MAX) {
		fields[n].key = key;
		fields[n].value = reader.bytes + reader.pos;
		if (codec_skip_value(&reader) != 0)
			abort();
		fields[n].len = reader.bytes + reader.pos - fields[n].value;
		n++;
	}
	return n;
}

static inline void sample_join(const struct sample_field *fields, size_t n, struct sl_buf *out)
{
	if (codec_write_map_header(out, (uint32_t)n) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (codec_write_uint(out, fields[i].key) != 0 ||
		    sl_buf_append(out, fields[i].value, fields[i].len) != 0)
			abort();
	}
}

#endif
