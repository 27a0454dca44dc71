/* ledger/record.h — signed serial-lifecycle records: canonical msgpack encoding and decoding.
 *
 * Owns: the in-memory form of a record, its one canonical byte encoding, the signed bytes, the
 * record id, and signing. The format is specified in docs/record-format.md; this header is the C view.
 *
 * Encoding (summary; the doc is normative):
 *   record   = map with small-integer keys in strictly ascending order, optional keys omitted:
 *              0 version (uint, = RECORD_FORMAT_VERSION)   1 type (uint, enum record_type)
 *              2 site (str)        3 key_id (bin 16)        4 actor (str)      5 meaning (uint)
 *              6 event_time_ms (int, ms since 1970-01-01T00:00:00Z)            7 nonce (bin 16)
 *              8 reason (str, optional)                    9 supersedes (bin 32, optional)
 *              10 body (map, per type, same key rules)     11 signature (bin 64)
 *   signed bytes = "siteledger/record/v1\0" || encoding of the record map without key 11
 *   record id    = SHA-256(signed bytes)
 * Canonical: shortest integer/str/bin/array/map headers, no floats, no nil, keys ascending, no
 * duplicates, no unknown keys, no trailing bytes. Any other encoding is rejected by the decoder.
 *
 * Rules:
 *  1. record_decode() borrows: every struct sl_str and byte pointer in the decoded record points
 *     into the input buffer, which must outlive the record. The arrays (items, refs, cosignatures)
 *     are heap memory owned by the record: release with record_clear().
 *  2. A record built by hand (for encoding) may point anywhere; record_clear() frees only arrays
 *     that record_decode() allocated (flag `owns_arrays`).
 *  3. Decoding checks structure and value ranges (lengths, enum values, item id syntax via
 *     ledger/gs1.h); it does not check the signature (record_verify does) nor lifecycle rules (apply).
 */
#ifndef SL_LEDGER_RECORD_H
#define SL_LEDGER_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "util/buf.h"
#include "util/error.h"

#define RECORD_FORMAT_VERSION 1
#define RECORD_SIGN_DOMAIN "siteledger/record/v1"
#define RECORD_ID_BYTES CRYPTO_SHA256_BYTES
#define RECORD_NONCE_BYTES 16
/* Limits (each bounds memory and apply time of one record; see docs/record-format.md). */
#define RECORD_BYTES_MAX 65536	   /* whole encoded record; 1000 items of 42 chars fit with room */
#define RECORD_ITEMS_MAX 1000	   /* serials per commission, items per ship/receive/... record */
#define RECORD_REFS_MAX 64	   /* record ids a deviation may reference */
#define RECORD_SITE_CHARS_MAX 32   /* site id: 1–32 of [a-z0-9-], starting with a letter */
#define RECORD_ACTOR_CHARS_MAX 64  /* person id, printable UTF-8 */
#define RECORD_REASON_CHARS_MAX 256 /* free-text justification */
#define RECORD_TEXT_CHARS_MAX 4096 /* deviation text */
#define RECORD_SITE_SIZE (RECORD_SITE_CHARS_MAX + 1)
#define RECORD_ORIGIN_CHARS_MAX 64  /* checkpoint origin: NOTE_NAME_BYTES_MAX (crypto/note.h) */
#define RECORD_ROOT_BYTES 32	    /* checkpoint root: MERKLE_HASH_BYTES */
/* Checkpoint note signature: C2SP key id (4 bytes) || Ed25519 signature (64) or timestamp +
 * signature (72, a tlog-cosignature); crypto/note.h NOTE_KEY_ID_BYTES + NOTE_SIG_BYTES_MAX. */
#define RECORD_NOTE_SIGNATURE_BYTES_MAX (4 + 72)
/* Registry records (docs/record-format.md "Registry records"). */
#define RECORD_COSIGN_DOMAIN "siteledger/record-cosign/v1" /* cosignatures: same message, own domain */
#define RECORD_COSIGNATURES_MAX 32 /* a majority of up to 64 sites; bounds one record's verify time */
#define RECORD_NODE_ID_MAX 1000000 /* raft node ids (= NODE_ID_MAX, node/config.h) */
#define RECORD_ADDR_CHARS_MAX 255  /* a nanomsg address such as tcp://10.0.0.4:7400 (node/config.h) */

