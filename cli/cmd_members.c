/* cli/cmd_members.c — raft membership from the command line (docs/operations.md "Membership"):
 *
 *   members --node ADDR --key FILE              the node's view: raft members (id, site, voter or
 *                                               learner, match index, health) and the registry
 *   member add|promote|remove SITE --node ADDR --key FILE [--wait-ms MS]
 *   leader transfer SITE --node ADDR --key FILE [--wait-ms MS]
 *
 * Changes go to the leader (redirects are followed; a promotion waiting for the learner to catch
 * up is answered BUSY and retried, node/admin.c rule 2). The node answers when it proposed the
 * change; the command then asks --node until its view shows the change applied (or the leader
 * moved), within --wait-ms, and exits 0 only then. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/proto.h"
#include "util/error.h"

#define MEMBERS_WAIT_MS_DEFAULT 30000
#define MEMBERS_WAIT_MS_MAX 600000
#define MEMBERS_POLL_MS 200
#define MEMBERS_HEALTHY_MS 2000 /* heard within this: healthy (heartbeats come every 100 ms or so) */

static int node_required(const struct cli_args *args)
{
	if (cli_arg(args, "node") == NULL || cli_arg(args, "key") == NULL)
		return cli_fail("--node ADDR and --key FILE are required");
	return 0;
}

static int answer_check(const struct proto_response *resp)
{
	if (resp->code == PROTO_OK)
		return 0;
	return cli_fail("node answered %s: %s", proto_code_name(resp->code), resp->message);
}

static const char *role_name(uint8_t role)
{
	return role == PROTO_ROLE_VOTER ? "voter" : role == PROTO_ROLE_LEARNER ? "learner" : "?";
}

static void health_text(uint64_t heard_ms, char *out, size_t size)
{
	if (heard_ms == 0)
		snprintf(out, size, "self");
	else if (heard_ms == PROTO_NEVER)
		snprintf(out, size, "never heard");
	else if (heard_ms <= MEMBERS_HEALTHY_MS)
		snprintf(out, size, "ok");
	else
		snprintf(out, size, "silent %" PRIu64 "s", heard_ms / 1000);
}

static void seq_text(uint64_t seq, const char *zero, char *out, size_t size)
{
	if (seq == 0)
		snprintf(out, size, "%s", zero);
	else
		snprintf(out, size, "seq %" PRIu64, seq);
}

static void members_print_text(const struct proto_response *resp)
{
	const struct proto_node_status *n = &resp->node;
	static const char *const roles[] = { "follower", "pre-candidate", "candidate", "leader" };
	printf("node %" PRIu64 " (site %s): %s, term %" PRIu64 ", leader %" PRIu64 ", commit %" PRIu64 ", applied %" PRIu64
	       "\n\nraft members\n  %-4s %-20s %-8s %-8s %-12s %s\n",
	       n->id, n->site, n->role <= RAFT_LEADER ? roles[n->role] : "?", n->term, n->leader, n->commit, n->applied,
	       "id", "site", "role", "match", "health", "peer / client");
	const struct proto_members *m = &resp->members;
	for (size_t i = 0; i < m->member_count; i++) {
		const struct proto_member *x = &m->members[i];
		char health[32];
		health_text(x->heard_ms, health, sizeof health);
		printf("  %-4" PRIu64 " %-20s %-8s %-8" PRIu64 " %-12s %s %s\n", x->id, x->site[0] ? x->site : "?",
		       role_name(x->role), x->match, health, x->peer_addr, x->client_addr);
	}
	printf("\nregistry\n  %-20s %-8s %-6s %-10s %-10s %s\n", "site", "state", "node", "added", "removed", "keys");
	for (size_t i = 0; i < m->site_count; i++) {
		const struct proto_registry_site *s = &m->sites[i];
		char added[32], removed[32];
		seq_text(s->added_seq, "init", added, sizeof added);
		seq_text(s->removed_seq, "-", removed, sizeof removed);
		printf("  %-20s %-8s %-6" PRIu64 " %-10s %-10s", s->site, s->active ? "active" : "removed", s->node_id,
		       added, removed);
		for (size_t k = 0; k < s->key_count; k++) {
			char id[2 * CRYPTO_KEY_ID_BYTES + 1], from[32];
			crypto_hex_encode(s->keys[k].key_id.bytes, sizeof s->keys[k].key_id.bytes, id);
			seq_text(s->keys[k].added_seq, "init", from, sizeof from);
			printf("%s%.16s (%s", k ? ", " : " ", id, from);
			if (s->keys[k].revoked_seq != 0)
				printf(", revoked at seq %" PRIu64, s->keys[k].revoked_seq);
			printf(")");
		}
		printf("\n");
	}
}

