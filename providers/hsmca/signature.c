/* SIGNATURE for token keys (provider-signature(7)): hash in software with
 * the private library context, C_Sign on the token. RSA PKCS#1 v1.5 and
 * RSASSA-PSS (RFC 8017 8.1, 8.2), ECDSA (raw r||s from CKM_ECDSA, DER as in
 * RFC 5480 2.2.3), Ed25519 (CKM_EDDSA over the message, RFC 8032).
 * Signing only: verification is the default provider's job.
 */
#include "prov.h"
#include "token/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define MAX_DIGEST   64
#define MAX_AID	     128
#define MAX_EC_FIELD 66 /* P-521 */

struct sigctx {
	struct ca_prov *prov;
	enum ca_keytype alg; /* what this SIGNATURE implements */
	ca_key *key;
	size_t max_size;
	int md_nid; /* NID_undef: not set */
	EVP_MD_CTX *mdctx;
	int hashing;  /* data went into mdctx: the digest is fixed */
	int pad;      /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
	int saltlen;  /* RSA_PSS_SALTLEN_DIGEST/AUTO/MAX or a length */
	int mgf1_nid; /* NID_undef: the message digest */
	unsigned char aid[MAX_AID];
	size_t aid_len;
	/* The token hashes (ca_key_sig_mech): the data goes to op. */
	ca_sign_op *op;
	int op_moved; /* op went to a duplicate (EVP_DigestSignFinal) */
	CK_RSA_PKCS_PSS_PARAMS pss;
};

/* --- digests --------------------------------------------------------- */

static const struct digest {
	int nid;
	const char *name;
	CK_MECHANISM_TYPE ckm;
	CK_RSA_PKCS_MGF_TYPE mgf;
	unsigned char info[19];	   /* RFC 8017 9.2 note 1: DigestInfo prefix */
	unsigned char rsa_aid[15]; /* sha*WithRSAEncryption, NULL params */
	unsigned char ecdsa_aid[12]; /* ecdsa-with-SHA*, absent params */
} digests[] = {
    {NID_sha256,
     "SHA256",
     CKM_SHA256,
     CKG_MGF1_SHA256,
     {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
      0x0b, 0x05, 0x00},
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}},
    {NID_sha384,
     "SHA384",
     CKM_SHA384,
     CKG_MGF1_SHA384,
     {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
      0x0c, 0x05, 0x00},
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}},
    {NID_sha512,
     "SHA512",
     CKM_SHA512,
     CKG_MGF1_SHA512,
     {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
      0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
     {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
      0x0d, 0x05, 0x00},
     {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}},
};

/* RFC 8410 3: id-Ed25519, parameters absent. */
static const unsigned char ed25519_aid[] = {0x30, 0x05, 0x06, 0x03,
					    0x2b, 0x65, 0x70};

static const struct digest *digest_by_nid(int nid)
{
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (digests[i].nid == nid)
			return &digests[i];
	}
	return NULL;
}

/* Any name OpenSSL knows for SHA-256/384/512 ("SHA256", "SHA2-256",
 * "sha256", the OID...). Everything else is refused. */
static int digest_nid(const char *name, int *nid)
{
	size_t i;
	const EVP_MD *md;

	for (i = 0; name != NULL && i < sizeof(digests) / sizeof(digests[0]);
	     i++) {
		md = ca_p11_md(digests[i].nid);
		if (md != NULL && EVP_MD_is_a(md, name)) {
			*nid = digests[i].nid;
			return CA_OK;
		}
	}
	return ca_err(CA_EPOLICY,
		      "digest %s is not supported for token keys "
		      "(SHA-256, SHA-384, SHA-512 only)",
		      name != NULL ? name : "(none)");
}

static int fail(struct sigctx *ctx, int rc)
{
	CA_RAISE(ctx->prov, rc);
	return 0;
}

/* --- contexts -------------------------------------------------------- */

