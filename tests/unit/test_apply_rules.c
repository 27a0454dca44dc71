/* tests/unit/test_apply_rules.c — the lifecycle rules, table-driven (docs/lifecycle.md).
 *
 * Each scenario is a list of records applied one batch each to a fresh store, with the outcome
 * and offending item every step must produce. test_every_outcome_is_reached runs all of them
 * (and the envelope cases of apply_envelope_steps) and fails when any code of
 * LEDGER_OUTCOME_LIST was never produced: a new outcome code needs a row here.
 * test_apply_state.c checks the state behind the outcomes; test_apply.c the batch pipeline.
 */
#include "tests/unit/apply_fixture.h"

#define OK(...) { .rec = { __VA_ARGS__ }, .expect = OUTCOME_ACCEPTED }
#define NO(code, at_, ...) { .rec = { __VA_ARGS__ }, .expect = OUTCOME_##code, .at = (at_) }
#define COMMISSION .type = RECORD_COMMISSION
#define CONTAINERS .type = RECORD_COMMISSION_CONTAINER
#define AGGREGATE(p) .type = RECORD_AGGREGATE, .parent = (p)
#define DISAGGREGATE(p) .type = RECORD_DISAGGREGATE, .parent = (p)
#define SHIP(dest) .type = RECORD_SHIP, .to = (dest)
#define RECEIVE .type = RECORD_RECEIVE
#define DECOMMISSION(why) .type = RECORD_DECOMMISSION, .reason = DECOMMISSION_##why
#define REVERT .type = RECORD_REVERT
#define LOCK(sc, what, why) .type = RECORD_LOCK, .scope = LOCK_SCOPE_##sc, .target = (what), .reason = LOCK_##why
#define UNLOCK(sc, what, why) .type = RECORD_UNLOCK, .scope = LOCK_SCOPE_##sc, .target = (what), .reason = LOCK_##why
#define DEVIATION .type = RECORD_DEVIATION
#define CHECKPOINT(n) .type = RECORD_CHECKPOINT, .cp_size = (n)
#define REGISTRY(op, k) .type = RECORD_REGISTRY, .reg_op = REGISTRY_##op, .reg_key = (k) + 1

static const struct step commission_steps[] = {
	OK(COMMISSION, .items = "S1 S2 S3"),
	NO(DUPLICATE_COMMISSION, AT(1), COMMISSION, .items = "S4 S2"),
	NO(DUPLICATE_COMMISSION, AT(0), COMMISSION, .key = KEY_B, .items = "S1"), /* any site's */
	NO(DUPLICATE_COMMISSION, AT(2), COMMISSION, .items = "S5 S6 S5"),	 /* within the record */
	OK(COMMISSION, .items = "S4 S5 S6"), /* the refused records created nothing */
	OK(CONTAINERS, .items = C1),
	NO(DUPLICATE_COMMISSION, AT(0), CONTAINERS, .key = KEY_B, .items = C1),
	NO(DUPLICATE_COMMISSION, AT(1), CONTAINERS, .items = C2 " " C2),
	NO(INVALID_IDENTIFIER, 0, COMMISSION, .items = "S9", .patch = GTIN, .patch_to = "09506000134353"),
	NO(INVALID_IDENTIFIER, 0, CONTAINERS, .items = C3, .patch = "0000000033", .patch_to = "0000000034"),
	NO(MALFORMED_RECORD, 0, .raw = "not a record"),
	NO(MALFORMED_RECORD, 0, COMMISSION, .items = "S9", .patch = "jane.doe@qa", .patch_to = "jane.doe\x01qa"),
	OK(COMMISSION, .items = "S9"),
};

