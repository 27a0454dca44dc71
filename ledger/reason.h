/* ledger/reason.h — outcome codes of applying a record (persisted in every ledger entry).
 *
 * Rules:
 *  1. Values are part of the ledger format: never renumber, only append.
 *  2. OUTCOME_ACCEPTED (0) is the only success; every other code is a rejection that is still
 *     appended to the ledger so the audit trail shows what was refused and why.
 *  3. Descriptions are for operators and auditors; docs/lifecycle.md lists when each one applies.
 */
#ifndef SL_LEDGER_REASON_H
#define SL_LEDGER_REASON_H

/* X(name, value, description) */
#define LEDGER_OUTCOME_LIST(X)                                                                   \
	X(ACCEPTED, 0, "accepted")                                                               \
	X(DUPLICATE_COMMISSION, 1, "identifier already commissioned in this ledger")             \
	X(UNKNOWN_ITEM, 2, "identifier was never commissioned")                                  \
	X(NOT_AT_SITE, 3, "item is not at the record's site")                                    \
	X(ALREADY_AGGREGATED, 4, "child already has a parent")                                   \
	X(AGGREGATION_CYCLE, 5, "aggregation would make a container contain itself")             \
	X(LOCKED, 6, "item, lot or GTIN is locked")                                              \
	X(DECOMMISSIONED, 7, "item is decommissioned")                                           \
	X(REVERT_WINDOW_EXCEEDED, 8, "revert later than 10 days after the decommission")         \
	X(IRREVERSIBLE_STATE, 9, "state cannot be reverted or unlocked")                         \
	X(NOT_DESTINATION, 10, "item is not in transit to the record's site")                    \
	X(BAD_SIGNATURE, 11, "signature does not verify")                                        \
	X(UNKNOWN_KEY, 12, "signing key is not registered, or was revoked")                      \
	X(SITE_MISMATCH, 13, "key or item belongs to another site")                              \
	X(INVALID_IDENTIFIER, 14, "identifier is malformed")                                     \
	X(DUPLICATE_RECORD, 15, "record id already in the ledger")                               \
	X(MALFORMED_RECORD, 16, "record does not decode")                                        \
	X(IN_TRANSIT, 17, "item is in transit")                                                  \
	X(NOT_IN_TRANSIT, 18, "item is not in transit")                                          \
	X(NOT_AGGREGATED, 19, "child is not inside that parent")                                 \
	X(HAS_CHILDREN, 20, "container still has children")                                     \
	X(NOT_A_CONTAINER, 21, "parent is not a container")                                      \
	X(NOT_DECOMMISSIONED, 22, "item is not decommissioned")                                  \
	X(NOT_LOCKED, 23, "no such lock to lift")                                                \
	X(ALREADY_LOCKED, 24, "lock already in place")                                           \
	X(UNKNOWN_SITE, 25, "site is not registered")                                            \
	X(UNKNOWN_RECORD, 26, "referenced record is not in the ledger")                          \
	X(AGGREGATED, 27, "item is inside a container; act on the container or disaggregate")    \
	X(LIMIT_EXCEEDED, 28, "hierarchy deeper or larger than the documented maximum")          \
	X(SAME_SITE, 29, "shipment destination is the sending site")                            \
	X(CHECKPOINT_BEYOND_LEDGER, 30, "checkpoint size is beyond the ledger")                  \
	X(CHECKPOINT_ROOT_MISMATCH, 31, "checkpoint root differs from the ledger's root at that size") \
	X(CHECKPOINT_BAD_NOTE_SIGNATURE, 32, "checkpoint's signed-note signature does not verify") \
	X(REGISTRY_NO_MAJORITY, 33, "registry change not signed by a strict majority of sites")  \
	X(BAD_COSIGNATURE, 34, "cosignature by an unknown, revoked or removed key, or does not verify") \
	X(REGISTRY_DUPLICATE, 35, "site, key or node id already registered, or key already revoked") \
	X(REGISTRY_LAST, 36, "would remove the last site or revoke a site's last key")

enum ledger_outcome {
#define LEDGER_OUTCOME_ENUM(name, value, description) OUTCOME_##name = (value),
	LEDGER_OUTCOME_LIST(LEDGER_OUTCOME_ENUM)
#undef LEDGER_OUTCOME_ENUM
};

/* Outcome codes are 0, 1, 2, ... without gaps: arrays indexed by outcome have this many slots. */
#define LEDGER_OUTCOME_ONE(name, value, description) +1
enum { LEDGER_OUTCOME_COUNT = 0 LEDGER_OUTCOME_LIST(LEDGER_OUTCOME_ONE) };
#undef LEDGER_OUTCOME_ONE

/* "DUPLICATE_COMMISSION"; NULL for a value not in the table. */
const char *ledger_outcome_name(int outcome);
const char *ledger_outcome_description(int outcome);
/* Look up by name; -1 when unknown. */
int ledger_outcome_from_name(const char *name);

#endif