static void *newctx(void *provctx, enum ca_keytype alg)
{
	struct sigctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	ctx->prov = provctx;
	ctx->alg = alg;
	ctx->pad = RSA_PKCS1_PADDING;
	ctx->saltlen = RSA_PSS_SALTLEN_DIGEST;
	return ctx;
}

static void *rsa_newctx(void *provctx, const char *propq)
{
	(void)propq;
	return newctx(provctx, CA_KT_RSA);
}

static void *ecdsa_newctx(void *provctx, const char *propq)
{
	(void)propq;
	return newctx(provctx, CA_KT_EC);
}

static void *ed25519_newctx(void *provctx, const char *propq)
{
	(void)propq;
	return newctx(provctx, CA_KT_ED25519);
}

static void freectx(void *vctx)
{
	struct sigctx *ctx = vctx;

	if (ctx == NULL)
		return;
	ca_sign_op_free(ctx->op);
	EVP_MD_CTX_free(ctx->mdctx);
	ca_key_free(ctx->key);
	free(ctx);
}

/* OpenSSL 3.0's EVP_DigestSignFinal signs a duplicate of the context. A
 * token operation cannot be copied: it moves to the duplicate, and the
 * original refuses to go on (PKCS#11 has no portable way to fork one). */
static void *dupctx(void *vctx)
{
	struct sigctx *src = vctx, *dst;

	dst = malloc(sizeof(*dst));
	if (dst == NULL)
		return NULL;
	*dst = *src;
	dst->mdctx = NULL;
	if (src->op != NULL) {
		src->op = NULL;
		src->op_moved = 1;
	}
	if (src->key != NULL)
		ca_key_ref(src->key);
	if (src->mdctx != NULL &&
	    ((dst->mdctx = EVP_MD_CTX_new()) == NULL ||
	     EVP_MD_CTX_copy_ex(dst->mdctx, src->mdctx) != 1)) {
		freectx(dst);
		return NULL;
	}
	return dst;
}

static int set_digest(struct sigctx *ctx, const char *name)
{
	int nid, rc;

	GUARD(digest_nid(name, &nid));
	if (ctx->hashing && nid != ctx->md_nid) {
		rc =
		    ca_err(CA_EUSAGE, "the digest cannot change while hashing");
		goto out;
	}
	ctx->md_nid = nid;
	ctx->aid_len = 0;
	if (ctx->mdctx != NULL &&
	    EVP_DigestInit_ex(ctx->mdctx, ca_p11_md(nid), NULL) != 1)
		rc = ca_err(CA_EIO, "cannot start %s", name);
out:
	return rc;
}

static int set_ctx_params(void *vctx, const OSSL_PARAM params[]);

/* Common part of sign_init and digest_sign_init. */
static int init_key(struct sigctx *ctx, ca_key *key)
{
	if (key == NULL)
		key = ctx->key;
	if (key == NULL || key->type != ctx->alg)
		return ca_err(CA_EUSAGE, "the key does not fit this signature "
					 "algorithm");
	if (key != ctx->key) {
		ca_key_free(ctx->key);
		ctx->key = ca_key_ref(key);
	}
	ctx->max_size = (size_t)EVP_PKEY_get_size(key->pub);
	ca_sign_op_free(ctx->op);
	ctx->op = NULL;
	ctx->op_moved = 0;
	ctx->hashing = 0;
	ctx->aid_len = 0;
	ctx->md_nid = NID_undef;
	return CA_OK;
}

static int sign_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	int rc = init_key(ctx, provkey);

	if (rc < 0)
		return fail(ctx, rc);
	EVP_MD_CTX_free(ctx->mdctx);
	ctx->mdctx = NULL;
	return set_ctx_params(ctx, params);
}

