/* epcis/validate.c — the checks that make a capture document acceptable before any event is
 * mapped: the parts of the EPCIS 2.0 JSON Schema and XSD (EPCIS 2.0 §7–§9) and of the CBV 2.0
 * vocabularies (CBV 2.0 §7) that the tree can express. The first failure is reported, naming the
 * event (1-based index and eventID) and the field.
 */
#include <stdio.h>
#include <string.h>

#include "epcis/epcis_internal.h"
#include "epcis/map.h"

/* CBV 2.0 §7.1 business steps. */
static const char *const cbv_biz_steps[] = {
	"accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
	"creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
	"disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting", "installing",
	"killing", "loading", "other", "packing", "picking", "receiving", "removing", "repackaging", "repairing",
	"replacing", "reserving", "retail_selling", "sampling", "sensor_reporting", "shipping", "staging_outbound",
	"stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking", "void_shipping", NULL,
};
/* CBV 2.0 §7.2 dispositions. */
static const char *const cbv_dispositions[] = {
	"active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
	"container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
	"in_transit", "inactive", "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement",
	"no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
	"retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable",
	"unknown", NULL,
};
/* CBV 2.0 §7.3 business transaction types, §7.4 source/destination types, §7.5 error reasons. */
static const char *const cbv_btts[] = { "bol",	   "cert",  "desadv",	"inv",	  "pedigree", "po", "poc",
					"prodorder", "recadv", "rma", "testprd", "testres", "upevt", NULL };
static const char *const cbv_sdts[] = { "owning_party", "possessing_party", "location", NULL };
static const char *const cbv_ers[] = { "did_not_occur", "incorrect_data", NULL };

struct validator {
	const epcis_doc *doc;
	size_t index;
	const char *event_id;
	struct sl_error_detail *detail;
};

static int fail(const struct validator *v, const char *field, const char *what, const char *value)
{
	return sl_error_set(v->detail, SL_EVALUE, "event %zu%s%s%s: field '%s': %s%s%.80s%s", v->index + 1,
			    v->event_id ? " (eventID " : "", v->event_id ? v->event_id : "", v->event_id ? ")" : "",
			    field, what, value ? " '" : "", value ? value : "", value ? "'" : "");
}

static bool in_list(const char *const *list, const char *word)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, word) == 0)
			return true;
	return false;
}

/* A CBV value: a standard word in any of its forms, or a URI of one's own vocabulary. */
static int check_vocab(const struct validator *v, const char *field, const char *kind, const char *const *words,
		       const char *text)
{
	if (text == NULL)
		return fail(v, field, "empty", NULL);
	char full[1024];
	if (epcis_vocab_normalise(v->doc, kind, text, full, sizeof full) != 0)
		return fail(v, field, "too long", NULL);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "https://ref.gs1.org/cbv/%s-", kind);
	if (strncmp(full, prefix, strlen(prefix)) == 0)
		return in_list(words, full + strlen(prefix)) ? 0 : fail(v, field, "not a CBV 2.0 value:", text);
	if (strchr(full, ':') == NULL)
		return fail(v, field, "neither a CBV 2.0 value nor a URI:", text);
	return 0;
}

static int check_time_offset(const struct validator *v, const char *text)
{
	if (text == NULL)
		return fail(v, "eventTimeZoneOffset", "missing", NULL);
	bool ok = strlen(text) == 6 && (text[0] == '+' || text[0] == '-') && text[3] == ':' &&
		  strspn(text + 1, "0123456789") == 2 && strspn(text + 4, "0123456789") == 2;
	return ok ? 0 : fail(v, "eventTimeZoneOffset", "expected +HH:MM, got", text);
}

static int check_quantities(const struct validator *v, const struct epcis_node *list, const char *field)
{
	for (size_t i = 0; list != NULL && i < list->child_count; i++) {
		const struct epcis_node *element = list->children[i];
		for (size_t j = 0; j < element->child_count; j++) {
			const struct epcis_node *f = element->children[j];
			if (strcmp(f->name, "epcClass") != 0 && strcmp(f->name, "quantity") != 0 &&
			    strcmp(f->name, "uom") != 0)
				return fail(v, field, "unknown field in a quantity element:", f->name);
		}
		if (epcis_node_text(element, "epcClass") == NULL)
			return fail(v, field, "quantity element without epcClass", NULL);
		const char *quantity = epcis_node_text(element, "quantity");
		if (quantity != NULL && (quantity[0] == '\0' || strspn(quantity, "0123456789.eE+-") != strlen(quantity)))
			return fail(v, field, "quantity is not a number:", quantity);
	}
	return 0;
}

