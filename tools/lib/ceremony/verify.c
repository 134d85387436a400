/* Verification of a ceremony's result, independently of the tools that
 * made it: OpenSSL's path validation (strict), certtool when installed,
 * the key, and the signed bytes against the approved ones. */
#include "ceremony/internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "base/read.h"
#include "base/sha256.h"
#include "input/csr.h"
#include "input/csrder.h"
#include "lint/csr.h"
#include "out/cadir.h"
#include "out/file.h"
#include "x509/serial.h"

/* Every certificate of a PEM file (at least one). */
static int load_chain(const char *path, STACK_OF(X509) * *out)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;
	int rc = CA_OK;

	*out = sk_X509_new_null();
	if (b == NULL || *out == NULL) {
		rc = ca_err(CA_EIO, "cannot read %s", path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(*out, x);
	ERR_clear_error();
	if (sk_X509_num(*out) == 0)
		rc = ca_err(CA_EUSAGE, "%s holds no certificate", path);
out:
	BIO_free(b);
	return rc;
}

/* OpenSSL path validation of x up to anchor, strictly. */
static int path_ok(X509 *x, X509 *anchor, STACK_OF(X509) * untrusted,
		   const char **why)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	*why = "out of memory";
	if (store == NULL || ctx == NULL ||
	    X509_STORE_add_cert(store, anchor) != 1 ||
	    X509_STORE_CTX_init(ctx, store, x, untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT |
					  X509_V_FLAG_CHECK_SS_SIGNATURE);
	ok = X509_verify_cert(ctx) == 1;
	*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* 1 when name is an executable in PATH. */
static int in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *e;
	char buf[4096];

	for (p = path; p != NULL && *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, name);
		if (e > p && access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* certtool (GnuTLS), a second implementation, when installed. */
static int certtool(struct ca_cer *c, const char *what, const char *mode,
		    const char *anchor, const char *infile)
{
	struct ca_argv a = {0};
	int rc, status = 0;

	if (!in_path("certtool")) {
		ca_say(c,
		       "  (certtool is not installed: its check is skipped)");
		return CA_OK;
	}
	ca_argv_add(&a, "certtool");
	ca_argv_add(&a, mode);
	ca_argv_add(&a, "--load-ca-certificate");
	ca_argv_add(&a, anchor);
	ca_argv_add(&a, "--infile");
	ca_argv_add(&a, infile);
	rc = ca_exec(c, &a, 0, NULL, &status);
	ca_argv_free(&a);
	if (rc < 0)
		return rc;
	return ca_check(c, status == 0, what, "certtool exit %d", status);
}

static int tbs_is_approved(struct ca_cer *c, enum ca_op op, const char *path)
{
	const char *want = ca_op_str(c, op, "tbs_sha256");
	char hex[65];
	int rc;

	GUARD(ca_tbs_sha256_of_file(path, hex));
	rc = ca_check(c, want != NULL && CRYPTO_memcmp(hex, want, 64) == 0,
		      "the signed bytes are byte for byte the approved ones",
		      "TBS SHA-256 %s, approved %s", hex,
		      want ? want : "(none)");
out:
	return rc;
}

static int spki_is(struct ca_cer *c, X509 *x, const char *want,
		   const char *what)
{
	char hex[65];

	ca_spki_sha256_hex(X509_get_X509_PUBKEY(x), hex);
	return ca_check(c, want != NULL && strcmp(hex, want) == 0, what,
			"the certificate holds %s", hex);
}

static int verify_root(struct ca_cer *c)
{
	char *crt = ca_dir_file(c->ca_dir, "ca.crt"),
	     *q = ca_dir_file(c->ca_dir, "quorum.json");
	char qa[65], qb[65];
	const char *why = "";
	X509 *x = NULL;
	int rc;

	GUARD(ca_cert_load(crt, &x));
	GUARD(ca_check(c, path_ok(x, x, NULL, &why),
		       "OpenSSL verifies the root (strict, self-signature "
		       "checked)",
		       "%s", why));
	GUARD(certtool(c, "certtool verifies the root", "--verify", crt, crt));
	GUARD(spki_is(c, x, ca_val(c, "key_spki"),
		      "the certificate's key is the key made at step 3"));
	GUARD(tbs_is_approved(c, CA_OP_ROOT, crt));
	GUARD(ca_sha256_file(q, qa));
	GUARD(ca_sha256_file(c->quorum, qb));
	rc = ca_check(c, strcmp(qa, qb) == 0,
		      "the root pins the ceremony's quorum file", NULL);
out:
	X509_free(x);
	free(q);
	free(crt);
	return rc;
}

/* The subordinate's chain file: the signing CA's certificate and its own
 * issuers, up to the root. */
static int write_chain(struct ca_cer *c, char **path)
{
	char *crt = ca_dir_file(c->ca_dir, "ca.crt"),
	     *chain = ca_dir_file(c->ca_dir, "chain.pem");
	unsigned char *a = NULL, *b = NULL, *both = NULL;
	size_t alen = 0, blen = 0;
	char hex[65];
	int rc;

	*path = ca_out_path(c, "%s", c->spec->out_chain);
	GUARD(ca_read_file(crt, CA_MAX_INPUT, &a, &alen));
	if (access(chain, R_OK) == 0)
		GUARD(ca_read_file(chain, CA_MAX_INPUT, &b, &blen));
	both = malloc(alen + blen + 1);
	if (both == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(both, a, alen);
	if (blen > 0)
		memcpy(both + alen, b, blen);
	GUARD(ca_out_write(*path, both, alen + blen, 1, 0644));
	rc = ca_record_file(c, "output", *path, hex);
out:
	free(both);
	free(b);
	free(a);
	free(chain);
	free(crt);
	return rc;
}

static int verify_subca(struct ca_cer *c, enum ca_op op)
{
	char *crt = ca_out_path(c, "%s", c->spec->out_cert), *chain = NULL;
	char *bundle = ca_out_path(c, "lint/%s.bundle.pem", ca_op_name(op));
	STACK_OF(X509) *issuers = NULL;
	unsigned char *data = NULL, *cdata = NULL, *both = NULL;
	size_t len = 0, clen = 0;
	const char *why = "";
	X509 *x = NULL, *anchor;
	int rc;

	GUARD(write_chain(c, &chain));
	GUARD(ca_cert_load(crt, &x));
	GUARD(load_chain(chain, &issuers));
	anchor = sk_X509_value(issuers, sk_X509_num(issuers) - 1);
	GUARD(ca_check(c, path_ok(x, anchor, issuers, &why),
		       "OpenSSL verifies the certificate up to the root "
		       "(strict)",
		       "%s", why));
	/* certtool wants the certificate and its issuers in one file. */
	GUARD(ca_read_file(crt, CA_MAX_INPUT, &data, &len));
	GUARD(ca_read_file(chain, CA_MAX_INPUT, &cdata, &clen));
	both = malloc(len + clen + 1);
	if (both == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(both, data, len);
	memcpy(both + len, cdata, clen);
	GUARD(ca_out_write(bundle, both, len + clen, 1, 0644));
	{
		char *root =
		    ca_out_path(c, "lint/%s.anchor.pem", ca_op_name(op));
		BIO *b = root ? BIO_new_file(root, "w") : NULL;

		if (b == NULL || PEM_write_bio_X509(b, anchor) != 1) {
			BIO_free(b);
			free(root);
			rc = ca_err(CA_EIO, "cannot write the trust anchor");
			goto out;
		}
		BIO_free(b);
		rc = certtool(c,
			      "certtool verifies the certificate up to the "
			      "root",
			      "--verify", root, bundle);
		free(root);
		if (rc < 0)
			goto out;
	}
	if (op == CA_OP_SUBCA)
		GUARD(spki_is(c, x, c->spec->csr_spki,
			      "the certificate certifies the CSR's key"));
	else
		GUARD(
		    spki_is(c, x, ca_val(c, "cross_spki"),
			    "the cross-certificate certifies the existing CA's "
			    "key"));
	rc = tbs_is_approved(c, op, crt);
out:
	X509_free(x);
	sk_X509_pop_free(issuers, X509_free);
	free(both);
	free(cdata);
	free(data);
	free(bundle);
	free(chain);
	free(crt);
	return rc;
}

static int verify_crl(struct ca_cer *c)
{
	char *path = ca_out_path(c, "%s", c->spec->out_crl);
	char *crt = ca_dir_file(c->ca_dir, "ca.crt");
	X509_CRL *crl = NULL;
	X509 *ca = NULL;
	int rc;

	GUARD(ca_cert_load(crt, &ca));
	GUARD(ca_crl_load(path, &crl));
	GUARD(ca_check(c, X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1,
		       "OpenSSL verifies the CRL's signature with the CA "
		       "certificate",
		       "%s", path));
	GUARD(certtool(c, "certtool verifies the CRL's signature",
		       "--verify-crl", crt, path));
	GUARD(tbs_is_approved(c, CA_OP_CRL, path));
	if (c->spec->type == CA_CER_REVOKE) {
		ASN1_INTEGER *serial = NULL;
		X509_REVOKED *r = NULL;

		GUARD(ca_serial_parse(ca_val(c, "revoke_serial"), &serial));
		rc = ca_check(c, X509_CRL_get0_by_serial(crl, &r, serial) == 1,
			      "the CRL lists the revoked subordinate CA",
			      "serial %s", ca_val(c, "revoke_serial"));
		ASN1_INTEGER_free(serial);
	}
out:
	X509_free(ca);
	X509_CRL_free(crl);
	free(crt);
	free(path);
	return rc;
}

static int verify_key(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	char *pub = ca_out_path(c, "%s", s->out_pub), hex[65];
	char *csr = s->out_csr ? ca_out_path(c, "%s", s->out_csr) : NULL;
	struct ca_csr_der r;
	int rc;

	memset(&r, 0, sizeof(r));
	GUARD(ca_spki_of_file(pub, hex));
	GUARD(ca_check(c, strcmp(hex, ca_val(c, "key_spki")) == 0,
		       "the public key file is the token key's", NULL));
	if (csr == NULL)
		goto out;
	GUARD(ca_csr_load(csr, &r));
	rc = ca_csr_check(&r, csr);
	GUARD(ca_check(c, rc == CA_OK,
		       "the CSR's signature verifies (proof of possession)",
		       "%s", ca_errmsg()));
	ca_spki_sha256_hex(X509_REQ_get_X509_PUBKEY(r.req), hex);
	rc = ca_check(c, strcmp(hex, ca_val(c, "key_spki")) == 0,
		      "the CSR holds the token key", NULL);
out:
	ca_csr_der_clear(&r);
	free(csr);
	free(pub);
	return rc;
}

int ca_step_verify(struct ca_cer *c, const struct ca_step *st)
{
	int rc = CA_OK;

	(void)st;
	switch (c->spec->type) {
	case CA_CER_ROOT:
		GUARD(verify_root(c));
		break;
	case CA_CER_SUBCA:
		GUARD(verify_subca(c, CA_OP_SUBCA));
		break;
	case CA_CER_CROSS:
		GUARD(verify_subca(c, CA_OP_CROSS));
		break;
	case CA_CER_CRL:
	case CA_CER_REVOKE:
		GUARD(verify_crl(c));
		break;
	case CA_CER_KEY:
		GUARD(verify_key(c));
		break;
	}
	rc = ca_confirm(c, c->spec->type == CA_CER_KEY
			       ? "Confirm: the public key and the CSR are the "
				 "new key's."
			       : "Confirm: the result is the approved one and "
				 "it verifies.");
out:
	return rc;
}
