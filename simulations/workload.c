/* simulations/workload.c — multi-site serialization traffic and faulty input.
 *
 * Every node is a site (site-1 .. site-N) with its Ed25519 key (derived from the seed). Sites 1
 * and 2 manufacture: they commission packs (GTIN + lot + serials), pack them into cases (SSCC,
 * commission_container + aggregate) and cases onto pallets, and ship to other sites; every site
 * receives what was shipped to it, unpacks (disaggregate), dispenses packs and destroys some.
 * A client's picture of the stock is optimistic (updated when a record is generated), so under
 * faults some records are rejected by the ledger: that is fine, the checker only demands that
 * every replica decides identically. Faulty input, about 10%: exact duplicates of earlier
 * records, aggregation errors (children already packed, unknown parents) and bad signatures;
 * a bad signature must be rejected (BAD_SIGNATURE) and a duplicate of an acknowledged record
 * must never be accepted.
 *
 * Clients submit to the node that believes it is the leader; a request whose proposal was lost
 * (leader crashed or deposed) is retried up to SIM_RETRIES_MAX times. Acknowledged = the outcome
 * came back from the node that was asked, after it applied the entry (DESIGN.md step 6).
 * Signing is deterministic (Ed25519) and nonces are counters, so records replay byte for byte.
 */
#include "simulations/sim.h"

#include "ledger/gs1.h"
#include "ledger/reason.h"
#include "ledger/record.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_POOL_MAX 512	 /* items a site's client keeps track of, per kind */
#define SIM_QUEUE_MAX 4096	 /* client requests waiting for a leader */
#define SIM_RETRIES_MAX 3
#define SIM_SUBMITS_PER_STEP 32
#define SIM_OP_PPM 350000	 /* chance of one client operation per step */
#define SIM_GTIN "09506000134352"
#define SIM_CASE_PACKS 6
#define SIM_MANUFACTURERS 2
#define SIM_CONTENTS_MAX 4096 /* containers whose contents the clients remember */

enum sim_req_kind { REQ_NORMAL = 0, REQ_DUPLICATE, REQ_AGGREGATION_ERROR, REQ_BAD_SIGNATURE, REQ_PROBE };

struct pool {
	char ids[SIM_POOL_MAX][GS1_ITEM_ID_SIZE];
	size_t count;
};

struct site_stock {
	struct pool loose;    /* packs, not in a container */
	struct pool packed;   /* packs inside a case (for aggregation errors) */
	struct pool cases;    /* cases not on a pallet */
	struct pool pallets;
	struct pool incoming; /* shipped to this site, not yet received */
};

/* What the client packed into each container, so unpacking at the receiver restocks it. */
struct content {
	char parent[GS1_ITEM_ID_SIZE];
	char kids[SIM_CASE_PACKS][GS1_ITEM_ID_SIZE];
	size_t count;
};

struct workload {
	struct site_stock sites[SIM_NODES_MAX + 1];
	struct content contents[SIM_CONTENTS_MAX];
	size_t contents_count;
	uint64_t nonce;
	uint64_t serial;
	uint64_t sscc;
	uint32_t queue[SIM_QUEUE_MAX];
	size_t queue_head;
	size_t queue_count;
	uint64_t generated, rejected_ok, faulty;
	int building_type; /* type of the record req_new is storing (for the trace) */
};

static bool pool_add(struct pool *p, const char *id)
{
	if (p->count >= SIM_POOL_MAX)
		return false;
	snprintf(p->ids[p->count++], GS1_ITEM_ID_SIZE, "%.42s", id);
	return true;
}

/* Remove and return (into out) a random element. */
static bool pool_take(struct sim *sim, struct pool *p, char out[GS1_ITEM_ID_SIZE])
{
	if (p->count == 0)
		return false;
	size_t i = (size_t)rng_below(&sim->rng, p->count);
	memcpy(out, p->ids[i], GS1_ITEM_ID_SIZE);
	memcpy(p->ids[i], p->ids[p->count - 1], GS1_ITEM_ID_SIZE);
	p->count--;
	return true;
}

