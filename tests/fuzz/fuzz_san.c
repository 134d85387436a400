/* libFuzzer target: --san TYPE:VALUE arguments (ca_san_parse), their
 * validation and encoding (ca_sans_encode with every type allowed) and
 * their display (ca_sans_json, escaped for a terminal). A value accepted
 * into a certificate shows without control characters. Built by
 * scripts/build-fuzz; seeds in tests/fuzz/corpus/san/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "input/requests.h"
#include "x509/san.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_shown(json_t *shown)
{
	const char *t;
	size_t i;
	json_t *v;

	if (shown == NULL)
		abort();
	json_array_foreach(shown, i, v)
	{
		t = json_string_value(v);
		if (t == NULL)
			abort();
		for (; *t != '\0'; t++)
			if ((unsigned char)*t < 0x20 || *t == 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_san san;
	GENERAL_NAMES *gens = NULL;
	json_t *shown = NULL;
	char *s = fuzz_string(data, size);

	if (s == NULL)
		return 0;
	memset(&san, 0, sizeof(san));
	if (ca_san_parse(s, &san) == CA_OK) {
		if (san.value == NULL)
			abort();
		if (ca_sans_encode(&san, 1, CA_SANT_ALL, &gens) == CA_OK) {
			if (sk_GENERAL_NAME_num(gens) != 1)
				abort();
			shown = ca_sans_json(gens);
			check_shown(shown);
		}
		if (san.type == CA_SAN_DNS)
			(void)ca_san_dns_check(san.value, strlen(san.value), 1);
		free(san.value);
	}
	json_decref(shown);
	GENERAL_NAMES_free(gens);
	free(s);
	ca_err_clear();
	return 0;
}