static const struct step aggregation_steps[] = {
	OK(COMMISSION, .items = "S1 S2 S3 S4 S5 S6"),
	OK(CONTAINERS, .items = C1 " " C2 " " C3),
	OK(COMMISSION, .key = KEY_B, .items = "B1"),
	OK(AGGREGATE(C1), .items = P("S1") " " P("S2")),
	NO(ALREADY_AGGREGATED, AT(0), AGGREGATE(C2), .items = P("S1")),
	NO(ALREADY_AGGREGATED, AT(1), AGGREGATE(C2), .items = P("S3") " " P("S3")),
	NO(UNKNOWN_ITEM, 0, AGGREGATE(C9), .items = P("S3")),
	NO(UNKNOWN_ITEM, AT(1), AGGREGATE(C2), .items = P("S3") " " P("S99")),
	NO(NOT_A_CONTAINER, 0, AGGREGATE(P("S3")), .items = P("S4")),
	NO(NOT_AT_SITE, 0, AGGREGATE(C2), .key = KEY_B, .items = P("B1")),
	NO(NOT_AT_SITE, AT(1), AGGREGATE(C2), .items = P("S3") " " P("B1")),
	OK(AGGREGATE(C2), .items = C1), /* case onto pallet */
	NO(AGGREGATION_CYCLE, AT(0), AGGREGATE(C1), .items = C2),
	NO(AGGREGATION_CYCLE, AT(0), AGGREGATE(C3), .items = C3),
	OK(DISAGGREGATE(C1), .items = P("S1")),
	NO(NOT_AGGREGATED, AT(0), DISAGGREGATE(C1), .items = P("S1")),
	NO(NOT_AGGREGATED, AT(1), DISAGGREGATE(C1), .items = P("S2") " " P("S2")),
	NO(NOT_AGGREGATED, AT(0), DISAGGREGATE(C1), .items = P("S3")),
	NO(UNKNOWN_ITEM, AT(0), DISAGGREGATE(C1), .items = P("S98")),
	NO(NOT_A_CONTAINER, 0, DISAGGREGATE(P("S1")), .items = P("S2")),
	NO(NOT_AT_SITE, 0, DISAGGREGATE(C1), .key = KEY_B, .items = P("S2")),
	OK(DISAGGREGATE(C2), .items = ""), /* none listed: all (C1 leaves the pallet) */
	OK(AGGREGATE(C3), .items = C1 " " P("S1")),
	OK(DECOMMISSION(DESTROYED), .items = C2),
	NO(DECOMMISSIONED, 0, AGGREGATE(C2), .items = P("S3")),
	NO(DECOMMISSIONED, AT(0), AGGREGATE(C3), .items = C2),
};

static const struct step transit_steps[] = {
	OK(COMMISSION, .items = "S1 S2 S3 S4"),
	OK(CONTAINERS, .items = C1),
	OK(AGGREGATE(C1), .items = P("S1") " " P("S2")),
	NO(AGGREGATED, AT(0), SHIP(SITE_B), .items = P("S1")),
	NO(UNKNOWN_SITE, 0, SHIP(SITE_X), .items = C1),
	NO(UNKNOWN_SITE, 0, SHIP(SITE_D), .items = C1),
	NO(SAME_SITE, 0, SHIP(SITE_A), .items = C1),
	NO(UNKNOWN_ITEM, AT(1), SHIP(SITE_B), .items = C1 " " P("S77")),
	NO(NOT_AT_SITE, AT(0), SHIP(SITE_C), .key = KEY_B, .items = P("S3")),
	OK(SHIP(SITE_B), .items = C1 " " P("S3")),
	NO(IN_TRANSIT, AT(0), SHIP(SITE_C), .items = P("S3")),
	NO(IN_TRANSIT, AT(1), SHIP(SITE_B), .items = P("S4") " " P("S4")),
	NO(IN_TRANSIT, 0, AGGREGATE(C1), .items = P("S4")),
	NO(IN_TRANSIT, AT(0), DECOMMISSION(DESTROYED), .items = P("S3")),
	NO(NOT_DESTINATION, AT(0), RECEIVE, .key = KEY_C, .items = C1),
	NO(AGGREGATED, AT(0), RECEIVE, .key = KEY_B, .items = P("S1")),
	NO(NOT_IN_TRANSIT, AT(0), RECEIVE, .key = KEY_B, .items = P("S4")),
	NO(NOT_IN_TRANSIT, AT(1), RECEIVE, .key = KEY_B, .items = C1 " " C1),
	NO(UNKNOWN_ITEM, AT(0), RECEIVE, .key = KEY_B, .items = P("S77")),
	OK(RECEIVE, .key = KEY_B, .items = C1 " " P("S3")),
	NO(NOT_IN_TRANSIT, AT(0), RECEIVE, .key = KEY_B, .items = C1),
	NO(NOT_AT_SITE, AT(0), SHIP(SITE_C), .items = C1), /* A no longer has it */
	OK(SHIP(SITE_C), .key = KEY_B, .items = C1),
	OK(RECEIVE, .key = KEY_C, .items = C1),
	OK(DECOMMISSION(DISPENSED), .key = KEY_C, .items = P("S1")),
	NO(DECOMMISSIONED, AT(0), SHIP(SITE_A), .key = KEY_C, .items = P("S1")),
};

