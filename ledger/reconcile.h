/* ledger/reconcile.h — reconciliation of one lot (GTIN + lot): counts, the identities behind each
 * count, and exceptions in the HDA categories, derived from the ledger alone; optionally for one
 * site, one line and one window of ledger time.
 *
 * Owns: the definitions of every reconciliation count and exception (docs/reconciliation.md is
 * the normative text, written for a QA manager). reconcile_lot is a pure function of the ledger
 * as seen by one read transaction: it reads entries, items, history and locks, never a clock, so
 * every node and an auditor replaying an export compute the same numbers.
 *
 * Method (ledger/reconcile.c, reconcile_packs.c, reconcile_exceptions.c; every pass bounded):
 *   1. one ledger scan: accepted commission records of the lot give its packs, in ledger order;
 *      the packs are examined in batches (ledger/reconcile_packs.c): each one's current state
 *      (items table), its locks and its item history (accepted ship, receive and revert entries,
 *      contents of containers included) give its counts. The entries that can show an exception
 *      (ledger/reconcile_exceptions.c) are remembered by seq.
 *   2. those entries, read again in ledger order: refused records and damaged/stolen
 *      decommissions that concern the lot become exceptions, packs in transit for more than
 *      overdue_days become exceptions, accepted deviation records citing an exception's record
 *      resolve it.
 *   "now" is the ledger time of the last entry (ledger time never decreases: decisions D6).
 *   Memory: with counts_only the report holds no per-pack array, so memory depends on the
 *   exceptions, not on the size of the lot; the map pages the passes read are handed back when
 *   they exceed RECONCILE_MAPPED_BYTES_MAX (store_txn_map_trim), so the resident set stays
 *   bounded however large the ledger is.
 *
 * Rules:
 *  1. The report owns its memory: release it with reconcile_report_free (also after an error).
 *  2. A report reaching a named limit fails with SL_ELIMIT rather than printing a partial answer.
 *  3. reconcile_lots gives, for each lot, exactly the report reconcile_lot gives for it alone.
 */
#ifndef SL_LEDGER_RECONCILE_H
#define SL_LEDGER_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/gs1.h"
#include "ledger/record.h"
#include "store/store.h"

#define RECONCILE_ITEMS_MAX 1000000	  /* packs of one lot: a large lot is ~500,000 packs */
#define RECONCILE_EXCEPTIONS_MAX 100000	  /* exceptions reported for one lot */
#define RECONCILE_HISTORY_MAX 100000	  /* history entries read for one pack */
#define RECONCILE_OVERDUE_DAYS_DEFAULT 5  /* shipped but not received after this many days */
#define RECONCILE_OVERDUE_DAYS_MAX 3650	  /* ten years: anything longer is a typo */
#define RECONCILE_DAY_MS 86400000ULL
#define RECONCILE_LINE_BYTES_MAX (RECORD_ACTOR_CHARS_MAX * 4) /* a line is an actor: 64 UTF-8 chars */
#define RECONCILE_LOTS_MAX 65536	  /* lots in one reconcile_lots call (the audit asks for 4096) */
#define RECONCILE_CANDIDATES_MAX 1000000  /* entry seqs kept for pass 2 (8 MB); beyond: a second scan */
#define RECONCILE_CONTAINERS_MAX 2000000  /* (container, lot) pairs: every container of a 1M-pack lot twice */
/* The map's pages are handed back when the process holds more than RECONCILE_MAPPED_BYTES_MAX of
 * file pages; it looks every RECONCILE_TRIM_EVERY reads (entries, packs, history entries), each of
 * which maps at most 64 KiB (a page and the kernel's fault-around), so at most 16 MiB more. */
#define RECONCILE_MAPPED_BYTES_MAX (96ULL << 20)
#define RECONCILE_TRIM_EVERY 256

/* Counts (one bit each in reconcile_item.counts). */
enum reconcile_count {
	RECONCILE_COMMISSIONED = 0, /* accepted commission (by the site, with a site filter) */
	RECONCILE_AGGREGATED,	    /* now inside a container */
	RECONCILE_SHIPPED,	    /* ever shipped (an accepted ship names it or its container) */
	RECONCILE_IN_TRANSIT,	    /* now in transit */
	RECONCILE_RECEIVED,	    /* ever received */
	RECONCILE_ON_HAND,	    /* now active at a site */
	RECONCILE_DISPENSED,	    /* now decommissioned, one count per reason ... */
	RECONCILE_DESTROYED,
	RECONCILE_SAMPLED, /* sample and free_sample */
	RECONCILE_EXPORTED,
	RECONCILE_STOLEN,
	RECONCILE_EXPIRED,
	RECONCILE_DAMAGED,
	RECONCILE_CHECKED_OUT,
	RECONCILE_LOCKED,      /* active or in transit under any lock in force */
	RECONCILE_REVERTED,    /* ever reverted */
	RECONCILE_UNEXPLAINED, /* named by an unresolved exception, or in no state category */
	RECONCILE_COUNT_MAX,
};

/* Fields after the first two are zero by default: every line, no window, identities kept. */
struct reconcile_options {
	const char *site;      /* NULL: every site; else counts and exceptions of this site only */
	uint32_t overdue_days; /* in transit longer than this = data_no_product exception */
	const char *line;      /* NULL: every line; else only packs whose commission record's actor is
				  this (records carry no line field: docs/reconciliation.md "One line") */
	uint64_t from_ms;      /* window of ledger time [from_ms, to_ms): events counted when their entry */
	uint64_t to_ms;	       /* falls in it; 0 = unbounded on that side (docs "A period") */
	bool counts_only;      /* no per-pack array (report->items stays NULL): the audit's mode */
	size_t candidates_max; /* 0 = RECONCILE_CANDIDATES_MAX (tests lower it to exercise the rescan) */
};

