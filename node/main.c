/* node/main.c — `siteledgerd --config FILE`: run one node of a siteledger cluster
 * (docs/operations.md "Running a cluster"). */
#include <stdio.h>
#include <string.h>

#include "node/node.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: siteledgerd --config FILE\n\n"
		     "Runs one siteledger node: replicates the ledger with its peers (Raft over nanomsg) and\n"
		     "serves clients (siteledger --node ADDR). Logs in logfmt on stderr; optionally serves\n"
		     "Prometheus metrics over HTTP (metrics_listen) and publishes events over nanomsg PUB\n"
		     "(events_listen). SIGTERM stops it cleanly.\n"
		     "The configuration file is described in docs/operations.md (\"Node configuration\").\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "--config") != 0 && strcmp(argv[1], "-c") != 0)) {
		usage(stderr);
		return 2;
	}
	return node_run(argv[2]);
}
