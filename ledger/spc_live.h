/* ledger/spc_live.h — SPC as the ledger is applied: a bounded, incremental p-chart monitor from
 * which a node raises alarms (docs/reconciliation.md "Alarms"). `siteledger spc` (ledger/spc.h)
 * charts a whole ledger on demand; this keeps only a recent window, so its cost does not grow with
 * the ledger.
 *
 * Series: the refusal rate of authenticated records per site (every line) and per (site, line), on
 * daily subgroups of event time (UTC), as spc_collect charts them ("line" = the record's actor;
 * checkpoint records and unauthenticated refusals are left out, ledger/spc_series.c notes 2, 4).
 * Window: days [ledger day - SPC_LIVE_DAYS + 1, ledger day + 1] of the entry being applied; records
 * dated outside it are not counted (a wrong clock at a site cannot push the window away).
 *
 * Signals (ledger/spc.h rules) are reported in the direction that needs action only: a point above
 * the upper control limit, or a run of SPC_RUN_LENGTH points above the centre line. A rate below its
 * lower limit is an improvement: `siteledger spc` shows it, no alarm is raised. Each
 * (site, line, day, rule) is reported once.
 *
 * Rules:
 *  1. Memory is fixed at spc_live_new: SPC_LIVE_CELLS_MAX cells; when full, the oldest day's cells
 *     are dropped first (and counted in spc_live_dropped).
 *  2. spc_live_add is O(1) on average (hashed cells); spc_live_check is O(cells log cells): call it
 *     at most once per interval (the node: `spc_every_ms`).
 *  3. Pure: no clock, no I/O; the same calls give the same signals.
 */
#ifndef SL_LEDGER_SPC_LIVE_H
#define SL_LEDGER_SPC_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"
#include "ledger/spc.h"

#define SPC_LIVE_DAYS 30	    /* daily points per chart: a month, as QA reviews trends */
#define SPC_LIVE_CELLS_MAX 4096	    /* (site, line, day) cells: e.g. 10 sites x 13 lines x 30 days */
#define SPC_LIVE_SEQS_MAX 8	    /* refused records named per point in an alarm (the first ones) */
#define SPC_LIVE_REPORTED_MAX 1024  /* signals remembered so each is reported once */

typedef struct spc_live spc_live;

struct spc_live_signal {
	const char *site;
	const char *line;   /* NULL: the site's series over every line */
	int64_t day;	    /* days since 1970-01-01 (UTC) */
	unsigned rule;	    /* SPC_RULE_BEYOND or SPC_RULE_RUN */
	double p, centre, ucl;
	uint64_t refused, records; /* the point: refused of records that day */
	const uint64_t *seqs;	   /* ledger seqs of the first refused records of that point */
	size_t seq_count;
};

/* Called once per new signal; pointers are valid during the call only. */
typedef void (*spc_live_signal_fn)(void *ctx, const struct spc_live_signal *signal);

int spc_live_new(spc_live **out);
void spc_live_free(spc_live *live); /* NULL is a no-op */

/* Count one applied record (entry `seq`, outcome, at ledger time now_ms). Records that do not
 * count (see the top) are ignored; 0 or SL_ENOMEM-free: never fails but for bad arguments. */
int spc_live_add(spc_live *live, const struct record *record, int outcome, uint64_t seq, uint64_t now_ms);

/* Chart every series of the window and report each new signal. *reported = signals reported by
 * this call (may be NULL). */
int spc_live_check(spc_live *live, spc_live_signal_fn fn, void *ctx, size_t *reported);

/* Records not counted because the cells were full of newer days. */
uint64_t spc_live_dropped(const spc_live *live);

#endif
