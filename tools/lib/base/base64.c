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

/* Padded base64 of n characters (no whitespace); strict: unused bits
 * zero. *out is malloc'd and NUL-terminated. */
static int decode(const char *in, size_t n, int strict, unsigned char **out,
		  size_t *outlen)
{
	size_t i, o = 0, pad = 0;
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
	buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL)
		return CA_EIO;
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
		if (strict && i + 4 == n &&
		    ((pad == 2 && (d[1] & 0x0f) != 0) ||
		     (pad == 1 && (d[2] & 0x03) != 0)))
			goto bad;
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return CA_OK;
bad:
	free(buf);
	return CA_EUSAGE;
}

int ca_base64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	int rc = decode(in, strlen(in), 1, out, outlen);

	return rc == CA_EIO ? CA_EUSAGE : rc;
}

int ca_base64_decode_lenient(const char *in, unsigned char **out,
			     size_t *outlen)
{
	size_t n = strlen(in), i, k = 0;
	char *clean = malloc(n + 1);
	int rc;

	*out = NULL;
	*outlen = 0;
	if (clean == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < n; i++)
		if (strchr(" \t\r\n", in[i]) == NULL)
			clean[k++] = in[i];
	clean[k] = '\0';
	rc = decode(clean, k, 0, out, outlen);
	free(clean);
	return rc == CA_EIO ? ca_err(CA_EIO, "out of memory") : rc;
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