int workload_init(struct sim *sim)
{
	sim->wl = calloc(1, sizeof *sim->wl);
	sim->reqs = calloc(SIM_REQS_MAX, sizeof *sim->reqs);
	return sim->wl != NULL && sim->reqs != NULL ? 0 : SL_ENOMEM;
}

void workload_free(struct sim *sim)
{
	for (size_t i = 0; sim->reqs != NULL && i < sim->reqs_count; i++)
		free(sim->reqs[i].bytes);
	free(sim->reqs);
	free(sim->wl);
	sim->reqs = NULL;
	sim->wl = NULL;
}

static void queue_push(struct sim *sim, uint32_t req)
{
	struct workload *wl = sim->wl;
	if (wl->queue_count >= SIM_QUEUE_MAX)
		return; /* the client gives up: never acknowledged, nothing to check */
	wl->queue[(wl->queue_head + wl->queue_count++) % SIM_QUEUE_MAX] = req;
}

/* A new request from encoded bytes; returns its id or UINT32_MAX. */
static uint32_t req_new(struct sim *sim, const struct sl_buf *bytes, const uint8_t id[32], enum sim_req_kind kind)
{
	if (sim->reqs_count >= SIM_REQS_MAX)
		return UINT32_MAX;
	struct sim_req *r = &sim->reqs[sim->reqs_count];
	memset(r, 0, sizeof *r);
	r->bytes = malloc(bytes->len);
	if (r->bytes == NULL)
		return UINT32_MAX;
	memcpy(r->bytes, bytes->data, bytes->len);
	r->len = bytes->len;
	memcpy(r->record_id, id, 32);
	r->kind = (uint8_t)kind;
	r->type = (uint8_t)sim->wl->building_type;
	r->expect_reject = kind == REQ_BAD_SIGNATURE;
	r->outcome = -1;
	sim->wl->generated++;
	uint32_t req = (uint32_t)sim->reqs_count++;
	queue_push(sim, req);
	return req;
}

struct rec_spec {
	enum record_type type;
	unsigned site;
	const char *parent;
	unsigned to;
	uint32_t reason;
	struct sl_str items[SIM_POOL_MAX];
	size_t item_count;
	const char *lot;
};

static uint64_t site_clock_ms(const struct sim *sim, unsigned site)
{
	int64_t t = (int64_t)(SIM_T0_MS + sim->now * SIM_TICK_MS) + sim->nodes[site].clock_offset_ms;
	return t > 0 ? (uint64_t)t : 0;
}

static uint32_t submit(struct sim *sim, const struct rec_spec *s, enum sim_req_kind kind)
{
	struct sim_node *node = &sim->nodes[s->site];
	struct record r;
	char to[RECORD_SITE_SIZE] = "";
	record_init(&r);
	r.type = s->type;
	r.site = sl_str_from_cstr(node->site);
	r.actor = SL_STR("operator@sim");
	r.meaning = MEANING_AUTHORED;
	r.event_time_ms = (int64_t)site_clock_ms(sim, s->site);
	uint64_t nonce = ++sim->wl->nonce;
	memcpy(r.nonce, &nonce, sizeof nonce);
	r.nonce[15] = 1; /* never all zero: record_sign would draw a random one */
	r.gtin = SL_STR(SIM_GTIN);
	r.lot = sl_str_from_cstr(s->lot != NULL ? s->lot : "L1");
	r.expiry = SL_STR("281231");
	r.parent = sl_str_from_cstr(s->parent != NULL ? s->parent : "");
	if (s->to != 0)
		snprintf(to, sizeof to, "%s", sim->nodes[s->to].site);
	r.to = sl_str_from_cstr(to);
	r.decommission_reason = s->reason;
	r.items = (struct sl_str *)(uintptr_t)s->items;
	r.item_count = s->item_count;
	struct sl_buf out;
	sl_buf_init(&out, 2 * RECORD_BYTES_MAX);
	uint8_t id[32] = { 0 };
	int rc = record_sign(&r, &node->sk);
	if (rc == 0 && kind == REQ_BAD_SIGNATURE)
		r.signature[7] ^= 0x10;
	if (rc == 0)
		rc = record_id(&r, id);
	if (rc == 0)
		rc = record_encode(&r, &out);
	uint32_t req = UINT32_MAX;
	sim->wl->building_type = s->type;
	if (rc == 0)
		req = req_new(sim, &out, id, kind);
	else
		sim_violation(sim, "workload", "cannot build a %s record: %s", record_type_name(s->type), sl_errname(rc));
	sl_buf_free(&out);
	return req;
}

