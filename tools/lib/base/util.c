#include "base/util.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

int ca_read_file(const char *path, size_t max, unsigned char **data, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t used = 0, cap, n;
	int fd = -1, rc = CA_EIO;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = ca_err(CA_EIO, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = ca_err(CA_EUSAGE, "%s is a directory, not a file", path);
		goto out;
	}
	cap = 4096;
	buf = malloc(cap + 1);
	if (buf == NULL)
		goto out;
	for (;;) {
		unsigned char *nb;

		GUARD(ca_read_fd(fd, path, buf + used, cap - used, &n));
		used += n;
		if (used < cap)
			break; /* end of file */
		if (cap > max) {
			rc = ca_err(CA_EUSAGE, "%s is larger than %zu bytes",
				    path, max);
			goto out;
		}
		cap *= 2;
		nb = realloc(buf, cap + 1);
		if (nb == NULL) {
			rc = CA_EIO;
			goto out;
		}
		buf = nb;
	}
	if (used > max) {
		rc = ca_err(CA_EUSAGE, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	buf = NULL;
	rc = CA_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int ca_read_fd(int fd, const char *path, unsigned char *buf, size_t size,
	       size_t *len)
{
	ssize_t n;

	*len = 0;
	while (*len < size) {
		n = read(fd, buf + *len, size - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ca_err(CA_EIO, "cannot read %s: %s", path,
				      strerror(errno));
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return CA_OK;
}

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
			return ca_err(CA_EUSAGE, "'%c' is not a hex digit", *in);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == max)
			return ca_err(CA_EUSAGE, "hex value longer than %zu bytes", max);
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return ca_err(CA_EUSAGE, "odd number of hex digits");
	*len = n;
	return CA_OK;
}

/* Fetched once: an implicit fetch per digest costs more than the hash. */
static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
	(void)pthread_once(&sha256_once, sha256_fetch);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

int ca_sha256(const unsigned char *in, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(in, len, out, &n, sha256_md(), NULL) != 1)
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

int ca_sha256_file(const char *path, char out[65])
{
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 32;
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd, rc = CA_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ca_err(CA_EIO, "cannot open %s: %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	if (n < 0) {
		rc = ca_err(CA_EIO, "cannot read %s: %s", path, strerror(errno));
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

int ca_parse_long(const char *s, long min, long max, const char *what, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return ca_err(CA_EUSAGE, "%s: '%s' is not a number", what,
			      s ? s : "");
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return ca_err(CA_EUSAGE, "%s: '%s' is not a number", what, s);
	if (v < min || v > max)
		return ca_err(CA_EUSAGE, "%s: %ld is out of range (%ld to %ld)",
			      what, v, min, max);
	*out = v;
	return CA_OK;
}

void ca_time_rfc3339(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ca_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y%m%d%H%M%SZ", &tm);
	}
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0')
		return ca_err(CA_EUSAGE,
			      "bad time '%s': use YYYY-MM-DDTHH:MM:SSZ (UTC)", s);
	*out = timegm(&tm);
	return CA_OK;
}

time_t ca_now(void)
{
	return time(NULL);
}

void ca_harden_process(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}
