/* cli/main.c — `siteledger`: the one command for sites and auditors. The command table lives here;
 * each command's code lives in a cli/cmd_*.c file by concern. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit.h"
#include "cli/cli.h"
#include "cli/cmd_epcis.h"
#include "cli/cmd_events.h"
#include "crypto/crypto.h"

static const struct cli_option_spec keygen_options[] = {
	{ "site", "SITE", false, "site id the key belongs to (1-32 of a-z 0-9 -, starting with a letter)" },
	{ "out", "FILE", false, "secret key file to write (mode 0600); the public key goes to FILE.pub" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec init_options[] = {
	{ "site", "SITE|NAME=PUBFILE", true,
	  "this ledger's site id; further NAME=PUBFILE register other sites' public keys" },
	{ "key", "FILE", false, "this site's secret key file (from keygen)" },
	{ "join", NULL, false, "for a node joining a cluster: register only the NAME=PUBFILE sites (the cluster's registry "
			       "as at its init); this site comes with its registry record" },
	{ "origin", "ORIGIN", false, "the cluster's checkpoint origin (as given to cluster init; default siteledger/SITE)" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec commission_options[] = {
	{ "gtin", "GTIN", false, "GTIN-8/12/13/14 of the packs" },
	{ "lot", "LOT", false, "lot or batch number (AI 10)" },
	{ "expiry", "YYMMDD", false, "expiry date (AI 17; day 00 = end of month)" },
	{ "serial", "SERIAL", true, "a serial number (AI 21)" },
	{ "count", "N", false, "generate N random serials (12 characters of 0-9A-Z, EU FMD randomisation)" },
	{ "serials-file", "FILE", false, "read serials (or full identifiers) one per line" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec container_options[] = {
	{ "sscc", "SSCC", true, "an SSCC-18 (also accepted as positional identifiers)" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec aggregate_options[] = {
	{ "parent", "ID", false, "the container: an SSCC, or the SGTIN of a case of another GTIN" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec ship_options[] = {
	{ "to", "SITE", false, "destination site id" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec items_options[] = {
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec decommission_options[] = {
	{ "reason", "REASON", false,
	  "dispensed, destroyed, sample, free_sample, exported, stolen, expired, damaged, checked_out" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec lock_options[] = {
	{ "scope", "SCOPE", false, "serial, lot or gtin" },
	{ "reason", "REASON", false, "quarantine, recall or withdrawal (recall and withdrawal are irreversible)" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec deviation_options[] = {
	{ "category", "CAT", false,
	  "product_no_data, data_no_product, packaging_labelling, damaged, unavailable_for_distribution, other" },
	{ "ref", "ID", true, "hex id of a record the deviation concerns" },
	{ "text", "TEXT", false, "what happened and what was done" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec checkpoint_options[] = {
	{ "node", "ADDR", false, "ask a siteledgerd node to sign and submit a checkpoint record now; needs --key" },
	{ "key", "FILE", false, "this site's secret key file (default: the one given to init); with --node: signs the request" },
	{ "add", "FILE", false, "keep the cosignatures in FILE (a checkpoint of this directory cosigned by others)" },
	{ "sign-only", NULL, false, "print the tree head as a signed checkpoint record (hex) for submit, not a note" },
	{ "size", "N", false, "with --sign-only: the tree head at size N (default: the whole ledger)" },
	{ "out", "FILE", false, "write the signed note to FILE instead of stdout" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec cosign_options[] = {
	{ "key", "FILE", false, "the cosigning site's secret key file" },
	{ "out", "FILE", false, "write the cosigned note to FILE instead of stdout" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec export_options[] = {
	{ "out", "FILE", false, "bundle file to write" },
	{ "lot", "GTIN/LOT", false, "partial export: entries of one lot, with inclusion proofs" },
	{ "since", "N", false, "partial export: entries from seq N on, with inclusion proofs" },
	{ "key", "FILE", false, "--data: key to sign a fresh checkpoint with (default: the one given to init); "
			       "--node: the request's key (the node signs the checkpoint with its own)" },
	{ "node", "ADDR", false, "stream the bundle from a siteledgerd node (tcp://HOST:PORT) instead of --data; "
				 "its copy may lag the leader" },
	{ "linearizable", NULL, false, "with --node: after the node applied all the cluster had committed when asked "
				       "(Raft ReadIndex; needs a leader)" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec audit_options[] = {
	{ "keys", "DIR", false, "directory of trusted public key files (*.pub), one per site" },
	{ "report", "FILE", false, "write an HTML report (summary first, then every record)" },
	{ "report-json", "FILE", false, "write the same report as JSON" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec prove_options[] = {
	{ "out", "FILE", false, "proof bundle file to write" },
	{ "key", "FILE", false, "--data: key to sign a fresh checkpoint with (default: the one given to init); "
			       "--node: the request's key" },
	{ "node", "ADDR", false, "ask a siteledgerd node (tcp://HOST:PORT) instead of --data; its copy may lag the leader" },
	{ "linearizable", NULL, false, "with --node: after the node applied all the cluster had committed when asked "
				       "(Raft ReadIndex; needs a leader)" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec proof_options[] = {
	{ "leaf-hash", "HEX", false, "verify-inclusion: the leaf hash SHA-256(0x00 || entry)" },
	{ "index", "N", false, "verify-inclusion: the leaf index (ledger seq - 1)" },
	{ "size", "N", false, "verify-inclusion: the tree size of the checkpoint" },
	{ "root", "HEX", false, "verify-inclusion: the checkpoint's root hash" },
	{ "size1", "N", false, "verify-consistency: the older tree size" },
	{ "size2", "N", false, "verify-consistency: the newer tree size" },
	{ "root1", "HEX", false, "verify-consistency: the older root hash" },
	{ "root2", "HEX", false, "verify-consistency: the newer root hash" },
	{ "proof", "HEX,...", false, "the proof hashes, comma-separated (empty for none)" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec node_client_options[] = {
	{ "node", "ADDR", false, "ask a siteledgerd node (tcp://HOST:PORT) instead of --data" },
	{ "key", "FILE", false, "with --node: secret key (registered in the cluster) that signs the request" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec node_only_options[] = {
	{ "node", "ADDR", false, "the siteledgerd node to ask (tcp://HOST:PORT)" },
	{ "key", "FILE", false, "secret key (registered in the cluster) that signs the request" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec cluster_options[] = {
	{ "sites", "A,B,C", false, "site ids of the nodes, in node id order (1, 2, 3, ...)" },
	{ "dir", "DIR", false, "directory for keys, configs and data directories (created)" },
	{ "base-port", "N", false, "first loopback TCP port; node i uses N+2(i-1) (peers) and N+2(i-1)+1 (clients); default 7400" },
	{ "origin", "ORIGIN", false, "checkpoint origin naming the cluster's log (default siteledger/cluster)" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec registry_options[] = {
	{ "public-key", "FILE", false, "site-add, key-add, key-revoke: the key's public key file (labelled for SITE)" },
	{ "node-id", "N", false, "site-add: raft id of the new site's node (unique in the cluster)" },
	{ "peer", "ADDR", false, "site-add: where peers reach the new node (tcp://HOST:PORT)" },
	{ "client", "ADDR", false, "site-add: where clients reach the new node (tcp://HOST:PORT)" },
	{ "role", "ROLE", false, "site-add: voter (default) or learner (an auditor's read-only replica)" },
	CLI_RECORD_OPTIONS,
	{ NULL, NULL, false, NULL },
};
static const struct cli_option_spec member_options[] = {
	{ "node", "ADDR", false, "a siteledgerd node (tcp://HOST:PORT); changes are redirected to the leader" },
	{ "key", "FILE", false, "secret key (registered in the cluster) that signs the request" },
	{ "wait-ms", "MS", false, "wait this long for the change to show at --node (default 30000)" },
	{ NULL, NULL, false, NULL },
};
static const struct cli_option_spec read_options[] = {
	CLI_READ_OPTIONS,
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec reconcile_options[] = {
	CLI_READ_OPTIONS,
	{ "lot", "GTIN/LOT", false, "the lot to reconcile (GTIN-8/12/13/14, a slash, the lot number)" },
	{ "site", "SITE", false, "counts and exceptions of one site only (docs/reconciliation.md)" },
	{ "line", "LINE", false, "packs commissioned by one line only (the actor who signed the commission)" },
	{ "from", "DATE", false, "events from that UTC day (YYYY-MM-DD) or instant (2026-11-24T10:00:00Z) on, in ledger time" },
	{ "to", "DATE", false, "events up to that UTC day, included (or before that instant)" },
	{ "overdue-days", "N", false, "shipped but not received after N days of ledger time is an exception (default 5)" },
	{ "show", "COUNT", false, "list the identities behind one count (shipped, on_hand, unexplained, ...)" },
	{ "html", "FILE", false, "also write a self-contained HTML report to FILE" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec where_options[] = {
	CLI_READ_OPTIONS,
	{ "lot", "GTIN/LOT", false, "the lot to locate (GTIN-8/12/13/14, a slash, the lot number)" },
	{ "site", "SITE", false, "only packs at that site or on their way to it" },
	{ NULL, NULL, false, NULL },
};

static const struct cli_option_spec spc_options[] = {
	CLI_READ_OPTIONS,
	{ "site", "SITE", false, "records of one site only" },
	{ "line", "LINE", false, "records of one line only (the actor who signed: records carry no line field)" },
	{ "since", "YYYY-MM-DD", false, "records with an event time from that day (UTC) on" },
	{ "shift-hours", "H", false, "shift length in hours, dividing 24 (default 8: shifts 0, 1, 2 from 00:00 UTC)" },
	{ "html", "FILE", false, "write the control charts (SVG in one HTML file) to FILE" },
	{ NULL, NULL, false, NULL },
};

const struct cli_command cli_commands[] = {
	{ "keygen", "--site SITE --out FILE", "Make an Ed25519 key pair for a site: FILE (secret, 0600) and FILE.pub.",
	  keygen_options, cli_cmd_keygen },
	{ "init", "--data DIR --site SITE --key FILE [--site NAME=PUBFILE ...] [--join] [--origin ORIGIN]",
	  "Create a ledger in DIR, registering this site's key and other sites' public keys.\n"
	  "Embedded mode, or a node's data directory (--join: a node joining a running cluster).",
	  init_options, cli_cmd_init },
	{ "commission", "--data DIR --gtin GTIN --lot LOT --expiry YYMMDD (--serial S ... | --count N | --serials-file F | ID ...)",
	  "Commission packs of one GTIN, lot and expiry.\n"
	  "More than 1000 serials are split into several records applied together.",
	  commission_options, cli_cmd_commission },
	{ "commission-container", "--data DIR (--sscc SSCC ... | ID ...)", "Commission containers (cases, pallets) by SSCC.",
	  container_options, cli_cmd_commission_container },
	{ "aggregate", "--data DIR --parent ID CHILD ...", "Pack children (packs or containers) into a container.",
	  aggregate_options, cli_cmd_aggregate },
	{ "disaggregate", "--data DIR --parent ID [CHILD ...]",
	  "Unpack children from a container; no children listed means all of them.", aggregate_options,
	  cli_cmd_aggregate },
	{ "ship", "--data DIR --to SITE ID ...", "Ship items (a container carries its contents) to another site.",
	  ship_options, cli_cmd_ship },
	{ "receive", "--data DIR ID ...", "Receive items in transit to this site.", items_options, cli_cmd_items },
	{ "decommission", "--data DIR --reason REASON ID ...",
	  "Decommission items (a container carries its contents): dispensed, destroyed, sampled, exported, ...",
	  decommission_options, cli_cmd_decommission },
	{ "revert", "--data DIR ID ...",
	  "Undo a decommission (EU FMD): same site, within 10 days.\n"
	  "Never from destroyed, stolen or expired, nor for recalled or withdrawn items.",
	  items_options, cli_cmd_items },
	{ "lock", "--data DIR --scope serial|lot|gtin --reason REASON TARGET",
	  "Lock a serial, a lot (GTIN/LOT) or a GTIN: blocks shipping, receiving and dispensing.", lock_options,
	  cli_cmd_lock },
	{ "unlock", "--data DIR --scope serial|lot|gtin --reason quarantine TARGET",
	  "Lift a quarantine lock (recall and withdrawal cannot be lifted).", lock_options, cli_cmd_lock },
	{ "deviation", "--data DIR --category CAT [--ref ID ...] --text TEXT",
	  "Record a deviation (HDA exception category) explaining a discrepancy.", deviation_options,
	  cli_cmd_deviation },
	{ "submit", "(--data DIR | --node ADDR --key FILE) FILE ...",
	  "Apply pre-signed records (hex, one per line, as written by --sign-only) as one batch.", node_client_options,
	  cli_cmd_submit },
	{ "status", "(--data DIR | --node ADDR --key FILE [--linearizable]) ID",
	  "Show an item's current state: status, site, container, contents, lot, locks.", read_options,
	  cli_cmd_status },
	{ "history", "(--data DIR | --node ADDR --key FILE [--linearizable]) ID",
	  "Show every ledger entry for an item and its containers, in ledger order.", read_options, cli_cmd_history },
	{ "lot", "(--data DIR | --node ADDR --key FILE [--linearizable]) GTIN LOT",
	  "Count a lot's items per status and site.", read_options, cli_cmd_lot },
	{ "reconcile", "(--data DIR | --node ADDR --key FILE [--linearizable]) --lot GTIN/LOT [--site S] [--line L] [--from DATE] [--to DATE] [--overdue-days N] [--show COUNT] [--html FILE]",
	  "Reconcile a lot: counts per category, HDA exceptions, unexplained items (must be 0 before release).\n"
	  "Each count with its identities, each exception with the deviation that explains it; for the lot,\n"
	  "one site, one line or a period. docs/reconciliation.md.",
	  reconcile_options, cli_cmd_reconcile },
	{ "where", "(--data DIR | --node ADDR --key FILE [--linearizable]) --lot GTIN/LOT [--site S]",
	  "Containment: where every pack of a lot is now (site, container, in transit to whom), for a recall.",
	  where_options, cli_cmd_where },
	{ "spc", "(--data DIR | --node ADDR --key FILE [--linearizable]) [--site S] [--line L] [--since DATE] [--shift-hours H] [--html FILE]",
	  "SPC: p-charts of rejection and exception rates per site, line and shift, with run-rule signals.",
	  spc_options, cli_cmd_spc },
	{ "checkpoint", "(--data DIR [--key FILE] [--add FILE | --sign-only [--size N]] | --node ADDR --key FILE) [--out FILE]",
	  "Sign the ledger's current Merkle tree head as a C2SP checkpoint; --add keeps cosignatures.\n"
	  "With --sign-only as a checkpoint record for submit; with --node the node signs one and submits it.",
	  checkpoint_options, cli_cmd_checkpoint },
	{ "cosign", "--key FILE CHECKPOINT [--out FILE]", "Cosign another site's checkpoint (C2SP tlog-cosignature).",
	  cosign_options, cli_cmd_cosign },
	{ "export", "(--data DIR | --node ADDR --key FILE [--linearizable]) --out FILE [--lot GTIN/LOT] [--since N]",
	  "Write a self-contained bundle for an auditor: entries with outcomes, registry, checkpoints.\n"
	  "From a node: streamed in bounded chunks from one snapshot of its copy.",
	  export_options, cli_cmd_export },
	{ "audit", "FILE --keys DIR [--report FILE.html] [--report-json FILE]",
	  "Verify a bundle offline: signatures, hashes, checkpoints, replayed outcomes, reconciliation.",
	  audit_options, cli_cmd_audit },
	{ "prove", "(--data DIR | --node ADDR --key FILE [--linearizable]) ID --out FILE",
	  "Write a proof bundle for one serial: its records and its containers', inclusion proofs, checkpoint.",
	  prove_options, cli_cmd_prove },
	{ "verify-proof", "FILE --keys DIR", "Check a proof bundle on its own.", audit_options, cli_cmd_verify_proof },
	{ "proof", "verify-inclusion|verify-consistency [options]",
	  "Check one RFC 9162 inclusion or consistency proof: exit 0 when valid, 1 when not.", proof_options,
	  cli_cmd_proof },
	{ "cluster", "init --sites A,B,C --dir DIR [--base-port N] [--origin ORIGIN]",
	  "Write keys, node configs and initialised data directories for a loopback cluster of siteledgerd nodes.",
	  cluster_options, cli_cmd_cluster },
	{ "registry", "site-add|site-remove|key-add|key-revoke SITE [options] (--sign-only [--out FILE] | --data DIR | --node ADDR) | cosign --key FILE PROPOSAL [--out FILE]",
	  "Propose or cosign a registry change: add or remove a site, add or revoke a key.\n"
	  "A record proposed and signed by --key's site (--sign-only: a hex line), cosigned by other sites\n"
	  "(cosign), then submitted; accepted when a strict majority of the registered sites signed it.",
	  registry_options, cli_cmd_registry },
	{ "members", "--node ADDR --key FILE", "Show raft membership (ids, sites, voter/learner, match, health) and the registry.",
	  node_only_options, cli_cmd_members },
	{ "member", "add|promote|remove SITE --node ADDR --key FILE [--wait-ms MS]",
	  "Add a registered site's node as a learner, promote it to voter once caught up, or remove it.",
	  member_options, cli_cmd_member },
	{ "leader", "transfer SITE --node ADDR --key FILE [--wait-ms MS]", "Hand raft leadership to a voter site's node.",
	  member_options, cli_cmd_leader },
	{ "node", "status --node ADDR --key FILE",
	  "Ask a siteledgerd node for its raft role, term, leader, commit/applied index, ledger size, state hash.",
	  node_only_options, cli_cmd_node },
	{ "events", "--node-events ADDR [--topic commit|reject|alarm ...] [--count N] [--wait-ms MS]",
	  "Subscribe to a siteledgerd node's events: committed and rejected records, alarms (one per line).",
	  cli_events_options, cli_cmd_events },
	{ "epcis", "import FILE [--dry-run] [--atomic] [--site-map GLN=SITE ...] | export [--lot GTIN/LOT] [--id ID] [--since N] [--format json|xml] | hash FILE [--prehash]",
	  "EPCIS: import capture documents as signed records, export EPCIS 2.0, print event hash IDs.\n"
	  "Imports EPCIS 1.2/2.0 JSON and XML (--data only); exports JSON-LD or XML (--data, or --node ADDR --key FILE);\n"
	  "hash IDs per CBV 2.0. docs/epcis.md.",
	  cli_epcis_options, cli_cmd_epcis },
};
const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);

static void usage(FILE *out)
{
	fprintf(out, "usage: siteledger COMMAND [options]\n\n"
		     "siteledger keeps a signed ledger of pharmaceutical serial lifecycle events.\n\ncommands:\n");
	for (size_t i = 0; i < cli_command_count; i++) {
		const char *summary = cli_commands[i].summary;
		const char *newline = strchr(summary, '\n');
		int len = newline ? (int)(newline - summary) : (int)strlen(summary);
		fprintf(out, "  %-22s %.*s\n", cli_commands[i].name, len, summary);
	}
	fprintf(out, "\n'siteledger COMMAND --help' describes one command. Identifiers may be GS1 element strings\n"
		     "((01)...(21)...), EPC URIs (urn:epc:id:sgtin:...) or Digital Link URIs (https://id.gs1.org/01/...).\n"
		     "See docs/operations.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < cli_command_count; i++) {
		const struct cli_command *command = &cli_commands[i];
		if (strcmp(argv[1], command->name) != 0)
			continue;
		cli_set_command_name(command->name);
		if (crypto_init() != 0)
			return cli_fail("libsodium failed to initialise");
		struct cli_args *args = calloc(1, sizeof(*args));
		if (args == NULL)
			return cli_fail("out of memory");
		int rc = cli_args_parse(command, argc - 2, argv + 2, args);
		if (rc == 0)
			rc = command->run(command, args);
		else if (rc == 1)
			rc = 0; /* --help */
		free(args);
		return rc;
	}
	fprintf(stderr, "siteledger: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
