/* libFuzzer target: certificate and chain readers, on a file as the tools
 * read them: ca_x509_load (ca.crt, init-ca --cert, revoke --cert,
 * sign-subca --cross-sign), ca_x509_load_all (chain.pem, init-ca --chain),
 * the ceremony's ca_cert_load / ca_crl_load / ca_spki_of_file; then what
 * the tools read from a loaded certificate (serial, names, SANs, digest).
 * Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/cert/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/internal.h"
#include "fuzz_input.h"
#include "input/name.h"
#include "x509/cert.h"
#include "x509/san.h"
#include "x509/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_cert(X509 *x)
{
	char hex[65], serial[48];
	char *subject, *issuer, *cn;
	json_t *sans;

	if (ca_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial)) ==
	    CA_OK) {
		if (strlen(serial) > 40 * 2)
			abort();
	}
	subject = ca_name_oneline(X509_get_subject_name(x));
	issuer = ca_name_oneline(X509_get_issuer_name(x));
	cn = ca_name_cn(X509_get_subject_name(x));
	sans = ca_cert_sans_json(x);
	ca_x509_sha256_hex(x, hex);
	(void)ca_cert_has_name(x, "www.example.com");
	(void)ca_cert_has_name(x, "192.0.2.1");
	json_decref(sans);
	free(cn);
	free(issuer);
	free(subject);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("input", data, size);
	STACK_OF(X509) *chain = NULL;
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	char hex[65];
	int i;

	if (ca_x509_load(path, &x) == CA_OK) {
		use_cert(x);
		X509_free(x);
		x = NULL;
	}
	if (ca_x509_load_all(path, &chain) == CA_OK) {
		for (i = 0; i < sk_X509_num(chain); i++)
			use_cert(sk_X509_value(chain, i));
		sk_X509_pop_free(chain, X509_free);
	}
	if (ca_cert_load(path, &x) == CA_OK) {
		use_cert(x);
		X509_free(x);
	}
	if (ca_crl_load(path, &crl) == CA_OK) {
		free(ca_name_oneline(X509_CRL_get_issuer(crl)));
		X509_CRL_free(crl);
	}
	/* Its certificate and CSR readers ran above and in fuzz_csr; the
	 * public-key decoder is slow: only for inputs that may hold one. */
	if (memmem(data, size, "PUBLIC KEY", 10) != NULL)
		(void)ca_spki_of_file(path, hex);
	ca_err_clear();
	return 0;
}
