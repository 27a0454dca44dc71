/* cli/cmd_read.c — the read commands: status, history, lot, reconcile, where, spc (and the reading
 * half of export, prove and epcis export). Each turns its arguments into a query (query/query.h)
 * and runs it on the data directory (--data DIR: opened read-only, one read transaction) or sends
 * it to a node (--node ADDR, cli/cmd_node.c), where the same query code runs on the node's copy.
 * Either way the same ledger prints the same bytes.
 *
 * The query's parameters are checked here first (query_check), so a typo fails at once and with
 * the same message as the node would give. Without --linearizable a node answers from its own
 * copy, which may lag the leader by what it has not applied yet; with it, the node first confirms
 * with the leader (Raft ReadIndex) and applies up to that point.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "cli/cli.h"
#include "util/error.h"

int cli_read_params(const struct cli_args *args, uint8_t kind, size_t first, struct query_params *p)
{
	if (query_params_init(p, kind) != 0)
		return cli_fail("not a query: %u", (unsigned)kind);
	for (size_t i = 0; i < args->option_count; i++) {
		const char *name = args->option_name[i];
		if (!query_takes_option(kind, name))
			continue;
		const char *value = args->option_value[i];
		if (value == NULL || strcmp(name, "html") == 0)
			value = ""; /* a flag; the HTML goes to the --html FILE here, not to the node */
		int rc = query_params_option(p, name, strlen(name), value, strlen(value));
		if (rc != 0)
			return cli_fail("--%s: %s", name, rc == SL_EOVERSIZE ? "value too long" : sl_strerror(rc));
	}
	for (size_t i = first; i < args->positional_count; i++) {
		const char *arg = args->positional[i];
		int rc = query_params_arg(p, arg, strlen(arg));
		if (rc == SL_ELIMIT)
			return cli_fail("unexpected argument '%s'", arg);
		if (rc != 0)
			return cli_fail("argument '%.40s...': %s", arg, sl_strerror(rc));
	}
	return 0;
}

/* The data directory's side: one read transaction (export and prove first make sure a
 * checkpoint covering the ledger is stored, as they always did). */
static int read_local(const struct cli_args *args, const struct query_params *p, struct query_out *out)
{
	struct cli_ledger ledger;
	char note[NOTE_BYTES_MAX + 1];
	size_t len = 0;
	bool checkpointed = p->kind == QUERY_EXPORT || p->kind == QUERY_PROVE;
	int rc = checkpointed ? cli_ledger_open_checkpointed(args, &ledger, note, &len)
			      : cli_ledger_open(args, false, &ledger);
	if (rc != 0)
		return rc;
	store_txn *txn = NULL;
	rc = store_txn_begin(ledger.st, false, &txn);
	if (rc != 0) {
		cli_ledger_close(&ledger);
		return cli_fail("cannot read: %s", sl_strerror(rc));
	}
	const char *key = cli_arg(args, "key") != NULL ? cli_arg(args, "key") : ledger.key_path;
	struct query_env env = { txn, ledger.site, { NULL, key } };
	if (p->kind == QUERY_EXPORT)
		cli_export_run(&env, p, out);
	else
		query_run(&env, p, out);
	store_txn_abort(txn);
	cli_ledger_close(&ledger);
	return 0;
}

static int html_write(const char *path, const char *html, size_t len)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return cli_fail("cannot write %s: %s", path, strerror(errno));
	fwrite(html, 1, len, f);
	int bad = ferror(f);
	bad |= fclose(f);
	return bad ? cli_fail("cannot write %s", path) : 0;
}

int cli_read(const struct cli_args *args, const struct query_params *p, FILE *doc0, uint64_t stats[QUERY_STATS])
{
	struct query_out out;
	memset(&out, 0, sizeof out);
	if (query_check(p, &out) != 0)
		return cli_fail("%s", out.message);
	bool remote = cli_arg(args, "node") != NULL;
	if (cli_flag(args, "linearizable") && !remote)
		return cli_fail("--linearizable goes with --node (a data directory is read as it is)");
	char *html = NULL;
	size_t html_len = 0;
	out.doc[0] = doc0;
	if (query_wants_html(p) && (out.doc[1] = open_memstream(&html, &html_len)) == NULL)
		return cli_fail("out of memory");
	int rc = remote ? cli_node_read(args, p, out.doc, &out) : read_local(args, p, &out);
	if (out.doc[1] != NULL)
		fclose(out.doc[1]);
	if (rc == 0 && out.message[0] != '\0')
		cli_fail("%s", out.message);
	if (rc == 0)
		rc = out.exit_code;
	if (rc == 0 && html != NULL)
		rc = html_write(cli_arg(args, "html"), html, html_len);
	if (rc == 0 && fflush(doc0) != 0)
		rc = cli_fail("cannot write the output: %s", strerror(errno));
	if (stats != NULL)
		memcpy(stats, out.stats, sizeof out.stats);
	free(html);
	return rc;
}

static int read_into(const struct cli_args *args, uint8_t kind, FILE *doc, uint64_t stats[QUERY_STATS])
{
	struct query_params *p = malloc(sizeof *p);
	if (p == NULL)
		return cli_fail("out of memory");
	int rc = cli_read_params(args, kind, 0, p);
	if (rc == 0)
		rc = cli_read(args, p, doc, stats);
	free(p);
	return rc;
}

int cli_read_to_file(const struct cli_args *args, uint8_t kind, const char *path, uint64_t stats[QUERY_STATS])
{
	struct query_params *p = malloc(sizeof *p);
	struct query_out check;
	memset(&check, 0, sizeof check);
	if (p == NULL)
		return cli_fail("out of memory");
	int rc = cli_read_params(args, kind, 0, p);
	if (rc == 0 && query_check(p, &check) != 0) /* before the file is made */
		rc = cli_fail("%s", check.message);
	FILE *out = rc == 0 ? fopen(path, "w") : NULL;
	if (rc == 0 && out == NULL)
		rc = cli_fail("cannot write %s: %s", path, strerror(errno));
	if (rc == 0)
		rc = cli_read(args, p, out, stats);
	if (out != NULL && (ferror(out) | fclose(out)) != 0 && rc == 0)
		rc = cli_fail("cannot write %s", path);
	free(p);
	return rc;
}

/* A command whose document goes to stdout. */
static int read_command(const struct cli_args *args, uint8_t kind)
{
	return read_into(args, kind, stdout, NULL);
}

int cli_cmd_status(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_STATUS);
}

int cli_cmd_history(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_HISTORY);
}

int cli_cmd_lot(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_LOT);
}

int cli_cmd_reconcile(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_RECONCILE);
}

int cli_cmd_where(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_WHERE);
}

int cli_cmd_spc(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	return read_command(args, QUERY_SPC);
}
