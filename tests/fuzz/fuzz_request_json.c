/* libFuzzer target: tls.json batch requests (ca_requests_parse) and
 * --san TYPE:VALUE arguments (ca_san_parse). No file or token is used.
 * Built and run by scripts/build-fuzz; seeds in
 * tests/fuzz/corpus/request_json/. Alone:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -fsanitize=fuzzer,address,undefined \
 *     -I. -Itools/lib tests/fuzz/fuzz_request_json.c \
 *     tools/lib/input/requests.c common/err.c tools/lib/base/read.c \
 *     -ljansson -lcrypto -o fuzz_request_json &&
 *   ./fuzz_request_json tests/fuzz/corpus/request_json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_leaf_request *reqs = NULL;
	struct ca_san san;
	size_t n = 0, i, k;
	char *s;

	if (ca_requests_parse(data, size, "fuzz.json", &reqs, &n) == CA_OK) {
		/* Touch what the signing code reads. */
		for (i = 0; i < n; i++) {
			for (k = 0; k < reqs[i].n_sans; k++)
				(void)strlen(reqs[i].sans[k].value);
			for (k = 0; k < reqs[i].n_ekus; k++)
				(void)strlen(reqs[i].ekus[k]);
			if (reqs[i].csr_pem != NULL &&
			    reqs[i].csr_pem[reqs[i].csr_pem_len] != '\0')
				abort();
		}
		ca_requests_free(reqs, n);
	} else if (reqs != NULL || n != 0) {
		abort(); /* nothing is partially returned */
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ca_san_parse(s, &san) == CA_OK)
		free(san.value);
	free(s);
	return 0;
}
