/* ledger/record_internal.h — the record layout shared by record_encode.c, record_decode.c and
 * record_check.c (not for other modules: they use ledger/record.h).
 *
 * One table (record_body_schema) says which field sits at which body key for each type, so the
 * encoder and the decoder cannot disagree about the layout (docs/record-format.md "Bodies").
 */
#ifndef SL_LEDGER_RECORD_INTERNAL_H
#define SL_LEDGER_RECORD_INTERNAL_H

#include <stdint.h>

#include "ledger/gs1.h"
#include "ledger/record.h"

/* Envelope keys (record.h "Encoding"). */
enum record_key {
	RECORD_KEY_VERSION = 0,
	RECORD_KEY_TYPE = 1,
	RECORD_KEY_SITE = 2,
	RECORD_KEY_KEY_ID = 3,
	RECORD_KEY_ACTOR = 4,
	RECORD_KEY_MEANING = 5,
	RECORD_KEY_EVENT_TIME = 6,
	RECORD_KEY_NONCE = 7,
	RECORD_KEY_REASON = 8,
	RECORD_KEY_SUPERSEDES = 9,
	RECORD_KEY_BODY = 10,
	RECORD_KEY_SIGNATURE = 11,
};
#define RECORD_KEY_COUNT 12
/* Every key but reason (8) and supersedes (9) is required in a record as transmitted. */
#define RECORD_KEYS_REQUIRED (UINT64_C(0xcff))

/* Bytes the signature field adds to the encoding: key 11 (1), bin 8 header (2), 64 bytes. The map
 * header stays one byte (fixmap) with or without it, since a record has at most 12 entries. */
#define RECORD_SIGNATURE_FIELD_BYTES (1 + 2 + CRYPTO_SIGNATURE_BYTES)

/* Body fields; RECORD_FIELD_NONE (0) marks an unused body key. */
enum record_field {
	RECORD_FIELD_NONE = 0,
	RECORD_FIELD_GTIN,
	RECORD_FIELD_LOT,
	RECORD_FIELD_EXPIRY,
	RECORD_FIELD_SERIALS,
	RECORD_FIELD_ITEMS,
	RECORD_FIELD_PARENT,
	RECORD_FIELD_TO,
	RECORD_FIELD_DECOMMISSION_REASON,
	RECORD_FIELD_SCOPE,
	RECORD_FIELD_TARGET,
	RECORD_FIELD_LOCK_REASON,
	RECORD_FIELD_CATEGORY,
	RECORD_FIELD_REFS,
	RECORD_FIELD_TEXT,
	RECORD_FIELD_ORIGIN,	     /* checkpoint */
	RECORD_FIELD_SIZE,	     /* checkpoint */
	RECORD_FIELD_ROOT,	     /* checkpoint */
	RECORD_FIELD_NOTE_SIGNATURE, /* checkpoint */
	RECORD_FIELD_OPERATION,	     /* registry */
	RECORD_FIELD_SUBJECT_SITE,   /* registry */
	RECORD_FIELD_PUBLIC_KEY,     /* registry */
	RECORD_FIELD_NODE_ID,	     /* registry */
	RECORD_FIELD_PEER_ADDR,	     /* registry */
	RECORD_FIELD_CLIENT_ADDR,    /* registry */
	RECORD_FIELD_ROLE,	     /* registry */
	RECORD_FIELD_COSIGNATURES,   /* registry; never in the unsigned encoding */
};
#define RECORD_BODY_KEYS_MAX 8 /* the widest body (registry) has keys 0..7 */
#define RECORD_REGISTRY_KEY_COSIGNATURES 7

/* record_body_schema[type][key]: the field at that body key. All listed fields are required,
 * except in registry bodies, where record_body_keys says which are present. */
extern const enum record_field record_body_schema[RECORD_TYPE_MAX + 1][RECORD_BODY_KEYS_MAX];

/* Bit mask of the body keys a record of this type (and, for registry records, this operation)
 * carries; with_cosignatures false leaves out the registry cosignatures (the unsigned encoding).
 * A registry record with an operation out of range allows every key (validation refuses it). */
uint64_t record_body_keys(const struct record *record, bool with_cosignatures);

/* Byte bounds the decoder applies while reading (longer: SL_EOVERSIZE). Text limits count code
 * points, and a code point takes at most 4 bytes in UTF-8 (RFC 3629). */
#define RECORD_UTF8_BYTES_PER_CHAR 4
#define RECORD_GTIN_CHARS GS1_GTIN_DIGITS
#define RECORD_LOT_TARGET_CHARS_MAX (GS1_LOT_KEY_SIZE - 1)

const char *record_key_name(unsigned key);	      /* "site", "body", ...; "?" when unknown */
const char *record_field_name(enum record_field field); /* "gtin", "items", ... */
/* The byte bound (see above) of a text field of the envelope or the body. */
size_t record_field_bytes_max(enum record_field field);

/* Canonical encoding without validation; the signature is written when with_signature. */
int record_write(const struct record *record, bool with_signature, struct sl_buf *out);

#endif
