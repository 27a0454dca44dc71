/* epcis/import.h — apply the records of a mapped EPCIS document to the local ledger, together with
 * the bookkeeping that refuses the same event twice (docs/epcis.md "Hash IDs").
 *
 * Rules:
 *  1. One write transaction: the records (ledger_apply_batch_txn, in batches of
 *     APPLY_BATCH_RECORDS_MAX), the hash IDs of the events whose records were all accepted, the
 *     eventID → record ids index (for error declarations) and the site map are committed together,
 *     or nothing is.
 *  2. An event whose hash ID is in the store, or appeared earlier in the same document, becomes
 *     EPCIS_EVENT_DUPLICATE and its records are not applied.
 *  3. atomic: any failed event or refused record aborts the transaction (nothing is written).
 *     dry_run: everything is applied and then aborted, so the outcomes are exactly what a real
 *     import would get.
 */
#ifndef SL_EPCIS_IMPORT_H
#define SL_EPCIS_IMPORT_H

#include <stdbool.h>

#include "epcis/map.h"
#include "ledger/apply.h"

struct epcis_import_options {
	bool atomic;
	bool dry_run;
	const struct epcis_site_map *sites; /* saved with the import (NULL: not saved) */
	uint64_t now_ms;		    /* wall clock; ledger time = max(now, last entry's time) */
};

/* inputs[i] is the signed encoding of mapping->records[i]; results[i] receives its outcome
 * (outcome -1 when the record was not applied: its event was a duplicate). *committed says whether
 * the transaction was committed. Errors: store errors (nothing written). */
int epcis_import_apply(store *st, struct epcis_mapping *mapping, const struct ledger_input *inputs,
		       struct ledger_result *results, const struct epcis_import_options *options, bool *committed);

#endif
