/* tests/unit/test_consensus_scenarios.c — golden scenario scripts for the Raft core.
 *
 * Runs every tests/data/raft/NAME.txt (relative to the repo root; or the files given as arguments)
 * and prints "PASS <file>" or "FAIL <file>" plus "  <file>:<line>: <why>" lines. Set
 * RAFT_SCENARIO_TRACE=1 to print every message delivered. Links only libslraft.a and libc.
 *
 * The harness keeps, per node, what a real node keeps on disk — hard state, compaction point,
 * log entries, applied index — plus the application state (the applied data strings). A Ready
 * is processed as the node would: install the snapshot, persist entries and hard state, encode
 * and queue the messages (through the real codec), apply committed entries, advance. A crash
 * forgets everything not persisted; a restart rebuilds the core from the persisted state.
 *
 * Scenario language (one command per line; '#' starts a comment; ids are 1..31):
 *
 *   config KEY=VALUE...        settings for nodes created after it: election=10 heartbeat=1
 *                              pre_vote=on|off check_quorum=on|off seed=N max_inflight=N
 *                              max_msg_bytes=N
 *   cluster ID... [learners ID...]   bootstrap these nodes with that initial membership
 *   join ID                    create a node with empty membership (joins via the leader)
 *   tick ID [N]                tick one node N times (default 1); tick-all [N] ticks every up node
 *   campaign ID                start an election now
 *   propose ID DATA            propose DATA (a word) on ID
 *   conf ID add-voter|add-learner|remove NODE   propose a membership change on ID
 *   transfer ID TO             leader transfer
 *   read ID CTX                ReadIndex request with context CTX (a number)
 *   compact ID INDEX           compact ID's log up to INDEX
 *   ready [ID...]              process one Ready on each (default: every up node)
 *   deliver [ID...]            deliver the messages queued now to these recipients (default all);
 *                              messages produced meanwhile wait for the next deliver
 *   stabilize                  ready + deliver until nothing moves (bounded)
 *   drop FROM TO               drop queued messages from FROM to TO ('*' matches any)
 *   partition A B | C ...      only nodes in one group talk to each other; heal removes it
 *   crash ID / restart ID      lose volatile state / rebuild from the persisted state
 *   print ID                   print a node's status (debugging)
 *   Any action may end in "-> CODE" (e.g. "-> RAFT_ENOTLEADER", "-> ok") to expect its result;
 *   without it an action must succeed.
 *
 *   expect role ID follower|pre-candidate|candidate|leader
 *   expect term ID T | expect vote ID V | expect leader ID L (0 = none) | expect commit ID C
 *   expect applied-index ID I | expect first-index ID I | expect last-index ID I
 *   expect log ID E...         the in-memory log from first-index: TERM:DATA, TERM:noop for the
 *                              leader's no-op, TERM:+vN / TERM:+lN / TERM:-N for conf changes
 *   expect applied ID DATA...  application state: applied data, in order ("expect applied ID" = none)
 *   expect reads ID CTX@INDEX...   read states received so far ("expect reads ID" = none)
 *   expect voters ID N... | expect learners ID N...   the node's applied configuration
 *   expect msgs N [TYPE]       N messages queued (of TYPE, e.g. VOTE, APPEND)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/raft.h"
#include "tests/unit/consensus_world.h"

#define TOKENS_MAX 64
#define LINE_BYTES_MAX 1024
#define SCENARIO_FILES_MAX 256

/* ---- commands ---- */

static void check_result(struct world *w, int rc, const char *expected)
{
	const char *got = rc == 0 ? "ok" : raft_errname(rc);
	if (expected == NULL)
		expected = "ok";
	if (strcmp(got, expected) != 0)
		fail(w, "returned %s, expected %s", got, expected);
}

static bool config_set(struct world *w, const char *kv)
{
	const char *eq = strchr(kv, '=');
	uint64_t v = 0;
	if (eq == NULL)
		return false;
	size_t key_len = (size_t)(eq - kv);
	const char *value = eq + 1;
	bool on = strcmp(value, "on") == 0;
	if (!on && strcmp(value, "off") != 0 && !parse_u64(value, &v))
		return false;
#define KEY(name) (key_len == strlen(name) && strncmp(kv, name, key_len) == 0)
	if (KEY("election"))
		w->base.election_ticks = (unsigned)v;
	else if (KEY("heartbeat"))
		w->base.heartbeat_ticks = (unsigned)v;
	else if (KEY("pre_vote"))
		w->base.pre_vote = on;
	else if (KEY("check_quorum"))
		w->base.check_quorum = on;
	else if (KEY("seed"))
		w->base.seed = v;
	else if (KEY("max_inflight"))
		w->base.max_inflight_msgs = (size_t)v;
	else if (KEY("max_msg_bytes"))
		w->base.max_msg_bytes = (size_t)v;
	else
		return false;
#undef KEY
	return true;
}

