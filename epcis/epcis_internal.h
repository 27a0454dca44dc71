/* epcis/epcis_internal.h — shared between the files of epcis/ only: the document struct, the tree
 * builder used by the two readers, and the namespace prefix table.
 *
 * Rules:
 *  1. Builders count nodes against EPCIS_NODES_MAX and copy every string (the doc owns them).
 *  2. A reader that fails leaves a document that epcis_doc_free() releases completely.
 */
#ifndef SL_EPCIS_EPCIS_INTERNAL_H
#define SL_EPCIS_EPCIS_INTERNAL_H

#include "epcis/epcis.h"

struct epcis_prefix {
	char *prefix;
	char *uri;
};

struct epcis_doc {
	enum epcis_syntax syntax;
	struct epcis_node *events; /* children are the events, in document order */
	size_t node_count;
	struct epcis_prefix prefixes[EPCIS_PREFIXES_MAX];
	size_t prefix_count;
};

/* New node `name` (and `text` when non-NULL, `text_len` bytes) appended to parent (or detached
 * when parent is NULL). NULL on SL_ENOMEM or the node limit (*rc says which). */
struct epcis_node *epcis_node_add(epcis_doc *doc, struct epcis_node *parent, const char *name, const char *text,
				  size_t text_len, int *rc);
void epcis_node_free(struct epcis_node *node);
/* Register a namespace prefix (later registrations of the same prefix win); SL_ELIMIT beyond the table. */
int epcis_prefix_add(epcis_doc *doc, const char *prefix, const char *uri);
/* URI of a prefix, NULL when unknown (the EPCIS 2.0 context's cbv and gs1 are built in). */
const char *epcis_prefix_uri(const epcis_doc *doc, const char *prefix, size_t len);

int epcis_read_json(epcis_doc *doc, const char *bytes, size_t len, struct sl_error_detail *detail);
int epcis_read_xml(epcis_doc *doc, const char *bytes, size_t len, struct sl_error_detail *detail);

#endif
