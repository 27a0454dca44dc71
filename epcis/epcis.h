/* epcis/epcis.h — GS1 EPCIS capture documents: read (EPCIS 2.0 JSON / JSON-LD, EPCIS 1.2 and 2.0
 * XML), CBV 2.0 event hash IDs, mapping to siteledger records, and export. The only module that
 * links jansson and libxml2 (dependency rule: epcis → ledger, store, crypto).
 *
 * Model: both syntaxes are read into one tree of named nodes, shaped like the XML binding
 * (EPCIS 2.0 §9; JSON keys become nodes, JSON arrays repeated nodes, list members get their XML
 * element names: epcList → epc, quantityList → quantityElement, bizTransactionList →
 * bizTransaction with a child `type`, ...). XML attributes become child nodes. User extension
 * names are expanded to "{namespace}local" (XML namespaces, JSON-LD @context prefixes). EPCIS 1.2
 * <extension> and <baseExtension> wrappers are flattened away. Values are kept as written;
 * normalisation happens where it is needed (hash, mapping).
 *
 * Rules:
 *  1. An epcis_doc owns every node and string reachable from it; pointers are valid until
 *     epcis_doc_free(). Nodes are read-only for callers.
 *  2. Reading never crashes on any input: malformed, oversize or too deep input is an error
 *     (SL_ESYNTAX, SL_EOVERSIZE, SL_ELIMIT) with the reason in `detail`.
 *  3. Functions are thread-compatible (one document per thread); libxml2 is used without global
 *     state changes other than its own lazy initialisation.
 */
#ifndef SL_EPCIS_EPCIS_H
#define SL_EPCIS_EPCIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* Limits (each bounds memory or time spent on one untrusted document). */
#define EPCIS_DOC_BYTES_MAX (64u << 20)	 /* 64 MiB: a large shipment's document, far below RAM */
#define EPCIS_NODES_MAX 2000000		 /* nodes in one document's tree */
#define EPCIS_DEPTH_MAX 32		 /* nesting below the event; bounds every recursion */
#define EPCIS_EVENTS_MAX 100000		 /* events in one document */
#define EPCIS_TEXT_BYTES_MAX 65536	 /* one value (identifier, extension text) */
#define EPCIS_PREFIXES_MAX 256		 /* namespace prefixes (XML xmlns, JSON-LD @context) */
#define EPCIS_PREHASH_BYTES_MAX (16u << 20) /* canonical pre-hash string of one event */
/* "ni:///sha-256;" + 64 hex + "?ver=CBV2.0" */
#define EPCIS_HASH_ID_CHARS (14 + 64 + 11)
#define EPCIS_HASH_ID_SIZE (EPCIS_HASH_ID_CHARS + 1)
/* Namespace of siteledger's own extension fields (docs/epcis.md "Extensions"). */
#define EPCIS_SITELEDGER_NS "urn:siteledger:epcis:"

struct epcis_node {
	char *name; /* element name, or "{namespace}local" for extensions */
	char *text; /* NULL when the node has no value */
	struct epcis_node **children;
	size_t child_count;
	size_t child_cap;
};

enum epcis_syntax {
	EPCIS_SYNTAX_JSON = 1,
	EPCIS_SYNTAX_XML = 2,
};

typedef struct epcis_doc epcis_doc;

/* Parse a document from memory (JSON when the first non-blank byte is '{', XML when '<'). */
int epcis_doc_parse(const char *bytes, size_t len, epcis_doc **out, struct sl_error_detail *detail);
/* Read and parse a file (at most EPCIS_DOC_BYTES_MAX). */
int epcis_doc_read_file(const char *path, epcis_doc **out, struct sl_error_detail *detail);
void epcis_doc_free(epcis_doc *doc);

enum epcis_syntax epcis_doc_syntax(const epcis_doc *doc);
size_t epcis_doc_event_count(const epcis_doc *doc);
/* Event `index` (0-based, document order): its name is the event type ("ObjectEvent", ...). */
const struct epcis_node *epcis_doc_event(const epcis_doc *doc, size_t index);

/* Tree helpers. */
const struct epcis_node *epcis_node_child(const struct epcis_node *node, const char *name); /* first */
size_t epcis_node_count(const struct epcis_node *node, const char *name);
const char *epcis_node_text(const struct epcis_node *node, const char *name); /* child's text or NULL */

/* Normalised values (CBV 2.0 §8.9 rules, also used by the mapping). All write NUL-terminated text
 * into `out` (EPCIS_TEXT_BYTES_MAX bytes is always enough) and return 0 or SL_EINVAL. */
/* Timestamp to UTC, millisecond precision, half-up rounding of the 4th decimal: "...T10:00:30.000Z". */
int epcis_time_normalise(const char *text, char *out, size_t out_size);
/* Same instant in milliseconds since the epoch. */
int epcis_time_parse_ms(const char *text, int64_t *out_ms);
/* Milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (years 1–9999, else SL_EINVAL). */
int epcis_time_format(int64_t ms, char *out, size_t out_size);
/* Identifier (EPC URI, EPC class/pattern URI, GS1 Digital Link on any host) to its canonical
 * GS1 Digital Link form on https://id.gs1.org; SL_EINVAL when it is neither. */
int epcis_id_to_digital_link(const char *text, char *out, size_t out_size);
/* Vocabulary value of `field` (bizStep, disposition, type, ...) to its full URI: bare words, CBV
 * URNs and CURIEs (document prefixes) become GS1 Web URIs (https://ref.gs1.org/cbv/BizStep-...). */
int epcis_vocab_normalise(const epcis_doc *doc, const char *field, const char *text, char *out, size_t out_size);
/* The bare CBV word of a vocabulary value ("shipping" for any of its forms); NULL when it is not a
 * standard CBV value of that kind. kind is "BizStep", "Disp", "BTT", "SDT" or "ER". */
const char *epcis_vocab_word(const epcis_doc *doc, const char *kind, const char *text, char *buf, size_t buf_size);

/* CBV 2.0 event hash (CBV 2.0 §8.9): the canonical pre-hash string of event `index`, appended to
 * `out`, and the hash id "ni:///sha-256;<hex>?ver=CBV2.0". */
int epcis_event_prehash(const epcis_doc *doc, size_t index, struct sl_buf *out);
int epcis_event_hash_id(const epcis_doc *doc, size_t index, char out[EPCIS_HASH_ID_SIZE]);

#endif
