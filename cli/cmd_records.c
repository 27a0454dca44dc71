/* cli/cmd_records.c — commands that build one record type each: commission-container, aggregate,
 * disaggregate, ship, receive, decommission, revert, lock, unlock, deviation. (commission has its
 * own file for serial generation; submit is in cmd_submit.c.) */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/error.h"

int cli_item_id_parse(const char *text, char out[GS1_ITEM_ID_SIZE], struct gs1_item *item)
{
	char why[SL_ERROR_DETAIL_BYTES_MAX + 64];
	if (query_item_id_parse(text, out, item, why, sizeof why) != 0)
		return cli_fail("'%s' is not a valid identifier: %s", text, why);
	return 0;
}

/* Item ids from positional arguments into one allocation; views into it go to record->items. */
struct item_list {
	char (*ids)[GS1_ITEM_ID_SIZE];
	struct sl_str *views;
	size_t count;
};

static void item_list_free(struct item_list *list)
{
	free(list->ids);
	free(list->views);
	memset(list, 0, sizeof(*list));
}

static int item_list_parse(const char *const *texts, size_t count, bool allow_empty, struct item_list *list)
{
	memset(list, 0, sizeof(*list));
	if (count == 0 && !allow_empty)
		return cli_fail("no identifiers given");
	if (count > RECORD_ITEMS_MAX)
		return cli_fail("%zu identifiers; at most %d per record", count, RECORD_ITEMS_MAX);
	list->ids = calloc(count ? count : 1, sizeof(*list->ids));
	list->views = calloc(count ? count : 1, sizeof(*list->views));
	if (list->ids == NULL || list->views == NULL) {
		item_list_free(list);
		return cli_fail("out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		int rc = cli_item_id_parse(texts[i], list->ids[i], NULL);
		if (rc != 0) {
			item_list_free(list);
			return rc;
		}
		list->views[i] = sl_str_from_cstr(list->ids[i]);
	}
	list->count = count;
	return 0;
}

static int items_record_finish(const struct cli_args *args, struct record *record, struct item_list *list)
{
	record->items = list->views;
	record->item_count = list->count;
	int rc = cli_records_finish(args, record, 1, NULL);
	item_list_free(list);
	return rc;
}

int cli_cmd_commission_container(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	size_t sscc_count = cli_arg_count(args, "sscc");
	size_t total = sscc_count + args->positional_count;
	const char **texts = calloc(total ? total : 1, sizeof(*texts));
	char (*element)[GS1_SSCC_DIGITS + 5] = calloc(sscc_count ? sscc_count : 1, sizeof(*element));
	if (texts == NULL || element == NULL) {
		free(texts);
		free(element);
		return cli_fail("out of memory");
	}
	for (size_t i = 0; i < sscc_count; i++) { /* a bare SSCC becomes "(00)SSCC" */
		const char *sscc = cli_arg_nth(args, "sscc", i);
		snprintf(element[i], sizeof element[i], "%s%.18s", sscc[0] == '(' ? "" : "(00)", sscc);
		texts[i] = strlen(sscc) <= GS1_SSCC_DIGITS + 4 ? element[i] : sscc;
	}
	for (size_t i = 0; i < args->positional_count; i++)
		texts[sscc_count + i] = args->positional[i];
	struct item_list list;
	int rc = item_list_parse(texts, total, false, &list);
	free(texts);
	free(element);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < list.count; i++) {
		if (strncmp(list.ids[i], "(00)", 4) != 0) {
			rc = cli_fail("'%s' is not a container (SSCC) identifier", list.ids[i]);
			item_list_free(&list);
			return rc;
		}
	}
	struct record record;
	record_init(&record);
	record.type = RECORD_COMMISSION_CONTAINER;
	return items_record_finish(args, &record, &list);
}

int cli_cmd_aggregate(const struct cli_command *command, struct cli_args *args)
{
	bool aggregate = strcmp(command->name, "aggregate") == 0;
	const char *parent_text = cli_arg(args, "parent");
	if (parent_text == NULL)
		return cli_fail("--parent ID is required");
	char parent[GS1_ITEM_ID_SIZE];
	int rc = cli_item_id_parse(parent_text, parent, NULL);
	if (rc != 0)
		return rc;
	struct item_list list;
	rc = item_list_parse(args->positional, args->positional_count, !aggregate, &list);
	if (rc != 0)
		return rc;
	struct record record;
	record_init(&record);
	record.type = aggregate ? RECORD_AGGREGATE : RECORD_DISAGGREGATE;
	record.parent = sl_str_from_cstr(parent);
	return items_record_finish(args, &record, &list);
}

int cli_cmd_ship(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *to = cli_arg(args, "to");
	if (to == NULL)
		return cli_fail("--to SITE is required");
	if (!record_site_id_valid(to, strlen(to)))
		return cli_fail("--to: '%s' is not a valid site id", to);
	struct item_list list;
	int rc = item_list_parse(args->positional, args->positional_count, false, &list);
	if (rc != 0)
		return rc;
	struct record record;
	record_init(&record);
	record.type = RECORD_SHIP;
	record.to = sl_str_from_cstr(to);
	return items_record_finish(args, &record, &list);
}

int cli_cmd_items(const struct cli_command *command, struct cli_args *args)
{
	struct item_list list;
	int rc = item_list_parse(args->positional, args->positional_count, false, &list);
	if (rc != 0)
		return rc;
	struct record record;
	record_init(&record);
	record.type = strcmp(command->name, "receive") == 0 ? RECORD_RECEIVE : RECORD_REVERT;
	return items_record_finish(args, &record, &list);
}

