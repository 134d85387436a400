/* Unit tests (TAP) for tls.json batch requests (the serverless CA's
 * schema) and --san TYPE:VALUE arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/read.h"
#include "input/requests.h"
#include "tap.h"

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int parse(const char *json, struct ca_leaf_request **r, size_t *n)
{
	ca_err_clear();
	return ca_requests_parse((const unsigned char *)json, strlen(json),
				 "tls.json", r, n);
}

/* Parse json, expect CA_EUSAGE naming msg, and nothing returned. */
static void refuse(const char *json, const char *msg, const char *what)
{
	struct ca_leaf_request *r = (struct ca_leaf_request *)&r;
	size_t n = 99;
	int rc = parse(json, &r, &n);

	ok(rc == CA_EUSAGE && r == NULL && n == 0 && has(ca_errmsg(), msg),
	   "%s", what);
	if (rc == CA_EUSAGE && !has(ca_errmsg(), msg))
		printf("#   wanted: %s\n", msg);
	if (rc == CA_OK)
		ca_requests_free(r, n);
}

/* A request with csr_file around extra keys. */
static void refuse1(const char *keys, const char *msg, const char *what)
{
	char json[8192];

	snprintf(
	    json, sizeof(json),
	    "[{\"common_name\": \"a.example\", \"csr_file\": \"a.csr\"%s%s}]",
	    keys[0] ? ", " : "", keys);
	refuse(json, msg, what);
}

static int san_is(const struct ca_leaf_request *r, size_t i,
		  enum ca_san_type type, const char *value)
{
	return i < r->n_sans && r->sans[i].type == type &&
	       streq(r->sans[i].value, value);
}

static int ekus_are(const struct ca_leaf_request *r, const char *const *want,
		    size_t n)
{
	size_t i;

	if (r->n_ekus != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!streq(r->ekus[i], want[i]))
			return 0;
	return 1;
}

/* certs/dev/tls.json of serverless-ca/cloud-ca, and the GitOps example of
 * terraform-aws-ca's docs/client-certificates.md, unchanged. */
static void test_documented_gitops(void)
{
	static const char *const doc =
	    "[\n"
	    "    {\n"
	    "        \"common_name\": \"Cloud Architect\",\n"
	    "        \"lifetime\": 365,\n"
	    "        \"csr_file\": \"cloud-architect.csr\"\n"
	    "    },\n"
	    "    {\n"
	    "        \"common_name\": \"Cloud Engineer\",\n"
	    "        \"lifetime\": 365,\n"
	    "        \"csr_file\": \"cloud-engineer.csr\"\n"
	    "    },\n"
	    "    {\n"
	    "        \"common_name\": \"server.cloud-ca.com\",\n"
	    "        \"sans\": [\"server.cloud-ca.com\", "
	    "\"server2.cloud-ca.com\"],\n"
	    "        \"lifetime\": 365,\n"
	    "        \"csr_file\": \"server-cloud-ca-com.csr\"\n"
	    "    },\n"
	    "    {\n"
	    "        \"common_name\": \"server.example.com\",\n"
	    "        \"purposes\": [\"server_auth\"],\n"
	    "        \"sans\": [\"server.example.com\", "
	    "\"server2.example.com\"],\n"
	    "        \"lifetime\": 365,\n"
	    "        \"csr_file\": \"server-cert-request.csr\"\n"
	    "    }\n"
	    "]";
	static const char *const server[] = {"TLS_WEB_SERVER_AUTHENTICATION"};
	struct ca_leaf_request *r = NULL;
	size_t n = 0;
	int rc = parse(doc, &r, &n);

	ok(rc == CA_OK && n == 4, "cloud-ca tls.json parses: 4 requests");
	if (rc != CA_OK || n != 4) {
		tap_missed(5);
		return;
	}
	ok(r[0].index == 0 && r[3].index == 3 &&
	       streq(r[0].common_name, "Cloud Architect") &&
	       r[0].lifetime == 365 &&
	       streq(r[0].csr_file, "cloud-architect.csr") &&
	       r[0].csr_pem == NULL && r[0].csr_pem_len == 0,
	   "request 1: index, common_name, lifetime, csr_file");
	ok(!r[0].sans_given && r[0].n_sans == 0 && r[0].sans == NULL &&
	       r[0].n_ekus == 0 && r[0].notify == NULL &&
	       r[0].extensions == NULL && !r[0].force_issue &&
	       !r[0].cert_bundle && !r[0].ca_chain_only && r[0].country == NULL,
	   "request 1: absent keys are absent");
	ok(r[2].sans_given && r[2].n_sans == 2 &&
	       san_is(&r[2], 0, CA_SAN_DNS, "server.cloud-ca.com") &&
	       san_is(&r[2], 1, CA_SAN_DNS, "server2.cloud-ca.com"),
	   "request 3: sans list as DNS names in order");
	ok(ekus_are(&r[3], server, 1) &&
	       streq(r[3].csr_file, "server-cert-request.csr"),
	   "request 4: purposes server_auth -> TLS_WEB_SERVER_AUTHENTICATION");
	ok(r[1].n_ekus == 0 && streq(r[1].common_name, "Cloud Engineer"),
	   "request 2: no purposes, no EKUs (the profile decides)");
	ca_requests_free(r, n);
}

/* The Lambda invocation example of terraform-aws-ca's
 * docs/lambda-invocation.md (base64 of a PEM CSR), unchanged. */
static const char lambda_b64[] =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQlJqQ0I3UUlCQURDQmlq"
    "RXJNQ2tHQTFVRUF3d2ljR2x3Wld4cGJtVXRkR1Z6ZEMxellXNHRhVzUyWVd4cApaQzFsZUdO"
    "c2RXUmxaREVMTUFrR0ExVUVCaE1DVlZNeEVUQVBCZ05WQkFjTUNFNWxkeUJaYjNKck1SY3dG"
    "UVlEClZRUUtEQTVUWlhKMlpYSnNaWE56SUVsdVl6RVBNQTBHQTFVRUN3d0dSR1YyVDNCek1S"
    "RXdEd1lEVlFRSURBaE8KWlhjZ1dXOXlhekJaTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdF"
    "SEEwSUFCRmtEemtvZ0hSclRRdk9xekgySQpVSnlTNVVCekF6ZlJIWGRyNXBBblJaZUd0SUdT"
    "YUxTVkNjMTVqU0FKbnZVczdSUzVZQzlLOERhcnF1ZTRlNjhGCjB3K2dBREFLQmdncWhrak9Q"
    "UVFEQWdOSUFEQkZBaUE2Y0t0VEZjOURFUmNIcWFLRkwreWxrTlpzMFZiM0d5ckQKS1BEenF5"
    "YWx0Z0loQVB3WWR6VlBJWVF1aEEwMjJYMGU3eHdReFhGbmgwNXNqZUNkZXNrNW1RakcKLS0t"
    "LS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg==";

