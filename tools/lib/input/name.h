/* Distinguished names from the command line. */
#ifndef HSMCA_INPUT_NAME_H
#define HSMCA_INPUT_NAME_H

#include <openssl/x509.h>

#include "common/err.h"

/* Parse an RFC 4514 string ("CN=Example Root R1,O=Example,C=GB", RDNs listed
 * last-to-first) or OpenSSL's slash form ("/C=GB/O=Example/CN=...", RDNs in
 * encoding order). '+' joins multi-valued RDNs; RFC 4514 escapes (\, \+ \\
 * \XX) are honoured, its keywords (CN, O, STREET, ...) in any case;
 * unescaped spaces around '=' and separators are not part of values. Unknown
 * attribute types, empty values and values over the RFC 5280 upper bounds are
 * refused with CA_EUSAGE. */
int ca_name_parse(const char *dn, X509_NAME **out) CA_WUR;
/* One-line RFC 2253 rendering (malloc'd). */
char *ca_name_oneline(const X509_NAME *name);
/* First commonName as UTF-8 (malloc'd) or NULL. */
char *ca_name_cn(const X509_NAME *name);

#endif
