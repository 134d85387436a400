#include "issue/leaf.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/time.h"
#include "batch/pool.h"
#include "batch/writer.h"
#include "input/csr.h"
#include "input/name.h"
#include "input/requests.h"
#include "issue/ca.h"
#include "issue/partition.h"
#include "issue/renew.h"
#include "lint/csr.h"
#include "lint/lint.h"
#include "out/cadir.h"
#include "out/file.h"
#include "out/names.h"
#include "sign/tbs.h"
#include "store/audit.h"
#include "store/behind.h"
#include "store/lookup.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/leafprof.h"
#include "x509/pem.h"
#include "x509/profile.h"
#include "x509/san.h"
#include "x509/serial.h"
#include "x509/spki.h"

#define CHUNK 256

/* What stays the same for every certificate of a run. */
struct run {
	const struct ca_leaf_params *p;
	struct ca_dir *d;
	struct ca_leaf_profile profile;
	struct ca_partitions parts;
	struct ca_partition_cursor fill; /* size mode, this chunk */
	unsigned char *algid;
	size_t algid_len;
	EVP_PKEY *issuer_pub; /* borrowed from the CA certificate */
	char *chain_pem;      /* this CA's certificate + chain.pem */
	size_t chain_len;
	char *chain_master; /* batch: one chain file, hard-linked per request */
	/* Batch files are written by one thread while the next chunk is
	 * worked on (batch/writer.h). */
	ca_writer *writer;
	/* A batch's read-ahead connection (store/behind.h), or NULL. */
	ca_store *reader;
	unsigned char rng[CHUNK * 16];
	size_t rng_left;
	json_t *results;  /* one certificate: its result */
	FILE *results_fp; /* batch: results, one JSON line each */
	char *results_tmp;
	json_t *refusals;	   /* refused requests (for the tool to show) */
	struct ca_out_names names; /* batch file names in use */
	long issued, already, refused;
	json_t *pending; /* files to write after the chunk commits */
	json_t
	    *chunk_refused; /* batch: this chunk's refusals, audited as one */
	json_t *chunk_results; /* this chunk's results, kept once committed */
	int lost_result;    /* a result could not be kept (no memory, disk) */
	size_t committed;   /* requests whose outcome is committed */
	size_t total;	    /* requests in the batch */
	char *summary_path; /* summary.json, once written */
	json_t *invalid;    /* an invalid batch file: its errors */
	long valid;	    /* --check: requests that would be issued */
	int last_refusal;   /* exit code of the last refusal */
	int workers;	    /* threads for CPU work */
	int in_flight;	    /* threads for token work: signatures at once */
	int in_chunk;
};

/* One request on its way to a certificate. */
struct job {
	const struct ca_leaf_request *r;
	struct ca_csr_der csr;
	X509_NAME *subject;
	char spki[65];
	char request_key[65]; /* see issue/renew.h */
	char legacy_key[65]; /* common name and key: rows of earlier versions */
	char renews[48];     /* the serial this certificate supersedes */
	struct ca_leaf_profile prof;
	GENERAL_NAMES *sans;
	json_t *ekus;
	char *cert_path, *chain_path, *bundle_path;
	int state; /* JOB_* */
	int rc;	   /* why it was refused */
	char reason[1024];
	char what[300]; /* names the request in messages */
	time_t not_before, not_after;
	unsigned char serial_raw[CA_SERIAL_LEN];
	ASN1_INTEGER *serial_int;
	X509 *draft;	    /* the certificate as built (metadata) */
	unsigned char *der; /* the signed certificate */
	size_t der_len;
	char serial[80];
	int partition;
};

static void job_free(struct job *j)
{
	ca_csr_der_clear(&j->csr);
	X509_NAME_free(j->subject);
	GENERAL_NAMES_free(j->sans);
	json_decref(j->ekus);
	free(j->cert_path);
	free(j->chain_path);
	free(j->bundle_path);
	X509_free(j->draft);
	ASN1_INTEGER_free(j->serial_int);
	free(j->der);
}

/* ---- set-up --------------------------------------------------------- */

/* The chain files' text: this CA's certificate and chain.pem, from the
 * certificates read (and checked) when the directory was opened, never
 * the files' bytes. */
static int load_chain(struct run *run)
{
	X509 *x;
	char *pem = NULL, *grown;
	size_t len = 0;
	int i, rc = CA_OK;

	for (i = -1; i < sk_X509_num(run->d->chain); i++) {
		x = i < 0 ? run->d->cert : sk_X509_value(run->d->chain, i);
		GUARD(ca_x509_pem(x, &pem, &len));
		grown = realloc(run->chain_pem, run->chain_len + len + 1);
		if (grown == NULL) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		run->chain_pem = grown;
		memcpy(run->chain_pem + run->chain_len, pem, len + 1);
		run->chain_len += len;
		free(pem);
		pem = NULL;
	}
out:
	free(pem);
	return rc;
}

/* Signatures in flight: the setting, else CA_LEAF_IN_FLIGHT_DEFAULT; no
 * more than the token has sessions for (less the one holding the login),
 * so that no signature waits for a session. */
static int in_flight(const struct ca_leaf_params *p, ca_token *tok)
{
	unsigned long max = ca_token_max_sessions(tok);
	int n = p->in_flight > 0 ? p->in_flight : CA_LEAF_IN_FLIGHT_DEFAULT;

	if (max > 0 && (unsigned long)n > max)
		n = (int)max;
	return n > CA_POOL_MAX_WORKERS ? CA_POOL_MAX_WORKERS : n;
}

static int run_setup(struct run *run)
{
	const struct ca_leaf_params *p = run->p;
	char *pinned = NULL;
	int rc;

	GUARD(ca_dir_open(p->ca_dir, &run->d));
	GUARD(ca_leaf_profile_find(run->d->config,
				   p->profile ? p->profile : "server-client",
				   &run->profile));
	GUARD(ca_partitions_config(run->d->config, &run->parts));
	GUARD(load_chain(run));
	GUARD(ca_store_meta_get(run->d->store, "quorum_sha256", &pinned));
	if (pinned != NULL) {
		rc = ca_err(CA_EPOLICY,
			    "this CA's key is protected by a quorum (an "
			    "offline root): it does not sign end-entity "
			    "certificates");
		goto out;
	}
	run->workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (run->workers < 1)
		run->workers = 1;
	if (run->workers > CA_POOL_MAX_WORKERS)
		run->workers = CA_POOL_MAX_WORKERS;
	run->issuer_pub = X509_get0_pubkey(run->d->cert);
	GUARD(ca_algid_der(run->issuer_pub, ca_dir_sigalg(run->d), &run->algid,
			   &run->algid_len));
	/* --check signs nothing: no token, no PIN. */
	if (!p->check) {
		GUARD(ca_dir_signer(run->d, p->pin_source));
		GUARD(ca_dir_repair(run->d));
		run->in_flight = in_flight(p, run->d->signer->tok);
	}
	run->results = json_array();
	run->refusals = json_array();

	run->pending = json_array();
	run->chunk_refused = json_array();
	run->chunk_results = json_array();
	if (run->results == NULL || run->refusals == NULL ||
	    run->pending == NULL || run->chunk_refused == NULL ||
	    run->chunk_results == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	free(pinned);
	return rc;
}

/* ---- per request ------------------------------------------------------ */

static int next_serial(struct run *run, unsigned char raw[CA_SERIAL_LEN],
		       ASN1_INTEGER **out)
{
	BIGNUM *bn;
	int rc;

	if (run->rng_left < 16) {
		rc = ca_token_random(run->d->signer->tok, run->rng,
				     sizeof(run->rng));
		if (rc < 0)
			return rc;
		run->rng_left = sizeof(run->rng);
	}
	/* 0x01 prefix + 128 bits from the token RNG: positive, fixed length. */
	raw[0] = 0x01;
	memcpy(raw + 1, run->rng + sizeof(run->rng) - run->rng_left, 16);
	OPENSSL_cleanse(run->rng + sizeof(run->rng) - run->rng_left, 16);
	run->rng_left -= 16;
	bn = BN_bin2bn(raw, CA_SERIAL_LEN, NULL);
	*out = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	return *out ? CA_OK : ca_err(CA_EIO, "cannot encode the serial number");
}

static int load_csr(struct run *run, struct job *j)
{
	const struct ca_leaf_request *r = j->r;

	if (r->csr_pem != NULL)
		return ca_csr_parse(r->csr_pem, r->csr_pem_len, j->what,
				    &j->csr);
	if (run->p->csr_dir == NULL)
		return ca_csr_load(r->csr_file, &j->csr);
	return ca_csr_load_in(run->p->csr_dir, r->csr_file, &j->csr);
}

static int request_key(struct job *j)
{
	char *cn = ca_name_cn(j->subject);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[32];
	unsigned int n = 32;
	int rc = CA_OK;

	/* Same common name and same key: how earlier versions knew a request
	 * (their rows carry this as request_key). */
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, cn ? cn : "", cn ? strlen(cn) : 0) != 1 ||
	    EVP_DigestUpdate(md, "\n", 1) != 1 ||
	    EVP_DigestUpdate(md, j->spki, 64) != 1 ||
	    EVP_DigestFinal_ex(md, h, &n) != 1)
		rc = ca_err(CA_EIO, "SHA-256 failed");
	else {
		ca_hex(h, 32, j->legacy_key);
		/* Until the request key is known (a refusal names this). */
		memcpy(j->request_key, j->legacy_key, sizeof(j->request_key));
	}
	EVP_MD_CTX_free(md);
	free(cn);
	return rc;
}

