#include "sign/approval.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/base64.h"
#include "base/hex.h"
#include "base/read.h"
#include "base/time.h"
#include "common/pin.h"
#include "common/secret.h"
#include "input/quorum.h"
#include "out/file.h"
#include "quorum/approval.h"
#include "sign/internal.h"
#include "sign/signer.h"
#include "x509/spki.h"

#define MAX_KEY_FILE 65536 /* a PEM private key */

struct pass_cb_data {
	const char *source;
	const char *path;
	int asked;
	int rc;
};

/* OpenSSL asks only for encrypted keys; one attempt, no retry loop. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_cb_data *d = u;
	struct ca_pin pin;
	char prompt[300];
	int n = -1;

	(void)rwflag;
	if (d->asked++)
		return -1;
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", d->path);
	d->rc = ca_pin_read(d->source, prompt, &pin);
	if (d->rc == CA_OK) {
		if (size > 0 && pin.len <= (size_t)size) {
			memcpy(buf, pin.value, pin.len);
			n = (int)pin.len;
		} else {
			d->rc =
			    ca_err(CA_EUSAGE, "passphrase for %s is too long",
				   d->path);
		}
	}
	ca_pin_wipe(&pin);
	return n;
}

/* A private key file is a secret (common/secret.h), encrypted or not. */
static int read_key_file(const char *path, unsigned char **data, size_t *len)
{
	unsigned char *buf = NULL;
	size_t used = 0;
	int fd = -1, rc = CA_EIO;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = ca_err(CA_EIO, "cannot open the key file %s: %s", path,
			    strerror(errno));
		goto out;
	}
	GUARD(ca_secret_file_check(fd, "key file", path));
	buf = malloc(MAX_KEY_FILE + 1);
	if (buf == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_read_fd(fd, path, buf, MAX_KEY_FILE + 1, &used));
	if (used > MAX_KEY_FILE) {
		rc = ca_err(CA_EUSAGE, "key file %s is larger than %d bytes",
			    path, MAX_KEY_FILE);
		goto out;
	}
	*data = buf;
	*len = used;
	buf = NULL;
	rc = CA_OK;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, MAX_KEY_FILE + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int load_key_file(const char *path, const char *pass_source,
			 EVP_PKEY **out)
{
	struct pass_cb_data cb = {pass_source, path, 0, CA_OK};
	unsigned char *data = NULL;
	size_t len = 0;
	BIO *b = NULL;
	int rc;

	*out = NULL;
	GUARD(read_key_file(path, &data, &len));
	b = BIO_new_mem_buf(data, (int)len);
	if (b == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	*out = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &cb);
	if (*out == NULL) {
		if (cb.rc < 0)
			rc = cb.rc;
		else if (cb.asked)
			rc = ca_err(CA_EIO,
				    "cannot decrypt the key file %s: wrong "
				    "passphrase?",
				    path);
		else
			rc = ca_err(CA_EUSAGE,
				    "%s is not a PEM private key file", path);
	}
out:
	ERR_clear_error();
	BIO_free(b);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return rc;
}

static int sign_soft(EVP_PKEY *pkey, const struct ca_approval_alg *alg,
		     const unsigned char *msg, size_t msglen,
		     unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	int rc = CA_EIO;

	*sig = NULL;
	if (md == NULL || EVP_DigestSignInit_ex(md, &pctx, alg->md, NULL, NULL,
						pkey, NULL) != 1)
		goto out;
	if (alg->rsa_pkcs1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(md, NULL, &n, msg, msglen) != 1 || n == 0)
		goto out;
	*sig = malloc(n);
	if (*sig == NULL || EVP_DigestSign(md, *sig, &n, msg, msglen) != 1)
		goto out;
	*siglen = n;
	rc = CA_OK;
out:
	if (rc < 0) {
		free(*sig);
		*sig = NULL;
		ca_err(CA_EIO, "signing the approval failed");
	}
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	return rc;
}

/* Sign msg with the key named by key (file or pkcs11: URI); *pub gets a
 * reference to the public key (owned by *keep_pkey or *keep_signer). */
/* With a quorum file: the key must be the named approver's, checked
 * before anything is signed. */
static int key_is_approvers(EVP_PKEY *pub, const char *key,
			    const struct ca_approver *expect)
{
	unsigned char md[32];
	char have[65], want[65];
	int rc;

	if (expect == NULL)
		return CA_OK;
	rc = ca_spki_sha256(pub, md);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(md, expect->spki_sha256, 32) == 0)
		return CA_OK;
	ca_hex(md, 32, have);
	ca_hex(expect->spki_sha256, 32, want);
	return ca_err(
	    CA_EPOLICY,
	    "%s is not the key of approver %s in the quorum file (its "
	    "SPKI SHA-256 is %s, %s's is %s): nothing was signed",
	    key, expect->id, have, expect->id, want);
}

