/* libFuzzer target: RFC 7512 URI parsing and the helpers that quote URIs
 * in messages (ca_p11_uri_parse, ca_uri_redact). No module is loaded.
 *
 *   clang -fsanitize=fuzzer,address,undefined -I/usr/include/p11-kit-1 -I. \
 *     tests/fuzz/fuzz_uri.c providers/hsmca/token/{uri,p11,token,key,keygen}.c
 * \
 *     common/err.c -D_GNU_SOURCE \
 *     -lp11-kit -lcrypto -o fuzz_uri && ./fuzz_uri tests/fuzz/corpus/uri
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/hsmca/token/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	P11KitUri *uri = NULL;
	char shown[200];
	char *s;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* Alternate the pin-value policy on the first byte. */
	ca_p11_allow_pin_value(size > 0 && (data[0] & 1));
	if (ca_p11_uri_parse(s, &uri) == CA_OK) {
		(void)p11_kit_uri_get_attribute(uri, CKA_LABEL);
		(void)p11_kit_uri_get_pin_source(uri);
		p11_kit_uri_free(uri);
	}
	ca_uri_redact(s, shown, sizeof(shown));
	free(s);
	return 0;
}
