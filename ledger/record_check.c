/* ledger/record_check.c — value rules of records, shared by the decoder and the encoder.
 *
 * docs/record-format.md ("Fields", "Bodies") is normative. The decoder checks structure while it
 * reads (types, canonical forms, keys, counts) and then calls record_validate for values; the
 * encoder calls record_validate first. So a record encodes exactly when it would decode.
 *
 * Error codes: a string longer than its limit is SL_EOVERSIZE, a count above its limit too; an
 * empty required string or list, an enum out of range or a malformed site id is SL_EVALUE; GS1
 * identifiers fail with the ledger/gs1.h code (SL_ESYNTAX, SL_ECHECKDIGIT, ...). Item ids and lock
 * targets must be the canonical text form (GS1 element string, see gs1.h), not another spelling.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "ledger/codec.h"
#include "ledger/gs1.h"
#include "ledger/record.h"
#include "ledger/record_internal.h"

const enum record_field record_body_schema[RECORD_TYPE_MAX + 1][RECORD_BODY_KEYS_MAX] = {
	[RECORD_COMMISSION] = { RECORD_FIELD_GTIN, RECORD_FIELD_LOT, RECORD_FIELD_EXPIRY, RECORD_FIELD_SERIALS },
	[RECORD_COMMISSION_CONTAINER] = { RECORD_FIELD_ITEMS },
	[RECORD_AGGREGATE] = { RECORD_FIELD_PARENT, RECORD_FIELD_ITEMS },
	[RECORD_DISAGGREGATE] = { RECORD_FIELD_PARENT, RECORD_FIELD_ITEMS },
	[RECORD_SHIP] = { RECORD_FIELD_ITEMS, RECORD_FIELD_TO },
	[RECORD_RECEIVE] = { RECORD_FIELD_ITEMS },
	[RECORD_DECOMMISSION] = { RECORD_FIELD_ITEMS, RECORD_FIELD_DECOMMISSION_REASON },
	[RECORD_REVERT] = { RECORD_FIELD_ITEMS },
	[RECORD_LOCK] = { RECORD_FIELD_SCOPE, RECORD_FIELD_TARGET, RECORD_FIELD_LOCK_REASON },
	[RECORD_UNLOCK] = { RECORD_FIELD_SCOPE, RECORD_FIELD_TARGET, RECORD_FIELD_LOCK_REASON },
	[RECORD_DEVIATION] = { RECORD_FIELD_CATEGORY, RECORD_FIELD_REFS, RECORD_FIELD_TEXT },
	[RECORD_CHECKPOINT] = { RECORD_FIELD_ORIGIN, RECORD_FIELD_SIZE, RECORD_FIELD_ROOT, RECORD_FIELD_NOTE_SIGNATURE },
	[RECORD_REGISTRY] = { RECORD_FIELD_OPERATION, RECORD_FIELD_SUBJECT_SITE, RECORD_FIELD_PUBLIC_KEY,
			      RECORD_FIELD_NODE_ID, RECORD_FIELD_PEER_ADDR, RECORD_FIELD_CLIENT_ADDR,
			      RECORD_FIELD_ROLE, RECORD_FIELD_COSIGNATURES },
};

/* Registry body keys per operation (record.h "Body key numbers"). */
#define REGISTRY_KEYS_ALWAYS (UINT64_C(1) << 0 | UINT64_C(1) << 1 | UINT64_C(1) << RECORD_REGISTRY_KEY_COSIGNATURES)
#define REGISTRY_KEY_PUBLIC_KEY (UINT64_C(1) << 2)
#define REGISTRY_KEYS_NODE (UINT64_C(0xf) << 3) /* node id, peer, client, role */

