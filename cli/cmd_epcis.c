/* cli/cmd_epcis.c — `siteledger epcis hash|import|export` (docs/epcis.md).
 *
 *   hash FILE      one CBV 2.0 event hash ID per event, in document order (--prehash: the canonical
 *                  pre-hash strings instead, for debugging against other implementations)
 *   import FILE    map events to records of this site, sign, apply as one transaction with the
 *                  event hash IDs (epcis/import.h); --dry-run applies and rolls back; --atomic
 *                  commits only when every event maps and every record is accepted
 *   export         the ledger's records as an EPCIS 2.0 document (epcis/export.h)
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd_epcis.h"
#include "epcis/epcis.h"
#include "epcis/export.h"
#include "epcis/import.h"
#include "epcis/map.h"
#include "ledger/reason.h"
#include "util/error.h"

const struct cli_option_spec cli_epcis_options[] = {
	{ "dry-run", NULL, false, "import: map, check and apply in a transaction that is rolled back" },
	{ "atomic", NULL, false, "import: the whole document or nothing (any unmapped event or refusal aborts)" },
	{ "site-map", "GLN=SITE", true, "import: the site a GLN (or SGLN, or Digital Link 414 URI) stands for" },
	{ "lot", "GTIN/LOT", false, "export: only this lot's items" },
	{ "id", "ID", false, "export: only this item and what is inside it" },
	{ "since", "N", false, "export: only ledger entries after sequence N" },
	{ "format", "json|xml", false, "export: EPCIS 2.0 JSON-LD (default) or XML" },
	{ "prehash", NULL, false, "hash: print the canonical pre-hash strings instead of the hash IDs" },
	{ "key", "FILE", false, "import: secret key file (default: the one given to init); export with --node: the request's key" },
	{ "actor", "ID", false, "import: person responsible, recorded and signed (default: $USER)" },
	{ "node", "ADDR", false, "export: ask a siteledgerd node (tcp://HOST:PORT) instead of --data; its copy may lag the leader" },
	{ "linearizable", NULL, false, "export with --node: after the node applied all that was committed when asked (Raft ReadIndex)" },
	{ NULL, NULL, false, NULL },
};

static int load(const char *path, epcis_doc **doc)
{
	struct sl_error_detail detail = { { 0 } };
	int rc = epcis_doc_read_file(path, doc, &detail);
	if (rc != 0)
		return cli_fail("%s: %s", path, detail.text[0] ? detail.text : sl_strerror(rc));
	return 0;
}

static int run_hash(struct cli_args *args)
{
	if (args->positional_count != 2)
		return cli_fail("usage: siteledger epcis hash FILE");
	epcis_doc *doc = NULL;
	int rc = load(args->positional[1], &doc);
	if (rc != 0)
		return rc;
	bool prehash = cli_flag(args, "prehash");
	struct sl_buf text;
	sl_buf_init(&text, EPCIS_PREHASH_BYTES_MAX);
	for (size_t i = 0; i < epcis_doc_event_count(doc) && rc == 0; i++) {
		char id[EPCIS_HASH_ID_SIZE];
		sl_buf_reset(&text);
		rc = prehash ? epcis_event_prehash(doc, i, &text) : epcis_event_hash_id(doc, i, id);
		if (rc != 0)
			rc = cli_fail("event %zu: cannot hash: %s", i + 1, sl_strerror(rc));
		else if (prehash)
			printf("%.*s\n", (int)text.len, (const char *)text.data);
		else
			printf("%s\n", id);
	}
	sl_buf_free(&text);
	epcis_doc_free(doc);
	if (rc == 0 && fflush(stdout) != 0)
		rc = cli_fail("writing stdout failed");
	return rc;
}

/* --- import --- */

struct import_run {
	struct cli_ledger ledger;
	epcis_doc *doc;
	struct epcis_site_map sites;
	struct epcis_mapping mapping;
	struct sl_buf encoded;
	struct ledger_input *inputs;
	struct ledger_result *results;
	bool committed;
};

