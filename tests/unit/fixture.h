/* What the unit tests share besides TAP: a scratch directory removed at
 * the end, files written into it, software keys, error-message checks. */
#ifndef HSMCA_FIXTURE_H
#define HSMCA_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/err.h"

static char fx_dir[256];

/* A fresh scratch directory (under $TMPDIR or /tmp); without one the test
 * cannot run: bail out. */
static inline void fx_mkdir(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fx_dir, sizeof(fx_dir), "%s/hsmca-%s.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);
	if (mkdtemp(fx_dir) == NULL) {
		printf("Bail out! cannot create a scratch directory in %s\n",
		       fx_dir);
		exit(1);
	}
}

static inline int fx_rm_one(const char *p, const struct stat *st, int flag,
			    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Remove the scratch directory and everything in it. */
static inline void fx_rmdir(void)
{
	if (fx_dir[0] != '\0')
		(void)nftw(fx_dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* fx_dir/name, in one of eight rotating buffers. */
static inline const char *fx_path(const char *name)
{
	static char bufs[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", fx_dir, name);
	return bufs[i];
}

/* Write len bytes to path with mode (created or truncated); 0 on success. */
static inline int fx_write(const char *path, const void *data, size_t len,
			   mode_t mode)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0 || chmod(path, mode) != 0)
		rc = -1;
	return rc;
}

/* The whole of a small file (malloc'd, NUL-terminated) or NULL. */
static inline char *fx_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		char *nb;

		if (cap - n < 4096) {
			cap = cap * 2 + 4096;
			nb = realloc(buf, cap + 1);
			if (nb == NULL)
				break;
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = n;
	}
	return buf;
}

/* A software key: alg "RSA" (bits, e; e 0: 65537), "EC" (curve),
 * "ED25519", "ED448", ... NULL on failure. */
static inline EVP_PKEY *fx_key(const char *alg, const char *curve, int bits,
			       unsigned e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *bn = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1)
		goto out;
	if (curve != NULL && EVP_PKEY_CTX_set_group_name(ctx, curve) != 1)
		goto out;
	if (bits > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1)
		goto out;
	if (e != 0 && ((bn = BN_new()) == NULL || BN_set_word(bn, e) != 1 ||
		       EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, bn) != 1))
		goto out;
	if (EVP_PKEY_generate(ctx, &k) != 1)
		k = NULL;
out:
	BN_free(bn);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static inline int fx_has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* The last error message contains needle (NULL: anything). */
static inline int fx_err(const char *needle)
{
	return needle == NULL || strstr(ca_errmsg(), needle) != NULL;
}

static inline int fx_streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

#endif