int cli_cmd_decommission(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *reason = cli_arg(args, "reason");
	int value = reason ? decommission_reason_from_name(reason) : -1;
	if (value < 0)
		return cli_fail("--reason: expected dispensed, destroyed, sample, free_sample, exported, stolen, "
				"expired, damaged or checked_out");
	struct item_list list;
	int rc = item_list_parse(args->positional, args->positional_count, false, &list);
	if (rc != 0)
		return rc;
	struct record record;
	record_init(&record);
	record.type = RECORD_DECOMMISSION;
	record.decommission_reason = (uint32_t)value;
	return items_record_finish(args, &record, &list);
}

/* Lock target in its canonical key form: item id, "(01)GTIN(10)LOT" or "(01)GTIN". */
static int lock_target_parse(int scope, const char *text, char out[GS1_LOT_KEY_SIZE])
{
	char gtin[GS1_GTIN_DIGITS + 1];
	struct sl_error_detail detail = { "" };
	if (scope == LOCK_SCOPE_SERIAL)
		return cli_item_id_parse(text, out, NULL);
	if (scope == LOCK_SCOPE_GTIN) {
		const char *digits = strncmp(text, "(01)", 4) == 0 ? text + 4 : text;
		int rc = gs1_gtin_normalize(digits, gtin, &detail);
		if (rc != 0)
			return cli_fail("'%s' is not a valid GTIN: %s %s", text, sl_strerror(rc), detail.text);
		snprintf(out, GS1_LOT_KEY_SIZE, "(01)%s", gtin);
		return 0;
	}
	const char *slash = strchr(text, '/');
	if (slash == NULL || (size_t)(slash - text) > GS1_GTIN_DIGITS)
		return cli_fail("lot target: expected GTIN/LOT, got '%s'", text);
	char gtin_text[GS1_GTIN_DIGITS + 1];
	memcpy(gtin_text, text, (size_t)(slash - text));
	gtin_text[slash - text] = '\0';
	int rc = gs1_gtin_normalize(gtin_text, gtin, &detail);
	if (rc == 0)
		rc = gs1_cset82_validate(slash + 1, strlen(slash + 1), GS1_LOT_CHARS_MAX, &detail);
	if (rc == 0)
		rc = gs1_lot_key(gtin, slash + 1, out);
	if (rc != 0)
		return cli_fail("lot target '%s': %s %s", text, sl_strerror(rc), detail.text);
	return 0;
}

int cli_cmd_lock(const struct cli_command *command, struct cli_args *args)
{
	const char *scope_text = cli_arg(args, "scope");
	const char *reason_text = cli_arg(args, "reason");
	int scope = scope_text ? lock_scope_from_name(scope_text) : -1;
	int reason = reason_text ? lock_reason_from_name(reason_text) : -1;
	if (scope < 0)
		return cli_fail("--scope: expected serial, lot or gtin");
	if (reason < 0)
		return cli_fail("--reason: expected quarantine, recall or withdrawal");
	if (args->positional_count != 1)
		return cli_fail("exactly one TARGET expected (an identifier, GTIN/LOT or GTIN)");
	char target[GS1_LOT_KEY_SIZE];
	int rc = lock_target_parse(scope, args->positional[0], target);
	if (rc != 0)
		return rc;
	struct record record;
	record_init(&record);
	record.type = strcmp(command->name, "lock") == 0 ? RECORD_LOCK : RECORD_UNLOCK;
	record.lock_scope = (uint32_t)scope;
	record.lock_reason = (uint32_t)reason;
	record.lock_target = sl_str_from_cstr(target);
	return cli_records_finish(args, &record, 1, NULL);
}

int cli_cmd_deviation(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *category_text = cli_arg(args, "category");
	int category = category_text ? deviation_category_from_name(category_text) : -1;
	if (category < 0)
		return cli_fail("--category: expected product_no_data, data_no_product, packaging_labelling, "
				"damaged, unavailable_for_distribution or other");
	const char *text = cli_arg(args, "text");
	if (text == NULL || text[0] == '\0' || strlen(text) > RECORD_TEXT_CHARS_MAX)
		return cli_fail("--text: 1 to %d characters required", RECORD_TEXT_CHARS_MAX);
	size_t ref_count = cli_arg_count(args, "ref");
	if (ref_count > RECORD_REFS_MAX)
		return cli_fail("at most %d --ref", RECORD_REFS_MAX);
	uint8_t (*refs)[RECORD_ID_BYTES] = calloc(ref_count ? ref_count : 1, RECORD_ID_BYTES);
	if (refs == NULL)
		return cli_fail("out of memory");
	for (size_t i = 0; i < ref_count; i++) {
		if (crypto_hex_decode(cli_arg_nth(args, "ref", i), refs[i], RECORD_ID_BYTES) != 0) {
			free(refs);
			return cli_fail("--ref '%s': expected a 64-digit hex record id", cli_arg_nth(args, "ref", i));
		}
	}
	struct record record;
	record_init(&record);
	record.type = RECORD_DEVIATION;
	record.deviation_category = (uint32_t)category;
	record.text = sl_str_from_cstr(text);
	record.refs = (const uint8_t (*)[RECORD_ID_BYTES])refs;
	record.ref_count = ref_count;
	int rc = cli_records_finish(args, &record, 1, NULL);
	free(refs);
	return rc;
}
