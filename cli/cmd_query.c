/* cli/cmd_query.c — read-only views of the local ledger: status, history, lot. They open the data
 * directory read-only and never block a writer for longer than one LMDB read transaction. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "ledger/entry.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "util/error.h"

#define HISTORY_DEPTH_MAX 16	      /* containers above an item that history follows */
#define HISTORY_ENTRIES_MAX 100000    /* entries one history prints (an item's life is far shorter) */

static void time_format(uint64_t ms, char out[32])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

static int query_open(const struct cli_args *args, struct cli_ledger *ledger, store_txn **txn)
{
	int rc = cli_ledger_open(args, false, ledger);
	if (rc != 0)
		return rc;
	rc = store_txn_begin(ledger->st, false, txn);
	if (rc != 0) {
		cli_ledger_close(ledger);
		return cli_fail("cannot read: %s", sl_strerror(rc));
	}
	return 0;
}

static void query_close(struct cli_ledger *ledger, store_txn *txn)
{
	store_txn_abort(txn);
	cli_ledger_close(ledger);
}

struct lock_view {
	const char *what;
	char target[STORE_LOCK_TARGET_SIZE];
	struct store_lock lock;
};

/* Locks that apply to an item: its own, its lot's, its GTIN's, and its containers'. */
static size_t locks_collect(store_txn *txn, const char *id, const struct store_item *item, struct lock_view *out,
			    size_t max)
{
	size_t count = 0;
	char targets[3][STORE_LOCK_TARGET_SIZE];
	const char *whats[3] = { "item", "lot", "gtin" };
	snprintf(targets[0], sizeof targets[0], "%s", id);
	targets[1][0] = targets[2][0] = '\0';
	if (item->kind == GS1_KIND_PACK) {
		gs1_lot_key(item->gtin, item->lot, targets[1]);
		snprintf(targets[2], sizeof targets[2], "(01)%s", item->gtin);
	}
	for (size_t i = 0; i < 3 && count < max; i++) {
		if (targets[i][0] && store_lock_get(txn, targets[i], &out[count].lock) == 0) {
			out[count].what = whats[i];
			strcpy(out[count].target, targets[i]);
			count++;
		}
	}
	char parent[STORE_ITEM_ID_SIZE];
	strcpy(parent, item->parent);
	for (int depth = 0; parent[0] && depth < HISTORY_DEPTH_MAX && count < max; depth++) {
		struct store_item above;
		if (store_item_get(txn, parent, &above) != 0)
			break;
		if (store_lock_get(txn, parent, &out[count].lock) == 0) {
			out[count].what = "container";
			strcpy(out[count].target, parent);
			count++;
		}
		strcpy(parent, above.parent);
	}
	return count;
}

static void lock_reasons_print(FILE *out, uint8_t reasons, bool json)
{
	bool first = true;
	for (int r = LOCK_QUARANTINE; r <= LOCK_WITHDRAWAL; r++) {
		if (!(reasons & (1u << r)))
			continue;
		if (json)
			fprintf(out, "%s\"%s\"", first ? "" : ",", lock_reason_name(r));
		else
			fprintf(out, "%s%s", first ? "" : ",", lock_reason_name(r));
		first = false;
	}
}

static void status_print_json(const char *id, const struct store_item *item, const struct lock_view *locks,
			      size_t lock_count)
{
	char when[32];
	time_format(item->status_time_ms, when);
	printf("{\"id\":");
	cli_json_cstring(stdout, id);
	printf(",\"kind\":\"%s\",\"status\":", item->kind == GS1_KIND_CONTAINER ? "container" : "pack");
	cli_json_cstring(stdout, lifecycle_status_name(item->status));
	printf(",\"site\":");
	cli_json_cstring(stdout, item->site);
	printf(",\"destination\":");
	cli_json_cstring(stdout, item->destination);
	printf(",\"parent\":");
	cli_json_cstring(stdout, item->parent);
	printf(",\"children\":%" PRIu32 ",\"since\":\"%s\",\"status_seq\":%" PRIu64 ",\"commission_seq\":%" PRIu64,
	       item->child_count, when, item->status_seq, item->commission_seq);
	if (item->reason)
		printf(",\"decommission_reason\":\"%s\"", decommission_reason_name(item->reason));
	if (item->kind == GS1_KIND_PACK) {
		printf(",\"gtin\":\"%s\",\"lot\":", item->gtin);
		cli_json_cstring(stdout, item->lot);
		printf(",\"expiry\":\"%s\"", item->expiry);
	}
	printf(",\"locks\":[");
	for (size_t i = 0; i < lock_count; i++) {
		printf("%s{\"on\":\"%s\",\"target\":", i ? "," : "", locks[i].what);
		cli_json_cstring(stdout, locks[i].target);
		printf(",\"reasons\":[");
		lock_reasons_print(stdout, locks[i].lock.reasons, true);
		printf("],\"by\":\"%s\"}", locks[i].lock.site);
	}
	printf("]}\n");
}

