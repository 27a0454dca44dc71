/* tests/unit/test_consensus_step.c — each message handler of the Raft core through raft_step,
 * and the leader's paths: votes, pre-votes, leases, appends, flow control, commitment, ReadIndex,
 * membership changes, Ready ownership. Links only libslraft.a and libc. */
#include "tests/unit/consensus_fixture.h"

/* ---- message handlers ---- */

static void test_vote_persisted_with_response(void)
{
	raft *r = node_new(2, 3, false, false);
	REQUIRE(r != NULL);
	struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 2);
	m.index = 3;
	m.log_term = 1;
	CHECK_INT_EQ(raft_step(r, &m), 0);
	struct captured c;
	drain(r, &c);
	/* Rule 1: the vote and its announcement share a Ready, and the Ready demands a sync */
	CHECK(c.has_hard_state);
	CHECK_INT_EQ(c.hs.term, 2);
	CHECK_INT_EQ(c.hs.vote, 1);
	CHECK(c.must_sync);
	REQUIRE(c.count == 1);
	CHECK_INT_EQ(c.msgs[0].type, RAFT_MSG_VOTE_RESP);
	CHECK(!(c.msgs[0].flags & RAFT_MSG_FLAG_REJECT));
	/* a second candidate in the same term is refused (§3.4) */
	m.from = 3;
	CHECK_INT_EQ(raft_step(r, &m), 0);
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK(c.msgs[0].flags & RAFT_MSG_FLAG_REJECT);
	CHECK_INT_EQ(c.msgs[0].to, 3);
	/* the same candidate asking again gets the same answer */
	m.from = 1;
	raft_step(r, &m);
	drain(r, &c);
	CHECK(c.count == 1 && !(c.msgs[0].flags & RAFT_MSG_FLAG_REJECT));
	/* an older term is stale */
	m = msg(RAFT_MSG_VOTE, 3, 2, 1);
	CHECK_INT_EQ(raft_step(r, &m), RAFT_ESTALE);
	raft_destroy(r);
}

static void test_vote_requires_up_to_date_log(void)
{
	raft *r = node_new(2, 3, false, false);
	REQUIRE(r != NULL);
	struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 5);
	m.index = 2; /* shorter log, same last term */
	m.log_term = 1;
	raft_step(r, &m);
	struct captured c;
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK(c.msgs[0].flags & RAFT_MSG_FLAG_REJECT);
	CHECK_INT_EQ(c.hs.term, 5); /* the term still moves (§3.3) */
	CHECK_INT_EQ(c.hs.vote, 0);
	raft_destroy(r);
}

static void test_pre_vote_keeps_term(void)
{
	raft *r = node_new(2, 3, true, false);
	REQUIRE(r != NULL);
	struct raft_msg m = msg(RAFT_MSG_PRE_VOTE, 1, 2, 7);
	m.index = 3;
	m.log_term = 1;
	CHECK_INT_EQ(raft_step(r, &m), 0);
	struct captured c;
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK_INT_EQ(c.msgs[0].type, RAFT_MSG_PRE_VOTE_RESP);
	CHECK_INT_EQ(c.msgs[0].term, 7); /* granted with the future term */
	CHECK(!c.has_hard_state); /* own term and vote untouched (§9.6) */
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.term, 1);
	CHECK_INT_EQ(st.vote, 0);
	/* a pre-candidate: campaigning asks with term+1 and changes nothing durable */
	CHECK_INT_EQ(raft_campaign(r), 0);
	drain(r, &c);
	CHECK(!c.has_hard_state);
	REQUIRE(c.count == 2);
	CHECK_INT_EQ(c.msgs[0].type, RAFT_MSG_PRE_VOTE);
	CHECK_INT_EQ(c.msgs[0].term, 2);
	/* a rejection from a higher term makes it a follower in that term */
	struct raft_msg rej = msg(RAFT_MSG_PRE_VOTE_RESP, 3, 2, 4);
	rej.flags = RAFT_MSG_FLAG_REJECT;
	raft_step(r, &rej);
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.role, RAFT_FOLLOWER);
	CHECK_INT_EQ(st.term, 4);
	raft_destroy(r);
}

