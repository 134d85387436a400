/* Generating CRLs from the state store.
 *
 * One CRL per scope: the whole CA (no partitions), or, with partitions
 * (issue/partition.h), one CRL per partition plus a "base" CRL for certificates
 * bound to no partition (CA certificates, and leaves issued before
 * partitioning was configured). Per scope:
 *
 *   1. BEGIN IMMEDIATE (revocations cannot change under us; the CRL
 *      counter is ours); thisUpdate is now (every committed revocation is
 *      dated no later), the CRL number is the last one + 1.
 *   2. One pass over the revocations of the scope in serial order
 *      (SQLite index order): each entry is encoded on its own, linted and
 *      appended to an unlinked spool file next to the output, so memory
 *      stays flat whatever the number of entries.
 *   3. The frame (ca_crl_frame_new) is encoded from the entries' total
 *      length and the TBS is linted: completely (OpenSSL parse, canonical
 *      re-encoding) when it is up to 4 MiB, else the frame on its own plus
 *      the per-entry lint of step 2.
 *   4. Quorum CA: --prepare writes the exact TBSCertList into an approval
 *      request (tbs_type "crl"; at most 512 KiB); --request rebuilds it
 *      with the request's CRL number, thisUpdate and nextUpdate and
 *      refuses any difference.
 *   5. The token signs: streaming (prefix, spool, suffix) for RSA and
 *      ECDSA; Ed25519 cannot stream, so its TBS is signed in one piece
 *      (at most 64 MiB, about 1.5 million entries).
 *   6. The CRL is written to the output's temporary file (DER, or PEM
 *      base64 on the fly) while the signature is verified with the CA
 *      certificate's public key over exactly those bytes.
 *   7. The crls row, the counter, the expired-entry marks and the audit
 *      entry commit; only then is the file linked into place (released).
 *      A crash between 7's commit and the link burns the number, it is
 *      never reused.
 *
 * Entries of certificates that expired before thisUpdate are listed in
 * one more CRL, then dropped: revocations.expired_listed records the
 * number of the first CRL that listed them after expiry (0: not yet), and
 * later runs leave them out.
 */
#ifndef HSMCA_ISSUE_GENCRL_H
#define HSMCA_ISSUE_GENCRL_H

#include <jansson.h>

#include "common/err.h"
#include "quorum/twophase.h"

#define CA_CRL_DAYS_DEFAULT 7

struct ca_gencrl_params {
	long days;		   /* nextUpdate = thisUpdate + days */
	int partitions;		   /* --partitions N (0: not given) */
	long partition_size;	   /* --partition-size BYTES (0: not given) */
	const char *partition_url; /* --partition-url TEMPLATE with {n} */
	int der;		   /* --format der (default PEM) */
	const char *out;	   /* --out FILE (no partitions) */
	const char *out_dir;	   /* --out-dir DIR (partitions) */
	const char *lint_cert;	   /* --lint-cert FILE */
	const char *pin_source;
	int force;
	struct ca_twophase tp;
};

struct ca_gencrl_result {
	json_t *crls;	      /* [{file, scope, partition, url, crl_number,
			       *   entries, this_update, next_update, bytes,
			       *   sha256}] */
	json_t *partitioning; /* the partition configuration, or NULL */
	int prepared;	      /* wrote an approval request only */
};

int ca_gencrl(const char *dir, const struct ca_gencrl_params *p,
	      struct ca_gencrl_result *res) CA_WUR;
void ca_gencrl_result_free(struct ca_gencrl_result *res);

#endif
