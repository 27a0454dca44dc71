/* simulations/checker.c — the safety checks, run as events happen and after every step.
 *
 * Checks (names as printed; Ongaro 2014 Figure 3.2 properties, plus the application's):
 *   election-safety       at most one leader per term (checked every step over every node)
 *   log-matching          two logs holding an entry with the same index and term agree on its
 *                         data and on the term of the entry before it (by induction: identical
 *                         prefixes); checked for every entry a node makes durable
 *   leader-commit-rule    a leader advances its commit index only to an entry of its own term
 *                         (Figure 3.1 "Rules for Servers", §3.6.2): checked between two steps
 *                         in which the node led the same term; earlier-term entries commit only
 *                         indirectly (Figure 3.7 shows the overwrite the rule prevents)
 *   leader-completeness   a node that becomes leader holds every entry known committed (applied
 *                         anywhere) with the same term
 *   state-machine-safety  every node applies the same entry (term, data) at each index and holds
 *                         the same running ledger hash after it (replica.h rule 3); a snapshot
 *                         install must land on the same hash; entries are applied in order
 *   acknowledged-record   (final) every acknowledged record is in every member's ledger at the
 *                         acknowledged seq with the acknowledged outcome
 *   lifecycle-state       (final) every member's lifecycle tables hash the same
 * Memory: tables indexed by raft index and term grow with the run (bounded by the step count).
 */
#include "simulations/sim.h"

#include "ledger/entry.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LOG_VARIANTS_MAX 8 /* different (term) entries remembered per index */
#define UNKNOWN UINT64_MAX

struct log_variant {
	uint64_t term;
	uint64_t prev_term; /* UNKNOWN when the writer had compacted it */
	uint64_t data_hash;
};

struct log_slot {
	struct log_variant v[LOG_VARIANTS_MAX];
	uint8_t count;
};

struct applied_slot {
	bool set;
	bool has_data; /* false when first seen through a snapshot */
	uint64_t term;
	uint64_t data_hash;
	uint8_t state_hash[REPLICA_HASH_BYTES];
};

struct sim_check {
	uint64_t *term_leader;
	size_t terms_cap;
	struct log_slot *log;
	size_t log_cap;
	struct applied_slot *applied;
	size_t applied_cap;
	uint64_t committed_max;
};

static bool grow(void **array, size_t *cap, size_t need, size_t elem)
{
	if (need < *cap)
		return true;
	size_t cap2 = *cap ? *cap : 1024;
	while (cap2 <= need)
		cap2 *= 2;
	void *p = realloc(*array, cap2 * elem);
	if (p == NULL)
		return false;
	memset((char *)p + *cap * elem, 0, (cap2 - *cap) * elem);
	*array = p;
	*cap = cap2;
	return true;
}

int check_init(struct sim *sim)
{
	sim->check = calloc(1, sizeof *sim->check);
	return sim->check != NULL ? 0 : SL_ENOMEM;
}

void check_free(struct sim *sim)
{
	if (sim->check == NULL)
		return;
	free(sim->check->term_leader);
	free(sim->check->log);
	free(sim->check->applied);
	free(sim->check);
	sim->check = NULL;
}

uint64_t check_committed_max(const struct sim *sim)
{
	return sim->check->committed_max;
}

static uint64_t data_hash(uint8_t type, const uint8_t *data, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ type; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	return h;
}

static uint64_t prev_term_of(struct sim_node *node, uint64_t index)
{
	if (index <= 1)
		return 0;
	struct raft_entry e;
	if (raft_log_entry(replica_raft(node->rp), index - 1, &e) == 0)
		return e.term;
	struct raft_status st;
	raft_status_get(replica_raft(node->rp), &st);
	return st.snapshot.index == index - 1 ? st.snapshot.term : UNKNOWN;
}

