/* simulations/network.c — the simulated network between nodes.
 *
 * Every message is encoded with the real codec (raft_msg_encode) when sent and decoded when
 * delivered, so the simulation exercises the wire format. Fault model:
 *   latency   1 step, plus 0..jitter_steps more (jitter > 0 reorders messages between a pair)
 *   loss      each message lost with loss_ppm per million; messages over a cut link are lost
 *   dup       each message delivered twice with dup_ppm (the copy later, so it also reorders)
 *   cut[a][b] a's messages to b are lost: symmetric, asymmetric and partial partitions are
 *             patterns of this matrix (faults.c); checked at delivery time
 * A SNAPSHOT message carries the sender's exported ledger with it (the out-of-band data of
 * docs/consensus.md); when it is lost the sender is told (raft_report_snapshot), as a real
 * transport would notice a failed stream.
 */
#include "simulations/sim.h"

#include <stdlib.h>
#include <string.h>

void net_init(struct sim_net *net)
{
	memset(net, 0, sizeof *net);
}

static void msg_free(struct sim_msg *m)
{
	free(m->bytes);
	free(m->snap);
	m->bytes = NULL;
	m->snap = NULL;
}

void net_free(struct sim_net *net)
{
	for (size_t i = 0; i < net->count; i++)
		msg_free(&net->q[i]);
	free(net->q);
	net->q = NULL;
	net->count = net->cap = 0;
}

void net_heal(struct sim_net *net)
{
	memset(net->cut, 0, sizeof net->cut);
}

static void *dup_bytes(const uint8_t *src, size_t len)
{
	if (len == 0)
		return NULL;
	void *p = malloc(len);
	if (p != NULL)
		memcpy(p, src, len);
	return p;
}

static bool net_push(struct sim *sim, const struct sim_msg *m)
{
	struct sim_net *net = &sim->net;
	if (net->count >= SIM_NET_MSGS_MAX)
		return false;
	if (net->count == net->cap) {
		size_t cap = net->cap ? 2 * net->cap : 256;
		struct sim_msg *q = realloc(net->q, cap * sizeof *q);
		if (q == NULL)
			return false;
		net->q = q;
		net->cap = cap;
	}
	net->q[net->count++] = *m;
	return true;
}

static uint64_t latency(struct sim *sim)
{
	uint64_t steps = 1;
	if (sim->net.jitter_steps > 0)
		steps += rng_below(&sim->rng, sim->net.jitter_steps + 1);
	return steps;
}

void net_send(struct sim *sim, uint64_t from, const struct raft_msg *msg, const uint8_t *snap, size_t snap_len)
{
	struct sim_net *net = &sim->net;
	size_t cap = raft_msg_encoded_bytes_max(msg);
	uint8_t *bytes = malloc(cap);
	size_t len = 0;
	if (bytes == NULL || raft_msg_encode(msg, bytes, cap, &len) != 0) {
		free(bytes);
		sim_violation(sim, "codec", "n%llu: message %s to n%llu does not encode", (unsigned long long)from,
			      raft_msg_type_name(msg->type), (unsigned long long)msg->to);
		return;
	}
	net->sent++;
	unsigned copies = 1;
	if (net->dup_ppm > 0 && rng_chance(&sim->rng, net->dup_ppm)) {
		copies = 2;
		net->duplicated++;
	}
	for (unsigned c = 0; c < copies; c++) {
		struct sim_msg m = { .deliver_at = sim->now + latency(sim) + c * 3, .seq = net->next_seq++,
				     .from = from, .to = msg->to, .type = msg->type };
		m.bytes = c == 0 ? bytes : dup_bytes(bytes, len);
		m.len = len;
		m.snap = dup_bytes(snap, snap_len);
		m.snap_len = m.snap != NULL ? snap_len : 0;
		if (m.bytes == NULL || !net_push(sim, &m)) {
			msg_free(&m);
			net->dropped++;
		}
	}
}

static int due_compare(const void *a, const void *b)
{
	const struct sim_msg *x = a, *y = b;
	if (x->deliver_at != y->deliver_at)
		return x->deliver_at < y->deliver_at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A lost snapshot is reported to its sender (the stream failed). */
static void lost(struct sim *sim, const struct sim_msg *m)
{
	sim->net.dropped++;
	struct sim_node *from = &sim->nodes[m->from];
	if (m->type == RAFT_MSG_SNAPSHOT && from->rp != NULL)
		raft_report_snapshot(replica_raft(from->rp), m->to, false);
}

void net_deliver_due(struct sim *sim)
{
	struct sim_net *net = &sim->net;
	size_t due = 0;
	/* partition the queue: due messages first (stable order restored by the sort) */
	for (size_t i = 0; i < net->count; i++) {
		if (net->q[i].deliver_at <= sim->now) {
			struct sim_msg tmp = net->q[due];
			net->q[due] = net->q[i];
			net->q[i] = tmp;
			due++;
		}
	}
	if (due == 0)
		return;
	struct sim_msg *batch = malloc(due * sizeof *batch);
	if (batch == NULL)
		return;
	memcpy(batch, net->q, due * sizeof *batch);
	memmove(net->q, net->q + due, (net->count - due) * sizeof *net->q);
	net->count -= due;
	qsort(batch, due, sizeof *batch, due_compare);
	for (size_t i = 0; i < due; i++) {
		struct sim_msg *m = &batch[i];
		struct sim_node *to = &sim->nodes[m->to];
		bool drop = m->to == 0 || m->to > sim->n || to->rp == NULL || net->cut[m->from][m->to] ||
			    (net->loss_ppm > 0 && rng_chance(&sim->rng, net->loss_ppm));
		if (drop)
			lost(sim, m);
		else
			cluster_deliver(sim, to, m);
		net->delivered += !drop;
		msg_free(m);
	}
	free(batch);
}
