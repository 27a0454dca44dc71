/* tests/fuzz/fuzz_epcis.c — EPCIS capture documents (JSON / JSON-LD through jansson, XML through
 * libxml2) from arbitrary bytes: parse, validate, compute every event's pre-hash and hash ID, and map
 * every event for a site. None of it may crash, leak or read out of bounds, whatever the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "epcis/epcis.h"
#include "epcis/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	epcis_doc *doc = NULL;
	struct sl_error_detail detail;
	if (epcis_doc_parse((const char *)data, size, &doc, &detail) != 0)
		return 0;
	size_t events = epcis_doc_event_count(doc);
	struct sl_buf prehash;
	sl_buf_init(&prehash, 1u << 20);
	for (size_t i = 0; i < events; i++) {
		char id[EPCIS_HASH_ID_SIZE];
		sl_buf_reset(&prehash);
		(void)epcis_event_prehash(doc, i, &prehash);
		(void)epcis_event_hash_id(doc, i, id);
	}
	sl_buf_free(&prehash);
	if (epcis_doc_validate(doc, &detail) == 0) {
		struct epcis_site_map none;
		memset(&none, 0, sizeof none);
		struct epcis_mapping mapping;
		if (epcis_map_document(doc, "fuzz-site", &none, NULL, &mapping) == 0)
			epcis_mapping_free(&mapping);
	}
	epcis_doc_free(doc);
	return 0;
}