static void test_lease_ignores_disruptive_votes(void)
{
	raft *r = node_new(2, 3, true, true);
	REQUIRE(r != NULL);
	struct raft_msg hb = msg(RAFT_MSG_HEARTBEAT, 1, 2, 2);
	CHECK_INT_EQ(raft_step(r, &hb), 0);
	struct raft_msg m = msg(RAFT_MSG_VOTE, 3, 2, 3);
	m.index = 3;
	m.log_term = 1;
	CHECK_INT_EQ(raft_step(r, &m), RAFT_ESTALE); /* heard from leader 1 just now (§4.2.3) */
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.term, 2);
	CHECK_INT_EQ(st.leader, 1);
	m.flags = RAFT_MSG_FLAG_TRANSFER; /* leader transfer overrides the lease (§3.10) */
	CHECK_INT_EQ(raft_step(r, &m), 0);
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.term, 3);
	CHECK_INT_EQ(st.vote, 3);
	raft_destroy(r);
}

static void test_follower_append_handling(void)
{
	raft *r = node_new(2, 3, false, false);
	REQUIRE(r != NULL);
	struct captured c;
	struct raft_entry ents[] = { entry(4, 2, "a"), entry(5, 2, "b") };
	struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 2);
	m.index = 3;
	m.log_term = 1;
	m.commit = 9; /* beyond what this message proves: clamp to the last new entry */
	m.entries = ents;
	m.entries_count = 2;
	CHECK_INT_EQ(raft_step(r, &m), 0);
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK_INT_EQ(c.msgs[0].index, 5);
	CHECK_INT_EQ(c.hs.commit, 5);
	CHECK_INT_EQ(c.entries, 2);
	CHECK_INT_EQ(c.committed, 2);
	/* mismatch: probe at 7 with term 3; hint = our last index 5, term 2 */
	struct raft_msg probe = msg(RAFT_MSG_APPEND, 1, 2, 3);
	probe.index = 7;
	probe.log_term = 3;
	raft_step(r, &probe);
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK(c.msgs[0].flags & RAFT_MSG_FLAG_REJECT);
	CHECK_INT_EQ(c.msgs[0].index, 7);
	CHECK_INT_EQ(c.msgs[0].reject_hint, 5);
	CHECK_INT_EQ(c.msgs[0].log_term, 2);
	/* an append below commit is answered with the commit index */
	probe.index = 2;
	probe.log_term = 1;
	raft_step(r, &probe);
	drain(r, &c);
	REQUIRE(c.count == 1);
	CHECK_INT_EQ(c.msgs[0].index, 5);
	/* a heartbeat naming entries we lack does not move commit past our log */
	struct raft_msg hb = msg(RAFT_MSG_HEARTBEAT, 1, 2, 3);
	hb.commit = 50;
	hb.context = 77;
	raft_step(r, &hb);
	drain(r, &c);
	CHECK(!c.has_hard_state);
	REQUIRE(c.count == 1);
	CHECK_INT_EQ(c.msgs[0].type, RAFT_MSG_HEARTBEAT_RESP);
	CHECK_INT_EQ(c.msgs[0].context, 77);
	raft_destroy(r);
}

