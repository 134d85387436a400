#include "base/hex.h"

#include <ctype.h>

void ca_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ca_unhex(const char *in, unsigned char *out, size_t max, size_t *len)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		v = hexval((unsigned char)*in);
		if (v < 0)
			return ca_err(CA_EUSAGE, "'%c' is not a hex digit",
				      *in);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == max)
			return ca_err(CA_EUSAGE,
				      "hex value longer than %zu bytes", max);
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return ca_err(CA_EUSAGE, "odd number of hex digits");
	*len = n;
	return CA_OK;
}
