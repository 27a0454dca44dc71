/* cli/cmd_export.c — `siteledger export`: write a self-contained bundle (query/bundle.h) for an
 * auditor, from a data directory (--data) or streamed from a node in bounded chunks (--node; the
 * node runs the same steps over one read transaction, node/query.c). The bundle's content and
 * its --lot and --since selections are query/export.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "util/error.h"

static void progress_cb(void *ctx, uint64_t seq, uint64_t total)
{
	(void)total;
	progress_update(ctx, seq);
}

void cli_export_run(const struct query_env *env, const struct query_params *p, struct query_out *out)
{
	query_export *x = NULL;
	if (query_export_begin(env, p, &x, out) != 0)
		return;
	struct progress progress;
	uint64_t stats[QUERY_STATS] = { 0 };
	query_export_stats(x, stats);
	progress_start(&progress, "export", stats[1]);
	query_export_progress(x, progress_cb, &progress);
	bool done = false;
	int rc = 0;
	while (rc == 0 && !done)
		rc = query_export_step(x, out->doc[0], UINT64_MAX, &done);
	progress_finish(&progress);
	query_export_stats(x, out->stats);
	query_export_end(x);
	if (rc != 0)
		query_fail(out, QUERY_EXIT_USAGE, "export failed: %s", sl_strerror(rc));
}

int cli_cmd_export(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	const char *path = cli_arg(args, "out");
	if (path == NULL)
		return cli_fail("--out FILE is required");
	uint64_t stats[QUERY_STATS] = { 0 };
	int rc = cli_read_to_file(args, QUERY_EXPORT, path, stats);
	if (rc != 0)
		return rc;
	if (cli_flag(args, "json")) {
		printf("{\"out\":");
		cli_json_cstring(stdout, path);
		printf(",\"entries\":%" PRIu64 ",\"tree_size\":%" PRIu64 ",\"partial\":%s}\n", stats[0], stats[1],
		       stats[2] ? "true" : "false");
	} else {
		printf("exported %" PRIu64 " of %" PRIu64 " entries to %s%s\n", stats[0], stats[1], path,
		       stats[2] ? " (partial, with inclusion proofs)" : "");
	}
	return CLI_EXIT_ACCEPTED;
}
