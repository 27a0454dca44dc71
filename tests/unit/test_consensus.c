/* tests/unit/test_consensus.c — focused tests of the Raft core's building blocks: the log,
 * progress and inflight window, quorum math, membership sets, codecs, creation and restore.
 * Message handlers are in test_consensus_step.c. Links only libslraft.a and libc. */
#include "tests/unit/consensus_fixture.h"

/* ---- log ---- */

static void test_log_append_truncates_on_conflict(void)
{
	const uint64_t terms[] = { 1, 1, 2, 2 };
	struct raft_log log;
	log_with_terms(&log, terms, 4);
	log.stable = 4;
	struct raft_entry repl[] = { entry(3, 3, "yy"), entry(4, 3, "zz"), entry(5, 3, "w") };
	CHECK_INT_EQ(log_find_conflict(&log, repl, 3), 3);
	CHECK_INT_EQ(log_append(&log, repl, 3), 0);
	CHECK_INT_EQ(log_last_index(&log), 5);
	CHECK_INT_EQ(log_last_term(&log), 3);
	CHECK_INT_EQ(log.stable, 2); /* replaced entries are no longer durable */
	CHECK_INT_EQ(log.bytes, 1 + 1 + 2 + 2 + 1);
	CHECK(memcmp(log_entry(&log, 3)->data, "yy", 2) == 0);
	struct raft_entry same[] = { entry(4, 3, "zz") };
	CHECK_INT_EQ(log_find_conflict(&log, same, 1), 0);
	log_free(&log);
}

static void test_log_find_conflict_by_term(void)
{
	const uint64_t terms[] = { 1, 1, 2, 2, 2, 4, 4 };
	struct raft_log log;
	log_with_terms(&log, terms, 7);
	uint64_t t;
	CHECK_INT_EQ(log_find_conflict_by_term(&log, 7, 3, &t), 5);
	CHECK_INT_EQ(t, 2);
	CHECK_INT_EQ(log_find_conflict_by_term(&log, 7, 4, &t), 7);
	CHECK_INT_EQ(log_find_conflict_by_term(&log, 9, 4, &t), 7); /* clamps to last */
	CHECK_INT_EQ(log_find_conflict_by_term(&log, 4, 1, &t), 2);
	CHECK_INT_EQ(log_find_conflict_by_term(&log, 4, 0, &t), 0);
	log_free(&log);
}

static void test_log_up_to_date_and_terms(void)
{
	const uint64_t terms[] = { 1, 2, 2 };
	struct raft_log log;
	log_with_terms(&log, terms, 3);
	CHECK(log_is_up_to_date(&log, 3, 2));
	CHECK(log_is_up_to_date(&log, 1, 3)); /* later term wins over length (§3.6.1) */
	CHECK(!log_is_up_to_date(&log, 2, 2));
	CHECK(!log_is_up_to_date(&log, 9, 1));
	uint64_t t;
	CHECK_INT_EQ(log_term(&log, 4, &t), RAFT_EUNAVAILABLE);
	CHECK_INT_EQ(log_term(&log, 0, &t), 0);
	CHECK_INT_EQ(t, 0);
	log.stable = 3;
	log.committed = log.applying = log.applied = 2;
	struct raft_conf_state conf = { .voters = { 1 }, .voters_count = 1 };
	log_compact(&log, 2, &conf);
	CHECK_INT_EQ(log_first_index(&log), 3);
	CHECK_INT_EQ(log_term(&log, 1, &t), RAFT_ECOMPACTED);
	CHECK_INT_EQ(log_term(&log, 2, &t), 0);
	CHECK_INT_EQ(t, 2);
	CHECK(log_entry(&log, 2) == NULL);
	CHECK_INT_EQ(log.bytes, 1);
	log_free(&log);
}

static void test_log_commit_never_decreases(void)
{
	const uint64_t terms[] = { 1, 1, 1 };
	struct raft_log log;
	log_with_terms(&log, terms, 3);
	log_commit_to(&log, 3);
	log_commit_to(&log, 1);
	CHECK_INT_EQ(log.committed, 3);
	log_stable_to(&log, 3, 9); /* wrong term: a replaced entry's acknowledgement */
	CHECK_INT_EQ(log.stable, 0);
	log_stable_to(&log, 3, 1);
	CHECK_INT_EQ(log.stable, 3);
	log_free(&log);
}

