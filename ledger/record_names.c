/* ledger/record_names.c — names of record enums for printing and parsing (see record.h).
 *
 * Names are part of the CLI and JSON interfaces: never rename, only add. Lookups by name are exact
 * (case-sensitive), so one spelling maps to one value.
 */
#include "ledger/record.h"

#include <string.h>

#include "ledger/record_internal.h"

#define NAME_TABLE_SIZE(table) (sizeof(table) / sizeof((table)[0]))

/* Index = enum value; index 0 is unused (every enum here starts at 1). */
static const char *const type_names[] = {
	NULL,	       "commission", "commission-container", "aggregate", "disaggregate", "ship",
	"receive",     "decommission", "revert",	      "lock",	   "unlock",	   "deviation",
	"checkpoint",  "registry",
};
static const char *const registry_op_names[] = { NULL, "site-add", "site-remove", "key-add", "key-revoke" };
static const char *const registry_role_names[] = { NULL, "voter", "learner" };
static const char *const meaning_names[] = { NULL, "authored", "reviewed", "approved" };
static const char *const decommission_names[] = {
	NULL,	  "dispensed", "destroyed", "sample",  "free_sample",
	"exported", "stolen",	 "expired",   "damaged", "checked_out",
};
static const char *const scope_names[] = { NULL, "serial", "lot", "gtin" };
static const char *const lock_reason_names[] = { NULL, "quarantine", "recall", "withdrawal" };
static const char *const category_names[] = {
	NULL,	   "product_no_data", "data_no_product", "packaging_labelling",
	"damaged", "unavailable_for_distribution", "other",
};

_Static_assert(NAME_TABLE_SIZE(type_names) == RECORD_TYPE_MAX + 1, "a name per record type");
_Static_assert(NAME_TABLE_SIZE(meaning_names) == MEANING_APPROVED + 1, "a name per meaning");
_Static_assert(NAME_TABLE_SIZE(decommission_names) == DECOMMISSION_REASON_MAX + 1, "a name per reason");
_Static_assert(NAME_TABLE_SIZE(scope_names) == LOCK_SCOPE_GTIN + 1, "a name per lock scope");
_Static_assert(NAME_TABLE_SIZE(lock_reason_names) == LOCK_WITHDRAWAL + 1, "a name per lock reason");
_Static_assert(NAME_TABLE_SIZE(category_names) == DEVIATION_CATEGORY_MAX + 1, "a name per category");
_Static_assert(NAME_TABLE_SIZE(registry_op_names) == REGISTRY_OP_MAX + 1, "a name per registry operation");
_Static_assert(NAME_TABLE_SIZE(registry_role_names) == REGISTRY_ROLE_MAX + 1, "a name per registry role");

static const char *name_of(const char *const *table, size_t size, int value)
{
	return value >= 1 && (size_t)value < size ? table[value] : NULL;
}

static int value_of(const char *const *table, size_t size, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 1; i < size; i++) {
		if (strcmp(table[i], name) == 0)
			return (int)i;
	}
	return -1;
}

#define NAME_FUNCTIONS(prefix, table)                                           \
	const char *prefix##_name(int value)                                    \
	{                                                                       \
		return name_of((table), NAME_TABLE_SIZE(table), value);         \
	}                                                                       \
	int prefix##_from_name(const char *name)                                \
	{                                                                       \
		return value_of((table), NAME_TABLE_SIZE(table), name);         \
	}

NAME_FUNCTIONS(record_type, type_names)
NAME_FUNCTIONS(record_meaning, meaning_names)
NAME_FUNCTIONS(decommission_reason, decommission_names)
NAME_FUNCTIONS(lock_scope, scope_names)
NAME_FUNCTIONS(lock_reason, lock_reason_names)
NAME_FUNCTIONS(deviation_category, category_names)
NAME_FUNCTIONS(registry_op, registry_op_names)
NAME_FUNCTIONS(registry_role, registry_role_names)

static const char *const key_names[RECORD_KEY_COUNT] = {
	"version", "type",  "site",	  "key_id",	"actor", "meaning",
	"event_time_ms", "nonce", "reason", "supersedes", "body", "signature",
};

const char *record_key_name(unsigned key)
{
	return key < RECORD_KEY_COUNT ? key_names[key] : "?";
}

static const char *const field_names[] = {
	[RECORD_FIELD_NONE] = "?",
	[RECORD_FIELD_GTIN] = "gtin",
	[RECORD_FIELD_LOT] = "lot",
	[RECORD_FIELD_EXPIRY] = "expiry",
	[RECORD_FIELD_SERIALS] = "serials",
	[RECORD_FIELD_ITEMS] = "items",
	[RECORD_FIELD_PARENT] = "parent",
	[RECORD_FIELD_TO] = "to",
	[RECORD_FIELD_DECOMMISSION_REASON] = "reason",
	[RECORD_FIELD_SCOPE] = "scope",
	[RECORD_FIELD_TARGET] = "target",
	[RECORD_FIELD_LOCK_REASON] = "reason",
	[RECORD_FIELD_CATEGORY] = "category",
	[RECORD_FIELD_REFS] = "refs",
	[RECORD_FIELD_TEXT] = "text",
	[RECORD_FIELD_ORIGIN] = "origin",
	[RECORD_FIELD_SIZE] = "size",
	[RECORD_FIELD_ROOT] = "root",
	[RECORD_FIELD_NOTE_SIGNATURE] = "signature",
	[RECORD_FIELD_OPERATION] = "operation",
	[RECORD_FIELD_SUBJECT_SITE] = "site",
	[RECORD_FIELD_PUBLIC_KEY] = "public_key",
	[RECORD_FIELD_NODE_ID] = "node_id",
	[RECORD_FIELD_PEER_ADDR] = "peer",
	[RECORD_FIELD_CLIENT_ADDR] = "client",
	[RECORD_FIELD_ROLE] = "role",
	[RECORD_FIELD_COSIGNATURES] = "cosignatures",
};
_Static_assert(NAME_TABLE_SIZE(field_names) == RECORD_FIELD_COSIGNATURES + 1, "a name per body field");

const char *record_field_name(enum record_field field)
{
	return (size_t)field < NAME_TABLE_SIZE(field_names) ? field_names[field] : "?";
}