static const struct step decommission_steps[] = {
	OK(COMMISSION, .items = "S1 S2 S3 S4 S5 S6"),
	OK(CONTAINERS, .items = C1 " " C2),
	OK(AGGREGATE(C1), .items = P("S1") " " P("S2")),
	NO(HAS_CHILDREN, AT(0), DECOMMISSION(DISPENSED), .items = C1),
	OK(DECOMMISSION(DISPENSED), .items = P("S1")), /* out of the opened case */
	NO(DECOMMISSIONED, AT(0), DECOMMISSION(DESTROYED), .items = P("S1")),
	NO(DECOMMISSIONED, AT(1), DECOMMISSION(DESTROYED), .items = P("S3") " " P("S3")),
	NO(DECOMMISSIONED, AT(1), DECOMMISSION(DAMAGED), .items = C1 " " P("S2")),
	NO(DECOMMISSIONED, AT(0), DECOMMISSION(DAMAGED), .items = P("S2") " " C1),
	NO(NOT_AT_SITE, AT(0), DECOMMISSION(DESTROYED), .key = KEY_B, .items = P("S3")),
	NO(UNKNOWN_ITEM, AT(0), DECOMMISSION(DESTROYED), .items = P("S99")),
	NO(NOT_DECOMMISSIONED, AT(0), REVERT, .items = P("S3")),
	NO(UNKNOWN_ITEM, AT(0), REVERT, .items = P("S99")),
	NO(NOT_AT_SITE, AT(0), REVERT, .key = KEY_B, .items = P("S1")),
	OK(REVERT, .items = P("S1")),
	NO(NOT_DECOMMISSIONED, AT(0), REVERT, .items = P("S1")),
	OK(DECOMMISSION(DESTROYED), .items = P("S4")),
	NO(IRREVERSIBLE_STATE, AT(0), REVERT, .items = P("S4")),
	OK(DECOMMISSION(STOLEN), .items = P("S5")),
	NO(IRREVERSIBLE_STATE, AT(0), REVERT, .items = P("S5")),
	OK(DECOMMISSION(EXPIRED), .items = P("S6")),
	NO(IRREVERSIBLE_STATE, AT(0), REVERT, .items = P("S6")),
	OK(DECOMMISSION(EXPORTED), .items = C1),			       /* with its pack S2 */
	NO(AGGREGATED, AT(0), REVERT, .items = P("S2")),		       /* revert the case */
	NO(NOT_DECOMMISSIONED, AT(1), REVERT, .items = C1 " " C1),
	OK(REVERT, .items = C1),
	OK(DECOMMISSION(DISPENSED), .items = C2), /* an empty container has no packs to hand out */
};

/* Cases identified by an SGTIN of their own GTIN (GTIN2) hold units of GTIN: they aggregate, travel
 * and are decommissioned like SSCC containers; a pack cannot hold a pack of its own GTIN. */