static void cmd_cluster(struct world *w, char **tok, int n)
{
	struct raft_conf_state conf;
	memset(&conf, 0, sizeof conf);
	bool learners = false;
	for (int i = 1; i < n; i++) {
		uint64_t id;
		if (strcmp(tok[i], "learners") == 0) {
			learners = true;
			continue;
		}
		if (!parse_u64(tok[i], &id) || id == 0 || id >= NODES_MAX) {
			fail(w, "bad id '%s'", tok[i]);
			return;
		}
		if (learners && conf.learners_count < RAFT_LEARNERS_MAX)
			conf.learners[conf.learners_count++] = id;
		else if (!learners && conf.voters_count < RAFT_VOTERS_MAX)
			conf.voters[conf.voters_count++] = id;
	}
	for (size_t i = 0; i < conf.voters_count; i++)
		node_create(w, conf.voters[i], &conf);
	for (size_t i = 0; i < conf.learners_count; i++)
		node_create(w, conf.learners[i], &conf);
}

static void cmd_conf(struct world *w, struct node *n, char **tok, int count, const char *expected)
{
	struct raft_conf_change cc = { 0 };
	if (count < 4 || !parse_u64(tok[3], &cc.node_id)) {
		fail(w, "usage: conf ID add-voter|add-learner|remove NODE");
		return;
	}
	if (strcmp(tok[2], "add-voter") == 0)
		cc.type = RAFT_CONF_ADD_VOTER;
	else if (strcmp(tok[2], "add-learner") == 0)
		cc.type = RAFT_CONF_ADD_LEARNER;
	else if (strcmp(tok[2], "remove") == 0)
		cc.type = RAFT_CONF_REMOVE;
	check_result(w, raft_propose_conf_change(n->r, &cc, NULL), expected);
}

static void cmd_drop(struct world *w, char **tok, int count)
{
	uint64_t from = 0, to = 0;
	if (count != 3 || (strcmp(tok[1], "*") != 0 && !parse_u64(tok[1], &from)) ||
	    (strcmp(tok[2], "*") != 0 && !parse_u64(tok[2], &to))) {
		fail(w, "usage: drop FROM|* TO|*");
		return;
	}
	size_t kept = 0;
	for (size_t i = 0; i < w->queue_count; i++) {
		struct wire_msg *m = &w->queue[i];
		if ((from == 0 || m->from == from) && (to == 0 || m->to == to)) {
			if (m->type == RAFT_MSG_SNAPSHOT && w->nodes[m->from].up)
				raft_report_snapshot(w->nodes[m->from].r, m->to, false);
			free(m->bytes);
		} else {
			w->queue[kept++] = *m;
		}
	}
	w->queue_count = kept;
}

static void cmd_partition(struct world *w, char **tok, int count)
{
	int group = 1;
	memset(w->group, 0, sizeof w->group);
	for (int i = 1; i < count; i++) {
		uint64_t id;
		if (strcmp(tok[i], "|") == 0)
			group++;
		else if (parse_u64(tok[i], &id) && id > 0 && id < NODES_MAX)
			w->group[id] = group;
		else
			fail(w, "bad id '%s'", tok[i]);
	}
	/* nodes not named form a group of their own */
	group++;
	for (size_t id = 1; id < NODES_MAX; id++) {
		if (w->group[id] == 0)
			w->group[id] = group;
	}
}

static void cmd_print(struct world *w, struct node *n)
{
	struct raft_status st;
	raft_status_get(n->r, &st);
	printf("    node %" PRIu64 ": %s term=%" PRIu64 " vote=%" PRIu64 " leader=%" PRIu64 " commit=%" PRIu64
	       " applied=%" PRIu64 " log=[%" PRIu64 ",%" PRIu64 "] queue=%zu\n",
	       st.id, raft_role_name(st.role), st.term, st.vote, st.leader, st.commit, st.applied, st.first_index,
	       st.last_index, w->queue_count);
	for (size_t i = 0; i < st.progress_count; i++)
		printf("      peer %" PRIu64 "%s match=%" PRIu64 " next=%" PRIu64 " state=%u inflight=%zu\n",
		       st.progress[i].id, st.progress[i].learner ? " (learner)" : "", st.progress[i].match,
		       st.progress[i].next, st.progress[i].state, st.progress[i].inflight_msgs);
}