static int digest_sign_init(void *vctx, const char *mdname, void *provkey,
			    const OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	int rc;

	GUARD(init_key(ctx, provkey));
	if (ctx->alg == CA_KT_ED25519) {
		/* RFC 8032 5.1: PureEdDSA hashes inside the algorithm */
		if (mdname != NULL && mdname[0] != '\0')
			rc = ca_err(CA_EUSAGE, "Ed25519 takes no digest");
		goto out;
	}
	if (ctx->mdctx == NULL && (ctx->mdctx = EVP_MD_CTX_new()) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(set_digest(ctx, mdname != NULL && mdname[0] != '\0' ? mdname
								  : "SHA256"));
out:
	if (rc < 0)
		return fail(ctx, rc);
	return set_ctx_params(ctx, params);
}

static int pss_salt(const struct sigctx *ctx, const struct digest *d,
		    int *salt);

static enum ca_sig_scheme scheme(const struct sigctx *ctx)
{
	if (ctx->alg == CA_KT_EC)
		return CA_SIG_ECDSA;
	if (ctx->alg == CA_KT_ED25519)
		return CA_SIG_EDDSA;
	return ctx->pad == RSA_PKCS1_PSS_PADDING ? CA_SIG_PSS : CA_SIG_PKCS1;
}

/* RSASSA-PSS parameters for the token (PKCS#11 v2.40 2.1.10). */
static int pss_params(struct sigctx *ctx, const struct digest *d)
{
	int mgf = ctx->mgf1_nid != NID_undef ? ctx->mgf1_nid : d->nid;
	int salt, rc;

	GUARD(pss_salt(ctx, d, &salt));
	ctx->pss.hashAlg = d->ckm;
	ctx->pss.mgf = digest_by_nid(mgf)->mgf;
	ctx->pss.sLen = (CK_ULONG)salt;
out:
	return rc;
}

/* Before the first data: does the token hash? Then start its operation.
 * *token: 1 when the data goes to the token. */
static int start(struct sigctx *ctx, int *token)
{
	const struct digest *d = digest_by_nid(ctx->md_nid);
	struct ca_sig_mech m;
	void *param = NULL;
	CK_ULONG plen = 0;
	int rc;

	*token = ctx->op != NULL;
	if (ctx->op_moved) {
		rc = ca_err(CA_EUSAGE, "this signature was already finished");
		goto out;
	}
	if (ctx->op != NULL || ctx->hashing || d == NULL) {
		rc = CA_OK;
		goto out;
	}
	GUARD(ca_key_sig_mech(ctx->key, scheme(ctx), ctx->md_nid, 0, &m));
	if (!m.token_hashes)
		goto out;
	if (scheme(ctx) == CA_SIG_PSS) {
		GUARD(pss_params(ctx, d));
		param = &ctx->pss;
		plen = sizeof(ctx->pss);
	}
	GUARD(ca_key_sign_begin(ctx->key, m.mech, param, plen, &ctx->op));
	*token = 1;
out:
	return rc;
}

static int digest_sign_update(void *vctx, const unsigned char *data, size_t len)
{
	struct sigctx *ctx = vctx;
	int token, rc;

	GUARD(start(ctx, &token));
	if (token) {
		rc = ca_sign_op_update(ctx->op, data, len);
		goto out;
	}
	if (ctx->mdctx == NULL ||
	    EVP_DigestUpdate(ctx->mdctx, data, len) != 1) {
		rc = ca_err(CA_EIO, "hashing failed");
		goto out;
	}
	ctx->hashing = 1;
out:
	return rc < 0 ? fail(ctx, rc) : 1;
}

/* --- signing --------------------------------------------------------- */

/* RFC 8017 9.1: emLen = ceil((modBits - 1) / 8), sLen <= emLen - hLen - 2 */
static int pss_salt(const struct sigctx *ctx, const struct digest *d, int *salt)
{
	int hlen = EVP_MD_get_size(ca_p11_md(d->nid));
	int max = (ctx->key->bits - 1 + 7) / 8 - hlen - 2;

	switch (ctx->saltlen) {
	case RSA_PSS_SALTLEN_DIGEST:
		*salt = hlen;
		break;
	case RSA_PSS_SALTLEN_AUTO:
	case RSA_PSS_SALTLEN_MAX:
		*salt = max;
		break;
	default:
		*salt = ctx->saltlen;
		break;
	}
	if (*salt < 0 || *salt > max)
		return ca_err(CA_EUSAGE,
			      "PSS salt length %d is out of range "
			      "(0 to %d for this key)",
			      *salt, max);
	return CA_OK;
}

/* A digest in hand: the raw mechanisms. */
static int rsa_sign(struct sigctx *ctx, const struct digest *d,
		    const unsigned char *dgst, size_t dlen, unsigned char *sig,
		    size_t *siglen)
{
	unsigned char info[sizeof(d->info) + MAX_DIGEST];
	struct ca_sig_mech m;
	int rc;

	GUARD(ca_key_sig_mech(ctx->key, scheme(ctx), d->nid, 1, &m));
	if (ctx->pad == RSA_PKCS1_PADDING) {
		/* RFC 8017 9.2 EMSA-PKCS1-v1_5: the token pads DigestInfo */
		memcpy(info, d->info, sizeof(d->info));
		memcpy(info + sizeof(d->info), dgst, dlen);
		rc = ca_key_sign(ctx->key, m.mech, NULL, 0, info,
				 sizeof(d->info) + dlen, sig, siglen);
		goto out;
	}
	GUARD(pss_params(ctx, d));
	rc = ca_key_sign(ctx->key, m.mech, &ctx->pss, sizeof(ctx->pss), dgst,
			 dlen, sig, siglen);
out:
	return rc;
}

/* One DER INTEGER (X.690 8.3) from big-endian unsigned bytes. */
static size_t der_int(const unsigned char *v, size_t n, unsigned char *out)
{
	size_t pad, o = 0;

	while (n > 1 && v[0] == 0)
		v++, n--;
	pad = (v[0] & 0x80) != 0;
	out[o++] = 0x02;
	out[o++] = (unsigned char)(n + pad);
	if (pad)
		out[o++] = 0;
	memcpy(out + o, v, n);
	return o + n;
}

/* Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 2.2.3) */
static int ecdsa_der(const unsigned char *rs, size_t len, unsigned char *sig,
		     size_t sigsize, size_t *siglen)
{
	unsigned char body[2 * (3 + MAX_EC_FIELD)];
	size_t n, o = 0;

	n = der_int(rs, len / 2, body);
	n += der_int(rs + len / 2, len / 2, body + n);
	if (n + (n >= 128 ? 3 : 2) > sigsize)
		return ca_err(CA_EIO, "ECDSA signature buffer too small");
	sig[o++] = 0x30;
	if (n >= 128)
		sig[o++] = 0x81;
	sig[o++] = (unsigned char)n;
	memcpy(sig + o, body, n);
	*siglen = o + n;
	return CA_OK;
}

/* The token's raw r||s is two field-sized integers. */
static int ecdsa_check(const struct sigctx *ctx, size_t len)
{
	size_t field = ((size_t)ctx->key->bits + 7) / 8;

	if (len != 2 * field)
		return ca_err(CA_EIO,
			      "the token returned an ECDSA signature of "
			      "%zu bytes, expected %zu",
			      len, 2 * field);
	return CA_OK;
}

static int ecdsa_sign(struct sigctx *ctx, const unsigned char *dgst,
		      size_t dlen, unsigned char *sig, size_t sigsize,
		      size_t *siglen)
{
	unsigned char rs[2 * MAX_EC_FIELD];
	size_t len = sizeof(rs);
	struct ca_sig_mech m;
	int rc;

	GUARD(ca_key_sig_mech(ctx->key, CA_SIG_ECDSA, ctx->md_nid, 1, &m));
	GUARD(ca_key_sign(ctx->key, m.mech, NULL, 0, dgst, dlen, rs, &len));
	GUARD(ecdsa_check(ctx, len));
	rc = ecdsa_der(rs, len, sig, sigsize, siglen);
out:
	return rc;
}

static int sign_digest(struct sigctx *ctx, const unsigned char *dgst,
		       size_t dlen, unsigned char *sig, size_t *siglen,
		       size_t sigsize)
{
	const struct digest *d = digest_by_nid(ctx->md_nid);
	size_t len = sigsize;
	int rc;

	if (d == NULL || EVP_MD_get_size(ca_p11_md(d->nid)) != (int)dlen) {
		rc = ca_err(CA_EUSAGE,
			    "the input is not a SHA-256/384/512 digest "
			    "of the configured digest");
		goto out;
	}
	if (sigsize < ctx->max_size) {
		rc = ca_err(CA_EUSAGE, "signature buffer too small");
		goto out;
	}
	if (ctx->alg == CA_KT_RSA)
		rc = rsa_sign(ctx, d, dgst, dlen, sig, &len);
	else
		rc = ecdsa_sign(ctx, dgst, dlen, sig, sigsize, &len);
	if (rc == CA_OK)
		*siglen = len;
out:
	return rc;
}

/* The token hashed the data: its signature (ECDSA raw r||s made DER). */
static int token_final(struct sigctx *ctx, unsigned char *sig, size_t *siglen,
		       size_t sigsize)
{
	unsigned char rs[2 * MAX_EC_FIELD];
	size_t len = ctx->alg == CA_KT_EC ? sizeof(rs) : sigsize;
	int rc;

	rc = ca_sign_op_final(ctx->op, ctx->alg == CA_KT_EC ? rs : sig, &len);
	ctx->op = NULL;
	if (rc < 0 || ctx->alg != CA_KT_EC) {
		if (rc == CA_OK)
			*siglen = len;
		goto out;
	}
	GUARD(ecdsa_check(ctx, len));
	rc = ecdsa_der(rs, len, sig, sigsize, siglen);
out:
	return rc;
}

static int digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
			     size_t sigsize)
{
	struct sigctx *ctx = vctx;
	unsigned char dgst[MAX_DIGEST];
	unsigned int dlen = 0;
	int token, rc;

	if (sig == NULL) {
		*siglen = ctx->max_size;
		return 1;
	}
	if (sigsize < ctx->max_size) {
		rc = ca_err(CA_EUSAGE, "signature buffer too small");
		goto out;
	}
	GUARD(start(ctx, &token));
	if (token) {
		rc = token_final(ctx, sig, siglen, sigsize);
		goto out;
	}
	if (ctx->mdctx == NULL ||
	    EVP_DigestFinal_ex(ctx->mdctx, dgst, &dlen) != 1) {
		rc = ca_err(CA_EIO, "hashing failed");
		goto out;
	}
	ctx->hashing = 0;
	rc = sign_digest(ctx, dgst, dlen, sig, siglen, sigsize);
out:
	return rc < 0 ? fail(ctx, rc) : 1;
}

