/* Subject alternative names: the four kinds a leaf may carry, their
 * syntax, and their encoding as GeneralNames (RFC 5280 4.2.1.6). */
#ifndef HSMCA_X509_SAN_H
#define HSMCA_X509_SAN_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"

enum ca_san_type { CA_SAN_DNS, CA_SAN_IP, CA_SAN_EMAIL, CA_SAN_URI };

struct ca_san {
	enum ca_san_type type;
	char *value; /* as written (IP in text form) */
};

#define CA_SANT_DNS   (1u << CA_SAN_DNS)
#define CA_SANT_IP    (1u << CA_SAN_IP)
#define CA_SANT_EMAIL (1u << CA_SAN_EMAIL)
#define CA_SANT_URI   (1u << CA_SAN_URI)
#define CA_SANT_ALL   (CA_SANT_DNS | CA_SANT_IP | CA_SANT_EMAIL | CA_SANT_URI)

/* Well-formedness of one SAN value (RFC 5280 4.2.1.6, RFC 1034 names). */
int ca_san_dns_check(const char *name, size_t len, int allow_wildcard) CA_WUR;
/* SAN list -> GENERAL_NAMES, each value validated (DNS syntax and wildcard
 * rules, IPv4/IPv6 literals, mailbox syntax, absolute URIs, lengths, no NUL,
 * allowed by the profile). Invalid: CA_EPOLICY naming the value. */
int ca_sans_encode(const struct ca_san *sans, size_t n, unsigned allowed,
		   GENERAL_NAMES **out) CA_WUR;
/* The CSR's subjectAltName as ca_san values (NUL bytes refused). */
int ca_csr_sans(X509_REQ *req, struct ca_san **sans, size_t *n) CA_WUR;
void ca_sans_free(struct ca_san *sans, size_t n);

/* GeneralNames as a JSON array of "dns:NAME", "ip:ADDRESS", "email:...",
 * "uri:...", "dirname:RFC 2253" (the --san syntax), text escaped for a
 * terminal; other forms by type only. NULL when out of memory. */
json_t *ca_sans_json(const GENERAL_NAMES *gens);
/* The same for a certificate's subjectAltName ([] when it has none). */
json_t *ca_cert_sans_json(X509 *x);
/* The same from a certificate's DER, read without decoding its public key
 * (which in OpenSSL 3.0 sets up the provider decoders: most of a short
 * report's time). CA_EIO when it does not parse or memory runs out. */
int ca_der_sans_json(const unsigned char *der, size_t len, json_t **out) CA_WUR;
/* 1 when name is x's CN or one of its SANs (DNS, email and URI names
 * compared without case, an IP address by its octets). */
int ca_cert_has_name(X509 *x, const char *name);

#endif
