#include "x509/der.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "x509/algid.h"

size_t ca_der_header(unsigned char tag, size_t len, unsigned char out[6])
{
	size_t n = 0, i;

	out[n++] = tag;
	if (len < 0x80) {
		out[n++] = (unsigned char)len;
		return n;
	}
	i = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
	out[n++] = (unsigned char)(0x80 | i);
	while (i-- > 0)
		out[n++] = (unsigned char)(len >> (8 * i));
	return n;
}

int ca_signed_assemble(const unsigned char *tbs, size_t tbs_len,
		       const unsigned char *algid, size_t algid_len,
		       const unsigned char *sig, size_t sig_len,
		       unsigned char **der, size_t *len)
{
	unsigned char bh[6], sh[6], *p;
	size_t bhl, shl, body;

	bhl = ca_der_header(0x03, sig_len + 1, bh);
	body = tbs_len + algid_len + bhl + sig_len + 1;
	shl = ca_der_header(0x30, body, sh);
	*len = shl + body;
	*der = p = malloc(*len);
	if (p == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(p, sh, shl);
	p += shl;
	memcpy(p, tbs, tbs_len);
	p += tbs_len;
	memcpy(p, algid, algid_len);
	p += algid_len;
	memcpy(p, bh, bhl);
	p += bhl;
	*p++ = 0x00; /* no unused bits */
	memcpy(p, sig, sig_len);
	return CA_OK;
}

/* Read one DER TLV at p (definite lengths up to 4 octets). */
static int der_tlv(const unsigned char *p, const unsigned char *end,
		   unsigned char *tag, const unsigned char **content,
		   size_t *len)
{
	size_t n, i, hdr = 2;

	if (end - p < 2)
		return -1;
	*tag = p[0];
	n = p[1];
	if (n & 0x80) {
		i = n & 0x7f;
		if (i == 0 || i > 4 || (size_t)(end - p) < 2 + i)
			return -1;
		for (n = 0; i > 0; i--, hdr++)
			n = n << 8 | p[hdr];
	}
	if ((size_t)(end - p) - hdr < n)
		return -1;
	*content = p + hdr;
	*len = n;
	return 0;
}

int ca_tbs_sigalg(const unsigned char *tbs, size_t tbs_len,
		  const unsigned char **algid, size_t *algid_len)
{
	const unsigned char *end = tbs + tbs_len, *c, *p;
	unsigned char tag;
	size_t len;

	/* TBSCertificate / TBSCertList: SEQUENCE { [0] version OPTIONAL or
	 * INTEGER version OPTIONAL, (serial INTEGER,) signature AlgId, ... } */
	if (der_tlv(tbs, end, &tag, &c, &len) < 0 || tag != 0x30)
		goto bad;
	end = c + len;
	p = c;
	while (p < end) {
		if (der_tlv(p, end, &tag, &c, &len) < 0)
			goto bad;
		if (tag == 0x30) {
			*algid = p;
			*algid_len = (size_t)(c + len - p);
			return CA_OK;
		}
		if (tag != 0xa0 && tag != 0x02)
			goto bad;
		p = c + len;
	}
bad:
	return ca_err(CA_EPOLICY,
		      "the data to be signed is not a TBS structure");
}

int ca_signed_verify(EVP_PKEY *issuer_pub, enum ca_sigalg alg,
		     const unsigned char *tbs, size_t tbs_len,
		     const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md != NULL &&
	     EVP_DigestVerifyInit_ex(md, NULL, ca_digest_for_key(issuer_pub),
				     NULL, NULL, issuer_pub, NULL) == 1 &&
	     ca_sigalg_apply(md, alg, ca_digest_for_key(issuer_pub)) == CA_OK &&
	     EVP_DigestVerify(md, sig, sig_len, tbs, tbs_len) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? CA_OK
		  : ca_err(CA_EIO,
			   "the token's signature does not verify with the "
			   "issuer's public key: nothing was written");
}