static void test_step_rejects_bad_messages(void)
{
	raft *r = node_new(2, 3, false, false);
	REQUIRE(r != NULL);
	struct raft_msg m = msg(RAFT_MSG_HEARTBEAT, 2, 2, 2);
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL); /* from self */
	m = msg(RAFT_MSG_HEARTBEAT, 1, 3, 2);
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL); /* not for us */
	m = msg(0, 1, 2, 2);
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL);
	m = msg(RAFT_MSG_HEARTBEAT, 1, 2, 0);
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL); /* no term */
	struct raft_entry ents[] = { entry(5, 2, "a") };
	m = msg(RAFT_MSG_APPEND, 1, 2, 2);
	m.index = 3; /* entry index should be 4 */
	m.entries = ents;
	m.entries_count = 1;
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL);
	m.type = RAFT_MSG_VOTE; /* entries on a vote */
	CHECK_INT_EQ(raft_step(r, &m), RAFT_EINVAL);
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.term, 1); /* nothing moved */
	raft_destroy(r);
}

/* ---- leader ---- */

static void test_leader_batches_and_pipelines(void)
{
	struct raft_config cfg = config_for(1, 3);
	cfg.max_inflight_msgs = 2;
	cfg.max_msg_bytes = 1;
	raft *r = NULL;
	REQUIRE(raft_create(&cfg, NULL, &r) == 0);
	struct captured c;
	drain(r, &c);
	raft_campaign(r);
	drain(r, &c);
	struct raft_msg v = msg(RAFT_MSG_VOTE_RESP, 2, 1, 2);
	raft_step(r, &v);
	drain(r, &c); /* no-op at 4, probes */
	CHECK_INT_EQ(count_type(&c, RAFT_MSG_APPEND, 2), 1);
	ack(r, 2, 2, 4); /* follower 2 now replicating */
	drain(r, &c);
	for (int i = 0; i < 5; i++)
		CHECK_INT_EQ(raft_propose(r, "p", 1, NULL), 0);
	drain(r, &c);
	/* one entry per message (max_msg_bytes), at most two in flight to node 2 */
	CHECK_INT_EQ(count_type(&c, RAFT_MSG_APPEND, 2), 2);
	CHECK_INT_EQ(c.entries, 5);
	ack(r, 2, 2, 5);
	drain(r, &c);
	CHECK_INT_EQ(count_type(&c, RAFT_MSG_APPEND, 2), 1); /* one slot freed, one more sent */
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.commit, 5); /* leader + node 2 hold 5, a term-2 entry */
	raft_destroy(r);
}

/* raft.h Rule 1's exception (§10.2.1): only a leader whose term and vote are durable may send
 * before persisting, and its own copy still counts toward commit only once advanced. */
static void test_leader_sends_before_persisting(void)
{
	raft *r = node_new(1, 3, false, false);
	REQUIRE(r != NULL);
	struct captured c;
	raft_campaign(r);
	drain(r, &c);
	CHECK(c.count > 0 && !c.messages_early); /* a candidate's new term and vote come first */
	struct raft_msg v = msg(RAFT_MSG_VOTE_RESP, 2, 1, 2);
	raft_step(r, &v);
	drain(r, &c);
	CHECK(c.entries == 1 && c.messages_early); /* the no-op's appends: term 2 is durable */
	ack(r, 2, 2, 4);
	ack(r, 3, 2, 4);
	drain(r, &c);
	CHECK_INT_EQ(raft_propose(r, "p", 1, NULL), 0);
	struct raft_ready rd;
	REQUIRE(raft_has_ready(r) && raft_ready(r, &rd) == 0);
	CHECK(rd.messages_early && rd.must_sync && rd.entries_count == 1);
	size_t appends = 0;
	for (size_t i = 0; i < rd.messages_count; i++)
		appends += rd.messages[i].type == RAFT_MSG_APPEND && rd.messages[i].entries_count == 1;
	CHECK_INT_EQ(appends, 2);
	/* follower 2 holds entry 5 before the leader's own write is done: the leader's volatile
	 * copy does not make a majority (internal.h I3) ... */
	ack(r, 2, 2, 5);
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.commit, 4);
	raft_advance(r, &rd); /* ... its durable one does */
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.commit, 5);
	/* a leader deposed by a newer term answers with its new term: not early */
	struct raft_msg hb = msg(RAFT_MSG_APPEND, 2, 1, 3);
	hb.index = 5;
	hb.log_term = 2;
	raft_step(r, &hb);
	drain(r, &c);
	CHECK(c.count > 0 && c.has_hard_state && !c.messages_early);
	raft_destroy(r);
	/* a follower's acknowledgements promise its disk: never early */
	raft *f = node_new(2, 3, false, false);
	REQUIRE(f != NULL);
	struct raft_msg a = msg(RAFT_MSG_APPEND, 1, 2, 1);
	a.index = 3;
	a.log_term = 1;
	raft_step(f, &a);
	drain(f, &c);
	a.term = 1;
	struct raft_entry e = entry(4, 1, "x");
	a.entries = &e;
	a.entries_count = 1;
	raft_step(f, &a);
	drain(f, &c);
	CHECK(c.count == 1 && c.entries == 1 && !c.messages_early);
	raft_destroy(f);
}