static void test_documented_lambda(void)
{
	char json[4096], cn[128] = "";
	struct ca_leaf_request *r = NULL;
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	size_t n = 0;
	int rc;

	snprintf(
	    json, sizeof(json),
	    "[{\"common_name\":\"test-client-cert\", \"country\":\"GB\", "
	    "\"locality\":\"London\", \"organization\":\"Example Company\", "
	    "\"organizational_unit\":\"DevOps\", \"lifetime\":90, "
	    "\"sans\":[\"example.com\"], \"base64_csr_data\":\"%s\"}]",
	    lambda_b64);
	rc = parse(json, &r, &n);
	ok(rc == CA_OK && n == 1 &&
	       streq(r[0].common_name, "test-client-cert") &&
	       streq(r[0].country, "GB") && streq(r[0].locality, "London") &&
	       streq(r[0].organization, "Example Company") &&
	       streq(r[0].organizational_unit, "DevOps") &&
	       r[0].lifetime == 90 && r[0].n_sans == 1 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "example.com") &&
	       r[0].csr_file == NULL,
	   "Lambda invocation example parses with its subject fields");
	if (rc != CA_OK) {
		tap_missed(2);
		return;
	}
	ok(r[0].csr_pem != NULL && r[0].csr_pem_len == 517 &&
	       r[0].csr_pem[r[0].csr_pem_len] == '\0' &&
	       strlen((char *)r[0].csr_pem) == r[0].csr_pem_len &&
	       strncmp((char *)r[0].csr_pem,
		       "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0 &&
	       has((char *)r[0].csr_pem, "-----END CERTIFICATE REQUEST-----\n"),
	   "base64_csr_data decodes to the PEM CSR, NUL-terminated");
	bio = BIO_new_mem_buf(r[0].csr_pem, (int)r[0].csr_pem_len);
	req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	if (req != NULL)
		X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
					  NID_commonName, cn, sizeof(cn));
	ok(req != NULL && streq(cn, "pipeline-test-san-invalid-excluded"),
	   "the decoded CSR is read by OpenSSL (CN from the CSR)");
	X509_REQ_free(req);
	BIO_free(bio);
	ca_requests_free(r, n);
}

static void test_base64_forms(void)
{
	static const struct {
		const char *b64, *decoded, *what;
	} padding[] = {
	    {"QUJD", "ABC", "base64 without padding needed: QUJD -> ABC"},
	    {"QQ==", "A", "base64 with two padding characters: QQ== -> A"},
	    {"QUI=", "AB", "base64 with one padding character: QUI= -> AB"},
	};
	char json[4096], wrapped[2048];
	struct ca_leaf_request *r = NULL;
	size_t n = 0, i, o = 0;
	int rc;

	/* Wrapped at 64 columns with CRLF, plus a leading space. */
	wrapped[o++] = ' ';
	for (i = 0; lambda_b64[i] != '\0'; i++) {
		if (i > 0 && i % 64 == 0) {
			memcpy(wrapped + o, "\\r\\n", 4);
			o += 4;
		}
		wrapped[o++] = lambda_b64[i];
	}
	memcpy(wrapped + o, "\\n", 3);
	snprintf(json, sizeof(json),
		 "[{\"common_name\": \"x\", \"base64_csr_data\": \"%s\"}]",
		 wrapped);
	rc = parse(json, &r, &n);
	ok(rc == CA_OK && n == 1 && r[0].csr_pem_len == 517 &&
	       strncmp((char *)r[0].csr_pem, "-----BEGIN CERTIFICATE REQUEST",
		       30) == 0,
	   "base64_csr_data wrapped with CRLF and spaces decodes the same");
	if (rc == CA_OK)
		ca_requests_free(r, n);
	for (i = 0; i < sizeof(padding) / sizeof(padding[0]); i++) {
		snprintf(json, sizeof(json),
			 "[{\"common_name\": \"x\", \"base64_csr_data\": "
			 "\"%s\"}]",
			 padding[i].b64);
		rc = parse(json, &r, &n);
		ok(rc == CA_OK &&
		       r[0].csr_pem_len == strlen(padding[i].decoded) &&
		       streq((char *)r[0].csr_pem, padding[i].decoded),
		   "%s", padding[i].what);
		if (rc == CA_OK)
			ca_requests_free(r, n);
	}
}