static void status_print_text(const char *id, const struct store_item *item, const struct lock_view *locks,
			      size_t lock_count)
{
	char when[32];
	time_format(item->status_time_ms, when);
	printf("%s\n  status      %s", id, lifecycle_status_name(item->status));
	if (item->reason)
		printf(" (%s)", decommission_reason_name(item->reason));
	printf(" since %s (entry %" PRIu64 ")\n  site        %s\n", when, item->status_seq, item->site);
	if (item->destination[0])
		printf("  in transit  to %s\n", item->destination);
	if (item->parent[0])
		printf("  inside      %s\n", item->parent);
	if (item->kind == GS1_KIND_CONTAINER)
		printf("  contains    %" PRIu32 " item(s)\n", item->child_count);
	else
		printf("  gtin        %s\n  lot         %s\n  expiry      %s\n", item->gtin, item->lot, item->expiry);
	for (size_t i = 0; i < lock_count; i++) {
		printf("  LOCKED      ");
		lock_reasons_print(stdout, locks[i].lock.reasons, false);
		printf(" on %s %s (by %s)\n", locks[i].what, locks[i].target, locks[i].lock.site);
	}
}

int cli_cmd_status(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 1)
		return cli_fail("exactly one identifier expected");
	char id[GS1_ITEM_ID_SIZE];
	int rc = cli_item_id_parse(args->positional[0], id, NULL);
	if (rc != 0)
		return rc;
	if (cli_arg(args, "node") != NULL)
		return cli_node_item_status(args, id);
	struct cli_ledger ledger;
	store_txn *txn = NULL;
	rc = query_open(args, &ledger, &txn);
	if (rc != 0)
		return rc;
	struct store_item item;
	rc = store_item_get(txn, id, &item);
	if (rc == SL_ENOENT) {
		query_close(&ledger, txn);
		fprintf(stderr, "siteledger: status: %s was never commissioned in this ledger\n", id);
		return CLI_EXIT_REJECTED;
	}
	if (rc != 0) {
		query_close(&ledger, txn);
		return cli_fail("cannot read %s: %s", id, sl_strerror(rc));
	}
	struct lock_view locks[HISTORY_DEPTH_MAX + 3];
	size_t lock_count = locks_collect(txn, id, &item, locks, sizeof locks / sizeof locks[0]);
	if (cli_flag(args, "json"))
		status_print_json(id, &item, locks, lock_count);
	else
		status_print_text(id, &item, locks, lock_count);
	query_close(&ledger, txn);
	return CLI_EXIT_ACCEPTED;
}

struct history_row {
	uint64_t seq;
	unsigned via; /* 0 = the item itself, n = its n-th container up */
};

struct history_collect {
	struct history_row *rows;
	size_t count;
	unsigned via;
	bool truncated;
};

static int history_collect_cb(void *ctx, uint64_t seq)
{
	struct history_collect *h = ctx;
	if (h->count >= HISTORY_ENTRIES_MAX) {
		h->truncated = true;
		return 1;
	}
	h->rows[h->count].seq = seq;
	h->rows[h->count].via = h->via;
	h->count++;
	return 0;
}

static int history_row_compare(const void *a, const void *b)
{
	const struct history_row *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->via < y->via ? -1 : x->via > y->via;
}

static void history_row_print(store_txn *txn, const struct history_row *row, const char *via, bool json, bool first)
{
	const uint8_t *bytes = NULL;
	size_t len = 0;
	struct ledger_entry entry;
	struct record record;
	bool have_entry = store_ledger_get(txn, row->seq, &bytes, &len) == 0 && entry_decode(bytes, len, &entry, NULL) == 0;
	bool have_record = have_entry && record_decode(entry.record, entry.record_len, &record, NULL) == 0;
	char when[32] = "?";
	uint8_t id[RECORD_ID_BYTES] = { 0 };
	if (have_entry)
		time_format(entry.ledger_time_ms, when);
	if (have_record)
		record_id(&record, id);
	const char *type = have_record ? record_type_name(record.type) : "(malformed)";
	const char *outcome = have_entry ? ledger_outcome_name((int)entry.outcome) : "(unreadable entry)";
	if (json) {
		printf("%s{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"type\":\"%s\",\"outcome\":\"%s\",\"record_id\":",
		       first ? "" : ",", row->seq, when, type, outcome ? outcome : "?");
		cli_json_hex(stdout, id, sizeof id);
		printf(",\"site\":");
		cli_json_string(stdout, have_record ? record.site.ptr : "", have_record ? record.site.len : 0);
		printf(",\"actor\":");
		cli_json_string(stdout, have_record ? record.actor.ptr : "", have_record ? record.actor.len : 0);
		printf(",\"via\":");
		cli_json_cstring(stdout, via);
		printf("}");
	} else {
		char hex[2 * RECORD_ID_BYTES + 1];
		crypto_hex_encode(id, sizeof id, hex);
		printf("%6" PRIu64 "  %s  %-20s %-22s %-12.*s %-16.*s %.16s%s%s\n", row->seq, when, type,
		       outcome ? outcome : "?", have_record ? (int)record.site.len : 0, have_record ? record.site.ptr : "",
		       have_record ? (int)record.actor.len : 0, have_record ? record.actor.ptr : "", hex,
		       via[0] ? "  via " : "", via);
	}
	if (have_record)
		record_clear(&record);
}

