/* epcis/read_json.c — EPCIS 2.0 JSON / JSON-LD documents (EPCIS 2.0 §10) into the node tree.
 *
 * The JSON binding differs from the XML one in ways the tree hides (epcis.h): list members are
 * unnamed in JSON (epcList: ["..."]) and get their XML element names; bizTransaction, source and
 * destination members are objects {type, <name>} and become a node <name> with the value as text
 * and `type` as a child, like the XML element with its attribute; CURIE keys ("example:field")
 * become "{namespace}field" through the @context prefixes (document and event level).
 * No JSON-LD processing beyond that: the EPCIS context is fixed by the standard (EPCIS 2.0 §10.2).
 */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "epcis/epcis_internal.h"

struct list_member {
	const char *list;
	const char *member;
};

/* EPCIS 2.0 §9 / XSD element names of list members. */
static const struct list_member list_members[] = {
	{ "epcList", "epc" },
	{ "childEPCs", "epc" },
	{ "inputEPCList", "epc" },
	{ "outputEPCList", "epc" },
	{ "quantityList", "quantityElement" },
	{ "childQuantityList", "quantityElement" },
	{ "inputQuantityList", "quantityElement" },
	{ "outputQuantityList", "quantityElement" },
	{ "bizTransactionList", "bizTransaction" },
	{ "sourceList", "source" },
	{ "destinationList", "destination" },
	{ "sensorElementList", "sensorElement" },
	{ "correctiveEventIDs", "correctiveEventID" },
};

static const char *list_member_name(const char *list)
{
	for (size_t i = 0; i < sizeof(list_members) / sizeof(list_members[0]); i++)
		if (strcmp(list_members[i].list, list) == 0)
			return list_members[i].member;
	return NULL;
}

/* Members that carry their value and a `type` (bizTransaction, source, destination). */
static bool member_has_value(const char *member)
{
	return strcmp(member, "bizTransaction") == 0 || strcmp(member, "source") == 0 ||
	       strcmp(member, "destination") == 0;
}

static int context_read(epcis_doc *doc, json_t *context, struct sl_error_detail *detail)
{
	size_t count = json_is_array(context) ? json_array_size(context) : 1;
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_is_array(context) ? json_array_get(context, i) : context;
		if (!json_is_object(item))
			continue; /* a context URL: the standard one is built in */
		const char *key;
		json_t *value;
		json_object_foreach(item, key, value)
		{
			if (!json_is_string(value))
				continue; /* term definitions other than prefixes: not needed */
			int rc = epcis_prefix_add(doc, key, json_string_value(value));
			if (rc != 0)
				return sl_error_set(detail, rc, "@context: too many prefixes (at most %d)",
						    EPCIS_PREFIXES_MAX);
		}
	}
	return 0;
}

/* "prefix:local" with a known prefix → "{uri}local"; anything else unchanged. */
static void key_expand(const epcis_doc *doc, const char *key, char *out, size_t out_size)
{
	const char *colon = strchr(key, ':');
	const char *uri = colon != NULL ? epcis_prefix_uri(doc, key, (size_t)(colon - key)) : NULL;
	if (uri == NULL || strncmp(colon + 1, "//", 2) == 0) {
		snprintf(out, out_size, "%s", key);
		return;
	}
	snprintf(out, out_size, "{%s}%s", uri, colon + 1);
}

/* Shortest text that reads back as the same double (what JSON writers and the CBV hash use). */
static void real_format(double value, char *out, size_t out_size)
{
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(out, out_size, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			return;
	}
}

