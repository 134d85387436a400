/* mkrequest: write an approval request file for tests (ca_request_write).
 *
 *   mkrequest --action ACTION --quorum QUORUM.json --out FILE
 *             (--cert CERT.pem | --crl CRL.pem | --tbs FILE)
 *             [--ttl DURATION] [--ca-spki HEX] [--token-serial S]
 *             [--key URI] [--force]
 *
 * --cert and --crl take the TBS out of a signed certificate or CRL (PEM);
 * --tbs takes the bytes of a file as they are. Errors go to stderr as
 * "mkrequest: <message>"; the exit status is ca_exit_code(rc).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/read.h"
#include "base/sha256.h"
#include "common/err.h"
#include "quorum/request.h"

struct opts {
	const char *action, *quorum, *out, *cert, *crl, *tbs, *ttl;
	const char *spki, *serial, *key;
	int force;
};

static int tbs_from_pem(const struct opts *o, unsigned char **tbs, size_t *len)
{
	FILE *f = fopen(o->cert ? o->cert : o->crl, "r");
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	int n = -1;

	*tbs = NULL;
	if (f == NULL)
		return ca_err(CA_EIO, "cannot open %s",
			      o->cert ? o->cert : o->crl);
	if (o->cert != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		if (x != NULL)
			n = i2d_re_X509_tbs(x, tbs);
	} else {
		crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
		if (crl != NULL)
			n = i2d_re_X509_CRL_tbs(crl, tbs);
	}
	fclose(f);
	X509_free(x);
	X509_CRL_free(crl);
	if (n <= 0)
		return ca_err(CA_EIO, "cannot read the TBS of %s",
			      o->cert ? o->cert : o->crl);
	*len = (size_t)n;
	return CA_OK;
}

static int run(const struct opts *o)
{
	struct ca_request_spec spec;
	unsigned char *tbs = NULL;
	char qhash[65];
	size_t len = 0;
	json_t *summary = NULL;
	long ttl = CA_APPROVAL_TTL_DEFAULT;
	int rc, from_file = o->tbs != NULL;

	memset(&spec, 0, sizeof(spec));
	if (o->ttl != NULL)
		GUARD(ca_ttl_parse(o->ttl, &ttl));
	GUARD(ca_sha256_file(o->quorum, qhash));
	if (from_file)
		GUARD(ca_read_file(o->tbs, CA_MAX_INPUT, &tbs, &len));
	else
		GUARD(tbs_from_pem(o, &tbs, &len));
	if (o->cert != NULL)
		summary = ca_request_summary_cert(tbs, len);
	spec.action = o->action;
	spec.tbs_type = strcmp(o->action, "gen-crl") == 0  ? "crl"
			: strcmp(o->action, "revoke") == 0 ? "revocation"
							   : "certificate";
	spec.ca_spki_sha256 = o->spki ? o->spki
				      : "00112233445566778899aabbccddeeff001122"
					"33445566778899aabbccddeeff";
	spec.ca_token_serial = o->serial ? o->serial : "0123456789abcdef";
	spec.ca_key = o->key ? o->key : "pkcs11:token=Root;object=root-key";
	spec.tbs = tbs;
	spec.tbs_len = len;
	spec.summary = summary;
	spec.ttl_seconds = ttl;
	spec.quorum_sha256 = qhash;
	GUARD(ca_request_write(&spec, o->out, o->force));
out:
	json_decref(summary);
	if (from_file)
		free(tbs);
	else
		OPENSSL_free(tbs);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"action", required_argument, NULL, 'a'},
	    {"quorum", required_argument, NULL, 'q'},
	    {"out", required_argument, NULL, 'o'},
	    {"cert", required_argument, NULL, 'c'},
	    {"crl", required_argument, NULL, 'l'},
	    {"tbs", required_argument, NULL, 't'},
	    {"ttl", required_argument, NULL, 'T'},
	    {"ca-spki", required_argument, NULL, 's'},
	    {"token-serial", required_argument, NULL, 'S'},
	    {"key", required_argument, NULL, 'k'},
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.action = optarg;
			break;
		case 'q':
			o.quorum = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'c':
			o.cert = optarg;
			break;
		case 'l':
			o.crl = optarg;
			break;
		case 't':
			o.tbs = optarg;
			break;
		case 'T':
			o.ttl = optarg;
			break;
		case 's':
			o.spki = optarg;
			break;
		case 'S':
			o.serial = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 'f':
			o.force = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || o.action == NULL || o.quorum == NULL ||
	    o.out == NULL ||
	    (o.cert != NULL) + (o.crl != NULL) + (o.tbs != NULL) != 1) {
		fprintf(stderr,
			"usage: mkrequest --action A --quorum Q --out F "
			"(--cert C | --crl L | --tbs T) [--ttl D] "
			"[--ca-spki HEX] [--token-serial S] [--key URI] "
			"[--force]\n");
		return 2;
	}
	rc = run(&o);
	if (rc < 0)
		fprintf(stderr, "mkrequest: %s\n", ca_errmsg());
	return ca_exit_code(rc);
}