static int check_typed_list(const struct validator *v, const struct epcis_node *event, const char *list_name,
			    const char *kind, const char *const *words)
{
	const struct epcis_node *list = epcis_node_child(event, list_name);
	for (size_t i = 0; list != NULL && i < list->child_count; i++) {
		const char *type = epcis_node_text(list->children[i], "type");
		if (list->children[i]->text == NULL)
			return fail(v, list_name, "member without a value", NULL);
		int rc = type != NULL ? check_vocab(v, list_name, kind, words, type) : 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_fields(const struct validator *v, const struct epcis_node *event)
{
	for (size_t i = 0; i < event->child_count; i++) {
		const struct epcis_node *field = event->children[i];
		int rc = 0;
		if (strcmp(field->name, "bizStep") == 0)
			rc = check_vocab(v, "bizStep", "BizStep", cbv_biz_steps, field->text);
		else if (strcmp(field->name, "disposition") == 0)
			rc = check_vocab(v, "disposition", "Disp", cbv_dispositions, field->text);
		else if (strcmp(field->name, "certificationInfo") == 0 && (field->text == NULL || field->child_count > 0))
			rc = fail(v, "certificationInfo", "must be a URI string", NULL);
		else if (strcmp(field->name, "ilmd") == 0) {
			for (size_t j = 0; j < field->child_count && rc == 0; j++)
				if (field->children[j]->name[0] != '{')
					rc = fail(v, "ilmd", "field without a namespace:", field->children[j]->name);
		} else if (strcmp(field->name, "persistentDisposition") == 0) {
			for (size_t j = 0; j < field->child_count && rc == 0; j++)
				rc = check_vocab(v, "persistentDisposition", "Disp", cbv_dispositions,
						 field->children[j]->text);
		} else if (strcmp(field->name, "errorDeclaration") == 0) {
			const char *reason = epcis_node_text(field, "reason");
			if (epcis_node_text(field, "declarationTime") == NULL)
				rc = fail(v, "errorDeclaration.declarationTime", "missing", NULL);
			else if (reason != NULL)
				rc = check_vocab(v, "errorDeclaration.reason", "ER", cbv_ers, reason);
		} else if (strstr(field->name, "QuantityList") != NULL || strcmp(field->name, "quantityList") == 0) {
			rc = check_quantities(v, field, field->name);
		}
		if (rc != 0)
			return rc;
	}
	int rc = check_typed_list(v, event, "bizTransactionList", "BTT", cbv_btts);
	if (rc == 0)
		rc = check_typed_list(v, event, "sourceList", "SDT", cbv_sdts);
	if (rc == 0)
		rc = check_typed_list(v, event, "destinationList", "SDT", cbv_sdts);
	return rc;
}

static int check_event(const struct validator *v, const struct epcis_node *event)
{
	static const char *const types[] = { "ObjectEvent",	    "AggregationEvent", "TransactionEvent",
					     "TransformationEvent", "AssociationEvent", NULL };
	if (!in_list(types, event->name))
		return fail(v, "type", "not an EPCIS event type:", event->name);
	const char *time = epcis_node_text(event, "eventTime");
	int64_t ms;
	if (time == NULL)
		return fail(v, "eventTime", "missing", NULL);
	if (epcis_time_parse_ms(time, &ms) != 0)
		return fail(v, "eventTime", "not an xsd:dateTime with offset:", time);
	int rc = check_time_offset(v, epcis_node_text(event, "eventTimeZoneOffset"));
	if (rc != 0)
		return rc;
	const char *action = epcis_node_text(event, "action");
	bool transformation = strcmp(event->name, "TransformationEvent") == 0;
	if (action == NULL && !transformation)
		return fail(v, "action", "missing", NULL);
	if (action != NULL && strcmp(action, "ADD") != 0 && strcmp(action, "OBSERVE") != 0 &&
	    strcmp(action, "DELETE") != 0)
		return fail(v, "action", "expected ADD, OBSERVE or DELETE, got", action);
	if (strcmp(event->name, "ObjectEvent") == 0) {
		const struct epcis_node *epcs = epcis_node_child(event, "epcList");
		const struct epcis_node *quantities = epcis_node_child(event, "quantityList");
		if (epcs == NULL && quantities == NULL)
			return fail(v, "epcList", "an ObjectEvent needs epcList or quantityList", NULL);
	}
	return check_fields(v, event);
}

int epcis_doc_validate(const epcis_doc *doc, struct sl_error_detail *detail)
{
	for (size_t i = 0; i < epcis_doc_event_count(doc); i++) {
		const struct epcis_node *event = epcis_doc_event(doc, i);
		struct validator v = { doc, i, epcis_node_text(event, "eventID"), detail };
		int rc = check_event(&v, event);
		if (rc != 0)
			return rc;
	}
	return 0;
}
