/* epcis/read_xml.c — EPCIS 1.2 and 2.0 XML documents (EPCIS 2.0 §9, XSD) into the node tree.
 *
 * Standard elements are unqualified (or in the EPCIS namespaces) and keep their local names;
 * extension elements and attributes become "{namespace}local"; attributes become child nodes
 * (bizTransaction@type, sensorReport@value, ...); EPCIS 1.2 <extension> and <baseExtension>
 * wrappers are flattened so 1.2 and 2.0 documents give the same tree (EPCIS 2.0 §9.1 moved
 * those fields up). Every xmlns declaration is registered as a prefix for CURIE values.
 *
 * Security: parsed with XML_PARSE_NONET and without entity substitution (XML_PARSE_NOENT is not
 * set), so no network access and no external entity is ever read; libxml2's own depth and
 * amplification limits apply (XML_PARSE_HUGE is not set).
 */
#include <assert.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "epcis/epcis_internal.h"

struct xml_reader {
	epcis_doc *doc;
	size_t event_index;
	struct sl_error_detail *detail;
};

static bool is_standard_namespace(const xmlNs *ns)
{
	if (ns == NULL)
		return true;
	const char *href = (const char *)ns->href;
	return strncmp(href, "urn:epcglobal:epcis:xsd:", 24) == 0 ||
	       strncmp(href, "urn:epcglobal:epcis-query:xsd:", 30) == 0 ||
	       strncmp(href, "urn:epcglobal:epcis-masterdata:xsd:", 35) == 0;
}