static void test_propose_errors(void)
{
	raft *f = node_new(2, 3, false, false);
	REQUIRE(f != NULL);
	CHECK_INT_EQ(raft_propose(f, "x", 1, NULL), RAFT_ENOTLEADER);
	raft_destroy(f);
	raft *r = node_new(1, 1, false, false);
	REQUIRE(r != NULL);
	CHECK_INT_EQ(raft_campaign(r), 0);
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.role, RAFT_LEADER);
	CHECK_INT_EQ(raft_propose(r, "x", 0, NULL), RAFT_EINVAL);
	CHECK_INT_EQ(raft_propose(r, NULL, 1, NULL), RAFT_EINVAL);
	static uint8_t big[RAFT_ENTRY_BYTES_MAX + 1];
	CHECK_INT_EQ(raft_propose(r, big, sizeof big, NULL), RAFT_EINVAL);
	uint64_t index = 0;
	CHECK_INT_EQ(raft_propose(r, "x", 1, &index), 0);
	CHECK_INT_EQ(index, 3);
	/* nothing commits before the Ready is advanced (the leader's copy is not durable) */
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.commit, 1);
	int rc = 0;
	size_t accepted = 1;
	while ((rc = raft_propose(r, "y", 1, NULL)) == 0 && accepted < 2 * RAFT_UNCOMMITTED_ENTRIES_MAX)
		accepted++;
	CHECK_INT_EQ(rc, RAFT_ELIMIT); /* bounded pending proposals */
	CHECK_INT_EQ(accepted, RAFT_UNCOMMITTED_ENTRIES_MAX - 1);
	struct captured c;
	drain(r, &c);
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.commit, st.last_index);
	CHECK_INT_EQ(raft_propose(r, "z", 1, NULL), 0);
	raft_destroy(r);
}

