/* Ceremony files: one reviewed YAML document per ceremony.
 *
 * A ceremony file says what a ceremony does and nothing about the machine
 * it runs on: the type (root, subca, cross, crl, revoke-subca, key), the
 * token by label and serial, the key, the certificate contents, the quorum
 * file and its SHA-256, the approvers expected, the outputs. Module paths
 * and PIN sources live in the environment file (env.h), so the reviewed
 * bytes are the same at the rehearsal and at the ceremony. Its SHA-256
 * (exact bytes) identifies it; the witness reads its words aloud.
 *
 * Every refusal names the file and the line: unknown keys, keys that do
 * not belong to the type, wrong types, missing fields, bad values.
 */
#ifndef HSMCA_CEREMONY_SPEC_H
#define HSMCA_CEREMONY_SPEC_H

#include <stddef.h>

#include "common/err.h"

enum ca_cer_type {
	CA_CER_ROOT,   /* root key, self-signed root under a quorum */
	CA_CER_SUBCA,  /* a subordinate CA's CSR signed at a quorum CA */
	CA_CER_CROSS,  /* a cross-certificate for an existing CA certificate */
	CA_CER_CRL,    /* the CA's CRL */
	CA_CER_REVOKE, /* a subordinate CA revoked, then the CA's CRL */
	CA_CER_KEY     /* a key (and its CSR) on a token, nothing signed */
};

/* Name constraints, in sign-subca's option order. */
enum {
	CA_NC_PERMIT_DNS,
	CA_NC_EXCLUDE_DNS,
	CA_NC_PERMIT_IP,
	CA_NC_EXCLUDE_IP,
	CA_NC_PERMIT_EMAIL,
	CA_NC_EXCLUDE_EMAIL,
	CA_NC_PERMIT_URI,
	CA_NC_EXCLUDE_URI,
	CA_NC_COUNT
};
/* "permit_dns" ..., as written in ceremony files; NULL-terminated. */
extern const char *const ca_nc_names[CA_NC_COUNT + 1];

struct ca_list {
	char **v; /* NULL-terminated, or NULL when empty */
	size_t n;
};

struct ca_spec {
	char *name; /* the file as given */
	char *base; /* absolute directory relative inputs are in */
	unsigned char *raw;
	size_t raw_len;
	char sha256[65]; /* of the exact bytes */
	enum ca_cer_type type;
	char *title, *description;
	char *token_label, *token_serial;
	char *key_label, *key_type; /* root, key */
	char *ca_dir;		    /* root: to create; else the signing CA */
	char *ca_subject;	    /* the signing CA's subject (not root) */
	/* The certificate to sign (root, subca, cross). */
	char *subject; /* root; subca: instead of the CSR's */
	long days;
	long pathlen; /* -1: none (root) / the tool's default */
	struct ca_list crl_urls, aia_urls, policies, ekus;
	struct ca_list nc[CA_NC_COUNT];
	/* Inputs (paths as written, relative to base unless absolute). */
	char *csr_file, *csr_sha256, *csr_spki; /* subca */
	char *csr_subject;			/* key: also make a CSR */
	char *cross_file, *cross_sha256;	/* cross */
	char *revoke_file, *revoke_sha256, *revoke_reason; /* revoke-subca */
	long crl_days;			   /* crl, revoke-subca */
	char *quorum_file, *quorum_sha256; /* all but key */
	struct ca_list approvers;	   /* ids expected to approve */
	char *approval_ttl;
	/* Outputs: file names inside the ceremony's output directory. */
	char *out_cert, *out_chain, *out_crl, *out_pub, *out_csr;
};

const char *ca_cer_type_name(enum ca_cer_type t);

/* Parse and validate ceremony file bytes; name is shown in messages and
 * base is the directory relative inputs are taken from. */
int ca_spec_parse(const unsigned char *data, size_t len, const char *name,
		  const char *base, struct ca_spec **out) CA_WUR;
/* Read path (at most CA_MAX_INPUT bytes) and parse it. */
int ca_spec_load(const char *path, struct ca_spec **out) CA_WUR;
void ca_spec_free(struct ca_spec *s);

/* An input path of the file made absolute (malloc'd): p itself when
 * absolute, else base/p. */
char *ca_spec_path(const struct ca_spec *s, const char *p);
/* 1 when the type signs with a quorum CA (all but key). */
int ca_spec_has_quorum(const struct ca_spec *s);

#endif
