/* cli/cmd_reconcile.h — pieces shared by the reconciliation commands (reconcile, where, spc) and
 * their HTML report writer (cli/report_html.c). */
#ifndef SL_CLI_CMD_RECONCILE_H
#define SL_CLI_CMD_RECONCILE_H

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "ledger/reconcile.h"
#include "ledger/spc.h"

/* "2026-11-24T10:00:00.000Z" (UTC). */
void cli_time_format(uint64_t ms, char out[32]);
/* "GTIN/LOT" → GTIN-14 and lot; prints the error and returns CLI_EXIT_USAGE when malformed. */
int cli_lot_option_parse(const char *text, char gtin[GS1_GTIN_DIGITS + 1], char lot[GS1_LOT_CHARS_MAX + 1]);
/* Parse --lot, --site, --overdue-days, open --data read-only and reconcile. On success the caller
 * owns the open ledger, the read transaction and the report; on failure nothing is left open. */
int cli_reconcile_run(const struct cli_args *args, struct cli_ledger *ledger, store_txn **txn,
		      struct reconcile_report *report);
void cli_reconcile_print_json(FILE *out, const struct reconcile_report *report, const char *site);

/* Self-contained HTML files (inline CSS and SVG, no external assets). 0 or SL_EIO. */
int report_html_reconcile(const char *path, const struct reconcile_report *report, const char *site);
int report_html_spc(const char *path, const struct spc_report *report);

#endif
