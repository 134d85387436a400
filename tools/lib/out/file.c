#include "out/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ca_outfile {
	char *path;
	char *tmp;
	int fd;
	int force;
	int nosync;
	unsigned char buf[65536];
	size_t used;
};

int ca_out_check(const char *path, int force)
{
	struct stat st;

	if (force)
		return CA_OK;
	if (lstat(path, &st) == 0)
		return ca_err(CA_EUSAGE,
			      "%s already exists: refusing to overwrite "
			      "(use --force to replace it)",
			      path);
	return CA_OK;
}

int ca_fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = CA_OK;

	if (copy == NULL)
		return ca_err(CA_EIO, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = ca_err(CA_EIO, "cannot sync the directory of %s: %s", path,
			    strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int ca_out_open(const char *path, int force, mode_t mode, ca_outfile **out)
{
	ca_outfile *f = NULL;
	size_t n;
	int rc = CA_EIO;

	*out = NULL;
	rc = ca_out_check(path, force);
	if (rc < 0)
		return rc;
	/* Not calloc: the 64 KiB buffer needs no zeroing. */
	f = malloc(sizeof(*f));
	if (f == NULL)
		return ca_err(CA_EIO, "out of memory");
	f->fd = -1;
	f->force = force;
	f->nosync = 0;
	f->used = 0;
	n = strlen(path) + 32;
	f->path = strdup(path);
	f->tmp = malloc(n);
	if (f->path == NULL || f->tmp == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	for (int i = 0; i < 100 && f->fd < 0; i++) {
		snprintf(f->tmp, n, "%s.tmp-%ld-%d", path, (long)getpid(), i);
		f->fd =
		    open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (f->fd < 0 && errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		rc = ca_err(CA_EIO, "cannot create %s: %s", path,
			    strerror(errno));
		goto out;
	}
	*out = f;
	f = NULL;
	rc = CA_OK;
out:
	if (f != NULL) {
		free(f->path);
		free(f->tmp);
		free(f);
	}
	return rc;
}

static int flush(ca_outfile *f)
{
	size_t off = 0;
	ssize_t n;

	while (off < f->used) {
		n = write(f->fd, f->buf + off, f->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ca_err(CA_EIO, "cannot write %s: %s", f->path,
				      strerror(errno));
		off += (size_t)n;
	}
	f->used = 0;
	return CA_OK;
}

int ca_out_put(ca_outfile *f, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;
	int rc;

	while (len > 0) {
		if (f->used == sizeof(f->buf)) {
			rc = flush(f);
			if (rc < 0)
				return rc;
		}
		take = sizeof(f->buf) - f->used;
		if (take > len)
			take = len;
		memcpy(f->buf + f->used, p, take);
		f->used += take;
		p += take;
		len -= take;
	}
	return CA_OK;
}

void ca_out_abort(ca_outfile *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	(void)unlink(f->tmp);
	free(f->path);
	free(f->tmp);
	free(f);
}

int ca_out_commit(ca_outfile *f)
{
	int rc;

	rc = flush(f);
	if (rc < 0)
		goto out;
	if (!f->nosync && fsync(f->fd) != 0) {
		rc = ca_err(CA_EIO, "cannot sync %s: %s", f->path,
			    strerror(errno));
		goto out;
	}
	if (f->force) {
		if (rename(f->tmp, f->path) != 0) {
			rc = ca_err(CA_EIO, "cannot write %s: %s", f->path,
				    strerror(errno));
			goto out;
		}
	} else if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path,
			     RENAME_NOREPLACE) != 0) {
		/* RENAME_NOREPLACE: the no-overwrite check is atomic. Where
		 * the file system lacks it, link(2) gives the same guarantee.
		 */
		if (errno == EINVAL || errno == ENOSYS) {
			if (link(f->tmp, f->path) == 0) {
				(void)unlink(f->tmp);
				goto linked;
			}
		}
		rc = errno == EEXIST
			 ? ca_err(CA_EUSAGE,
				  "%s already exists: refusing to overwrite "
				  "(use --force to replace it)",
				  f->path)
			 : ca_err(CA_EIO, "cannot write %s: %s", f->path,
				  strerror(errno));
		goto out;
	}
linked:
	rc = f->nosync ? CA_OK : ca_fsync_dir(f->path);
out:
	ca_out_abort(f);
	return rc;
}

int ca_out_write(const char *path, const void *data, size_t len, int force,
		 mode_t mode)
{
	ca_outfile *f = NULL;
	int rc;

	rc = ca_out_open(path, force, mode, &f);
	if (rc < 0)
		return rc;
	rc = ca_out_put(f, data, len);
	if (rc < 0) {
		ca_out_abort(f);
		return rc;
	}
	return ca_out_commit(f);
}

int ca_out_write_nosync(const char *path, const void *data, size_t len,
			int force, mode_t mode)
{
	ca_outfile *f = NULL;
	int rc;

	rc = ca_out_open(path, force, mode, &f);
	if (rc < 0)
		return rc;
	f->nosync = 1;
	rc = ca_out_put(f, data, len);
	if (rc < 0) {
		ca_out_abort(f);
		return rc;
	}
	return ca_out_commit(f);
}
