#include "base/read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, size_t max, int regular,
		     unsigned char **data, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t used = 0, cap, n;
	int fd = -1, rc = CA_EIO;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC |
			    (regular ? O_NOFOLLOW | O_NONBLOCK | O_NOCTTY : 0));
	if (fd < 0 && regular && errno == ELOOP) {
		rc = ca_err(CA_EPOLICY,
			    "%s is a symbolic link: refused (give the file "
			    "itself)",
			    path);
		goto out;
	}
	if (fd < 0) {
		rc =
		    ca_err(CA_EIO, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = ca_err(CA_EUSAGE, "%s is a directory, not a file", path);
		goto out;
	}
	if (regular) {
		/* Nothing but a regular file: a FIFO or a device could block
		 * or never end. Reads then block as usual. */
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = ca_err(CA_EPOLICY,
				    "%s is not a regular file: refused", path);
			goto out;
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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
		rc =
		    ca_err(CA_EUSAGE, "%s is larger than %zu bytes", path, max);
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

int ca_read_file(const char *path, size_t max, unsigned char **data,
		 size_t *len)
{
	return read_file(path, max, 0, data, len);
}

int ca_read_regular(const char *path, size_t max, unsigned char **data,
		    size_t *len)
{
	return read_file(path, max, 1, data, len);
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

int ca_read_parse(const char *path,
		  int (*parse)(const unsigned char *data, size_t len,
			       const char *path, void *arg),
		  void *arg)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	rc = ca_read_file(path, CA_MAX_INPUT, &data, &len);
	if (rc == CA_OK)
		rc = parse(data, len, path, arg);
	free(data);
	return rc;
}
