/* SHA256_Init and its kin (ca_sha256_fingerprint) are deprecated in
 * OpenSSL 3.0 in favour of EVP, and kept. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "base/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/hex.h"

/* Fetched once: an implicit fetch per digest costs more than the hash. */
static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *ca_sha256_md(void)
{
	(void)pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

int ca_sha256(const unsigned char *in, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(in, len, out, &n, ca_sha256_md(), NULL) != 1)
		return ca_err(CA_EIO, "SHA-256 failed");
	return CA_OK;
}

void ca_sha256_hex(const unsigned char *in, size_t len, char out[65])
{
	unsigned char md[32];

	if (ca_sha256(in, len, md) < 0) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	ca_hex(md, 32, out);
}

void ca_sha256_fingerprint(const unsigned char *in, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, in, len) != 1 ||
	    SHA256_Final(md, &c) != 1) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	ca_hex(md, sizeof(md), out);
}

int ca_sha256_file(const char *path, char out[65])
{
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 32;
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd, rc = CA_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ca_err(CA_EIO, "cannot open %s: %s", path,
			      strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, ca_sha256_md(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	if (n < 0) {
		rc =
		    ca_err(CA_EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	ca_hex(md, 32, out);
	rc = CA_OK;
out:
	if (rc == CA_EIO && ca_errmsg()[0] == '\0')
		ca_err(CA_EIO, "cannot hash %s", path);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}