static int csr_key_usage(X509_REQ *req, uint32_t *ku);

/* One field of the request key, length first (no two requests hash the
 * same fields alike). */
static int key_field(EVP_MD_CTX *md, const void *data, size_t len)
{
	char n[24];

	snprintf(n, sizeof(n), "%zu:", len);
	return EVP_DigestUpdate(md, n, strlen(n)) == 1 &&
	       (len == 0 || EVP_DigestUpdate(md, data, len) == 1);
}

/* The request key: everything that shapes the certificate, and the serial
 * it renews (issue/renew.h). */
static int request_fingerprint(struct job *j)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *subject = NULL, *sans = NULL, h[32];
	char *ekus = json_dumps(j->ekus, JSON_COMPACT | JSON_ENCODE_ANY);
	char *exts =
	    j->r->extensions
		? json_dumps(j->r->extensions, JSON_COMPACT | JSON_SORT_KEYS)
		: NULL;
	char days[24], ku_text[16];
	uint32_t ku = 0;
	int subject_len = i2d_X509_NAME(j->subject, &subject);
	int sans_len = j->sans ? i2d_GENERAL_NAMES(j->sans, &sans) : 0;
	unsigned int n = 32;
	int rc = CA_OK;

	snprintf(days, sizeof(days), "%ld",
		 j->r->lifetime > 0 ? j->r->lifetime : j->prof.default_days);
	/* csr-passthrough: the key usage comes from the CSR too. */
	if (j->prof.passthrough)
		(void)csr_key_usage(j->csr.req, &ku);
	snprintf(ku_text, sizeof(ku_text), "%u", (unsigned)ku);
	if (md == NULL || ekus == NULL || subject_len < 0 || sans_len < 0 ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    !key_field(md, "hsmca request 2", 15) ||
	    !key_field(md, j->spki, 64) ||
	    !key_field(md, subject, (size_t)subject_len) ||
	    !key_field(md, sans, (size_t)sans_len) ||
	    !key_field(md, ekus, strlen(ekus)) ||
	    !key_field(md, j->prof.name, strlen(j->prof.name)) ||
	    !key_field(md, days, strlen(days)) ||
	    !key_field(md, ku_text, strlen(ku_text)) ||
	    !key_field(md, exts ? exts : "", exts ? strlen(exts) : 0) ||
	    !key_field(md, j->r->renew ? j->r->renew : "",
		       j->r->renew ? strlen(j->r->renew) : 0) ||
	    EVP_DigestFinal_ex(md, h, &n) != 1)
		rc = ca_err(CA_EIO, "cannot compute the request key");
	else
		ca_hex(h, 32, j->request_key);
	EVP_MD_CTX_free(md);
	OPENSSL_free(subject);
	OPENSSL_free(sans);
	free(ekus);
	free(exts);
	return rc;
}

static int ekus_have(json_t *ekus, int nid)
{
	size_t i;
	json_t *v;
	int found = 0;

	json_array_foreach(ekus, i, v)
	{
		ASN1_OBJECT *o = ca_eku_parse(json_string_value(v));

		found |= o != NULL && OBJ_obj2nid(o) == nid;
		ASN1_OBJECT_free(o);
	}
	return found;
}

static int choose_sans(struct job *j)
{
	const struct ca_leaf_request *r = j->r;
	struct ca_san *csr_sans = NULL, cn_san;
	size_t n = 0;
	char *cn = NULL;
	int rc;

	if (r->sans_given && r->n_sans > 0)
		return ca_sans_encode(r->sans, r->n_sans, j->prof.san_types,
				      &j->sans);
	GUARD(ca_csr_sans(j->csr.req, &csr_sans, &n));
	if (n > 0) {
		rc = ca_sans_encode(csr_sans, n, j->prof.san_types, &j->sans);
		goto out;
	}
	cn = ca_name_cn(j->subject);
	if (cn != NULL && ca_san_dns_check(cn, strlen(cn), 1) == CA_OK) {
		cn_san.type = CA_SAN_DNS;
		cn_san.value = cn;
		rc = ca_sans_encode(&cn_san, 1, j->prof.san_types, &j->sans);
		goto out;
	}
	/* RFC 5280 4.2.1.6: a subject name can stand alone, except for TLS
	 * servers, which are named by their SANs (RFC 6125). */
	if (json_array_size(j->ekus) > 0 &&
	    !ekus_have(j->ekus, NID_server_auth) &&
	    X509_NAME_entry_count(j->subject) > 0) {
		rc = CA_OK;
		goto out;
	}
	rc = ca_err(CA_EPOLICY,
		    "no subject alternative name: give sans, put them "
		    "in the CSR, or use a DNS name as the common name");
out:
	ca_sans_free(csr_sans, n);
	free(cn);
	return rc;
}

static int add_eku(struct job *j, const char *name)
{
	if (json_array_append_new(j->ekus, json_string(name)) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* csr-passthrough: the EKUs the CSR asks for (none: no EKU extension). */
static int csr_ekus(struct job *j)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(j->csr.req);
	EXTENDED_KEY_USAGE *eku = NULL;
	char oid[128];
	int i, rc = CA_OK;

	if (exts != NULL)
		eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		if (OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i),
				1) <= 0) {
			rc =
			    ca_err(CA_EPOLICY, "the CSR has an unreadable EKU");
			break;
		}
		rc = add_eku(j, oid);
		if (rc < 0)
			break;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}

static int choose_ekus(struct run *run, struct job *j)
{
	const struct ca_leaf_request *r = j->r;
	size_t i, k;
	int e;

	j->ekus = json_array();
	if (j->ekus == NULL)
		return ca_err(CA_EIO, "out of memory");
	/* A tls.json request without purposes gets what the serverless CA
	 * gives it, TLS client authentication, unless --profile says else. */
	if (r->n_ekus == 0 && run->p->requests != NULL &&
	    run->p->profile == NULL) {
		return add_eku(j, "clientAuth");
	}
	if (r->n_ekus == 0 && j->prof.passthrough)
		return csr_ekus(j);
	if (r->n_ekus == 0) {
		for (e = 0; e < j->prof.n_ekus; e++)
			if (add_eku(j, j->prof.ekus[e]) < 0)
				return CA_EIO;
		if (j->prof.custom_ekus != NULL &&
		    json_array_extend(j->ekus, j->prof.custom_ekus) != 0)
			return ca_err(CA_EIO, "out of memory");
		return CA_OK;
	}
	for (i = 0; i < r->n_ekus; i++) {
		ASN1_OBJECT *want = ca_eku_parse(r->ekus[i]);
		int allowed = j->prof.custom_ekus == NULL;
		json_t *v;

		if (want == NULL)
			return ca_err(CA_EPOLICY,
				      "unknown extended key usage '%s'",
				      r->ekus[i]);
		json_array_foreach(j->prof.custom_ekus, k, v)
		{
			ASN1_OBJECT *o = ca_eku_parse(json_string_value(v));

			allowed |= o != NULL && OBJ_cmp(o, want) == 0;
			ASN1_OBJECT_free(o);
		}
		ASN1_OBJECT_free(want);
		if (!allowed)
			return ca_err(CA_EPOLICY,
				      "extended key usage %s is not allowed "
				      "by profile %s",
				      r->ekus[i], j->prof.name);
		if (add_eku(j, r->ekus[i]) < 0)
			return CA_EIO;
	}
	return CA_OK;
}

/* Extensions a request may add: on the CA's allowlist, never one the
 * profile owns. */
