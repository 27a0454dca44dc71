/* cli/cmd_cluster.c — `siteledger cluster init`: everything a loopback cluster of siteledgerd
 * nodes needs, in one directory (docs/operations.md "Running a cluster"):
 *
 *     DIR/keys/SITE.key, SITE.key.pub     one Ed25519 key pair per site (keygen)
 *     DIR/SITE/node.conf                  node i (1-based, in --sites order): id i, peers = the others
 *     DIR/SITE/data/                      initialised like `init`: this site, every site's key
 *
 * Node i listens for peers on 127.0.0.1:BASE+2(i-1) and for clients on BASE+2(i-1)+1. Every data
 * directory gets the cluster's checkpoint origin (--origin, ledger/checkpoint.h "Origin"), so the
 * nodes' checkpoint records and every export name one log. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "consensus/raft.h"
#include "ledger/checkpoint.h"
#include "ledger/lifecycle.h"
#include "util/error.h"

#define CLUSTER_SITES_MAX RAFT_VOTERS_MAX
#define CLUSTER_BASE_PORT_DEFAULT 7400
#define CLUSTER_PORT_MAX (65535 - 2 * CLUSTER_SITES_MAX)
#define CLUSTER_ORIGIN_DEFAULT CHECKPOINT_ORIGIN_PREFIX "cluster"

struct cluster {
	char dir[PATH_MAX];
	char sites[CLUSTER_SITES_MAX][RECORD_SITE_SIZE];
	struct crypto_public_key pks[CLUSTER_SITES_MAX];
	size_t count;
	uint64_t base_port;
	const char *origin; /* C2SP origin of the cluster's checkpoints */
};

static int sites_parse(const char *list, struct cluster *c)
{
	const char *p = list;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (c->count >= CLUSTER_SITES_MAX)
			return cli_fail("--sites: at most %d sites", CLUSTER_SITES_MAX);
		if (len == 0 || len >= RECORD_SITE_SIZE || !record_site_id_valid(p, len))
			return cli_fail("--sites: '%.*s' is not a valid site id", (int)len, p);
		memcpy(c->sites[c->count], p, len);
		c->sites[c->count][len] = '\0';
		for (size_t i = 0; i < c->count; i++)
			if (strcmp(c->sites[i], c->sites[c->count]) == 0)
				return cli_fail("--sites: %s given twice", c->sites[i]);
		c->count++;
		p += len + (p[len] == ',');
	}
	if (c->count == 0)
		return cli_fail("--sites: give at least one site id");
	return 0;
}

/* A C2SP origin a checkpoint record can carry (ledger/record_check.c). */
static bool origin_valid(const char *origin)
{
	size_t len = strlen(origin);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)origin[i] <= 0x20 || (unsigned char)origin[i] >= 0x7f)
			return false;
	return len > 0 && len <= NOTE_NAME_BYTES_MAX;
}

static int dir_make(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cli_fail("cannot create %s: %s", path, strerror(errno));
	return 0;
}

static int keys_write(struct cluster *c)
{
	char path[PATH_MAX + 64], pub[PATH_MAX + 80];
	for (size_t i = 0; i < c->count; i++) {
		snprintf(path, sizeof path, "%s/keys/%s.key", c->dir, c->sites[i]);
		snprintf(pub, sizeof pub, "%s.pub", path);
		struct crypto_secret_key sk;
		int rc = crypto_keypair_generate(&c->pks[i], &sk);
		if (rc == 0)
			rc = crypto_secret_key_write(path, c->sites[i], &sk);
		crypto_secret_key_wipe(&sk);
		if (rc == 0)
			rc = crypto_public_key_write(pub, c->sites[i], &c->pks[i]);
		if (rc != 0)
			return cli_fail("cannot write %s: %s", path, sl_strerror(rc));
	}
	return 0;
}

static int config_write(const struct cluster *c, size_t i)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s/node.conf", c->dir, c->sites[i]);
	FILE *f = fopen(path, "wx");
	if (f == NULL)
		return cli_fail("cannot create %s: %s", path, strerror(errno));
	fprintf(f, "# siteledgerd configuration written by `siteledger cluster init` (docs/operations.md)\n"
		   "id = %zu\nsite = %s\ndata = data\nkey = %s/keys/%s.key\n"
		   "peer_listen = tcp://127.0.0.1:%llu\nclient_listen = tcp://127.0.0.1:%llu\n"
		   "tick_ms = 50\nelection_ticks = 10\nheartbeat_ticks = 2\nbatch_records = 256\n",
		i + 1, c->sites[i], c->dir, c->sites[i], (unsigned long long)(c->base_port + 2 * i),
		(unsigned long long)(c->base_port + 2 * i + 1));
	for (size_t j = 0; j < c->count; j++) {
		if (j == i)
			continue;
		fprintf(f, "\n[peer %s]\nid = %zu\nsite = %s\npeer = tcp://127.0.0.1:%llu\nclient = tcp://127.0.0.1:%llu\n"
			   "public_key = %s/keys/%s.key.pub\n",
			c->sites[j], j + 1, c->sites[j], (unsigned long long)(c->base_port + 2 * j),
			(unsigned long long)(c->base_port + 2 * j + 1), c->dir, c->sites[j]);
	}
	if (ferror(f) | (fclose(f) != 0))
		return cli_fail("writing %s failed", path);
	return 0;
}