/* docs/certificate-settings.md: SAN forms. */
static void test_sans_forms(void)
{
	struct ca_leaf_request *r = NULL;
	size_t n = 0;
	int rc;

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"sans\": \"example.com\"}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].sans_given && r[0].n_sans == 1 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "example.com"),
	   "sans as one string");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"sans\": [\"example.com\", \"www.example.com\", "
		   "\"*.example.com\"]}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].n_sans == 3 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "example.com") &&
	       san_is(&r[0], 1, CA_SAN_DNS, "www.example.com") &&
	       san_is(&r[0], 2, CA_SAN_DNS, "*.example.com"),
	   "sans as a list of strings, wildcard kept as written");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", \"sans\": {\n"
	    "  \"DNS_NAME\": [\"example.com\", \"www.example.com\"],\n"
	    "  \"IP_ADDRESS\": [\"192.168.1.1\", \"10.0.0.1\"],\n"
	    "  \"EMAIL_ADDRESS\": \"admin@example.com\",\n"
	    "  \"URL\": \"https://example.com/path\"\n"
	    "}}]",
	    &r, &n);
	ok(rc == CA_OK && r[0].n_sans == 6 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "example.com") &&
	       san_is(&r[0], 1, CA_SAN_DNS, "www.example.com") &&
	       san_is(&r[0], 2, CA_SAN_IP, "192.168.1.1") &&
	       san_is(&r[0], 3, CA_SAN_IP, "10.0.0.1") &&
	       san_is(&r[0], 4, CA_SAN_EMAIL, "admin@example.com") &&
	       san_is(&r[0], 5, CA_SAN_URI, "https://example.com/path"),
	   "sans as a typed map with list and string values, in order");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", \"sans\": [\n"
	    "  {\"type\": \"DNS_NAME\", \"value\": \"example.com\"},\n"
	    "  {\"type\": \"IP_ADDRESS\", \"value\": \"192.168.1.1\"},\n"
	    "  {\"type\": \"EMAIL_ADDRESS\", \"value\": "
	    "\"admin@example.com\"},\n"
	    "  {\"type\": \"URL\", \"value\": \"https://example.com\"},\n"
	    "  {\"value\": \"untyped.example\"}\n"
	    "]}]",
	    &r, &n);
	ok(rc == CA_OK && r[0].n_sans == 5 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "example.com") &&
	       san_is(&r[0], 1, CA_SAN_IP, "192.168.1.1") &&
	       san_is(&r[0], 2, CA_SAN_EMAIL, "admin@example.com") &&
	       san_is(&r[0], 3, CA_SAN_URI, "https://example.com") &&
	       san_is(&r[0], 4, CA_SAN_DNS, "untyped.example"),
	   "sans as a list of {type, value} objects (type defaults to "
	   "DNS_NAME)");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"sans\": {\"dns_name\": \"a.example\", \"Ip_Address\": "
		   "[\"::1\"], \"URL\": []}}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].n_sans == 2 &&
	       san_is(&r[0], 0, CA_SAN_DNS, "a.example") &&
	       san_is(&r[0], 1, CA_SAN_IP, "::1"),
	   "typed map keys are case-insensitive; an empty list adds nothing");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", \"sans\": [\n"
	    "  \"10.0.0.1\", \"2001:db8::1\", \"a@b.example\",\n"
	    "  \"https://x.example/p\", \"https://u@x.example/\",\n"
	    "  \"host.example\", \"999.1.1.1\", \"-bad-.example\", \"\",\n"
	    "  \"HOST.Example.\"\n"
	    "]}]",
	    &r, &n);
	ok(rc == CA_OK && r[0].n_sans == 10 &&
	       san_is(&r[0], 0, CA_SAN_IP, "10.0.0.1") &&
	       san_is(&r[0], 1, CA_SAN_IP, "2001:db8::1") &&
	       san_is(&r[0], 2, CA_SAN_EMAIL, "a@b.example") &&
	       san_is(&r[0], 3, CA_SAN_URI, "https://x.example/p") &&
	       san_is(&r[0], 4, CA_SAN_URI, "https://u@x.example/") &&
	       san_is(&r[0], 5, CA_SAN_DNS, "host.example") &&
	       san_is(&r[0], 6, CA_SAN_DNS, "999.1.1.1") &&
	       san_is(&r[0], 7, CA_SAN_DNS, "-bad-.example") &&
	       san_is(&r[0], 8, CA_SAN_DNS, "") &&
	       san_is(&r[0], 9, CA_SAN_DNS, "HOST.Example."),
	   "untyped SANs classified (IP, email, URI, else DNS), kept as "
	   "written, "
	   "none dropped");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"sans\": [\"only-san.example\"], \"csr_file\": \"c.csr\"}]", &r,
	    &n);
	ok(rc == CA_OK && r[0].common_name == NULL && r[0].n_sans == 1,
	   "common_name may be absent when sans are given");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"sans\": []}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].sans_given && r[0].n_sans == 0,
	   "sans: [] is given but empty");
	if (rc == CA_OK)
		ca_requests_free(r, n);
}

static void test_ekus(void)
{
	static const char *const merged[] = {"TLS_WEB_SERVER_AUTHENTICATION",
					     "TLS_WEB_CLIENT_AUTHENTICATION",
					     "CODE_SIGNING", "1.2.3.4", "ANY"};
	static const char *const all[] = {"TLS_WEB_SERVER_AUTHENTICATION",
					  "TLS_WEB_CLIENT_AUTHENTICATION",
					  "CODE_SIGNING",
					  "EMAIL_PROTECTION",
					  "TIME_STAMPING",
					  "OCSP_SIGNING",
					  "IPSEC_END_SYSTEM",
					  "IPSEC_TUNNEL",
					  "IPSEC_USER",
					  "ANY"};
	static const char *const code[] = {"TLS_WEB_CLIENT_AUTHENTICATION",
					   "CODE_SIGNING"};
	static const char *const multi[] = {"TLS_WEB_CLIENT_AUTHENTICATION",
					    "CODE_SIGNING", "EMAIL_PROTECTION",
					    "TIME_STAMPING"};
	static const char *const custom[] = {"1.3.6.1.5.5.7.3.17"};
	struct ca_leaf_request *r = NULL;
	size_t n = 0;
	int rc;

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"c.csr\",\n"
	    " \"purposes\": [\"server_auth\", \"client_auth\", "
	    "\"server_auth\"],\n"
	    " \"extended_key_usages\": [\"TLS_WEB_SERVER_AUTHENTICATION\",\n"
	    "   \"1.3.6.1.5.5.7.3.2\", \"CODE_SIGNING\", "
	    "\"1.3.6.1.5.5.7.3.3\",\n"
	    "   \"NONE\", \"1.2.3.4\", \"ANY\", \"2.5.29.37.0\", "
	    "\"1.2.3.4\"]}]",
	    &r, &n);
	ok(rc == CA_OK && ekus_are(&r[0], merged, 5),
	   "purposes and EKUs merged, deduplicated by OID, order kept");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"c.csr\",\n"
	    " \"extended_key_usages\": [\"TLS_WEB_SERVER_AUTHENTICATION\",\n"
	    "   \"TLS_WEB_CLIENT_AUTHENTICATION\", \"CODE_SIGNING\",\n"
	    "   \"EMAIL_PROTECTION\", \"TIME_STAMPING\", \"OCSP_SIGNING\",\n"
	    "   \"IPSEC_END_SYSTEM\", \"IPSEC_TUNNEL\", \"IPSEC_USER\", "
	    "\"ANY\"]}]",
	    &r, &n);
	ok(rc == CA_OK && ekus_are(&r[0], all, 10), "every EKU name accepted");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	/* docs/certificate-settings.md examples (plus a CSR source). */
	rc = parse(
	    "[{\"common_name\": \"my-code-signer\", \"purposes\": "
	    "[\"client_auth\"], \"extended_key_usages\": [\"CODE_SIGNING\"], "
	    "\"csr_file\": \"c.csr\"},\n"
	    " {\"common_name\": \"my-cert\", \"purposes\": [\"client_auth\"], "
	    "\"extended_key_usages\": [\"CODE_SIGNING\", \"EMAIL_PROTECTION\", "
	    "\"TIME_STAMPING\"], \"csr_file\": \"c.csr\"},\n"
	    " {\"common_name\": \"my-cert\", \"extended_key_usages\": "
	    "[\"1.3.6.1.5.5.7.3.17\"], \"csr_file\": \"c.csr\"}]",
	    &r, &n);
	ok(rc == CA_OK && n == 3 && ekus_are(&r[0], code, 2) &&
	       ekus_are(&r[1], multi, 4) && ekus_are(&r[2], custom, 1),
	   "documented EKU examples: code signing, several, custom OID");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"purposes\": [], \"extended_key_usages\": [\"NONE\"]}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].n_ekus == 0,
	   "empty purposes and NONE add no EKU");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\", "
		   "\"extended_key_usages\": [\"0.39\", \"2.999.1\", "
		   "\"1.3.6.1.4.1.55555.123456789012345678901\"]}]",
		   &r, &n);
	ok(rc == CA_OK && r[0].n_ekus == 3 && streq(r[0].ekus[0], "0.39") &&
	       streq(r[0].ekus[1], "2.999.1") &&
	       streq(r[0].ekus[2], "1.3.6.1.4.1.55555.123456789012345678901"),
	   "dotted OIDs: two arcs, large arcs under 2, big arc numbers");
	if (rc == CA_OK)
		ca_requests_free(r, n);
}

