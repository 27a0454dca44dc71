/* epcis/hash.c — CBV 2.0 event hash IDs (CBV 2.0 §8.9, "EPCIS event hash ID").
 *
 * The pre-hash string of an event is "eventType=<type>", then the fields in the canonical order
 * below, then every remaining field (user extensions, ilmd, errorDeclaration), all concatenated
 * without separators:
 *   - a field with a value contributes "name=value" (value normalised, epcis/normalise.c); a field
 *     with children contributes "name" followed by its children in their own canonical order;
 *   - repeated fields of one name (the members of a list) are sorted as strings (byte order =
 *     code point order) before they are concatenated, so list order does not change the hash;
 *   - bizTransaction, source and destination put their type first: "type=...bizTransaction=...";
 *   - eventID and recordTime are not part of the event's content and are left out;
 *   - fields outside the order (and what remains of a partly ordered field) follow, each rendered
 *     the same way without timestamp normalisation, sorted.
 * hash id = "ni:///sha-256;" + hex(SHA-256(UTF-8 pre-hash)) + "?ver=CBV2.0" (RFC 6920 form).
 * The expected values of the reference implementation (../shared/epcis/event-hash/) are the test.
 *
 * Invariants: recursion depth is bounded by the reader (EPCIS_DEPTH_MAX); the pre-hash of one event
 * is bounded by EPCIS_PREHASH_BYTES_MAX.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "epcis/epcis_internal.h"

enum value_kind {
	VALUE_GENERIC = 0,
	VALUE_TIME,
	VALUE_BIZSTEP,
	VALUE_DISP,
	VALUE_BTT,
	VALUE_SDT,
	VALUE_GS1,
};

struct order {
	const char *name;
	enum value_kind kind;
	const struct order *sub; /* NULL-name terminated; NULL for a leaf */
	bool type_first;
};

static const struct order order_epc[] = { { "epc", VALUE_GENERIC, NULL, false }, { NULL, 0, NULL, false } };
static const struct order order_quantity_fields[] = {
	{ "epcClass", VALUE_GENERIC, NULL, false },
	{ "quantity", VALUE_GENERIC, NULL, false },
	{ "uom", VALUE_GENERIC, NULL, false },
	{ NULL, 0, NULL, false },
};
static const struct order order_quantity[] = { { "quantityElement", VALUE_GENERIC, order_quantity_fields, false },
					       { NULL, 0, NULL, false } };
static const struct order order_persistent[] = { { "set", VALUE_DISP, NULL, false },
						 { "unset", VALUE_DISP, NULL, false },
						 { NULL, 0, NULL, false } };
static const struct order order_id[] = { { "id", VALUE_GENERIC, NULL, false }, { NULL, 0, NULL, false } };
static const struct order order_btt_type[] = { { "type", VALUE_BTT, NULL, false }, { NULL, 0, NULL, false } };
static const struct order order_sdt_type[] = { { "type", VALUE_SDT, NULL, false }, { NULL, 0, NULL, false } };
static const struct order order_biz_transactions[] = { { "bizTransaction", VALUE_GENERIC, order_btt_type, true },
						       { NULL, 0, NULL, false } };
static const struct order order_sources[] = { { "source", VALUE_GENERIC, order_sdt_type, true },
					      { NULL, 0, NULL, false } };
static const struct order order_destinations[] = { { "destination", VALUE_GENERIC, order_sdt_type, true },
						   { NULL, 0, NULL, false } };