static int cmd_action(struct world *w, char **tok, int count, const char *expected)
{
	const char *c = tok[0];
	struct node *n = count > 1 ? node_arg(w, tok[1], true) : NULL;
	uint64_t v = 0;
	if (n == NULL)
		return -1;
	if (strcmp(c, "tick") == 0) {
		uint64_t times = 1;
		if (count > 2 && !parse_u64(tok[2], &times))
			return -1;
		for (uint64_t i = 0; i < times; i++)
			raft_tick(n->r);
	} else if (strcmp(c, "campaign") == 0) {
		check_result(w, raft_campaign(n->r), expected);
	} else if (strcmp(c, "propose") == 0 && count >= 3) {
		check_result(w, raft_propose(n->r, tok[2], strlen(tok[2]), NULL), expected);
	} else if (strcmp(c, "conf") == 0) {
		cmd_conf(w, n, tok, count, expected);
	} else if (strcmp(c, "transfer") == 0 && count >= 3 && parse_u64(tok[2], &v)) {
		check_result(w, raft_transfer_leader(n->r, v), expected);
	} else if (strcmp(c, "read") == 0 && count >= 3 && parse_u64(tok[2], &v)) {
		check_result(w, raft_read_index(n->r, v), expected);
	} else if (strcmp(c, "compact") == 0 && count >= 3 && parse_u64(tok[2], &v)) {
		struct raft_snapshot_meta meta;
		int rc = raft_compact(n->r, v, &meta);
		check_result(w, rc, expected);
		if (rc == 0) { /* persist the compaction point, drop the stored prefix */
			n->snap = meta;
			size_t drop = 0;
			while (drop < n->log_count && n->log[drop].e.index <= v)
				free((void *)(uintptr_t)n->log[drop++].e.data);
			memmove(n->log, n->log + drop, (n->log_count - drop) * sizeof *n->log);
			n->log_count -= drop;
		}
	} else if (strcmp(c, "print") == 0) {
		cmd_print(w, n);
	} else if (strcmp(c, "crash") == 0) {
		node_crash(n);
	} else {
		return -1;
	}
	return 0;
}

/* ---- expectations ---- */

static void format_entry(const struct raft_entry *e, char *out, size_t cap)
{
	if (e->type == RAFT_ENTRY_CONF_CHANGE) {
		struct raft_conf_change cc;
		if (raft_conf_change_decode(e->data, e->len, &cc) != 0) {
			snprintf(out, cap, "%" PRIu64 ":conf?", e->term);
			return;
		}
		const char *op = cc.type == RAFT_CONF_ADD_VOTER ? "+v" : cc.type == RAFT_CONF_ADD_LEARNER ? "+l" : "-";
		snprintf(out, cap, "%" PRIu64 ":%s%" PRIu64, e->term, op, cc.node_id);
	} else if (e->len == 0) {
		snprintf(out, cap, "%" PRIu64 ":noop", e->term);
	} else {
		snprintf(out, cap, "%" PRIu64 ":%.*s", e->term, (int)e->len, (const char *)e->data);
	}
}

static void append_word(char *buf, size_t cap, const char *word)
{
	size_t len = strlen(buf);
	snprintf(buf + len, cap - len, "%s%s", len ? " " : "", word);
}

static void join_tokens(char **tok, int from, int count, char *out, size_t cap)
{
	out[0] = '\0';
	for (int i = from; i < count; i++)
		append_word(out, cap, tok[i]);
}

static void expect_list(struct world *w, const char *what, struct node *n, char **tok, int count, const char *got)
{
	char want[4096];
	join_tokens(tok, 3, count, want, sizeof want);
	if (strcmp(want, got) != 0)
		fail(w, "node %" PRIu64 " %s: got [%s], expected [%s]", node_id(w, n), what, got, want);
}

static void expect_log(struct world *w, struct node *n, char **tok, int count)
{
	struct raft_status st;
	raft_status_get(n->r, &st);
	char got[4096] = "";
	for (uint64_t i = st.first_index; i <= st.last_index; i++) {
		struct raft_entry e;
		char word[128];
		if (raft_log_entry(n->r, i, &e) != 0) {
			fail(w, "raft_log_entry(%" PRIu64 ") failed", i);
			return;
		}
		format_entry(&e, word, sizeof word);
		append_word(got, sizeof got, word);
	}
	expect_list(w, "log", n, tok, count, got);
}

static void expect_ids(struct world *w, struct node *n, char **tok, int count, bool voters)
{
	struct raft_status st;
	raft_status_get(n->r, &st);
	char got[512] = "";
	size_t k = voters ? st.conf.voters_count : st.conf.learners_count;
	for (size_t i = 0; i < k; i++) {
		char word[32];
		snprintf(word, sizeof word, "%" PRIu64, voters ? st.conf.voters[i] : st.conf.learners[i]);
		append_word(got, sizeof got, word);
	}
	expect_list(w, voters ? "voters" : "learners", n, tok, count, got);
}

