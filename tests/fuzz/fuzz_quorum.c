/* libFuzzer target: quorum files (ca_quorum_parse), including the PEM
 * public keys inside them and the key-type policy. Built by
 * scripts/build-fuzz against the library sources; seeds in
 * tests/fuzz/corpus/quorum/. */
#include <stdint.h>
#include <stdlib.h>

#include "input/quorum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_quorum *q = NULL;
	const struct ca_approver *a;

	if (ca_quorum_parse(data, size, "fuzz", &q) == CA_OK) {
		/* A parsed quorum is consistent: 1 <= M <= N, ids findable. */
		if (q->threshold < 1 || q->threshold > q->n || q->n < 1)
			abort();
		a = ca_quorum_find(q, q->approvers[q->n - 1].id);
		if (a != &q->approvers[q->n - 1])
			abort();
		ca_quorum_free(q);
	}
	return 0;
}
