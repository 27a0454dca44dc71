/* tests/fuzz/fuzz_gs1.c — fuzz target for GS1 identifier parsing and formatting (ledger/gs1.h).
 *
 * Properties checked (abort() on violation, so libFuzzer and the standalone driver both see it):
 *  1. gs1_parse never crashes or reads past the input (the input is copied to an exact-size,
 *     NUL-terminated buffer).
 *  2. An accepted item formats in every form and reads back as the same item: element string and
 *     Digital Link keep lot and expiry; the canonical item id and the EPC URI (every company prefix
 *     length 6–12) keep the identity. The element string may refuse an item only with SL_ESYNTAX
 *     (the ambiguity rule, docs/identifiers.md).
 *  3. gs1_item_id_parse on the raw bytes (not NUL-terminated) accepts only canonical ids: whatever it
 *     accepts, gs1_item_id writes back byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/gs1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
	if (!ok)
		abort();
}

static bool same_identity(const struct gs1_item *a, const struct gs1_item *b)
{
	return a->kind == b->kind && strcmp(a->gtin, b->gtin) == 0 && strcmp(a->serial, b->serial) == 0 &&
	       strcmp(a->sscc, b->sscc) == 0;
}

static bool same_item(const struct gs1_item *a, const struct gs1_item *b)
{
	return same_identity(a, b) && strcmp(a->lot, b->lot) == 0 && strcmp(a->expiry, b->expiry) == 0;
}

static void round_trip(const struct gs1_item *item)
{
	char out[GS1_TEXT_CHARS_MAX + 1];
	struct gs1_item back;
	char id[GS1_ITEM_ID_SIZE];
	require(gs1_item_id(item, id) == 0);
	require(gs1_item_id_parse(id, strlen(id), &back, NULL) == 0 && same_identity(item, &back));
	int rc = gs1_format_element_string(item, out, sizeof out);
	require(rc == 0 || rc == SL_ESYNTAX);
	if (rc == 0)
		require(gs1_parse(out, &back, NULL) == 0 && same_item(item, &back));
	require(gs1_format_digital_link(item, NULL, out, sizeof out) == 0);
	require(gs1_parse(out, &back, NULL) == 0 && same_item(item, &back));
	require(gs1_format_digital_link(item, "http://example.com:8080/01/x/", out, sizeof out) == 0);
	require(gs1_parse(out, &back, NULL) == 0 && same_item(item, &back));
	for (unsigned prefix = 6; prefix <= 12; prefix++) {
		require(gs1_format_epc_uri(item, prefix, out, sizeof out) == 0);
		require(gs1_parse(out, &back, NULL) == 0 && same_identity(item, &back));
	}
	if (item->kind == GS1_KIND_PACK && item->lot[0] != '\0') {
		char key[GS1_LOT_KEY_SIZE];
		require(gs1_lot_key(item->gtin, item->lot, key) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct gs1_item item;
	struct sl_error_detail detail;
	if (gs1_parse(text, &item, &detail) == 0)
		round_trip(&item);
	free(text);

	/* The raw bytes, exactly `size` of them, with no terminator. */
	if (gs1_item_id_parse((const char *)data, size, &item, &detail) == 0) {
		char id[GS1_ITEM_ID_SIZE];
		require(gs1_item_id(&item, id) == 0);
		require(strlen(id) == size && memcmp(id, data, size) == 0);
	}
	return 0;
}