static void expect_app(struct world *w, struct node *n, char **tok, int count, bool reads)
{
	char got[4096] = "";
	size_t k = reads ? n->reads_count : n->app_count;
	for (size_t i = 0; i < k; i++) {
		char word[128];
		if (reads)
			snprintf(word, sizeof word, "%" PRIu64 "@%" PRIu64, n->reads[i].context, n->reads[i].index);
		else
			snprintf(word, sizeof word, "%s", n->app[i].data);
		append_word(got, sizeof got, word);
	}
	expect_list(w, reads ? "reads" : "applied", n, tok, count, got);
}

static void expect_msgs(struct world *w, char **tok, int count)
{
	uint64_t want;
	if (count < 3 || !parse_u64(tok[2], &want)) {
		fail(w, "usage: expect msgs N [TYPE]");
		return;
	}
	size_t got = 0;
	for (size_t i = 0; i < w->queue_count; i++)
		got += count < 4 || strcmp(raft_msg_type_name(w->queue[i].type), tok[3]) == 0;
	if (got != want)
		fail(w, "%zu messages%s%s queued, expected %" PRIu64, got, count < 4 ? "" : " of type ",
		     count < 4 ? "" : tok[3], want);
}

static bool expect_number(struct world *w, struct node *n, const char *what, const char *arg)
{
	struct raft_status st;
	raft_status_get(n->r, &st);
	uint64_t got, want;
	if (strcmp(what, "term") == 0)
		got = st.term;
	else if (strcmp(what, "vote") == 0)
		got = st.vote;
	else if (strcmp(what, "leader") == 0)
		got = st.leader;
	else if (strcmp(what, "commit") == 0)
		got = st.commit;
	else if (strcmp(what, "applied-index") == 0)
		got = st.applied;
	else if (strcmp(what, "first-index") == 0)
		got = st.first_index;
	else if (strcmp(what, "last-index") == 0)
		got = st.last_index;
	else
		return false;
	if (!parse_u64(arg, &want))
		fail(w, "expect %s: bad number '%s'", what, arg ? arg : "(missing)");
	else if (got != want)
		fail(w, "node %" PRIu64 " %s: got %" PRIu64 ", expected %" PRIu64, node_id(w, n), what, got, want);
	return true;
}

static void cmd_expect(struct world *w, char **tok, int count)
{
	if (count >= 2 && strcmp(tok[1], "msgs") == 0) {
		expect_msgs(w, tok, count);
		return;
	}
	struct node *n = count >= 3 ? node_arg(w, tok[2], true) : NULL;
	if (n == NULL) {
		if (!w->failed)
			fail(w, "usage: expect WHAT ID ...");
		return;
	}
	const char *what = tok[1];
	if (strcmp(what, "role") == 0) {
		struct raft_status st;
		raft_status_get(n->r, &st);
		if (count < 4 || strcmp(raft_role_name(st.role), tok[3]) != 0)
			fail(w, "node %" PRIu64 " role: got %s, expected %s", node_id(w, n), raft_role_name(st.role),
			     count < 4 ? "(missing)" : tok[3]);
	} else if (strcmp(what, "log") == 0) {
		expect_log(w, n, tok, count);
	} else if (strcmp(what, "applied") == 0 || strcmp(what, "reads") == 0) {
		expect_app(w, n, tok, count, strcmp(what, "reads") == 0);
	} else if (strcmp(what, "voters") == 0 || strcmp(what, "learners") == 0) {
		expect_ids(w, n, tok, count, strcmp(what, "voters") == 0);
	} else if (!expect_number(w, n, what, count > 3 ? tok[3] : NULL)) {
		fail(w, "unknown expectation '%s'", what);
	}
}

/* ---- driver ---- */

static int tokenize(char *line, char **tok)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	int count = 0;
	for (char *p = strtok(line, " \t\r\n"); p != NULL && count < TOKENS_MAX; p = strtok(NULL, " \t\r\n"))
		tok[count++] = p;
	return count;
}

