/* Output files: never silently overwritten, never half-written.
 * Data goes to a temporary file in the target's directory (O_EXCL, mode
 * 0600 under the tools' umask or the mode given), is fsynced, then linked to
 * its final name (which fails if the name exists) or renamed over it when
 * force is set; the directory is fsynced last. */
#ifndef HSMCA_OUT_FILE_H
#define HSMCA_OUT_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Refuse early (before anything is signed) when path exists and !force. */
int ca_out_check(const char *path, int force) CA_WUR;
int ca_out_write(const char *path, const void *data, size_t len, int force,
		 mode_t mode) CA_WUR;

/* The same without fsync, for many small files whose content is also
 * committed durably elsewhere (batch issuance: the CA store). */
int ca_out_write_nosync(const char *path, const void *data, size_t len,
			int force, mode_t mode) CA_WUR;

/* Streaming variant for large outputs (CRLs). */
typedef struct ca_outfile ca_outfile;
int ca_out_open(const char *path, int force, mode_t mode,
		ca_outfile **out) CA_WUR;
int ca_out_put(ca_outfile *f, const void *data, size_t len) CA_WUR;
int ca_out_commit(ca_outfile *f) CA_WUR; /* fsync, link/rename, frees f */
void ca_out_abort(ca_outfile *f);	 /* unlink the temp file, frees f */
int ca_fsync_dir(
    const char *path) CA_WUR; /* fsync the directory holding path */

#endif
