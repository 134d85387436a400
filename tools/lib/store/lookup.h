/* Looking issued certificates up: by serial, or by a name they carry. */
#ifndef HSMCA_STORE_LOOKUP_H
#define HSMCA_STORE_LOOKUP_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "store/store.h"

/* A certificate as the store has it, with its revocation. */
struct ca_cert_record {
	char serial[48];
	char *subject, *cn, *kind, *profile, *spki_sha256;
	char *superseded_by; /* NULL: not superseded */
	char *notify;	     /* JSON text or NULL */
	time_t not_before, not_after, issued_at;
	int partition;	     /* -1: none */
	int revoked, reason; /* reason: CA_REASON_* when revoked */
	time_t revoked_at;
	unsigned char *der;
	size_t der_len;
};

/* *found = 0 when this CA never issued serial (lowercase hex). */
int ca_store_cert_lookup(ca_store *st, const char *serial,
			 struct ca_cert_record *rec, int *found) CA_WUR;
void ca_cert_record_free(struct ca_cert_record *rec);
/* The newest certificate issued for this request key (*found = 0: none).
 * Request keys are hashes over the SPKI SHA-256 (hex) given with them:
 * the lookup goes through the SPKI index. */
int ca_store_cert_by_request_key(ca_store *st, const char *spki_sha256,
				 const char *request_key,
				 struct ca_cert_record *rec, int *found) CA_WUR;
/* The key's current certificate: the newest one for this SPKI SHA-256
 * (hex) that is neither superseded nor revoked (*found = 0: none). */
int ca_store_cert_current(ca_store *st, const char *spki_sha256,
			  struct ca_cert_record *rec, int *found) CA_WUR;

/* Every certificate that may carry name: its CN (without case), or name's
 * bytes in its DER (a SAN; ip, when not NULL, is the binary address to
 * look for as well). A candidate list: the caller checks each one's names.
 * each returns < 0 to stop (that value is returned). */
typedef int (*ca_cert_each_fn)(const struct ca_cert_record *rec, void *ctx);
int ca_store_certs_named(ca_store *st, const char *name,
			 const unsigned char *ip, size_t ip_len,
			 ca_cert_each_fn each, void *ctx) CA_WUR;

#endif
