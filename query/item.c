/* query/item.c — one item's view (status, history) and one lot's stored counters (lot). Each
 * reads within the caller's one read transaction. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/lifecycle.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "query/query_internal.h"
#include "util/error.h"

#define HISTORY_DEPTH_MAX 16	   /* containers above an item that history follows */
#define HISTORY_ENTRIES_MAX 100000 /* entries one history prints (an item's life is far shorter) */

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

static void status_print_json(FILE *out, const char *id, const struct store_item *item,
			      const struct lock_view *locks, size_t lock_count)
{
	char when[32];
	query_time_format(item->status_time_ms, when);
	fprintf(out, "{\"id\":");
	query_json_cstring(out, id);
	fprintf(out, ",\"kind\":\"%s\",\"status\":", item->kind == GS1_KIND_CONTAINER ? "container" : "pack");
	query_json_cstring(out, lifecycle_status_name(item->status));
	fprintf(out, ",\"site\":");
	query_json_cstring(out, item->site);
	fprintf(out, ",\"destination\":");
	query_json_cstring(out, item->destination);
	fprintf(out, ",\"parent\":");
	query_json_cstring(out, item->parent);
	fprintf(out, ",\"children\":%" PRIu32 ",\"since\":\"%s\",\"status_seq\":%" PRIu64 ",\"commission_seq\":%" PRIu64,
		item->child_count, when, item->status_seq, item->commission_seq);
	if (item->reason)
		fprintf(out, ",\"decommission_reason\":\"%s\"", decommission_reason_name(item->reason));
	if (item->kind == GS1_KIND_PACK) {
		fprintf(out, ",\"gtin\":\"%s\",\"lot\":", item->gtin);
		query_json_cstring(out, item->lot);
		fprintf(out, ",\"expiry\":\"%s\"", item->expiry);
	}
	fprintf(out, ",\"locks\":[");
	for (size_t i = 0; i < lock_count; i++) {
		fprintf(out, "%s{\"on\":\"%s\",\"target\":", i ? "," : "", locks[i].what);
		query_json_cstring(out, locks[i].target);
		fprintf(out, ",\"reasons\":[");
		lock_reasons_print(out, locks[i].lock.reasons, true);
		fprintf(out, "],\"by\":\"%s\"}", locks[i].lock.site);
	}
	fprintf(out, "]}\n");
}

static void status_print_text(FILE *out, const char *id, const struct store_item *item,
			      const struct lock_view *locks, size_t lock_count)
{
	char when[32];
	query_time_format(item->status_time_ms, when);
	fprintf(out, "%s\n  status      %s", id, lifecycle_status_name(item->status));
	if (item->reason)
		fprintf(out, " (%s)", decommission_reason_name(item->reason));
	fprintf(out, " since %s (entry %" PRIu64 ")\n  site        %s\n", when, item->status_seq, item->site);
	if (item->destination[0])
		fprintf(out, "  in transit  to %s\n", item->destination);
	if (item->parent[0])
		fprintf(out, "  inside      %s\n", item->parent);
	if (item->kind == GS1_KIND_CONTAINER)
		fprintf(out, "  contains    %" PRIu32 " item(s)\n", item->child_count);
	else
		fprintf(out, "  gtin        %s\n  lot         %s\n  expiry      %s\n", item->gtin, item->lot, item->expiry);
	for (size_t i = 0; i < lock_count; i++) {
		fprintf(out, "  LOCKED      ");
		lock_reasons_print(out, locks[i].lock.reasons, false);
		fprintf(out, " on %s %s (by %s)\n", locks[i].what, locks[i].target, locks[i].lock.site);
	}
}

int query_status_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	char id[GS1_ITEM_ID_SIZE];
	int rc = query_item_arg(p, 0, id, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct store_item item;
	rc = store_item_get(env->txn, id, &item);
	if (rc == SL_ENOENT)
		return query_fail(out, QUERY_EXIT_REJECTED, "%s was never commissioned in this ledger", id);
	if (rc != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "cannot read %s: %s", id, sl_strerror(rc));
	struct lock_view locks[HISTORY_DEPTH_MAX + 3];
	size_t lock_count = locks_collect(env->txn, id, &item, locks, sizeof locks / sizeof locks[0]);
	if (query_param(p, "json") != NULL)
		status_print_json(out->doc[0], id, &item, locks, lock_count);
	else
		status_print_text(out->doc[0], id, &item, locks, lock_count);
	return QUERY_EXIT_OK;
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

static void history_row_print(FILE *out, store_txn *txn, const struct history_row *row, const char *via, bool json,
			      bool first)
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
		query_time_format(entry.ledger_time_ms, when);
	if (have_record)
		record_id(&record, id);
	const char *type = have_record ? record_type_name(record.type) : "(malformed)";
	const char *outcome = have_entry ? ledger_outcome_name((int)entry.outcome) : "(unreadable entry)";
	if (json) {
		fprintf(out, "%s{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"type\":\"%s\",\"outcome\":\"%s\",\"record_id\":",
			first ? "" : ",", row->seq, when, type, outcome ? outcome : "?");
		query_json_hex(out, id, sizeof id);
		fprintf(out, ",\"site\":");
		query_json_string(out, have_record ? record.site.ptr : "", have_record ? record.site.len : 0);
		fprintf(out, ",\"actor\":");
		query_json_string(out, have_record ? record.actor.ptr : "", have_record ? record.actor.len : 0);
		fprintf(out, ",\"via\":");
		query_json_cstring(out, via);
		fprintf(out, "}");
	} else {
		char hex[2 * RECORD_ID_BYTES + 1];
		crypto_hex_encode(id, sizeof id, hex);
		fprintf(out, "%6" PRIu64 "  %s  %-20s %-22s %-12.*s %-16.*s %.16s%s%s\n", row->seq, when, type,
			outcome ? outcome : "?", have_record ? (int)record.site.len : 0, have_record ? record.site.ptr : "",
			have_record ? (int)record.actor.len : 0, have_record ? record.actor.ptr : "", hex,
			via[0] ? "  via " : "", via);
	}
	if (have_record)
		record_clear(&record);
}