static void sscc_new(struct sim *sim, unsigned site, char out[GS1_ITEM_ID_SIZE])
{
	char digits[GS1_SSCC_DIGITS + 1];
	uint64_t ref = (uint64_t)site * 10000000ull + ++sim->wl->sscc % 10000000ull;
	snprintf(digits, sizeof digits, "10614141%09" PRIu64, (uint64_t)(ref % 1000000000ull));
	int check = gs1_check_digit(digits, 17);
	digits[17] = (char)('0' + (check < 0 ? 0 : check));
	digits[18] = '\0';
	snprintf(out, GS1_ITEM_ID_SIZE, "(00)%s", digits);
}

static void op_commission(struct sim *sim, unsigned site)
{
	static char serials[12][GS1_SERIAL_CHARS_MAX + 1];
	struct rec_spec s = { .type = RECORD_COMMISSION, .site = site, .lot = site == 1 ? "L1" : "L2" };
	size_t n = 4 + (size_t)rng_below(&sim->rng, 9);
	for (size_t i = 0; i < n; i++) {
		snprintf(serials[i], sizeof serials[i], "S%" PRIu64, ++sim->wl->serial);
		s.items[s.item_count++] = sl_str_from_cstr(serials[i]);
	}
	if (submit(sim, &s, REQ_NORMAL) == UINT32_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		char id[GS1_ITEM_ID_SIZE];
		snprintf(id, sizeof id, "(01)%s(21)%.20s", SIM_GTIN, serials[i]);
		(void)pool_add(&sim->wl->sites[site].loose, id);
	}
}

/* Commission a container and aggregate children (taken from `from`) into it. */
static void op_pack(struct sim *sim, unsigned site, struct pool *from, size_t want, struct pool *into,
		    struct pool *children_seen)
{
	char parent[GS1_ITEM_ID_SIZE];
	char kids[SIM_CASE_PACKS][GS1_ITEM_ID_SIZE];
	sscc_new(sim, site, parent);
	struct rec_spec c = { .type = RECORD_COMMISSION_CONTAINER, .site = site };
	c.items[c.item_count++] = sl_str_from_cstr(parent);
	if (submit(sim, &c, REQ_NORMAL) == UINT32_MAX)
		return;
	struct rec_spec a = { .type = RECORD_AGGREGATE, .site = site, .parent = parent };
	for (size_t i = 0; i < want && i < SIM_CASE_PACKS && pool_take(sim, from, kids[i]); i++)
		a.items[a.item_count++] = sl_str_from_cstr(kids[i]);
	if (a.item_count > 0 && submit(sim, &a, REQ_NORMAL) != UINT32_MAX) {
		for (size_t i = 0; i < a.item_count && children_seen != NULL; i++)
			(void)pool_add(children_seen, kids[i]);
		struct workload *wl = sim->wl;
		if (wl->contents_count < SIM_CONTENTS_MAX) {
			struct content *c2 = &wl->contents[wl->contents_count++];
			memcpy(c2->parent, parent, sizeof c2->parent);
			memcpy(c2->kids, kids, a.item_count * sizeof kids[0]);
			c2->count = a.item_count;
		}
	}
	(void)pool_add(into, parent);
}

static void op_ship(struct sim *sim, unsigned site)
{
	struct site_stock *st = &sim->wl->sites[site];
	struct pool *from = st->pallets.count ? &st->pallets : st->cases.count ? &st->cases : &st->loose;
	char item[GS1_ITEM_ID_SIZE];
	unsigned to = 1 + (unsigned)rng_below(&sim->rng, sim->n);
	if (to == site || !pool_take(sim, from, item))
		return;
	struct rec_spec s = { .type = RECORD_SHIP, .site = site, .to = to };
	s.items[s.item_count++] = sl_str_from_cstr(item);
	if (submit(sim, &s, REQ_NORMAL) != UINT32_MAX)
		(void)pool_add(&sim->wl->sites[to].incoming, item);
}