static int site_map_parse(const struct cli_args *args, struct epcis_site_map *sites)
{
	for (size_t i = 0; i < cli_arg_count(args, "site-map"); i++) {
		const char *pair = cli_arg_nth(args, "site-map", i);
		const char *equals = strchr(pair, '=');
		char gln[EPCIS_TEXT_BYTES_MAX];
		struct sl_error_detail detail = { { 0 } };
		if (equals == NULL || (size_t)(equals - pair) >= sizeof gln)
			return cli_fail("--site-map: expected GLN=SITE, got '%s'", pair);
		memcpy(gln, pair, (size_t)(equals - pair));
		gln[equals - pair] = '\0';
		if (epcis_site_map_add(sites, gln, equals + 1, &detail) != 0)
			return cli_fail("--site-map: %s", detail.text);
	}
	return 0;
}

/* Saved site map and the mapping itself, in one read transaction (closed before the import's). */
static int import_map(struct import_run *run)
{
	store_txn *txn = NULL;
	int rc = store_txn_begin(run->ledger.st, false, &txn);
	if (rc == 0)
		rc = epcis_site_map_load(txn, &run->sites);
	if (rc == 0)
		rc = epcis_map_document(run->doc, run->ledger.site, &run->sites, txn, &run->mapping);
	if (txn != NULL)
		store_txn_abort(txn);
	return rc != 0 ? cli_fail("mapping failed: %s", sl_strerror(rc)) : 0;
}

static const char *actor_default(void)
{
	const char *user = getenv("USER");
	if (user != NULL && user[0] != '\0')
		return user;
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : "unknown";
}

/* Envelope, validation and signature of the records of mapped events; an event with a record
 * that does not validate becomes failed (its records are not applied). */
static int import_sign(const struct cli_args *args, struct import_run *run)
{
	const char *path = cli_arg(args, "key") ? cli_arg(args, "key") : run->ledger.key_path;
	const char *actor = cli_arg(args, "actor") ? cli_arg(args, "actor") : actor_default();
	if (strlen(actor) == 0 || strlen(actor) > RECORD_ACTOR_CHARS_MAX)
		return cli_fail("--actor: 1 to %d characters", RECORD_ACTOR_CHARS_MAX);
	struct crypto_secret_key sk;
	char key_site[RECORD_SITE_SIZE];
	int rc = crypto_secret_key_read(path, &sk, key_site, sizeof key_site);
	if (rc != 0)
		return cli_fail("cannot use key %s: %s", path, sl_strerror(rc));
	size_t count = run->mapping.record_count;
	size_t *offsets = calloc(count ? count : 1, sizeof(*offsets));
	run->inputs = calloc(count ? count : 1, sizeof(*run->inputs));
	run->results = calloc(count ? count : 1, sizeof(*run->results));
	if (offsets == NULL || run->inputs == NULL || run->results == NULL)
		rc = SL_ENOMEM;
	for (size_t e = 0; e < run->mapping.event_count && rc == 0; e++) {
		struct epcis_event_result *event = &run->mapping.events[e];
		for (size_t r = 0; r < event->record_count && event->status == EPCIS_EVENT_MAPPED; r++) {
			struct record *record = &run->mapping.records[event->record_first + r];
			struct sl_error_detail detail = { { 0 } };
			record->site = sl_str_from_cstr(run->ledger.site);
			record->actor = sl_str_from_cstr(actor);
			record->meaning = MEANING_AUTHORED;
			if (record_validate(record, &detail) != 0) {
				event->status = EPCIS_EVENT_FAILED;
				snprintf(event->note, sizeof event->note, "record %zu: %.200s", r + 1, detail.text);
			}
		}
		for (size_t r = 0; r < event->record_count && event->status == EPCIS_EVENT_MAPPED && rc == 0; r++) {
			size_t at = event->record_first + r;
			offsets[at] = run->encoded.len;
			rc = record_sign(&run->mapping.records[at], &sk);
			if (rc == 0)
				rc = record_encode(&run->mapping.records[at], &run->encoded);
			run->inputs[at].len = run->encoded.len - offsets[at];
		}
	}
	for (size_t i = 0; i < count && rc == 0 && run->encoded.data != NULL; i++)
		run->inputs[i].bytes = run->encoded.data + offsets[i];
	crypto_secret_key_wipe(&sk);
	free(offsets);
	return rc != 0 ? cli_fail("cannot sign the records: %s", sl_strerror(rc)) : 0;
}

