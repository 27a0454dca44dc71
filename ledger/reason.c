/* ledger/reason.c — outcome code table (see reason.h). */
#include "ledger/reason.h"

#include <string.h>

const char *ledger_outcome_name(int outcome)
{
	switch (outcome) {
#define LEDGER_OUTCOME_NAME(name, value, description) \
	case value:                                   \
		return #name;
		LEDGER_OUTCOME_LIST(LEDGER_OUTCOME_NAME)
#undef LEDGER_OUTCOME_NAME
	default:
		return NULL;
	}
}

const char *ledger_outcome_description(int outcome)
{
	switch (outcome) {
#define LEDGER_OUTCOME_DESCRIPTION(name, value, description) \
	case value:                                          \
		return description;
		LEDGER_OUTCOME_LIST(LEDGER_OUTCOME_DESCRIPTION)
#undef LEDGER_OUTCOME_DESCRIPTION
	default:
		return NULL;
	}
}

int ledger_outcome_from_name(const char *name)
{
#define LEDGER_OUTCOME_MATCH(outcome_name, value, description) \
	if (strcmp(name, #outcome_name) == 0)                  \
		return value;
	LEDGER_OUTCOME_LIST(LEDGER_OUTCOME_MATCH)
#undef LEDGER_OUTCOME_MATCH
	return -1;
}