enum record_type {
	RECORD_COMMISSION = 1,		 /* packs of one GTIN + lot + expiry */
	RECORD_COMMISSION_CONTAINER = 2, /* SSCCs */
	RECORD_AGGREGATE = 3,		 /* children into a parent container */
	RECORD_DISAGGREGATE = 4,	 /* children out of a parent; none listed = all */
	RECORD_SHIP = 5,		 /* items (containers imply contents) to a site */
	RECORD_RECEIVE = 6,		 /* items in transit to the record's site */
	RECORD_DECOMMISSION = 7,	 /* with enum decommission_reason */
	RECORD_REVERT = 8,		 /* EU FMD undo of a decommission */
	RECORD_LOCK = 9,
	RECORD_UNLOCK = 10,
	RECORD_DEVIATION = 11,
	RECORD_CHECKPOINT = 12,		 /* the signer's view of the tree head (C2SP checkpoint) */
	RECORD_REGISTRY = 13,		 /* site add/remove, key add/revoke; cosigned (record_cosign) */
};
#define RECORD_TYPE_MIN RECORD_COMMISSION
#define RECORD_TYPE_MAX RECORD_REGISTRY

enum record_meaning { /* 21 CFR Part 11 §11.50(a)(3): the meaning of the signature */
	MEANING_AUTHORED = 1,
	MEANING_REVIEWED = 2,
	MEANING_APPROVED = 3,
};

enum decommission_reason {
	DECOMMISSION_DISPENSED = 1,
	DECOMMISSION_DESTROYED = 2,
	DECOMMISSION_SAMPLE = 3,
	DECOMMISSION_FREE_SAMPLE = 4,
	DECOMMISSION_EXPORTED = 5,
	DECOMMISSION_STOLEN = 6,
	DECOMMISSION_EXPIRED = 7,
	DECOMMISSION_DAMAGED = 8,
	DECOMMISSION_CHECKED_OUT = 9,
};
#define DECOMMISSION_REASON_MAX DECOMMISSION_CHECKED_OUT

enum lock_scope {
	LOCK_SCOPE_SERIAL = 1, /* target is an item id */
	LOCK_SCOPE_LOT = 2,    /* target is a lot key "(01)GTIN(10)LOT" */
	LOCK_SCOPE_GTIN = 3,   /* target is "(01)GTIN" */
};

enum lock_reason {
	LOCK_QUARANTINE = 1, /* can be lifted by unlock */
	LOCK_RECALL = 2,     /* irreversible */
	LOCK_WITHDRAWAL = 3, /* irreversible */
};

enum deviation_category { /* HDA exception categories */
	DEVIATION_PRODUCT_NO_DATA = 1,		/* overage, wrong lot or serial received */
	DEVIATION_DATA_NO_PRODUCT = 2,		/* shortage, shipped but not received */
	DEVIATION_PACKAGING_LABELLING = 3,	/* aggregation errors */
	DEVIATION_DAMAGED = 4,
	DEVIATION_UNAVAILABLE_FOR_DISTRIBUTION = 5, /* locked, recalled */
	DEVIATION_OTHER = 6,
};
#define DEVIATION_CATEGORY_MAX DEVIATION_OTHER

enum registry_op {
	REGISTRY_SITE_ADD = 1,	  /* a new site, its first key and its node */
	REGISTRY_SITE_REMOVE = 2, /* the site's records and requests are refused from then on */
	REGISTRY_KEY_ADD = 3,	  /* another key for a registered site */
	REGISTRY_KEY_REVOKE = 4,  /* records signed by the key after this one are refused */
};
#define REGISTRY_OP_MAX REGISTRY_KEY_REVOKE

enum registry_role { /* what the new site's node is to become in the raft configuration */
	REGISTRY_ROLE_VOTER = 1,
	REGISTRY_ROLE_LEARNER = 2, /* auditors' read-only replicas: never promoted */
};
#define REGISTRY_ROLE_MAX REGISTRY_ROLE_LEARNER

/* One cosignature: Ed25519 by the key named, over RECORD_COSIGN_DOMAIN || the record's unsigned
 * encoding (the same message the record signature covers). */
struct record_cosignature {
	struct crypto_key_id key_id;
	uint8_t signature[CRYPTO_SIGNATURE_BYTES];
};