static int digest_sign(void *vctx, unsigned char *sig, size_t *siglen,
		       size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
	struct sigctx *ctx = vctx;
	struct ca_sig_mech m;
	size_t len = sigsize;
	int token, rc = CA_OK;

	if (sig == NULL) {
		*siglen = ctx->max_size;
		return 1;
	}
	if (ctx->alg == CA_KT_ED25519) {
		/* RFC 8032 5.1.6: the token signs the message itself */
		GUARD(
		    ca_key_sig_mech(ctx->key, CA_SIG_EDDSA, NID_undef, 0, &m));
		rc = ca_key_sign(ctx->key, m.mech, NULL, 0, tbs, tbslen, sig,
				 &len);
		if (rc == CA_OK)
			*siglen = len;
		goto out;
	}
	ctx->hashing = 0;
	GUARD(start(ctx, &token));
	if (token) {
		GUARD(ca_sign_op_update(ctx->op, tbs, tbslen));
		return digest_sign_final(ctx, sig, siglen, sigsize);
	}
	if (ctx->mdctx == NULL ||
	    EVP_DigestInit_ex(ctx->mdctx, ca_p11_md(ctx->md_nid), NULL) != 1 ||
	    EVP_DigestUpdate(ctx->mdctx, tbs, tbslen) != 1) {
		rc = ca_err(CA_EIO, "hashing failed");
		goto out;
	}
	ctx->hashing = 1;
	return digest_sign_final(ctx, sig, siglen, sigsize);
out:
	return rc < 0 ? fail(ctx, rc) : 1;
}