static void members_print_json(const struct proto_response *resp)
{
	const struct proto_node_status *n = &resp->node;
	const struct proto_members *m = &resp->members;
	printf("{\"node\":%" PRIu64 ",\"site\":", n->id);
	cli_json_cstring(stdout, n->site);
	printf(",\"role\":%" PRIu64 ",\"term\":%" PRIu64 ",\"leader\":%" PRIu64 ",\"commit\":%" PRIu64
	       ",\"applied\":%" PRIu64 ",\"members\":[",
	       n->role, n->term, n->leader, n->commit, n->applied);
	for (size_t i = 0; i < m->member_count; i++) {
		const struct proto_member *x = &m->members[i];
		char health[32];
		health_text(x->heard_ms, health, sizeof health);
		printf("%s{\"id\":%" PRIu64 ",\"site\":", i ? "," : "", x->id);
		cli_json_cstring(stdout, x->site);
		printf(",\"role\":\"%s\",\"match\":%" PRIu64 ",\"health\":\"%s\",\"peer\":", role_name(x->role), x->match,
		       health);
		cli_json_cstring(stdout, x->peer_addr);
		printf(",\"client\":");
		cli_json_cstring(stdout, x->client_addr);
		printf("}");
	}
	printf("],\"registry\":[");
	for (size_t i = 0; i < m->site_count; i++) {
		const struct proto_registry_site *s = &m->sites[i];
		printf("%s{\"site\":", i ? "," : "");
		cli_json_cstring(stdout, s->site);
		printf(",\"active\":%s,\"node\":%" PRIu64 ",\"added_seq\":%" PRIu64 ",\"removed_seq\":%" PRIu64 ",\"keys\":[",
		       s->active ? "true" : "false", s->node_id, s->added_seq, s->removed_seq);
		for (size_t k = 0; k < s->key_count; k++) {
			printf("%s{\"key_id\":", k ? "," : "");
			cli_json_hex(stdout, s->keys[k].key_id.bytes, sizeof s->keys[k].key_id.bytes);
			printf(",\"added_seq\":%" PRIu64 ",\"revoked_seq\":%" PRIu64 "}", s->keys[k].added_seq,
			       s->keys[k].revoked_seq);
		}
		printf("]}");
	}
	printf("]}\n");
}

/* MEMBERS from --node into resp (allocated by the caller). */
static int members_get(const struct cli_args *args, struct proto_response *resp)
{
	int rc = cli_node_admin(args, PROTO_MEMBERS, NULL, 0, resp);
	if (rc == 0)
		rc = answer_check(resp);
	if (rc == 0 && (!resp->has_members || !resp->has_node))
		rc = cli_fail("the node's answer has no members");
	return rc;
}

int cli_cmd_members(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	int rc = node_required(args);
	if (rc != 0)
		return rc;
	if (args->positional_count != 0)
		return cli_fail("expected 'members --node ADDR --key FILE'");
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	rc = members_get(args, resp);
	if (rc == 0 && cli_flag(args, "json"))
		members_print_json(resp);
	else if (rc == 0)
		members_print_text(resp);
	free(resp);
	return rc;
}

