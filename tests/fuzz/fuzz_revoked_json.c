/* libFuzzer target: the serverless CA's revoked.json (ca_revoked_parse).
 * No file, store or token is used. For every file that parses, each
 * serial must be canonical hex of 1 to 20 octets (what the state store
 * and the CRL encoder accept) and the same number as its decimal form.
 * Built and run by scripts/build-fuzz (make fuzz); seeds in
 * tests/fuzz/corpus/revoked_json/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "input/revoked.h"
#include "x509/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct ca_revoked_entry *e)
{
	struct ca_crl_entry ce;
	BIGNUM *hex = NULL, *dec = NULL;

	if (ca_crl_serial_from_hex(e->serial, &ce) != CA_OK)
		abort();
	if (BN_hex2bn(&hex, e->serial) == 0 ||
	    BN_dec2bn(&dec, e->serial_dec) == 0 || BN_cmp(hex, dec) != 0)
		abort();
	if (e->common_name == NULL || e->common_name[0] == '\0')
		abort();
	BN_free(hex);
	BN_free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_revoked_entry *es = NULL;
	size_t n = 0, i;

	if (ca_revoked_parse(data, size, "fuzz.json", &es, &n) == CA_OK) {
		for (i = 0; i < n; i++)
			check_entry(&es[i]);
		ca_revoked_free(es, n);
	} else if (es != NULL || n != 0) {
		abort(); /* nothing is partially returned */
	}
	return 0;
}