struct reconcile_item {
	char id[STORE_ITEM_ID_SIZE];
	char commission_site[STORE_SITE_SIZE];
	struct store_item state; /* current; state.status == 0 when missing from the items table */
	uint8_t lock_reasons;	 /* LOCK_REASON_BIT union, 0 when unlocked */
	uint32_t counts;	 /* bit (1u << enum reconcile_count) per count the pack is in */
};

struct reconcile_exception {
	int category;	  /* enum deviation_category */
	const char *what; /* short description (static string) */
	uint64_t seq;	  /* the ledger entry that shows it */
	uint64_t ledger_time_ms;
	uint32_t outcome; /* the entry's outcome (0 for accepted records and overdue shipments) */
	uint8_t record_id[RECORD_ID_BYTES];
	char site[STORE_SITE_SIZE];	  /* the record's site */
	char other_site[STORE_SITE_SIZE]; /* ship destination, "" when none */
	char (*items)[STORE_ITEM_ID_SIZE]; /* identities involved */
	size_t item_count;
	bool resolved;
	uint64_t deviation_seq; /* first accepted deviation citing record_id */
	uint8_t deviation_id[RECORD_ID_BYTES];
};

struct reconcile_report {
	char gtin[GS1_GTIN_DIGITS + 1];
	char lot[GS1_LOT_CHARS_MAX + 1];
	char lot_key[GS1_LOT_KEY_SIZE];
	uint64_t entries; /* ledger entries read */
	uint64_t now_ms;  /* ledger time of the last entry */
	uint64_t counts[RECONCILE_COUNT_MAX];
	struct reconcile_item *items; /* packs of the lot, in commissioning order */
	size_t item_count;
	struct reconcile_exception *exceptions; /* in ledger order */
	size_t exception_count;
	char (*unexplained)[STORE_ITEM_ID_SIZE]; /* identities behind RECONCILE_UNEXPLAINED, sorted */
	size_t unexplained_count;
	bool counters_agree; /* the stored lot counters give the same totals (over every pack of the
				lot, whatever the site, line or window) */
	int error;	     /* reconcile_lots: 0, or SL_ELIMIT when this lot went beyond a limit */
};

/* Reconcile one lot. gtin14 is a normalised GTIN-14, lot 1–20 CSET 82 characters. Errors:
 * SL_EINVAL (bad arguments), SL_ELIMIT, SL_ENOMEM, store errors; the report is then partial and
 * must still be freed. */
int reconcile_lot(store_txn *txn, const char *gtin14, const char *lot, const struct reconcile_options *options,
		  struct reconcile_report *report);
void reconcile_report_free(struct reconcile_report *report);

/* Reconcile several lots with the passes shared (one ledger scan for all of them): the audit
 * reconciles every lot of an export this way. lots[i] names lot i as "(01)GTIN-14(10)LOT" (the
 * form gs1_lot_key writes and the lots table uses), distinct; reports[i] gets its report, each to
 * be freed with reconcile_report_free whatever the result. A lot beyond a named limit gets
 * reports[i].error = SL_ELIMIT and the others are still computed; the function fails only for
 * bad arguments (SL_EINVAL), memory and store errors, and SL_ELIMIT when a limit all the lots
 * share is reached (RECONCILE_CONTAINERS_MAX, the lots one entry concerns). */
int reconcile_lots(store_txn *txn, const char *const *lots, size_t count, const struct reconcile_options *options,
		   struct reconcile_report *reports);

/* One site's share of a lot (all sites, whatever the report's site filter). */
struct reconcile_site_row {
	char site[STORE_SITE_SIZE];
	uint64_t commissioned;	 /* commissioned there */
	uint64_t on_hand;	 /* active there now */
	uint64_t in_transit_out; /* shipped from there, not yet received */
	uint64_t in_transit_in;	 /* on their way there */
	uint64_t decommissioned; /* decommissioned there, any reason */
};
#define RECONCILE_SITES_MAX 4096 /* distinct sites in one lot's breakdown */

/* Per-site breakdown of a report's packs, sorted by site id; *rows is heap memory (free()).
 * SL_ENOMEM, SL_ELIMIT. */
int reconcile_sites(const struct reconcile_report *report, struct reconcile_site_row **rows, size_t *count);

/* The HDA exception category (enum deviation_category) an entry shows on its own, 0 when none
 * (refused receipts, packaging refusals, LOCKED refusals, damaged and stolen decommissions);
 * *what gets a short static description. Shared by reconcile_lot and SPC (ledger/spc.h). */
int reconcile_classify(uint32_t outcome, const struct record *record, const char **what);

/* "commissioned", "aggregated", ..., "unexplained"; NULL when unknown. */
const char *reconcile_count_name(unsigned count);
int reconcile_count_from_name(const char *name); /* -1 when unknown */

/* Item ids behind one count, in commissioning order (unexplained: the sorted list, which may name
 * items outside the lot such as an unknown serial received). Calls cb(ctx, id) for each. */
int reconcile_count_items(const struct reconcile_report *report, unsigned count,
			  int (*cb)(void *ctx, const char *id), void *ctx);

#endif