static void test_fields(void)
{
	char cn64[65], cn64u[129];
	char json[1024];
	struct ca_leaf_request *r = NULL;
	size_t n = 0, i;
	int rc;

	rc =
	    parse("[{\"common_name\": \"Müller Server\", \"country\": \"DE\",\n"
		  " \"state\": \"Bayern\", \"locality\": \"München\",\n"
		  " \"organization\": \"Example GmbH\",\n"
		  " \"organizational_unit\": \"Ops\",\n"
		  " \"email_address\": \"ops@example.de\",\n"
		  " \"csr_file\": \"sub/dir/m.csr\", \"lifetime\": 1,\n"
		  " \"force_issue\": true, \"cert_bundle\": true,\n"
		  " \"ca_chain_only\": false}]",
		  &r, &n);
	ok(rc == CA_OK && streq(r[0].common_name, "Müller Server") &&
	       streq(r[0].country, "DE") && streq(r[0].state, "Bayern") &&
	       streq(r[0].locality, "München") &&
	       streq(r[0].organization, "Example GmbH") &&
	       streq(r[0].organizational_unit, "Ops") &&
	       streq(r[0].email_address, "ops@example.de"),
	   "subject fields kept as written (UTF-8)");
	ok(rc == CA_OK && streq(r[0].csr_file, "sub/dir/m.csr") &&
	       r[0].lifetime == 1 && r[0].force_issue == 1 &&
	       r[0].cert_bundle == 1 && r[0].ca_chain_only == 0,
	   "csr_file in a subdirectory, lifetime 1, booleans");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	rc = parse(
	    "[{\"common_name\": \"c\", \"csr_file\": \"./a..b.csr\",\n"
	    " \"lifetime\": 36500, \"organization\": \"\", \"state\": null,\n"
	    " \"sans\": null, \"force_issue\": null, \"ca_chain_only\": true,\n"
	    " \"extensions\": [], \"purposes\": null}]",
	    &r, &n);
	ok(rc == CA_OK && streq(r[0].csr_file, "./a..b.csr") &&
	       r[0].lifetime == 36500 && r[0].organization == NULL &&
	       r[0].state == NULL && !r[0].sans_given && !r[0].force_issue &&
	       r[0].ca_chain_only == 1 && r[0].extensions == NULL &&
	       r[0].n_ekus == 0,
	   "lifetime 36500; null and \"\" subject fields mean not given");
	if (rc == CA_OK)
		ca_requests_free(r, n);

	memset(cn64, 'a', 64);
	cn64[64] = '\0';
	for (i = 0; i < 64; i++)
		memcpy(cn64u + 2 * i, "\xc3\xa9", 2);
	cn64u[128] = '\0';
	snprintf(json, sizeof(json),
		 "[{\"common_name\": \"%s\", \"csr_file\": \"c.csr\"},"
		 " {\"common_name\": \"%s\", \"csr_file\": \"c.csr\"}]",
		 cn64, cn64u);
	rc = parse(json, &r, &n);
	ok(rc == CA_OK && n == 2 && streq(r[0].common_name, cn64) &&
	       streq(r[1].common_name, cn64u),
	   "common_name of 64 characters (ASCII and 2-byte UTF-8) accepted");
	if (rc == CA_OK)
		ca_requests_free(r, n);
}

static void test_notify_extensions(void)
{
	struct ca_leaf_request *r = NULL;
	json_t *want = NULL, *e;
	size_t n = 0;
	int rc;

	rc = parse("[{\"common_name\": \"c\", \"csr_file\": \"c.csr\",\n"
		   " \"notify_expiry\": true,\n"
		   " \"notify_issued\": {\"email\": [\"a@b\"], \"n\": 1}},\n"
		   " {\"common_name\": \"d\", \"csr_file\": \"d.csr\",\n"
		   " \"notify_expiry\": null}]",
		   &r, &n);
	want = json_loads("{\"notify_expiry\": true, \"notify_issued\": "
			  "{\"email\": [\"a@b\"], \"n\": 1}}",
			  0, NULL);
	ok(rc == CA_OK && json_equal(r[0].notify, want),
	   "notify_expiry / notify_issued recorded as given");
	json_decref(want);
	want = json_loads("{\"notify_expiry\": null}", 0, NULL);
	ok(rc == CA_OK && json_equal(r[1].notify, want),
	   "notify_expiry: null is recorded too");
	json_decref(want);
	if (rc == CA_OK)
		ca_requests_free(r, n);

	/* docs/certificate-settings.md example, unchanged but for the CSR. */
	rc = parse(
	    "[{\n"
	    "  \"common_name\": \"device-001.example.com\",\n"
	    "  \"purposes\": [\"client_auth\"],\n"
	    "  \"extensions\": [\n"
	    "    {\n"
	    "      \"oid\": \"1.3.6.1.4.1.55555.1.1\",\n"
	    "      \"value_b64\": \"DA5kZXZpY2UtY2xhc3MtYQ==\",\n"
	    "      \"critical\": false\n"
	    "    },\n"
	    "    {\"oid\": \"1.3.6.1.4.1.55555.1.2\", \"value_b64\": "
	    "\"DA5k ZXZp\\nY2UtY2xh\\r\\nc3MtYQ==\"},\n"
	    "    {\"oid\": \"1.3.6.1.4.1.55555.1.3\", \"value_b64\": \"BQA=\", "
	    "\"critical\": true}\n"
	    "  ],\n"
	    "  \"csr_file\": \"device.csr\"\n"
	    "}]",
	    &r, &n);
	ok(rc == CA_OK && json_array_size(r[0].extensions) == 3,
	   "documented custom extension example parses");
	e = rc == CA_OK ? json_array_get(r[0].extensions, 0) : NULL;
	ok(streq(json_string_value(json_object_get(e, "oid")),
		 "1.3.6.1.4.1.55555.1.1") &&
	       streq(json_string_value(json_object_get(e, "value_b64")),
		     "DA5kZXZpY2UtY2xhc3MtYQ==") &&
	       json_is_false(json_object_get(e, "critical")) &&
	       json_object_size(e) == 3,
	   "extension 1: oid, value_b64, critical false");
	e = rc == CA_OK ? json_array_get(r[0].extensions, 1) : NULL;
	ok(streq(json_string_value(json_object_get(e, "value_b64")),
		 "DA5kZXZpY2UtY2xhc3MtYQ==") &&
	       json_is_false(json_object_get(e, "critical")),
	   "extension 2: wrapped base64 normalised, critical defaults to "
	   "false");
	e = rc == CA_OK ? json_array_get(r[0].extensions, 2) : NULL;
	ok(streq(json_string_value(json_object_get(e, "value_b64")), "BQA=") &&
	       json_is_true(json_object_get(e, "critical")),
	   "extension 3: critical true");
	if (rc == CA_OK)
		ca_requests_free(r, n);
}

