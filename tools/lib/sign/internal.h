/* Private to sign/: the raw byte signer, which signs whatever it is
 * given. Everything outside this folder signs through a typed entry
 * point (sign/tbs.h, sign/csr.h, sign/approval.h). */
#ifndef HSMCA_SIGN_INTERNAL_H
#define HSMCA_SIGN_INTERNAL_H

#include <stddef.h>

#include "common/err.h"
#include "sign/signer.h"

/* Sign data exactly as given (hashing in software, C_Sign on the token). */
int ca_signer_sign(struct ca_signer *s, const unsigned char *data, size_t len,
		   unsigned char **sig, size_t *siglen) CA_WUR;

/* Streaming signature for large data: init, update..., final. */
typedef struct ca_sign_stream ca_sign_stream;
int ca_sign_stream_new(struct ca_signer *s, ca_sign_stream **out) CA_WUR;
int ca_sign_stream_update(ca_sign_stream *st, const void *data,
			  size_t len) CA_WUR;
int ca_sign_stream_final(ca_sign_stream *st, unsigned char **sig,
			 size_t *siglen) CA_WUR; /* frees st */
void ca_sign_stream_free(ca_sign_stream *st);

#endif