static int sign_with(const char *key, const char *pass_source,
		     const struct ca_approver *expect, const unsigned char *msg,
		     size_t msglen, EVP_PKEY **keep_pkey,
		     struct ca_signer **keep_signer, EVP_PKEY **pub,
		     const struct ca_approval_alg **alg, unsigned char **sig,
		     size_t *siglen)
{
	int rc;

	if (strncmp(key, "pkcs11:", 7) == 0) {
		GUARD(ca_signer_open(key, pass_source, keep_signer));
		*pub = (*keep_signer)->pub;
	} else {
		GUARD(load_key_file(key, pass_source, keep_pkey));
		*pub = *keep_pkey;
	}
	GUARD(key_is_approvers(*pub, key, expect));
	GUARD(ca_quorum_key_ok(*pub, key));
	*alg = ca_approval_alg_for_key(*pub);
	if (*alg == NULL) {
		rc = ca_err(CA_EPOLICY, "%s: key type not accepted", key);
		goto out;
	}
	if (*keep_signer != NULL)
		/* The token signs with the digest ca_digest_for_key picks:
		 * SHA-256 for RSA and P-256, SHA-384 for P-384. */
		GUARD(ca_signer_sign(*keep_signer, msg, msglen, sig, siglen));
	else
		GUARD(sign_soft(*keep_pkey, *alg, msg, msglen, sig, siglen));
out:
	return rc;
}

static int approval_text(const char *id, const char *request_sha256,
			 const struct ca_approval_alg *alg,
			 const unsigned char *sig, size_t siglen, char **text,
			 size_t *len)
{
	char now[32], *b64 = NULL, *dump = NULL;
	json_t *root = NULL;
	int rc = CA_OK;

	*text = NULL;
	ca_time_rfc3339(ca_now(), now, sizeof(now));
	b64 = ca_base64_encode(sig, siglen);
	if (b64 != NULL)
		root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}",
				 "hsmca_approval", 1, "approver", id,
				 "request_sha256", request_sha256, "algorithm",
				 alg->name, "signature", b64, "signed_at", now);
	if (root != NULL)
		dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (dump == NULL || (*text = malloc(strlen(dump) + 2)) == NULL) {
		rc = ca_err(CA_EIO, "cannot build the approval");
		goto out;
	}
	*len = strlen(dump) + 1;
	memcpy(*text, dump, *len - 1);
	(*text)[*len - 1] = '\n';
	(*text)[*len] = '\0';
out:
	free(dump);
	free(b64);
	json_decref(root);
	return rc;
}

int ca_approval_sign_req(const struct ca_request *req, const char *id,
			 const char *key, const char *pass_source,
			 const char *out, int force)
{
	return ca_approval_sign_as(req, id, NULL, key, pass_source, out, force);
}

int ca_approval_sign_as(const struct ca_request *req, const char *id,
			const struct ca_approver *expect, const char *key,
			const char *pass_source, const char *out, int force)
{
	unsigned char msg[CA_APPROVAL_MSG_LEN], *sig = NULL;
	const struct ca_approval_alg *alg = NULL;
	struct ca_signer *signer = NULL;
	EVP_PKEY *pkey = NULL, *pub = NULL;
	char when[32], *text = NULL;
	size_t siglen = 0, len = 0;
	int rc;

	if (id == NULL || !ca_quorum_id_ok(id))
		return ca_err(CA_EUSAGE,
			      "--id must be 1 to %d characters of A-Z a-z 0-9 "
			      ". _ -",
			      CA_QUORUM_MAX_ID);
	GUARD(ca_out_check(out, force));
	if (ca_now() >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		rc = ca_err(CA_EPOLICY,
			    "the approval request expired at %s: ask for a new "
			    "one",
			    when);
		goto out;
	}
	ca_approval_message(req->sha256_hex, msg);
	GUARD(sign_with(key, pass_source, expect, msg, sizeof(msg), &pkey,
			&signer, &pub, &alg, &sig, &siglen));
	/* Never hand out an approval that would not count. */
	if (!ca_approval_sig_ok(pub, alg, msg, sizeof(msg), sig, siglen)) {
		rc = ca_err(CA_EIO,
			    "the signature made with %s does not verify: "
			    "nothing was written",
			    key);
		goto out;
	}
	GUARD(
	    approval_text(id, req->sha256_hex, alg, sig, siglen, &text, &len));
	GUARD(ca_out_write(out, text, len, force, 0644));
out:
	free(text);
	free(sig);
	EVP_PKEY_free(pkey);
	ca_signer_free(signer);
	return rc;
}

int ca_approval_key_check(const struct ca_quorum *q, const char *id,
			  const char *key, const char *pass_source,
			  char spki_sha256[65])
{
	/* Not an approval message: a probe can never count as one. */
	static const unsigned char probe[] = "hsmca-approval-key-check-v1";
	const struct ca_approver *who = ca_quorum_find(q, id);
	const struct ca_approval_alg *alg = NULL;
	struct ca_signer *signer = NULL;
	EVP_PKEY *pkey = NULL, *pub = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	spki_sha256[0] = '\0';
	if (who == NULL)
		return ca_err(CA_EPOLICY,
			      "\"%s\" is not an approver in the quorum file",
			      id);
	GUARD(sign_with(key, pass_source, NULL, probe, sizeof(probe) - 1, &pkey,
			&signer, &pub, &alg, &sig, &siglen));
	/* The quorum's key for id verifies what this key signed. */
	if (!ca_approval_sig_ok(who->pub, alg, probe, sizeof(probe) - 1, sig,
				siglen)) {
		rc = ca_err(CA_EPOLICY,
			    "%s is not the key the quorum file lists for %s",
			    key, id);
		goto out;
	}
	ca_hex(who->spki_sha256, 32, spki_sha256);
out:
	free(sig);
	EVP_PKEY_free(pkey);
	ca_signer_free(signer);
	return rc;
}