/* The item's entries and its containers', up to HISTORY_DEPTH_MAX levels, sorted. */
static int history_gather(store_txn *txn, char (*chain)[STORE_ITEM_ID_SIZE], struct history_collect *h)
{
	int rc = 0;
	for (unsigned depth = 0;; depth++) {
		h->via = depth;
		rc = store_history_iterate(txn, chain[depth], history_collect_cb, h);
		struct store_item item;
		if (rc < 0 || depth == HISTORY_DEPTH_MAX || store_item_get(txn, chain[depth], &item) != 0 ||
		    item.parent[0] == '\0')
			break;
		strcpy(chain[depth + 1], item.parent);
	}
	qsort(h->rows, h->count, sizeof(*h->rows), history_row_compare);
	return rc < 0 ? rc : 0;
}

int query_history_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	char chain[HISTORY_DEPTH_MAX + 1][STORE_ITEM_ID_SIZE];
	int rc = query_item_arg(p, 0, chain[0], out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct history_collect h = { calloc(HISTORY_ENTRIES_MAX, sizeof(struct history_row)), 0, 0, false };
	if (h.rows == NULL)
		return query_fail(out, QUERY_EXIT_USAGE, "out of memory");
	rc = history_gather(env->txn, chain, &h);
	bool json = query_param(p, "json") != NULL;
	FILE *doc = out->doc[0];
	if (json) {
		fprintf(doc, "{\"id\":");
		query_json_cstring(doc, chain[0]);
		fprintf(doc, ",\"entries\":[");
	}
	for (size_t i = 0; i < h.count; i++)
		history_row_print(doc, env->txn, &h.rows[i], h.rows[i].via ? chain[h.rows[i].via] : "", json, i == 0);
	if (json)
		fprintf(doc, "],\"truncated\":%s}\n", h.truncated ? "true" : "false");
	else if (h.count == 0)
		fprintf(doc, "no ledger entries name %s\n", chain[0]);
	free(h.rows);
	if (rc < 0)
		return query_fail(out, QUERY_EXIT_USAGE, "reading history failed: %s", sl_strerror(rc));
	return QUERY_EXIT_OK;
}

struct lot_print {
	FILE *out;
	bool json;
	size_t sites;
};

static int lot_site_print(void *ctx, const char *site, const struct store_lot_counters *counters)
{
	struct lot_print *p = ctx;
	if (p->json) {
		fprintf(p->out, "%s{\"site\":", p->sites ? "," : "");
		query_json_cstring(p->out, site);
		fprintf(p->out, ",\"counts\":{");
		bool first = true;
		for (unsigned slot = 0; slot < STORE_LOT_COUNTERS; slot++) {
			const char *name = lifecycle_counter_name(slot);
			if (name == NULL)
				continue;
			fprintf(p->out, "%s\"%s\":%" PRIu64, first ? "" : ",", name, counters->counts[slot]);
			first = false;
		}
		fprintf(p->out, "}}");
	} else {
		fprintf(p->out, "site %s\n", site);
		for (unsigned slot = 0; slot < STORE_LOT_COUNTERS; slot++) {
			const char *name = lifecycle_counter_name(slot);
			if (name != NULL && counters->counts[slot] != 0)
				fprintf(p->out, "  %-16s %" PRIu64 "\n", name, counters->counts[slot]);
		}
	}
	p->sites++;
	return 0;
}

int query_lot_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	char gtin[GS1_GTIN_DIGITS + 1];
	char key[GS1_LOT_KEY_SIZE];
	struct sl_error_detail detail = { "" };
	const char *lot = p->args[1];
	if (gs1_gtin_normalize(p->args[0], gtin, &detail) != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "'%.40s' is not a valid GTIN: %s", p->args[0], detail.text);
	if (gs1_cset82_validate(lot, strlen(lot), GS1_LOT_CHARS_MAX, &detail) != 0 || gs1_lot_key(gtin, lot, key) != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "'%.40s' is not a valid lot: %s", lot, detail.text);
	if (env->txn == NULL)
		return 0;
	struct lot_print lp = { out->doc[0], query_param(p, "json") != NULL, 0 };
	if (lp.json) {
		fprintf(lp.out, "{\"gtin\":\"%s\",\"lot\":", gtin);
		query_json_cstring(lp.out, lot);
		fprintf(lp.out, ",\"sites\":[");
	}
	int rc = store_lot_iterate(env->txn, key, lot_site_print, &lp);
	if (lp.json)
		fprintf(lp.out, "]}\n");
	else if (lp.sites == 0)
		fprintf(lp.out, "lot %s of GTIN %s has no items in this ledger\n", lot, gtin);
	if (rc < 0)
		return query_fail(out, QUERY_EXIT_USAGE, "reading lot failed: %s", sl_strerror(rc));
	return QUERY_EXIT_OK;
}
