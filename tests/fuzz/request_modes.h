/* The input of the request targets (fuzz_request.c, fuzz_show.c): the
 * first byte picks the mode, so that the X.509/CRL decoding is reached
 * without a valid tbs_sha256:
 *   0x01  the rest is a TBSCertificate
 *   0x02  the rest is a TBSCertList
 *   0x03  the rest is revocation text
 *   else  the whole input is a request file (ca_request_parse)
 * use() gets the request in every mode (a parsed one already checked). */
#ifndef HSMCA_FUZZ_REQUEST_MODES_H
#define HSMCA_FUZZ_REQUEST_MODES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quorum/request.h"

static void fuzz_request_direct(const uint8_t *data, size_t size,
				const char *action, const char *tbs_type,
				void (*use)(const struct ca_request *))
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
	use(&r);
}

static void fuzz_request_modes(const uint8_t *data, size_t size,
			       void (*use)(const struct ca_request *))
{
	struct ca_request *r = NULL;

	if (size > 0 && data[0] == 0x01) {
		fuzz_request_direct(data + 1, size - 1, "sign-subca",
				    "certificate", use);
	} else if (size > 0 && data[0] == 0x02) {
		fuzz_request_direct(data + 1, size - 1, "gen-crl", "crl", use);
	} else if (size > 0 && data[0] == 0x03) {
		fuzz_request_direct(data + 1, size - 1, "revoke", "revocation",
				    use);
	} else if (ca_request_parse(data, size, "fuzz", &r) == CA_OK) {
		if (r->tbs_len == 0 || strlen(r->sha256_hex) != 64)
			abort();
		use(r);
		ca_request_free(r);
	}
}

#endif
