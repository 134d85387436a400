/* libFuzzer target: revocation reasons from the command line and
 * ceremony files (ca_crl_reason_parse). A parsed reason has a name that
 * parses back to it. Built by scripts/build-fuzz; seeds in
 * tests/fuzz/corpus/reason/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "x509/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	int code, again;

	if (s == NULL)
		return 0;
	if (ca_crl_reason_parse(s, &code) == CA_OK) {
		if (ca_crl_reason_parse(ca_crl_reason_name(code), &again) !=
			CA_OK ||
		    again != code)
			abort();
		(void)ca_crl_reason_listable(code);
	}
	free(s);
	ca_err_clear();
	return 0;
}