void check_persisted(struct sim *sim, struct sim_node *node, const struct raft_entry *e)
{
	struct sim_check *c = sim->check;
	if (!grow((void **)&c->log, &c->log_cap, e->index, sizeof *c->log))
		return;
	struct log_slot *slot = &c->log[e->index];
	uint64_t prev = prev_term_of(node, e->index);
	uint64_t h = data_hash(e->type, e->data, e->len);
	for (uint8_t i = 0; i < slot->count; i++) {
		struct log_variant *v = &slot->v[i];
		if (v->term != e->term)
			continue;
		if (v->data_hash != h)
			sim_violation(sim, "log-matching", "n%" PRIu64 " entry %" PRIu64 " term %" PRIu64
				      " holds other data than another node's", node->id, e->index, e->term);
		else if (prev != UNKNOWN && v->prev_term != UNKNOWN && prev != v->prev_term)
			sim_violation(sim, "log-matching", "n%" PRIu64 " entry %" PRIu64 " term %" PRIu64
				      " follows term %" PRIu64 ", elsewhere term %" PRIu64, node->id, e->index,
				      e->term, prev, v->prev_term);
		if (v->prev_term == UNKNOWN)
			v->prev_term = prev;
		return;
	}
	if (slot->count < LOG_VARIANTS_MAX)
		slot->v[slot->count++] = (struct log_variant){ e->term, prev, h };
}

static void applied_compare(struct sim *sim, struct sim_node *node, const struct replica_applied *a,
			    struct applied_slot *s, uint64_t h)
{
	if (s->term != a->term || (s->has_data && !a->snapshot && s->data_hash != h))
		sim_violation(sim, "state-machine-safety", "n%" PRIu64 " applied entry %" PRIu64 " term %" PRIu64
			      ", another node applied term %" PRIu64 " (or other data) there", node->id, a->index,
			      a->term, s->term);
	else if (memcmp(s->state_hash, a->state_hash, REPLICA_HASH_BYTES) != 0)
		sim_violation(sim, "state-machine-safety", "n%" PRIu64 " ledger hash after entry %" PRIu64
			      " (seq %" PRIu64 ") differs from another node's", node->id, a->index, a->ledger_seq);
}

void check_applied(struct sim *sim, struct sim_node *node, const struct replica_applied *a)
{
	struct sim_check *c = sim->check;
	if (!a->snapshot && a->index != node->applied + 1)
		sim_violation(sim, "state-machine-safety", "n%" PRIu64 " applied entry %" PRIu64 " after %" PRIu64,
			      node->id, a->index, node->applied);
	if (!grow((void **)&c->applied, &c->applied_cap, a->index, sizeof *c->applied))
		return;
	struct applied_slot *s = &c->applied[a->index];
	uint64_t h = a->snapshot ? 0 : data_hash(a->type, a->data, a->len);
	if (s->set) {
		applied_compare(sim, node, a, s, h);
		if (!s->has_data && !a->snapshot) {
			s->has_data = true;
			s->data_hash = h;
		}
	} else {
		*s = (struct applied_slot){ .set = true, .has_data = !a->snapshot, .term = a->term, .data_hash = h };
		memcpy(s->state_hash, a->state_hash, REPLICA_HASH_BYTES);
	}
	if (a->index > c->committed_max)
		c->committed_max = a->index;
}

static void leader_completeness(struct sim *sim, struct sim_node *node, const struct raft_status *st)
{
	struct sim_check *c = sim->check;
	for (uint64_t i = st->snapshot.index + 1; i <= c->committed_max && i < c->applied_cap; i++) {
		const struct applied_slot *s = &c->applied[i];
		if (!s->set)
			continue;
		struct raft_entry e;
		if (raft_log_entry(replica_raft(node->rp), i, &e) != 0 || e.term != s->term) {
			sim_violation(sim, "leader-completeness", "n%" PRIu64 " leads term %" PRIu64
				      " without committed entry %" PRIu64 " (term %" PRIu64 ")", node->id, st->term, i,
				      s->term);
			return;
		}
	}
}

/* Figure 3.1: commitIndex = N only when log[N].term == currentTerm. */
static void leader_commit_rule(struct sim *sim, struct sim_node *node, const struct raft_status *st)
{
	if (node->role != RAFT_LEADER || node->term != st->term || st->commit <= node->commit)
		return;
	struct raft_entry e;
	uint64_t term = UNKNOWN;
	if (raft_log_entry(replica_raft(node->rp), st->commit, &e) == 0)
		term = e.term;
	else if (st->snapshot.index == st->commit)
		term = st->snapshot.term;
	if (term != UNKNOWN && term != st->term)
		sim_violation(sim, "leader-commit-rule", "n%" PRIu64 " leading term %" PRIu64 " moved commit %" PRIu64
			      " -> %" PRIu64 ", an entry of term %" PRIu64, node->id, st->term, node->commit,
			      st->commit, term);
}

