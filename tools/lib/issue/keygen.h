/* Generating a key pair inside a token (hsmca-keygen): the key, and on
 * request its public key and a CSR signed by it. */
#ifndef HSMCA_ISSUE_KEYGEN_H
#define HSMCA_ISSUE_KEYGEN_H

#include "common/err.h"
#include "x509/algid.h"

struct ca_keygen_params {
	const char *token;	/* token URI */
	const char *label;	/* CKA_LABEL */
	const char *type;	/* key type (ca_keyspec_parse) */
	const char *id_hex;	/* CKA_ID in hex, NULL: the token's choice */
	const char *pubout;	/* public key PEM file, or NULL */
	const char *csr;	/* CSR PEM file, or NULL (with subject) */
	const char *subject;	/* the CSR's subject (RFC 4514) */
	const char *pin_source; /* NULL: prompt */
	int force;		/* replace existing output files */
	/* Generate nothing: find the token, log in and look for the key
	 * labelled label (label and type may be NULL); the outputs are
	 * written from that key when it exists. */
	int check;
	enum ca_sigalg sigalg; /* how an RSA key signs the CSR */
};

struct ca_keygen_result {
	char *uri;     /* the new key's URI (malloc'd) */
	char type[32]; /* its type, as ca_keyspec_name gives it */
	char token_label[64];
	char token_serial[64];
	char spki_sha256[65];
	int exists; /* check: a key with the label is there */
};

/* Outputs are checked before the key exists. With check, a key of
 * another type than p->type is refused (CA_EPOLICY). */
int ca_keygen(const struct ca_keygen_params *p,
	      struct ca_keygen_result *res) CA_WUR;
void ca_keygen_result_free(struct ca_keygen_result *res);

#endif
