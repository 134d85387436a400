/* libFuzzer target: CSR parsing and checking (outside input). */
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "../../tools/lib/csr.h"
#include "../../tools/lib/leafprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_REQ *req = NULL;
	struct ca_san *sans = NULL;
	size_t n = 0;

	if (ca_csr_parse(data, size, "fuzz", &req) == CA_OK) {
		if (ca_csr_check(req, "fuzz") == CA_OK &&
		    ca_csr_refuse_ca(req, "fuzz") == CA_OK &&
		    ca_csr_sans(req, &sans, &n) == CA_OK)
			ca_sans_free(sans, n);
		X509_REQ_free(req);
	}
	return 0;
}
