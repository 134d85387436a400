/* libFuzzer target: serial numbers from the command line
 * (ca_serial_parse: revoke --serial, lookup; ca_serial_canonical: the form
 * the state store keys). A parsed serial is 1 to 20 octets, positive, and
 * its canonical hex is accepted by the CRL encoder. Built by
 * scripts/build-fuzz; seeds in tests/fuzz/corpus/serial/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "x509/crl.h"
#include "x509/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ASN1_INTEGER *serial = NULL;
	struct ca_crl_entry e;
	char hex[48], canon[48], *s = fuzz_string(data, size);
	int parsed;

	if (s == NULL)
		return 0;
	parsed = ca_serial_parse(s, &serial) == CA_OK;
	if (parsed != (ca_serial_canonical(s, canon, sizeof(canon)) == CA_OK))
		abort();
	if (parsed) {
		if (ca_serial_hex(serial, hex, sizeof(hex)) != CA_OK ||
		    strcmp(hex, canon) != 0 || strlen(hex) > 40)
			abort();
		/* The canonical form parses to itself and is what the CRL
		 * encoder takes. */
		if (ca_serial_canonical(hex, canon, sizeof(canon)) != CA_OK ||
		    strcmp(hex, canon) != 0 ||
		    ca_crl_serial_from_hex(hex, &e) != CA_OK)
			abort();
	}
	ASN1_INTEGER_free(serial);
	free(s);
	ca_err_clear();
	return 0;
}
