/* Strict numbers from the command line and input files, and dotted
 * OIDs. */
#ifndef HSMCA_BASE_NUMBER_H
#define HSMCA_BASE_NUMBER_H

#include "common/err.h"

/* Strict decimal within [min, max]; what names the value in errors. */
int ca_parse_long(const char *s, long min, long max, const char *what,
		  long *out) CA_WUR;
/* A dotted-decimal OID (X.660) of at most CA_OID_MAX characters: at least
 * two arcs, digits only, no empty arcs or leading zeros, first arc 0..2,
 * second below 40 under 0 and 1. 1 when it is one, else 0. OpenSSL's
 * OBJ_txt2obj would take "1..3" or "1.3." as another OID. */
#define CA_OID_MAX 128
int ca_oid_syntax_ok(const char *s);

#endif
