/* epcis/map.h — from EPCIS events to siteledger records, and the GLN ↔ site map.
 *
 * The mapping table is docs/epcis.md "Mapping"; every event ends in exactly one status: mapped
 * (its records are in the mapping), not modelled (with the reason: siteledger keeps no record of
 * that kind of event), failed (with the reason, naming the event and the field) or duplicate (its
 * hash ID was imported before, decided by epcis/import.h). Nothing is dropped silently.
 *
 * Rules:
 *  1. Records in a mapping carry type, body, event time (the event's eventTime) and reason
 *     "epcis <hash id>"; the caller fills the rest of the envelope and signs.
 *  2. Every string and array the records point to is owned by the mapping (and the document it
 *     was made from, for event ids): keep both until epcis_mapping_free().
 */
#ifndef SL_EPCIS_MAP_H
#define SL_EPCIS_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "epcis/epcis.h"
#include "ledger/gs1.h"
#include "ledger/record.h"
#include "store/store.h"

#define EPCIS_SITE_MAP_MAX 64		  /* GLN=site pairs; the saved map must fit one meta value (4 KiB) */
#define EPCIS_RECORDS_MAX 100000	  /* records made from one document */
#define EPCIS_META_SITE_MAP "epcis/site-map" /* store meta: "GLN=site\n" lines */
#define EPCIS_REASON_PREFIX "epcis "	  /* record reason of imported records: "epcis ni:///sha-256;..." */

struct epcis_site_entry {
	char gln[GS1_GLN_DIGITS + 1];
	char site[RECORD_SITE_SIZE];
};

struct epcis_site_map {
	struct epcis_site_entry entries[EPCIS_SITE_MAP_MAX];
	size_t count;
};

/* GLN of a location or party identifier: 13 digits, urn:epc:id:sgln/pgln, Digital Link 414/417. */
int epcis_gln_parse(const char *text, char gln[GS1_GLN_DIGITS + 1]);
/* Add (or replace) GLN → site; SL_EINVAL with detail for a bad GLN or site id, SL_ELIMIT when full. */
int epcis_site_map_add(struct epcis_site_map *map, const char *gln_text, const char *site,
		       struct sl_error_detail *detail);
const char *epcis_site_map_site(const struct epcis_site_map *map, const char *gln); /* NULL: unmapped */
const char *epcis_site_map_gln(const struct epcis_site_map *map, const char *site); /* NULL: unmapped */
/* The map saved in the store (meta EPCIS_META_SITE_MAP); entries already in `map` win. */
int epcis_site_map_load(store_txn *txn, struct epcis_site_map *map);
int epcis_site_map_save(store_txn *txn, const struct epcis_site_map *map);

enum epcis_event_status {
	EPCIS_EVENT_MAPPED = 1,
	EPCIS_EVENT_NOT_MODELLED = 2,
	EPCIS_EVENT_FAILED = 3,
	EPCIS_EVENT_DUPLICATE = 4,
};

struct epcis_event_result {
	size_t index;		/* 0-based position in the document */
	const char *event_id;	/* the event's eventID (points into the document) or NULL */
	const char *event_type; /* "ObjectEvent", ... */
	char hash_id[EPCIS_HASH_ID_SIZE];
	enum epcis_event_status status;
	const char *mapped_as; /* record type name, "" when not mapped */
	char note[SL_ERROR_DETAIL_BYTES_MAX]; /* why not modelled or failed; what was skipped */
	size_t record_first;
	size_t record_count;
};

struct epcis_mapping {
	struct record *records;
	size_t record_count;
	size_t record_cap;
	struct epcis_event_result *events;
	size_t event_count;
	void **allocations; /* strings and arrays the records point to */
	size_t allocation_count;
	size_t allocation_cap;
};

/* Map every event of a validated document (epcis_doc_validate) for `site`. `txn` (read or write,
 * may be NULL) resolves the records of events an errorDeclaration corrects. Returns 0 or
 * SL_ENOMEM / SL_ELIMIT; per-event problems are statuses, not errors. */
int epcis_map_document(const epcis_doc *doc, const char *site, const struct epcis_site_map *sites, store_txn *txn,
		       struct epcis_mapping *out);
void epcis_mapping_free(struct epcis_mapping *mapping);
const char *epcis_event_status_name(enum epcis_event_status status); /* "mapped", "not_modelled", ... */

/* Document-level checks before mapping (EPCIS 2.0 schema rules the tree can express, CBV 2.0
 * vocabularies). SL_EVALUE with "event N (eventID X): field 'F': why" in detail. */
int epcis_doc_validate(const epcis_doc *doc, struct sl_error_detail *detail);

/* Store meta names of the import bookkeeping (docs/epcis.md "Hash IDs"). */
#define EPCIS_META_EVENT_PREFIX "epcis/event/" /* + 64 hex of the hash: value "first seq,count" */
#define EPCIS_META_ID_PREFIX "epcis/id/"	/* + hex SHA-256 of the eventID: value record ids, hex, comma-separated */

#endif