static const struct step sgtin_case_steps[] = {
	OK(COMMISSION, .items = "U1 U2 U3"),
	OK(COMMISSION, .gtin = GTIN2, .items = "K1"),
	NO(NOT_A_CONTAINER, 0, AGGREGATE(P("U1")), .items = P("U2")),
	NO(NOT_A_CONTAINER, 0, AGGREGATE(Q("K1")), .items = P("U3") " " Q("K1")),
	OK(AGGREGATE(Q("K1")), .items = P("U1") " " P("U2")),
	OK(CONTAINERS, .items = C1),
	OK(AGGREGATE(C1), .items = Q("K1")),
	OK(SHIP(SITE_B), .items = C1),
	NO(IN_TRANSIT, AT(0), DECOMMISSION(DESTROYED), .items = P("U2")),
	OK(RECEIVE, .key = KEY_B, .items = C1),
	OK(DECOMMISSION(DISPENSED), .key = KEY_B, .items = P("U1")), /* out of its opened case */
	NO(HAS_CHILDREN, AT(0), DECOMMISSION(DISPENSED), .key = KEY_B, .items = Q("K1")),
	OK(DECOMMISSION(DESTROYED), .key = KEY_B, .items = Q("K1")), /* with U2 inside */
	NO(DECOMMISSIONED, AT(0), DECOMMISSION(DESTROYED), .key = KEY_B, .items = P("U2")),
	OK(DISAGGREGATE(C1), .key = KEY_B),
};

static const struct step window_steps[] = {
	OK(COMMISSION, .items = "S1 S2"),
	OK(DECOMMISSION(SAMPLE), .items = P("S1")),
	{ .rec = { REVERT, .items = P("S1") }, .expect = OUTCOME_ACCEPTED, .advance_ms = APPLY_REVERT_WINDOW_MS },
	OK(DECOMMISSION(FREE_SAMPLE), .items = P("S1")),
	{ .rec = { REVERT, .items = P("S1") },
	  .expect = OUTCOME_REVERT_WINDOW_EXCEEDED,
	  .at = AT(0),
	  .advance_ms = APPLY_REVERT_WINDOW_MS + 1 },
	OK(DECOMMISSION(CHECKED_OUT), .items = P("S2")),
	{ .rec = { REVERT, .items = P("S2") }, .expect = OUTCOME_ACCEPTED, .advance_ms = 9 * DAY_MS },
};

static const struct step lock_steps[] = {
	OK(COMMISSION, .items = "S1 S2 S3"),
	OK(COMMISSION, .gtin = GTIN2, .lot = "L2", .items = "T1"),
	OK(CONTAINERS, .items = C1),
	OK(AGGREGATE(C1), .items = P("S1")),
	NO(UNKNOWN_ITEM, 0, LOCK(SERIAL, P("S99"), QUARANTINE)),
	NO(UNKNOWN_ITEM, 0, LOCK(LOT, LOT_KEY("L9"), RECALL)),
	OK(LOCK(SERIAL, P("S1"), QUARANTINE), .key = KEY_B), /* any site may lock */
	NO(ALREADY_LOCKED, 0, LOCK(SERIAL, P("S1"), QUARANTINE)),
	NO(LOCKED, AT(0), SHIP(SITE_B), .items = C1), /* a pack inside is locked */
	NO(LOCKED, AT(0), DECOMMISSION(DISPENSED), .items = P("S1")),
	NO(NOT_LOCKED, 0, UNLOCK(SERIAL, P("S2"), QUARANTINE)),
	NO(NOT_LOCKED, 0, UNLOCK(LOT, LOT_KEY("L1"), QUARANTINE)),
	NO(IRREVERSIBLE_STATE, 0, UNLOCK(SERIAL, P("S1"), RECALL)),
	OK(UNLOCK(SERIAL, P("S1"), QUARANTINE)),
	OK(SHIP(SITE_B), .items = C1),
	OK(LOCK(SERIAL, C1, QUARANTINE)), /* the case, in transit */
	NO(LOCKED, AT(0), RECEIVE, .key = KEY_B, .items = C1),
	OK(UNLOCK(SERIAL, C1, QUARANTINE), .key = KEY_C),
	OK(RECEIVE, .key = KEY_B, .items = C1),
	OK(LOCK(LOT, LOT_KEY("L1"), QUARANTINE)),
	OK(LOCK(LOT, LOT_KEY("L1"), RECALL)), /* both in force */
	OK(UNLOCK(LOT, LOT_KEY("L1"), QUARANTINE)),
	NO(IRREVERSIBLE_STATE, 0, UNLOCK(LOT, LOT_KEY("L1"), RECALL)),
	NO(LOCKED, 0, COMMISSION, .items = "S7"),	     /* recalled lot */
	OK(COMMISSION, .lot = "L3", .items = "S8"),	     /* another lot */
	NO(LOCKED, AT(0), DECOMMISSION(DISPENSED), .items = P("S2")),
	NO(LOCKED, AT(0), DECOMMISSION(EXPORTED), .items = P("S2")),
	OK(DECOMMISSION(DAMAGED), .items = P("S3")), /* containment may take stock out */
	NO(IRREVERSIBLE_STATE, AT(0), REVERT, .items = P("S3")),
	OK(DECOMMISSION(DESTROYED), .items = P("S2")),
	OK(LOCK(GTIN, GTIN_KEY, WITHDRAWAL), .key = KEY_C),
	NO(ALREADY_LOCKED, 0, LOCK(GTIN, GTIN_KEY, WITHDRAWAL)),
	NO(LOCKED, 0, COMMISSION, .lot = "L4", .items = "S9"),
	NO(LOCKED, AT(0), SHIP(SITE_B), .items = P("S8")),
	OK(SHIP(SITE_B), .items = Q("T1")), /* another GTIN */
	OK(LOCK(GTIN, "(01)" GTIN2, QUARANTINE)),
	OK(COMMISSION, .gtin = GTIN2, .lot = "L2", .items = "T2"), /* quarantine does not stop a line */
	NO(LOCKED, AT(0), RECEIVE, .key = KEY_B, .items = Q("T1")),
};

