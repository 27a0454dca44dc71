/* simulations/sim.h — siteledger-sim: N replicas in one process under a simulated network, disk
 * and clock, checked after every step (docs/simulation.md).
 *
 * Layout:
 *   rng.c       the one seeded generator (splitmix64); nothing else is a source of randomness
 *   network.c   in-flight messages: latency, loss, duplication, reordering, partitions
 *   faults.c    the fault schedule: partitions, crashes/restarts, disk errors, clock skew,
 *               membership changes
 *   workload.c  sites, keys, records (commission, pack, ship, receive, dispense, destroy, faulty
 *               input), client requests and acknowledgements
 *   checker.c   the safety checks and the final convergence checks
 *   cluster.c   nodes: replica open/crash/restart, hooks, the step loop
 *   run.c       one run: fault phase, healing and liveness bound, final checks
 *   main.c      command line, seed ranges, summary, replay command
 *
 * Determinism rules (a seed replays byte for byte):
 *  1. Every random choice comes from sim->rng; iteration is in node-id or queue order; nothing
 *     printed depends on the wall clock, pointer values or temp-dir names.
 *  2. Time is the step counter: one step = one raft tick = SIM_TICK_MS of simulated time.
 */
#ifndef SL_SIMULATIONS_SIM_H
#define SL_SIMULATIONS_SIM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus/raft.h"
#include "crypto/crypto.h"
#include "replica/replica.h"

#define SIM_NODES_MIN 3
#define SIM_NODES_MAX 9		   /* RAFT_VOTERS_MAX */
#define SIM_TICK_MS 10		   /* simulated time of one step */
#define SIM_ELECTION_TICKS 10	   /* 100 ms base election timeout */
#define SIM_HEARTBEAT_TICKS 1
#define SIM_MSG_BYTES 512	   /* raft_config.max_msg_bytes: entry data per append */
#define SIM_COMPACT_EVERY 48	   /* raft entries between compactions: followers fall behind it */
#define SIM_COMPACT_KEEP 12	   /* the tail a compaction keeps (D29), in odd seeds; none in even ones */
#define SIM_NET_MSGS_MAX 65536	   /* in flight; more are dropped (counted as loss) */
#define SIM_REQS_MAX 65536	   /* client requests in one run */
#define SIM_PENDING_MAX 512	   /* records waiting at one leader for the next proposal */
#define SIM_PROPOSALS_MAX 1024	   /* proposals one node awaits */
#define SIM_LIVENESS_STEPS 400	   /* after healing: leader + commit within this (4 s simulated) */
#define SIM_QUIESCE_STEPS 1000	   /* then every node must catch up within this */
#define SIM_MAP_BYTES (256ull << 20) /* each node's LMDB map */
#define SIM_T0_MS 1750000000000ull /* ledger clock origin */
#define SIM_TEXT_MAX 256

_Static_assert(SIM_NODES_MAX <= RAFT_VOTERS_MAX, "every node may become a voter");

enum sim_fault {
	SIM_FAULT_PARTITION = 1 << 0,
	SIM_FAULT_CRASH = 1 << 1,
	SIM_FAULT_LOSS = 1 << 2,
	SIM_FAULT_DUP = 1 << 3,
	SIM_FAULT_REORDER = 1 << 4,
	SIM_FAULT_SKEW = 1 << 5,
	SIM_FAULT_DISK = 1 << 6,
	SIM_FAULT_ALL = (1 << 7) - 1,
};

struct sim_options {
	uint64_t seed;
	unsigned nodes;
	uint64_t steps;
	unsigned faults;
	bool trace;
	bool no_membership;
	char faults_text[SIM_TEXT_MAX]; /* as given, for the replay command */
};

/* ---- rng.c ---- */
struct sim_rng {
	uint64_t state;
};
void rng_seed(struct sim_rng *rng, uint64_t seed);
uint64_t rng_next(struct sim_rng *rng);
uint64_t rng_below(struct sim_rng *rng, uint64_t n); /* [0, n), n > 0 */
bool rng_chance(struct sim_rng *rng, unsigned per_million);

/* ---- network.c ---- */
struct sim_msg {
	uint64_t deliver_at; /* step */
	uint64_t seq;	     /* send order: ties broken by it */
	uint64_t from;
	uint64_t to;
	uint8_t type;
	uint8_t *bytes; /* raft_msg_encode output, owned */
	size_t len;
	uint8_t *snap; /* SNAPSHOT: the exported ledger (replica_snapshot_export), owned */
	size_t snap_len;
};

struct sim_net {
	struct sim_msg *q;
	size_t count;
	size_t cap;
	uint64_t next_seq;
	bool cut[SIM_NODES_MAX + 1][SIM_NODES_MAX + 1]; /* cut[a][b]: a's messages to b are lost */
	unsigned loss_ppm;
	unsigned dup_ppm;
	unsigned jitter_steps; /* extra random latency: reordering */
	uint64_t sent, delivered, dropped, duplicated;
};