/* The member of `site` in resp, or NULL. */
static const struct proto_member *member_of(const struct proto_response *resp, const char *site)
{
	for (size_t i = 0; i < resp->members.member_count; i++)
		if (strcmp(resp->members.members[i].site, site) == 0)
			return &resp->members.members[i];
	return NULL;
}

/* Whether --node's view shows what we wait for: the site's member with role (0 = absent), or,
 * with want_leader, that member leading. */
static bool view_done(const struct proto_response *resp, const char *site, uint8_t role, bool want_leader)
{
	const struct proto_member *m = member_of(resp, site);
	if (want_leader)
		return m != NULL && resp->node.leader == m->id;
	return role == 0 ? m == NULL : m != NULL && m->role == role;
}

static int wait_for(const struct cli_args *args, const char *site, uint8_t role, bool want_leader, const char *what)
{
	uint64_t wait_ms = MEMBERS_WAIT_MS_DEFAULT;
	int rc = cli_arg(args, "wait-ms") ? cli_parse_u64("wait-ms", cli_arg(args, "wait-ms"), MEMBERS_WAIT_MS_MAX, &wait_ms)
					   : 0;
	struct proto_response *resp = malloc(sizeof *resp);
	if (rc != 0 || resp == NULL) {
		free(resp);
		return rc != 0 ? rc : cli_fail("out of memory");
	}
	uint64_t deadline = cli_clock_ms() + wait_ms;
	bool done = false;
	while (rc == 0 && !done) {
		rc = members_get(args, resp);
		done = rc == 0 && view_done(resp, site, role, want_leader);
		if (rc == 0 && !done && cli_clock_ms() > deadline)
			rc = cli_fail("%s: not seen applied at %s within %" PRIu64 " ms", what, cli_arg(args, "node"), wait_ms);
		if (rc == 0 && !done)
			cli_pause_ms(MEMBERS_POLL_MS);
	}
	if (rc == 0)
		printf("%s: done\n", what);
	free(resp);
	return rc;
}

/* Ask --node for a change to SITE (the second positional), print its answer, then wait until
 * --node's view shows it applied (wait_for's role and want_leader). */
static int change_run(const struct cli_args *args, uint8_t type, uint8_t change, uint8_t role, bool want_leader,
		      const char *what)
{
	int rc = node_required(args);
	if (rc != 0)
		return rc;
	const char *site = args->positional[1];
	struct proto_response *resp = malloc(sizeof *resp);
	if (resp == NULL)
		return cli_fail("out of memory");
	rc = cli_node_admin(args, type, site, change, resp);
	if (rc == 0)
		rc = answer_check(resp);
	if (rc == 0)
		printf("%s\n", resp->message);
	free(resp);
	return rc != 0 ? rc : wait_for(args, site, role, want_leader, what);
}

int cli_cmd_member(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	static const char *const names[] = { NULL, "add", "promote", "remove" };
	static const uint8_t roles[] = { 0, PROTO_ROLE_LEARNER, PROTO_ROLE_VOTER, 0 };
	uint8_t change = 0;
	for (uint8_t c = PROTO_CHANGE_ADD; args->positional_count == 2 && c <= PROTO_CHANGE_REMOVE; c++)
		if (strcmp(args->positional[0], names[c]) == 0)
			change = c;
	if (change == 0)
		return cli_fail("expected 'member add|promote|remove SITE --node ADDR --key FILE'");
	char what[64];
	snprintf(what, sizeof what, "member %s %s", names[change], args->positional[1]);
	return change_run(args, PROTO_MEMBER_CHANGE, change, roles[change], false, what);
}

int cli_cmd_leader(const struct cli_command *command, struct cli_args *args)
{
	(void)command;
	if (args->positional_count != 2 || strcmp(args->positional[0], "transfer") != 0)
		return cli_fail("expected 'leader transfer SITE --node ADDR --key FILE'");
	char what[64];
	snprintf(what, sizeof what, "leader transfer to %s", args->positional[1]);
	return change_run(args, PROTO_LEADER_TRANSFER, 0, 0, true, what);
}