static void test_empty_and_load(void)
{
	struct ca_leaf_request *r = (struct ca_leaf_request *)&r;
	char path[] = "/tmp/test_request_XXXXXX";
	const char *doc = "[{\"common_name\": \"f\", \"csr_file\": \"f.csr\"}]";
	size_t n = 99;
	int rc, fd;

	rc = parse(" [ ] ", &r, &n);
	ok(rc == CA_OK && r == NULL && n == 0, "an empty list is no requests");

	fd = mkstemp(path);
	if (fd >= 0) {
		ok(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc),
		   "temporary tls.json written");
		close(fd);
	} else {
		ok(0, "temporary tls.json written");
	}
	ca_err_clear();
	rc = ca_requests_load(path, &r, &n);
	ok(rc == CA_OK && n == 1 && streq(r[0].common_name, "f"),
	   "ca_requests_load reads a file");
	if (rc == CA_OK)
		ca_requests_free(r, n);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	ca_err_clear();
	rc = ca_requests_load("/nonexistent/tls.json", &r, &n);
	ok(rc == CA_EIO && r == NULL && n == 0 &&
	       has(ca_errmsg(), "/nonexistent/tls.json"),
	   "ca_requests_load names a missing file");
	fd = mkstemp(path);
	if (fd >= 0) {
		ok(write(fd, "[{\"bogus\": 1}]", 14) == 14,
		   "bad tls.json written");
		close(fd);
	} else {
		ok(0, "bad tls.json written");
	}
	ca_err_clear();
	rc = ca_requests_load(path, &r, &n);
	ok(rc == CA_EUSAGE && has(ca_errmsg(), path) &&
	       has(ca_errmsg(), "request 1: unknown key 'bogus'"),
	   "ca_requests_load errors name the file");
	unlink(path);
	ca_requests_free(NULL, 0);
	ok(1, "ca_requests_free(NULL, 0) is harmless");
}

static void test_refusals_syntax(void)
{
	unsigned char *big;
	struct ca_leaf_request *r = NULL;
	size_t n = 0, i;
	char *many;
	int rc;

	refuse("hello", "tls.json: not valid JSON", "not JSON refused");
	refuse("", "not valid JSON", "empty input refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a.csr\"",
	       "not valid JSON", "truncated JSON refused");
	refuse("[] trailing", "not valid JSON", "trailing garbage refused");
	refuse("{\"common_name\": \"a\", \"csr_file\": \"a.csr\"}",
	       "tls.json: the top level must be a list of requests",
	       "top-level object refused");
	refuse("\"a\"", "top level must be a list", "top-level string refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a.csr\"}, 7]",
	       "tls.json: request 2: must be a JSON object, not an integer",
	       "a request that is not an object refused");
	refuse("[{\"common_name\": \"a\", \"common_name\": \"b\", "
	       "\"csr_file\": \"a.csr\"}]",
	       "duplicate object key", "duplicate key refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a.csr\", \"sans\": "
	       "{\"DNS_NAME\": \"x\", \"DNS_NAME\": \"y\"}}]",
	       "duplicate object key", "duplicate key in a nested map refused");
	refuse("[{\"a\\u0000b\": 1}]", "not valid JSON",
	       "NUL in a key refused");

	big = calloc(1, CA_MAX_INPUT + 2);
	if (big != NULL) {
		memset(big, ' ', CA_MAX_INPUT + 1);
		big[0] = '[';
		big[CA_MAX_INPUT] = ']';
		ca_err_clear();
		rc = ca_requests_parse(big, CA_MAX_INPUT + 1, "big.json", &r,
				       &n);
		ok(rc == CA_EUSAGE && r == NULL &&
		       has(ca_errmsg(), "big.json is larger"),
		   "input over CA_MAX_INPUT refused");
		free(big);
	} else {
		ok(0, "input over CA_MAX_INPUT refused");
	}
	many = malloc(10001 * 3 + 3);
	if (many != NULL) {
		many[0] = '[';
		for (i = 0; i < 10001; i++)
			memcpy(many + 1 + 3 * i, i ? ",{}" : " {}", 3);
		many[1 + 3 * 10001] = ']';
		many[2 + 3 * 10001] = '\0';
		refuse(many, "more than 10000 requests",
		       "more than 10000 requests refused");
		free(many);
	} else {
		ok(0, "more than 10000 requests refused");
	}
}

static void test_refusals_keys(void)
{
	refuse(
	    "[{\"common_name\": \"a\", \"csr_file\": \"a.csr\"},\n"
	    " {\"common_name\": \"b\", \"csr_file\": \"b.csr\"},\n"
	    " {\"common_name\": \"c\", \"csr_file\": \"c.csr\", \"foo\": 1}]",
	    "tls.json: request 3: unknown key 'foo'",
	    "unknown key refused, naming file, request and key");
	refuse1("\"co\\u001bmmon\": 1", "unknown key 'co\\x1bmmon'",
		"unknown key with a control character shown escaped");
	refuse1("\"Common_Name\": \"x\"", "unknown key 'Common_Name'",
		"keys are case-sensitive");
	/* terraform-aws-ca examples/pkinit/certs/dev/pkinit-client.json */
	refuse("[{\"common_name\": \"user@EXAMPLE.COM\", \"organization\": "
	       "\"Example Corp\", \"lifetime\": 365, \"profile\": "
	       "\"pkinit_client\", \"force_issue\": true, \"csr_file\": "
	       "\"u.csr\"}]",
	       "request 1: key 'profile' is not supported",
	       "serverless 'profile' key refused with a pointer to --profile");
	refuse1(
	    "\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"BQA=\", "
	    "\"crit\": true}]",
	    "request 1: extensions item 1: unknown key 'crit'",
	    "unknown key in an extension refused");
	refuse1(
	    "\"sans\": [{\"type\": \"DNS_NAME\", \"value\": \"a\", \"x\": 1}]",
	    "sans item 1: unknown key 'x'",
	    "unknown key in a {type, value} SAN refused");
}