/* The data directory as `init` leaves it: this site and its key path, every site's key. */
static int data_init(const struct cluster *c, size_t i)
{
	char data[PATH_MAX + 64], key[PATH_MAX + 64];
	snprintf(data, sizeof data, "%s/%s/data", c->dir, c->sites[i]);
	snprintf(key, sizeof key, "%s/keys/%s.key", c->dir, c->sites[i]);
	store *st = NULL;
	int rc = store_open(&st, data, NULL);
	if (rc != 0)
		return cli_fail("cannot open %s: %s", data, sl_strerror(rc));
	store_txn *txn = NULL;
	rc = store_txn_begin(st, true, &txn);
	if (rc == 0)
		rc = store_meta_put(txn, CLI_META_SITE, c->sites[i], strlen(c->sites[i]));
	if (rc == 0)
		rc = store_meta_put(txn, CLI_META_KEY_PATH, key, strlen(key));
	if (rc == 0)
		rc = store_meta_put(txn, LEDGER_META_ORIGIN, c->origin, strlen(c->origin));
	for (size_t j = 0; rc == 0 && j < c->count; j++)
		rc = ledger_registry_add_site(txn, c->sites[j], &c->pks[j]);
	if (rc == 0)
		rc = store_txn_commit(txn);
	else if (txn != NULL)
		store_txn_abort(txn);
	store_close(st);
	if (rc != 0)
		return cli_fail("cannot initialise %s: %s", data, sl_strerror(rc));
	return 0;
}

static void summary_print(const struct cluster *c, bool json)
{
	if (json)
		printf("{\"dir\":");
	if (json)
		cli_json_cstring(stdout, c->dir);
	if (json)
		printf(",\"nodes\":[");
	for (size_t i = 0; i < c->count; i++) {
		unsigned long long peer = c->base_port + 2 * i, client = peer + 1;
		if (json)
			printf("%s{\"id\":%zu,\"site\":\"%s\",\"config\":\"%s/%s/node.conf\",\"peer\":\"tcp://127.0.0.1:%llu\","
			       "\"client\":\"tcp://127.0.0.1:%llu\",\"key\":\"%s/keys/%s.key\"}",
			       i ? "," : "", i + 1, c->sites[i], c->dir, c->sites[i], peer, client, c->dir, c->sites[i]);
		else
			printf("node %zu  site %-12s config %s/%s/node.conf  clients tcp://127.0.0.1:%llu\n", i + 1,
			       c->sites[i], c->dir, c->sites[i], client);
	}
	if (json)
		printf("]}\n");
}

int cli_cmd_cluster(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 1 || strcmp(args->positional[0], "init") != 0)
		return cli_fail("expected 'cluster init --sites A,B,C --dir DIR [--base-port N]'");
	const char *sites = cli_arg(args, "sites");
	const char *dir = cli_arg(args, "dir");
	if (sites == NULL || dir == NULL)
		return cli_fail("--sites and --dir are required");
	static struct cluster c;
	memset(&c, 0, sizeof c);
	c.base_port = CLUSTER_BASE_PORT_DEFAULT;
	int rc = sites_parse(sites, &c);
	if (rc == 0 && cli_arg(args, "base-port") != NULL)
		rc = cli_parse_u64("base-port", cli_arg(args, "base-port"), CLUSTER_PORT_MAX, &c.base_port);
	if (rc == 0 && c.base_port < 1024)
		rc = cli_fail("--base-port: use 1024 or above");
	c.origin = cli_arg(args, "origin") != NULL ? cli_arg(args, "origin") : CLUSTER_ORIGIN_DEFAULT;
	if (rc == 0 && !origin_valid(c.origin))
		rc = cli_fail("--origin: 1-%d printable ASCII characters without spaces, e.g. siteledger/eu-north",
			      NOTE_NAME_BYTES_MAX);
	if (rc == 0)
		rc = dir_make(dir);
	if (rc == 0 && realpath(dir, c.dir) == NULL)
		rc = cli_fail("cannot resolve %s: %s", dir, strerror(errno));
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/keys", c.dir);
	if (rc == 0)
		rc = dir_make(path);
	if (rc == 0)
		rc = keys_write(&c);
	for (size_t i = 0; rc == 0 && i < c.count; i++) {
		snprintf(path, sizeof path, "%s/%s", c.dir, c.sites[i]);
		rc = dir_make(path);
		if (rc == 0)
			rc = config_write(&c, i);
		if (rc == 0)
			rc = data_init(&c, i);
	}
	if (rc == 0)
		summary_print(&c, cli_flag(args, "json"));
	return rc;
}