static int add_request_extensions(struct run *run, struct job *j, X509 *x)
{
	static const int owned[] = {
	    NID_subject_key_identifier,
	    NID_authority_key_identifier,
	    NID_key_usage,
	    NID_ext_key_usage,
	    NID_subject_alt_name,
	    NID_basic_constraints,
	    NID_crl_distribution_points,
	    NID_info_access,
	    NID_certificate_policies,
	    NID_name_constraints,
	};
	json_t *allow = json_object_get(run->d->config, "extension_allowlist");
	size_t i, k;
	json_t *e, *a;

	json_array_foreach(j->r->extensions, i, e)
	{
		const char *oid = json_string_value(json_object_get(e, "oid"));
		const char *b64 =
		    json_string_value(json_object_get(e, "value_b64"));
		ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
		unsigned char buf[4096];
		ASN1_OCTET_STRING *val = NULL;
		X509_EXTENSION *ext = NULL;
		int ok = 0, n, allowed = 0;

		for (k = 0; o != NULL && k < sizeof(owned) / sizeof(owned[0]);
		     k++)
			if (OBJ_obj2nid(o) == owned[k]) {
				ASN1_OBJECT_free(o);
				return ca_err(CA_EPOLICY,
					      "extension %s belongs to the "
					      "profile and cannot be set",
					      oid);
			}
		json_array_foreach(allow, k, a) allowed |=
		    json_string_value(a) &&
		    strcmp(json_string_value(a), oid) == 0;
		if (o == NULL || !allowed) {
			ASN1_OBJECT_free(o);
			return ca_err(CA_EPOLICY,
				      "extension %s is not on this CA's "
				      "extension_allowlist",
				      oid ? oid : "?");
		}
		n = b64 ? EVP_DecodeBlock(buf, (const unsigned char *)b64,
					  (int)strlen(b64))
			: -1;
		if (n > 0) {
			const char *end = b64 + strlen(b64);

			/* EVP_DecodeBlock counts padding as zero bytes. */
			while (end > b64 && end[-1] == '=') {
				end--;
				n--;
			}
			val = ASN1_OCTET_STRING_new();
			ok = val != NULL &&
			     ASN1_OCTET_STRING_set(val, buf, n) == 1 &&
			     (ext = X509_EXTENSION_create_by_OBJ(
				  NULL, o,
				  json_is_true(json_object_get(e, "critical")),
				  val)) != NULL &&
			     X509_add_ext(x, ext, -1) == 1;
		}
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(val);
		ASN1_OBJECT_free(o);
		if (!ok)
			return ca_err(CA_EPOLICY,
				      "extension %s has a bad value", oid);
	}
	return CA_OK;
}

static int crl_urls_for(struct run *run, struct job *j, json_t **urls)
{
	char *url;

	if (!ca_partitions_enabled(&run->parts)) {
		*urls =
		    json_incref(json_object_get(run->d->config, "crl_urls"));
		return CA_OK;
	}
	url = ca_partition_url(&run->parts, j->partition);
	if (url == NULL)
		return ca_err(CA_EIO, "out of memory");
	*urls = json_pack("[s]", url);
	free(url);
	return *urls ? CA_OK : ca_err(CA_EIO, "out of memory");
}

static int csr_key_usage(X509_REQ *req, uint32_t *ku)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	ASN1_BIT_STRING *bits = NULL;
	int i, found = 0;

	if (exts != NULL)
		bits = X509V3_get_d2i(exts, NID_key_usage, NULL, NULL);
	if (bits != NULL) {
		*ku = 0;
		for (i = 0; i < 9; i++)
			if (ASN1_BIT_STRING_get_bit(bits, i))
				*ku |= 0x80u >> i |
				       (i == 8 ? KU_DECIPHER_ONLY : 0);
		found = *ku != 0;
	}
	ASN1_BIT_STRING_free(bits);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return found;
}

static int build_cert(struct run *run, struct job *j,
		      const struct ca_cert_spec *spec, X509 **out)
{
	unsigned ku = ca_leaf_key_usage(&j->prof, spec->pub);
	uint32_t csr_ku;
	json_t *crl = NULL;
	X509 *x = NULL;
	char kus[160];
	int rc;

	GUARD(ca_profile_base(spec, X509_get_subject_name(run->d->cert), &x));
	/* csr-passthrough: the key usage the CSR asks for (lint refuses one
	 * the key type cannot do). */
	if (j->prof.passthrough && csr_key_usage(j->csr.req, &csr_ku))
		ku = csr_ku;
	GUARD(ca_x509_add_ext(x, NULL, NID_basic_constraints,
			      "critical,CA:FALSE"));
	snprintf(kus, sizeof(kus), "critical%s%s%s%s%s%s%s%s%s",
		 ku & KU_DIGITAL_SIGNATURE ? ",digitalSignature" : "",
		 ku & KU_NON_REPUDIATION ? ",nonRepudiation" : "",
		 ku & KU_KEY_ENCIPHERMENT ? ",keyEncipherment" : "",
		 ku & KU_DATA_ENCIPHERMENT ? ",dataEncipherment" : "",
		 ku & KU_KEY_AGREEMENT ? ",keyAgreement" : "",
		 ku & KU_KEY_CERT_SIGN ? ",keyCertSign" : "",
		 ku & KU_CRL_SIGN ? ",cRLSign" : "",
		 ku & KU_ENCIPHER_ONLY ? ",encipherOnly" : "",
		 ku & KU_DECIPHER_ONLY ? ",decipherOnly" : "");
	GUARD(ca_x509_add_ext(x, NULL, NID_key_usage, kus));
	GUARD(ca_profile_add_ekus(x, j->ekus));
	/* RFC 5280 4.2.1.6: critical when the subject is empty. */
	if (sk_GENERAL_NAME_num(j->sans) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, j->sans,
			      X509_NAME_entry_count(spec->subject) == 0,
			      X509V3_ADD_DEFAULT) != 1) {
		rc = ca_err(CA_EIO, "cannot add the subject alternative names");
		goto out;
	}
	GUARD(ca_profile_add_ski(x, NULL));
	GUARD(ca_profile_add_aki(x, run->d->cert));
	GUARD(crl_urls_for(run, j, &crl));
	GUARD(ca_profile_add_urls(x, crl,
				  json_object_get(run->d->config, "aia_urls")));
	GUARD(ca_profile_add_policies(
	    x, json_object_get(run->d->config, "policies")));
	if (j->prof.ocsp_nocheck)
		GUARD(ca_x509_add_ext(x, NULL, NID_id_pkix_OCSP_noCheck,
				      "ignored"));
	GUARD(add_request_extensions(run, j, x));
	*out = x;
	x = NULL;
out:
	json_decref(crl);
	X509_free(x);
	return rc;
}

static int validity(struct run *run, struct job *j, time_t *nb, time_t *na)
{
	long days = j->r->lifetime > 0 ? j->r->lifetime : j->prof.default_days;
	int clamped;

	if (days > j->prof.max_days)
		return ca_err(CA_EPOLICY,
			      "lifetime of %ld days is above the maximum "
			      "of profile %s (%ld days)",
			      days, j->prof.name, j->prof.max_days);
	return ca_validity_clamp(run->d->cert, days, nb, na, &clamped);
}

/* Build the certificate and lint its TBS (no state written yet); der
 * holds the bytes tbs marks (the caller frees it). */
static int build_and_lint(struct run *run, struct job *j, unsigned char **der,
			  size_t *der_len, struct ca_tbs *tbs)
{
	struct ca_lint lint = {CA_LINT_LEAF, run->d->cert, NULL, NULL, 0};
	struct ca_cert_spec spec;
	int rc;

	*der = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.subject = j->subject;
	spec.pub = j->csr.pub;
	spec.spki = X509_REQ_get_X509_PUBKEY(j->csr.req);
	spec.pathlen = -1;
	spec.not_before = j->not_before;
	spec.not_after = j->not_after;
	spec.serial = j->serial_int;
	GUARD(build_cert(run, j, &spec, &j->draft));
	GUARD(ca_x509_tbs(j->draft, run->algid, run->algid_len, der, der_len));
	ca_tbs_init(tbs, CA_TBS_LEAF_CERT, *der, *der_len);
	lint.draft = j->draft;
	lint.subject_pub = spec.pub;
	lint.subject_pub_checked = 1; /* ca_csr_check in precheck */
	GUARD(ca_lint_tbs(tbs, &lint));
out:
	return rc;
}

/* Build, lint, sign and verify one certificate (no state written yet). */
static int issue_one(struct run *run, struct job *j)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	struct ca_tbs tbs;
	int rc;

	GUARD(build_and_lint(run, j, &der, &der_len, &tbs));
	GUARD(ca_cert_sign_der(run->d->signer, &tbs, run->issuer_pub, &j->der,
			       &j->der_len));
out:
	free(der);
	return rc;
}

/* ---- outputs ---------------------------------------------------------- */

static int batch_names(struct run *run, struct job *j)
{
	return ca_out_names_batch(&run->names, run->p->out_dir, j->r->csr_file,
				  j->r->common_name, j->r->index, &j->cert_path,
				  &j->chain_path, &j->bundle_path);
}