/* ---- progress, inflights, quorum ---- */

static void test_inflights_window(void)
{
	struct inflights in;
	memset(&in, 0, sizeof in);
	in.max_count = 3;
	in.max_bytes = 100;
	inflights_add(&in, 5, 10);
	inflights_add(&in, 8, 10);
	CHECK(!inflights_full(&in));
	inflights_add(&in, 9, 10);
	CHECK(inflights_full(&in));
	inflights_free_to(&in, 8);
	CHECK_INT_EQ(in.count, 1);
	CHECK_INT_EQ(in.total_bytes, 10);
	inflights_add(&in, 12, 95); /* the byte budget fills the window first */
	CHECK(inflights_full(&in));
	inflights_free_to(&in, 100);
	CHECK_INT_EQ(in.count, 0);
	CHECK(!inflights_full(&in));
}

static void test_progress_transitions(void)
{
	struct progress pr;
	memset(&pr, 0, sizeof pr);
	pr.inflight.max_count = 4;
	pr.next = 11;
	pr.match = 3;
	/* probe: only the answer to the outstanding probe counts */
	CHECK(!progress_maybe_decr_to(&pr, 7, 2));
	CHECK(progress_maybe_decr_to(&pr, 10, 5));
	CHECK_INT_EQ(pr.next, 6);
	CHECK(progress_maybe_decr_to(&pr, 5, 0)); /* never below match + 1 */
	CHECK_INT_EQ(pr.next, 4);
	CHECK(progress_maybe_update(&pr, 8));
	CHECK_INT_EQ(pr.match, 8);
	CHECK_INT_EQ(pr.next, 9);
	CHECK(!progress_maybe_update(&pr, 6));
	progress_become_replicate(&pr);
	CHECK_INT_EQ(pr.next, 9);
	CHECK(!progress_maybe_decr_to(&pr, 8, 0)); /* stale rejection at or below match */
	CHECK(progress_maybe_decr_to(&pr, 12, 0));
	CHECK_INT_EQ(pr.next, 9);
	progress_become_snapshot(&pr, 20);
	CHECK(progress_is_paused(&pr));
	progress_become_probe(&pr);
	CHECK_INT_EQ(pr.next, 21);
}

static void test_quorum_commit_index(void)
{
	struct tracker trk;
	memset(&trk, 0, sizeof trk);
	struct raft_conf_state conf = { .voters = { 1, 2, 3, 4 }, .voters_count = 4, .learners = { 5 }, .learners_count = 1 };
	tracker_set_conf(&trk, &conf, 1, 4, 0);
	CHECK_INT_EQ(tracker_quorum(&trk), 3);
	const uint64_t matches[] = { 9, 7, 3, 5, 100 };
	for (size_t i = 0; i < 5; i++)
		tracker_get(&trk, i + 1)->match = matches[i];
	CHECK_INT_EQ(tracker_committed(&trk), 5); /* 9, 7, 5 hold 5; the learner's 100 does not count */
	conf.voters_count = 3;
	tracker_set_conf(&trk, &conf, 1, 4, 0);
	CHECK_INT_EQ(tracker_committed(&trk), 7);
	CHECK_INT_EQ(tracker_get(&trk, 1)->match, 9); /* existing progress is kept */
}

static void test_vote_tally(void)
{
	struct tracker trk;
	memset(&trk, 0, sizeof trk);
	struct raft_conf_state conf = { .voters = { 1, 2, 3 }, .voters_count = 3, .learners = { 4 }, .learners_count = 1 };
	tracker_set_conf(&trk, &conf, 1, 4, 0);
	tracker_record_vote(&trk, 1, true);
	tracker_record_vote(&trk, 4, true); /* learners never count */
	CHECK(tracker_tally(&trk) == VOTE_PENDING);
	tracker_record_vote(&trk, 2, false);
	tracker_record_vote(&trk, 2, true); /* the first answer stands */
	CHECK(tracker_tally(&trk) == VOTE_PENDING);
	tracker_record_vote(&trk, 3, false);
	CHECK(tracker_tally(&trk) == VOTE_LOST);
	tracker_reset_votes(&trk);
	tracker_record_vote(&trk, 1, true);
	tracker_record_vote(&trk, 3, true);
	CHECK(tracker_tally(&trk) == VOTE_WON);
}

