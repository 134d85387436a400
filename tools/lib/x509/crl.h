/* CRLs (RFC 5280 section 5): a streaming DER encoder for TBSCertList and
 * the lint run on it before the token signs.
 *
 * A TBSCertList is encoded as three pieces so that a million entries never
 * need to be in memory at once:
 *   prefix   SEQUENCE header, version v2, signature AlgorithmIdentifier,
 *            issuer, thisUpdate, nextUpdate and the revokedCertificates
 *            SEQUENCE header (absent when there are no entries);
 *   entries  each revokedCertificates entry, encoded on its own
 *            (ca_crl_entry_der) in the order the caller streams them;
 *   suffix   crlExtensions [0]: authorityKeyIdentifier (keyid = the CA's
 *            SKI), cRLNumber and, for a partition, a critical
 *            issuingDistributionPoint naming its URLs (fullName).
 * The prefix depends only on the total length of the entries, so a caller
 * encodes the entries first (counting their length), then the frame.
 *
 * Entries must come sorted by the magnitude bytes of their serials
 * (byte-wise, shorter first on a common prefix): with canonical serials
 * (no leading zero octet) strict order proves there are no duplicates,
 * which is what the streaming lint checks.
 */
#ifndef HSMCA_X509_CRL_H
#define HSMCA_X509_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/err.h"

#define CA_CRL_SERIAL_MAX 20 /* RFC 5280 4.1.2.2: at most 20 octets */
#define CA_CRL_ENTRY_MAX  64 /* buffer for one encoded entry */
/* Worst-case DER size of one entry: serial of 20 octets (22), a
 * GeneralizedTime (17) and a reasonCode extension (14), in a SEQUENCE. */
#define CA_CRL_ENTRY_WORST 55

/* RFC 5280 5.3.1 CRLReason. 7 is unused; removeFromCRL (8) belongs to
 * delta CRLs and never appears in a CRL we sign. */
enum {
	CA_REASON_UNSPECIFIED = 0,
	CA_REASON_KEY_COMPROMISE = 1,
	CA_REASON_CA_COMPROMISE = 2,
	CA_REASON_AFFILIATION_CHANGED = 3,
	CA_REASON_SUPERSEDED = 4,
	CA_REASON_CESSATION = 5,
	CA_REASON_CERTIFICATE_HOLD = 6,
	CA_REASON_REMOVE_FROM_CRL = 8,
	CA_REASON_PRIVILEGE_WITHDRAWN = 9,
	CA_REASON_AA_COMPROMISE = 10,
};

/* RFC 5280 names (case-insensitive) -> code; CA_EUSAGE when unknown. */
int ca_crl_reason_parse(const char *name, int *code) CA_WUR;
/* Code -> RFC 5280 name ("unknown" for anything else). */
const char *ca_crl_reason_name(int code);
/* A reason that may appear on a CRL entry we sign. */
int ca_crl_reason_listable(int code);

struct ca_crl_entry {
	unsigned char serial[CA_CRL_SERIAL_MAX]; /* magnitude, big-endian */
	size_t serial_len;
	time_t revoked_at;
	int reason; /* CA_REASON_*; unspecified: no reasonCode extension */
};

/* Canonical lowercase hex of a serial's magnitude (as the state store
 * keeps it) -> entry serial. Refuses anything not canonical: odd length,
 * a leading zero octet, zero, more than 20 octets, non-hex digits. */
int ca_crl_serial_from_hex(const char *hex, struct ca_crl_entry *e) CA_WUR;

/* DER of one revokedCertificates entry; *len <= CA_CRL_ENTRY_MAX. */
int ca_crl_entry_der(const struct ca_crl_entry *e,
		     unsigned char out[CA_CRL_ENTRY_MAX], size_t *len) CA_WUR;

/* DER Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280
 * 5.1.2.4); *len <= 17. */
int ca_crl_time_der(time_t t, unsigned char out[17], size_t *len) CA_WUR;

struct ca_crl_spec {
	const unsigned char *algid; /* signature AlgorithmIdentifier DER */
	size_t algid_len;
	const unsigned char *issuer; /* issuer Name DER (the CA's subject) */
	size_t issuer_len;
	const unsigned char *aki; /* keyIdentifier octets (the CA's SKI) */
	size_t aki_len;
	time_t this_update, next_update;
	uint64_t number;	     /* cRLNumber */
	const char *const *idp_urls; /* IDP fullName URIs; NULL: no IDP */
	size_t n_idp_urls;
};

struct ca_crl_frame {
	unsigned char *prefix;
	size_t prefix_len;
	unsigned char *suffix;
	size_t suffix_len;
	size_t tbs_len; /* prefix + entries + suffix */
};

/* Encode the frame around n_entries entries of entries_len bytes. */
int ca_crl_frame_new(const struct ca_crl_spec *spec, size_t n_entries,
		     size_t entries_len, struct ca_crl_frame *f) CA_WUR;
void ca_crl_frame_free(struct ca_crl_frame *f);

/* The issuer's key identifier for the AKI: its SKI extension, else the
 * SHA-1 of its subjectPublicKey (RFC 5280 4.2.1.2 method 1). */
int ca_crl_issuer_keyid(X509 *issuer, unsigned char out[64],
			size_t *len) CA_WUR;

#endif