static const struct order order_sensor_metadata[] = {
	{ "time", VALUE_TIME, NULL, false },	      { "startTime", VALUE_TIME, NULL, false },
	{ "endTime", VALUE_TIME, NULL, false },	      { "deviceID", VALUE_GENERIC, NULL, false },
	{ "deviceMetadata", VALUE_GENERIC, NULL, false }, { "rawData", VALUE_GENERIC, NULL, false },
	{ "dataProcessingMethod", VALUE_GENERIC, NULL, false }, { "bizRules", VALUE_GENERIC, NULL, false },
	{ NULL, 0, NULL, false },
};
static const struct order order_sensor_report[] = {
	{ "type", VALUE_GS1, NULL, false },	       { "exception", VALUE_GS1, NULL, false },
	{ "deviceID", VALUE_GENERIC, NULL, false },     { "deviceMetadata", VALUE_GENERIC, NULL, false },
	{ "rawData", VALUE_GENERIC, NULL, false },      { "dataProcessingMethod", VALUE_GENERIC, NULL, false },
	{ "time", VALUE_TIME, NULL, false },	       { "microorganism", VALUE_GENERIC, NULL, false },
	{ "chemicalSubstance", VALUE_GENERIC, NULL, false }, { "value", VALUE_GENERIC, NULL, false },
	{ "component", VALUE_GS1, NULL, false },	       { "stringValue", VALUE_GENERIC, NULL, false },
	{ "booleanValue", VALUE_GENERIC, NULL, false }, { "hexBinaryValue", VALUE_GENERIC, NULL, false },
	{ "uriValue", VALUE_GENERIC, NULL, false },     { "minValue", VALUE_GENERIC, NULL, false },
	{ "maxValue", VALUE_GENERIC, NULL, false },     { "meanValue", VALUE_GENERIC, NULL, false },
	{ "sDev", VALUE_GENERIC, NULL, false },	       { "percRank", VALUE_GENERIC, NULL, false },
	{ "percValue", VALUE_GENERIC, NULL, false },    { "uom", VALUE_GENERIC, NULL, false },
	{ "coordinateReferenceSystem", VALUE_GENERIC, NULL, false },
	{ NULL, 0, NULL, false },
};
static const struct order order_sensor_element_fields[] = {
	{ "sensorMetadata", VALUE_GENERIC, order_sensor_metadata, false },
	{ "sensorReport", VALUE_GENERIC, order_sensor_report, false },
	{ NULL, 0, NULL, false },
};
static const struct order order_sensor_elements[] = {
	{ "sensorElement", VALUE_GENERIC, order_sensor_element_fields, false },
	{ NULL, 0, NULL, false },
};

/* CBV 2.0 §8.9.2 step 2: the canonical field order of every event type. */
static const struct order order_event[] = {
	{ "eventTime", VALUE_TIME, NULL, false },
	{ "eventTimeZoneOffset", VALUE_GENERIC, NULL, false },
	{ "certificationInfo", VALUE_GENERIC, NULL, false },
	{ "epcList", VALUE_GENERIC, order_epc, false },
	{ "parentID", VALUE_GENERIC, NULL, false },
	{ "inputEPCList", VALUE_GENERIC, order_epc, false },
	{ "childEPCs", VALUE_GENERIC, order_epc, false },
	{ "quantityList", VALUE_GENERIC, order_quantity, false },
	{ "childQuantityList", VALUE_GENERIC, order_quantity, false },
	{ "inputQuantityList", VALUE_GENERIC, order_quantity, false },
	{ "outputEPCList", VALUE_GENERIC, order_epc, false },
	{ "outputQuantityList", VALUE_GENERIC, order_quantity, false },
	{ "action", VALUE_GENERIC, NULL, false },
	{ "transformationID", VALUE_GENERIC, NULL, false },
	{ "bizStep", VALUE_BIZSTEP, NULL, false },
	{ "disposition", VALUE_DISP, NULL, false },
	{ "persistentDisposition", VALUE_GENERIC, order_persistent, false },
	{ "readPoint", VALUE_GENERIC, order_id, false },
	{ "bizLocation", VALUE_GENERIC, order_id, false },
	{ "bizTransactionList", VALUE_GENERIC, order_biz_transactions, false },
	{ "destinationList", VALUE_GENERIC, order_destinations, false },
	{ "sourceList", VALUE_GENERIC, order_sources, false },
	{ "sensorElementList", VALUE_GENERIC, order_sensor_elements, false },
	{ NULL, 0, NULL, false },
};

/* --- growable text and string lists (bounded by EPCIS_PREHASH_BYTES_MAX) --- */

struct text {
	char *data;
	size_t len;
	size_t cap;
};

static int text_append(struct text *text, const char *bytes, size_t len)
{
	if (len > EPCIS_PREHASH_BYTES_MAX - text->len)
		return SL_ELIMIT;
	if (text->len + len + 1 > text->cap) {
		size_t cap = text->cap ? text->cap : 64;
		while (cap < text->len + len + 1)
			cap *= 2;
		char *grown = realloc(text->data, cap);
		if (grown == NULL)
			return SL_ENOMEM;
		text->data = grown;
		text->cap = cap;
	}
	memcpy(text->data + text->len, bytes, len);
	text->len += len;
	text->data[text->len] = '\0';
	return 0;
}

static int text_cstr(struct text *text, const char *cstr)
{
	return text_append(text, cstr, strlen(cstr));
}

struct parts {
	struct text *items;
	size_t count;
	size_t cap;
};

static void parts_free(struct parts *parts)
{
	for (size_t i = 0; i < parts->count; i++)
		free(parts->items[i].data);
	free(parts->items);
}

