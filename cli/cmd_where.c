/* cli/cmd_where.c — `siteledger where --lot GTIN/LOT [--site S] [--json]`: containment view for a
 * recall notice. Where every pack of the lot is now: site, outermost container, in transit to
 * whom, or out of the supply chain and why; with a summary per (status, site, destination).
 *
 * The packs are those reconcile_lot finds (accepted commission records of the lot), so `where`
 * and `reconcile` always speak of the same identities.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_reconcile.h"
#include "ledger/hierarchy.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

#define WHERE_GROUPS_MAX 10000 /* (status, site, destination, reason) groups in the summary */

struct where_row {
	const struct reconcile_item *item;
	char top[STORE_ITEM_ID_SIZE]; /* outermost container, "" when loose */
};

struct where_group {
	int status, reason;
	const char *site, *destination;
	uint64_t count;
};

/* Outermost container above a pack (bounded by the hierarchy depth limit). */
static void top_container(store_txn *txn, const struct store_item *state, char out[STORE_ITEM_ID_SIZE])
{
	out[0] = '\0';
	char parent[STORE_ITEM_ID_SIZE];
	memcpy(parent, state->parent, sizeof parent);
	for (int depth = 0; parent[0] != '\0' && depth < HIERARCHY_DEPTH_MAX; depth++) {
		memcpy(out, parent, STORE_ITEM_ID_SIZE);
		struct store_item above;
		if (store_item_get(txn, parent, &above) != 0)
			break;
		memcpy(parent, above.parent, sizeof parent);
	}
}

static const char *where_status(const struct store_item *s)
{
	const char *name = lifecycle_status_name(s->status);
	return name ? name : "missing";
}

static void where_print_json(const struct reconcile_report *r, const struct where_row *rows, size_t count,
			     const struct where_group *groups, size_t group_count)
{
	printf("{\"gtin\":\"%s\",\"lot\":", r->gtin);
	cli_json_cstring(stdout, r->lot);
	printf(",\"summary\":[");
	for (size_t i = 0; i < group_count; i++) {
		const struct where_group *g = &groups[i];
		printf("%s{\"status\":\"%s\",\"site\":", i ? "," : "",
		       lifecycle_status_name(g->status) ? lifecycle_status_name(g->status) : "missing");
		cli_json_cstring(stdout, g->site);
		printf(",\"destination\":");
		cli_json_cstring(stdout, g->destination);
		printf(",\"reason\":\"%s\",\"count\":%" PRIu64 "}", g->reason ? decommission_reason_name(g->reason) : "",
		       g->count);
	}
	printf("],\"items\":[");
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		printf("%s{\"id\":", i ? "," : "");
		cli_json_cstring(stdout, rows[i].item->id);
		printf(",\"status\":\"%s\",\"site\":", where_status(s));
		cli_json_cstring(stdout, s->site);
		printf(",\"destination\":");
		cli_json_cstring(stdout, s->destination);
		printf(",\"container\":");
		cli_json_cstring(stdout, s->parent);
		printf(",\"top_container\":");
		cli_json_cstring(stdout, rows[i].top);
		printf(",\"reason\":\"%s\",\"locked\":%s}",
		       s->status == ITEM_DECOMMISSIONED && s->reason ? decommission_reason_name(s->reason) : "",
		       rows[i].item->lock_reasons ? "true" : "false");
	}
	printf("]}\n");
}

static void where_print_text(const struct reconcile_report *r, const struct where_row *rows, size_t count,
			     const struct where_group *groups, size_t group_count)
{
	printf("Lot %s of GTIN %s: %zu pack(s)\n\n", r->lot, r->gtin, count);
	for (size_t i = 0; i < group_count; i++) {
		const struct where_group *g = &groups[i];
		if (g->status == ITEM_IN_TRANSIT)
			printf("  %8" PRIu64 "  in transit from %s to %s\n", g->count, g->site, g->destination);
		else if (g->status == ITEM_ACTIVE)
			printf("  %8" PRIu64 "  on hand at %s\n", g->count, g->site);
		else if (g->status == ITEM_DECOMMISSIONED)
			printf("  %8" PRIu64 "  decommissioned (%s) at %s\n", g->count, decommission_reason_name(g->reason),
			       g->site);
		else
			printf("  %8" PRIu64 "  MISSING from the items table\n", g->count);
	}
	printf("\n  %-42s %-14s %-12s %-12s %s\n", "item", "status", "site", "to", "container (outermost)");
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		printf("  %-42s %-14s %-12s %-12s %s%s\n", rows[i].item->id, where_status(s), s->site,
		       s->destination[0] ? s->destination : "-", rows[i].top[0] ? rows[i].top : "-",
		       rows[i].item->lock_reasons ? "  LOCKED" : "");
	}
}

static size_t groups_build(const struct where_row *rows, size_t count, struct where_group *groups)
{
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		const struct store_item *s = &rows[i].item->state;
		int reason = s->status == ITEM_DECOMMISSIONED ? s->reason : 0;
		size_t g = 0;
		while (g < n && !(groups[g].status == s->status && groups[g].reason == reason &&
				  strcmp(groups[g].site, s->site) == 0 && strcmp(groups[g].destination, s->destination) == 0))
			g++;
		if (g == n) {
			if (n == WHERE_GROUPS_MAX)
				continue; /* summary full: the item rows still list every pack */
			groups[n++] = (struct where_group){ s->status, reason, s->site, s->destination, 0 };
		}
		groups[g].count++;
	}
	return n;
}

int cli_cmd_where(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 0)
		return cli_fail("unexpected argument '%s'", args->positional[0]);
	struct cli_ledger ledger;
	store_txn *txn = NULL;
	struct reconcile_report report;
	int rc = cli_reconcile_run(args, &ledger, &txn, &report);
	if (rc != 0)
		return rc;
	const char *site = cli_arg(args, "site");
	struct where_row *rows = calloc(report.item_count ? report.item_count : 1, sizeof(*rows));
	struct where_group *groups = calloc(WHERE_GROUPS_MAX, sizeof(*groups));
	size_t count = 0;
	if (rows == NULL || groups == NULL) {
		rc = cli_fail("out of memory");
	} else {
		for (size_t i = 0; i < report.item_count; i++) {
			const struct store_item *s = &report.items[i].state;
			if (site != NULL && strcmp(s->site, site) != 0 && strcmp(s->destination, site) != 0)
				continue;
			rows[count].item = &report.items[i];
			top_container(txn, s, rows[count].top);
			count++;
		}
		size_t group_count = groups_build(rows, count, groups);
		if (cli_flag(args, "json"))
			where_print_json(&report, rows, count, groups, group_count);
		else
			where_print_text(&report, rows, count, groups, group_count);
	}
	free(rows);
	free(groups);
	reconcile_report_free(&report);
	store_txn_abort(txn);
	cli_ledger_close(&ledger);
	return rc;
}