static void node_name(const xmlNs *ns, const xmlChar *local, char *out, size_t out_size)
{
	if (is_standard_namespace(ns))
		snprintf(out, out_size, "%s", (const char *)local);
	else
		snprintf(out, out_size, "{%s}%s", (const char *)ns->href, (const char *)local);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int prefixes_add(struct xml_reader *reader, const xmlNode *element)
{
	for (const xmlNs *ns = element->nsDef; ns != NULL; ns = ns->next) {
		if (ns->prefix == NULL || ns->href == NULL)
			continue;
		int rc = epcis_prefix_add(reader->doc, (const char *)ns->prefix, (const char *)ns->href);
		if (rc != 0)
			return sl_error_set(reader->detail, rc, "too many namespace prefixes (at most %d)",
					    EPCIS_PREFIXES_MAX);
	}
	return 0;
}

static bool has_element_children(const xmlNode *element)
{
	for (const xmlNode *child = element->children; child != NULL; child = child->next)
		if (child->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* Trimmed text of a leaf element into a node (NULL text when empty). */
static int leaf_add(struct xml_reader *reader, struct epcis_node *parent, const char *name, const xmlNode *element,
		    struct epcis_node **out)
{
	xmlChar *content = xmlNodeGetContent(element);
	const char *text = content != NULL ? (const char *)content : "";
	size_t len = strlen(text);
	while (len > 0 && is_blank(text[0])) {
		text++;
		len--;
	}
	while (len > 0 && is_blank(text[len - 1]))
		len--;
	int rc = 0;
	if (len > EPCIS_TEXT_BYTES_MAX)
		rc = sl_error_set(reader->detail, SL_EOVERSIZE, "event %zu: field '%s' longer than %d bytes",
				  reader->event_index + 1, name, EPCIS_TEXT_BYTES_MAX);
	else
		*out = epcis_node_add(reader->doc, parent, name, len > 0 ? text : NULL, len, &rc);
	xmlFree(content);
	return rc;
}

static int attributes_add(struct xml_reader *reader, struct epcis_node *node, const xmlNode *element)
{
	for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
		if (attr->ns != NULL &&
		    strcmp((const char *)attr->ns->href, "http://www.w3.org/2001/XMLSchema-instance") == 0)
			continue; /* xsi:type, xsi:schemaLocation: syntax, not data */
		char name[512];
		node_name(attr->ns, attr->name, name, sizeof name);
		xmlChar *value = xmlNodeListGetString(element->doc, attr->children, 1);
		const char *text = value != NULL ? (const char *)value : "";
		int rc = 0;
		if (strlen(text) > EPCIS_TEXT_BYTES_MAX)
			rc = SL_EOVERSIZE;
		else
			epcis_node_add(reader->doc, node, name, text, strlen(text), &rc);
		xmlFree(value);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int element_add(struct xml_reader *reader, struct epcis_node *parent, const xmlNode *element, unsigned depth);

static int children_add(struct xml_reader *reader, struct epcis_node *parent, const xmlNode *element, unsigned depth)
{
	for (const xmlNode *child = element->children; child != NULL; child = child->next) {
		if (child->type != XML_ELEMENT_NODE)
			continue;
		int rc = element_add(reader, parent, child, depth + 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int element_add(struct xml_reader *reader, struct epcis_node *parent, const xmlNode *element, unsigned depth)
{
	if (depth > EPCIS_DEPTH_MAX)
		return sl_error_set(reader->detail, SL_ELIMIT, "event %zu: element <%s> nested deeper than %d",
				    reader->event_index + 1, (const char *)element->name, EPCIS_DEPTH_MAX);
	int rc = prefixes_add(reader, element);
	if (rc != 0)
		return rc;
	if (element->ns == NULL && (strcmp((const char *)element->name, "extension") == 0 ||
				    strcmp((const char *)element->name, "baseExtension") == 0))
		return children_add(reader, parent, element, depth); /* EPCIS 1.2 wrappers */
	char name[512];
	node_name(element->ns, element->name, name, sizeof name);
	struct epcis_node *node = NULL;
	if (has_element_children(element))
		node = epcis_node_add(reader->doc, parent, name, NULL, 0, &rc);
	else
		rc = leaf_add(reader, parent, name, element, &node);
	if (rc != 0)
		return rc;
	rc = attributes_add(reader, node, element);
	if (rc != 0)
		return rc;
	return children_add(reader, node, element, depth);
}

static const xmlNode *child_element(const xmlNode *element, const char *name)
{
	for (const xmlNode *child = element != NULL ? element->children : NULL; child != NULL; child = child->next)
		if (child->type == XML_ELEMENT_NODE && strcmp((const char *)child->name, name) == 0)
			return child;
	return NULL;
}

/* EPCIS 1.2 wraps newer event types in <extension> (TransformationEvent) or two (AssociationEvent). */
#define EVENT_LIST_WRAPPERS_MAX 4

static bool is_event_name(const xmlChar *name)
{
	static const char *const types[] = { "ObjectEvent", "AggregationEvent", "TransactionEvent",
					     "TransformationEvent", "AssociationEvent", NULL };
	for (size_t i = 0; types[i] != NULL; i++)
		if (strcmp((const char *)name, types[i]) == 0)
			return true;
	return false;
}

/* A document that is one bare event (as some tools write): a list of one. */
static int single_event_add(struct xml_reader *reader, const xmlNode *event)
{
	int rc = prefixes_add(reader, event);
	struct epcis_node *node = NULL;
	if (rc == 0)
		node = epcis_node_add(reader->doc, reader->doc->events, (const char *)event->name, NULL, 0, &rc);
	return rc == 0 ? children_add(reader, node, event, 0) : rc;
}

static int event_list_add(struct xml_reader *reader, const xmlNode *list, unsigned depth)
{
	int rc = prefixes_add(reader, list);
	for (const xmlNode *event = list->children; rc == 0 && event != NULL; event = event->next) {
		if (event->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)event->name, "extension") == 0) {
			if (depth >= EVENT_LIST_WRAPPERS_MAX)
				return sl_error_set(reader->detail, SL_ELIMIT, "EventList: extension nested too deep");
			rc = event_list_add(reader, event, depth + 1); /* EPCIS 1.2: Transformation, Association */
			continue;
		}
		if (reader->doc->events->child_count >= EPCIS_EVENTS_MAX)
			return sl_error_set(reader->detail, SL_ELIMIT, "document: more than %d events",
					    EPCIS_EVENTS_MAX);
		reader->event_index = reader->doc->events->child_count;
		rc = prefixes_add(reader, event);
		struct epcis_node *node = NULL;
		if (rc == 0)
			node = epcis_node_add(reader->doc, reader->doc->events, (const char *)event->name, NULL, 0, &rc);
		if (rc == 0)
			rc = children_add(reader, node, event, 0);
	}
	return rc;
}

/* libxml2 prints some errors (bad input encodings) through its generic handler even with
 * XML_PARSE_NOERROR; ours are reported through the detail, so that channel stays quiet. */
static void xml_error_silent(void *ctx, const char *format, ...)
{
	(void)ctx;
	(void)format;
}

int epcis_read_xml(epcis_doc *doc, const char *bytes, size_t len, struct sl_error_detail *detail)
{
	assert(len <= EPCIS_DOC_BYTES_MAX);
	xmlSetGenericErrorFunc(NULL, xml_error_silent);
	xmlDoc *xml = xmlReadMemory(bytes, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (xml == NULL) {
		const xmlError *error = xmlGetLastError();
		return sl_error_set(detail, SL_ESYNTAX, "XML line %d: %s", error ? error->line : 0,
				    error && error->message ? error->message : "not well-formed");
	}
	struct xml_reader reader = { doc, 0, detail };
	const xmlNode *root = xmlDocGetRootElement(xml);
	int rc = root != NULL ? prefixes_add(&reader, root) : 0;
	const xmlNode *body = child_element(root, "EPCISBody");
	const xmlNode *list = child_element(body, "EventList");
	if (list == NULL) /* query document */
		list = child_element(child_element(child_element(body, "QueryResults"), "resultsBody"), "EventList");
	bool single = root != NULL && is_event_name(root->name);
	bool document = root != NULL && (strcmp((const char *)root->name, "EPCISDocument") == 0 ||
					 strcmp((const char *)root->name, "EPCISQueryDocument") == 0);
	if (rc == 0 && single)
		rc = single_event_add(&reader, root);
	else if (rc == 0 && !document)
		rc = sl_error_set(detail, SL_ESYNTAX, "root element is neither EPCISDocument nor an event");
	else if (rc == 0 && list == NULL)
		rc = sl_error_set(detail, SL_ESYNTAX, "document: element EPCISBody/EventList is missing");
	else if (rc == 0)
		rc = event_list_add(&reader, list, 0);
	xmlFreeDoc(xml);
	return rc;
}
