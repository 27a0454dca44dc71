/* ledger/spc.h — statistical process control over the ledger: p-charts of rejection and exception
 * rates on daily subgroups, with run rules.
 *
 * Owns: the p-chart arithmetic (spc_pchart, pure) and the rate series derived from the ledger
 * (spc_collect, a pure function of one read transaction). docs/reconciliation.md "Trending" is the
 * text for QA.
 *
 * p-chart (Montgomery, Introduction to Statistical Quality Control, §7.2; NIST/SEMATECH e-Handbook
 * §6.3.3.2): subgroup i has n_i records of which d_i are "defective" (refused, or of one reason or
 * exception category); p_i = d_i / n_i; centre p̄ = Σd_i / Σn_i; limits p̄ ± 3·sqrt(p̄(1−p̄)/n_i),
 * clipped to [0, 1], so a small day has wider limits.
 * Run rules (Western Electric Statistical Quality Control Handbook, 1956; Nelson 1984 rules 1, 2):
 *   SPC_RULE_BEYOND  one point above the upper or below the lower control limit;
 *   SPC_RULE_RUN     eight points in a row on the same side of the centre line (a point exactly on
 *                    the centre line breaks the run); the eighth point and every further point of
 *                    the run carry the signal.
 *
 * Dimensions: site (the record's site), line (the record's actor: records carry no line field
 * yet, so the person or station that signed stands for the line), shift (event time of day in UTC
 * cut into 24 / shift_hours shifts, shift 0 starting at 00:00), day (event time, UTC calendar day).
 *
 * Rules:
 *  1. Reports own their memory: spc_report_free (also after an error).
 *  2. Limits: SPC_CELLS_MAX (site, line, shift, day) cells and SPC_SERIES_MAX series; beyond them
 *     spc_collect fails with SL_ELIMIT rather than drawing a partial chart.
 */
#ifndef SL_LEDGER_SPC_H
#define SL_LEDGER_SPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"
#include "store/store.h"

#define SPC_RUN_LENGTH 8	   /* Nelson rule 2 */
#define SPC_SIGMAS 3.0		   /* Shewhart limits */
#define SPC_CELLS_MAX 200000	   /* (site, line, shift, day) cells: 50 sites × 10 lines × 3 × 133 days */
#define SPC_SERIES_MAX 4096	   /* charts in one report */
#define SPC_POINTS_MAX 36600	   /* days in one series: a hundred years */
#define SPC_SHIFT_HOURS_DEFAULT 8  /* three shifts of 8 h, UTC */
#define SPC_METRIC_SIZE 48	   /* "rejected:REVERT_WINDOW_EXCEEDED" fits */
#define SPC_LINE_SIZE (RECORD_ACTOR_CHARS_MAX * 4 + 1) /* actor: 64 UTF-8 characters */

enum spc_rule {
	SPC_RULE_BEYOND = 1u << 0,
	SPC_RULE_RUN = 1u << 1,
};

/* One subgroup: `defects` of `size` records on day `day` (days since 1970-01-01, UTC). */
struct spc_point {
	int64_t day;
	uint64_t defects;
	uint64_t size;
};

/* Chart values of one subgroup. */
struct spc_chart_point {
	double p, ucl, lcl;
	unsigned rules; /* enum spc_rule bits */
};

/* Compute the centre line, each point's limits and its signals. Points with size 0 are plotted
 * as p = 0 with no limits and take no part in the centre or the rules. SL_EINVAL when
 * defects > size for some point or count is 0; *centre gets p̄. */
int spc_pchart(const struct spc_point *points, size_t count, double *centre, struct spc_chart_point *out);

struct spc_options {
	const char *site;     /* NULL: every site */
	const char *line;     /* NULL: every line (actor) */
	int64_t since_ms;     /* event time lower bound (inclusive); INT64_MIN for none */
	uint32_t shift_hours; /* 1–24, dividing 24 */
};

struct spc_series {
	char site[STORE_SITE_SIZE];
	char line[SPC_LINE_SIZE]; /* "" = all lines */
	int shift;		  /* -1 = all shifts */
	char metric[SPC_METRIC_SIZE]; /* "rejected", "rejected:LOCKED", "exception:damaged" */
	struct spc_point *points;     /* by day, ascending */
	struct spc_chart_point *chart;
	size_t count;
	double centre;
	size_t signals; /* points with any rule bit */
};

struct spc_report {
	struct spc_series *series;
	size_t count;
	size_t signals;	  /* over all series */
	uint64_t records; /* records counted (after the filters) */
	uint32_t shift_hours;
};

/* Series per site (all records: rejected, each refusal outcome seen, each exception category
 * seen), per site and line (rejected) and per site and shift (rejected), from every entry whose
 * record decodes. Exceptions are classified per record as reconcile_classify does (no lot). */
int spc_collect(store_txn *txn, const struct spc_options *options, struct spc_report *report);
void spc_report_free(struct spc_report *report);

/* Days since 1970-01-01 of a time in ms (floor, also before 1970) and the shift of that time. */
int64_t spc_day_of(int64_t ms);
int spc_shift_of(int64_t ms, uint32_t shift_hours);

#endif