/* EVP_PKEY_sign: tbs is a digest already. */
static int sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
		const unsigned char *tbs, size_t tbslen)
{
	struct sigctx *ctx = vctx;
	int rc = CA_OK;

	if (sig == NULL) {
		*siglen = ctx->max_size;
		return 1;
	}
	if (ctx->md_nid == NID_undef && ctx->alg == CA_KT_EC)
		ctx->md_nid = tbslen == 32   ? NID_sha256
			      : tbslen == 48 ? NID_sha384
			      : tbslen == 64 ? NID_sha512
					     : NID_undef;
	if (ctx->md_nid == NID_undef)
		rc = ca_err(CA_EUSAGE, "set the digest (SHA-256, SHA-384 or "
				       "SHA-512) to sign a digest");
	else
		rc = sign_digest(ctx, tbs, tbslen, sig, siglen, sigsize);
	return rc < 0 ? fail(ctx, rc) : 1;
}

/* --- AlgorithmIdentifier --------------------------------------------- */

/* RFC 4055 2.1: a hash AlgorithmIdentifier with NULL parameters, as
 * OpenSSL's default provider writes them (X509_ALGOR_set_md leaves them
 * absent for SHA-2). */
static int md_null(X509_ALGOR *alg, int nid)
{
	return X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_NULL, NULL);
}

