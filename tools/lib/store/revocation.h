/* Revocations in the state store: a certificate's state as revoke reads
 * it, and the three changes revoke makes (revoke, make a hold permanent,
 * release a hold). Run inside the caller's transaction. */
#ifndef HSMCA_STORE_REVOCATION_H
#define HSMCA_STORE_REVOCATION_H

#include <time.h>

#include "common/err.h"
#include "store/store.h"

/* A certificate and its revocation as the store has them. */
struct ca_cert_state {
	char serial[48];
	char kind[16];
	char *cn;
	char *subject;
	time_t not_before, not_after;
	int partition; /* -1: none */
	int revoked;
	int reason;
	time_t revoked_at;
};

/* *found = 0 when the CA never issued serial. */
int ca_store_cert_state(ca_store *st, const char *serial,
			struct ca_cert_state *cs, int *found) CA_WUR;
void ca_cert_state_free(struct ca_cert_state *cs);

/* A new revocation of cs (its partition and notAfter go with it). */
int ca_store_revocation_add(ca_store *st, const struct ca_cert_state *cs,
			    int reason, time_t revoked_at,
			    time_t recorded_at) CA_WUR;
/* A certificateHold made permanent with reason. */
int ca_store_revocation_set_reason(ca_store *st, const char *serial, int reason,
				   time_t recorded_at) CA_WUR;
/* A certificateHold released (removeFromCRL). */
int ca_store_revocation_delete(ca_store *st, const char *serial) CA_WUR;

#endif
