/* ledger/reconcile_internal.h — pieces shared by ledger/reconcile.c (items and counts) and
 * ledger/reconcile_exceptions.c (exceptions and their deviations). Not for other modules. */
#ifndef SL_LEDGER_RECONCILE_INTERNAL_H
#define SL_LEDGER_RECONCILE_INTERNAL_H

#include <stddef.h>

#include "ledger/entry.h"
#include "ledger/reconcile.h"
#include "ledger/record.h"
#include "store/store.h"

/* Grow *array (elements of `size` bytes, capacity *cap) to hold `need`; SL_ELIMIT beyond max. */
int reconcile_grow(void **array, size_t *cap, size_t need, size_t size, size_t max);
/* Entry `seq` and its record decoded; 1 when the record decodes (release with record_clear),
 * 0 when the entry is readable but its record is not, negative on store errors or bad entries. */
int reconcile_entry_load(store_txn *txn, uint64_t seq, struct ledger_entry *entry, struct record *record);
/* Item id of a record's item i ("(01)GTIN(21)serial" for commission serials). */
int reconcile_record_item_id(const struct record *record, size_t i, char out[STORE_ITEM_ID_SIZE]);
/* Does the site filter admit this site? (a NULL filter admits every site) */
bool reconcile_site_match(const struct reconcile_options *options, const char *site, size_t len);
/* Pass 3: exceptions, deviations, unexplained (ledger/reconcile_exceptions.c). */
int reconcile_exceptions_find(store_txn *txn, const struct reconcile_options *options,
			      struct reconcile_report *report);

#endif