int cli_cmd_history(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 1)
		return cli_fail("exactly one identifier expected");
	char chain[HISTORY_DEPTH_MAX + 1][STORE_ITEM_ID_SIZE];
	int rc = cli_item_id_parse(args->positional[0], chain[0], NULL);
	if (rc != 0)
		return rc;
	struct cli_ledger ledger;
	store_txn *txn = NULL;
	rc = query_open(args, &ledger, &txn);
	if (rc != 0)
		return rc;
	struct history_collect h = { calloc(HISTORY_ENTRIES_MAX, sizeof(struct history_row)), 0, 0, false };
	if (h.rows == NULL) {
		query_close(&ledger, txn);
		return cli_fail("out of memory");
	}
	unsigned depth = 0;
	for (;; depth++) {
		h.via = depth;
		rc = store_history_iterate(txn, chain[depth], history_collect_cb, &h);
		struct store_item item;
		if (rc < 0 || depth == HISTORY_DEPTH_MAX || store_item_get(txn, chain[depth], &item) != 0 ||
		    item.parent[0] == '\0')
			break;
		strcpy(chain[depth + 1], item.parent);
	}
	qsort(h.rows, h.count, sizeof(*h.rows), history_row_compare);
	bool json = cli_flag(args, "json");
	if (json) {
		printf("{\"id\":");
		cli_json_cstring(stdout, chain[0]);
		printf(",\"entries\":[");
	}
	for (size_t i = 0; i < h.count; i++)
		history_row_print(txn, &h.rows[i], h.rows[i].via ? chain[h.rows[i].via] : "", json, i == 0);
	if (json)
		printf("],\"truncated\":%s}\n", h.truncated ? "true" : "false");
	else if (h.count == 0)
		printf("no ledger entries name %s\n", chain[0]);
	free(h.rows);
	query_close(&ledger, txn);
	return rc < 0 ? cli_fail("reading history failed: %s", sl_strerror(rc)) : CLI_EXIT_ACCEPTED;
}

struct lot_print {
	bool json;
	size_t sites;
};

static int lot_site_print(void *ctx, const char *site, const struct store_lot_counters *counters)
{
	struct lot_print *p = ctx;
	if (p->json) {
		printf("%s{\"site\":", p->sites ? "," : "");
		cli_json_cstring(stdout, site);
		printf(",\"counts\":{");
		bool first = true;
		for (unsigned slot = 0; slot < STORE_LOT_COUNTERS; slot++) {
			const char *name = lifecycle_counter_name(slot);
			if (name == NULL)
				continue;
			printf("%s\"%s\":%" PRIu64, first ? "" : ",", name, counters->counts[slot]);
			first = false;
		}
		printf("}}");
	} else {
		printf("site %s\n", site);
		for (unsigned slot = 0; slot < STORE_LOT_COUNTERS; slot++) {
			const char *name = lifecycle_counter_name(slot);
			if (name != NULL && counters->counts[slot] != 0)
				printf("  %-16s %" PRIu64 "\n", name, counters->counts[slot]);
		}
	}
	p->sites++;
	return 0;
}

int cli_cmd_lot(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 2)
		return cli_fail("expected GTIN and LOT");
	char gtin[GS1_GTIN_DIGITS + 1];
	char key[GS1_LOT_KEY_SIZE];
	struct sl_error_detail detail = { "" };
	const char *lot = args->positional[1];
	if (gs1_gtin_normalize(args->positional[0], gtin, &detail) != 0)
		return cli_fail("'%s' is not a valid GTIN: %s", args->positional[0], detail.text);
	if (gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, &detail) != 0 || gs1_lot_key(gtin, lot, key) != 0)
		return cli_fail("'%s' is not a valid lot: %s", lot, detail.text);
	struct cli_ledger ledger;
	store_txn *txn = NULL;
	int rc = query_open(args, &ledger, &txn);
	if (rc != 0)
		return rc;
	struct lot_print p = { cli_flag(args, "json"), 0 };
	if (p.json) {
		printf("{\"gtin\":\"%s\",\"lot\":", gtin);
		cli_json_cstring(stdout, lot);
		printf(",\"sites\":[");
	}
	rc = store_lot_iterate(txn, key, lot_site_print, &p);
	if (p.json)
		printf("]}\n");
	else if (p.sites == 0)
		printf("lot %s of GTIN %s has no items in this ledger\n", lot, gtin);
	query_close(&ledger, txn);
	return rc < 0 ? cli_fail("reading lot failed: %s", sl_strerror(rc)) : CLI_EXIT_ACCEPTED;
}