static void test_conf_apply_rules(void)
{
	struct raft_conf_state conf;
	memset(&conf, 0, sizeof conf);
	struct raft_conf_change cc = { RAFT_CONF_ADD_VOTER, 3 };
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	cc.node_id = 1;
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	CHECK_INT_EQ(conf.voters[0], 1); /* kept sorted */
	CHECK_INT_EQ(conf_apply(&conf, &cc), RAFT_ECONFIG);
	cc = (struct raft_conf_change){ RAFT_CONF_ADD_LEARNER, 7 };
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	cc.type = RAFT_CONF_ADD_VOTER; /* promotion */
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	CHECK_INT_EQ(conf.learners_count, 0);
	CHECK_INT_EQ(conf.voters_count, 3);
	cc = (struct raft_conf_change){ RAFT_CONF_ADD_LEARNER, 1 }; /* no demotion in one step */
	CHECK_INT_EQ(conf_apply(&conf, &cc), RAFT_ECONFIG);
	cc = (struct raft_conf_change){ RAFT_CONF_REMOVE, 3 };
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	cc.node_id = 7;
	CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	cc.node_id = 1; /* the last voter stays */
	CHECK_INT_EQ(conf_apply(&conf, &cc), RAFT_ECONFIG);
	for (uint64_t id = 10; id < 10 + RAFT_VOTERS_MAX - 1; id++) {
		cc = (struct raft_conf_change){ RAFT_CONF_ADD_VOTER, id };
		CHECK_INT_EQ(conf_apply(&conf, &cc), 0);
	}
	cc.node_id = 99;
	CHECK_INT_EQ(conf_apply(&conf, &cc), RAFT_ECONFIG); /* RAFT_VOTERS_MAX */
	CHECK(conf_valid(&conf));
}

/* ---- codecs ---- */

static void test_codec_roundtrip(void)
{
	struct raft_entry ents[] = { entry(8, 2, "abc"), entry(9, 3, NULL) };
	ents[1].type = RAFT_ENTRY_CONF_CHANGE;
	struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 3);
	m.index = 7;
	m.log_term = 2;
	m.commit = 6;
	m.context = UINT64_MAX;
	m.flags = RAFT_MSG_FLAG_REJECT;
	m.entries = ents;
	m.entries_count = 2;
	uint8_t buf[256];
	size_t len = 0;
	REQUIRE(raft_msg_encode(&m, buf, sizeof buf, &len) == 0);
	CHECK(len <= raft_msg_encoded_bytes_max(&m));
	struct raft_msg out;
	struct raft_entry dec[RAFT_MSG_ENTRIES_MAX];
	REQUIRE(raft_msg_decode(buf, len, &out, dec, RAFT_MSG_ENTRIES_MAX) == 0);
	CHECK_INT_EQ(out.type, RAFT_MSG_APPEND);
	CHECK_INT_EQ(out.context, UINT64_MAX);
	CHECK_INT_EQ(out.flags, RAFT_MSG_FLAG_REJECT);
	CHECK_INT_EQ(out.entries_count, 2);
	CHECK_INT_EQ(out.entries[0].index, 8);
	CHECK_INT_EQ(out.entries[1].index, 9);
	CHECK_INT_EQ(out.entries[1].type, RAFT_ENTRY_CONF_CHANGE);
	CHECK(out.entries[0].len == 3 && memcmp(out.entries[0].data, "abc", 3) == 0);
	CHECK(out.entries[0].data >= buf && out.entries[0].data < buf + len); /* borrowed */
	CHECK_INT_EQ(raft_msg_encode(&m, buf, 10, &len), RAFT_ELIMIT);

	struct raft_msg s = msg(RAFT_MSG_SNAPSHOT, 1, 4, 5);
	s.snapshot.index = 100;
	s.snapshot.term = 4;
	s.snapshot.conf = (struct raft_conf_state){ .voters = { 1, 2, 3 }, .voters_count = 3, .learners = { 4 }, .learners_count = 1 };
	REQUIRE(raft_msg_encode(&s, buf, sizeof buf, &len) == 0);
	REQUIRE(raft_msg_decode(buf, len, &out, dec, RAFT_MSG_ENTRIES_MAX) == 0);
	CHECK_INT_EQ(out.snapshot.index, 100);
	CHECK_INT_EQ(out.snapshot.conf.voters[2], 3);
	CHECK_INT_EQ(out.snapshot.conf.learners[0], 4);
}

