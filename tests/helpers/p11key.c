/* p11key: drive the token layer from integration tests.
 *
 *   p11key gen  TOKEN-URI LABEL TYPE PIN-SOURCE [ID-HEX]
 *   p11key find KEY-URI PIN-SOURCE
 *   p11key sign KEY-URI PIN-SOURCE COUNT   (COUNT signatures with the raw
 *                                           mechanism, pooled sessions)
 *   p11key forksign KEY-URI PIN-SOURCE (sign, fork(), sign in the child
 *                     and in the parent; prints "child=PID status=N" and
 *                     "parent=ok": PKCS#11 after fork() in the child)
 *   p11key store KEY-URI PIN-SOURCE        (log in through the token layer,
 *                     then load the key through the builtin provider's STORE
 *                     with no passphrase callback: the login is shared;
 *                     sign with EVP_DigestSign, verify with the public key)
 *
 * gen and find print "uri=...", "type=...", "bits=...", "spki_sha256=..."
 * and write the public key PEM to stdout after them. Errors go to stderr as
 * "p11key: <message>"; the exit status is ca_exit_code(rc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>

#include "common/err.h"
#include "common/pin.h"
#include "providers/hsmca/provider.h"
#include "providers/hsmca/token/token.h"

static int parse_hex(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned int b;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return ca_err(CA_EUSAGE, "bad hex id '%s'", s);
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return ca_err(CA_EUSAGE, "bad hex id '%s'", s);
		out[i] = (unsigned char)b;
	}
	*len = n / 2;
	return CA_OK;
}

static int login(ca_token *tok, const char *source)
{
	struct ca_pin pin;
	int rc;

	memset(&pin, 0, sizeof(pin));
	GUARD(ca_pin_read(source, NULL, &pin));
	rc = ca_token_login(tok, pin.value, pin.len);
out:
	ca_pin_wipe(&pin);
	return rc;
}

static void show(const ca_key *key)
{
	static const char *const types[] = {"none", "rsa", "ec", "ed25519"};
	const unsigned char *h = ca_key_spki_sha256(key);
	size_t i;

	printf(
	    "uri=%s\ntype=%s\nbits=%d\nlabel=%s\nspki_sha256=", ca_key_uri(key),
	    types[ca_key_type(key)], ca_key_bits(key), ca_key_label(key));
	for (i = 0; i < 32; i++)
		printf("%02x", h[i]);
	printf("\n");
	PEM_write_PUBKEY(stdout, ca_key_public(key));
}

static int gen(char **argv, int argc, ca_key **key)
{
	struct ca_keyspec spec;
	unsigned char id[64];
	size_t id_len = 0;
	ca_token *tok = NULL;
	int rc;

	GUARD(ca_keyspec_parse(argv[4], &spec));
	if (argc > 6)
		GUARD(parse_hex(argv[6], id, sizeof(id), &id_len));
	GUARD(ca_token_open(argv[2], &tok));
	GUARD(login(tok, argv[5]));
	GUARD(ca_token_generate(tok, &spec, argv[3], id_len ? id : NULL, id_len,
				key));
out:
	ca_token_free(tok);
	return rc;
}

static int find(const char *uri, const char *source, ca_key **key)
{
	P11KitUri *parsed = NULL;
	ca_token *tok = NULL;
	int rc;

	GUARD(ca_p11_uri_parse(uri, &parsed));
	GUARD(ca_token_open_parsed(parsed, uri, &tok));
	GUARD(login(tok, source));
	GUARD(ca_token_find_key(tok, parsed, key));
out:
	ca_token_free(tok);
	if (parsed != NULL)
		p11_kit_uri_free(parsed);
	return rc;
}

/* Sign through ca_key_sign with the mechanism the key chose
 * (ca_key_sig_mech, SHA-256): a DigestInfo or digest for raw RSA and
 * ECDSA, the data itself when the token hashes, the message for EdDSA. */