static void op_receive(struct sim *sim, unsigned site)
{
	struct site_stock *st = &sim->wl->sites[site];
	char item[GS1_ITEM_ID_SIZE];
	if (!pool_take(sim, &st->incoming, item))
		return;
	struct rec_spec s = { .type = RECORD_RECEIVE, .site = site };
	s.items[s.item_count++] = sl_str_from_cstr(item);
	if (submit(sim, &s, REQ_NORMAL) == UINT32_MAX)
		return;
	/* the client does not know what kind it was: a pallet or case is unpacked next */
	(void)pool_add(item[1] == '0' && item[2] == '0' ? &st->cases : &st->loose, item);
}

static void op_unpack(struct sim *sim, unsigned site)
{
	struct site_stock *st = &sim->wl->sites[site];
	char parent[GS1_ITEM_ID_SIZE];
	if (!pool_take(sim, &st->cases, parent))
		return;
	struct rec_spec s = { .type = RECORD_DISAGGREGATE, .site = site, .parent = parent };
	if (submit(sim, &s, REQ_NORMAL) == UINT32_MAX) /* no children listed: all of them */
		return;
	struct workload *wl = sim->wl;
	for (size_t i = 0; i < wl->contents_count; i++) {
		const struct content *c = &wl->contents[i];
		if (strcmp(c->parent, parent) != 0)
			continue;
		for (size_t k = 0; k < c->count; k++) /* containers go back to cases, packs to loose stock */
			(void)pool_add(c->kids[k][1] == '0' && c->kids[k][2] == '0' ? &st->cases : &st->loose, c->kids[k]);
		break;
	}
}

static void op_decommission(struct sim *sim, unsigned site, uint32_t reason)
{
	char item[GS1_ITEM_ID_SIZE];
	if (!pool_take(sim, &sim->wl->sites[site].loose, item))
		return;
	struct rec_spec s = { .type = RECORD_DECOMMISSION, .site = site, .reason = reason };
	s.items[s.item_count++] = sl_str_from_cstr(item);
	(void)submit(sim, &s, REQ_NORMAL);
}

static void op_faulty(struct sim *sim, unsigned site)
{
	struct site_stock *st = &sim->wl->sites[site];
	sim->wl->faulty++;
	uint64_t which = rng_below(&sim->rng, 3);
	if (which == 0 && sim->reqs_count > 0) {
		const struct sim_req *old = &sim->reqs[rng_below(&sim->rng, sim->reqs_count)];
		struct sl_buf bytes = { (uint8_t *)(uintptr_t)old->bytes, old->len, old->len, old->len };
		uint32_t req = req_new(sim, &bytes, old->record_id, REQ_DUPLICATE);
		if (req != UINT32_MAX) {
			sim->reqs[req].expect_reject = old->acked; /* the original is in the ledger */
			sim->reqs[req].type = old->type;
		}
	} else if (which == 1) {
		/* aggregation error: packs already in a case, or an unknown parent */
		char parent[GS1_ITEM_ID_SIZE];
		struct rec_spec s = { .type = RECORD_AGGREGATE, .site = site };
		if (st->packed.count > 0) {
			s.items[s.item_count++] = sl_str_from_cstr(st->packed.ids[rng_below(&sim->rng, st->packed.count)]);
			if (st->cases.count > 0) /* a pack already in a case, into another case */
				memcpy(parent, st->cases.ids[rng_below(&sim->rng, st->cases.count)], sizeof parent);
			else
				sscc_new(sim, site, parent); /* never commissioned */
		} else {
			snprintf(parent, sizeof parent, "(00)106141410000000019");
			s.items[s.item_count++] = SL_STR("(01)" SIM_GTIN "(21)NEVER1");
		}
		s.parent = parent;
		(void)submit(sim, &s, REQ_AGGREGATION_ERROR);
	} else {
		struct rec_spec s = { .type = RECORD_COMMISSION, .site = site, .lot = "LX" };
		s.items[s.item_count++] = SL_STR("BADSIG1");
		(void)submit(sim, &s, REQ_BAD_SIGNATURE);
	}
}