static int parts_push(struct parts *parts, struct text *item)
{
	if (parts->count == parts->cap) {
		size_t cap = parts->cap ? parts->cap * 2 : 8;
		struct text *grown = realloc(parts->items, cap * sizeof(*grown));
		if (grown == NULL)
			return SL_ENOMEM;
		parts->items = grown;
		parts->cap = cap;
	}
	parts->items[parts->count++] = *item;
	memset(item, 0, sizeof(*item));
	return 0;
}

static int text_compare(const void *a, const void *b)
{
	const struct text *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n > 0 ? memcmp(x->data, y->data, n) : 0; /* empty parts have no buffer */
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sort, then append every non-empty part to out. */
static int parts_flush(struct parts *parts, struct text *out)
{
	if (parts->count > 1)
		qsort(parts->items, parts->count, sizeof(*parts->items), text_compare);
	int rc = 0;
	for (size_t i = 0; i < parts->count && rc == 0; i++)
		if (parts->items[i].len > 0)
			rc = text_append(out, parts->items[i].data, parts->items[i].len);
	return rc;
}

/* --- value normalisation --- */

/* Numbers lose leading zeros, "+" and trailing zeros (CBV 2.0 §8.9.2: "12.10" and "12.1" are one
 * value); integral values print without a fraction. Non-numbers are left alone. */
static bool numeric_canonical(const char *text, char *out, size_t out_size)
{
	if (text[0] == '\0' || strspn(text, "0123456789+-.eE") != strlen(text))
		return false;
	char *end = NULL;
	double value = strtod(text, &end);
	if (end == NULL || *end != '\0' || !isfinite(value))
		return false;
	if (value == floor(value) && fabs(value) < 1e300) {
		snprintf(out, out_size, "%.0f", value);
		if (strcmp(out, "-0") == 0)
			snprintf(out, out_size, "0");
		return true;
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(out, out_size, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return true;
	}
	return true;
}

static const char *vocab_kind(enum value_kind kind)
{
	switch (kind) {
	case VALUE_BIZSTEP:
		return "BizStep";
	case VALUE_DISP:
		return "Disp";
	case VALUE_BTT:
		return "BTT";
	case VALUE_SDT:
		return "SDT";
	case VALUE_GS1:
		return "gs1";
	default:
		return NULL;
	}
}

static int value_canonical(const epcis_doc *doc, enum value_kind kind, const char *text, char *out, size_t size)
{
	if (kind == VALUE_TIME && epcis_time_normalise(text, out, size) == 0)
		return 0;
	char vocab[EPCIS_TEXT_BYTES_MAX + 64];
	int rc = epcis_vocab_normalise(doc, vocab_kind(kind), text, vocab, sizeof vocab);
	if (rc != 0)
		return rc;
	if (numeric_canonical(vocab, out, size))
		return 0;
	if (epcis_id_to_digital_link(vocab, out, size) == 0)
		return 0;
	return snprintf(out, size, "%s", vocab) < (int)size ? 0 : SL_ELIMIT;
}

/* --- the pre-hash --- */

static const struct order *order_find(const struct order *order, const char *name)
{
	for (; order != NULL && order->name != NULL; order++)
		if (strcmp(order->name, name) == 0)
			return order;
	return NULL;
}

/* Everything of `node` is taken by the ordered pass under `entry` (nothing left over). */
static bool consumed(const struct epcis_node *node, const struct order *entry)
{
	for (size_t i = 0; i < node->child_count; i++) {
		const struct order *sub = order_find(entry->sub, node->children[i]->name);
		if (sub == NULL || !consumed(node->children[i], sub))
			return false;
	}
	return true;
}

static int ordered_append(const epcis_doc *doc, const struct epcis_node *node, const struct order *order,
			  struct text *out);

static int field_append(const epcis_doc *doc, const struct epcis_node *field, const struct order *entry,
			struct text *out)
{
	struct text grand = { 0 };
	int rc = entry->sub != NULL ? ordered_append(doc, field, entry->sub, &grand) : 0;
	char *value = NULL;
	if (rc == 0 && field->text != NULL && field->text[0] != '\0') {
		value = malloc(EPCIS_TEXT_BYTES_MAX + 64);
		rc = value != NULL ? value_canonical(doc, entry->kind, field->text, value, EPCIS_TEXT_BYTES_MAX + 64)
				   : SL_ENOMEM;
	}
	bool has_value = value != NULL && value[0] != '\0';
	if (rc == 0 && (has_value || grand.len > 0)) {
		if (entry->type_first && grand.len > 0)
			rc = text_append(out, grand.data, grand.len);
		if (rc == 0)
			rc = text_cstr(out, field->name);
		if (rc == 0 && has_value)
			rc = text_cstr(out, "=");
		if (rc == 0 && has_value)
			rc = text_cstr(out, value);
		if (rc == 0 && !entry->type_first && grand.len > 0)
			rc = text_append(out, grand.data, grand.len);
	}
	free(value);
	free(grand.data);
	return rc;
}

static int ordered_append(const epcis_doc *doc, const struct epcis_node *node, const struct order *order,
			  struct text *out)
{
	int rc = 0;
	for (const struct order *entry = order; entry->name != NULL && rc == 0; entry++) {
		struct parts parts = { 0 };
		for (size_t i = 0; i < node->child_count && rc == 0; i++) {
			if (strcmp(node->children[i]->name, entry->name) != 0)
				continue;
			struct text part = { 0 };
			rc = field_append(doc, node->children[i], entry, &part);
			if (rc == 0)
				rc = parts_push(&parts, &part);
			free(part.data);
		}
		if (rc == 0)
			rc = parts_flush(&parts, out);
		parts_free(&parts);
	}
	return rc;
}

/* Fields outside the order (entry NULL), or the leftovers of a partly ordered field. */
static int leftover_append(const epcis_doc *doc, const struct epcis_node *node, const struct order *entry,
			   struct text *out)
{
	int rc = text_cstr(out, node->name);
	if (rc == 0 && node->text != NULL && node->text[0] != '\0') {
		char *value = malloc(EPCIS_TEXT_BYTES_MAX + 64);
		rc = value != NULL ? value_canonical(doc, VALUE_GENERIC, node->text, value, EPCIS_TEXT_BYTES_MAX + 64)
				   : SL_ENOMEM;
		if (rc == 0 && value[0] != '\0')
			rc = text_cstr(out, "=");
		if (rc == 0)
			rc = text_cstr(out, value);
		free(value);
	}
	struct parts parts = { 0 };
	for (size_t i = 0; i < node->child_count && rc == 0; i++) {
		const struct epcis_node *child = node->children[i];
		const struct order *sub = entry != NULL ? order_find(entry->sub, child->name) : NULL;
		if (sub != NULL && consumed(child, sub))
			continue;
		struct text part = { 0 };
		rc = leftover_append(doc, child, sub, &part);
		if (rc == 0)
			rc = parts_push(&parts, &part);
		free(part.data);
	}
	if (rc == 0)
		rc = parts_flush(&parts, out);
	parts_free(&parts);
	return rc;
}

static bool ignored_field(const char *name)
{
	/* not event content (CBV 2.0 §8.9.2): where and when it was recorded, and the id itself */
	return strcmp(name, "eventID") == 0 || strcmp(name, "recordTime") == 0;
}

int epcis_event_prehash(const epcis_doc *doc, size_t index, struct sl_buf *out)
{
	const struct epcis_node *event = epcis_doc_event(doc, index);
	struct text text = { 0 };
	int rc = text_cstr(&text, "eventType=");
	if (rc == 0)
		rc = text_cstr(&text, event->name);
	if (rc == 0)
		rc = ordered_append(doc, event, order_event, &text);
	struct parts parts = { 0 };
	for (size_t i = 0; i < event->child_count && rc == 0; i++) {
		const struct epcis_node *field = event->children[i];
		const struct order *entry = order_find(order_event, field->name);
		if (ignored_field(field->name) || (entry != NULL && consumed(field, entry)))
			continue;
		struct text part = { 0 };
		rc = leftover_append(doc, field, entry, &part);
		if (rc == 0)
			rc = parts_push(&parts, &part);
		free(part.data);
	}
	if (rc == 0)
		rc = parts_flush(&parts, &text);
	parts_free(&parts);
	if (rc == 0)
		rc = sl_buf_append(out, text.data, text.len);
	free(text.data);
	return rc;
}

int epcis_event_hash_id(const epcis_doc *doc, size_t index, char out[EPCIS_HASH_ID_SIZE])
{
	struct sl_buf prehash;
	sl_buf_init(&prehash, EPCIS_PREHASH_BYTES_MAX);
	int rc = epcis_event_prehash(doc, index, &prehash);
	if (rc == 0) {
		uint8_t digest[CRYPTO_SHA256_BYTES];
		char hex[2 * CRYPTO_SHA256_BYTES + 1];
		crypto_sha256(prehash.data, prehash.len, digest);
		crypto_hex_encode(digest, sizeof digest, hex);
		snprintf(out, EPCIS_HASH_ID_SIZE, "ni:///sha-256;%s?ver=CBV2.0", hex);
	}
	sl_buf_free(&prehash);
	return rc;
}