/* RFC 4055 3.1 RSASSA-PSS-params: hash and MGF1 hash always present (we
 * never use the SHA-1 defaults), saltLength unless the default 20. */
int ca_rsa_pss_aid(int md_nid, int mgf1_nid, int salt, unsigned char *out,
		   size_t cap, size_t *len)
{
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgfmd = X509_ALGOR_new(), *alg = X509_ALGOR_new();
	ASN1_STRING *str = NULL;
	unsigned char *p = out;
	int n, rc;

	rc = ca_err(CA_EIO, "cannot encode the RSASSA-PSS parameters");
	if (pss == NULL || mgfmd == NULL || alg == NULL ||
	    (pss->hashAlgorithm = X509_ALGOR_new()) == NULL ||
	    (pss->maskGenAlgorithm = X509_ALGOR_new()) == NULL)
		goto out;
	if (md_null(pss->hashAlgorithm, md_nid) != 1 ||
	    md_null(mgfmd, mgf1_nid) != 1 ||
	    (str = ASN1_item_pack(mgfmd, ASN1_ITEM_rptr(X509_ALGOR), NULL)) ==
		NULL ||
	    X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
			    V_ASN1_SEQUENCE, str) != 1)
		goto out;
	str = NULL;
	if (salt != 20 && ((pss->saltLength = ASN1_INTEGER_new()) == NULL ||
			   ASN1_INTEGER_set(pss->saltLength, salt) != 1))
		goto out;
	if ((str = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL)) ==
		NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE,
			    str) != 1)
		goto out;
	str = NULL;
	n = i2d_X509_ALGOR(alg, NULL);
	if (n <= 0 || (size_t)n > cap || i2d_X509_ALGOR(alg, &p) != n)
		goto out;
	*len = (size_t)n;
	rc = CA_OK;
out:
	ASN1_STRING_free(str);
	X509_ALGOR_free(alg);
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	return rc;
}

static int pss_aid(struct sigctx *ctx, const struct digest *d)
{
	int mgf = ctx->mgf1_nid != NID_undef ? ctx->mgf1_nid : d->nid;
	int salt, rc;

	GUARD(pss_salt(ctx, d, &salt));
	rc = ca_rsa_pss_aid(d->nid, mgf, salt, ctx->aid, sizeof(ctx->aid),
			    &ctx->aid_len);
out:
	return rc;
}

