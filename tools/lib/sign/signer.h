/* Token keys as OpenSSL keys, through the hsmca provider in-process.
 *
 * ca_crypto_init() adds the provider as a built-in to the default library
 * context next to OpenSSL's default provider; every private-key operation
 * in the tools goes through it. A ca_signer is one token key: its provider
 * EVP_PKEY, its token (for the RNG), its identity and its public key as a
 * plain software key for verification.
 */
#ifndef HSMCA_SIGN_SIGNER_H
#define HSMCA_SIGN_SIGNER_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "providers/hsmca/token/token.h"
#include "x509/algid.h"

int ca_crypto_init(void) CA_WUR;
/* Finalize PKCS#11 modules; call before exit. */
void ca_crypto_fini(void);

struct ca_signer {
	EVP_PKEY *pkey;	       /* provider key: signs on the token */
	enum ca_sigalg sigalg; /* CA_SIGALG_DEFAULT unless set */
	EVP_PKEY *pub;	       /* the public key, software */
	ca_token *tok;	       /* the key's token (RNG) */
	char *uri;	       /* canonical key URI */
	char *token_label;
	char *token_serial;
	unsigned char spki_sha256[32];
	char spki_sha256_hex[65];
	int type; /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 */
	int bits;
	/* ca_signer_algid's answer for algid_sigalg, kept: the algorithm is
	 * set up once, not once per signature. */
	unsigned char *algid;
	size_t algid_len;
	enum ca_sigalg algid_sigalg;
	/* The key is protected by a quorum (the CA pins one): it signs a CA
	 * certificate or a CRL only when the approval step marked it. */
	int quorum;
};

/* Open the private key named by uri; log in to its token with a PIN from
 * pin_source (see common/pin.h) when the token is not logged in yet. */
int ca_signer_open(const char *uri, const char *pin_source,
		   struct ca_signer **out) CA_WUR;
/* The same when the key is expected to be the one of the certificate
 * expect (the CA's): s->pub is then the certificate's public key if the
 * token key's SubjectPublicKeyInfo is byte for byte the certificate's,
 * which also proves the match without decoding anything. */
int ca_signer_open_expect(const char *uri, const char *pin_source, X509 *expect,
			  struct ca_signer **out) CA_WUR;
/* The same key's public half only, without a login (pkey stays NULL):
 * for preparing approval requests, which never touch the private key. */
int ca_signer_open_public(const char *uri, struct ca_signer **out) CA_WUR;
void ca_signer_free(struct ca_signer *s);

/* DER AlgorithmIdentifier the signer produces (from the provider). */
int ca_signer_algid(struct ca_signer *s, unsigned char **der,
		    size_t *len) CA_WUR;
/* Signing is typed: certificates and CRLs through sign/tbs.h (a linted,
 * and for a quorum key approved, struct ca_tbs), CSRs through sign/csr.h,
 * approvals through sign/approval.h. The raw byte signer is private to
 * this folder (sign/internal.h). */

#endif