static int scalar_text(json_t *value, char *buf, size_t buf_size, const char **text, size_t *len)
{
	switch (json_typeof(value)) {
	case JSON_STRING:
		*text = json_string_value(value);
		*len = json_string_length(value);
		return *len <= EPCIS_TEXT_BYTES_MAX ? 0 : SL_EOVERSIZE;
	case JSON_INTEGER:
		snprintf(buf, buf_size, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
		break;
	case JSON_REAL:
		real_format(json_real_value(value), buf, buf_size);
		break;
	case JSON_TRUE:
		snprintf(buf, buf_size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, buf_size, "false");
		break;
	default:
		*text = NULL;
		*len = 0;
		return 0;
	}
	*text = buf;
	*len = strlen(buf);
	return 0;
}

struct json_reader {
	epcis_doc *doc;
	size_t event_index;
	struct sl_error_detail *detail;
};

static int value_add(struct json_reader *reader, struct epcis_node *parent, const char *name, json_t *value,
		     unsigned depth);

static int object_add(struct json_reader *reader, struct epcis_node *node, json_t *object, unsigned depth,
		      const char *skip)
{
	const char *key;
	json_t *value;
	json_object_foreach(object, key, value)
	{
		if (key[0] == '@' || (skip != NULL && strcmp(key, skip) == 0))
			continue;
		char name[512];
		key_expand(reader->doc, key, name, sizeof name);
		int rc = value_add(reader, node, name, value, depth + 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int member_add(struct json_reader *reader, struct epcis_node *list, const char *member, json_t *value,
		      unsigned depth)
{
	if (!member_has_value(member) || !json_is_object(value))
		return value_add(reader, list, member, value, depth);
	json_t *own = json_object_get(value, member);
	char buf[64];
	const char *text = NULL;
	size_t len = 0;
	if (own != NULL && scalar_text(own, buf, sizeof buf, &text, &len) != 0)
		return sl_error_set(reader->detail, SL_EOVERSIZE, "event %zu: field '%s' too long",
				    reader->event_index + 1, member);
	int rc = 0;
	struct epcis_node *node = epcis_node_add(reader->doc, list, member, text, len, &rc);
	if (node == NULL)
		return rc;
	return object_add(reader, node, value, depth, member);
}

static int value_add(struct json_reader *reader, struct epcis_node *parent, const char *name, json_t *value,
		     unsigned depth)
{
	if (depth > EPCIS_DEPTH_MAX)
		return sl_error_set(reader->detail, SL_ELIMIT, "event %zu: field '%s' nested deeper than %d",
				    reader->event_index + 1, name, EPCIS_DEPTH_MAX);
	int rc = 0;
	if (json_is_array(value)) {
		const char *member = list_member_name(name);
		struct epcis_node *list = parent;
		if (member != NULL && (list = epcis_node_add(reader->doc, parent, name, NULL, 0, &rc)) == NULL)
			return rc;
		size_t i;
		json_t *item;
		json_array_foreach(value, i, item)
		{
			rc = member != NULL ? member_add(reader, list, member, item, depth + 1)
					    : value_add(reader, parent, name, item, depth + 1);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (json_is_object(value)) {
		struct epcis_node *node = epcis_node_add(reader->doc, parent, name, NULL, 0, &rc);
		return node != NULL ? object_add(reader, node, value, depth, NULL) : rc;
	}
	if (json_is_null(value))
		return 0;
	char buf[64];
	const char *text = NULL;
	size_t len = 0;
	if (scalar_text(value, buf, sizeof buf, &text, &len) != 0)
		return sl_error_set(reader->detail, SL_EOVERSIZE, "event %zu: field '%s' longer than %d bytes",
				    reader->event_index + 1, name, EPCIS_TEXT_BYTES_MAX);
	return epcis_node_add(reader->doc, parent, name, text, len, &rc) != NULL ? 0 : rc;
}

static int event_add(struct json_reader *reader, json_t *event)
{
	if (!json_is_object(event))
		return sl_error_set(reader->detail, SL_ESYNTAX, "event %zu: not a JSON object", reader->event_index + 1);
	json_t *type = json_object_get(event, "type");
	if (!json_is_string(type))
		return sl_error_set(reader->detail, SL_ESYNTAX, "event %zu: field 'type' missing or not a string",
				    reader->event_index + 1);
	json_t *context = json_object_get(event, "@context");
	if (context != NULL) {
		int rc = context_read(reader->doc, context, reader->detail);
		if (rc != 0)
			return rc;
	}
	int rc = 0;
	struct epcis_node *node = epcis_node_add(reader->doc, reader->doc->events, json_string_value(type), NULL, 0, &rc);
	if (node == NULL)
		return rc;
	return object_add(reader, node, event, 0, "type");
}

/* epcisBody.eventList (capture document) or epcisBody.queryResults.resultsBody.eventList (query). */
static json_t *event_list_find(json_t *root)
{
	json_t *body = json_object_get(root, "epcisBody");
	json_t *list = json_object_get(body, "eventList");
	if (list == NULL)
		list = json_object_get(json_object_get(json_object_get(body, "queryResults"), "resultsBody"),
				       "eventList");
	return list;
}

int epcis_read_json(epcis_doc *doc, const char *bytes, size_t len, struct sl_error_detail *detail)
{
	json_error_t error;
	json_t *root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &error);
	if (root == NULL)
		return sl_error_set(detail, SL_ESYNTAX, "JSON line %d column %d: %s", error.line, error.column,
				    error.text);
	int rc = 0;
	json_t *list = json_is_object(root) ? event_list_find(root) : NULL;
	json_t *context = json_is_object(root) ? json_object_get(root, "@context") : NULL;
	if (!json_is_object(root))
		rc = sl_error_set(detail, SL_ESYNTAX, "document is not a JSON object");
	else if (context == NULL)
		rc = sl_error_set(detail, SL_ESYNTAX, "document: field '@context' is missing (EPCIS 2.0 §10.2)");
	else if (!json_is_array(list))
		rc = sl_error_set(detail, SL_ESYNTAX, "document: field 'epcisBody.eventList' missing or not an array");
	else if (json_array_size(list) > EPCIS_EVENTS_MAX)
		rc = sl_error_set(detail, SL_ELIMIT, "document: more than %d events", EPCIS_EVENTS_MAX);
	if (rc == 0)
		rc = context_read(doc, context, detail);
	struct json_reader reader = { doc, 0, detail };
	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		reader.event_index = i;
		rc = event_add(&reader, json_array_get(list, i));
		if (rc == SL_ELIMIT && detail != NULL && detail->text[0] == '\0')
			sl_error_set(detail, rc, "document: more than %d nodes", EPCIS_NODES_MAX);
	}
	json_decref(root);
	return rc;
}