static int sign_loop(ca_key *key, long count)
{
	static const unsigned char info[19] = {
	    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
	enum ca_sig_scheme scheme = ca_key_type(key) == CA_KT_RSA ? CA_SIG_PKCS1
				    : ca_key_type(key) == CA_KT_EC
					? CA_SIG_ECDSA
					: CA_SIG_EDDSA;
	unsigned char msg[19 + 32], sig[1024];
	struct ca_sig_mech m;
	const unsigned char *in = msg;
	size_t siglen, inlen = sizeof(msg);
	long i;
	int rc;

	GUARD(ca_key_sig_mech(key, scheme, NID_sha256, 0, &m));
	if (scheme == CA_SIG_ECDSA && !m.token_hashes)
		in = msg + 19, inlen = 32;
	memcpy(msg, info, sizeof(info));
	for (i = 0; i < count && rc == CA_OK; i++) {
		memset(msg + 19, (int)i, 32);
		siglen = sizeof(sig);
		rc = ca_key_sign(key, m.mech, NULL, 0, in, inlen, sig, &siglen);
	}
	if (rc == CA_OK)
		printf("signed=%ld mechanism=0x%lx\n", count,
		       (unsigned long)m.mech);
out:
	return rc;
}

/* A streamed signature (EVP_DigestSignUpdate in 1 KiB pieces, 100 KiB:
 * a multi-part C_SignUpdate when the token hashes), verified with pub;
 * RSA also as RSASSA-PSS. */
static int stream_sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, EVP_PKEY *pub,
		       int pss)
{
	unsigned char chunk[1024], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new(), *vmd = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL, *vpc = NULL;
	int i, ok;

	memset(chunk, 0x5a, sizeof(chunk));
	ok = md != NULL && vmd != NULL &&
	     EVP_DigestSignInit_ex(md, &pc, "SHA256", libctx, NULL, pkey,
				   NULL) == 1 &&
	     EVP_DigestVerifyInit_ex(vmd, &vpc, "SHA256", NULL, NULL, pub,
				     NULL) == 1;
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) ==
			 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(vpc, RSA_PKCS1_PSS_PADDING) ==
			 1;
	for (i = 0; ok && i < 100; i++) {
		chunk[0] = (unsigned char)i;
		ok = EVP_DigestSignUpdate(md, chunk, sizeof(chunk)) == 1 &&
		     EVP_DigestVerifyUpdate(vmd, chunk, sizeof(chunk)) == 1;
	}
	ok = ok && EVP_DigestSignFinal(md, sig, &siglen) == 1 &&
	     EVP_DigestVerifyFinal(vmd, sig, siglen) == 1;
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(vmd);
	if (ok)
		printf("streamed%s=ok\n", pss ? "-pss" : "");
	return ok ? CA_OK
		  : ca_err(CA_EIO,
			   "a streamed%s signature failed or does "
			   "not verify",
			   pss ? " RSA-PSS" : "");
}

/* EVP_DigestSign with a key from OSSL_STORE in libctx; verify with pub. */
static int evp_sign(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, EVP_PKEY *pub)
{
	static const unsigned char msg[] = "in-process signing";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *mdname = EVP_PKEY_is_a(pub, "ED25519") ? NULL : "SHA384";
	int rc = CA_OK;

	if (md == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, mdname, libctx, NULL, pkey, NULL) !=
		1 ||
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1) {
		rc = ca_err(CA_EIO,
			    "EVP_DigestSign with the provider key failed");
		goto out;
	}
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, mdname, NULL, NULL, pub, NULL) !=
		1 ||
	    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) != 1)
		rc = ca_err(CA_EIO, "the provider's signature does not verify");
out:
	EVP_MD_CTX_free(md);
	return rc;
}

