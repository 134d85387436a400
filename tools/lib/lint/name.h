/* Lint of names: the subject, directoryName SANs and the text of every
 * SAN, with the caps of x509/limits.h. */
#ifndef HSMCA_LINT_NAME_H
#define HSMCA_LINT_NAME_H

#include <stddef.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"

/* No NUL, C0 or C1 control character, nor DEL, in n bytes of UTF-8 (or
 * ASCII) text; what names it in the refusal (CA_EPOLICY), which shows the
 * text escaped. */
int ca_lint_text(const unsigned char *s, size_t n, const char *what) CA_WUR;
/* At most CA_MAX_NAME_ATTRS attributes, each within its RFC 5280 upper
 * bound (else CA_MAX_ATTR_CHARS characters), valid in its string type,
 * without control characters. what: "subject", "subjectAltName
 * directoryName". */
int ca_lint_name(const X509_NAME *name, const char *what) CA_WUR;
/* At most CA_MAX_SANS names; the text of each without control characters;
 * a directoryName as ca_lint_name. */
int ca_lint_general_names(const GENERAL_NAMES *gens) CA_WUR;

#endif
