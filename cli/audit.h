/* cli/audit.h — the auditor commands (checkpoint, cosign, export, audit, prove, verify-proof,
 * proof) and what they share: stored checkpoints and the registry of a data directory.
 * docs/auditor-guide.md is the user's view.
 *
 * Rules:
 *  1. Checkpoints of a data directory live in meta: CLI_META_CHECKPOINT_COUNT and
 *     CLI_META_CHECKPOINT_PREFIX<i> (1-based, ascending tree size), each a C2SP signed note.
 *  2. A checkpoint is signed with the data directory's site key (name = site id) and its origin
 *     is BUNDLE_ORIGIN_PREFIX + site (embedded mode: the "cluster" is the one site; with the
 *     replicated node the origin names the cluster and checkpoints become records).
 */
#ifndef SL_CLI_AUDIT_H
#define SL_CLI_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "cli/bundle.h"
#include "cli/cli.h"

int cli_cmd_checkpoint(const struct cli_command *command, struct cli_args *args);
int cli_cmd_cosign(const struct cli_command *command, struct cli_args *args);
int cli_cmd_export(const struct cli_command *command, struct cli_args *args);
int cli_cmd_audit(const struct cli_command *command, struct cli_args *args);
int cli_cmd_prove(const struct cli_command *command, struct cli_args *args);
int cli_cmd_verify_proof(const struct cli_command *command, struct cli_args *args);
int cli_cmd_proof(const struct cli_command *command, struct cli_args *args);

/* The origin of this data directory's checkpoints. */
void cli_checkpoint_origin(const struct cli_ledger *ledger, char out[NOTE_NAME_BYTES_MAX + 1]);
/* Number of stored checkpoints, and the i-th (1-based) note text copied into note (NOTE_BYTES_MAX + 1). */
int cli_checkpoint_count(store_txn *txn, uint64_t *count);
int cli_checkpoint_get(store_txn *txn, uint64_t index, char *note, size_t *len);
/* Make sure a checkpoint at the current tree size is stored (signing one with the key at
 * key_path when the latest stored one is older); its note is copied to note. Opens its own write
 * transaction. Returns 0 or an SL_E* code with `why` filled. */
int cli_checkpoint_ensure(struct cli_ledger *ledger, const char *key_path, char *note, size_t *len, char *why,
			  size_t why_size);
/* Open --data DIR for writing and make sure its latest checkpoint covers the whole ledger, signing
 * with --key (default: the key given to init); the note goes to note/len. On failure the error is
 * printed, nothing stays open, and CLI_EXIT_USAGE is returned. Used by export and prove. */
int cli_ledger_open_checkpointed(const struct cli_args *args, struct cli_ledger *ledger, char *note, size_t *len);
/* Bundle writing shared by export and prove: the header, origin, registry and every stored
 * checkpoint (the last one covers tree_size); then entries (with an inclusion proof against
 * tree_size when with_proof). */
int cli_bundle_head_write(FILE *out, enum bundle_kind kind, const char *origin,
			  const struct bundle_registry *registry, store_txn *txn);
int cli_bundle_entry_write(FILE *out, store_txn *txn, uint64_t seq, bool with_proof, uint64_t tree_size);
/* The registry of a data directory as bundle sites (trusted = true). */
int cli_registry_load(store_txn *txn, struct bundle_registry *registry);

#endif
