/* util/error.h — the one table of error codes for every siteledger module.
 *
 * Rules:
 *  1. Functions return int: 0 on success, a negative SL_E* code otherwise (libuv style).
 *  2. sl_strerror() returns a static string; never free it.
 *  3. Codes are stable: never renumber, only append. Tests and logs print the name (sl_errname).
 *  4. Bad input is an error value, never an assertion.
 *
 * Lifecycle rule outcomes (DUPLICATE_COMMISSION, LOCKED, ...) are NOT errors: they are
 * persisted reason codes, see ledger/reason.h.
 */
#ifndef SL_UTIL_ERROR_H
#define SL_UTIL_ERROR_H

#include <stddef.h>

/* X(name, value, message) */
#define SL_ERROR_LIST(X)                                                              \
	/* general */                                                                 \
	X(SL_ENOMEM, -1, "out of memory")                                             \
	X(SL_EINVAL, -2, "invalid argument")                                          \
	X(SL_EIO, -3, "input/output error")                                           \
	X(SL_ENOSPC, -4, "no space left (disk or LMDB map full)")                     \
	X(SL_ENOENT, -5, "not found")                                                 \
	X(SL_EEXIST, -6, "already exists")                                            \
	X(SL_EBUSY, -7, "held by another process")                                    \
	X(SL_EPERM, -8, "file permissions are too open")                              \
	X(SL_EPOISONED, -9, "store refuses writes after a failed commit; reopen it")  \
	X(SL_ECORRUPT, -10, "stored data is corrupt")                                 \
	X(SL_ELIMIT, -11, "a named limit was exceeded")                               \
	X(SL_ECRYPTO, -12, "cryptographic library failure")                           \
	X(SL_EBADSIG, -13, "signature does not verify")                               \
	X(SL_EKEYFILE, -14, "malformed key file")                                     \
	X(SL_EVERSIONDB, -15, "data directory has an unsupported schema version")     \
	X(SL_EPROOF, -16, "Merkle proof does not verify")                             \
	/* decoders (records, entries, messages) */                                   \
	X(SL_ETRUNCATED, -20, "input is truncated")                                   \
	X(SL_ENONCANONICAL, -21, "encoding is not canonical")                         \
	X(SL_EDUPFIELD, -22, "a field appears twice")                                 \
	X(SL_EUNKNOWNFIELD, -23, "unknown field")                                     \
	X(SL_EOVERSIZE, -24, "input is larger than allowed")                          \
	X(SL_ETYPE, -25, "a field has the wrong type")                                \
	X(SL_EMISSING, -26, "a required field is missing")                            \
	X(SL_EVERSION, -27, "unsupported format version")                             \
	X(SL_ETRAILING, -28, "trailing bytes after the value")                        \
	X(SL_EVALUE, -29, "a field value is out of range")                            \
	/* GS1 identifiers */                                                         \
	X(SL_ECHECKDIGIT, -40, "GS1 check digit does not match")                      \
	X(SL_ESYNTAX, -41, "malformed GS1 identifier")                                \
	X(SL_ECHARSET, -42, "character outside GS1 AI encodable character set 82")    \
	X(SL_ELENGTH, -43, "GS1 field has the wrong length")                          \
	X(SL_EDATE, -44, "invalid GS1 date (YYMMDD)")                                 \
	X(SL_EPREFIX, -45, "GS1 company prefix length missing or out of range")

enum sl_error {
#define SL_ERROR_ENUM(name, value, message) name = (value),
	SL_OK = 0,
	SL_ERROR_LIST(SL_ERROR_ENUM)
#undef SL_ERROR_ENUM
};

/* Human-readable message for an error code; "unknown error" for codes not in the table. */
const char *sl_strerror(int code);
/* Symbolic name ("SL_ENOMEM"); "SL_OK" for 0, "SL_E?" for unknown codes. */
const char *sl_errname(int code);

/* Optional detail a decoder or parser fills in (which field, which index, what was expected).
 * Callers may pass NULL. Always NUL-terminated. */
#define SL_ERROR_DETAIL_BYTES_MAX 256 /* one log line's worth; longer detail is truncated */
struct sl_error_detail {
	char text[SL_ERROR_DETAIL_BYTES_MAX];
};

/* printf-style fill of `detail` when non-NULL; returns `code` so callers can `return sl_error_set(...)`. */
int sl_error_set(struct sl_error_detail *detail, int code, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

#endif
