/* query/query_internal.h — what the files of query/ share; never included outside query/.
 *
 * Each kind's function parses its parameters first and returns after that when env->txn is NULL
 * (query_check); only then does it read the store and write documents.
 */
#ifndef SL_QUERY_QUERY_INTERNAL_H
#define SL_QUERY_QUERY_INTERNAL_H

#include "query/bundle.h"
#include "query/query.h"

int query_status_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_history_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_lot_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_reconcile_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_where_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_spc_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_checkpoint_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_epcis_export_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_prove_run(const struct query_env *env, const struct query_params *p, struct query_out *out);
int query_export_check(const struct query_params *p, struct query_out *out);

/* The "lot" option as GTIN-14 and lot; 0, or exit 2 with the message. */
int query_lot_option(const struct query_params *p, struct query_out *out, char gtin[GS1_GTIN_DIGITS + 1],
		     char lot[GS1_LOT_CHARS_MAX + 1]);
/* An optional unsigned option (absent: *value untouched); 0 or exit 2. */
int query_u64_option(const struct query_params *p, const char *name, uint64_t max, uint64_t *value,
		     struct query_out *out);
/* A site option ("site"): NULL when absent, or exit 2 when not a site id (*site untouched). */
int query_site_option(const struct query_params *p, const char **site, struct query_out *out);
/* The positional identifier i; 0 or exit 2. */
int query_item_arg(const struct query_params *p, size_t i, char id[GS1_ITEM_ID_SIZE], struct query_out *out);

/* HTML reports (query/report_html.c): written to `out`; never closed here. */
struct reconcile_report;
struct reconcile_options;
struct spc_report;
void report_html_reconcile(FILE *out, const struct reconcile_report *report, const struct reconcile_options *options);
void report_html_spc(FILE *out, const struct spc_report *report);
/* Each signal of the report (a point with a rule set), series by series in day order: signal gets
 * the series, the point's index and its day as text (query/spc.c). */
struct spc_series;
void query_spc_signals_each(const struct spc_report *report,
			    void (*signal)(void *ctx, const struct spc_series *s, size_t k, const char *day), void *ctx);

#endif