static void test_leader_commits_only_current_term(void)
{
	/* Figure 3.7 in miniature: a leader of term 3 whose log ends with a term-2 entry at 4. */
	struct raft_entry ents[] = { entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c"), entry(4, 2, "old") };
	struct raft_conf_change cc[3] = { { RAFT_CONF_ADD_VOTER, 1 }, { RAFT_CONF_ADD_VOTER, 2 }, { RAFT_CONF_ADD_VOTER, 3 } };
	uint8_t bytes[3][RAFT_CONF_CHANGE_BYTES_MAX];
	for (int i = 0; i < 3; i++) {
		REQUIRE(raft_conf_change_encode(&cc[i], bytes[i], &ents[i].len) == 0);
		ents[i].data = bytes[i];
		ents[i].type = RAFT_ENTRY_CONF_CHANGE;
	}
	struct raft_storage_state st = { .hard_state = { 2, 0, 3 }, .entries = ents, .entries_count = 4, .applied = 3 };
	struct raft_config cfg = config_for(1, 0);
	raft *r = NULL;
	REQUIRE(raft_create(&cfg, &st, &r) == 0);
	raft_campaign(r);
	struct captured c;
	drain(r, &c);
	struct raft_msg v = msg(RAFT_MSG_VOTE_RESP, 2, 1, 3);
	raft_step(r, &v);
	drain(r, &c); /* leader of term 3, no-op at 5 durable */
	ack(r, 2, 3, 4); /* node 2 holds the term-2 entry: a majority, but not current term */
	struct raft_status s;
	raft_status_get(r, &s);
	CHECK_INT_EQ(s.commit, 3);
	ack(r, 2, 3, 5); /* the no-op commits, and index 4 with it */
	raft_status_get(r, &s);
	CHECK_INT_EQ(s.commit, 5);
	raft_destroy(r);
}

static void test_ready_survives_truncation(void)
{
	/* A follower hands out entries, then a new leader truncates them before advance: the
	 * Ready's data must stay readable (ASan checks) and stable must not move past the cut. */
	raft *r = node_new(2, 3, false, false);
	REQUIRE(r != NULL);
	struct raft_entry ents[] = { entry(4, 2, "aaaa"), entry(5, 2, "bbbb") };
	struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 2);
	m.index = 3;
	m.log_term = 1;
	m.entries = ents;
	m.entries_count = 2;
	raft_step(r, &m);
	struct raft_ready rd;
	REQUIRE(raft_ready(r, &rd) == 0);
	REQUIRE(rd.entries_count == 2);
	struct raft_entry repl[] = { entry(4, 3, "cc") };
	struct raft_msg m2 = msg(RAFT_MSG_APPEND, 3, 2, 3);
	m2.index = 3;
	m2.log_term = 1;
	m2.entries = repl;
	m2.entries_count = 1;
	CHECK_INT_EQ(raft_step(r, &m2), 0);
	CHECK(memcmp(rd.entries[1].data, "bbbb", 4) == 0);
	CHECK_INT_EQ(raft_propose(r, "x", 1, NULL), RAFT_ENOTLEADER);
	raft_advance(r, &rd);
	struct captured c;
	drain(r, &c);
	CHECK_INT_EQ(c.entries, 1); /* the replacement still has to be persisted */
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.last_index, 4);
	CHECK_INT_EQ(st.leader, 3);
	raft_destroy(r);
}

static void test_check_quorum_steps_down(void)
{
	raft *r = leader_new(true);
	REQUIRE(r != NULL);
	struct raft_status st;
	struct raft_msg hr = msg(RAFT_MSG_HEARTBEAT_RESP, 2, 1, 2);
	raft_step(r, &hr);
	for (int i = 0; i < 10; i++)
		raft_tick(r);
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.role, RAFT_LEADER); /* node 2 answered within the timeout */
	for (int i = 0; i < 10; i++)
		raft_tick(r);
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.role, RAFT_FOLLOWER);
	CHECK_INT_EQ(st.term, 2);
	raft_destroy(r);
}

static void test_read_index_quorum(void)
{
	raft *r = leader_new(false);
	REQUIRE(r != NULL);
	struct captured c;
	CHECK_INT_EQ(raft_read_index(r, 5), 0); /* no-op not yet committed: waits */
	drain(r, &c);
	CHECK_INT_EQ(count_type(&c, RAFT_MSG_HEARTBEAT, 0), 0);
	ack(r, 2, 2, 4); /* commits the no-op: the read is admitted, heartbeat round goes out */
	struct raft_ready rd;
	REQUIRE(raft_ready(r, &rd) == 0);
	CHECK_INT_EQ(rd.read_states_count, 0);
	size_t rounds = 0;
	for (size_t i = 0; i < rd.messages_count; i++)
		rounds += rd.messages[i].type == RAFT_MSG_HEARTBEAT && rd.messages[i].context == 5;
	CHECK_INT_EQ(rounds, 2);
	raft_advance(r, &rd);
	struct raft_msg hr = msg(RAFT_MSG_HEARTBEAT_RESP, 3, 1, 2);
	hr.context = 5;
	raft_step(r, &hr);
	REQUIRE(raft_ready(r, &rd) == 0);
	REQUIRE(rd.read_states_count == 1);
	CHECK_INT_EQ(rd.read_states[0].context, 5);
	CHECK_INT_EQ(rd.read_states[0].index, 4);
	raft_advance(r, &rd);
	/* a follower's forwarded read is answered by message */
	struct raft_msg fr = msg(RAFT_MSG_READ_INDEX, 3, 1, 0);
	fr.context = 9;
	CHECK_INT_EQ(raft_step(r, &fr), 0);
	raft_step(r, &(struct raft_msg){ .type = RAFT_MSG_HEARTBEAT_RESP, .from = 2, .to = 1, .term = 2, .context = 9 });
	drain(r, &c);
	CHECK_INT_EQ(count_type(&c, RAFT_MSG_READ_INDEX_RESP, 3), 1);
	raft_destroy(r);
}