static int make_aid(struct sigctx *ctx)
{
	const struct digest *d = digest_by_nid(ctx->md_nid);
	const unsigned char *aid = NULL;
	size_t len = 0;

	if (ctx->aid_len > 0)
		return CA_OK;
	if (ctx->alg == CA_KT_ED25519) {
		aid = ed25519_aid;
		len = sizeof(ed25519_aid);
	} else if (d == NULL) {
		return ca_err(CA_EUSAGE, "no digest set");
	} else if (ctx->alg == CA_KT_EC) {
		aid = d->ecdsa_aid;
		len = sizeof(d->ecdsa_aid);
	} else if (ctx->pad == RSA_PKCS1_PADDING) {
		aid = d->rsa_aid;
		len = sizeof(d->rsa_aid);
	} else {
		return pss_aid(ctx, d);
	}
	memcpy(ctx->aid, aid, len);
	ctx->aid_len = len;
	return CA_OK;
}

/* --- parameters ------------------------------------------------------ */

static const struct {
	int v;
	const char *name;
} saltlens[] = {
    {RSA_PSS_SALTLEN_DIGEST, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST},
    {RSA_PSS_SALTLEN_MAX, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX},
    {RSA_PSS_SALTLEN_AUTO, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO},
};

static int get_saltlen(const struct sigctx *ctx, OSSL_PARAM *p)
{
	char num[16];
	size_t i;

	if (p->data_type == OSSL_PARAM_INTEGER)
		return OSSL_PARAM_set_int(p, ctx->saltlen);
	for (i = 0; i < sizeof(saltlens) / sizeof(saltlens[0]); i++) {
		if (saltlens[i].v == ctx->saltlen)
			return OSSL_PARAM_set_utf8_string(p, saltlens[i].name);
	}
	snprintf(num, sizeof(num), "%d", ctx->saltlen);
	return OSSL_PARAM_set_utf8_string(p, num);
}

static int get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	const struct digest *d = digest_by_nid(ctx->md_nid);
	OSSL_PARAM *p;
	int rc;

	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
	if (p != NULL) {
		rc = make_aid(ctx);
		if (rc < 0)
			return fail(ctx, rc);
		if (!OSSL_PARAM_set_octet_string(p, ctx->aid, ctx->aid_len))
			return 0;
	}
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
	if (p != NULL && d != NULL && !OSSL_PARAM_set_utf8_string(p, d->name))
		return 0;
	if (ctx->alg != CA_KT_RSA)
		return 1;
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
	if (p != NULL && !(p->data_type == OSSL_PARAM_INTEGER
			       ? OSSL_PARAM_set_int(p, ctx->pad)
			       : OSSL_PARAM_set_utf8_string(
				     p, ctx->pad == RSA_PKCS1_PADDING
					    ? OSSL_PKEY_RSA_PAD_MODE_PKCSV15
					    : OSSL_PKEY_RSA_PAD_MODE_PSS)))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
	if (p != NULL && !get_saltlen(ctx, p))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
	if (p != NULL) {
		d = digest_by_nid(ctx->mgf1_nid != NID_undef ? ctx->mgf1_nid
							     : ctx->md_nid);
		if (d != NULL && !OSSL_PARAM_set_utf8_string(p, d->name))
			return 0;
	}
	return 1;
}

static int set_pad(struct sigctx *ctx, const OSSL_PARAM *p)
{
	const char *s;
	int v = 0;

	if (p->data_type == OSSL_PARAM_INTEGER) {
		if (!OSSL_PARAM_get_int(p, &v))
			v = 0;
	} else if (OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
		v = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0
			? RSA_PKCS1_PADDING
		    : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0
			? RSA_PKCS1_PSS_PADDING
			: 0;
	}
	if (v != RSA_PKCS1_PADDING && v != RSA_PKCS1_PSS_PADDING)
		return ca_err(CA_EUSAGE, "RSA padding mode not supported for "
					 "token keys (pkcs1 or pss only)");
	ctx->pad = v;
	ctx->aid_len = 0;
	return CA_OK;
}