static void test_refusals_types(void)
{
	refuse("[{\"common_name\": 5, \"csr_file\": \"a.csr\"}]",
	       "request 1: common_name: must be a string, not an integer",
	       "common_name of the wrong type refused");
	refuse1("\"lifetime\": \"365\"",
		"lifetime: must be a whole number of days, not a string",
		"lifetime as a string refused");
	refuse1("\"lifetime\": 365.0", "lifetime: must be a whole number",
		"lifetime as a real refused");
	refuse1("\"force_issue\": \"true\"",
		"force_issue: must be true or false, not a string",
		"force_issue as a string refused");
	refuse1("\"cert_bundle\": 1", "cert_bundle: must be true or false",
		"cert_bundle as a number refused");
	refuse1("\"ca_chain_only\": []", "ca_chain_only: must be true or false",
		"ca_chain_only as a list refused");
	refuse1("\"purposes\": \"server_auth\"",
		"purposes: must be a list, not a string",
		"purposes as a string refused");
	refuse1("\"purposes\": [1]", "purposes item 1: must be a string",
		"purpose of the wrong type refused");
	refuse1("\"extended_key_usages\": \"CODE_SIGNING\"",
		"extended_key_usages: must be a list",
		"extended_key_usages as a string refused");
	refuse1("\"sans\": 5", "sans: must be a string, a list, or a map",
		"sans as a number refused");
	refuse1(
	    "\"sans\": [\"a\", 1]",
	    "sans item 2: must be a string or a {\"type\", \"value\"} object",
	    "a SAN of the wrong type refused");
	refuse1("\"sans\": [\"a.example\", {\"type\": \"DNS_NAME\", \"value\": "
		"\"b\"}]",
		"sans: mixes strings and", "mixed SAN list forms refused");
	refuse1("\"sans\": {\"DNS_NAME\": 5}",
		"sans: DNS_NAME: must be a string or a list of strings",
		"typed SAN map value of the wrong type refused");
	refuse1("\"sans\": {\"IP_ADDRESS\": [\"10.0.0.1\", true]}",
		"sans: IP_ADDRESS item 2: must be a string, not a boolean",
		"typed SAN list element of the wrong type refused");
	refuse1("\"sans\": [{\"type\": \"DNS_NAME\"}]",
		"sans item 1: value: is required",
		"{type, value} SAN without value refused");
	refuse1("\"country\": 44", "country: must be a string",
		"country as a number refused");
	refuse1("\"email_address\": [\"a@b\"]",
		"email_address: must be a string",
		"email_address as a list refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": 1}]",
	       "csr_file: must be a string", "csr_file as a number refused");
	refuse1("\"extensions\": {}",
		"extensions: must be a list, not an object",
		"extensions as an object refused");
	refuse1("\"extensions\": [\"1.2.3\"]",
		"extensions item 1: must be an object",
		"extension that is not an object refused");
	refuse1(
	    "\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"BQA=\", "
	    "\"critical\": \"no\"}]",
	    "extensions item 1: critical: must be true or false",
	    "extension critical as a string refused");
}

static void test_refusals_values(void)
{
	char json[8192];
	size_t i, o;

	refuse1("\"sans\": {\"FOO\": \"x\"}", "sans: unknown SAN type 'FOO'",
		"unknown SAN type in a map refused");
	refuse1("\"sans\": {\"DN\": \"CN=Partner,O=Org\"}",
		"SAN type DN (directoryName) is not supported",
		"SAN type DN refused with a clear reason");
	refuse1("\"sans\": [{\"type\": \"OTHER_NAME\", \"value\": \"x\"}]",
		"sans item 1: type: unknown SAN type 'OTHER_NAME'",
		"unknown SAN type in a {type, value} list refused");
	refuse1("\"purposes\": [\"server_auth\", \"email_auth\"]",
		"purposes item 2: unknown purpose 'email_auth'",
		"unknown purpose refused");
	refuse1("\"purposes\": [\"Server_Auth\"]",
		"unknown purpose 'Server_Auth'", "purposes are case-sensitive");
	refuse1("\"extended_key_usages\": [\"TLS_SERVER\"]",
		"extended_key_usages item 1: unknown extended key usage "
		"'TLS_SERVER'",
		"unknown EKU name refused");
	refuse1("\"extended_key_usages\": [\"codeSigning\"]",
		"unknown extended key usage 'codeSigning'",
		"OpenSSL short names are not EKU names here");
	refuse1("\"extended_key_usages\": [\"1\"]",
		"unknown extended key usage '1'", "one-arc OID refused");
	refuse1("\"extended_key_usages\": [\"1.2.\"]", "'1.2.'",
		"OID with a trailing dot refused");
	refuse1("\"extended_key_usages\": [\".1.2\"]", "'.1.2'",
		"OID with a leading dot refused");
	refuse1("\"extended_key_usages\": [\"1..2\"]", "'1..2'",
		"OID with an empty arc refused");
	refuse1("\"extended_key_usages\": [\"3.1\"]", "'3.1'",
		"OID with a first arc above 2 refused");
	refuse1("\"extended_key_usages\": [\"1.40\"]", "'1.40'",
		"OID with a second arc of 40 under 1 refused");
	refuse1("\"extended_key_usages\": [\"1.02.3\"]", "'1.02.3'",
		"OID with a leading zero refused");
	refuse1("\"extended_key_usages\": [\"1.2.a\"]", "'1.2.a'",
		"OID with a letter refused");
	refuse1("\"extended_key_usages\": [\" 1.2.3\"]", "' 1.2.3'",
		"OID with a space refused");
	refuse1("\"lifetime\": 0", "lifetime: must be at least 1 day",
		"lifetime 0 refused");
	refuse1("\"lifetime\": -1", "lifetime: must be at least 1 day (got -1)",
		"lifetime -1 refused");
	refuse1("\"lifetime\": 36501", "lifetime: must be at most 36500 days",
		"lifetime 36501 refused");
	refuse1("\"lifetime\": 9223372036854775807",
		"lifetime: must be at most", "huge lifetime refused");
	o = (size_t)snprintf(json, sizeof(json), "[{\"common_name\": \"");
	memset(json + o, 'a', 65);
	o += 65;
	snprintf(json + o, sizeof(json) - o, "\", \"csr_file\": \"a.csr\"}]");
	refuse(json, "common_name: is longer than 64 characters",
	       "common_name of 65 characters refused");
	o = (size_t)snprintf(json, sizeof(json), "[{\"common_name\": \"");
	for (i = 0; i < 65; i++, o += 2)
		memcpy(json + o, "\xc3\xa9", 2);
	snprintf(json + o, sizeof(json) - o, "\", \"csr_file\": \"a.csr\"}]");
	refuse(json, "longer than 64 characters",
	       "common_name of 65 UTF-8 characters refused");
	refuse("[{\"common_name\": \"\", \"csr_file\": \"a.csr\"}]",
	       "common_name: must not be empty", "empty common_name refused");
	refuse("[{\"csr_file\": \"a.csr\", \"lifetime\": 3}]",
	       "request 1: needs a common_name or sans",
	       "no common_name and no sans refused");
	refuse("[{\"csr_file\": \"a.csr\", \"sans\": []}]",
	       "needs a common_name or sans",
	       "no common_name and empty sans refused");
	refuse1("\"country\": \"GBR\"", "country: must be 2 characters",
		"three-letter country refused");
	refuse1(
	    "\"organization\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    "organization: is longer than 64 characters",
	    "organization over 64 characters refused");
	o = (size_t)snprintf(json, sizeof(json), "\"sans\": [");
	for (i = 0; i < 101; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o,
				      "%s\"h%zu.example\"", i ? ", " : "", i);
	snprintf(json + o, sizeof(json) - o, "]");
	refuse1(json, "sans: more than 100 SANs", "more than 100 SANs refused");
	o = (size_t)snprintf(json, sizeof(json), "\"sans\": {\"DNS_NAME\": [");
	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o, "%s\"d%zu\"",
				      i ? ", " : "", i);
	o += (size_t)snprintf(json + o, sizeof(json) - o, "], \"URL\": [");
	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o, "%s\"u%zu\"",
				      i ? ", " : "", i);
	snprintf(json + o, sizeof(json) - o, "]}");
	refuse1(json, "more than 100 SANs",
		"more than 100 SANs across typed lists refused");
}