static void test_conf_change_one_at_a_time(void)
{
	raft *r = leader_new(false);
	REQUIRE(r != NULL);
	struct raft_conf_change cc = { RAFT_CONF_ADD_LEARNER, 4 };
	/* the term's no-op is not applied yet (§4.1 fix) */
	CHECK_INT_EQ(raft_propose_conf_change(r, &cc, NULL), RAFT_EBUSY);
	ack(r, 2, 2, 4);
	struct captured c;
	drain(r, &c);
	uint64_t index = 0;
	CHECK_INT_EQ(raft_propose_conf_change(r, &cc, &index), 0);
	CHECK_INT_EQ(index, 5);
	cc.node_id = 5;
	CHECK_INT_EQ(raft_propose_conf_change(r, &cc, NULL), RAFT_EBUSY);
	drain(r, &c);
	ack(r, 2, 2, 5);
	drain(r, &c);
	drain(r, &c); /* applied: node 4 is a learner now */
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.conf.learners_count, 1);
	CHECK_INT_EQ(st.progress_count, 4);
	CHECK_INT_EQ(raft_propose_conf_change(r, &cc, NULL), 0);
	CHECK_INT_EQ(raft_transfer_leader(r, 4), RAFT_EINVAL); /* learners cannot lead */
	raft_destroy(r);
}

static void test_error_names(void)
{
	CHECK_STR_EQ(raft_errname(RAFT_ENOTLEADER), "RAFT_ENOTLEADER");
	CHECK_STR_EQ(raft_errname(0), "RAFT_OK");
	CHECK_STR_EQ(raft_errname(-999), "RAFT_E?");
	CHECK(strstr(raft_strerror(RAFT_ELIMIT), "limit") != NULL);
	CHECK_STR_EQ(raft_msg_type_name(RAFT_MSG_TIMEOUT_NOW), "TIMEOUT_NOW");
	CHECK_STR_EQ(raft_msg_type_name(200), "?");
	CHECK_STR_EQ(raft_role_name(RAFT_PRE_CANDIDATE), "pre-candidate");
}

static const struct test_case cases[] = {
	TEST_CASE(test_vote_persisted_with_response),
	TEST_CASE(test_vote_requires_up_to_date_log),
	TEST_CASE(test_pre_vote_keeps_term),
	TEST_CASE(test_lease_ignores_disruptive_votes),
	TEST_CASE(test_follower_append_handling),
	TEST_CASE(test_step_rejects_bad_messages),
	TEST_CASE(test_leader_batches_and_pipelines),
	TEST_CASE(test_leader_sends_before_persisting),
	TEST_CASE(test_propose_errors),
	TEST_CASE(test_leader_commits_only_current_term),
	TEST_CASE(test_ready_survives_truncation),
	TEST_CASE(test_check_quorum_steps_down),
	TEST_CASE(test_read_index_quorum),
	TEST_CASE(test_conf_change_one_at_a_time),
	TEST_CASE(test_error_names),
};

TEST_MAIN(cases)
