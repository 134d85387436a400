#include "base/base64.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (RFC 4648 section 4): padded, no whitespace, unused bits
 * zero, so one value has exactly one encoding. *out is malloc'd. */
int ca_base64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(in), i, o = 0, pad = 0;
	unsigned char *buf;
	unsigned long v;
	int j, d[4];

	*out = NULL;
	*outlen = 0;
	if (n == 0 || n % 4 != 0)
		return CA_EUSAGE;
	if (in[n - 1] == '=') {
		pad = 1;
		if (in[n - 2] == '=')
			pad = 2;
	}
	buf = malloc(n / 4 * 3);
	if (buf == NULL)
		return CA_EUSAGE;
	for (i = 0; i < n; i += 4) {
		for (j = 0; j < 4; j++) {
			d[j] = (i + (size_t)j >= n - pad)
				   ? 0
				   : b64val((unsigned char)in[i + j]);
			if (d[j] < 0)
				goto bad;
		}
		v = (unsigned long)d[0] << 18 | (unsigned long)d[1] << 12 |
		    (unsigned long)d[2] << 6 | (unsigned long)d[3];
		buf[o++] = (unsigned char)(v >> 16);
		if (i + 4 < n || pad < 2)
			buf[o++] = (unsigned char)(v >> 8);
		if (i + 4 < n || pad < 1)
			buf[o++] = (unsigned char)v;
		if (i + 4 == n && ((pad == 2 && (d[1] & 0x0f) != 0) ||
				   (pad == 1 && (d[2] & 0x03) != 0)))
			goto bad;
	}
	*out = buf;
	*outlen = o;
	return CA_OK;
bad:
	free(buf);
	return CA_EUSAGE;
}

char *ca_base64_encode(const unsigned char *data, size_t len)
{
	char *out;

	if (len > (size_t)INT_MAX / 2)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	if (EVP_EncodeBlock((unsigned char *)out, data, (int)len) < 0) {
		free(out);
		return NULL;
	}
	return out;
}