static void test_codec_rejects_malformed(void)
{
	struct raft_entry ents[] = { entry(2, 1, "hello") };
	struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 1);
	m.index = 1;
	m.log_term = 1;
	m.entries = ents;
	m.entries_count = 1;
	uint8_t buf[128];
	size_t len = 0;
	REQUIRE(raft_msg_encode(&m, buf, sizeof buf, &len) == 0);
	struct raft_msg out;
	struct raft_entry dec[RAFT_MSG_ENTRIES_MAX];
	for (size_t cut = 0; cut < len; cut++) /* every truncation fails */
		CHECK(raft_msg_decode(buf, cut, &out, dec, RAFT_MSG_ENTRIES_MAX) != 0);
	uint8_t longer[129];
	memcpy(longer, buf, len);
	longer[len] = 0;
	CHECK_INT_EQ(raft_msg_decode(longer, len + 1, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	uint8_t bad[128];
	memcpy(bad, buf, len);
	bad[0] = 2; /* version */
	CHECK_INT_EQ(raft_msg_decode(bad, len, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	memcpy(bad, buf, len);
	bad[1] = RAFT_MSG_TYPE_MAX + 1;
	CHECK_INT_EQ(raft_msg_decode(bad, len, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	memcpy(bad, buf, len);
	bad[2] = 0x80; /* unknown flag */
	CHECK_INT_EQ(raft_msg_decode(bad, len, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	memcpy(bad, buf, len);
	bad[1] = RAFT_MSG_VOTE; /* entries on a vote */
	CHECK_INT_EQ(raft_msg_decode(bad, len, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	CHECK_INT_EQ(raft_msg_decode(buf, len, &out, dec, 0), RAFT_EOVERSIZE);
	/* overlong varint: "from" = 1 written as 0x81 0x00 */
	const uint8_t overlong[] = { 1, RAFT_MSG_HEARTBEAT, 0, 0x81, 0x00, 2, 1, 0, 0, 0, 0, 0, 0 };
	CHECK_INT_EQ(raft_msg_decode(overlong, sizeof overlong, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	const uint8_t huge[] = { 1, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	CHECK_INT_EQ(raft_msg_decode(huge, sizeof huge, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	/* an entry term above the message term */
	ents[0].term = 2;
	CHECK_INT_EQ(raft_msg_encode(&m, buf, sizeof buf, &len), 0);
	CHECK_INT_EQ(raft_msg_decode(buf, len, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_EMALFORMED);
	/* a gap in entry indexes cannot be encoded */
	ents[0].index = 5;
	CHECK_INT_EQ(raft_msg_encode(&m, buf, sizeof buf, &len), RAFT_EINVAL);
	CHECK_INT_EQ(raft_msg_decode(NULL, 0, &out, dec, RAFT_MSG_ENTRIES_MAX), RAFT_ETRUNCATED);
}

static void test_conf_change_codec(void)
{
	struct raft_conf_change cc = { RAFT_CONF_REMOVE, 300 }, out;
	uint8_t buf[RAFT_CONF_CHANGE_BYTES_MAX];
	size_t len;
	REQUIRE(raft_conf_change_encode(&cc, buf, &len) == 0);
	CHECK_INT_EQ(len, 4);
	REQUIRE(raft_conf_change_decode(buf, len, &out) == 0);
	CHECK_INT_EQ(out.type, RAFT_CONF_REMOVE);
	CHECK_INT_EQ(out.node_id, 300);
	CHECK(raft_conf_change_decode(buf, len - 1, &out) != 0);
	buf[1] = 9;
	CHECK_INT_EQ(raft_conf_change_decode(buf, len, &out), RAFT_EMALFORMED);
	cc.node_id = 0;
	CHECK_INT_EQ(raft_conf_change_encode(&cc, buf, &len), RAFT_EINVAL);
}

/* ---- creation and Ready ---- */

static void test_create_validates_and_bootstraps(void)
{
	raft *r = NULL;
	struct raft_config cfg = config_for(1, 3);
	cfg.heartbeat_ticks = 10;
	CHECK_INT_EQ(raft_create(&cfg, NULL, &r), RAFT_EINVAL);
	cfg = config_for(0, 3);
	CHECK_INT_EQ(raft_create(&cfg, NULL, &r), RAFT_EINVAL);
	cfg = config_for(1, 3);
	cfg.initial.voters[1] = 1; /* duplicate id */
	CHECK_INT_EQ(raft_create(&cfg, NULL, &r), RAFT_EINVAL);
	cfg = config_for(1, 3);
	cfg.max_inflight_msgs = RAFT_INFLIGHT_MSGS_MAX + 1;
	CHECK_INT_EQ(raft_create(&cfg, NULL, &r), RAFT_EINVAL);
	cfg = config_for(1, 3);
	REQUIRE(raft_create(&cfg, NULL, &r) == 0);
	struct raft_ready rd;
	REQUIRE(raft_has_ready(r));
	REQUIRE(raft_ready(r, &rd) == 0);
	CHECK(rd.has_hard_state);
	CHECK_INT_EQ(rd.hard_state.term, 1);
	CHECK_INT_EQ(rd.hard_state.commit, 3);
	CHECK_INT_EQ(rd.entries_count, 3);
	CHECK_INT_EQ(rd.committed_count, 3);
	CHECK(rd.must_sync);
	CHECK_INT_EQ(raft_ready(r, &rd), RAFT_EINVAL); /* one Ready at a time */
	CHECK(!raft_has_ready(r));
	raft_advance(r, &rd);
	CHECK(!raft_has_ready(r));
	struct raft_status st;
	raft_status_get(r, &st);
	CHECK_INT_EQ(st.applied, 3);
	CHECK_INT_EQ(st.conf.voters_count, 3);
	raft_destroy(r);
}

static void test_restore_validates(void)
{
	struct raft_config cfg = config_for(1, 3);
	struct raft_entry ents[] = { entry(1, 1, "a"), entry(3, 1, "b") };
	struct raft_storage_state st = { .hard_state = { 2, 0, 1 }, .entries = ents, .entries_count = 2 };
	raft *r = NULL;
	CHECK_INT_EQ(raft_create(&cfg, &st, &r), RAFT_EINVAL); /* gap */
	ents[1].index = 2;
	st.applied = 2; /* past commit */
	CHECK_INT_EQ(raft_create(&cfg, &st, &r), RAFT_EINVAL);
	st.applied = 1;
	st.hard_state.commit = 5; /* past the log */
	CHECK_INT_EQ(raft_create(&cfg, &st, &r), RAFT_EINVAL);
	st.hard_state.commit = 2;
	REQUIRE(raft_create(&cfg, &st, &r) == 0);
	struct raft_status s;
	raft_status_get(r, &s);
	CHECK_INT_EQ(s.term, 2);
	CHECK_INT_EQ(s.commit, 2);
	CHECK_INT_EQ(s.applied, 1);
	CHECK_INT_EQ(s.conf.voters_count, 0); /* restored state wins over config.initial */
	struct captured c;
	drain(r, &c);
	CHECK_INT_EQ(c.committed, 1); /* entry 2 still to apply */
	CHECK(!c.has_hard_state);
	raft_destroy(r);
}

static const struct test_case cases[] = {
	TEST_CASE(test_log_append_truncates_on_conflict),
	TEST_CASE(test_log_find_conflict_by_term),
	TEST_CASE(test_log_up_to_date_and_terms),
	TEST_CASE(test_log_commit_never_decreases),
	TEST_CASE(test_inflights_window),
	TEST_CASE(test_progress_transitions),
	TEST_CASE(test_quorum_commit_index),
	TEST_CASE(test_vote_tally),
	TEST_CASE(test_conf_apply_rules),
	TEST_CASE(test_codec_roundtrip),
	TEST_CASE(test_codec_rejects_malformed),
	TEST_CASE(test_conf_change_codec),
	TEST_CASE(test_create_validates_and_bootstraps),
	TEST_CASE(test_restore_validates),
};

TEST_MAIN(cases)
