/* epcis/export.h — the ledger as an EPCIS 2.0 capture document (JSON-LD or XML), the reverse of
 * the import mapping (docs/epcis.md "Export").
 *
 * Rules:
 *  1. Only accepted entries are exported; each record becomes one event whose eventID is
 *     "urn:siteledger:record:<record id hex>". Records EPCIS cannot express (revert, unlock,
 *     quarantine and withdrawal locks, deviations) are counted in `skipped`, never invented.
 *  2. What import needs to rebuild the same state travels in the standard fields where CBV has
 *     them and otherwise in extension fields of namespace EPCIS_SITELEDGER_NS (expiry YYMMDD,
 *     decommission reason, destination site when no GLN is mapped).
 *  3. Reads through the caller's read transaction; writes to `out` only.
 */
#ifndef SL_EPCIS_EXPORT_H
#define SL_EPCIS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "epcis/epcis.h"
#include "epcis/map.h"
#include "store/store.h"

#define EPCIS_EXPORT_ITEMS_MAX 100000 /* items of an --id subtree (the ledger's hierarchy limit) */

struct epcis_export_options {
	enum epcis_syntax syntax;
	uint64_t since_seq;		    /* entries after this sequence number */
	const char *lot_key;		    /* "(01)GTIN(10)LOT": only items of this lot, or NULL */
	const char *item_id;		    /* only this item and what is inside it, or NULL */
	const struct epcis_site_map *sites; /* site → GLN for bizLocation and destinations */
	int64_t now_ms;			    /* creationDate */
};

struct epcis_export_stats {
	uint64_t entries;  /* entries read */
	uint64_t exported; /* events written */
	uint64_t skipped;  /* accepted records EPCIS cannot express */
};

int epcis_export(store_txn *txn, const struct epcis_export_options *options, FILE *out,
		 struct epcis_export_stats *stats, struct sl_error_detail *detail);

#endif
