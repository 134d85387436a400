/* Signing a TBS on the token: certificates and CRLs, and nothing else
 * with a CA key. The signer takes only a struct ca_tbs (x509/tbs.h) and
 * refuses, before the token is asked, one the lint step did not mark, or,
 * when the key is quorum-protected (s->quorum), one the approval step did
 * not mark, and one whose bytes changed after either step. A refusal is
 * an internal error (CA_EIO): an action that reaches it is wired wrongly.
 * Certificates are verified with the issuer's public key before anything
 * is returned. */
#ifndef HSMCA_SIGN_TBS_H
#define HSMCA_SIGN_TBS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "sign/signer.h"
#include "x509/tbs.h"

/* Sign a certificate TBS and check the signature verifies with issuer_pub
 * before returning the signed DER (malloc'd). Refuses when the TBS
 * signature algorithm is not the signer's. */
int ca_cert_sign_der(struct ca_signer *s, const struct ca_tbs *t,
		     EVP_PKEY *issuer_pub, unsigned char **der,
		     size_t *der_len) CA_WUR;
/* The same, returning the parsed certificate. */
int ca_cert_sign(struct ca_signer *s, const struct ca_tbs *t,
		 EVP_PKEY *issuer_pub, X509 **out) CA_WUR;

/* A TBS held whole in memory: the raw signature (Ed25519 CRLs). */
int ca_tbs_sign(struct ca_signer *s, const struct ca_tbs *t,
		unsigned char **sig, size_t *siglen) CA_WUR;

/* A framed TBS whose body is streamed (large CRLs): new hashes the head,
 * update takes the body's chunks in order, final hashes the tail, checks
 * the marks against the body as streamed and only then signs (and frees
 * st). */
typedef struct ca_tbs_stream ca_tbs_stream;
int ca_tbs_stream_new(struct ca_signer *s, const struct ca_tbs *t,
		      ca_tbs_stream **out) CA_WUR;
int ca_tbs_stream_update(ca_tbs_stream *st, const unsigned char *body,
			 size_t len) CA_WUR;
int ca_tbs_stream_final(ca_tbs_stream *st, unsigned char **sig,
			size_t *siglen) CA_WUR;
void ca_tbs_stream_free(ca_tbs_stream *st);

#endif
