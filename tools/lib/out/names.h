/* File names for the outputs of a batch (hsmca-sign-leaf --requests):
 * from the request, safe, and unique within the batch. */
#ifndef HSMCA_OUT_NAMES_H
#define HSMCA_OUT_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Names in use, kept as 64-bit hashes (a batch of any size stays small in
 * memory; a collision only adds the suffix). Start zeroed. */
struct ca_out_names {
	uint64_t *slot;
	size_t cap, n;
};

/* The files of request number index (from 0) in dir: NAME.crt,
 * NAME.chain.pem and NAME.pem (malloc'd), where NAME is the CSR file's
 * base name without ".csr", else the common name, else request-N (N =
 * index + 1), with characters other than A-Z a-z 0-9 . _ - made '_', and
 * "-N" added when the batch already has that name. */
int ca_out_names_batch(struct ca_out_names *ns, const char *dir,
		       const char *csr_file, const char *common_name,
		       size_t index, char **cert, char **chain,
		       char **bundle) CA_WUR;
void ca_out_names_free(struct ca_out_names *ns);

#endif
