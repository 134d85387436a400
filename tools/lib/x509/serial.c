#include "x509/serial.h"

#include <string.h>
#include <strings.h>

#include <openssl/bn.h>

#include "base/hex.h"

int ca_serial_new(ca_token *tok, ASN1_INTEGER **out)
{
	unsigned char raw[CA_SERIAL_LEN];
	BIGNUM *bn = NULL;
	int rc;

	*out = NULL;
	raw[0] = 0x01;
	rc = ca_token_random(tok, raw + 1, sizeof(raw) - 1);
	if (rc < 0)
		return rc;
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn == NULL || (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		rc = ca_err(CA_EIO, "cannot encode the serial number");
	BN_free(bn);
	return rc;
}

int ca_serial_hex(const ASN1_INTEGER *serial, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	unsigned char buf[64];
	int n;

	if (bn == NULL)
		return ca_err(CA_EIO, "cannot read the serial number");
	n = BN_num_bytes(bn);
	if (BN_is_negative(bn) || n > 32 || (size_t)(2 * n + 1) > len) {
		BN_free(bn);
		return ca_err(CA_EPOLICY,
			      "serial number is negative or too long");
	}
	BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n == 0) {
		snprintf(out, len, "00");
		return CA_OK;
	}
	ca_hex(buf, (size_t)n, out);
	return CA_OK;
}

int ca_serial_parse(const char *hex, ASN1_INTEGER **out)
{
	unsigned char raw[32];
	char clean[80];
	size_t n = 0, i, len;
	BIGNUM *bn = NULL;
	int rc;

	*out = NULL;
	/* As `openssl x509 -serial` prints it: "serial=01A2...". */
	if (strncasecmp(hex, "serial=", 7) == 0)
		hex += 7;
	/* Accept an odd number of digits by left-padding with a zero. */
	for (i = 0; hex[i] != '\0' && n + 2 < sizeof(clean); i++)
		if (hex[i] != ':')
			clean[n++] = hex[i];
	if (hex[i] != '\0' || n == 0)
		return ca_err(CA_EUSAGE, "malformed serial '%s'", hex);
	clean[n] = '\0';
	if (n % 2) {
		memmove(clean + 1, clean, n + 1);
		clean[0] = '0';
	}
	rc = ca_unhex(clean, raw, sizeof(raw), &len);
	if (rc < 0)
		return ca_err(CA_EUSAGE, "malformed serial '%s': %s", hex,
			      ca_errmsg());
	bn = BN_bin2bn(raw, (int)len, NULL);
	if (bn == NULL || BN_is_zero(bn) || BN_num_bytes(bn) > 20) {
		BN_free(bn);
		return ca_err(CA_EUSAGE,
			      "malformed serial '%s': must be 1 to 20 "
			      "octets and not zero",
			      hex);
	}
	*out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return *out ? CA_OK : ca_err(CA_EIO, "out of memory");
}

int ca_serial_canonical(const char *hex, char *out, size_t len)
{
	ASN1_INTEGER *ai = NULL;
	int rc = ca_serial_parse(hex, &ai);

	if (rc == CA_OK)
		rc = ca_serial_hex(ai, out, len);
	ASN1_INTEGER_free(ai);
	return rc;
}
