/* mkcsrs DIR N [TYPE]: write N CSRs (DIR/hostNNNNN.csr, each with a fresh
 * software key, CN hostNNNNN.example.com and that DNS SAN) and DIR/tls.json
 * listing them in the serverless CA format. TYPE: ec (P-256, default) or
 * rsa (2048). For tests and benchmarks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static int one(const char *dir, long i, EVP_PKEY *k, FILE *json, long n)
{
	char cn[64], path[4096], san[80];
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = NULL;
	FILE *f = NULL;
	int ok = 0;

	snprintf(cn, sizeof(cn), "host%05ld.example.com", i);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	snprintf(path, sizeof(path), "%s/host%05ld.csr", dir, i);
	if (req == NULL || name == NULL || exts == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(unsigned char *)cn, -1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, k) ||
	    (ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
				       san)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext) ||
	    !X509_REQ_add_extensions(req, exts) ||
	    X509_REQ_sign(req, k, EVP_get_digestbyname("SHA256")) <= 0)
		goto out;
	ext = NULL;
	f = fopen(path, "w");
	if (f == NULL || !PEM_write_X509_REQ(f, req))
		goto out;
	fprintf(json,
		"  {\"common_name\": \"%s\", \"purposes\": [\"server_auth\"], "
		"\"sans\": [\"%s\"], \"lifetime\": 90, \"csr_file\": "
		"\"host%05ld.csr\"}%s\n",
		cn, cn, i, i + 1 < n ? "," : "");
	ok = 1;
out:
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return ok;
}

int main(int argc, char **argv)
{
	char path[4096];
	FILE *json;
	long n, i;
	int rsa;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mkcsrs DIR N [ec|rsa]\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	rsa = argc == 4 && strcmp(argv[3], "rsa") == 0;
	if (n < 1 || n > 1000000)
		return 2;
	snprintf(path, sizeof(path), "%s/tls.json", argv[1]);
	json = fopen(path, "w");
	if (json == NULL) {
		fprintf(stderr, "mkcsrs: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(json, "[\n");
	for (i = 0; i < n; i++) {
		EVP_PKEY *k =
		    rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
			: EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		if (k == NULL || !one(argv[1], i, k, json, n)) {
			fprintf(stderr, "mkcsrs: cannot make CSR %ld\n", i);
			EVP_PKEY_free(k);
			fclose(json);
			return 1;
		}
		EVP_PKEY_free(k);
	}
	fprintf(json, "]\n");
	return fclose(json) == 0 ? 0 : 1;
}
