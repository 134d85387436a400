/* libFuzzer target: distinguished names from the command line
 * (ca_name_parse: --subject of init-ca, sign-subca, keygen and ceremony
 * files), and what is printed of a parsed name (ca_name_oneline,
 * ca_name_cn). Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/dn/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "input/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_NAME *name = NULL, *again = NULL;
	char *s = fuzz_string(data, size), *line = NULL, *cn = NULL;

	if (s == NULL)
		return 0;
	if (ca_name_parse(s, &name) == CA_OK) {
		/* A parsed name has at least one entry and prints. */
		if (name == NULL || X509_NAME_entry_count(name) < 1)
			abort();
		line = ca_name_oneline(name);
		if (line == NULL)
			abort();
		cn = ca_name_cn(name);
		/* What is printed (RFC 2253) reads back as the same name. */
		if (ca_name_parse(line, &again) == CA_OK &&
		    X509_NAME_cmp(name, again) != 0)
			abort();
	}
	X509_NAME_free(again);
	X509_NAME_free(name);
	free(cn);
	free(line);
	free(s);
	ca_err_clear();
	return 0;
}
