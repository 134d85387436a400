/* libFuzzer target: CSR parsing and checking (outside input). */
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "input/csr.h"
#include "lint/csr.h"
#include "x509/san.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_csr_der csr;
	struct ca_san *sans = NULL;
	size_t n = 0;

	if (ca_csr_parse(data, size, "fuzz", &csr) == CA_OK) {
		if (ca_csr_check(&csr, "fuzz") == CA_OK &&
		    ca_csr_refuse_ca(csr.req, "fuzz") == CA_OK &&
		    ca_csr_sans(csr.req, &sans, &n) == CA_OK)
			ca_sans_free(sans, n);
		ca_csr_der_clear(&csr);
	}
	return 0;
}
