/* Small helpers: capped file reads, hex, SHA-256, strict numbers, time. */
#ifndef HSMCA_UTIL_H
#define HSMCA_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define CA_MAX_INPUT (1024 * 1024) /* CSR, request, quorum, approval files */

/* Read a whole file of at most max bytes; *data is NUL-terminated. */
int ca_read_file(const char *path, size_t max, unsigned char **data,
		 size_t *len) CA_WUR;
/* Read fd into buf until end of file or size bytes; *len: bytes read.
 * path names the file in errors. */
int ca_read_fd(int fd, const char *path, unsigned char *buf, size_t size,
	       size_t *len) CA_WUR;
void ca_hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* Decode hex (case-insensitive, ':' separators allowed). */
int ca_unhex(const char *in, unsigned char *out, size_t max,
	     size_t *len) CA_WUR;
int ca_sha256(const unsigned char *in, size_t len, unsigned char out[32]) CA_WUR;
void ca_sha256_hex(const unsigned char *in, size_t len, char out[65]);
int ca_sha256_file(const char *path, char out[65]) CA_WUR;
/* Strict decimal within [min, max]; what names the value in errors. */
int ca_parse_long(const char *s, long min, long max, const char *what,
		  long *out) CA_WUR;
/* RFC 3339 UTC ("2026-11-22T08:29:34Z") into out (>= 21 bytes). */
void ca_time_rfc3339(time_t t, char *out, size_t len);
int ca_parse_time(const char *s, time_t *out) CA_WUR; /* RFC 3339 / GeneralizedTime */
/* Current time. */
time_t ca_now(void);
/* Harden the process: no core dumps, not dumpable. */
void ca_harden_process(void);

#endif