void check_step(struct sim *sim)
{
	struct sim_check *c = sim->check;
	for (unsigned i = 1; i <= sim->n; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp == NULL)
			continue;
		struct raft_status st;
		raft_status_get(replica_raft(node->rp), &st);
		bool became = st.role == RAFT_LEADER && (node->role != RAFT_LEADER || node->term != st.term);
		if (st.role == RAFT_LEADER && grow((void **)&c->term_leader, &c->terms_cap, st.term, sizeof(uint64_t))) {
			uint64_t *who = &c->term_leader[st.term];
			if (*who == 0)
				*who = node->id;
			else if (*who != node->id)
				sim_violation(sim, "election-safety", "n%" PRIu64 " and n%" PRIu64 " both lead term %" PRIu64,
					      *who, node->id, st.term);
		}
		if (st.role == RAFT_LEADER)
			leader_commit_rule(sim, node, &st);
		if (became) {
			sim_trace(sim, "n%" PRIu64 " leads term %" PRIu64 " (last %" PRIu64 ", commit %" PRIu64 ")",
				  node->id, st.term, st.last_index, st.commit);
			leader_completeness(sim, node, &st);
		}
		node->role = st.role;
		node->term = st.term;
		node->commit = st.commit;
	}
}

/* ---- final checks ---- */

static bool is_member(const struct raft_conf_state *conf, uint64_t id)
{
	for (size_t i = 0; i < conf->voters_count; i++)
		if (conf->voters[i] == id)
			return true;
	for (size_t i = 0; i < conf->learners_count; i++)
		if (conf->learners[i] == id)
			return true;
	return false;
}

static void acked_check(struct sim *sim, struct sim_node *node)
{
	store_txn *txn;
	if (store_txn_begin(replica_store(node->rp), false, &txn) != 0)
		return;
	for (size_t r = 0; r < sim->reqs_count && sim->violation[0] == '\0'; r++) {
		const struct sim_req *req = &sim->reqs[r];
		if (!req->acked)
			continue;
		const uint8_t *bytes;
		size_t len;
		struct ledger_entry e;
		struct sl_error_detail detail;
		bool ok = store_ledger_get(txn, req->seq, &bytes, &len) == 0 &&
			  entry_decode(bytes, len, &e, &detail) == 0 && e.outcome == (uint32_t)req->outcome &&
			  e.record_len == req->len && memcmp(e.record, req->bytes, req->len) == 0;
		if (!ok)
			sim_violation(sim, "acknowledged-record", "n%" PRIu64 " lacks request %zu acknowledged at seq %" PRIu64
				      " by n%" PRIu64, node->id, r, req->seq, req->acked_by);
	}
	store_txn_abort(txn);
}

void check_final(struct sim *sim)
{
	struct sim_node *leader = cluster_leader(sim);
	if (leader == NULL)
		return;
	struct raft_status ls;
	raft_status_get(replica_raft(leader->rp), &ls);
	uint8_t first[REPLICA_HASH_BYTES];
	uint64_t first_id = 0;
	for (unsigned i = 1; i <= sim->n && sim->violation[0] == '\0'; i++) {
		struct sim_node *node = &sim->nodes[i];
		if (node->rp == NULL || !is_member(&ls.conf, node->id))
			continue;
		uint8_t h[REPLICA_HASH_BYTES];
		if (replica_lifecycle_hash(node->rp, h) != 0)
			continue;
		if (first_id == 0) {
			memcpy(first, h, sizeof first);
			first_id = node->id;
		} else if (memcmp(first, h, sizeof first) != 0) {
			sim_violation(sim, "lifecycle-state", "n%" PRIu64 " and n%" PRIu64
				      " hold different item/lock/lot state at index %" PRIu64, first_id, node->id,
				      node->applied);
		}
		acked_check(sim, node);
	}
}