static void client_operation(struct sim *sim)
{
	unsigned site = 1 + (unsigned)rng_below(&sim->rng, sim->n);
	struct site_stock *st = &sim->wl->sites[site];
	uint64_t dice = rng_below(&sim->rng, 100);
	if (dice < 10)
		op_faulty(sim, site);
	else if (site <= SIM_MANUFACTURERS && st->loose.count < 30 && dice < 40)
		op_commission(sim, site);
	else if (st->loose.count >= SIM_CASE_PACKS && dice < 55)
		op_pack(sim, site, &st->loose, SIM_CASE_PACKS, &st->cases, &st->packed);
	else if (st->cases.count >= 3 && dice < 60)
		op_pack(sim, site, &st->cases, 2 + rng_below(&sim->rng, 2), &st->pallets, NULL);
	else if (st->incoming.count > 0 && dice < 75)
		op_receive(sim, site);
	else if (dice < 82)
		op_ship(sim, site);
	else if (dice < 88)
		op_unpack(sim, site);
	else
		op_decommission(sim, site, dice < 96 ? DECOMMISSION_DISPENSED : DECOMMISSION_DESTROYED);
}

void workload_step(struct sim *sim)
{
	struct workload *wl = sim->wl;
	if (!sim->healing && rng_chance(&sim->rng, SIM_OP_PPM))
		client_operation(sim);
	for (int i = 0; i < SIM_SUBMITS_PER_STEP && wl->queue_count > 0; i++) {
		uint32_t req = wl->queue[wl->queue_head];
		if (!cluster_submit(sim, req))
			break;
		wl->queue_head = (wl->queue_head + 1) % SIM_QUEUE_MAX;
		wl->queue_count--;
	}
}

void workload_acked(struct sim *sim, uint32_t req, const struct ledger_result *result, uint64_t node)
{
	struct sim_req *r = &sim->reqs[req];
	if (r->acked)
		return;
	r->acked = true;
	r->outcome = result->outcome;
	r->seq = result->seq;
	r->acked_by = node;
	sim->acked++;
	if (r->expect_reject && result->outcome == OUTCOME_ACCEPTED)
		sim_violation(sim, "faulty-input", "request %u (%s) was accepted at seq %" PRIu64, req,
			      r->kind == REQ_BAD_SIGNATURE ? "bad signature" : "duplicate", result->seq);
	if (r->kind == REQ_BAD_SIGNATURE && result->outcome != OUTCOME_BAD_SIGNATURE)
		sim_violation(sim, "faulty-input", "request %u (bad signature) got outcome %s", req,
			      ledger_outcome_name(result->outcome));
	if (sim->opt.trace)
		sim_trace(sim, "ack req %u %s%s seq %" PRIu64 " %s via n%" PRIu64, req, record_type_name(r->type),
			  r->kind == REQ_NORMAL || r->kind == REQ_PROBE ? "" : " (faulty input)", result->seq,
			  ledger_outcome_name(result->outcome), node);
}

void workload_lost(struct sim *sim, uint32_t req)
{
	struct sim_req *r = &sim->reqs[req];
	if (r->acked || r->retries >= SIM_RETRIES_MAX)
		return;
	r->retries++;
	queue_push(sim, req);
}

uint32_t workload_probe(struct sim *sim)
{
	struct rec_spec s = { .type = RECORD_COMMISSION, .site = 1, .lot = "PROBE" };
	char serial[GS1_SERIAL_CHARS_MAX + 1];
	snprintf(serial, sizeof serial, "P%" PRIu64, ++sim->wl->serial);
	s.items[s.item_count++] = sl_str_from_cstr(serial);
	return submit(sim, &s, REQ_PROBE);
}
