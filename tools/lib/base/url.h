/* URLs put in certificates and CRLs (CRL distribution points, caIssuers,
 * partition URLs): one syntax check for the command line and ca.json. */
#ifndef HSMCA_BASE_URL_H
#define HSMCA_BASE_URL_H

#include "common/err.h"

#define CA_URL_MAX 1024

/* An absolute URI (RFC 3986 section 3: scheme ":" ...) of 1 to CA_URL_MAX
 * characters, IA5 without spaces or control characters (RFC 5280 4.2.1.13
 * and 4.2.2.1 carry it as an IA5String). what names the value in errors
 * (CA_EUSAGE). */
int ca_url_check(const char *url, const char *what) CA_WUR;

#endif
