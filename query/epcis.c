/* query/epcis.c — `epcis export`: the ledger's accepted records as an EPCIS 2.0 document
 * (epcis/export.h), JSON-LD or XML. Its creationDate is the "now-ms" option, which the client
 * sets, so every replica writes the same document for the same ledger (query.h rule 2). */
#include <inttypes.h>
#include <libxml/parser.h>
#include <string.h>

#include "epcis/export.h"
#include "epcis/map.h"
#include "query/query_internal.h"
#include "util/error.h"

#define EPCIS_NOW_MS_MAX 253402300799999ULL /* 9999-12-31T23:59:59.999Z */

struct epcis_query {
	struct epcis_export_options options;
	char lot[GS1_LOT_KEY_SIZE];
	char id[GS1_ITEM_ID_SIZE];
};

static int epcis_parse(const struct query_params *p, struct epcis_query *q, struct query_out *out)
{
	memset(q, 0, sizeof *q);
	const char *format = query_param(p, "format") != NULL ? query_param(p, "format") : "json";
	if (strcmp(format, "json") == 0)
		q->options.syntax = EPCIS_SYNTAX_JSON;
	else if (strcmp(format, "xml") == 0)
		q->options.syntax = EPCIS_SYNTAX_XML;
	else
		return query_fail(out, QUERY_EXIT_USAGE, "--format: json or xml, not '%.40s'", format);
	uint64_t now_ms = UINT64_MAX;
	int rc = query_u64_option(p, "since", UINT64_MAX - 1, &q->options.since_seq, out);
	if (rc == 0)
		rc = query_u64_option(p, "now-ms", EPCIS_NOW_MS_MAX, &now_ms, out);
	if (rc == 0 && now_ms == UINT64_MAX)
		rc = query_fail(out, QUERY_EXIT_USAGE, "now-ms (the document's creation time) is required");
	q->options.now_ms = (int64_t)now_ms;
	char gtin[GS1_GTIN_DIGITS + 1], lot[GS1_LOT_CHARS_MAX + 1];
	if (rc == 0 && query_param(p, "lot") != NULL && (rc = query_lot_option(p, out, gtin, lot)) == 0) {
		gs1_lot_key(gtin, lot, q->lot);
		q->options.lot_key = q->lot;
	}
	const char *id = query_param(p, "id");
	char why[QUERY_MESSAGE_BYTES / 2];
	if (rc == 0 && id != NULL && query_item_id_parse(id, q->id, NULL, why, sizeof why) != 0)
		rc = query_fail(out, QUERY_EXIT_USAGE, "--id: not an SGTIN or SSCC identifier: '%.60s'", id);
	if (rc == 0 && id != NULL)
		q->options.item_id = q->id;
	return rc;
}

int query_epcis_export_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	struct epcis_query q;
	int rc = epcis_parse(p, &q, out);
	if (rc != 0 || env->txn == NULL)
		return rc;
	struct epcis_site_map sites; /* 64 pairs: a few KiB (no static: workers run queries at once) */
	struct epcis_site_map *map = &sites;
	struct epcis_export_stats stats;
	struct sl_error_detail detail = { { 0 } };
	memset(&stats, 0, sizeof stats);
	memset(map, 0, sizeof *map);
	rc = epcis_site_map_load(env->txn, map);
	q.options.sites = map;
	if (rc == 0)
		rc = epcis_export(env->txn, &q.options, out->doc[0], &stats, &detail);
	if (rc != 0)
		return query_fail(out, QUERY_EXIT_USAGE, "export failed: %s", detail.text[0] ? detail.text : sl_strerror(rc));
	out->stats[0] = stats.exported;
	out->stats[1] = stats.skipped;
	if (stats.skipped > 0)
		query_fail(out, QUERY_EXIT_OK,
			   "export: %" PRIu64 " event(s) written; %" PRIu64 " accepted record(s) have no EPCIS event "
			   "(revert, unlock, quarantine, withdrawal, deviation)",
			   stats.exported, stats.skipped);
	return out->exit_code;
}

void query_init(void)
{
	xmlInitParser(); /* once, before worker threads use libxml2 (epcis export) */
}