/* Containment: recalled stock cannot go on, but can go back to the site that commissioned it. */
static const struct step recall_return_steps[] = {
	OK(COMMISSION, .items = "S1 S2"),
	OK(CONTAINERS, .items = C1, .key = KEY_B),
	OK(SHIP(SITE_B), .items = P("S1") " " P("S2")),
	OK(RECEIVE, .key = KEY_B, .items = P("S1") " " P("S2")),
	OK(AGGREGATE(C1), .key = KEY_B, .items = P("S2")),
	OK(LOCK(LOT, LOT_KEY("L1"), RECALL), .key = KEY_C),
	NO(LOCKED, AT(0), SHIP(SITE_C), .key = KEY_B, .items = P("S1")), /* onwards: refused */
	NO(LOCKED, AT(0), SHIP(SITE_A), .key = KEY_B, .items = C1), /* the case was commissioned at B */
	OK(SHIP(SITE_A), .key = KEY_B, .items = P("S1")),		 /* back to its maker */
	OK(RECEIVE, .items = P("S1")),					 /* into quarantine there */
	NO(LOCKED, AT(0), DECOMMISSION(DISPENSED), .items = P("S1")),	 /* still recalled */
	NO(LOCKED, AT(0), SHIP(SITE_B), .items = P("S1")),
	OK(DECOMMISSION(DESTROYED), .items = P("S1")),
	OK(DISAGGREGATE(C1), .key = KEY_B, .items = P("S2")),
	OK(SHIP(SITE_A), .key = KEY_B, .items = P("S2")),
	OK(RECEIVE, .items = P("S2")),
};

static const struct step quarantine_revert_steps[] = {
	OK(COMMISSION, .items = "S1"),
	OK(DECOMMISSION(DISPENSED), .items = P("S1")),
	OK(LOCK(SERIAL, P("S1"), QUARANTINE)),
	OK(REVERT, .items = P("S1")), /* back to stock, still quarantined */
	NO(LOCKED, AT(0), SHIP(SITE_B), .items = P("S1")),
};

static const struct step deviation_steps[] = {
	OK(COMMISSION, .items = "S1"),
	NO(DUPLICATE_COMMISSION, AT(0), COMMISSION, .items = "S1"),
	OK(DEVIATION, .ref_step = 2), /* a deviation may cite a refused record */
	NO(UNKNOWN_RECORD, AT(0), DEVIATION, .ref_step = -1),
	OK(COMMISSION, .items = "S2", .supersedes_step = 1),
	NO(UNKNOWN_RECORD, 0, COMMISSION, .items = "S3", .supersedes_step = -1),
	OK(DEVIATION, .key = KEY_B, .ref_step = 6),
};

