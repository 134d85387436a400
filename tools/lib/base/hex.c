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

/* Lowercase hex digit value + 1; 0 for anything else. */
static const unsigned char lower[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,
    ['6'] = 7,	['7'] = 8,  ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

int ca_unhex_lower(const char *in, size_t n, unsigned char *out)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = lower[(unsigned char)in[2 * i]] - 1;
		lo = lower[(unsigned char)in[2 * i + 1]] - 1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int hexval(int c)
{
	return lower[(unsigned char)tolower(c)] - 1;
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