uint64_t record_body_keys(const struct record *record, bool with_cosignatures)
{
	uint64_t keys = 0;
	const enum record_field *schema = record_body_schema[record->type];
	for (unsigned key = 0; key < RECORD_BODY_KEYS_MAX; key++)
		if (schema[key] != RECORD_FIELD_NONE)
			keys |= UINT64_C(1) << key;
	if (record->type == RECORD_REGISTRY) {
		switch (record->registry_op) {
		case REGISTRY_SITE_ADD:
			keys = REGISTRY_KEYS_ALWAYS | REGISTRY_KEY_PUBLIC_KEY | REGISTRY_KEYS_NODE;
			break;
		case REGISTRY_SITE_REMOVE:
			keys = REGISTRY_KEYS_ALWAYS;
			break;
		case REGISTRY_KEY_ADD:
		case REGISTRY_KEY_REVOKE:
			keys = REGISTRY_KEYS_ALWAYS | REGISTRY_KEY_PUBLIC_KEY;
			break;
		default:
			break; /* every key: record_validate refuses the operation */
		}
		if (!with_cosignatures)
			keys &= ~(UINT64_C(1) << RECORD_REGISTRY_KEY_COSIGNATURES);
	}
	return keys;
}

_Static_assert(RECORD_ORIGIN_CHARS_MAX == NOTE_NAME_BYTES_MAX, "a record's origin is a note origin");
_Static_assert(RECORD_ROOT_BYTES == MERKLE_HASH_BYTES, "a record's root is a Merkle root");
_Static_assert(RECORD_NOTE_SIGNATURE_BYTES_MAX == NOTE_KEY_ID_BYTES + NOTE_SIG_BYTES_MAX,
	       "a record holds the longest C2SP signature (a cosignature)");

size_t record_field_bytes_max(enum record_field field)
{
	switch (field) {
	case RECORD_FIELD_GTIN:
		return RECORD_GTIN_CHARS;
	case RECORD_FIELD_LOT:
		return GS1_LOT_CHARS_MAX;
	case RECORD_FIELD_EXPIRY:
		return GS1_DATE_DIGITS;
	case RECORD_FIELD_SERIALS:
		return GS1_SERIAL_CHARS_MAX;
	case RECORD_FIELD_ITEMS:
	case RECORD_FIELD_PARENT:
		return GS1_ITEM_ID_CHARS_MAX;
	case RECORD_FIELD_TO:
		return RECORD_SITE_CHARS_MAX;
	case RECORD_FIELD_TARGET:
		return RECORD_LOT_TARGET_CHARS_MAX > GS1_ITEM_ID_CHARS_MAX ? RECORD_LOT_TARGET_CHARS_MAX
									   : GS1_ITEM_ID_CHARS_MAX;
	case RECORD_FIELD_TEXT:
		return RECORD_TEXT_CHARS_MAX * RECORD_UTF8_BYTES_PER_CHAR;
	case RECORD_FIELD_ORIGIN:
		return RECORD_ORIGIN_CHARS_MAX;
	case RECORD_FIELD_SUBJECT_SITE:
		return RECORD_SITE_CHARS_MAX;
	case RECORD_FIELD_PEER_ADDR:
	case RECORD_FIELD_CLIENT_ADDR:
		return RECORD_ADDR_CHARS_MAX;
	default:
		return 0;
	}
}

/* A borrowed string's bytes for the gs1 functions; a hand-built record may leave ptr NULL. */
static const char *text_of(struct sl_str s)
{
	return s.ptr != NULL ? s.ptr : "";
}