static const struct step limit_steps[] = {
	OK(CONTAINERS, .items = CONTAINERS_ALL),
	OK(COMMISSION, .items = "S1"),
	OK(AGGREGATE(C2), .items = C1),
	OK(AGGREGATE(C3), .items = C2),
	OK(AGGREGATE(C4), .items = C3),
	OK(AGGREGATE(C5), .items = C4),
	OK(AGGREGATE(C6), .items = C5),
	OK(AGGREGATE(C7), .items = C6),
	OK(AGGREGATE(C8), .items = C7), /* 8 levels: C8 > C7 > ... > C1 */
	NO(LIMIT_EXCEEDED, AT(0), AGGREGATE(C9), .items = C8),
	NO(LIMIT_EXCEEDED, AT(0), AGGREGATE(C1), .items = P("S1")),
	OK(DISAGGREGATE(C2), .items = C1),
	OK(AGGREGATE(C1), .items = P("S1")),
	NO(LIMIT_EXCEEDED, AT(0), AGGREGATE(C2), .items = C1),
	OK(SHIP(SITE_B), .items = C8),
	OK(RECEIVE, .key = KEY_B, .items = C8),
	OK(DECOMMISSION(DESTROYED), .key = KEY_B, .items = C8),
};

/* Checkpoints (docs/lifecycle.md "Checkpoints"): the root must be the ledger's own at that size. */
static const struct step checkpoint_steps[] = {
	OK(COMMISSION, .items = "S1 S2"),
	OK(CHECKPOINT(1)),
	OK(CHECKPOINT(2), .key = KEY_B),			  /* every site signs; it covers A's checkpoint */
	OK(CHECKPOINT(FIXTURE_CP_LEDGER), .key = KEY_C),	  /* the whole ledger before it */
	NO(CHECKPOINT_ROOT_MISMATCH, 0, CHECKPOINT(2), .cp_wrong_root = true), /* size 2 has another root */
	NO(CHECKPOINT_ROOT_MISMATCH, 0, CHECKPOINT(1), .key = KEY_B, .cp_wrong_root = true),
	NO(CHECKPOINT_BEYOND_LEDGER, 0, CHECKPOINT(7)),	  /* itself would be entry 7 */
	NO(CHECKPOINT_BEYOND_LEDGER, 0, CHECKPOINT(1000)),
	NO(CHECKPOINT_BAD_NOTE_SIGNATURE, 0, CHECKPOINT(1), .cp_bad_note = true),
	NO(CHECKPOINT_BAD_NOTE_SIGNATURE, 0, CHECKPOINT(1), .cp_note_key = KEY_B + 1), /* B's note, A's record */
	NO(CHECKPOINT_BAD_NOTE_SIGNATURE, 0, CHECKPOINT(1), .cp_wrong_root = true, .cp_bad_note = true),
	NO(DUPLICATE_RECORD, 0, .repeat_step = 2),		  /* the same record again */
	OK(CHECKPOINT(1)),					  /* signed again (new nonce): a new record */
	NO(BAD_SIGNATURE, 0, CHECKPOINT(1), .bad_signature = true),
	NO(SITE_MISMATCH, 0, CHECKPOINT(1), .key = KEY_A, .site = SITE_B),
	OK(COMMISSION, .items = "S3"),			  /* refused checkpoints changed nothing */
	OK(CHECKPOINT(FIXTURE_CP_LEDGER), .key = KEY_B),
};

/* Registry records (docs/lifecycle.md "Registry"): A, B, C registered; a strict majority of the
 * registered sites must sign, each site counted once, whatever the number of its keys. */
