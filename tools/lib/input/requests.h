/* Batch requests in the serverless CA's tls.json schema, unchanged:
 * a JSON array of objects with the keys below; unknown keys are refused.
 *
 *   common_name            string
 *   sans                   "a.example" | ["a.example", "10.0.0.1", ...] |
 *                          {"DNS_NAME": "a" | [...], "IP_ADDRESS": ...,
 *                           "EMAIL_ADDRESS": ..., "URL": ...}
 *   purposes               ["client_auth", "server_auth"]
 *   extended_key_usages    ["TLS_WEB_SERVER_AUTHENTICATION", "CODE_SIGNING",
 *                           "EMAIL_PROTECTION", "TIME_STAMPING",
 *                           "OCSP_SIGNING", "IPSEC_*", "1.2.3.4", ...]
 *   lifetime               days (integer)
 *   country, state, locality, organization, organizational_unit,
 *   email_address          subject fields (override the CSR's)
 *   csr_file               path relative to --csr-dir
 *   base64_csr_data        base64 of a PEM CSR
 *   force_issue, cert_bundle, ca_chain_only   booleans
 *   notify_expiry, notify_issued              recorded as given (JSON)
 *   extensions             [{"oid": "1.2.3", "value_b64": "...", "critical":
 * false}]
 *   renew                  serial of the certificate this request renews
 *                          (hsmca's own key, as `openssl x509 -serial`
 *                          prints it)
 */
#ifndef HSMCA_INPUT_REQUESTS_H
#define HSMCA_INPUT_REQUESTS_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"
#include "x509/san.h"

struct ca_leaf_request {
	size_t index;	     /* position in the file, from 0 */
	char *common_name;   /* may be NULL */
	struct ca_san *sans; /* in the order given */
	size_t n_sans;
	int sans_given; /* the key was present */
	char **ekus;	/* EKU names/OIDs from purposes and
			 * extended_key_usages, deduplicated */
	size_t n_ekus;
	long lifetime; /* days; 0 when absent */
	char *country, *state, *locality, *organization, *organizational_unit,
	    *email_address;
	char *csr_file;		/* as written */
	unsigned char *csr_pem; /* decoded base64_csr_data, NUL-terminated */
	size_t csr_pem_len;
	int force_issue, cert_bundle, ca_chain_only;
	json_t
	    *notify; /* {"notify_expiry": ..., "notify_issued": ...} or NULL */
	json_t *extensions; /* validated array or NULL */
	char *renew; /* serial renewed (canonical lowercase hex) or NULL */
};

/* Parse a whole tls.json. Syntax errors, unknown keys, wrong types, a SAN
 * type that is not one of the four, malformed base64: CA_EUSAGE naming the
 * file, the request index and the key. Nothing is partially returned. */
int ca_requests_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_leaf_request **reqs, size_t *n) CA_WUR;
int ca_requests_load(const char *path, struct ca_leaf_request **reqs,
		     size_t *n) CA_WUR;
void ca_requests_free(struct ca_leaf_request *reqs, size_t n);

/* The same file read one request at a time, so that a batch of any size
 * holds only a chunk of parsed requests: open checks every request first
 * (a bad file issues nothing) and counts them; next parses up to max.
 * errors NULL: open fails on the first invalid request. Else it checks
 * them all and, when any is invalid, fails with *errors =
 * {"invalid": N, "errors": [{"request": n (from 1), "key": "...",
 * "message": "..."}]} (the first 1000 listed). */
typedef struct ca_requests_iter ca_requests_iter;
int ca_requests_open(const char *path, ca_requests_iter **it, size_t *count,
		     json_t **errors) CA_WUR;
int ca_requests_next(ca_requests_iter *it, size_t max,
		     struct ca_leaf_request **reqs, size_t *n) CA_WUR;
void ca_requests_close(ca_requests_iter *it);

/* Parse one --san TYPE:VALUE (dns:, ip:, email:, uri:, case-insensitive). */
int ca_san_parse(const char *arg, struct ca_san *out) CA_WUR;

#endif