/* KEYMGMT as OpenSSL sees it: parameters, public-only export, match. */
static int check_keymgmt(EVP_PKEY *pkey, ca_key *key)
{
	char uri[1024], label[64], digest[32] = "";
	OSSL_PARAM *params = NULL;
	int bits = 0, secbits = 0, max = 0, rc = CA_OK;

	if (EVP_PKEY_get_utf8_string_param(pkey, CA_PKEY_PARAM_URI, uri,
					   sizeof(uri), NULL) != 1 ||
	    strcmp(uri, ca_key_uri(key)) != 0 ||
	    EVP_PKEY_get_utf8_string_param(pkey, CA_PKEY_PARAM_TOKEN_LABEL,
					   label, sizeof(label), NULL) != 1 ||
	    strcmp(label, ca_token_label(ca_key_token(key))) != 0)
		return ca_err(CA_EIO,
			      "hsmca-uri/hsmca-token-label parameters wrong");
	if (EVP_PKEY_get_int_param(pkey, "bits", &bits) != 1 ||
	    EVP_PKEY_get_int_param(pkey, "security-bits", &secbits) != 1 ||
	    EVP_PKEY_get_int_param(pkey, "max-size", &max) != 1)
		return ca_err(CA_EIO, "bits/security-bits/max-size missing");
	(void)EVP_PKEY_get_default_digest_name(pkey, digest, sizeof(digest));
	printf("bits=%d security_bits=%d max_size=%d default_digest=%s\n", bits,
	       secbits, max, digest);
	if (EVP_PKEY_todata(pkey, EVP_PKEY_KEYPAIR, &params) == 1) {
		OSSL_PARAM_free(params);
		return ca_err(CA_EIO, "the private key was exported");
	}
	if (EVP_PKEY_todata(pkey, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		return ca_err(CA_EIO, "the public key cannot be exported");
	OSSL_PARAM_free(params);
	if (EVP_PKEY_eq(pkey, ca_key_public(key)) != 1 ||
	    EVP_PKEY_eq(ca_key_public(key), pkey) != 1)
		rc = ca_err(CA_EIO, "EVP_PKEY_eq: token key != its public key");
	printf("keymgmt=ok\n");
	return rc;
}

static int store_sign(const char *uri, ca_key *key)
{
	OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *hsmca = NULL, *deflt = NULL;
	OSSL_STORE_CTX *store = NULL;
	OSSL_STORE_INFO *info = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = CA_OK;

	if (libctx == NULL ||
	    OSSL_PROVIDER_add_builtin(libctx, "hsmca", ca_provider_init) != 1 ||
	    (hsmca = OSSL_PROVIDER_load(libctx, "hsmca")) == NULL ||
	    (deflt = OSSL_PROVIDER_load(libctx, "default")) == NULL ||
	    (store = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL,
					NULL, NULL)) == NULL ||
	    (info = OSSL_STORE_load(store)) == NULL ||
	    (pkey = OSSL_STORE_INFO_get1_PKEY(info)) == NULL) {
		rc = ca_err(CA_EIO,
			    "OSSL_STORE could not load %s without a PIN", uri);
		goto out;
	}
	GUARD(check_keymgmt(pkey, key));
	GUARD(evp_sign(libctx, pkey, ca_key_public(key)));
	if (ca_key_type(key) != CA_KT_ED25519)
		GUARD(stream_sign(libctx, pkey, ca_key_public(key), 0));
	if (ca_key_type(key) == CA_KT_RSA)
		GUARD(stream_sign(libctx, pkey, ca_key_public(key), 1));
	printf("store-signed=ok\n");
out:
	EVP_PKEY_free(pkey);
	OSSL_STORE_INFO_free(info);
	OSSL_STORE_close(store);
	OSSL_PROVIDER_unload(deflt);
	OSSL_PROVIDER_unload(hsmca);
	OSSL_LIB_CTX_free(libctx);
	return rc;
}

/* One signature, then one in a forked child (which must initialise the
 * module afresh, PKCS#11 v2.40 5.1) and one more in the parent. */
static int fork_sign(ca_key *key)
{
	pid_t pid;
	int rc, status = 0;

	GUARD(sign_loop(key, 1));
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		rc = ca_err(CA_EIO, "fork failed");
		goto out;
	}
	if (pid == 0) {
		rc = sign_loop(key, 1);
		if (rc < 0)
			fprintf(stderr, "p11key (child): %s\n", ca_errmsg());
		fflush(stdout);
		ca_key_free(key);
		ca_p11_shutdown();
		_exit(ca_exit_code(rc));
	}
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	printf("child=%ld status=%d\n", (long)pid,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	GUARD(sign_loop(key, 1));
	printf("parent=ok\n");
out:
	return rc;
}

int main(int argc, char **argv)
{
	ca_key *key = NULL;
	int rc;

	if (argc >= 6 && strcmp(argv[1], "gen") == 0)
		rc = gen(argv, argc, &key);
	else if ((argc == 4 || argc == 5) &&
		 (strcmp(argv[1], "find") == 0 ||
		  strcmp(argv[1], "sign") == 0 ||
		  strcmp(argv[1], "forksign") == 0 ||
		  strcmp(argv[1], "store") == 0))
		rc = find(argv[2], argv[3], &key);
	else
		rc = ca_err(CA_EUSAGE,
			    "usage: p11key gen|find|sign|forksign|store ...");
	if (rc == CA_OK && strcmp(argv[1], "store") == 0)
		rc = store_sign(argv[2], key);
	else if (rc == CA_OK && strcmp(argv[1], "forksign") == 0)
		rc = fork_sign(key);
	else if (rc == CA_OK && strcmp(argv[1], "sign") == 0)
		rc = sign_loop(key, argc == 5 ? strtol(argv[4], NULL, 10) : 1);
	else if (rc == CA_OK)
		show(key);
	if (rc < 0)
		fprintf(stderr, "p11key: %s\n", ca_errmsg());
	ca_key_free(key);
	ca_p11_shutdown();
	return ca_exit_code(rc);
}