static void record_result_print(const struct import_run *run, size_t at, bool json)
{
	const struct ledger_result *result = &run->results[at];
	const struct record *record = &run->mapping.records[at];
	const char *outcome = result->outcome >= 0 ? ledger_outcome_name(result->outcome) : "NOT_APPLIED";
	if (json) {
		printf("{\"type\":");
		cli_json_cstring(stdout, record_type_name(record->type));
		printf(",\"seq\":%" PRIu64 ",\"record_id\":", result->seq);
		cli_json_hex(stdout, result->record_id, RECORD_ID_BYTES);
		printf(",\"outcome\":");
		cli_json_cstring(stdout, outcome ? outcome : "?");
		if (result->item >= 0 && (size_t)result->item < record->item_count) {
			printf(",\"item\":");
			cli_json_string(stdout, record->items[result->item].ptr, record->items[result->item].len);
		}
		printf("}");
		return;
	}
	printf("    %-20s %-20s seq %" PRIu64, record_type_name(record->type), outcome ? outcome : "?", result->seq);
	if (result->item >= 0 && (size_t)result->item < record->item_count)
		printf("  item %.*s", (int)record->items[result->item].len, record->items[result->item].ptr);
	putchar('\n');
}

static void event_print(const struct import_run *run, const struct epcis_event_result *event, bool json)
{
	if (json) {
		printf("{\"index\":%zu,\"type\":", event->index + 1);
		cli_json_cstring(stdout, event->event_type);
		printf(",\"eventID\":");
		if (event->event_id != NULL)
			cli_json_cstring(stdout, event->event_id);
		else
			printf("null");
		printf(",\"hash\":");
		cli_json_cstring(stdout, event->hash_id);
		printf(",\"status\":");
		cli_json_cstring(stdout, epcis_event_status_name(event->status));
		printf(",\"mapped_as\":");
		cli_json_cstring(stdout, event->mapped_as);
		printf(",\"note\":");
		cli_json_cstring(stdout, event->note);
		printf(",\"records\":[");
	} else {
		bool mapped = event->status == EPCIS_EVENT_MAPPED;
		printf("event %zu%s%s%s %s: %s%s%s%s%s\n", event->index + 1, event->event_id ? " (eventID " : "",
		       event->event_id ? event->event_id : "", event->event_id ? ")" : "", event->event_type,
		       epcis_event_status_name(event->status), mapped ? " as " : "", mapped ? event->mapped_as : "",
		       event->note[0] ? ": " : "", event->note);
	}
	for (size_t r = 0; event->status == EPCIS_EVENT_MAPPED && r < event->record_count; r++) {
		if (json && r > 0)
			putchar(',');
		record_result_print(run, event->record_first + r, json);
	}
	if (json)
		printf("]}");
}

/* Print every event; exit code 0 when everything mapped was accepted and nothing failed. */
static int import_report(const struct cli_args *args, const struct import_run *run)
{
	bool json = cli_flag(args, "json");
	size_t counts[EPCIS_EVENT_DUPLICATE + 1] = { 0 };
	bool refused = false;
	if (json)
		printf("{\"events\":[");
	for (size_t e = 0; e < run->mapping.event_count; e++) {
		const struct epcis_event_result *event = &run->mapping.events[e];
		if (json && e > 0)
			putchar(',');
		event_print(run, event, json);
		counts[event->status]++;
		for (size_t r = 0; event->status == EPCIS_EVENT_MAPPED && r < event->record_count; r++)
			refused |= run->results[event->record_first + r].outcome != OUTCOME_ACCEPTED;
	}
	const char *what = run->committed ? "committed"
			   : cli_flag(args, "dry-run") ? "dry run: nothing written"
						      : "atomic: nothing written";
	if (json) {
		printf("],\"committed\":%s,\"summary\":{\"mapped\":%zu,\"not_modelled\":%zu,\"failed\":%zu,"
		       "\"duplicate\":%zu}}\n",
		       run->committed ? "true" : "false", counts[EPCIS_EVENT_MAPPED], counts[EPCIS_EVENT_NOT_MODELLED],
		       counts[EPCIS_EVENT_FAILED], counts[EPCIS_EVENT_DUPLICATE]);
	} else {
		printf("%zu events: %zu mapped, %zu not modelled, %zu failed, %zu duplicate; %s\n",
		       run->mapping.event_count, counts[EPCIS_EVENT_MAPPED], counts[EPCIS_EVENT_NOT_MODELLED],
		       counts[EPCIS_EVENT_FAILED], counts[EPCIS_EVENT_DUPLICATE], what);
	}
	bool bad = refused || counts[EPCIS_EVENT_FAILED] > 0 || counts[EPCIS_EVENT_DUPLICATE] > 0;
	return bad ? CLI_EXIT_REJECTED : CLI_EXIT_ACCEPTED;
}

