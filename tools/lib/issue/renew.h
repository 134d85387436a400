/* Renewal: what to do with a request for a key this CA certified before.
 *
 * A request is known by its request key, the SHA-256 of everything that
 * shapes its certificate (key, subject, SANs, EKUs, profile, lifetime,
 * extensions, a csr-passthrough CSR's key usage, and the serial it
 * renews). The same request again is
 * "already issued" (idempotent re-runs); any other request for a key this
 * CA certified is refused unless it names the key's current certificate
 * to renew (--renew SERIAL, or "renew" in tls.json). A renewal issues a
 * new certificate and marks the old one superseded; the old one stays
 * valid until it expires or is revoked.
 */
#ifndef HSMCA_ISSUE_RENEW_H
#define HSMCA_ISSUE_RENEW_H

#include "common/err.h"
#include "store/lookup.h"

/* What the store knows about a request (NULL: no such certificate). */
struct ca_renew_facts {
	const char *spki;  /* the request's SPKI SHA-256, hex */
	const char *renew; /* the serial the request renews, or NULL */
	int batch;	   /* messages name "renew" rather than --renew */
	/* issued before for this very request key */
	const struct ca_cert_record *same;
	/* the key's current certificate (ca_store_cert_current) */
	const struct ca_cert_record *current;
	int key_certified; /* the key was ever certified by this CA */
	/* the certificate named by renew */
	const struct ca_cert_record *target;
};

enum ca_renew_outcome {
	CA_RENEW_ISSUE,	  /* a key this CA never certified: issue */
	CA_RENEW_ALREADY, /* the same request: report facts->same */
	CA_RENEW_RENEW,	  /* issue, and supersede facts->target */
};

/* Decide; CA_EPOLICY with a message naming what to do when refused. */
int ca_renew_decide(const struct ca_renew_facts *f,
		    enum ca_renew_outcome *outcome) CA_WUR;

#endif