static void test_refusals_nul_csr_ext(void)
{
	char json[16384];
	size_t o, i;

	refuse1("\"sans\": [\"ok.example\", \"a.example\\u0000.evil.example\"]",
		"request 1: sans item 2: contains a NUL byte",
		"NUL in a SAN refused, naming the key");
	refuse1("\"sans\": {\"EMAIL_ADDRESS\": \"a@b\\u0000c\"}",
		"sans: EMAIL_ADDRESS: contains a NUL byte",
		"NUL in a typed SAN refused");
	refuse1("\"sans\": \"x\\u0000\"", "sans: contains a NUL byte",
		"NUL in a string SAN refused");
	refuse("[{\"common_name\": \"a\\u0000b\", \"csr_file\": \"a.csr\"}]",
	       "common_name: contains a NUL byte",
	       "NUL in common_name refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a.csr\\u0000x\"}]",
	       "csr_file: contains a NUL byte", "NUL in csr_file refused");

	refuse(
	    "[{\"common_name\": \"a\", \"base64_csr_data\": \"!!!notbase64\"}]",
	    "request 1: base64_csr_data: is not valid base64",
	    "bad base64 refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": \"QUJDRA\"}]",
	       "base64_csr_data: is not valid base64",
	       "missing padding refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": \"QQ==QQ==\"}]",
	       "base64_csr_data: is not valid base64",
	       "data after padding refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": \"Q===\"}]",
	       "base64_csr_data: is not valid base64",
	       "three padding characters refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": \"ab-_\"}]",
	       "base64_csr_data: is not valid base64",
	       "base64url alphabet refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": \" \\n \"}]",
	       "base64_csr_data: is not valid base64", "blank base64 refused");
	refuse("[{\"common_name\": \"a\", \"base64_csr_data\": 12}]",
	       "base64_csr_data: must be a string",
	       "base64 as a number refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a.csr\", "
	       "\"base64_csr_data\": \"QUJD\"}]",
	       "request 1: give either csr_file or base64_csr_data, not both",
	       "both csr_file and base64_csr_data refused");
	refuse("[{\"common_name\": \"a\"}]",
	       "request 1: needs csr_file or base64_csr_data",
	       "neither csr_file nor base64_csr_data refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"/etc/passwd\"}]",
	       "csr_file: '/etc/passwd' must be a path relative to --csr-dir",
	       "absolute csr_file refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"../x.csr\"}]",
	       "csr_file: '../x.csr' must be a path relative",
	       "csr_file starting with .. refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a/../../x.csr\"}]",
	       "without '..'", "csr_file with an inner .. refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"a/..\"}]",
	       "without '..'", "csr_file ending in .. refused");
	refuse("[{\"common_name\": \"a\", \"csr_file\": \"\"}]",
	       "csr_file: '' must be a path", "empty csr_file refused");

	refuse1("\"extensions\": [{\"oid\": \"2.5.29.x\", \"value_b64\": "
		"\"BQA=\"}]",
		"extensions item 1: oid: '2.5.29.x' is not a dotted OID",
		"extension with a bad OID refused");
	refuse1("\"extensions\": [{\"oid\": \"1.2.3\"}]",
		"extensions item 1: value_b64: is required",
		"extension without value_b64 refused");
	refuse1("\"extensions\": [{\"value_b64\": \"BQA=\"}]",
		"extensions item 1: oid: is required",
		"extension without oid refused");
	refuse1(
	    "\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"BQA=\"}, "
	    "{\"oid\": \"1.2.3\", \"value_b64\": \"BQA=\"}]",
	    "extensions item 2: oid: 1.2.3 is given twice",
	    "the same extension twice refused");
	refuse1(
	    "\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"%%%%\"}]",
	    "extensions item 1: value_b64: is not valid base64",
	    "extension with bad base64 refused");
	refuse1("\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"\"}]",
		"value_b64: is not valid base64",
		"extension with an empty value refused");
	o = (size_t)snprintf(
	    json, sizeof(json),
	    "\"extensions\": [{\"oid\": \"1.2.3\", \"value_b64\": \"");
	for (i = 0; i < 4098 / 3 * 4; i++)
		json[o++] = 'A';
	snprintf(json + o, sizeof(json) - o, "\"}]");
	refuse1(json, "value_b64: must decode to 1 to 4096 bytes (got 4098)",
		"extension value over 4096 bytes refused");
}

