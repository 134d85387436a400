/* Recording what a CA signed: the certificate row, the approval nonce and
 * the audit entry commit together, before any output file is written. */
#ifndef HSMCA_ISSUE_RECORD_H
#define HSMCA_ISSUE_RECORD_H

#include <openssl/x509.h>

#include "common/err.h"
#include "quorum/twophase.h"
#include "store/audit.h"

struct ca_issued {
	const char *kind;	 /* root, subca, cross, leaf */
	const char *profile;	 /* may be NULL */
	int partition;		 /* -1: none */
	const char *request_key; /* may be NULL */
	const char *notify;	 /* may be NULL */
};

/* Fill a store row from a certificate (strings point into buf fields). */
struct ca_cert_info {
	char serial[80];
	char spki_sha256[65];
	char *subject;
	char *cn;
	time_t not_before, not_after;
	unsigned char *der;
	size_t der_len;
};
int ca_cert_info(X509 *x, struct ca_cert_info *ci) CA_WUR;
void ca_cert_info_free(struct ca_cert_info *ci);

/* One transaction: the certificate row (+ approval nonce) + audit "ok". */
int ca_issue_record(ca_store *st, X509 *cert, const struct ca_issued *how,
		    const struct ca_tp *tp, ca_audit *a,
		    const char *detail) CA_WUR;
/* Append a refusal ("refused" for CA_EPOLICY, else "error") for rc and
 * return rc; the original message is kept for the tool to print. */
int ca_refusal(ca_store *st, ca_audit *a, int rc);

#endif
