/* libFuzzer target: ceremony files and environment files (the strict
 * YAML reader, ca_spec_parse, ca_env_parse). Built by scripts/build-fuzz;
 * seeds in tests/fuzz/corpus/ceremony/ (the example ceremony files, an
 * environment file, and files each refused for one reason). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/env.h"
#include "ceremony/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_spec *s = NULL;
	struct ca_env *e = NULL;

	if (ca_spec_parse(data, size, "fuzz.yaml", "/fuzz", &s) == CA_OK) {
		/* A parsed file is consistent: what its type needs is there. */
		if (s->token_label == NULL || s->token_serial == NULL ||
		    strlen(s->sha256) != 64)
			abort();
		if (ca_spec_has_quorum(s) &&
		    (s->quorum_sha256 == NULL || s->approvers.n == 0))
			abort();
		if ((s->type == CA_CER_ROOT || s->type == CA_CER_KEY) &&
		    (s->key_label == NULL || s->key_type == NULL))
			abort();
		if (s->type == CA_CER_ROOT &&
		    (s->subject == NULL || s->days < 1))
			abort();
		ca_spec_free(s);
	}
	if (ca_env_parse(data, size, "fuzz-env.yaml", &e) == CA_OK)
		ca_env_free(e);
	return 0;
}