/* Body key numbers (msgpack map keys inside field 10), per type:
 *   commission:            0 gtin (str, GTIN-14)  1 lot (str)  2 expiry (str YYMMDD)  3 serials (array of str)
 *   commission_container:  0 items (array of container item ids)
 *   aggregate/disaggregate:0 parent (item id)     1 items (children; may be empty for disaggregate)
 *   ship:                  0 items                1 to (site id)
 *   receive, revert:       0 items
 *   decommission:          0 items                1 decommission reason (uint)
 *   lock, unlock:          0 scope (uint)         1 target (str)  2 lock reason (uint)
 *   deviation:             0 category (uint)      1 refs (array of bin 32)  2 text (str)
 *   checkpoint:            0 origin (str)         1 size (uint >= 1)  2 root (bin 32)
 *                          3 note signature (bin 68 or 76: C2SP key id || signature bytes)
 *   registry:              0 operation (uint)     1 site (str)    2 public key (bin 32)
 *                          3 node id (uint)       4 peer address (str)  5 client address (str)
 *                          6 role (uint)          7 cosignatures (array of [bin 16, bin 64])
 *                          Which of 2..6 are present depends on the operation (2: every one but
 *                          site-remove; 3..6: site-add only); 0, 1 and 7 always. Key 7 is NOT
 *                          part of the unsigned encoding: the signed bytes, the record id and
 *                          every cosignature cover the record without the signature and without
 *                          the cosignatures, so cosignatures can be added to a signed record.
 */
struct record {
	/* envelope */
	uint32_t version;
	enum record_type type;
	struct sl_str site;
	struct crypto_key_id key_id;
	struct sl_str actor;
	enum record_meaning meaning;
	int64_t event_time_ms;
	uint8_t nonce[RECORD_NONCE_BYTES];
	bool has_reason;
	struct sl_str reason;
	bool has_supersedes;
	uint8_t supersedes[RECORD_ID_BYTES];
	bool has_signature;
	uint8_t signature[CRYPTO_SIGNATURE_BYTES];

	/* body: which fields are meaningful depends on type (see the table above) */
	struct sl_str gtin;   /* commission */
	struct sl_str lot;    /* commission */
	struct sl_str expiry; /* commission */
	struct sl_str parent; /* aggregate, disaggregate */
	struct sl_str to;     /* ship */
	uint32_t decommission_reason;
	uint32_t lock_scope;
	struct sl_str lock_target;
	uint32_t lock_reason;
	uint32_t deviation_category;
	struct sl_str text;	/* deviation */
	struct sl_str *items;	/* serials (commission) or item ids (all other item-carrying types) */
	size_t item_count;
	const uint8_t (*refs)[RECORD_ID_BYTES]; /* deviation */
	size_t ref_count;
	struct sl_str origin;	  /* checkpoint: the log's C2SP origin line */
	uint64_t checkpoint_size; /* checkpoint: tree size (ledger entries covered) */
	uint8_t checkpoint_root[RECORD_ROOT_BYTES];
	uint8_t note_signature[RECORD_NOTE_SIGNATURE_BYTES_MAX]; /* checkpoint: key id || signature */
	size_t note_signature_len;
	uint32_t registry_op;		/* registry: enum registry_op */
	struct sl_str subject_site;	/* registry: the site the change is about */
	uint8_t subject_key[CRYPTO_PUBLIC_KEY_BYTES]; /* registry: the key added or revoked; zero when absent */
	uint64_t node_id;		/* registry site-add: the raft id of the site's node */
	struct sl_str peer_addr;	/* registry site-add: where peers reach that node */
	struct sl_str client_addr;	/* registry site-add: where clients reach it */
	uint32_t node_role;		/* registry site-add: enum registry_role */
	const struct record_cosignature *cosignatures; /* registry: key ids strictly ascending */
	size_t cosignature_count;
	bool owns_arrays;
	bool owns_cosignatures; /* cosignatures were allocated by record_decode or record_cosign */
};

/* Zero everything (version = RECORD_FORMAT_VERSION). */
void record_init(struct record *record);
void record_clear(struct record *record);

/* Canonical encoding of the whole record (signature required) into out (appended). */
int record_encode(const struct record *record, struct sl_buf *out);
/* The signed bytes: domain || encoding without the signature (appended to out). */
int record_signed_bytes(const struct record *record, struct sl_buf *out);
/* Fill key_id from the key, a fresh random nonce if all-zero, then sign. */
int record_sign(struct record *record, const struct crypto_secret_key *sk);
/* record id = SHA-256(signed bytes). */
int record_id(const struct record *record, uint8_t id[RECORD_ID_BYTES]);

