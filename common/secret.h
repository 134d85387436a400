/* Secret files: PIN files and private key files.
 *
 * A secret file must be a regular file owned by the caller with no group
 * or other permission bits (mode 0600 or stricter), as OpenSSH demands of
 * private keys: anything else is refused before a byte is read.
 */
#ifndef HSMCA_COMMON_SECRET_H
#define HSMCA_COMMON_SECRET_H

#include "common/err.h"

/* Check the open file fd; what names it in errors ("PIN file", "key
 * file"). Not a regular file: CA_EUSAGE; not the caller's, or readable
 * by group or others: CA_EPOLICY. */
int ca_secret_file_check(int fd, const char *what, const char *path) CA_WUR;

#endif
