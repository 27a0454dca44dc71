/* ledger/reconcile_internal.h — state of one reconciliation run, shared by ledger/reconcile.c (the
 * scan, the packs and their counts) and ledger/reconcile_exceptions.c (exceptions, deviations,
 * unexplained). Not for other modules.
 *
 * A run reconciles one or more lots (reconcile_lots); everything per lot lives in its
 * struct reconcile_lot_run, everything shared (the scan, the candidate entries, the containers
 * above the lots' packs) in struct reconcile_run. Arrays grow through reconcile_grow, each up to a
 * named maximum.
 */
#ifndef SL_LEDGER_RECONCILE_INTERNAL_H
#define SL_LEDGER_RECONCILE_INTERNAL_H

#include <stddef.h>

#include "ledger/entry.h"
#include "ledger/reconcile.h"
#include "ledger/record.h"
#include "store/store.h"

typedef char reconcile_id_t[STORE_ITEM_ID_SIZE];

/* A pack named by the ledger entry that last changed it: the packs a damaged or stolen
 * decommission took out, and the packs of an overdue shipment. `order` is the examination order
 * (commissioning order), so groups keep it after sorting by seq. */
struct reconcile_seq_id {
	uint64_t seq;
	uint64_t order;
	reconcile_id_t id;
};

/* A pack found in a commission record, waiting to be examined. Packs are examined in batches of
 * RECONCILE_PENDING_MAX sorted by id (ledger/reconcile_packs.c design note 1). */
struct reconcile_pending {
	reconcile_id_t id;
	char commission_site[STORE_SITE_SIZE];
	uint64_t commission_time_ms;
	uint64_t slot; /* place among the lot's packs in scope, in commissioning order; UINT64_MAX: out of scope */
	uint32_t lot;
};
#define RECONCILE_PENDING_MAX 262144 /* packs per batch: ~27 MiB */

/* A container above a pack of lot `lot` now (its parent, its parent's parent, ...). */
struct reconcile_container {
	reconcile_id_t id;
	uint32_t lot;
};

struct reconcile_lot_run {
	struct reconcile_report *report;
	size_t item_cap;
	uint64_t derived[STORE_LOT_COUNTERS]; /* lot counters implied by every pack's state */
	uint64_t found;			      /* packs of the lot found (any line) */
	uint64_t in_scope;		      /* of which in scope (slots given) */
	struct reconcile_seq_id *taken_out;   /* in scope, decommissioned as damaged or stolen */
	size_t taken_out_count, taken_out_cap;
	struct reconcile_seq_id *overdue; /* in scope, in transit for overdue_days or more */
	size_t overdue_count, overdue_cap;
	reconcile_id_t *stateless; /* in scope, in no state category (unexplained) */
	size_t stateless_count, stateless_cap;
	size_t exception_cap;
	reconcile_id_t last_parent; /* the parent whose ancestors were pushed last */
};

/* One lot of the run, in the sorted index used to find a commission record's lot. */
struct reconcile_key {
	char gtin[GS1_GTIN_DIGITS + 1];
	char lot[GS1_LOT_CHARS_MAX + 1];
	uint32_t lot_index;
};

struct reconcile_run {
	store_txn *txn;
	const struct reconcile_options *options;
	uint64_t from_ms, to_ms; /* the window, to_ms = UINT64_MAX when open-ended */
	uint64_t now_ms;	 /* ledger time of the last entry */
	uint64_t entries;
	struct reconcile_lot_run *lots;
	size_t lot_count;
	struct reconcile_key *by_key; /* the lots sorted by (gtin, lot) */
	uint64_t *candidates; /* seqs of entries that may show an exception or resolve one */
	size_t candidate_count, candidate_cap, candidates_max;
	bool candidates_overflow; /* too many: pass 2 scans the whole ledger instead */
	struct reconcile_container *containers; /* sorted and unique after pass 1 */
	size_t container_count, container_cap;
	struct reconcile_pending *pending; /* packs found, not yet examined */
	size_t pending_count, pending_cap;
	reconcile_id_t *scratch; /* identities of the exception being built */
	size_t scratch_count, scratch_cap;
	uint64_t reads; /* since the last look at the resident set */
};

/* Grow *array (elements of `size` bytes, capacity *cap) to hold `need`; SL_ELIMIT beyond max. */
int reconcile_grow(void **array, size_t *cap, size_t need, size_t size, size_t max);
/* Entry `seq` and its record decoded; 1 when the record decodes (release with record_clear),
 * 0 when the entry is readable but its record is not, negative on store errors or bad entries. */
int reconcile_entry_load(store_txn *txn, uint64_t seq, struct ledger_entry *entry, struct record *record);
/* Item id of a record's item i ("(01)GTIN(21)serial" for commission serials). */
int reconcile_record_item_id(const struct record *record, size_t i, char out[STORE_ITEM_ID_SIZE]);
/* Does the site filter admit this site? (a NULL filter admits every site) */
bool reconcile_site_match(const struct reconcile_options *options, const char *site, size_t len);
/* Does the line filter admit this commission record's actor? */
bool reconcile_line_match(const struct reconcile_options *options, const struct record *commission);
bool reconcile_in_window(const struct reconcile_run *run, uint64_t ledger_time_ms);
/* Count one read; every RECONCILE_TRIM_EVERY reads, hand the map's pages back if beyond budget. */
int reconcile_read_note(struct reconcile_run *run);
/* The lot index of (gtin, lot), or -1 when the run does not reconcile that lot. */
long reconcile_lot_find(const struct reconcile_run *run, struct sl_str gtin, struct sl_str lot);
/* Lots of one GTIN: positions in run->by_key [*first, *end). */
void reconcile_lots_of_gtin(const struct reconcile_run *run, const char *gtin, size_t *first, size_t *end);

/* ledger/reconcile_packs.c: queue the packs of an accepted commission record of lot `lot`
 * (examining a batch when the queue is full); examine what is queued. */
int reconcile_packs_queue(struct reconcile_run *run, uint32_t lot, const struct ledger_entry *entry,
			  const struct record *record);
int reconcile_packs_flush(struct reconcile_run *run);
/* Sort the run's (container, lot) pairs and drop repeats. */
void reconcile_containers_sort(struct reconcile_run *run);

/* Pass 1 (ledger/reconcile_exceptions.c): remember entry `seq` when it may matter to pass 2. */
int reconcile_candidate_note(struct reconcile_run *run, const struct ledger_entry *entry,
			     const struct record *record);
/* Pass 2: exceptions, deviations, unexplained, for every lot of the run. */
int reconcile_exceptions_find(struct reconcile_run *run);

#endif