/* "digest", "max", "auto" or a number (strictly parsed). */
static int set_saltlen(struct sigctx *ctx, const OSSL_PARAM *p)
{
	const char *s;
	char *end;
	long v;
	size_t i;

	if (p->data_type == OSSL_PARAM_INTEGER) {
		int iv;

		if (!OSSL_PARAM_get_int(p, &iv) || iv < RSA_PSS_SALTLEN_MAX)
			goto bad;
		ctx->saltlen = iv;
		goto done;
	}
	if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
		goto bad;
	for (i = 0; i < sizeof(saltlens) / sizeof(saltlens[0]); i++) {
		if (strcmp(s, saltlens[i].name) == 0) {
			ctx->saltlen = saltlens[i].v;
			goto done;
		}
	}
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0 || v > 1024)
		goto bad;
	ctx->saltlen = (int)v;
done:
	ctx->aid_len = 0;
	return CA_OK;
bad:
	return ca_err(CA_EUSAGE, "bad PSS salt length");
}

static int set_rsa_params(struct sigctx *ctx, const OSSL_PARAM params[])
{
	const OSSL_PARAM *p;
	const char *s;
	int nid, rc = CA_OK;

	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
	if (p != NULL)
		GUARD(set_pad(ctx, p));
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
	if (p != NULL)
		GUARD(set_saltlen(ctx, p));
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
	if (p != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
			rc = ca_err(CA_EUSAGE, "bad MGF1 digest");
			goto out;
		}
		GUARD(digest_nid(s, &nid));
		ctx->mgf1_nid = nid;
		ctx->aid_len = 0;
	}
out:
	return rc;
}

static int set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	const OSSL_PARAM *p;
	const char *s;
	int rc = CA_OK;

	if (params == NULL || ctx->alg == CA_KT_ED25519)
		return 1;
	p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
	if (p != NULL) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
			rc = ca_err(CA_EUSAGE, "bad digest name");
			goto out;
		}
		GUARD(set_digest(ctx, s));
	}
	if (ctx->alg == CA_KT_RSA)
		rc = set_rsa_params(ctx, params);
out:
	return rc < 0 ? fail(ctx, rc) : 1;
}

static const OSSL_PARAM rsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM rsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ecdsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ecdsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ed25519_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ed25519_settable[] = {
    OSSL_PARAM_END,
};

#define TABLE_FN(pfx, what)                                                    \
	static const OSSL_PARAM *pfx##_##what##_ctx_params(void *c, void *p)   \
	{                                                                      \
		(void)c;                                                       \
		(void)p;                                                       \
		return pfx##_##what;                                           \
	}
TABLE_FN(rsa, gettable)
TABLE_FN(rsa, settable)
TABLE_FN(ecdsa, gettable)
TABLE_FN(ecdsa, settable)
TABLE_FN(ed25519, gettable)
TABLE_FN(ed25519, settable)

#define FN(id, f)                                                              \
	{                                                                      \
		OSSL_FUNC_SIGNATURE_##id, (void (*)(void))(f)                  \
	}
#define COMMON(pfx)                                                            \
	FN(NEWCTX, pfx##_newctx), FN(FREECTX, freectx), FN(DUPCTX, dupctx),    \
	    FN(DIGEST_SIGN_INIT, digest_sign_init),                            \
	    FN(DIGEST_SIGN, digest_sign), FN(GET_CTX_PARAMS, get_ctx_params),  \
	    FN(GETTABLE_CTX_PARAMS, pfx##_gettable_ctx_params),                \
	    FN(SET_CTX_PARAMS, set_ctx_params),                                \
	    FN(SETTABLE_CTX_PARAMS, pfx##_settable_ctx_params)
#define HASHING                                                                \
	FN(DIGEST_SIGN_UPDATE, digest_sign_update),                            \
	    FN(DIGEST_SIGN_FINAL, digest_sign_final),                          \
	    FN(SIGN_INIT, sign_init), FN(SIGN, sign)

const OSSL_DISPATCH ca_rsa_signature[] = {COMMON(rsa), HASHING, {0, NULL}};
const OSSL_DISPATCH ca_ecdsa_signature[] = {COMMON(ecdsa), HASHING, {0, NULL}};
const OSSL_DISPATCH ca_ed25519_signature[] = {COMMON(ed25519), {0, NULL}};
