/* Capped reads: a whole file of at most a given size, or a file
 * descriptor into a buffer. */
#ifndef HSMCA_BASE_READ_H
#define HSMCA_BASE_READ_H

#include <stddef.h>

#include "common/err.h"

#define CA_MAX_INPUT (1024 * 1024) /* CSR, request, quorum, approval files */

/* Read a whole file of at most max bytes; *data is NUL-terminated. */
int ca_read_file(const char *path, size_t max, unsigned char **data,
		 size_t *len) CA_WUR;
/* The same for a file from outside (a CSR named in a request): opened
 * with O_NOFOLLOW and O_NONBLOCK, so that neither a symbolic link is
 * followed nor a FIFO blocks, and read only when it is a regular file
 * (CA_EPOLICY otherwise). */
int ca_read_regular(const char *path, size_t max, unsigned char **data,
		    size_t *len) CA_WUR;
/* Read the file at path (at most CA_MAX_INPUT bytes) and hand it to
 * parse(data, len, path, arg): what parse returns. */
int ca_read_parse(const char *path,
		  int (*parse)(const unsigned char *data, size_t len,
			       const char *path, void *arg),
		  void *arg) CA_WUR;
/* Read fd into buf until end of file or size bytes; *len: bytes read.
 * path names the file in errors. */
int ca_read_fd(int fd, const char *path, unsigned char *buf, size_t size,
	       size_t *len) CA_WUR;

#endif
