/* cli/audit.h — the auditor commands (checkpoint, cosign, export, audit, prove, verify-proof,
 * proof) and what they share: stored checkpoints and the registry of a data directory.
 * docs/auditor-guide.md is the user's view.
 *
 * Rules:
 *  1. Checkpoints of a data directory live in meta, signed with the data directory's site key
 *     (query/bundle.h rule 1); embedded mode's "cluster" is the one site.
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

/* Make sure a checkpoint at the current tree size is stored (signing one with the key at
 * key_path when the latest stored one is older); its note is copied to note. Opens its own write
 * transaction. Returns 0 or an SL_E* code with `why` filled. */
int cli_checkpoint_ensure(struct cli_ledger *ledger, const char *key_path, char *note, size_t *len, char *why,
			  size_t why_size);
/* Open --data DIR for writing and make sure its latest checkpoint covers the whole ledger, signing
 * with --key (default: the key given to init); the note goes to note/len. On failure the error is
 * printed, nothing stays open, and CLI_EXIT_USAGE is returned. Used by export and prove. */
int cli_ledger_open_checkpointed(const struct cli_args *args, struct cli_ledger *ledger, char *note, size_t *len);
/* The export bundle of a data directory into out->doc[0] in one go, with a progress bar on a
 * terminal (cli/cmd_export.c); out gets the message and stats as query_run's would. */
void cli_export_run(const struct query_env *env, const struct query_params *p, struct query_out *out);

#endif