bool record_site_id_valid(const char *text, size_t len)
{
	if (text == NULL || len == 0 || len > RECORD_SITE_CHARS_MAX)
		return false;
	if (text[0] < 'a' || text[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* Free text (actor, reason, deviation text): 1..chars_max code points of UTF-8, no control
 * characters (C0, DEL, C1); TAB and LF allowed where `multiline`. */
static int check_text(struct sl_str text, size_t chars_max, bool multiline, const char *name,
		      struct sl_error_detail *detail)
{
	if (text.len == 0)
		return sl_error_set(detail, SL_EVALUE, "%s: empty", name);
	if (text.len > chars_max * RECORD_UTF8_BYTES_PER_CHAR)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %zu characters", name, chars_max);
	size_t chars;
	const uint8_t *bytes = (const uint8_t *)text.ptr;
	if (!codec_utf8_valid(bytes, text.len, &chars))
		return sl_error_set(detail, SL_EVALUE, "%s: not valid UTF-8", name);
	if (chars > chars_max)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %zu characters", name, chars_max);
	for (size_t i = 0; i < text.len; i++) {
		uint8_t b = bytes[i];
		bool control = b < 0x20 || b == 0x7f || (b == 0xc2 && i + 1 < text.len && bytes[i + 1] < 0xa0);
		if (control && !(multiline && (b == '\t' || b == '\n')))
			return sl_error_set(detail, SL_EVALUE, "%s: control character at byte %zu", name, i);
	}
	return 0;
}

static int check_site(struct sl_str site, const char *name, struct sl_error_detail *detail)
{
	if (site.len > RECORD_SITE_CHARS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %d characters", name,
				    RECORD_SITE_CHARS_MAX);
	if (!record_site_id_valid(site.ptr, site.len))
		return sl_error_set(detail, SL_EVALUE, "%s: not a site id (1-32 of a-z 0-9 -, first a letter)",
				    name);
	return 0;
}

/* A GTIN-14 in canonical form: 14 digits with a valid check digit. */
static int check_gtin14(const char *text, size_t len, const char *name, struct sl_error_detail *detail)
{
	if (len > RECORD_GTIN_CHARS)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %d digits", name, RECORD_GTIN_CHARS);
	char copy[RECORD_GTIN_CHARS + 1], normal[GS1_GTIN_DIGITS + 1];
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	struct sl_error_detail gs1;
	int rc = gs1_gtin_normalize(copy, normal, &gs1);
	if (rc != 0)
		return sl_error_set(detail, rc, "%s: %s", name, gs1.text);
	if (len != RECORD_GTIN_CHARS || strcmp(copy, normal) != 0)
		return sl_error_set(detail, SL_EVALUE, "%s: not in 14-digit form", name);
	return 0;
}

static int check_cset82(struct sl_str text, size_t max_chars, const char *name, struct sl_error_detail *detail)
{
	if (text.len > max_chars)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %zu characters", name, max_chars);
	struct sl_error_detail gs1;
	int rc = gs1_cset82_validate(text_of(text), text.len, max_chars, &gs1);
	return rc == 0 ? 0 : sl_error_set(detail, rc, "%s: %s", name, gs1.text);
}

/* A canonical item id; `container_only` requires an SSCC "(00)" id. */
static int check_item_id(struct sl_str id, bool container_only, const char *name, struct sl_error_detail *detail)
{
	if (id.len > GS1_ITEM_ID_CHARS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %d characters", name,
				    GS1_ITEM_ID_CHARS_MAX);
	struct gs1_item item;
	struct sl_error_detail gs1;
	int rc = gs1_item_id_parse(text_of(id), id.len, &item, &gs1);
	if (rc != 0)
		return sl_error_set(detail, rc, "%s: %s", name, gs1.text);
	if (container_only && item.kind != GS1_KIND_CONTAINER)
		return sl_error_set(detail, SL_EVALUE, "%s: not a container (00) id", name);
	return 0;
}

/* Lot key "(01)" GTIN-14 "(10)" lot (gs1.h "Lot key"). */
static int check_lot_key(struct sl_str target, const char *name, struct sl_error_detail *detail)
{
	enum { GTIN_AT = 4, LOT_AI_AT = 4 + GS1_GTIN_DIGITS, LOT_AT = LOT_AI_AT + 4 };
	if (target.len > RECORD_LOT_TARGET_CHARS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %d characters", name,
				    RECORD_LOT_TARGET_CHARS_MAX);
	if (target.len <= LOT_AT || memcmp(target.ptr, "(01)", 4) != 0 ||
	    memcmp(target.ptr + LOT_AI_AT, "(10)", 4) != 0)
		return sl_error_set(detail, SL_ESYNTAX, "%s: not a lot key (01)GTIN(10)LOT", name);
	int rc = check_gtin14(target.ptr + GTIN_AT, GS1_GTIN_DIGITS, name, detail);
	if (rc != 0)
		return rc;
	struct sl_str lot = { target.ptr + LOT_AT, target.len - LOT_AT };
	return check_cset82(lot, GS1_LOT_CHARS_MAX, name, detail);
}

static int check_lock_target(const struct record *record, struct sl_error_detail *detail)
{
	struct sl_str target = record->lock_target;
	switch (record->lock_scope) {
	case LOCK_SCOPE_SERIAL:
		return check_item_id(target, false, "body.target", detail);
	case LOCK_SCOPE_LOT:
		return check_lot_key(target, "body.target", detail);
	case LOCK_SCOPE_GTIN:
		if (target.len != 4 + GS1_GTIN_DIGITS || memcmp(target.ptr, "(01)", 4) != 0)
			return sl_error_set(detail, SL_ESYNTAX, "body.target: not a GTIN key (01)GTIN");
		return check_gtin14(target.ptr + 4, target.len - 4, "body.target", detail);
	default:
		return sl_error_set(detail, SL_EVALUE, "body.scope: %u out of range", record->lock_scope);
	}
}

/* A C2SP origin: 1..64 bytes of printable ASCII without spaces (crypto/note.h names). */
static int check_origin(struct sl_str origin, struct sl_error_detail *detail)
{
	if (origin.len > RECORD_ORIGIN_CHARS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "body.origin: longer than %d bytes", RECORD_ORIGIN_CHARS_MAX);
	if (origin.len == 0)
		return sl_error_set(detail, SL_EVALUE, "body.origin: empty");
	for (size_t i = 0; i < origin.len; i++) {
		unsigned char c = (unsigned char)origin.ptr[i];
		if (c <= 0x20 || c >= 0x7f)
			return sl_error_set(detail, SL_EVALUE, "body.origin: byte %zu is not printable ASCII", i);
	}
	return 0;
}

/* Key id and an Ed25519 signature (68 bytes) or a tlog-cosignature (76: with its timestamp). */
static int check_note_signature(const struct record *record, struct sl_error_detail *detail)
{
	size_t len = record->note_signature_len;
	if (len != NOTE_KEY_ID_BYTES + 64 && len != NOTE_KEY_ID_BYTES + 72)
		return sl_error_set(detail, SL_EVALUE, "body.signature: %zu bytes, expected 68 or 76", len);
	return 0;
}

static int check_enum(uint32_t value, uint32_t max, const char *name, struct sl_error_detail *detail)
{
	if (value < 1 || value > max)
		return sl_error_set(detail, SL_EVALUE, "%s: %u out of range 1..%u", name, value, max);
	return 0;
}

/* A node address: 1..255 bytes of printable ASCII without spaces, containing "://" (a nanomsg
 * transport address such as tcp://10.0.0.4:7400). */
static int check_addr(struct sl_str addr, const char *name, struct sl_error_detail *detail)
{
	if (addr.len > RECORD_ADDR_CHARS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "%s: longer than %d bytes", name, RECORD_ADDR_CHARS_MAX);
	bool scheme = false;
	for (size_t i = 0; i < addr.len; i++) {
		unsigned char c = (unsigned char)addr.ptr[i];
		if (c <= 0x20 || c >= 0x7f)
			return sl_error_set(detail, SL_EVALUE, "%s: byte %zu is not printable ASCII", name, i);
		scheme = scheme || (i + 3 <= addr.len && i > 0 && memcmp(addr.ptr + i, "://", 3) == 0);
	}
	if (!scheme)
		return sl_error_set(detail, SL_EVALUE, "%s: not an address like tcp://HOST:PORT", name);
	return 0;
}

static bool bytes_zero(const uint8_t *bytes, size_t len)
{
	uint8_t any = 0;
	for (size_t i = 0; i < len; i++)
		any |= bytes[i];
	return any == 0;
}

/* Key ids strictly ascending: one cosignature per key, one order (canonical form). */
static int check_cosignatures(const struct record *record, struct sl_error_detail *detail)
{
	if (record->cosignature_count > RECORD_COSIGNATURES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "body.cosignatures: more than %d", RECORD_COSIGNATURES_MAX);
	if (record->cosignature_count > 0 && record->cosignatures == NULL)
		return sl_error_set(detail, SL_EINVAL, "body.cosignatures: no array");
	for (size_t i = 1; i < record->cosignature_count; i++)
		if (memcmp(record->cosignatures[i - 1].key_id.bytes, record->cosignatures[i].key_id.bytes,
			   CRYPTO_KEY_ID_BYTES) >= 0)
			return sl_error_set(detail, SL_EVALUE,
					    "body.cosignatures[%zu]: key ids must be strictly ascending", i);
	return 0;
}

/* Fields an operation does not carry must be empty in a record built by hand: the encoder would
 * drop them silently, and a decoded record would then differ from the one signed. */
static int check_registry_absent(const struct record *record, uint64_t keys, struct sl_error_detail *detail)
{
	const char *op = registry_op_name((int)record->registry_op);
	if (!(keys & (UINT64_C(1) << 2)) && !bytes_zero(record->subject_key, sizeof record->subject_key))
		return sl_error_set(detail, SL_EVALUE, "body.public_key: not a field of %s", op);
	if (!(keys & (UINT64_C(1) << 3)) &&
	    (record->node_id != 0 || record->peer_addr.len != 0 || record->client_addr.len != 0 || record->node_role != 0))
		return sl_error_set(detail, SL_EVALUE, "body.node: not a field of %s", op);
	return 0;
}

static int check_item(const struct record *record, enum record_field field, size_t i, const char *where,
		      struct sl_error_detail *detail)
{
	if (field == RECORD_FIELD_SERIALS)
		return check_cset82(record->items[i], GS1_SERIAL_CHARS_MAX, where, detail);
	return check_item_id(record->items[i], record->type == RECORD_COMMISSION_CONTAINER, where, detail);
}

/* The item list: serials of a commission, item ids otherwise. */
static int check_items(const struct record *record, enum record_field field, struct sl_error_detail *detail)
{
	size_t min = record->type == RECORD_DISAGGREGATE ? 0 : 1; /* empty disaggregate = all children */
	const char *name = record_field_name(field);
	if (record->item_count > RECORD_ITEMS_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "body.%s: more than %d", name, RECORD_ITEMS_MAX);
	if (record->item_count < min)
		return sl_error_set(detail, SL_EVALUE, "body.%s: empty", name);
	if (record->item_count > 0 && record->items == NULL)
		return sl_error_set(detail, SL_EINVAL, "body.%s: no array", name);
	for (size_t i = 0; i < record->item_count; i++) {
		/* the checks are pure: the place is formatted only for an item that fails (a record of
		 * 100 serials is checked on every node, several times on the leader) */
		int rc = check_item(record, field, i, "body.items[]", detail);
		if (rc != 0) {
			char where[48];
			snprintf(where, sizeof where, "body.%s[%zu]", name, i);
			return check_item(record, field, i, where, detail);
		}
	}
	return 0;
}

static int check_field(const struct record *record, enum record_field field, struct sl_error_detail *detail)
{
	struct sl_error_detail gs1;
	int rc;
	switch (field) {
	case RECORD_FIELD_GTIN:
		return check_gtin14(record->gtin.ptr, record->gtin.len, "body.gtin", detail);
	case RECORD_FIELD_LOT:
		return check_cset82(record->lot, GS1_LOT_CHARS_MAX, "body.lot", detail);
	case RECORD_FIELD_EXPIRY:
		if (record->expiry.len > GS1_DATE_DIGITS)
			return sl_error_set(detail, SL_EOVERSIZE, "body.expiry: longer than YYMMDD");
		rc = gs1_date_validate(text_of(record->expiry), record->expiry.len, &gs1);
		return rc == 0 ? 0 : sl_error_set(detail, rc, "body.expiry: %s", gs1.text);
	case RECORD_FIELD_SERIALS:
	case RECORD_FIELD_ITEMS:
		return check_items(record, field, detail);
	case RECORD_FIELD_PARENT:
		return check_item_id(record->parent, false, "body.parent", detail);
	case RECORD_FIELD_TO:
		return check_site(record->to, "body.to", detail);
	case RECORD_FIELD_DECOMMISSION_REASON:
		return check_enum(record->decommission_reason, DECOMMISSION_REASON_MAX, "body.reason", detail);
	case RECORD_FIELD_SCOPE:
		return check_enum(record->lock_scope, LOCK_SCOPE_GTIN, "body.scope", detail);
	case RECORD_FIELD_TARGET:
		return check_lock_target(record, detail);
	case RECORD_FIELD_LOCK_REASON:
		return check_enum(record->lock_reason, LOCK_WITHDRAWAL, "body.reason", detail);
	case RECORD_FIELD_CATEGORY:
		return check_enum(record->deviation_category, DEVIATION_CATEGORY_MAX, "body.category", detail);
	case RECORD_FIELD_REFS:
		if (record->ref_count > RECORD_REFS_MAX)
			return sl_error_set(detail, SL_EOVERSIZE, "body.refs: more than %d", RECORD_REFS_MAX);
		if (record->ref_count > 0 && record->refs == NULL)
			return sl_error_set(detail, SL_EINVAL, "body.refs: no array");
		return 0;
	case RECORD_FIELD_TEXT:
		return check_text(record->text, RECORD_TEXT_CHARS_MAX, true, "body.text", detail);
	case RECORD_FIELD_ORIGIN:
		return check_origin(record->origin, detail);
	case RECORD_FIELD_SIZE:
		if (record->checkpoint_size == 0) /* a checkpoint of nothing attests nothing */
			return sl_error_set(detail, SL_EVALUE, "body.size: 0");
		return 0;
	case RECORD_FIELD_NOTE_SIGNATURE:
		return check_note_signature(record, detail);
	case RECORD_FIELD_OPERATION:
		return check_enum(record->registry_op, REGISTRY_OP_MAX, "body.operation", detail);
	case RECORD_FIELD_SUBJECT_SITE:
		return check_site(record->subject_site, "body.site", detail);
	case RECORD_FIELD_PUBLIC_KEY:
		if (bytes_zero(record->subject_key, sizeof record->subject_key))
			return sl_error_set(detail, SL_EVALUE, "body.public_key: all zero");
		return 0;
	case RECORD_FIELD_NODE_ID:
		if (record->node_id < 1 || record->node_id > RECORD_NODE_ID_MAX)
			return sl_error_set(detail, SL_EVALUE, "body.node_id: out of range 1..%d", RECORD_NODE_ID_MAX);
		return 0;
	case RECORD_FIELD_PEER_ADDR:
		return check_addr(record->peer_addr, "body.peer", detail);
	case RECORD_FIELD_CLIENT_ADDR:
		return check_addr(record->client_addr, "body.client", detail);
	case RECORD_FIELD_ROLE:
		return check_enum(record->node_role, REGISTRY_ROLE_MAX, "body.role", detail);
	case RECORD_FIELD_COSIGNATURES:
		return check_cosignatures(record, detail);
	default:
		return 0; /* ROOT: any 32 bytes */
	}
}

static int check_envelope(const struct record *record, struct sl_error_detail *detail)
{
	if (record->version != RECORD_FORMAT_VERSION)
		return sl_error_set(detail, SL_EVERSION, "version: %u, expected %d", record->version,
				    RECORD_FORMAT_VERSION);
	int rc = check_enum((uint32_t)record->type, RECORD_TYPE_MAX, "type", detail);
	if (rc == 0)
		rc = check_site(record->site, "site", detail);
	if (rc == 0)
		rc = check_text(record->actor, RECORD_ACTOR_CHARS_MAX, false, "actor", detail);
	if (rc == 0)
		rc = check_enum((uint32_t)record->meaning, MEANING_APPROVED, "meaning", detail);
	if (rc == 0 && record->event_time_ms < 0)
		rc = sl_error_set(detail, SL_EVALUE, "event_time_ms: before 1970");
	if (rc == 0 && record->has_reason)
		rc = check_text(record->reason, RECORD_REASON_CHARS_MAX, true, "reason", detail);
	return rc;
}

int record_validate(const struct record *record, struct sl_error_detail *detail)
{
	if (record == NULL)
		return sl_error_set(detail, SL_EINVAL, "no record");
	int rc = check_envelope(record, detail);
	uint64_t keys = rc == 0 ? record_body_keys(record, true) : 0;
	for (unsigned key = 0; rc == 0 && key < RECORD_BODY_KEYS_MAX; key++) {
		enum record_field field = record_body_schema[record->type][key];
		if (field != RECORD_FIELD_NONE && (keys & (UINT64_C(1) << key)))
			rc = check_field(record, field, detail);
	}
	if (rc == 0 && record->type == RECORD_REGISTRY)
		rc = check_registry_absent(record, keys, detail);
	return rc;
}