static const struct step registry_steps[] = {
	NO(REGISTRY_NO_MAJORITY, 0, REGISTRY(KEY_ADD, KEY_A2)),			 /* 1 of 3 */
	OK(REGISTRY(KEY_ADD, KEY_A2), .cosign = COSIGN(KEY_B)),			 /* 2 of 3 */
	OK(COMMISSION, .key = KEY_A2, .items = "S1"),				 /* A's new key signs */
	NO(REGISTRY_NO_MAJORITY, 0, REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_A2)), /* A twice */
	NO(BAD_COSIGNATURE, AT(0), REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_STRANGER)),
	NO(BAD_COSIGNATURE, AT(0), REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_REVOKED)),
	NO(BAD_COSIGNATURE, AT(0), REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_D)), /* site not registered */
	NO(BAD_COSIGNATURE, AT(0), REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_B), .bad_cosign = true),
	NO(BAD_SIGNATURE, 0, REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_B), .bad_signature = true),
	OK(REGISTRY(SITE_ADD, KEY_E), .cosign = COSIGN(KEY_B)),			 /* now 4 sites */
	OK(COMMISSION, .key = KEY_E, .items = "E1"),				 /* site-e writes */
	NO(REGISTRY_NO_MAJORITY, 0, REGISTRY(KEY_ADD, KEY_F), .reg_site = SITE_E, .cosign = COSIGN(KEY_B)),
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(SITE_ADD, KEY_F), .reg_site = SITE_E, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(SITE_ADD, KEY_B), .reg_site = SITE_F, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(SITE_ADD, KEY_F), .reg_node = 4, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(KEY_ADD, KEY_A2), .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(UNKNOWN_SITE, 0, REGISTRY(KEY_ADD, KEY_F), .reg_site = SITE_X, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(UNKNOWN_KEY, 0, REGISTRY(KEY_REVOKE, KEY_F), .reg_site = SITE_A, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(SITE_MISMATCH, 0, REGISTRY(KEY_REVOKE, KEY_B), .reg_site = SITE_A, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	OK(REGISTRY(KEY_REVOKE, KEY_A2), .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(UNKNOWN_KEY, 0, COMMISSION, .key = KEY_A2, .items = "S2"),		 /* revoked: refused from now on */
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(KEY_REVOKE, KEY_A2), .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(REGISTRY_LAST, 0, REGISTRY(KEY_REVOKE, KEY_E), .cosign = COSIGN(KEY_B) | COSIGN(KEY_E)),
	OK(REGISTRY(SITE_REMOVE, KEY_E), .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(UNKNOWN_SITE, 0, COMMISSION, .key = KEY_E, .items = "E2"),		 /* removed */
	NO(BAD_COSIGNATURE, AT(0), REGISTRY(SITE_ADD, KEY_F), .cosign = COSIGN(KEY_E)), /* removed site's key */
	NO(UNKNOWN_SITE, 0, REGISTRY(SITE_REMOVE, KEY_E), .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	NO(REGISTRY_DUPLICATE, 0, REGISTRY(SITE_ADD, KEY_F), .reg_site = SITE_E, .cosign = COSIGN(KEY_B) | COSIGN(KEY_C)),
	OK(REGISTRY(SITE_REMOVE, KEY_C), .cosign = COSIGN(KEY_B)),		 /* 2 of 3 */
	OK(REGISTRY(SITE_REMOVE, KEY_B), .cosign = COSIGN(KEY_B)),		 /* 2 of 2 */
	NO(REGISTRY_LAST, 0, REGISTRY(SITE_REMOVE, KEY_A)),			 /* 1 of 1, but the last */
	NO(REGISTRY_LAST, 0, REGISTRY(KEY_REVOKE, KEY_A)),			 /* A's last key in force */
	OK(COMMISSION, .items = "S3"),
};

/* Envelope checks (also exercised by test_apply.c). */
static const struct step envelope_steps[] = {
	OK(COMMISSION, .items = "S1"),
	NO(UNKNOWN_KEY, 0, COMMISSION, .key = KEY_STRANGER, .items = "S2"),
	NO(UNKNOWN_KEY, 0, COMMISSION, .key = KEY_REVOKED, .items = "S2"),
	NO(SITE_MISMATCH, 0, COMMISSION, .key = KEY_A, .site = SITE_B, .items = "S2"),
	NO(UNKNOWN_SITE, 0, COMMISSION, .key = KEY_D, .items = "S2"),
	NO(BAD_SIGNATURE, 0, COMMISSION, .items = "S2", .bad_signature = true),
	NO(DUPLICATE_RECORD, 0, .repeat_step = 1),
	NO(DUPLICATE_RECORD, 0, .repeat_step = 1),
	OK(COMMISSION, .items = "S2"), /* nothing above created it */
	NO(DUPLICATE_COMMISSION, AT(0), COMMISSION, .items = "S2"),
	NO(DUPLICATE_RECORD, 0, .repeat_step = 10), /* a refused record cannot be retried as is */
	NO(BAD_SIGNATURE, 0, COMMISSION, .items = "S3", .bad_signature = true),
};

static const struct scenario scenarios[] = {
	SCENARIO("commission", commission_steps),
	SCENARIO("aggregation", aggregation_steps),
	SCENARIO("transit", transit_steps),
	SCENARIO("decommission", decommission_steps),
	SCENARIO("sgtin_case", sgtin_case_steps),
	SCENARIO("window", window_steps),
	SCENARIO("locks", lock_steps),
	SCENARIO("recall_return", recall_return_steps),
	SCENARIO("quarantine_revert", quarantine_revert_steps),
	SCENARIO("deviation", deviation_steps),
	SCENARIO("limits", limit_steps),
	SCENARIO("envelope", envelope_steps),
	SCENARIO("checkpoint", checkpoint_steps),
	SCENARIO("registry", registry_steps),
};
#define SCENARIO_COUNT (sizeof scenarios / sizeof scenarios[0])

static void run_named(const char *name)
{
	for (size_t i = 0; i < SCENARIO_COUNT; i++)
		if (strcmp(scenarios[i].name, name) == 0)
			scenario_run(&scenarios[i], NULL);
}

static void test_commission(void)
{
	run_named("commission");
}
static void test_aggregation(void)
{
	run_named("aggregation");
}
static void test_transit(void)
{
	run_named("transit");
}
static void test_decommission_and_revert(void)
{
	run_named("decommission");
}
static void test_sgtin_cases(void)
{
	run_named("sgtin_case");
}
static void test_revert_window(void)
{
	run_named("window");
}
static void test_locks(void)
{
	run_named("locks");
}
static void test_recall_return(void)
{
	run_named("recall_return");
}
static void test_quarantine_revert(void)
{
	run_named("quarantine_revert");
}
static void test_deviation_and_supersedes(void)
{
	run_named("deviation");
}
static void test_limits(void)
{
	run_named("limits");
}
static void test_envelope(void)
{
	run_named("envelope");
}
static void test_checkpoints(void)
{
	run_named("checkpoint");
}
static void test_registry(void)
{
	run_named("registry");
}

/* Every outcome code must be produced by some row of the tables above. */
static void test_every_outcome_is_reached(void)
{
	memset(apply_outcomes_seen, 0, sizeof apply_outcomes_seen);
	for (size_t i = 0; i < SCENARIO_COUNT; i++)
		scenario_run(&scenarios[i], NULL);
	/* the tables must also expect each code (not merely produce it by accident) */
	bool expected[64] = { false };
	for (size_t i = 0; i < SCENARIO_COUNT; i++)
		for (size_t s = 0; s < scenarios[i].count; s++)
			expected[scenarios[i].steps[s].expect] = true;
#define OUTCOME_REACHED(name, value, description)                                                        \
	if (!apply_outcomes_seen[value] || !expected[value])                                           \
		test_fail(__FILE__, __LINE__, "outcome " #name " is not reached by the rule tables");
	LEDGER_OUTCOME_LIST(OUTCOME_REACHED)
#undef OUTCOME_REACHED
}

static const struct test_case cases[] = {
	TEST_CASE(test_commission),
	TEST_CASE(test_aggregation),
	TEST_CASE(test_transit),
	TEST_CASE(test_decommission_and_revert),
	TEST_CASE(test_sgtin_cases),
	TEST_CASE(test_revert_window),
	TEST_CASE(test_locks),
	TEST_CASE(test_recall_return),
	TEST_CASE(test_quarantine_revert),
	TEST_CASE(test_deviation_and_supersedes),
	TEST_CASE(test_limits),
	TEST_CASE(test_envelope),
	TEST_CASE(test_checkpoints),
	TEST_CASE(test_registry),
	TEST_CASE(test_every_outcome_is_reached),
};

TEST_MAIN(cases)
