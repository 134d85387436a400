/* Caps on names, one set for every way a name or SAN comes in (a CSR
 * file, a CSR inline in tls.json, tls.json's own fields, the command
 * line): tls.json is refused past them as it is read, and the lint before
 * signing (lint/name.h) refuses any certificate past them, whatever path
 * built it. */
#ifndef HSMCA_X509_LIMITS_H
#define HSMCA_X509_LIMITS_H

#define CA_MAX_SANS	  100 /* subjectAltName entries in a certificate */
#define CA_MAX_NAME_ATTRS 30  /* attributes in a subject (or directoryName) */
#define CA_MAX_ATTR_CHARS 256 /* an attribute without an RFC 5280 bound */

/* RFC 5280 Appendix A upper bounds, in characters. */
#define CA_UB_COMMON_NAME	       64
#define CA_UB_ORGANIZATION_NAME	       64
#define CA_UB_ORGANIZATIONAL_UNIT_NAME 64
#define CA_UB_LOCALITY_NAME	       128
#define CA_UB_STATE_NAME	       128
#define CA_UB_COUNTRY		       2 /* ub-country-name-alpha-length */
#define CA_UB_SERIAL_NUMBER	       64
#define CA_UB_TITLE		       64
#define CA_UB_PSEUDONYM		       128
#define CA_UB_EMAIL_ADDRESS	       255 /* PKCS #9 pkcs-9-ub-emailAddress */

#endif
