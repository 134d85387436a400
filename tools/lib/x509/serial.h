/* Certificate serial numbers. */
#ifndef HSMCA_X509_SERIAL_H
#define HSMCA_X509_SERIAL_H

#include <stddef.h>

#include <openssl/asn1.h>

#include "common/err.h"
#include "providers/hsmca/token/token.h"

#define CA_SERIAL_LEN 17 /* 0x01 prefix + 128 random bits */

/* Serial: CA_SERIAL_LEN octets, 0x01 then 16 bytes from the token RNG
 * (positive, fixed length, 128 random bits). */
int ca_serial_new(ca_token *tok, ASN1_INTEGER **out) CA_WUR;
/* Lowercase hex of the serial's magnitude ("01a2..."); out >= 41 bytes. */
int ca_serial_hex(const ASN1_INTEGER *serial, char *out, size_t len) CA_WUR;
/* Parse hex as `openssl x509 -serial` prints it ("serial=" prefix,
 * colons and case ignored). */
int ca_serial_parse(const char *hex, ASN1_INTEGER **out) CA_WUR;
/* The same as the store keys serials: canonical lowercase hex (out >= 48
 * bytes). */
int ca_serial_canonical(const char *hex, char *out, size_t len) CA_WUR;

#endif