/* Check every value rule the decoder checks (lengths, enum ranges, site and item id syntax) on a
 * record built by hand; record_encode, record_signed_bytes and record_sign call it, so a record
 * that would not decode is never encoded or signed. Fills `detail` with the failing field. */
int record_validate(const struct record *record, struct sl_error_detail *detail);
/* The encoding without the signature (no domain), appended to out: the `message` of a
 * crypto_verify_job with domain RECORD_SIGN_DOMAIN, for verifying many records with
 * crypto_verify_batch. */
int record_encode_unsigned(const struct record *record, struct sl_buf *out);
/* The same bytes cut out of an encoding record_decode accepted, without re-encoding or
 * re-validating: canonical form puts the signature field last, so the unsigned encoding is the
 * input with one key fewer in the map header and the last 67 bytes removed. Appends to out;
 * SL_EINVAL when `bytes` do not have that shape (call it only on decoded records), and for a
 * registry record, whose cosignatures sit inside the body (use record_encode_unsigned). */
int record_unsigned_from_bytes(const uint8_t *bytes, size_t len, struct sl_buf *out);

/* Registry cosignatures (docs/record-format.md "Registry records"). record_cosign adds one by sk
 * to a SIGNED registry record (its key id and nonce, part of what is cosigned, are fixed then),
 * keeping key ids ascending: SL_EEXIST when that key already cosigned, SL_ELIMIT at
 * RECORD_COSIGNATURES_MAX, SL_EINVAL for another type or an unsigned record, SL_ENOMEM. The
 * array is then owned by the record (record_clear frees it). The record signature and id do not
 * change. record_cosignature_verify: 0 when cosignature i verifies under pk and pk is the key it
 * names, SL_EBADSIG otherwise. */
int record_cosign(struct record *record, const struct crypto_secret_key *sk);
int record_cosignature_verify(const struct record *record, size_t i, const struct crypto_public_key *pk);

/* Strict decoding (see Rules). Errors: SL_ETRUNCATED, SL_ENONCANONICAL, SL_EDUPFIELD,
 * SL_EUNKNOWNFIELD, SL_EOVERSIZE, SL_ETYPE, SL_EMISSING, SL_EVERSION, SL_ETRAILING, SL_EVALUE,
 * GS1 errors for malformed identifiers, SL_ENOMEM. On error the record holds nothing to free. */
int record_decode(const uint8_t *bytes, size_t len, struct record *record, struct sl_error_detail *detail);

/* Decoded record + its signed bytes' location: the signed bytes are domain || bytes[0..n) with the
 * signature field removed; record_decode users call this to verify without re-encoding.
 * Implementation note: the unsigned encoding is rebuilt from the decoded fields (the decoder admits
 * one encoding only, so it equals the bytes received without field 11). 0 when valid; SL_EBADSIG
 * when the signature is missing or wrong or `pk` is not the key named by key_id; SL_ENOMEM. */
int record_verify(const struct record *record, const struct crypto_public_key *pk);

/* Names for printing and parsing (CLI, JSON output, docs). NULL / -1 when unknown. */
const char *record_type_name(int type);		  /* "commission", "commission-container", ... */
int record_type_from_name(const char *name);
const char *record_meaning_name(int meaning);	  /* "authored", ... */
int record_meaning_from_name(const char *name);
const char *decommission_reason_name(int reason); /* "dispensed", "free_sample", ... */
int decommission_reason_from_name(const char *name);
const char *lock_scope_name(int scope);		  /* "serial", "lot", "gtin" */
int lock_scope_from_name(const char *name);
const char *lock_reason_name(int reason);	  /* "quarantine", "recall", "withdrawal" */
int lock_reason_from_name(const char *name);
const char *deviation_category_name(int category); /* "product_no_data", ... */
int deviation_category_from_name(const char *name);
const char *registry_op_name(int op);		  /* "site-add", "site-remove", "key-add", "key-revoke" */
int registry_op_from_name(const char *name);
const char *registry_role_name(int role);	  /* "voter", "learner" */
int registry_role_from_name(const char *name);

/* Site id syntax: 1–32 of [a-z0-9-], first a letter. */
bool record_site_id_valid(const char *text, size_t len);

#endif
