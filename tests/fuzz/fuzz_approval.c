/* libFuzzer target: approval files (ca_approval_parse). Built by
 * scripts/build-fuzz against the library sources; seeds in
 * tests/fuzz/corpus/approval/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quorum/approval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_approval *a = NULL;

	if (ca_approval_parse(data, size, "fuzz", &a) == CA_OK) {
		/* What parsed is bounded and terminated. */
		if (strlen(a->approver) == 0 ||
		    strlen(a->request_sha256) != 64 || a->signature_len == 0 ||
		    a->signature_len > 2048)
			abort();
		ca_approval_free(a);
	}
	return 0;
}
