/* The token anchor: the state of a CA's store that its key has committed
 * to, kept on the key's token where a host without the PIN cannot change
 * it. One private data object per CA key (CKO_DATA, CKA_APPLICATION
 * "hsmca anchor", CKA_LABEL "hsmca anchor " and the key's SPKI SHA-256;
 * on a token that refuses those, a secret key of that label: see
 * ca_token_data_write) holds, as compact JSON:
 *   {"version":1, "gen": a counter raised by every write (of two objects
 *    left by an interrupted replacement, the higher wins),
 *    "ca_id": the owning CA directory's random id,
 *    "committed": STATE, "pending": STATE or absent}
 * where STATE is {"seq", "hash": the audit head, "crl": the last CRL
 * number, "nonces", "nonce_digest": the count of executed approvals and
 * the SHA-256 of their nonces in execution order}.
 *
 * Before signing, ca_anchor_verify() resolves a pending state (see below)
 * and refuses (CA_EPOLICY) a store of another CA directory, a store
 * without the committed audit entry (rolled back, restored from an older
 * copy, or damaged), a CRL number below the committed one and executed
 * approvals that differ from the committed ones. The store may be ahead
 * of the anchor (entries written by tools that do not open the token).
 *
 * Every commit of an anchored store writes the state it is about to
 * commit as pending, commits, then promotes pending to committed. A
 * pending state the store holds is promoted at the next open; one it does
 * not hold while it holds the committed one is dropped (that commit never
 * happened). Nothing else is accepted.
 */
#ifndef HSMCA_SIGN_ANCHOR_H
#define HSMCA_SIGN_ANCHOR_H

#include "common/err.h"
#include "providers/hsmca/token/token.h"
#include "store/store.h"

#define CA_ANCHOR_APP "hsmca anchor"

struct ca_anchor_state {
	long seq;
	char hash[65];
	long long crl;
	long nonces;
	char nonce_digest[65];
};

struct ca_anchor {
	ca_token *tok; /* a reference */
	char label[96];
	char ca_id[33];
	long long gen; /* written with every change: the newer object wins */
	struct ca_anchor_state committed, pending;
	int has_pending;
	char *dir; /* the CA directory, for messages */
};

/* The anchor of the key with this SPKI SHA-256 (hex) on tok, or *out NULL
 * when the token holds none. Needs a login. */
int ca_anchor_open(ca_token *tok, const char *spki_hex,
		   struct ca_anchor **out) CA_WUR;
/* Create the anchor of a new CA (ca_id, 32 hex) at the store's state.
 * Refuses when the key has one (it serves another CA directory). */
int ca_anchor_create(ca_token *tok, const char *spki_hex, const char *ca_id,
		     const char *dir, ca_store *s,
		     struct ca_anchor **out) CA_WUR;
/* Remove the anchor made by a CA creation that did not complete. */
void ca_anchor_destroy(struct ca_anchor *a);
void ca_anchor_free(struct ca_anchor *a);
/* The store's state (audit head, CRL number, executed approvals). */
int ca_anchor_state_of(ca_store *s, long nonces,
		       struct ca_anchor_state *st) CA_WUR;
/* Resolve a pending state and check the store against the anchor (see
 * above); ca_id is the directory's. */
int ca_anchor_verify(struct ca_anchor *a, ca_store *s, const char *ca_id,
		     const char *dir) CA_WUR;
/* From now on every commit of s advances the anchor. */
void ca_anchor_attach(struct ca_anchor *a, ca_store *s);

#endif
