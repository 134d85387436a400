/* libFuzzer target: approval requests and the display of what they ask to
 * sign (ca_request_parse, ca_request_describe); the first byte picks the
 * mode (request_modes.h), so the X.509/CRL decoding is reached without a
 * valid tbs_sha256. Built by scripts/build-fuzz against the library
 * sources; seeds in tests/fuzz/corpus/request/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quorum/request.h"
#include "request_modes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void describe(const struct ca_request *r)
{
	json_t *d = NULL;

	if (ca_request_describe(r, &d) == CA_OK)
		json_decref(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request_modes(data, size, describe);
	return 0;
}