static void run_command(struct world *w, char **tok, int count)
{
	const char *expected = NULL;
	if (count >= 2 && strcmp(tok[count - 2], "->") == 0) {
		expected = tok[count - 1];
		count -= 2;
	}
	const char *c = tok[0];
	if (strcmp(c, "config") == 0) {
		for (int i = 1; i < count; i++) {
			if (!config_set(w, tok[i]))
				fail(w, "bad config '%s'", tok[i]);
		}
	} else if (strcmp(c, "cluster") == 0) {
		cmd_cluster(w, tok, count);
	} else if (strcmp(c, "join") == 0) {
		uint64_t id;
		struct raft_conf_state empty;
		memset(&empty, 0, sizeof empty);
		if (count != 2 || !parse_u64(tok[1], &id))
			fail(w, "usage: join ID");
		else
			node_create(w, id, &empty);
	} else if (strcmp(c, "restart") == 0) {
		struct node *n = count == 2 ? node_arg(w, tok[1], false) : NULL;
		if (n != NULL && n->up)
			fail(w, "node %s is up", tok[1]);
		else if (n != NULL)
			node_restart(w, n);
	} else if (strcmp(c, "tick-all") == 0) {
		uint64_t times = 1;
		if (count > 1 && !parse_u64(tok[1], &times))
			fail(w, "usage: tick-all [N]");
		for (uint64_t t = 0; t < times; t++) {
			for (size_t id = 1; id < NODES_MAX; id++) {
				if (w->nodes[id].up)
					raft_tick(w->nodes[id].r);
			}
		}
	} else if (strcmp(c, "ready") == 0) {
		if (count == 1)
			all_ready(w);
		for (int i = 1; i < count; i++) {
			struct node *n = node_arg(w, tok[i], true);
			if (n != NULL)
				node_ready(w, n);
		}
	} else if (strcmp(c, "deliver") == 0) {
		deliver(w, tok + 1, count - 1);
	} else if (strcmp(c, "stabilize") == 0) {
		stabilize(w);
	} else if (strcmp(c, "drop") == 0) {
		cmd_drop(w, tok, count);
	} else if (strcmp(c, "partition") == 0) {
		cmd_partition(w, tok, count);
	} else if (strcmp(c, "heal") == 0) {
		memset(w->group, 0, sizeof w->group);
	} else if (strcmp(c, "expect") == 0) {
		cmd_expect(w, tok, count);
	} else if (cmd_action(w, tok, count, expected) != 0 && !w->failed) {
		fail(w, "unknown or malformed command '%s'", c);
	}
}

static bool run_file(const char *path, bool trace)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		printf("FAIL %s\n  cannot open\n", path);
		return false;
	}
	static struct world world;
	struct world *w = &world;
	memset(w, 0, sizeof *w);
	w->file = path;
	w->trace = trace;
	w->base.election_ticks = 10;
	w->base.heartbeat_ticks = 1;
	w->base.seed = 1;
	char line[LINE_BYTES_MAX];
	while (!w->failed && fgets(line, sizeof line, f) != NULL) {
		w->line++;
		char *tok[TOKENS_MAX];
		int count = tokenize(line, tok);
		if (count == 0)
			continue;
		if (trace)
			printf("  > %d: %s\n", w->line, tok[0]);
		run_command(w, tok, count);
	}
	fclose(f);
	for (size_t id = 1; id < NODES_MAX; id++)
		node_free(&w->nodes[id]);
	for (size_t i = 0; i < w->queue_count; i++)
		free(w->queue[i].bytes);
	free(w->queue);
	printf("%s %s\n", w->failed ? "FAIL" : "PASS", path);
	fflush(stdout);
	return !w->failed;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *env = getenv("RAFT_SCENARIO_TRACE");
	bool trace = env != NULL && env[0] == '1';
	int failed = 0, ran = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++, ran++)
			failed += !run_file(argv[i], trace);
		return failed ? 1 : 0;
	}
	const char *dir_path = "tests/data/raft";
	DIR *dir = opendir(dir_path);
	if (dir == NULL) {
		printf("FAIL %s: cannot open (run from the repo root)\n", dir_path);
		return 1;
	}
	char *names[SCENARIO_FILES_MAX];
	size_t count = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL && count < SCENARIO_FILES_MAX) {
		size_t len = strlen(entry->d_name);
		if (len > 4 && strcmp(entry->d_name + len - 4, ".txt") == 0) {
			names[count] = malloc(strlen(dir_path) + len + 2);
			if (names[count] == NULL)
				abort();
			sprintf(names[count], "%s/%s", dir_path, entry->d_name);
			count++;
		}
	}
	closedir(dir);
	qsort(names, count, sizeof names[0], compare_names);
	for (size_t i = 0; i < count; i++, ran++) {
		failed += !run_file(names[i], trace);
		free(names[i]);
	}
	if (ran == 0) {
		printf("FAIL no scenario files in %s\n", dir_path);
		return 1;
	}
	return failed ? 1 : 0;
}