static void test_san_arg(void)
{
	static const struct {
		const char *arg;
		enum ca_san_type type;
		const char *value;
	} good[] = {
	    {"dns:a.example", CA_SAN_DNS, "a.example"},
	    {"DNS:*.a.example", CA_SAN_DNS, "*.a.example"},
	    {"IP:10.0.0.1", CA_SAN_IP, "10.0.0.1"},
	    {"ip:2001:db8::1", CA_SAN_IP, "2001:db8::1"},
	    {"email:a@b", CA_SAN_EMAIL, "a@b"},
	    {"Email:A@B.example", CA_SAN_EMAIL, "A@B.example"},
	    {"uri:https://x", CA_SAN_URI, "https://x"},
	    {"URI:urn:uuid:1234", CA_SAN_URI, "urn:uuid:1234"},
	};
	static const struct {
		const char *arg;
		const char *msg;
	} bad[] = {
	    {"foo:bar", "unknown type"},    {"url:https://x", "unknown type"},
	    {"dn:CN=x", "unknown type"},    {"nocolon", "expected TYPE:VALUE"},
	    {"dns:", "the value is empty"}, {":x", "unknown type"},
	    {"dnsx:a", "unknown type"},
	};
	struct ca_san san;
	char what[128];
	size_t i;
	int rc, all = 1;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ca_err_clear();
		rc = ca_san_parse(good[i].arg, &san);
		snprintf(what, sizeof(what), "--san %s parses", good[i].arg);
		ok(rc == CA_OK && san.type == good[i].type &&
		       streq(san.value, good[i].value),
		   "%s", what);
		free(san.value);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ca_err_clear();
		san.value = (char *)"sentinel";
		rc = ca_san_parse(bad[i].arg, &san);
		all &= rc == CA_EUSAGE && san.value == NULL &&
		       has(ca_errmsg(), bad[i].msg);
		if (rc == CA_OK)
			free(san.value);
	}
	ok(all, "--san with an unknown type, no colon or no value refused");
	ca_err_clear();
	rc = ca_san_parse(NULL, &san);
	ok(rc == CA_EUSAGE && san.value == NULL, "--san NULL refused");
}

/* renew: the serial a request renews, kept in the store's form. */
static void test_renew(void)
{
	struct ca_leaf_request *r = NULL;
	size_t n = 0;
	int rc;

	rc = parse("[{\"common_name\": \"a.example\", \"csr_file\": "
		   "\"a.csr\", \"renew\": \"01:A2:B3\"},"
		   " {\"common_name\": \"b.example\", \"csr_file\": "
		   "\"b.csr\", \"renew\": null},"
		   " {\"common_name\": \"c.example\", \"csr_file\": "
		   "\"c.csr\", \"renew\": \"serial=00FF\", "
		   "\"force_issue\": false}]",
		   &r, &n);
	ok(rc == CA_OK && n == 3 && streq(r[0].renew, "01a2b3"),
	   "renew: as openssl prints it, kept as lowercase hex");
	ok(rc == CA_OK && n == 3 && r[1].renew == NULL,
	   "renew: null is not given");
	ok(rc == CA_OK && n == 3 && streq(r[2].renew, "ff"),
	   "renew: serial= prefix and leading zero octets as the store "
	   "keys serials");
	if (rc == CA_OK)
		ca_requests_free(r, n);
	refuse1("\"renew\": 12", "request 1: renew: must be a string",
		"renew as a number refused");
	refuse1("\"renew\": \"xyz\"",
		"request 1: renew: malformed serial 'xyz'",
		"renew that is not hex refused");
	refuse1("\"renew\": \"00\"",
		"request 1: renew: ", "renew of serial zero refused");
	refuse1("\"renew\": \"01\", \"force_issue\": true",
		"renew: a renewal is not combined with force_issue",
		"renew with force_issue refused");
	refuse1("\"Renew\": \"01\"", "unknown key 'Renew'",
		"Renew (another case) refused as unknown");
}

/* A batch file with several invalid requests: every one reported (its
 * number and key), not only the first; the file's end still checked. */
static void test_open_all_errors(void)
{
	char path[] = "/tmp/test_request_XXXXXX";
	const char *doc =
	    "[{\"common_name\": \"a\", \"csr_file\": \"a.csr\"},\n"
	    " {\"common_name\": \"b\", \"csr_file\": \"b.csr\", "
	    "\"colour\": "
	    "1},\n"
	    " {\"common_name\": \"c\", \"csr_file\": \"c.csr\"},\n"
	    " {\"common_name\": \"d\", \"csr_file\": \"d.csr\", "
	    "\"lifetime\": "
	    "\"x\"},\n"
	    " {\"common_name\": \"e\", \"csr_file\": \"e.csr\", "
	    "\"sans\": 7}]";
	ca_requests_iter *it = NULL;
	json_t *errors = NULL, *e;
	size_t count = 0;
	int rc, fd = mkstemp(path);

	if (fd < 0 || write(fd, doc, strlen(doc)) != (ssize_t)strlen(doc)) {
		ok(0, "temporary tls.json written");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	rc = ca_requests_open(path, &it, &count, NULL);
	ok(rc == CA_EUSAGE && it == NULL &&
	       has(ca_errmsg(), "request 2: unknown key 'colour'"),
	   "open without errors: fails on the first invalid request");
	rc = ca_requests_open(path, &it, &count, &errors);
	ok(rc == CA_EUSAGE && it == NULL &&
	       has(ca_errmsg(), "3 of 5 requests are invalid"),
	   "open with errors: every request checked, the count given");
	ok(json_integer_value(json_object_get(errors, "invalid")) == 3 &&
	       json_array_size(json_object_get(errors, "errors")) == 3,
	   "open with errors: three listed");
	e = json_array_get(json_object_get(errors, "errors"), 0);
	ok(json_integer_value(json_object_get(e, "request")) == 2 &&
	       streq(json_string_value(json_object_get(e, "key")), "colour") &&
	       has(json_string_value(json_object_get(e, "message")), "colour"),
	   "error 1: request 2, the unknown key named");
	e = json_array_get(json_object_get(errors, "errors"), 1);
	ok(json_integer_value(json_object_get(e, "request")) == 4 &&
	       streq(json_string_value(json_object_get(e, "key")), "lifetime"),
	   "error 2: request 4, key lifetime");
	e = json_array_get(json_object_get(errors, "errors"), 2);
	ok(json_integer_value(json_object_get(e, "request")) == 5 &&
	       streq(json_string_value(json_object_get(e, "key")), "sans"),
	   "error 3: request 5, key sans");
	json_decref(errors);
	unlink(path);
}

int main(void)
{
	test_documented_gitops();
	test_documented_lambda();
	test_base64_forms();
	test_sans_forms();
	test_ekus();
	test_fields();
	test_notify_extensions();
	test_empty_and_load();
	test_refusals_syntax();
	test_refusals_keys();
	test_refusals_types();
	test_refusals_values();
	test_refusals_nul_csr_ext();
	test_san_arg();
	test_renew();
	test_open_all_errors();
	return tap_done();
}
