/* tests/unit/consensus_fixture.h — shared fixtures of the Raft core unit tests
 * (test_consensus.c, test_consensus_step.c): entries, configs, nodes driven to a known role,
 * and Ready capture. Header-only, included once per test binary. */
#ifndef SL_TESTS_UNIT_CONSENSUS_FIXTURE_H
#define SL_TESTS_UNIT_CONSENSUS_FIXTURE_H

#include "tests/unit/test.h"

#include "consensus/internal.h"

static inline struct raft_entry entry(uint64_t index, uint64_t term, const char *data)
{
	struct raft_entry e = { .index = index, .term = term, .type = RAFT_ENTRY_NORMAL };
	if (data != NULL) {
		e.data = (const uint8_t *)data;
		e.len = strlen(data);
	}
	return e;
}

/* A log holding terms[0..n) at indexes 1..n. */
static inline void log_with_terms(struct raft_log *log, const uint64_t *terms, size_t n)
{
	log_init(log, NULL);
	for (size_t i = 0; i < n; i++) {
		struct raft_entry e = entry(i + 1, terms[i], "x");
		int rc = log_append(log, &e, 1);
		assert(rc == 0);
		(void)rc;
	}
}

static inline struct raft_config config_for(uint64_t id, size_t voters)
{
	struct raft_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.id = id;
	cfg.election_ticks = 10;
	cfg.heartbeat_ticks = 1;
	cfg.seed = 42;
	for (size_t i = 0; i < voters; i++)
		cfg.initial.voters[i] = i + 1;
	cfg.initial.voters_count = (uint8_t)voters;
	return cfg;
}

/* Messages captured from one Ready (copied: the Ready's own die at advance). */
struct captured {
	struct raft_msg msgs[64];
	size_t count;
	bool has_hard_state;
	struct raft_hard_state hs;
	size_t entries;
	size_t committed;
	bool must_sync;
	bool messages_early;
};

static inline void drain(raft *r, struct captured *out)
{
	memset(out, 0, sizeof *out);
	struct raft_ready rd;
	if (!raft_has_ready(r) || raft_ready(r, &rd) != 0)
		return;
	for (size_t i = 0; i < rd.messages_count && out->count < 64; i++) {
		out->msgs[out->count] = rd.messages[i];
		out->msgs[out->count].entries = NULL; /* not kept past advance */
		out->count++;
	}
	out->has_hard_state = rd.has_hard_state;
	out->hs = rd.hard_state;
	out->entries = rd.entries_count;
	out->committed = rd.committed_count;
	out->must_sync = rd.must_sync;
	out->messages_early = rd.messages_early;
	raft_advance(r, &rd);
}

static inline raft *node_new(uint64_t id, size_t voters, bool pre_vote, bool check_quorum)
{
	struct raft_config cfg = config_for(id, voters);
	cfg.pre_vote = pre_vote;
	cfg.check_quorum = check_quorum;
	raft *r = NULL;
	if (raft_create(&cfg, NULL, &r) != 0)
		return NULL;
	struct captured c;
	drain(r, &c); /* persist and apply the bootstrap entries */
	return r;
}

static inline struct raft_msg msg(uint8_t type, uint64_t from, uint64_t to, uint64_t term)
{
	struct raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.from = from;
	m.to = to;
	m.term = term;
	return m;
}

/* Make node 1 of a 3-voter cluster leader at term 2 and return it. */
static inline raft *leader_new(bool check_quorum)
{
	raft *r = node_new(1, 3, false, check_quorum);
	if (r == NULL || raft_campaign(r) != 0)
		return r;
	struct captured c;
	drain(r, &c);
	struct raft_msg m = msg(RAFT_MSG_VOTE_RESP, 2, 1, 2);
	raft_step(r, &m);
	drain(r, &c); /* persists the no-op; self match advances */
	return r;
}

static inline size_t count_type(const struct captured *c, uint8_t type, uint64_t to)
{
	size_t n = 0;
	for (size_t i = 0; i < c->count; i++)
		n += c->msgs[i].type == type && (to == 0 || c->msgs[i].to == to);
	return n;
}

static inline void ack(raft *r, uint64_t from, uint64_t term, uint64_t index)
{
	struct raft_msg m = msg(RAFT_MSG_APPEND_RESP, from, 1, term);
	m.index = index;
	raft_step(r, &m);
}

#endif