static int run_import(struct cli_args *args)
{
	if (args->positional_count != 2)
		return cli_fail("usage: siteledger epcis import FILE --data DIR [--dry-run] [--atomic] [--site-map GLN=SITE ...]");
	struct import_run run;
	memset(&run, 0, sizeof run);
	sl_buf_init(&run.encoded, (size_t)RECORD_BYTES_MAX * EPCIS_RECORDS_MAX);
	int rc = load(args->positional[1], &run.doc);
	struct sl_error_detail detail = { { 0 } };
	if (rc == 0 && epcis_doc_validate(run.doc, &detail) != 0)
		rc = cli_fail("%s refused: %s", args->positional[1], detail.text);
	if (rc == 0)
		rc = site_map_parse(args, &run.sites);
	if (rc == 0)
		rc = cli_ledger_open(args, true, &run.ledger);
	if (rc == 0)
		rc = import_map(&run);
	if (rc == 0)
		rc = import_sign(args, &run);
	if (rc == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		struct epcis_import_options options = {
			.atomic = cli_flag(args, "atomic"),
			.dry_run = cli_flag(args, "dry-run"),
			.sites = &run.sites,
			.now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000,
		};
		rc = epcis_import_apply(run.ledger.st, &run.mapping, run.inputs, run.results, &options, &run.committed);
		if (rc != 0)
			rc = cli_fail("nothing was imported: %s (%s)", sl_strerror(rc), store_last_error(run.ledger.st));
	}
	if (rc == 0)
		rc = import_report(args, &run);
	free(run.inputs);
	free(run.results);
	sl_buf_free(&run.encoded);
	epcis_mapping_free(&run.mapping);
	if (run.ledger.st != NULL)
		cli_ledger_close(&run.ledger);
	epcis_doc_free(run.doc);
	return rc;
}

/* --- export --- */

/* The document goes to stdout; creationDate is this client's clock (the node uses it too). */
static int run_export(struct cli_args *args)
{
	struct query_params *p = malloc(sizeof *p);
	if (p == NULL)
		return cli_fail("out of memory");
	int rc = cli_read_params(args, QUERY_EPCIS_EXPORT, 1, p);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char now_ms[24];
	int n = snprintf(now_ms, sizeof now_ms, "%" PRId64, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (rc == 0 && query_params_option(p, "now-ms", 6, now_ms, (size_t)n) != 0)
		rc = cli_fail("cannot set the creation time");
	if (rc == 0)
		rc = cli_read(args, p, stdout, NULL);
	free(p);
	return rc;
}

int cli_cmd_epcis(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *sub = args->positional_count > 0 ? args->positional[0] : "";
	if (strcmp(sub, "hash") == 0)
		return run_hash(args);
	if (strcmp(sub, "import") == 0) {
		if (cli_arg(args, "node") != NULL)
			return cli_fail("epcis import applies to a local ledger (--data DIR) and keeps its event hash IDs "
					"there; it does not import through a node yet (docs/epcis.md)");
		return run_import(args);
	}
	if (strcmp(sub, "export") == 0)
		return run_export(args);
	return cli_fail("expected a subcommand: import, export or hash (see siteledger epcis --help)");
}
