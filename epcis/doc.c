/* epcis/doc.c — the document tree: nodes, prefixes, parsing entry points and tree helpers. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epcis/epcis_internal.h"

static char *string_copy(const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}

struct epcis_node *epcis_node_add(epcis_doc *doc, struct epcis_node *parent, const char *name, const char *text,
				  size_t text_len, int *rc)
{
	assert(doc != NULL && name != NULL);
	if (doc->node_count >= EPCIS_NODES_MAX) {
		*rc = SL_ELIMIT;
		return NULL;
	}
	*rc = SL_ENOMEM;
	if (parent != NULL && parent->child_count == parent->child_cap) {
		size_t cap = parent->child_cap ? parent->child_cap * 2 : 4;
		struct epcis_node **grown = realloc(parent->children, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		parent->children = grown;
		parent->child_cap = cap;
	}
	struct epcis_node *node = calloc(1, sizeof(*node));
	if (node == NULL)
		return NULL;
	node->name = string_copy(name, strlen(name));
	if (text != NULL)
		node->text = string_copy(text, text_len);
	if (node->name == NULL || (text != NULL && node->text == NULL)) {
		epcis_node_free(node);
		return NULL;
	}
	if (parent != NULL)
		parent->children[parent->child_count++] = node;
	doc->node_count++;
	*rc = 0;
	return node;
}

/* Recursive: the readers refuse trees deeper than EPCIS_DEPTH_MAX (+ the document levels). */
void epcis_node_free(struct epcis_node *node)
{
	if (node == NULL)
		return;
	for (size_t i = 0; i < node->child_count; i++)
		epcis_node_free(node->children[i]);
	free(node->name);
	free(node->text);
	free(node->children);
	free(node);
}

int epcis_prefix_add(epcis_doc *doc, const char *prefix, const char *uri)
{
	for (size_t i = 0; i < doc->prefix_count; i++) {
		if (strcmp(doc->prefixes[i].prefix, prefix) == 0) {
			char *copy = string_copy(uri, strlen(uri));
			if (copy == NULL)
				return SL_ENOMEM;
			free(doc->prefixes[i].uri);
			doc->prefixes[i].uri = copy;
			return 0;
		}
	}
	if (doc->prefix_count >= EPCIS_PREFIXES_MAX)
		return SL_ELIMIT;
	struct epcis_prefix *entry = &doc->prefixes[doc->prefix_count];
	entry->prefix = string_copy(prefix, strlen(prefix));
	entry->uri = string_copy(uri, strlen(uri));
	if (entry->prefix == NULL || entry->uri == NULL) {
		free(entry->prefix);
		free(entry->uri);
		return SL_ENOMEM;
	}
	doc->prefix_count++;
	return 0;
}

const char *epcis_prefix_uri(const epcis_doc *doc, const char *prefix, size_t len)
{
	for (size_t i = doc->prefix_count; i-- > 0;)
		if (strlen(doc->prefixes[i].prefix) == len && memcmp(doc->prefixes[i].prefix, prefix, len) == 0)
			return doc->prefixes[i].uri;
	/* The EPCIS 2.0 JSON-LD context (epcis-context.jsonld) defines these two for every document. */
	if (len == 3 && memcmp(prefix, "cbv", 3) == 0)
		return "https://ref.gs1.org/cbv/";
	if (len == 3 && memcmp(prefix, "gs1", 3) == 0)
		return "https://gs1.org/voc/";
	if (len == 6 && memcmp(prefix, "cbvmda", 6) == 0)
		return "urn:epcglobal:cbv:mda:";
	return NULL;
}