static int single_names(struct run *run, struct job *j)
{
	j->cert_path = strdup(run->p->out);
	if (run->p->chain_out != NULL)
		j->chain_path = strdup(run->p->chain_out);
	if (j->cert_path == NULL ||
	    (run->p->chain_out && j->chain_path == NULL))
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* Which files a request produces: certificate + chain, or one bundle, or
 * only the chain (ca_chain_only). */
static int outputs_check(const struct job *j, int force)
{
	int rc = CA_OK;

	if (j->r->ca_chain_only)
		return j->chain_path ? ca_out_check(j->chain_path, force)
				     : CA_OK;
	if (j->r->cert_bundle)
		return ca_out_check(j->bundle_path, force);
	rc = ca_out_check(j->cert_path, force);
	if (rc == CA_OK && j->chain_path != NULL)
		rc = ca_out_check(j->chain_path, force);
	return rc;
}

/* Write a file unless it already holds exactly these bytes. Files are not
 * fsynced: the store holds every certificate durably, and a re-run writes
 * again (or repairs) any file a crash lost. */
static int put_file(const char *path, const char *data, size_t len, int force)
{
	unsigned char *old = NULL;
	size_t old_len;
	int same;

	if (access(path, F_OK) == 0 &&
	    ca_read_file(path, CA_MAX_INPUT, &old, &old_len) == CA_OK) {
		same = old_len == len && memcmp(old, data, len) == 0;
		free(old);
		if (same)
			return CA_OK;
	}
	return ca_out_write_nosync(path, data, len, force, 0644);
}

/* The chain file of a request: a hard link to the run's one chain file
 * when there is one (identical bytes, no new inode per request). */
static int put_chain(struct run *run, const char *path, int force)
{
	if (run->chain_master != NULL && link(run->chain_master, path) == 0)
		return CA_OK;
	return put_file(path, run->chain_pem, run->chain_len, force);
}

static int write_outputs(struct run *run, const char *cert_path,
			 const char *chain_path, const char *bundle_path,
			 int chain_only, int bundle, int force, const char *pem,
			 size_t pem_len)
{
	char *both = NULL;
	int rc = CA_OK;

	if (chain_only) {
		if (chain_path != NULL)
			GUARD(put_chain(run, chain_path, force));
	} else if (bundle) {
		both = malloc(pem_len + run->chain_len);
		if (both == NULL) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		memcpy(both, pem, pem_len);
		memcpy(both + pem_len, run->chain_pem, run->chain_len);
		GUARD(put_file(bundle_path, both, pem_len + run->chain_len,
			       force));
	} else {
		GUARD(put_file(cert_path, pem, pem_len, force));
		if (chain_path != NULL)
			GUARD(put_chain(run, chain_path, force));
	}
out:
	free(both);
	return rc;
}

/* ---- results ---------------------------------------------------------- */

/* A result of the chunk being worked on: kept only once the chunk
 * commits (keep_results), so that nothing reports what was rolled back. */
static void add_result(struct run *run, json_t *o)
{
	if (o != NULL && json_array_append_new(run->chunk_results, o) != 0)
		run->lost_result = 1;
	else if (o == NULL)
		run->lost_result = 1;
}

/* The chunk committed: count its results and keep them, in memory for
 * one certificate, on disk for a batch (so a batch of any size holds no
 * more than a chunk). */
static void keep_results(struct run *run)
{
	int bounded = run->p->requests != NULL;
	const char *status;
	char *line;
	size_t i;
	json_t *o;

	json_array_foreach(run->chunk_results, i, o)
	{
		status = json_string_value(json_object_get(o, "status"));
		if (status != NULL && strcmp(status, "issued") == 0)
			run->issued++;
		else if (status != NULL &&
			 strcmp(status, "already issued") == 0)
			run->already++;
		else
			run->refused++;
		/* A batch (or a check of one) keeps the first refusals for
		 * the tool to show; all are in the results file. */
		if (json_is_string(json_object_get(o, "reason")) &&
		    (!bounded ||
		     json_array_size(run->refusals) < CA_LEAF_REFUSALS_SHOWN))
			run->lost_result |=
			    json_array_append(run->refusals, o) != 0;
		if (run->results_fp == NULL) {
			if (!bounded)
				run->lost_result |=
				    json_array_append(run->results, o) != 0;
			continue;
		}
		line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (line == NULL || fprintf(run->results_fp, "%s\n", line) < 0)
			run->lost_result = 1;
		free(line);
	}
	json_array_clear(run->chunk_results);
}

static json_t *result(const struct job *j, const char *status,
		      const char *reason)
{
	char *cn = j->subject ? ca_name_cn(j->subject) : NULL;
	json_t *o = json_pack("{s:I, s:s}", "index",
			      (json_int_t)j->r->index + 1, "status", status);
	int failed = 0; /* a value could not be added */

	if (o == NULL) {
		free(cn);
		return NULL;
	}
	if (cn != NULL || j->r->common_name != NULL)
		failed |= json_object_set_new(
		    o, "common_name", json_string(cn ? cn : j->r->common_name));
	if (j->serial[0] != '\0')
		failed |=
		    json_object_set_new(o, "serial", json_string(j->serial));
	if (!j->r->ca_chain_only && !j->r->cert_bundle && j->cert_path)
		failed |= json_object_set_new(o, "certificate",
					      json_string(j->cert_path));
	if (j->r->cert_bundle && j->bundle_path)
		failed |= json_object_set_new(o, "bundle",
					      json_string(j->bundle_path));
	if (!j->r->cert_bundle && j->chain_path)
		failed |=
		    json_object_set_new(o, "chain", json_string(j->chain_path));
	if (reason != NULL)
		failed |= json_object_set_new(o, "reason", json_string(reason));
	if (reason == NULL && j->renews[0] != '\0')
		failed |=
		    json_object_set_new(o, "renews", json_string(j->renews));
	/* What was issued (or issued before): its names and expiry. */
	if (reason == NULL && j->draft != NULL) {
		time_t na;
		char when[32];

		failed |=
		    json_object_set_new(o, "sans", ca_cert_sans_json(j->draft));
		if (ca_asn1_time(X509_get0_notAfter(j->draft), &na) == CA_OK) {
			ca_time_rfc3339(na, when, sizeof(when));
			failed |= json_object_set_new(o, "not_after",
						      json_string(when));
		}
	}
	free(cn);
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int refuse(struct run *run, struct job *j, int rc, ca_audit *a)
{
	char reason[1024];

	snprintf(reason, sizeof(reason), "%s", ca_errmsg());
	run->last_refusal = rc;
	j->serial[0] = '\0';
	add_result(run, result(j, "refused", reason));
	if (run->results_fp != NULL) {
		/* A batch: one audit entry per chunk names its refusals. */
		if (json_array_append_new(run->chunk_refused,
					  json_pack("{s:I, s:s, s:s}", "index",
						    (json_int_t)j->r->index + 1,
						    "request", j->request_key,
						    "reason", reason)) != 0)
			return ca_err(CA_EIO, "out of memory");
		ca_err(rc, "%s", reason);
		return rc == CA_EPOLICY || rc == CA_EUSAGE ? CA_OK : rc;
	}
	ca_audit_set_action(a, "sign-leaf");
	ca_audit_input_data(a, "request", j->request_key,
			    strlen(j->request_key));
	/* Inside the chunk's transaction: the refusal commits with it. */
	if (ca_audit_append(run->d->store, a,
			    rc == CA_EPOLICY ? "refused" : "error", reason) < 0)
		return CA_EIO;
	ca_err(rc, "%s", reason);
	return rc == CA_EPOLICY || rc == CA_EUSAGE ? CA_OK : rc;
}

/* Remember the files of a certificate, to write after the commit. */
static int pend(struct run *run, const struct job *j, const unsigned char *der,
		size_t len, int repair)
{
	json_t *o = NULL;
	char *pem = NULL;
	size_t pem_len;
	int rc;

	rc = ca_der_pem("CERTIFICATE", der, len, &pem, &pem_len);
	if (rc < 0)
		return rc;
	o = json_pack("{s:s?, s:s?, s:s?, s:b, s:b, s:b, s:s}", "cert",
		      j->cert_path, "chain", j->chain_path, "bundle",
		      j->bundle_path, "chain_only", j->r->ca_chain_only,
		      "bundle_on", j->r->cert_bundle, "repair", repair, "pem",
		      pem);
	free(pem);
	if (o == NULL || json_array_append_new(run->pending, o) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* Already issued (the same request): re-write missing files. */
static int already_issued(struct run *run, struct job *j,
			  const struct ca_cert_record *prev)
{
	const unsigned char *p = prev->der;
	X509 *x;
	int rc;

	x = d2i_X509(NULL, &p, (long)prev->der_len);
	if (x == NULL || ca_serial_hex(X509_get0_serialNumber(x), j->serial,
				       sizeof(j->serial)) < 0)
		j->serial[0] = '\0';
	/* Kept for the result (its SANs and notAfter). */
	X509_free(j->draft);
	j->draft = x;
	/* Files are (re-)written once the chunk commits, like new ones. */
	/* The store is the truth: a damaged file of this request is
	 * replaced by the committed certificate. */
	rc = pend(run, j, prev->der, prev->der_len, 1);
	if (rc < 0)
		return rc;
	add_result(run, result(j, "already issued", NULL));
	return CA_OK;
}

/* The store's word on this request: issued before, a renewal, or a key
 * certified before (issue/renew.h). *done when issued before. */
static int prior_issue(struct run *run, struct job *j, int *done)
{
	ca_store *st = run->d->store;
	struct ca_cert_record same, current, target;
	struct ca_renew_facts f;
	enum ca_renew_outcome what;
	int has_same = 0, has_current = 0, has_target = 0, count = 0, rc;

	memset(&f, 0, sizeof(f));
	memset(&same, 0, sizeof(same));
	memset(&current, 0, sizeof(current));
	memset(&target, 0, sizeof(target));
	*done = 0;
	/* A request key is looked up through its SPKI: a key never certified
	 * (most requests) costs one count, not three sorted lookups. */
	GUARD(ca_store_spki_count(st, j->spki, &count));
	if (count > 0) {
		GUARD(ca_store_cert_by_request_key(st, j->spki, j->request_key,
						   &same, &has_same));
		if (!has_same)
			GUARD(ca_store_cert_by_request_key(
			    st, j->spki, j->legacy_key, &same, &has_same));
		GUARD(
		    ca_store_cert_current(st, j->spki, &current, &has_current));
	}
	if (j->r->renew != NULL)
		GUARD(ca_store_cert_lookup(st, j->r->renew, &target,
					   &has_target));
	f.spki = j->spki;
	f.renew = j->r->renew;
	f.batch = run->p->requests != NULL;
	f.same = has_same ? &same : NULL;
	f.current = has_current ? &current : NULL;
	f.key_certified = count > 0;
	f.target = has_target ? &target : NULL;
	GUARD(ca_renew_decide(&f, &what));
	if (what == CA_RENEW_ALREADY) {
		GUARD(already_issued(run, j, &same));
		*done = 1;
	} else if (what == CA_RENEW_RENEW) {
		snprintf(j->renews, sizeof(j->renews), "%s", target.serial);
	}
out:
	ca_cert_record_free(&same);
	ca_cert_record_free(&current);
	ca_cert_record_free(&target);
	return rc;
}

/* Checks that need only the CSR and the store. */
static int precheck(struct run *run, struct job *j)
{
	const struct ca_leaf_request *r = j->r;
	struct ca_subject_override ov = {
	    r->common_name,  r->country,      r->state,
	    r->locality,     r->organization, r->organizational_unit,
	    r->email_address};
	int rc;

	GUARD(load_csr(run, j));
	GUARD(ca_csr_check(&j->csr, j->what));
	GUARD(ca_csr_refuse_ca(j->csr.req, j->what));
	GUARD(ca_leaf_subject(j->csr.req, &ov, &j->subject));
	GUARD(ca_spki_der_sha256_hex(X509_REQ_get_X509_PUBKEY(j->csr.req),
				     j->spki));
	GUARD(request_key(j));
out:
	return rc;
}

static int record(struct run *run, struct job *j, ca_audit *a)
{
	char *notify =
	    j->r->notify ? json_dumps(j->r->notify, JSON_COMPACT) : NULL;
	char *subject = ca_name_oneline(j->subject);
	char *cn = ca_name_cn(j->subject);
	struct ca_cert_row row;
	int rc;

	memset(&row, 0, sizeof(row));
	row.serial = j->serial;
	row.subject = subject ? subject : "";
	row.cn = cn;
	row.spki_sha256 = j->spki;
	GUARD(ca_asn1_time(X509_get0_notBefore(j->draft), &row.not_before));
	GUARD(ca_asn1_time(X509_get0_notAfter(j->draft), &row.not_after));
	row.kind = "leaf";
	row.profile = j->prof.name;
	row.partition = j->partition;
	row.request_key = j->request_key;
	row.notify = notify;
	row.der = j->der;
	row.der_len = j->der_len;
	ca_audit_set_action(a, "sign-leaf");
	ca_audit_output_der(a, "certificate", j->der, j->der_len);
	ca_audit_set(a, "serial", j->serial);
	ca_audit_set(a, "subject", row.subject);
	ca_audit_set(a, "profile", j->prof.name);
	if (j->renews[0] != '\0')
		ca_audit_set(a, "renews", j->renews);
	/* The entry first: the row names it (show finds it that way). */
	GUARD(ca_audit_append(run->d->store, a, "ok", "certificate issued"));
	row.audit_seq = ca_audit_seq(a);
	GUARD(ca_store_cert_add(run->d->store, &row));
	/* A renewal: the old certificate stays valid, marked superseded. */
	if (j->renews[0] != '\0')
		GUARD(ca_store_cert_supersede(run->d->store, j->renews,
					      j->serial));
	GUARD(pend(run, j, j->der, j->der_len, 0));
out:
	free(notify);
	free(subject);
	free(cn);
	return rc;
}

/* ---- chunks: parallel where the work is CPU or token bound -------------- */

enum { JOB_OPEN, JOB_DONE, JOB_REFUSED, JOB_SIGNED };

static int chunk_begin(struct run *run);
static int chunk_end(struct run *run, size_t n);
static void chunk_abort(struct run *run);

/* Keep a job's failure for the main thread (messages are per thread). */
static void job_fail(struct job *j, int rc)
{
	j->rc = rc;
	j->state = JOB_REFUSED;
	snprintf(j->reason, sizeof(j->reason), "%s", ca_errmsg());
}

/* Stage 1 (workers): the CSR and everything that follows from it alone. */
static void check_csr(struct run *run, struct job *j)
{
	int rc;

	if (j->state != JOB_OPEN)
		return;
	GUARD(precheck(run, j));
	GUARD(validity(run, j, &j->not_before, &j->not_after));
	GUARD(choose_ekus(run, j));
	GUARD(choose_sans(j));
	GUARD(request_fingerprint(j));
out:
	if (rc < 0)
		job_fail(j, rc);
}

/* Stage 2 (main thread, in order): the store, the serial, the partition. */
static int assign_serial(struct run *run, struct job *j, json_t *chunk_keys)
{
	int rc, done = 0;

	if (j->state != JOB_OPEN)
		return CA_OK;
	if (!j->r->force_issue) {
		GUARD(prior_issue(run, j, &done));
		if (done) {
			j->state = JOB_DONE;
			return CA_OK;
		}
		if (json_object_get(chunk_keys, j->spki) != NULL) {
			rc = ca_err(CA_EPOLICY,
				    "the same public key is in another "
				    "request of this batch: refused "
				    "(force_issue to allow)");
			goto out;
		}
	}
	GUARD(outputs_check(j, run->p->force));
	GUARD(next_serial(run, j->serial_raw, &j->serial_int));
	GUARD(ca_serial_hex(j->serial_int, j->serial, sizeof(j->serial)));
	j->partition = -1;
	if (ca_partitions_enabled(&run->parts))
		GUARD(ca_partition_assign(run->d->store, &run->parts,
					  &run->fill, j->serial_raw,
					  CA_SERIAL_LEN, &j->partition));
	if (json_object_set_new(chunk_keys, j->spki, json_true()) != 0)
		rc = ca_err(CA_EIO, "out of memory");
out:
	if (rc == CA_EPOLICY || rc == CA_EUSAGE) {
		job_fail(j, rc);
		rc = CA_OK;
	}
	return rc;
}

/* Stage 3 (workers): build, lint, sign on the token, verify. */
static void build_and_sign(struct run *run, struct job *j)
{
	int rc;

	if (j->state != JOB_OPEN)
		return;
	rc = issue_one(run, j);
	if (rc < 0)
		job_fail(j, rc);
	else
		j->state = JOB_SIGNED;
}

/* A stage run over a chunk's jobs by the worker pool. */
struct stage {
	struct run *run;
	struct job *jobs;
	void (*fn)(struct run *, struct job *);
};

static void stage_one(void *ctx, size_t i)
{
	struct stage *st = ctx;

	st->fn(st->run, &st->jobs[i]);
}

/* Run fn over the jobs on every CPU (the calling thread included). */
static void parallel(struct run *run, struct job *jobs, size_t n,
		     void (*fn)(struct run *, struct job *))
{
	struct stage st = {run, jobs, fn};

	ca_pool_run(n, run->workers, stage_one, &st);
}

/* A job for request r, named in messages. */
static void job_start(struct run *run, struct job *j,
		      const struct ca_leaf_request *r, int batch)
{
	memset(j, 0, sizeof(*j));
	j->r = r;
	j->prof = run->profile;
	if (batch)
		snprintf(j->what, sizeof(j->what), "%s request %zu",
			 run->p->requests, r->index + 1);
	else
		snprintf(j->what, sizeof(j->what), "%s", run->p->csr);
}

static int job_init(struct run *run, struct job *j,
		    const struct ca_leaf_request *r, int batch)
{
	job_start(run, j, r, batch);
	return batch ? batch_names(run, j) : single_names(run, j);
}

/* Stage 4 (main thread, in order): the rows, refusals and audit entries
 * of the chunk, committed in one transaction by chunk_end. */
static int record_job(struct run *run, struct job *j, int batch)
{
	ca_audit *a = ca_audit_new("sign-leaf");
	int rc = CA_OK;

	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	switch (j->state) {
	case JOB_SIGNED:
		rc = record(run, j, a);
		if (rc == CA_OK) {
			add_result(run, result(j, "issued", NULL));
		}
		break;
	case JOB_REFUSED:
		/* An unreadable CSR file refuses that request of a batch; any
		 * other I/O or token error stops the run. */
		if (j->rc == CA_EIO && !(batch && j->csr.req == NULL)) {
			rc = ca_err(CA_EIO, "%s", j->reason);
			break;
		}
		ca_err(j->rc, "%s", j->reason);
		rc = refuse(run, j, j->rc == CA_EIO ? CA_EPOLICY : j->rc, a);
		break;
	default:
		break;
	}
	ca_audit_free(a);
	return rc;
}

/* The refusals of a batch chunk: one audit entry naming each (its index,
 * request key and reason), in the chunk's transaction. A batch of any
 * size adds at most one refusal entry per chunk. */
static int audit_chunk_refusals(struct run *run)
{
	ca_audit *a;
	char detail[160];
	size_t n = json_array_size(run->chunk_refused);
	int rc;

	if (n == 0)
		return CA_OK;
	a = ca_audit_new("sign-leaf");
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	ca_audit_set_action(a, "sign-leaf");
	ca_audit_set(a, "requests", run->p->requests);
	/* The entry takes the list; the next chunk starts a new one. */
	ca_audit_set_json(a, "refused", run->chunk_refused);
	run->chunk_refused = json_array();
	snprintf(detail, sizeof(detail), "%zu request%s of the batch refused",
		 n, n == 1 ? "" : "s");
	rc = ca_audit_append(run->d->store, a, "refused", detail);
	ca_audit_free(a);
	if (rc == CA_OK && run->chunk_refused == NULL)
		rc = ca_err(CA_EIO, "out of memory");
	return rc;
}

/* SIGINT or SIGTERM (the tool sets p->stop to the signal's number). */
static int check_stop(struct run *run)
{
	int sig = run->p->stop != NULL ? (int)*run->p->stop : 0;

	if (sig == 0)
		return CA_OK;
	return ca_err(CA_EIO, "stopped by %s",
		      sig == SIGINT    ? "SIGINT (Ctrl-C)"
		      : sig == SIGTERM ? "SIGTERM"
				       : "a signal");
}

/* A chunk of requests on its way through the stages. */
struct chunk {
	struct job *jobs;
	size_t n;
	struct ca_leaf_request *reqs; /* a batch's, freed with the chunk */
	int batch;
};

static void chunk_free(struct chunk *c)
{
	size_t i;

	for (i = 0; c->jobs != NULL && i < c->n; i++)
		job_free(&c->jobs[i]);
	free(c->jobs);
	if (c->reqs != NULL)
		ca_requests_free(c->reqs, c->n);
	memset(c, 0, sizeof(*c));
}

/* Stage 1 for a chunk: its jobs and their CSR checks. No store. */
static int chunk_prepare(struct run *run, struct chunk *c,
			 const struct ca_leaf_request *reqs, size_t n,
			 int batch)
{
	size_t i;

	c->jobs = calloc(n, sizeof(*c->jobs));
	if (c->jobs == NULL)
		return ca_err(CA_EIO, "out of memory");
	c->n = n;
	c->batch = batch;
	for (i = 0; i < n; i++)
		if (job_init(run, &c->jobs[i], &reqs[i], batch) < 0)
			job_fail(&c->jobs[i], CA_EIO);
	parallel(run, c->jobs, n, check_csr);
	return CA_OK;
}

/* While the chunk signs: the serial index pages its rows will go into,
 * read ahead on the reader (the commit's inserts find them cached). The
 * thread reads its own copy of the serials (the workers change the jobs
 * meanwhile) and stops when the chunk is signed. */
struct serials_ahead {
	ca_store *reader;
	char (*serials)[sizeof(((struct job *)0)->serial)];
	size_t n;
	atomic_int stop;
};

static void *serials_ahead_main(void *arg)
{
	struct serials_ahead *a = arg;
	long long n;

	for (size_t i = 0; i < a->n && !atomic_load(&a->stop); i++)
		if (ca_store_count(
			a->reader,
			"SELECT count(*) FROM certs WHERE serial = ?",
			a->serials[i], NULL, &n) < 0)
			break;
	return NULL;
}

/* Start reading ahead the serials of the chunk's open jobs (0: not
 * started, nothing to stop). */
static int serials_ahead_start(struct run *run, const struct chunk *c,
			       struct serials_ahead *a, pthread_t *t)
{
	memset(a, 0, sizeof(*a));
	if (run->reader == NULL ||
	    (a->serials = calloc(c->n, sizeof(*a->serials))) == NULL)
		return 0;
	a->reader = run->reader;
	atomic_init(&a->stop, 0);
	for (size_t i = 0; i < c->n; i++)
		if (c->jobs[i].state == JOB_OPEN)
			memcpy(a->serials[a->n++], c->jobs[i].serial,
			       sizeof(a->serials[0]));
	if (a->n > 0 && pthread_create(t, NULL, serials_ahead_main, a) == 0)
		return 1;
	free(a->serials);
	return 0;
}

static void serials_ahead_stop(struct serials_ahead *a, pthread_t t)
{
	atomic_store(&a->stop, 1);
	pthread_join(t, NULL);
	free(a->serials);
}

/* Stages 2 and 3: serials in order (the store, in the chunk's
 * transaction), then built and signed in parallel. */
static int chunk_sign(struct run *run, struct chunk *c)
{
	struct serials_ahead ahead;
	pthread_t t;
	int reading;
	json_t *chunk_keys = json_object();
	size_t i;
	int rc;

	if (chunk_keys == NULL)
		return ca_err(CA_EIO, "out of memory");
	/* A stop asked for now loses nothing: the chunk has not begun. Once
	 * serials are drawn, the chunk is finished and committed. */
	GUARD(check_stop(run));
	GUARD(chunk_begin(run));
	/* Partitions fill from the store as it stands at the chunk's start,
	 * plus what this chunk places. */
	memset(&run->fill, 0, sizeof(run->fill));
	for (i = 0; i < c->n; i++)
		GUARD(assign_serial(run, &c->jobs[i], chunk_keys));
	reading = serials_ahead_start(run, c, &ahead, &t);
	ca_pool_run(c->n, run->in_flight, stage_one,
		    &(struct stage){run, c->jobs, build_and_sign});
	if (reading)
		serials_ahead_stop(&ahead, t);
out:
	json_decref(chunk_keys);
	return rc;
}

/* Stage 4: the rows and audit entries, the commit, then the files. */
static int chunk_record(struct run *run, struct chunk *c)
{
	size_t i;
	int rc = CA_OK;

	for (i = 0; i < c->n; i++)
		GUARD(record_job(run, &c->jobs[i], c->batch));
	GUARD(audit_chunk_refusals(run));
	GUARD(chunk_end(run, c->n));
out:
	return rc;
}

static int run_chunk(struct run *run, const struct ca_leaf_request *reqs,
		     size_t n, int batch)
{
	struct chunk c;
	int rc;

	memset(&c, 0, sizeof(c));
	GUARD(chunk_prepare(run, &c, reqs, n, batch));
	GUARD(chunk_sign(run, &c));
	GUARD(chunk_record(run, &c));
out:
	chunk_free(&c);
	return rc;
}

/* A batch's chunks overlap: while one thread records and commits a
 * chunk (and the writer writes the one before), the next chunk's
 * requests are read and its CSRs checked on every CPU. The next chunk's
 * serials wait for the commit (they see its rows), so the order, the
 * one transaction per chunk and "files only after the commit" stay. */
struct recorder {
	struct run *run;
	struct chunk *c;
	int rc;
	char msg[1024]; /* the recorder thread's message */
};

static void *recorder_main(void *arg)
{
	struct recorder *r = arg;

	r->rc = chunk_record(r->run, r->c);
	if (r->rc < 0)
		snprintf(r->msg, sizeof(r->msg), "%s", ca_errmsg());
	return NULL;
}

/* The index pages the chunk's key lookups (prior_issue) will need, read
 * ahead on the reader while the chunk before commits: what is found is
 * not kept (that chunk's rows are not committed yet). */
static void read_ahead(struct run *run, const struct chunk *c)
{
	int count;

	for (size_t i = 0; run->reader != NULL && i < c->n; i++)
		if (c->jobs[i].state == JOB_OPEN &&
		    !c->jobs[i].r->force_issue &&
		    ca_store_spki_count(run->reader, c->jobs[i].spki, &count) <
			0) {
			ca_err_clear(); /* its message is no one's */
			break;
		}
}

/* The next chunk of the batch, read and checked (n 0 at the end). */
static int chunk_next(struct run *run, ca_requests_iter *it, struct chunk *c)
{
	struct ca_leaf_request *reqs = NULL;
	size_t n = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	GUARD(ca_requests_next(it, CHUNK, &reqs, &n));
	/* The chunk owns the requests from here, whatever follows. */
	c->reqs = reqs;
	c->n = n;
	if (n > 0)
		rc = chunk_prepare(run, c, reqs, n, 1);
	if (rc == CA_OK)
		read_ahead(run, c);
out:
	return rc;
}

static int write_entry(void *ctx, json_t *o)
{
	struct run *run = ctx;
	json_t *pem = json_object_get(o, "pem");

	return write_outputs(run, json_string_value(json_object_get(o, "cert")),
			     json_string_value(json_object_get(o, "chain")),
			     json_string_value(json_object_get(o, "bundle")),
			     json_is_true(json_object_get(o, "chain_only")),
			     json_is_true(json_object_get(o, "bundle_on")),
			     run->p->force ||
				 json_is_true(json_object_get(o, "repair")),
			     json_string_value(pem), json_string_length(pem));
}

/* A write failure: the certificates are committed; a re-run writes their
 * files. */
static int writer_failed(int rc, const char *reason)
{
	return ca_err(rc,
		      "%s: the certificate is committed in the CA store; "
		      "re-run to write its files",
		      reason);
}

/* Hand the committed chunk's files to the writer (or write them here). */
static int write_pending(struct run *run)
{
	char reason[1024];
	size_t i;
	json_t *o;
	int rc = CA_OK;

	if (run->writer == NULL) {
		json_array_foreach(run->pending, i, o)
		{
			rc = write_entry(run, o);
			if (rc < 0)
				break;
		}
		json_array_clear(run->pending);
		return rc < 0
			   ? ca_err_ctx(rc,
					"the certificate is committed in the "
					"CA store; re-run to write its files")
			   : CA_OK;
	}
	rc = ca_writer_add(run->writer, run->pending);
	json_array_clear(run->pending);
	if (rc < 0)
		return rc;
	rc = ca_writer_failure(run->writer, reason, sizeof(reason));
	return rc < 0 ? writer_failed(rc, reason) : CA_OK;
}

/* Wait until every committed file is written; report a failure. */
static int writer_stop(struct run *run)
{
	char reason[1024];
	int rc;

	if (run->writer == NULL)
		return CA_OK;
	rc = ca_writer_stop(run->writer, reason, sizeof(reason));
	run->writer = NULL;
	return rc < 0 ? writer_failed(rc, reason) : CA_OK;
}

static int chunk_begin(struct run *run)
{
	int rc;

	if (run->in_chunk)
		return CA_OK;
	rc = ca_store_begin(run->d->store);
	if (rc == CA_OK)
		run->in_chunk = 1;
	return rc;
}

/* Commit what the chunk issued, then (and only then) write its files. */
/* Commit what the chunk of n requests did, then (and only then) count
 * and keep its results and write its files. */
static int chunk_end(struct run *run, size_t n)
{
	int rc;

	if (!run->in_chunk)
		return CA_OK;
	rc = ca_store_commit(run->d->store);
	if (rc < 0) {
		chunk_abort(run);
		return rc;
	}
	run->in_chunk = 0;
	run->committed += n;
	keep_results(run);
	return write_pending(run);
}

/* The chunk is not kept: nothing of it is stored, counted or written. */
static void chunk_abort(struct run *run)
{
	if (run->in_chunk)
		ca_store_rollback(run->d->store);
	run->in_chunk = 0;
	json_array_clear(run->pending);
	json_array_clear(run->chunk_results);
	json_array_clear(run->chunk_refused);
}

/* The request the command line makes (--csr and its options). */
static void command_line_request(const struct ca_leaf_params *p,
				 struct ca_leaf_request *r)
{
	memset(r, 0, sizeof(*r));
	r->common_name = (char *)p->cn;
	r->sans = p->sans;
	r->n_sans = p->n_sans;
	r->sans_given = p->n_sans > 0;
	r->ekus = (char **)p->ekus;
	r->n_ekus = p->n_ekus;
	r->lifetime = p->days;
	r->force_issue = p->force_issue;
	r->renew = (char *)p->renew;
	r->csr_file = (char *)p->csr;
}

static int single(struct run *run)
{
	const struct ca_leaf_params *p = run->p;
	struct ca_leaf_request r;
	size_t i;
	int rc;

	command_line_request(p, &r);
	for (i = 0; i < p->n_ekus; i++)
		if (ca_eku_parse(p->ekus[i]) == NULL)
			return ca_err(CA_EUSAGE,
				      "unknown extended key usage '%s'",
				      p->ekus[i]);
	GUARD(run_chunk(run, &r, 1, 0));
	if (run->refused > 0)
		rc = run->last_refusal;
out:
	return rc;
}

/* summary.json: the counts and every result, streamed from the results
 * file; replaced on every run (it describes the last run). */
static int write_summary(struct run *run, const char *stopped)
{
	char *path = NULL, line[8192], *extra = NULL;
	ca_outfile *f = NULL;
	json_t *o = NULL;
	int rc, first = 1;

	if (run->lost_result || fflush(run->results_fp) != 0 ||
	    ferror(run->results_fp) || fseek(run->results_fp, 0, SEEK_SET) != 0)
		return ca_err(CA_EIO, "cannot read back the batch results");
	if (asprintf(&path, "%s/summary.json", run->p->out_dir) < 0)
		return ca_err(CA_EIO, "out of memory");
	/* What the run did, from committed state; an incomplete run says
	 * where it stopped and how to go on. */
	o = json_pack("{s:b, s:I, s:I}", "complete", stopped == NULL,
		      "requests", (json_int_t)run->total, "processed",
		      (json_int_t)run->committed);
	if (o != NULL && stopped != NULL &&
	    (json_object_set_new(o, "stopped", json_string(stopped)) != 0 ||
	     json_object_set_new(
		 o, "resume",
		 json_string("re-run the same command: committed "
			     "requests are reported as already issued "
			     "(or refused again) and the others are "
			     "processed")) != 0)) {
		json_decref(o);
		o = NULL;
	}
	extra = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (extra == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_out_open(path, 1, 0644, &f));
	/* The keys of extra, one per line, inside the summary's object. */
	extra[strlen(extra) - 1] = '\0';
	snprintf(line, sizeof(line),
		 "{\n  \"already_issued\": %ld,\n  \"issued\": %ld,\n  "
		 "\"refused\": %ld,\n  %s,\n"
		 "  \"results\": [",
		 run->already, run->issued, run->refused, extra + 1);
	GUARD(ca_out_put(f, line, strlen(line)));
	while (fgets(line, sizeof(line), run->results_fp) != NULL) {
		GUARD(
		    ca_out_put(f, first ? "\n    " : ",\n    ", first ? 5 : 6));
		GUARD(ca_out_put(f, line, strcspn(line, "\n")));
		first = 0;
	}
	GUARD(ca_out_put(f, "\n  ]\n}\n", 7));
	rc = ca_out_commit(f);
	f = NULL;
	if (rc == CA_OK)
		run->summary_path = path;
	path = NULL;
out:
	ca_out_abort(f);
	json_decref(o);
	free(extra);
	free(path);
	return rc;
}

/* A batch that stops early (an error, a signal): summary.json (when it
 * can be written) and the message say what is committed and what is
 * not. rc and its message are kept. */
static int batch_stopped(struct run *run, int rc)
{
	char why[1024];

	snprintf(why, sizeof(why), "%s", ca_errmsg());
	if (run->results_fp != NULL && write_summary(run, why) < 0)
		run->summary_path = NULL;
	if (run->committed == 0)
		return ca_err(rc,
			      "%s; nothing was committed: re-run the same "
			      "command once the cause is fixed",
			      why);
	if (run->committed == run->total)
		return ca_err(rc,
			      "%s; every request is committed (issued %ld, "
			      "already issued %ld, refused %ld): re-run the "
			      "same command to write any missing file",
			      why, run->issued, run->already, run->refused);
	return ca_err(rc,
		      "%s; committed: requests 1 to %zu (issued %ld, already "
		      "issued %ld, refused %ld); requests %zu to %zu were not "
		      "processed: re-run the same command to continue",
		      why, run->committed, run->issued, run->already,
		      run->refused, run->committed + 1, run->total);
}

static int results_open(struct run *run)
{
	int fd;

	if (asprintf(&run->results_tmp, "%s/.results-XXXXXX", run->p->out_dir) <
	    0) {
		run->results_tmp = NULL;
		return ca_err(CA_EIO, "out of memory");
	}
	fd = mkstemp(run->results_tmp);
	if (fd < 0 || (run->results_fp = fdopen(fd, "w+")) == NULL) {
		if (fd >= 0)
			close(fd);
		return ca_err(CA_EIO, "cannot create %s: %s", run->results_tmp,
			      strerror(errno));
	}
	return CA_OK;
}

static int batch(struct run *run)
{
	const struct ca_leaf_params *p = run->p;
	struct chunk cur, next;
	char next_msg[1024];
	ca_requests_iter *it = NULL;
	size_t total = 0, done = 0;
	struct stat st;
	int rc;

	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));

	rc = ca_requests_open(p->requests, &it, &total, &run->invalid);
	if (rc == CA_EUSAGE)
		rc = ca_err(CA_EPOLICY, "%s: nothing issued", ca_errmsg());
	if (rc < 0)
		goto out;
	run->total = total;
	if (stat(p->out_dir, &st) != 0 && mkdir(p->out_dir, 0755) != 0) {
		rc = ca_err(CA_EIO, "cannot create %s: %s", p->out_dir,
			    strerror(errno));
		goto out;
	}
	if (asprintf(&run->chain_master, "%s/.chain.pem", p->out_dir) < 0) {
		run->chain_master = NULL;
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_out_write(run->chain_master, run->chain_pem, run->chain_len, 1,
			   0644));
	GUARD(results_open(run));
	GUARD(ca_writer_start(write_entry, run, &run->writer));
	/* The store has passed its checks (ca_dir_signer). */
	GUARD(ca_store_checkpoint_behind(run->d->store));
	ca_store_reader(run->d->store, &run->reader);
	GUARD(check_stop(run));
	GUARD(chunk_next(run, it, &cur));
	while (cur.n > 0) {
		struct recorder rec = {run, &cur, CA_OK, ""};
		pthread_t t;
		int threaded, next_rc = CA_OK;

		GUARD(chunk_sign(run, &cur));
		threaded = pthread_create(&t, NULL, recorder_main, &rec) == 0;
		if (!threaded)
			recorder_main(&rec);
		if (done + cur.n < total)
			next_rc = chunk_next(run, it, &next);
		if (threaded)
			pthread_join(t, NULL);
		if (next_rc < 0)
			snprintf(next_msg, sizeof(next_msg), "%s", ca_errmsg());
		if (rec.rc < 0) {
			rc = ca_err(rec.rc, "%s", rec.msg);
			goto out;
		}
		done += cur.n;
		chunk_free(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
		if (next_rc < 0) {
			rc = ca_err(next_rc, "%s", next_msg);
			goto out;
		}
		if (p->progress != NULL) {
			struct ca_leaf_progress pr = {done, total, run->issued,
						      run->already,
						      run->refused};

			p->progress(&pr, p->progress_ctx);
		}
	}
	GUARD(writer_stop(run));
	GUARD(write_summary(run, NULL));
	if (run->refused > 0)
		rc = ca_err(CA_EPOLICY,
			    "%ld of %zu requests refused (see the summary)",
			    run->refused, total);
out:
	if (run->writer != NULL && writer_stop(run) < 0 && rc == CA_OK)
		rc = CA_EIO;
	/* An I/O or token error: what this chunk issued is not kept. */
	if (rc < 0)
		chunk_abort(run);
	if (rc < 0 && run->total > 0 && run->summary_path == NULL)
		rc = batch_stopped(run, rc);
	chunk_free(&cur);
	chunk_free(&next);
	ca_requests_close(it);
	return rc;
}

static void run_free(struct run *run)
{
	ca_store_close(run->reader);
	ca_dir_free(run->d);
	OPENSSL_free(run->algid);
	free(run->chain_pem);
	free(run->chain_master);
	free(run->summary_path);
	json_decref(run->invalid);
	json_decref(run->results);
	json_decref(run->refusals);
	if (run->results_fp != NULL)
		fclose(run->results_fp);
	if (run->results_tmp != NULL)
		(void)unlink(run->results_tmp);
	free(run->results_tmp);
	ca_out_names_free(&run->names);
	json_decref(run->pending);
	json_decref(run->chunk_refused);
	json_decref(run->chunk_results);
	OPENSSL_cleanse(run->rng, sizeof(run->rng));
}

/* ---- --check: everything but the serial, the store and the token ------ */

/* Stage 2 of a check (workers): a placeholder serial (not from the
 * token, never stored), then the certificate built and linted. */
static void check_lint(struct run *run, struct job *j)
{
	unsigned char *der = NULL;
	size_t der_len;
	struct ca_tbs tbs;
	BIGNUM *bn = NULL;
	int rc;

	if (j->state != JOB_OPEN)
		return;
	j->serial_raw[0] = 0x01;
	if (RAND_bytes(j->serial_raw + 1, CA_SERIAL_LEN - 1) != 1 ||
	    (bn = BN_bin2bn(j->serial_raw, CA_SERIAL_LEN, NULL)) == NULL ||
	    (j->serial_int = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		rc = ca_err(CA_EIO, "cannot make a serial number");
		goto out;
	}
	/* A placeholder partition too: the CDP is built as at issuance. */
	j->partition = ca_partitions_enabled(&run->parts) ? 0 : -1;
	GUARD(build_and_lint(run, j, &der, &der_len, &tbs));
	j->state = JOB_DONE;
out:
	BN_free(bn);
	free(der);
	if (rc < 0)
		job_fail(j, rc);
}

/* Check a chunk: the request, its CSR (signature, key, subject), and the
 * lint of the certificate it would get. */
static int check_chunk(struct run *run, const struct ca_leaf_request *reqs,
		       size_t n, int batch)
{
	struct job *jobs = calloc(n, sizeof(*jobs));
	size_t i;

	if (jobs == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < n; i++)
		job_start(run, &jobs[i], &reqs[i], batch);
	parallel(run, jobs, n, check_csr);
	parallel(run, jobs, n, check_lint);
	for (i = 0; i < n; i++) {
		if (jobs[i].state == JOB_REFUSED) {
			jobs[i].serial[0] = '\0';
			add_result(run,
				   result(&jobs[i], "refused", jobs[i].reason));
		} else {
			run->valid++;
		}
		job_free(&jobs[i]);
	}
	free(jobs);
	run->committed += n;
	keep_results(run);
	return CA_OK;
}

static int check(struct run *run)
{
	const struct ca_leaf_params *p = run->p;
	struct ca_leaf_request *reqs = NULL, one;
	ca_requests_iter *it = NULL;
	size_t n = 0;
	int rc = CA_OK;

	if (p->requests == NULL) {
		command_line_request(p, &one);
		GUARD(check_chunk(run, &one, 1, 0));
		goto done;
	}
	rc = ca_requests_open(p->requests, &it, &run->total, &run->invalid);
	if (rc < 0)
		goto out;
	for (;;) {
		GUARD(ca_requests_next(it, CHUNK, &reqs, &n));
		if (n == 0)
			break;
		GUARD(check_chunk(run, reqs, n, 1));
		ca_requests_free(reqs, n);
		reqs = NULL;
	}
done:
	if (run->refused > 0)
		rc = ca_err(CA_EPOLICY,
			    "%ld of %zu requests would be refused (nothing "
			    "signed)",
			    run->refused, p->requests ? run->total : 1);
out:
	ca_requests_free(reqs, n);
	ca_requests_close(it);
	return rc;
}

/* What a batch adds to the summary: how far it got, where summary.json
 * is (only when it was written), an invalid file's errors. */
static int batch_summary(struct run *run, json_t *summary)
{
	int failed = 0;

	failed |= json_object_set_new(summary, "requests",
				      json_integer((json_int_t)run->total));
	failed |= json_object_set_new(summary, "processed",
				      json_integer((json_int_t)run->committed));
	failed |= json_object_set_new(
	    summary, "complete",
	    json_boolean(run->invalid == NULL && run->committed == run->total));
	if (run->summary_path != NULL)
		failed |= json_object_set_new(summary, "summary_file",
					      json_string(run->summary_path));
	if (run->invalid != NULL)
		failed |= json_object_update(summary, run->invalid);
	return failed ? ca_err(CA_EIO, "out of memory") : CA_OK;
}

int ca_leaf_issue(const struct ca_leaf_params *p, json_t **summary)
{
	struct run run;
	int rc;

	memset(&run, 0, sizeof(run));
	run.p = p;
	*summary = NULL;
	GUARD(run_setup(&run));
	rc = p->check ? check(&run) : p->requests ? batch(&run) : single(&run);
	/* Counts and results of committed state only. */
	if (rc == CA_OK && run.lost_result)
		rc = ca_err(CA_EIO, "out of memory: a result was not recorded");
	*summary = json_pack("{s:I, s:I, s:I, s:O, s:O}", "issued",
			     (json_int_t)run.issued, "already_issued",
			     (json_int_t)run.already, "refused",
			     (json_int_t)run.refused, "results", run.results,
			     "refusals", run.refusals);
	if (*summary == NULL ||
	    (p->requests != NULL && batch_summary(&run, *summary) < 0) ||
	    (p->check &&
	     (json_object_set_new(*summary, "check", json_true()) != 0 ||
	      json_object_set_new(*summary, "valid",
				  json_integer((json_int_t)run.valid)) != 0))) {
		json_decref(*summary);
		*summary = NULL;
		if (rc == CA_OK)
			rc = ca_err(CA_EIO, "out of memory");
	}
out:
	run_free(&run);
	return rc;
}