/* ---- workload ---- */
struct sim_req {
	uint8_t *bytes; /* the record as submitted (owned) */
	size_t len;
	uint8_t record_id[32];
	uint8_t kind;	  /* enum sim_req_kind (workload.c), for the trace */
	uint8_t type;	  /* enum record_type */
	uint8_t retries;
	bool acked;
	bool expect_reject; /* faulty input: must be rejected */
	int outcome;
	uint64_t seq;
	uint64_t acked_by;
};

/* ---- nodes ---- */
struct sim_proposal {
	uint64_t index;
	uint64_t term;
	uint32_t reqs[REPLICA_BATCH_RECORDS_MAX];
	uint32_t count;
};

struct sim_node {
	uint64_t id;
	char dir[PATH_MAX];
	char site[RECORD_SITE_SIZE];
	struct crypto_public_key pk;
	struct crypto_secret_key sk;
	replica *rp; /* NULL while down */
	uint64_t restart_at; /* step, while down */
	unsigned incarnation;
	int64_t clock_offset_ms;
	enum raft_role role; /* as last seen by the checker */
	uint64_t term;
	uint64_t commit; /* as last seen by the checker */
	uint32_t pending[SIM_PENDING_MAX]; /* request ids waiting for the next proposal */
	size_t pending_count;
	struct sim_proposal *proposals;
	size_t proposals_count;
	uint8_t *snap; /* last snapshot received, for the install (odd seeds: cut to a suffix there) */
	size_t snap_len;
	uint64_t snap_index;
	uint64_t applied; /* as reported by hooks.applied */
	bool disk_fault; /* a commit failure is armed */
};

struct sim_check; /* checker.c */

struct sim {
	struct sim_options opt;
	struct sim_rng rng;
	char root[PATH_MAX];
	uint64_t now; /* step */
	struct sim_node nodes[SIM_NODES_MAX + 1]; /* 1-based */
	unsigned n;
	struct sim_net net;
	struct sim_req *reqs;
	size_t reqs_count;
	struct workload *wl;
	struct sim_check *check;
	struct faults *faults;
	bool healing; /* faults stopped: liveness phase */
	uint64_t committed; /* highest raft index applied anywhere (set at the end of sim_run) */
	uint64_t acked, proposed_batches, crashes, disk_errors, snapshots_installed, conf_changes;
	char violation[SIM_TEXT_MAX]; /* first violation; empty while none */
	char violation_check[64];
	bool liveness_failed;
	char liveness_text[SIM_TEXT_MAX];
};

/* rng-free helpers used across files */
void sim_trace(struct sim *sim, const char *format, ...) __attribute__((format(printf, 2, 3)));
void sim_violation(struct sim *sim, const char *check, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* network.c */
void net_init(struct sim_net *net);
void net_free(struct sim_net *net);
void net_send(struct sim *sim, uint64_t from, const struct raft_msg *msg, const uint8_t *snap, size_t snap_len);
void net_deliver_due(struct sim *sim);
void net_heal(struct sim_net *net);

/* cluster.c */
int cluster_init(struct sim *sim);
void cluster_free(struct sim *sim);
void cluster_crash(struct sim *sim, struct sim_node *node, uint64_t down_steps, const char *why);
void cluster_restart(struct sim *sim, struct sim_node *node);
void cluster_deliver(struct sim *sim, struct sim_node *to, const struct sim_msg *m);
int cluster_step(struct sim *sim);
struct sim_node *cluster_leader(struct sim *sim);
enum raft_role sim_node_role(const struct sim_node *node); /* lowest-id up node that believes it leads */
bool cluster_submit(struct sim *sim, uint32_t req);

/* workload.c */
int workload_init(struct sim *sim);
void workload_free(struct sim *sim);
void workload_step(struct sim *sim);
void workload_acked(struct sim *sim, uint32_t req, const struct ledger_result *result, uint64_t node);
void workload_lost(struct sim *sim, uint32_t req); /* a proposal carrying it was not committed */
uint32_t workload_probe(struct sim *sim);	   /* one fresh valid record, submitted */

/* faults.c */
int faults_init(struct sim *sim);
void faults_free(struct sim *sim);
void faults_step(struct sim *sim);
void faults_heal_all(struct sim *sim);
void faults_membership_step(struct sim *sim);

/* checker.c */
int check_init(struct sim *sim);
void check_free(struct sim *sim);
void check_persisted(struct sim *sim, struct sim_node *node, const struct raft_entry *e);
void check_applied(struct sim *sim, struct sim_node *node, const struct replica_applied *a);
void check_step(struct sim *sim);
void check_final(struct sim *sim); /* convergence: hashes, acknowledged records */
uint64_t check_committed_max(const struct sim *sim);

/* run.c: one run; *out_summary gets the counters and verdicts (no pointers) */
int sim_run(const struct sim_options *opt, struct sim *out_summary);

#endif