int epcis_doc_parse(const char *bytes, size_t len, epcis_doc **out, struct sl_error_detail *detail)
{
	assert(out != NULL);
	*out = NULL;
	if (len > EPCIS_DOC_BYTES_MAX)
		return sl_error_set(detail, SL_EOVERSIZE, "document larger than %u bytes", EPCIS_DOC_BYTES_MAX);
	size_t start = 0;
	while (start < len && (bytes[start] == ' ' || bytes[start] == '\t' || bytes[start] == '\n' ||
			       bytes[start] == '\r'))
		start++;
	/* a UTF-8 byte order mark before either syntax */
	if (len - start >= 3 && memcmp(bytes + start, "\xef\xbb\xbf", 3) == 0)
		start += 3;
	if (start == len)
		return sl_error_set(detail, SL_ESYNTAX, "empty document");
	epcis_doc *doc = calloc(1, sizeof(*doc));
	if (doc == NULL)
		return SL_ENOMEM;
	int rc = 0;
	doc->events = epcis_node_add(doc, NULL, "eventList", NULL, 0, &rc);
	if (rc == 0 && bytes[start] == '{') {
		doc->syntax = EPCIS_SYNTAX_JSON;
		rc = epcis_read_json(doc, bytes, len, detail);
	} else if (rc == 0 && bytes[start] == '<') {
		doc->syntax = EPCIS_SYNTAX_XML;
		rc = epcis_read_xml(doc, bytes, len, detail);
	} else if (rc == 0) {
		rc = sl_error_set(detail, SL_ESYNTAX, "neither JSON nor XML (first character '%c')", bytes[start]);
	}
	if (rc != 0) {
		epcis_doc_free(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

int epcis_doc_read_file(const char *path, epcis_doc **out, struct sl_error_detail *detail)
{
	*out = NULL;
	FILE *file = fopen(path, "rb");
	if (file == NULL)
		return sl_error_set(detail, SL_EIO, "cannot open %s: %s", path, strerror(errno));
	struct sl_buf buf;
	sl_buf_init(&buf, (size_t)EPCIS_DOC_BYTES_MAX + 1);
	int rc = 0;
	for (;;) {
		size_t room = buf.limit - buf.len;
		if (room == 0) {
			rc = SL_ELIMIT;
			break;
		}
		size_t chunk = room < 65536 ? room : 65536;
		rc = sl_buf_reserve(&buf, chunk);
		if (rc != 0)
			break;
		size_t got = fread(buf.data + buf.len, 1, chunk, file);
		buf.len += got;
		if (got == 0)
			break;
	}
	if (rc == SL_ELIMIT)
		rc = sl_error_set(detail, SL_EOVERSIZE, "%s is larger than %u bytes", path, EPCIS_DOC_BYTES_MAX);
	else if (rc == 0 && ferror(file))
		rc = sl_error_set(detail, SL_EIO, "reading %s failed", path);
	fclose(file);
	if (rc == 0)
		rc = epcis_doc_parse((const char *)buf.data, buf.len, out, detail);
	sl_buf_free(&buf);
	return rc;
}

void epcis_doc_free(epcis_doc *doc)
{
	if (doc == NULL)
		return;
	epcis_node_free(doc->events);
	for (size_t i = 0; i < doc->prefix_count; i++) {
		free(doc->prefixes[i].prefix);
		free(doc->prefixes[i].uri);
	}
	free(doc);
}

enum epcis_syntax epcis_doc_syntax(const epcis_doc *doc)
{
	return doc->syntax;
}

size_t epcis_doc_event_count(const epcis_doc *doc)
{
	return doc->events->child_count;
}

const struct epcis_node *epcis_doc_event(const epcis_doc *doc, size_t index)
{
	assert(index < doc->events->child_count);
	return doc->events->children[index];
}

const struct epcis_node *epcis_node_child(const struct epcis_node *node, const char *name)
{
	if (node == NULL)
		return NULL;
	for (size_t i = 0; i < node->child_count; i++)
		if (strcmp(node->children[i]->name, name) == 0)
			return node->children[i];
	return NULL;
}

size_t epcis_node_count(const struct epcis_node *node, const char *name)
{
	size_t count = 0;
	for (size_t i = 0; node != NULL && i < node->child_count; i++)
		if (strcmp(node->children[i]->name, name) == 0)
			count++;
	return count;
}

const char *epcis_node_text(const struct epcis_node *node, const char *name)
{
	const struct epcis_node *child = epcis_node_child(node, name);
	return child != NULL ? child->text : NULL;
}
