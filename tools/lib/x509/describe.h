/* A TBSCertificate or TBSCertList decoded for the people who approve it:
 * every field from the bytes themselves, as JSON. Text is printable ASCII:
 * other bytes appear as \xNN (names as RFC 2253 escapes). */
#ifndef HSMCA_X509_DESCRIBE_H
#define HSMCA_X509_DESCRIBE_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

/* { version, subject, issuer, serial, not_before, not_after,
 *   signature_algorithm, public_key: { type, bits, curve, spki_sha256 },
 *   extensions: [{ name, oid, critical, value }] }. Not a TBSCertificate:
 * CA_EPOLICY. */
int ca_describe_cert(const unsigned char *tbs, size_t tbs_len,
		     json_t **out) CA_WUR;
/* { version, issuer, signature_algorithm, this_update, next_update,
 *   crl_number, entries, first_entries (the first ten), extensions }. Not a
 * TBSCertList: CA_EPOLICY. */
int ca_describe_crl(const unsigned char *tbs, size_t tbs_len,
		    json_t **out) CA_WUR;

#endif
