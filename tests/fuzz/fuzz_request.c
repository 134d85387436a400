/* libFuzzer target: approval requests and the display of what they ask to
 * sign. The first byte picks the mode:
 *   0x01  the rest is a TBSCertificate: ca_request_describe decodes it
 *   0x02  the rest is a TBSCertList:    ca_request_describe decodes it
 *   0x03  the rest is revocation text:  ca_request_describe cleans it
 *   else  the whole input is a request file: ca_request_parse, and when it
 *         parses, ca_request_describe
 * so the X.509/CRL decoding is reached without a valid tbs_sha256. Built by
 * scripts/build-fuzz against the library sources; seeds in
 * tests/fuzz/corpus/request/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quorum/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void describe(const struct ca_request *r)
{
	json_t *d = NULL;

	if (ca_request_describe(r, &d) == CA_OK)
		json_decref(d);
}

static void direct(const uint8_t *data, size_t size, const char *action,
		   const char *tbs_type)
{
	static char zero[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	struct ca_request r;

	memset(&r, 0, sizeof(r));
	memcpy(r.sha256_hex, zero, 65);
	memcpy(r.nonce, zero, 65);
	memcpy(r.quorum_sha256, zero, 65);
	r.action = (char *)action;
	r.tbs_type = (char *)tbs_type;
	r.ca_spki_sha256 = zero;
	r.ca_token_serial = (char *)"fuzz";
	r.ca_key = (char *)"pkcs11:token=fuzz";
	r.tbs = (unsigned char *)data;
	r.tbs_len = size;
	describe(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_request *r = NULL;

	if (size > 0 && data[0] == 0x01) {
		direct(data + 1, size - 1, "sign-subca", "certificate");
	} else if (size > 0 && data[0] == 0x02) {
		direct(data + 1, size - 1, "gen-crl", "crl");
	} else if (size > 0 && data[0] == 0x03) {
		direct(data + 1, size - 1, "revoke", "revocation");
	} else if (ca_request_parse(data, size, "fuzz", &r) == CA_OK) {
		if (r->tbs_len == 0 || strlen(r->sha256_hex) != 64)
			abort();
		describe(r);
		ca_request_free(r);
	}
	return 0;
}
