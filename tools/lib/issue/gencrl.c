#include "issue/gencrl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/hex.h"
#include "base/time.h"
#include "input/name.h"
#include "issue/ca.h"
#include "issue/partition.h"
#include "issue/record.h"
#include "lint/copy.h"
#include "lint/crl.h"
#include "out/cadir.h"
#include "out/file.h"
#include "sign/signer.h"
#include "sign/tbs.h"
#include "store/audit.h"
#include "store/crl.h"
#include "store/partition.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/der.h"

#define FULL_LINT_MAX	((size_t)4 << 20)
#define QUORUM_TBS_MAX	((size_t)512 << 10)
#define ED25519_TBS_MAX ((size_t)64 << 20)
#define LINT_COPY_MAX	((size_t)256 << 20)
#define SPOOL_BUF	((size_t)256 << 10)
#define MAX_IDP_URLS	8
#define SUMMARY_ENTRIES 50
#define B64_CHUNK	12288 /* 256 lines of 48 input bytes */

/* ---- spool: the encoded entries, in an unlinked file ------------------- */

struct spool {
	int fd;
	size_t total; /* bytes appended */
	size_t used;  /* bytes waiting in buf */
	unsigned char buf[SPOOL_BUF];
};

static void spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int spool_open(const char *dir, struct spool **out)
{
	struct spool *s = malloc(sizeof(*s));
	char *tmpl = NULL;

	*out = NULL;
	if (s == NULL)
		return ca_err(CA_EIO, "out of memory");
	s->total = s->used = 0;
	/* Anonymous and on the output's file system: nothing to clean up,
	 * whatever happens. */
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		tmpl = ca_dir_file(dir, ".hsmca-crl-XXXXXX");
		if (tmpl != NULL && (s->fd = mkostemp(tmpl, O_CLOEXEC)) >= 0)
			(void)unlink(tmpl);
		free(tmpl);
	}
	if (s->fd < 0) {
		int e = errno;

		free(s);
		return ca_err(CA_EIO,
			      "cannot create a temporary file in %s: %s", dir,
			      strerror(e));
	}
	*out = s;
	return CA_OK;
}

static int spool_flush(struct spool *s)
{
	size_t off = 0;
	ssize_t n;

	while (off < s->used) {
		n = write(s->fd, s->buf + off, s->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ca_err(CA_EIO,
				      "cannot write the CRL spool file: %s",
				      strerror(errno));
		off += (size_t)n;
	}
	s->used = 0;
	return CA_OK;
}

static int spool_put(struct spool *s, const unsigned char *d, size_t n)
{
	int rc;

	if (s->used + n > sizeof(s->buf)) {
		rc = spool_flush(s);
		if (rc < 0)
			return rc;
	}
	memcpy(s->buf + s->used, d, n);
	s->used += n;
	s->total += n;
	return CA_OK;
}

/* Next chunk of the flushed spool from *off; *n = 0 at the end. */
static int spool_chunk(struct spool *s, size_t *off, const unsigned char **p,
		       size_t *n)
{
	size_t want = s->total - *off;
	ssize_t got;

	if (want > sizeof(s->buf))
		want = sizeof(s->buf);
	*p = s->buf;
	*n = 0;
	if (want == 0)
		return CA_OK;
	do
		got = pread(s->fd, s->buf, want, (off_t)*off);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return ca_err(CA_EIO, "cannot read the CRL spool file back: %s",
			      got < 0 ? strerror(errno) : "short file");
	*n = (size_t)got;
	*off += (size_t)got;
	return CA_OK;
}

/* ---- one run ----------------------------------------------------------- */

enum scope_kind { SCOPE_ALL, SCOPE_PARTITION, SCOPE_BASE };

struct scope {
	enum scope_kind kind;
	int partition;
	int full;		       /* every entry of the CA */
	char *url;		       /* a partition's URL */
	const char *idp[MAX_IDP_URLS]; /* IDP fullName; none for SCOPE_ALL */
	size_t n_idp;
	char *path; /* output file */
};

struct gen {
	const struct ca_gencrl_params *p;
	struct ca_dir *d;
	struct ca_tp tp;
	char *pinned;
	struct ca_partitions pc;
	EVP_PKEY *pub; /* the CA certificate's key (borrowed) */
	unsigned char *algid;
	size_t algid_len;
	unsigned char *issuer;
	size_t issuer_len;
	unsigned char keyid[64];
	size_t keyid_len;
	time_t this_update, next_update;
	uint64_t run_first; /* first CRL number of this run */
	char *spool_dir;
	struct scope *scopes;
	size_t n_scopes;
	struct ca_gencrl_result *res;
	json_t *old_config;   /* ca.json before a staged "crl" change */
	int config_written;   /* the staged ca.json is on disk */
	int config_committed; /* ... and a CRL committed with it */
};

/* One CRL being made. */
struct crl_job {
	struct scope *sc;
	struct ca_crl_spec spec;
	struct ca_crl_frame frame;
	struct ca_crl_lint lint; /* the entries, linted as they are encoded */
	struct ca_tbs t;	 /* frame.prefix || entries || frame.suffix */
	struct spool *spool;
	size_t n, n_expired;
	json_t *listed;	    /* first entries (approval summary) */
	unsigned char *tbs; /* whole TBS in memory, when needed */
	unsigned char *sig;
	size_t sig_len;
	ca_outfile *out;
	char sha256[65];
	size_t bytes;
};

static void crl_job_free(struct crl_job *cj)
{
	ca_crl_frame_free(&cj->frame);
	ca_crl_lint_clear(&cj->lint);
	spool_free(cj->spool);
	json_decref(cj->listed);
	free(cj->tbs);
	free(cj->sig);
	ca_out_abort(cj->out);
	memset(cj, 0, sizeof(*cj));
}

static const char *scope_name(const struct scope *sc)
{
	return sc->kind == SCOPE_ALL	? "all"
	       : sc->kind == SCOPE_BASE ? "base"
					: "partition";
}

static void scopes_free(struct gen *g)
{
	size_t i;

	for (i = 0; i < g->n_scopes; i++) {
		free(g->scopes[i].url);
		free(g->scopes[i].path);
	}
	free(g->scopes);
	g->scopes = NULL;
	g->n_scopes = 0;
}

/* ---- the entries ------------------------------------------------------- */

/* The revocations a scope's CRL covers. */
static enum ca_crl_rows scope_rows(const struct scope *sc)
{
	if (sc->kind == SCOPE_PARTITION)
		return CA_CRL_ROWS_PARTITION;
	if (sc->kind == SCOPE_BASE && !sc->full)
		return CA_CRL_ROWS_UNPARTITIONED;
	return CA_CRL_ROWS_ALL;
}

static int list_entry(struct crl_job *cj, const struct ca_crl_entry *e,
		      const char *serial)
{
	char when[32];

	if (cj->listed == NULL ||
	    json_array_size(cj->listed) >= SUMMARY_ENTRIES)
		return CA_OK;
	ca_time_rfc3339(e->revoked_at, when, sizeof(when));
	if (json_array_append_new(
		cj->listed,
		json_pack("{s:s, s:s, s:s}", "serial", serial, "reason",
			  ca_crl_reason_name(e->reason), "date", when)) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* What one_row needs while the store walks the revocations. */
struct row_walk {
	struct gen *g;
	struct crl_job *cj;
};

static int one_row(void *ctx, const struct ca_crl_row *row)
{
	struct row_walk *w = ctx;
	struct gen *g = w->g;
	struct crl_job *cj = w->cj;
	const char *serial = row->serial;
	unsigned char der[CA_CRL_ENTRY_MAX];
	struct ca_crl_entry e;
	size_t len;
	int rc;

	GUARD(ca_crl_serial_from_hex(serial, &e));
	e.reason = row->reason;
	e.revoked_at = row->revoked_at;
	if (!ca_crl_reason_listable(e.reason)) {
		rc = ca_err(CA_EPOLICY,
			    "lint: revocation of %s has reason code %d, "
			    "which cannot be listed",
			    serial, e.reason);
		goto out;
	}
	if (g->tp.executing && e.revoked_at > g->this_update) {
		rc = ca_err(CA_EPOLICY,
			    "serial %s was revoked after the approved CRL "
			    "was prepared: the CRL on this command line is "
			    "not the one approved; prepare a new request",
			    serial);
		goto out;
	}
	GUARD(ca_crl_entry_der(&e, der, &len));
	GUARD(ca_crl_lint_entry(&cj->lint, der, len));
	GUARD(spool_put(cj->spool, der, len));
	cj->n++;
	if (row->expired_listed == 0 && row->not_after < g->this_update)
		cj->n_expired++;
	GUARD(list_entry(cj, &e, serial));
out:
	return rc;
}

static int stream_entries(struct gen *g, struct crl_job *cj)
{
	struct row_walk w = {g, cj};
	int rc;

	GUARD(ca_crl_lint_open(&cj->lint, g->d->cert, &cj->spec));
	GUARD(spool_open(g->spool_dir, &cj->spool));
	GUARD(ca_store_crl_rows(g->d->store, scope_rows(cj->sc),
				cj->sc->partition, g->run_first, one_row, &w));
	GUARD(spool_flush(cj->spool));
out:
	return rc;
}

/* The whole TBS in memory (small CRLs, Ed25519, approvals, lint copy). */
static int slurp(struct crl_job *cj, size_t max, const char *why)
{
	const unsigned char *c;
	size_t off = 0, at, n;
	int rc;

	if (cj->tbs != NULL)
		return CA_OK;
	if (cj->frame.tbs_len > max)
		return ca_err(CA_EPOLICY,
			      "the CRL to be signed is %zu bytes: %s "
			      "takes at most %zu",
			      cj->frame.tbs_len, why, max);
	cj->tbs = malloc(cj->frame.tbs_len);
	if (cj->tbs == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(cj->tbs, cj->frame.prefix, cj->frame.prefix_len);
	at = cj->frame.prefix_len;
	for (;;) {
		GUARD(spool_chunk(cj->spool, &off, &c, &n));
		if (n == 0)
			break;
		memcpy(cj->tbs + at, c, n);
		at += n;
	}
	memcpy(cj->tbs + at, cj->frame.suffix, cj->frame.suffix_len);
	cj->t.der = cj->tbs;
out:
	return rc;
}

/* ---- lint, approval, signature ----------------------------------------- */

/* The lint step: the whole TBS when it is small enough to parse, else the
 * frame on its own (the entries passed lint as they were encoded). */
static int lint(struct crl_job *cj)
{
	int rc;

	ca_tbs_init_framed(&cj->t, CA_TBS_CRL, NULL, cj->frame.tbs_len,
			   cj->frame.prefix, cj->frame.prefix_len,
			   cj->frame.suffix, cj->frame.suffix_len);
	if (cj->frame.tbs_len <= FULL_LINT_MAX)
		GUARD(slurp(cj, FULL_LINT_MAX, "lint"));
	GUARD(ca_crl_lint_finish(&cj->lint, &cj->t, cj->n));
out:
	return rc;
}

/* DER size of SEQUENCE { tbs, algid, BIT STRING sig }. */
static size_t signed_size(size_t tbs_len, size_t algid_len, size_t sig_len)
{
	unsigned char h[6];
	size_t body = tbs_len + algid_len +
		      ca_der_header(0x03, sig_len + 1, h) + sig_len + 1;

	return ca_der_header(0x30, body, h) + body;
}

static int size_check(struct gen *g, struct crl_job *cj)
{
	size_t max_sig = (size_t)EVP_PKEY_get_size(g->pub);
	size_t worst = signed_size(cj->frame.tbs_len, g->algid_len, max_sig);

	if (cj->sc->kind != SCOPE_PARTITION || g->pc.size <= 0 ||
	    worst <= (size_t)g->pc.size)
		return CA_OK;
	return ca_err(CA_EPOLICY,
		      "the CRL of partition %d would be up to %zu "
		      "bytes, over partition_size %ld",
		      cj->sc->partition, worst, g->pc.size);
}

static int sign_stream(struct gen *g, struct crl_job *cj)
{
	ca_tbs_stream *st = NULL;
	const unsigned char *c;
	size_t off = 0, n;
	int rc;

	GUARD(ca_tbs_stream_new(g->d->signer, &cj->t, &st));
	if (cj->tbs != NULL) {
		GUARD(ca_tbs_stream_update(st, cj->tbs + cj->frame.prefix_len,
					   cj->spool->total));
	} else {
		for (;;) {
			GUARD(spool_chunk(cj->spool, &off, &c, &n));
			if (n == 0)
				break;
			GUARD(ca_tbs_stream_update(st, c, n));
		}
	}
	rc = ca_tbs_stream_final(st, &cj->sig, &cj->sig_len);
	st = NULL;
out:
	ca_tbs_stream_free(st);
	return rc;
}

static int sign(struct gen *g, struct crl_job *cj)
{
	struct ca_signer *s;
	unsigned char *algid = NULL;
	size_t algid_len = 0;
	int rc;

	GUARD(ca_dir_signer(g->d, g->p->pin_source));
	s = g->d->signer;
	GUARD(ca_signer_algid(s, &algid, &algid_len));
	if (algid_len != g->algid_len ||
	    CRYPTO_memcmp(algid, g->algid, algid_len)) {
		rc = ca_err(CA_EPOLICY,
			    "the CRL's signature algorithm is not the "
			    "one the key %s signs with",
			    s->uri);
		goto out;
	}
	if (s->type == EVP_PKEY_ED25519) {
		/* Ed25519 (RFC 8032) hashes the message twice: no streaming. */
		GUARD(slurp(cj, ED25519_TBS_MAX, "an Ed25519 signature"));
		GUARD(ca_tbs_sign(s, &cj->t, &cj->sig, &cj->sig_len));
	} else {
		rc = sign_stream(g, cj);
		/* The token lost the session mid-stream and was logged in
		 * again: nothing was signed and the TBS is all still here
		 * (spool), so the whole signature is made once more. */
		if (rc == CA_ERETRY)
			rc = sign_stream(g, cj);
	}
out:
	free(algid);
	return rc;
}

/* ---- output: DER or PEM, verified and hashed on the way ---------------- */

struct emit {
	ca_outfile *f;
	EVP_MD_CTX *sha;
	EVP_MD_CTX *verify;  /* streaming verification; NULL for Ed25519 */
	EVP_ENCODE_CTX *b64; /* PEM; NULL for DER */
	size_t bytes;	     /* DER bytes */
	unsigned char enc[B64_CHUNK / 48 * 65 + 130];
};

static int emit(struct emit *e, const unsigned char *d, size_t n, int in_tbs)
{
	size_t take;
	int outl, rc = CA_OK;

	if (EVP_DigestUpdate(e->sha, d, n) != 1 ||
	    (in_tbs && e->verify != NULL &&
	     EVP_DigestVerifyUpdate(e->verify, d, n) != 1))
		return ca_err(CA_EIO, "hashing the CRL failed");
	e->bytes += n;
	if (e->b64 == NULL)
		return ca_out_put(e->f, d, n);
	while (n > 0 && rc == CA_OK) {
		take = n > B64_CHUNK ? B64_CHUNK : n;
		outl = 0;
		if (EVP_EncodeUpdate(e->b64, e->enc, &outl, d, (int)take) != 1)
			return ca_err(CA_EIO, "base64 encoding failed");
		rc = ca_out_put(e->f, e->enc, (size_t)outl);
		d += take;
		n -= take;
	}
	return rc;
}

static int emit_begin(struct gen *g, struct crl_job *cj, struct emit *e)
{
	static const char pem_head[] = "-----BEGIN X509 CRL-----\n";
	int rc;

	e->sha = EVP_MD_CTX_new();
	if (e->sha == NULL ||
	    EVP_DigestInit_ex(e->sha, EVP_sha256(), NULL) != 1)
		return ca_err(CA_EIO, "cannot start SHA-256");
	if (g->d->signer->type != EVP_PKEY_ED25519) {
		e->verify = EVP_MD_CTX_new();
		if (e->verify == NULL ||
		    EVP_DigestVerifyInit_ex(e->verify, NULL,
					    ca_digest_for_key(g->pub), NULL,
					    NULL, g->pub, NULL) != 1 ||
		    ca_sigalg_apply(e->verify, ca_dir_sigalg(g->d),
				    ca_digest_for_key(g->pub)) < 0)
			return ca_err(
			    CA_EIO, "cannot start verifying the CRL signature");
	}
	rc = ca_out_open(cj->sc->path, g->p->force, 0644, &cj->out);
	if (rc < 0)
		return rc;
	e->f = cj->out;
	if (g->p->der)
		return CA_OK;
	e->b64 = EVP_ENCODE_CTX_new();
	if (e->b64 == NULL)
		return ca_err(CA_EIO, "out of memory");
	EVP_EncodeInit(e->b64);
	return ca_out_put(e->f, pem_head, sizeof(pem_head) - 1);
}

static int emit_end(struct emit *e, char sha256[65])
{
	static const char pem_tail[] = "-----END X509 CRL-----\n";
	unsigned char md[32];
	unsigned int mdlen = 0;
	int outl = 0, rc;

	if (e->b64 != NULL) {
		EVP_EncodeFinal(e->b64, e->enc, &outl);
		rc = ca_out_put(e->f, e->enc, (size_t)outl);
		if (rc == CA_OK)
			rc = ca_out_put(e->f, pem_tail, sizeof(pem_tail) - 1);
		if (rc < 0)
			return rc;
	}
	if (EVP_DigestFinal_ex(e->sha, md, &mdlen) != 1)
		return ca_err(CA_EIO, "SHA-256 failed");
	ca_hex(md, 32, sha256);
	return CA_OK;
}

static void emit_free(struct emit *e)
{
	EVP_MD_CTX_free(e->sha);
	EVP_MD_CTX_free(e->verify);
	EVP_ENCODE_CTX_free(e->b64);
}

static int emit_tbs(struct emit *e, struct crl_job *cj)
{
	const unsigned char *c;
	size_t off = 0, n;
	int rc;

	if (cj->tbs != NULL)
		return emit(e, cj->tbs, cj->frame.tbs_len, 1);
	GUARD(emit(e, cj->frame.prefix, cj->frame.prefix_len, 1));
	for (;;) {
		GUARD(spool_chunk(cj->spool, &off, &c, &n));
		if (n == 0)
			break;
		GUARD(emit(e, c, n, 1));
	}
	GUARD(emit(e, cj->frame.suffix, cj->frame.suffix_len, 1));
out:
	return rc;
}

/* Write the signed CRL to the output's temporary file; the signature is
 * verified over exactly the bytes written. Nothing is released here. */
static int write_verified(struct gen *g, struct crl_job *cj)
{
	unsigned char h[6], bit[7];
	size_t body, hl;
	struct emit e;
	EVP_MD_CTX *ed = NULL;
	int ok, rc;

	memset(&e, 0, sizeof(e));
	GUARD(emit_begin(g, cj, &e));
	hl = ca_der_header(0x03, cj->sig_len + 1, bit);
	bit[hl++] = 0x00; /* no unused bits */
	body = cj->frame.tbs_len + g->algid_len + hl + cj->sig_len;
	GUARD(emit(&e, h, ca_der_header(0x30, body, h), 0));
	GUARD(emit_tbs(&e, cj));
	GUARD(emit(&e, g->algid, g->algid_len, 0));
	GUARD(emit(&e, bit, hl, 0));
	GUARD(emit(&e, cj->sig, cj->sig_len, 0));
	if (e.verify != NULL) {
		ok = EVP_DigestVerifyFinal(e.verify, cj->sig, cj->sig_len) == 1;
	} else {
		ed = EVP_MD_CTX_new();
		ok = ed != NULL &&
		     EVP_DigestVerifyInit_ex(ed, NULL, NULL, NULL, NULL, g->pub,
					     NULL) == 1 &&
		     EVP_DigestVerify(ed, cj->sig, cj->sig_len, cj->tbs,
				      cj->frame.tbs_len) == 1;
	}
	if (!ok) {
		rc = ca_err(CA_EIO,
			    "the token's signature on CRL number %" PRIu64
			    " does not verify with the CA certificate's "
			    "public key: nothing was written",
			    cj->spec.number);
		goto out;
	}
	GUARD(emit_end(&e, cj->sha256));
	cj->bytes = e.bytes;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ed);
	emit_free(&e);
	return rc;
}

/* ---- the state store ------------------------------------------------- */

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return ca_err(CA_EPOLICY, "%s is not a number", what);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= (1ULL << 62))
		return ca_err(CA_EPOLICY, "%s is not a number", what);
	*out = v;
	return CA_OK;
}

/* The CRL number: the last one + 1, or the approved request's. */
static int crl_number(struct gen *g, uint64_t *number)
{
	const char *want;
	char *last_s = NULL;
	uint64_t last = 0;
	int rc;

	GUARD(ca_store_meta_get(g->d->store, "crl_number", &last_s));
	GUARD(parse_u64(last_s ? last_s : "0", "the state store's CRL number",
			&last));
	*number = last + 1;
	if (g->tp.executing) {
		GUARD(ca_tp_param_str(&g->tp, "crl_number", &want));
		GUARD(parse_u64(want, "the approval request's crl_number",
				number));
		if (*number <= last) {
			rc = ca_err(CA_EPOLICY,
				    "CRL number %" PRIu64 " of the "
				    "approval request is not above "
				    "the last one used (%" PRIu64 "): "
				    "prepare a new request",
				    *number, last);
			goto out;
		}
	}
out:
	free(last_s);
	return rc;
}

static int commit_config(struct gen *g);
static void restore_config(struct gen *g);

static int record(struct gen *g, struct crl_job *cj, ca_audit *a)
{
	ca_store *st = g->d->store;
	char num[32], entries[32];
	int rc;

	rc = ca_store_crl_add(
	    st, cj->spec.number,
	    cj->sc->kind == SCOPE_PARTITION ? cj->sc->partition : -1,
	    g->this_update, g->next_update, cj->n, ca_now(), cj->sha256);
	if (rc < 0)
		return rc;
	snprintf(num, sizeof(num), "%" PRIu64, cj->spec.number);
	GUARD(ca_store_meta_set(st, "crl_number", num));
	/* Listed once after expiry: later CRLs drop them. */
	if (cj->n_expired > 0)
		GUARD(ca_store_crl_mark_expired(
		    st, scope_rows(cj->sc), cj->sc->partition, cj->spec.number,
		    g->this_update));
	GUARD(ca_tp_record(&g->tp, st, a));
	snprintf(entries, sizeof(entries), "%zu", cj->n);
	/* The hash is of the CRL's DER (the file may be PEM). */
	ca_audit_output_der_sha256(a, cj->sc->path, cj->sha256);
	ca_audit_set(a, "crl_number", num);
	ca_audit_set(a, "entries", entries);
	ca_audit_set(a, "scope", scope_name(cj->sc));
	GUARD(ca_audit_append(st, a, "ok", "CRL issued"));
	GUARD(commit_config(g));
	GUARD(ca_store_commit(st));
	if (g->config_written)
		g->config_committed = 1;
out:
	if (rc < 0)
		restore_config(g);
	return rc;
}

/* ---- quorum ------------------------------------------------------------ */

static int prepare(struct gen *g, struct crl_job *cj, ca_audit *a)
{
	const struct ca_gencrl_params *p = g->p;
	char tu[32], nu[32], num[32];
	char *issuer = ca_name_oneline(X509_get_subject_name(g->d->cert));
	json_t *summary = NULL, *params = NULL;
	struct ca_tp_key key = ca_dir_tp_key(g->d);
	int rc;

	GUARD(slurp(cj, QUORUM_TBS_MAX, "an approval request"));
	ca_time_rfc3339(g->this_update, tu, sizeof(tu));
	ca_time_rfc3339(g->next_update, nu, sizeof(nu));
	snprintf(num, sizeof(num), "%" PRIu64, cj->spec.number);
	summary = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:I, s:O}", "operation",
			    "sign a CRL", "issuer", issuer, "crl_number", num,
			    "this_update", tu, "next_update", nu, "entries",
			    (json_int_t)cj->n, "revoked", cj->listed);
	params = json_pack("{s:s, s:s, s:s}", "crl_number", num, "this_update",
			   tu, "next_update", nu);
	if (summary == NULL || params == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	ca_audit_set(a, "crl_number", num);
	GUARD(ca_tp_prepare(&p->tp, &g->tp, "gen-crl", &key, &cj->t, summary,
			    params, p->force, g->d->store, a));
	GUARD(ca_store_commit(g->d->store));
out:
	free(issuer);
	json_decref(summary);
	json_decref(params);
	return rc;
}

static int check_approved(struct gen *g, struct crl_job *cj)
{
	int rc = slurp(cj, QUORUM_TBS_MAX, "an approval request");

	if (rc < 0)
		return rc;
	return ca_tp_check(&g->p->tp, &g->tp, "gen-crl",
			   ca_dir_tp_key(g->d).spki_sha256, g->d->store,
			   &cj->t);
}

/* ---- one CRL ----------------------------------------------------------- */

static int update_times(struct gen *g);

static int result_json(struct gen *g, struct crl_job *cj)
{
	char tu[32], nu[32];
	json_t *o;
	int failed = 0; /* a value could not be added */

	ca_time_rfc3339(g->this_update, tu, sizeof(tu));
	ca_time_rfc3339(g->next_update, nu, sizeof(nu));
	o = json_pack("{s:s?, s:s, s:I, s:I, s:s, s:s}", "file",
		      g->tp.preparing ? g->p->tp.prepare : cj->sc->path,
		      "scope", scope_name(cj->sc), "crl_number",
		      (json_int_t)cj->spec.number, "entries", (json_int_t)cj->n,
		      "this_update", tu, "next_update", nu);
	if (o == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (cj->sc->kind == SCOPE_PARTITION)
		failed |= json_object_set_new(o, "partition",
					      json_integer(cj->sc->partition));
	if (cj->sc->n_idp > 0)
		failed |=
		    json_object_set_new(o, "url", json_string(cj->sc->idp[0]));
	if (!g->tp.preparing) {
		failed |= json_object_set_new(
		    o, "bytes", json_integer((json_int_t)cj->bytes));
		failed |=
		    json_object_set_new(o, "sha256", json_string(cj->sha256));
	}
	if (failed) {
		json_decref(o);
		return ca_err(CA_EIO, "out of memory");
	}
	if (json_array_append_new(g->res->crls, o) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

static int make_crl(struct gen *g, struct scope *sc)
{
	const struct ca_gencrl_params *p = g->p;
	struct crl_job cj;
	ca_audit *a = ca_audit_new("gen-crl");
	int rc;

	memset(&cj, 0, sizeof(cj));
	cj.sc = sc;
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (g->tp.preparing && (cj.listed = json_array()) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	/* Log in (perhaps at a PIN prompt) before taking the store's write
	 * lock; with approvals, only once they are checked. */
	if (!g->tp.preparing && !g->tp.executing)
		GUARD(ca_dir_signer(g->d, p->pin_source));
	GUARD(ca_store_begin(g->d->store));
	GUARD(ca_store_serialise(g->d->store));
	/* thisUpdate is taken under the write lock: every revocation
	 * committed so far is dated no later than it. */
	GUARD(update_times(g));
	GUARD(crl_number(g, &cj.spec.number));
	if (g->run_first == 0)
		g->run_first = cj.spec.number;
	cj.spec.algid = g->algid;
	cj.spec.algid_len = g->algid_len;
	cj.spec.issuer = g->issuer;
	cj.spec.issuer_len = g->issuer_len;
	cj.spec.aki = g->keyid;
	cj.spec.aki_len = g->keyid_len;
	cj.spec.this_update = g->this_update;
	cj.spec.next_update = g->next_update;
	cj.spec.idp_urls = sc->n_idp ? sc->idp : NULL;
	cj.spec.n_idp_urls = sc->n_idp;
	GUARD(stream_entries(g, &cj));
	GUARD(ca_crl_frame_new(&cj.spec, cj.n, cj.spool->total, &cj.frame));
	GUARD(lint(&cj));
	GUARD(size_check(g, &cj));
	if (p->lint_cert != NULL) {
		GUARD(slurp(&cj, LINT_COPY_MAX, "--lint-cert"));
		GUARD(ca_cert_lint_copy(g->pub, ca_dir_sigalg(g->d), cj.tbs,
					cj.frame.tbs_len, p->lint_cert,
					p->force));
	}
	if (g->tp.preparing) {
		GUARD(prepare(g, &cj, a));
		GUARD(result_json(g, &cj));
		goto out;
	}
	if (g->tp.executing)
		GUARD(check_approved(g, &cj));
	GUARD(sign(g, &cj));
	GUARD(write_verified(g, &cj));
	GUARD(record(g, &cj, a));
	/* Committed: now, and only now, the file is released. */
	rc = ca_out_commit(cj.out);
	cj.out = NULL;
	if (rc < 0) {
		rc = ca_err_ctx(rc,
				"CRL number %" PRIu64 " is recorded but %s was "
				"not written",
				cj.spec.number, sc->path);
		goto out;
	}
	GUARD(result_json(g, &cj));
out:
	ca_store_rollback(g->d->store);
	ca_audit_free(a);
	crl_job_free(&cj);
	return rc;
}

/* ---- scopes and outputs ------------------------------------------------ */

static char *join_path(const char *dir, const char *name)
{
	return ca_dir_file(dir, name);
}

static int add_config_urls(struct scope *sc, json_t *urls)
{
	size_t i;
	json_t *v;

	json_array_foreach(urls, i, v)
	{
		if (!json_is_string(v))
			return ca_err(CA_EUSAGE,
				      "ca.json: crl_urls must be strings");
		if (sc->n_idp == MAX_IDP_URLS)
			return ca_err(CA_EUSAGE,
				      "ca.json: more than %d crl_urls",
				      MAX_IDP_URLS);
		sc->idp[sc->n_idp++] = json_string_value(v);
	}
	return CA_OK;
}

static int partition_count(struct gen *g, int *count)
{
	long last = 0;
	int none = 1, rc;

	if (g->pc.count > 0) {
		*count = g->pc.count;
		return CA_OK;
	}
	/* Size mode: every partition opened so far, at least the first. */
	*count = 1;
	rc = ca_store_partition_last(g->d->store, &last, &none);
	if (rc == CA_OK && !none)
		*count = (int)last + 1;
	return rc;
}

static int plan_scopes(struct gen *g)
{
	const struct ca_gencrl_params *p = g->p;
	json_t *urls = ca_dir_urls(g->d, "crl_urls");
	char name[32];
	int count = 0, i, rc;

	if (!ca_partitions_enabled(&g->pc)) {
		g->scopes = calloc(1, sizeof(*g->scopes));
		if (g->scopes == NULL)
			return ca_err(CA_EIO, "out of memory");
		g->n_scopes = 1;
		g->scopes[0].kind = SCOPE_ALL;
		g->scopes[0].full = 1;
		g->scopes[0].path = p->out ? strdup(p->out) : NULL;
		if (p->out != NULL && g->scopes[0].path == NULL)
			return ca_err(CA_EIO, "out of memory");
		return CA_OK;
	}
	GUARD(partition_count(g, &count));
	g->scopes = calloc((size_t)count + 1, sizeof(*g->scopes));
	if (g->scopes == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < count; i++) {
		struct scope *sc = &g->scopes[g->n_scopes++];

		sc->kind = SCOPE_PARTITION;
		sc->partition = i;
		sc->url = ca_partition_url(&g->pc, i);
		snprintf(name, sizeof(name), "crl-%d.crl", i);
		sc->path = join_path(p->out_dir ? p->out_dir : ".", name);
		if (sc->url == NULL || sc->path == NULL)
			return ca_err(CA_EIO, "out of memory");
		sc->idp[sc->n_idp++] = sc->url;
	}
	/* Certificates bound to no partition point at ca.json crl_urls;
	 * without them a CRL with no IDP claims every certificate, so it must
	 * list every entry. */
	{
		struct scope *sc = &g->scopes[g->n_scopes++];

		sc->kind = SCOPE_BASE;
		sc->partition = -1;
		GUARD(add_config_urls(sc, urls));
		sc->full = sc->n_idp == 0;
		sc->path =
		    join_path(p->out_dir ? p->out_dir : ".", "crl-base.crl");
		if (sc->path == NULL)
			return ca_err(CA_EIO, "out of memory");
	}
out:
	return rc;
}

/* Which output options go with this CA (before anything is planned). */
static int check_output_args(struct gen *g)
{
	const struct ca_gencrl_params *p = g->p;
	int parts = ca_partitions_enabled(&g->pc);
	struct stat sb;

	if (g->tp.preparing) {
		if (p->out != NULL || p->out_dir != NULL)
			return ca_err(CA_EUSAGE,
				      "--prepare writes the approval request "
				      "only: give --out with --request");
		return CA_OK;
	}
	if (parts && p->out != NULL)
		return ca_err(CA_EUSAGE,
			      "this CA has partitioned CRLs: give --out-dir "
			      "DIR, not --out");
	if (!parts && p->out_dir != NULL)
		return ca_err(CA_EUSAGE,
			      "--out-dir is for partitioned CRLs: give "
			      "--out FILE");
	if (parts && p->lint_cert != NULL)
		return ca_err(CA_EUSAGE, "--lint-cert applies to a CRL without "
					 "partitions");
	if ((parts ? p->out_dir : p->out) == NULL)
		return ca_err(CA_EUSAGE, parts ? "--out-dir DIR is required"
					       : "--out FILE is required");
	if (parts && (stat(p->out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		return ca_err(CA_EUSAGE, "--out-dir %s is not a directory",
			      p->out_dir);
	return CA_OK;
}

/* Refuse an overwrite before anything is signed or numbered. */
static int check_outputs(struct gen *g)
{
	size_t i;
	int rc = CA_OK;

	if (g->tp.preparing)
		return CA_OK;
	for (i = 0; i < g->n_scopes; i++)
		GUARD(ca_out_check(g->scopes[i].path, g->p->force));
	if (g->p->lint_cert != NULL)
		GUARD(ca_out_check(g->p->lint_cert, g->p->force));
out:
	return rc;
}

static int spool_dir(struct gen *g)
{
	const struct ca_gencrl_params *p = g->p;
	const char *base = p->out_dir ? NULL : p->out ? p->out : p->tp.prepare;
	char *copy;

	if (base == NULL) {
		g->spool_dir = strdup(p->out_dir);
	} else {
		copy = strdup(base);
		g->spool_dir = copy ? strdup(dirname(copy)) : NULL;
		free(copy);
	}
	return g->spool_dir ? CA_OK : ca_err(CA_EIO, "out of memory");
}

/* ---- partition configuration ------------------------------------------- */

/* Default partition URL: crl_urls[0] with "-{n}" before its extension
 * ("http://x/issuing.crl" -> "http://x/issuing-{n}.crl"). */
static char *derive_url(struct gen *g)
{
	const char *u =
	    json_string_value(json_array_get(ca_dir_urls(g->d, "crl_urls"), 0));
	const char *slash, *dot;
	size_t n, at;
	char *out;

	if (u == NULL)
		return NULL;
	slash = strrchr(u, '/');
	dot = strrchr(slash ? slash : u, '.');
	n = strlen(u);
	at = dot ? (size_t)(dot - u) : n;
	out = malloc(n + 5);
	if (out != NULL)
		snprintf(out, n + 5, "%.*s-{n}%s", (int)at, u, u + at);
	return out;
}

/* ca.json with "crl" set to crl, in memory: it is written with the first
 * CRL that commits (commit_config), so that a run that fails changes
 * nothing. */
static int stage_config(struct gen *g, json_t *crl)
{
	json_t *copy = json_deep_copy(g->d->config);
	struct ca_partitions check;
	int rc;

	if (copy == NULL || json_object_set(copy, "crl", crl) != 0) {
		json_decref(copy);
		return ca_err(CA_EIO, "out of memory");
	}
	rc = ca_partitions_config(copy, &check);
	if (rc < 0) {
		json_decref(copy);
		return rc;
	}
	g->old_config = g->d->config;
	g->d->config = copy;
	return CA_OK;
}

/* Inside the first CRL's transaction, before its commit: write the staged
 * ca.json and its audit entry. */
static int commit_config(struct gen *g)
{
	ca_audit *a;
	char *text = NULL;
	int rc;

	if (g->old_config == NULL || g->config_written)
		return CA_OK;
	a = ca_audit_new("crl-config");
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_config_write(g->d->path, g->d->config, &text));
	g->config_written = 1;
	ca_audit_output(a, "ca.json", text, strlen(text));
	GUARD(
	    ca_audit_append(g->d->store, a, "ok", "CRL partitions configured"));
out:
	ca_audit_free(a);
	free(text);
	return rc;
}

/* The first CRL did not commit: put back the ca.json commit_config
 * wrote. */
static void restore_config(struct gen *g)
{
	char *text = NULL;

	if (!g->config_written || g->config_committed)
		return;
	if (ca_config_write(g->d->path, g->old_config, &text) < 0)
		fprintf(stderr,
			"hsmca-gen-crl: warning: %s/ca.json keeps the new "
			"\"crl\" setting although no CRL was committed\n",
			g->d->path);
	free(text);
	g->config_written = 0;
}

/* --partitions / --partition-size: set ca.json "crl" while no
 * certificate is bound to a partition; afterwards they must match it. */
static int resolve_partitions(struct gen *g)
{
	const struct ca_gencrl_params *p = g->p;
	char *derived = NULL;
	const char *url;
	json_t *crl = NULL;
	long bound = 0;
	int rc;

	GUARD(ca_partitions_config(g->d->config, &g->pc));
	if (p->partitions == 0 && p->partition_size == 0) {
		if (p->partition_url != NULL)
			rc = ca_err(CA_EUSAGE,
				    "--partition-url goes with --partitions "
				    "or --partition-size");
		goto out;
	}
	if (g->pinned != NULL) {
		rc = ca_err(CA_EPOLICY,
			    "partitioned CRLs are not available on a CA "
			    "with a pinned quorum");
		goto out;
	}
	derived = derive_url(g);
	url = p->partition_url ? p->partition_url
	      : g->pc.url      ? g->pc.url
			       : derived;
	if (url == NULL) {
		rc = ca_err(CA_EUSAGE,
			    "give --partition-url (e.g. "
			    "http://crl.example/ca-{n}.crl): ca.json has "
			    "no crl_urls to derive it from");
		goto out;
	}
	if (g->pc.count == p->partitions && g->pc.size == p->partition_size &&
	    g->pc.url != NULL && strcmp(g->pc.url, url) == 0)
		goto out;
	GUARD(ca_store_partition_bound(g->d->store, &bound));
	if (bound > 0) {
		rc = ca_err(
		    CA_EPOLICY,
		    "%ld certificates are already bound to the CRL partitions "
		    "of ca.json (%s %ld, url %s): --partitions, "
		    "--partition-size and --partition-url must match them",
		    bound, g->pc.count ? "partitions" : "partition_size",
		    g->pc.count ? (long)g->pc.count : g->pc.size,
		    g->pc.url ? g->pc.url : "(none)");
		goto out;
	}
	crl = p->partitions
		  ? json_pack("{s:i, s:s}", "partitions", p->partitions, "url",
			      url)
		  : json_pack("{s:I, s:s}", "partition_size",
			      (json_int_t)p->partition_size, "url", url);
	if (crl == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(stage_config(g, crl));
	GUARD(ca_partitions_config(g->d->config, &g->pc));
out:
	json_decref(crl);
	free(derived);
	return rc;
}

static int partitioning_json(struct gen *g)
{
	json_t *o;

	if (!ca_partitions_enabled(&g->pc))
		return CA_OK;
	o = g->pc.count
		? json_pack("{s:s, s:i, s:s}", "mode", "count", "partitions",
			    g->pc.count, "url", g->pc.url)
		: json_pack("{s:s, s:I, s:I, s:s}", "mode", "size",
			    "partition_size", (json_int_t)g->pc.size,
			    "per_partition", (json_int_t)g->pc.per_partition,
			    "url", g->pc.url);
	if (o == NULL)
		return ca_err(CA_EIO, "out of memory");
	g->res->partitioning = o;
	return CA_OK;
}

/* ---- times and the issuer ------------------------------------------------ */

static int update_times(struct gen *g)
{
	time_t nb, na, now = ca_now();
	char a[32], b[32];
	int rc;

	GUARD(ca_asn1_time(X509_get0_notBefore(g->d->cert), &nb));
	GUARD(ca_asn1_time(X509_get0_notAfter(g->d->cert), &na));
	if (g->tp.executing) {
		GUARD(ca_tp_param_time(&g->tp, "this_update", &g->this_update));
		GUARD(ca_tp_param_time(&g->tp, "next_update", &g->next_update));
	} else {
		g->this_update = now;
		g->next_update = now + (time_t)g->p->days * 86400;
	}
	if (g->this_update < nb || g->this_update >= na) {
		ca_time_rfc3339(nb, a, sizeof(a));
		ca_time_rfc3339(na, b, sizeof(b));
		rc = ca_err(CA_EPOLICY,
			    "the CA certificate is not valid now (%s to "
			    "%s): it cannot sign a CRL",
			    a, b);
		goto out;
	}
	if (g->next_update > na) {
		ca_time_rfc3339(g->next_update, a, sizeof(a));
		ca_time_rfc3339(na, b, sizeof(b));
		rc = ca_err(CA_EPOLICY,
			    "nextUpdate %s would be past the CA "
			    "certificate's notAfter %s (at most --days "
			    "%ld)",
			    a, b, (long)((na - g->this_update) / 86400));
		goto out;
	}
out:
	return rc;
}

static int issuer_fields(struct gen *g)
{
	int n, rc;

	g->pub = X509_get0_pubkey(g->d->cert);
	if (g->pub == NULL)
		return ca_err(CA_EIO,
			      "cannot read the CA certificate's public key");
	GUARD(ca_algid_der(g->pub, ca_dir_sigalg(g->d), &g->algid,
			   &g->algid_len));
	n = i2d_X509_NAME(X509_get_subject_name(g->d->cert), &g->issuer);
	if (n <= 0)
		return ca_err(CA_EIO, "cannot encode the CA's subject");
	g->issuer_len = (size_t)n;
	GUARD(ca_crl_issuer_keyid(g->d->cert, g->keyid, &g->keyid_len));
out:
	return rc;
}

/* ---- the run --------------------------------------------------------- */

static int run(struct gen *g)
{
	size_t i;
	int rc;

	GUARD(ca_store_meta_get(g->d->store, "quorum_sha256", &g->pinned));
	GUARD(ca_tp_begin(&g->p->tp, g->d->path, g->pinned, &g->tp));
	/* Refuse --days past the CA's notAfter before anything is written. */
	GUARD(update_times(g));
	GUARD(resolve_partitions(g));
	GUARD(partitioning_json(g));
	if (g->pinned != NULL && ca_partitions_enabled(&g->pc)) {
		rc = ca_err(CA_EPOLICY,
			    "ca.json configures CRL partitions, which "
			    "are not available on a CA with a pinned "
			    "quorum");
		goto out;
	}
	GUARD(check_output_args(g));
	GUARD(plan_scopes(g));
	GUARD(check_outputs(g));
	GUARD(spool_dir(g));
	GUARD(issuer_fields(g));
	for (i = 0; i < g->n_scopes; i++)
		GUARD(make_crl(g, &g->scopes[i]));
	g->res->prepared = g->tp.preparing;
out:
	return rc;
}

int ca_gencrl(const char *dir, const struct ca_gencrl_params *p,
	      struct ca_gencrl_result *res)
{
	struct gen g;
	ca_audit *a = NULL;
	char days[32];
	int rc;

	memset(&g, 0, sizeof(g));
	memset(res, 0, sizeof(*res));
	g.p = p;
	g.res = res;
	res->crls = json_array();
	if (res->crls == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_dir_open(dir, &g.d);
	if (rc < 0)
		return rc;
	rc = run(&g);
	if (rc < 0) {
		a = ca_audit_new("gen-crl");
		snprintf(days, sizeof(days), "%ld", p->days);
		ca_audit_set(a, "days", days);
		rc = ca_refusal(g.d->store, a, rc);
	}
	ca_audit_free(a);
	ca_tp_free(&g.tp);
	scopes_free(&g);
	restore_config(&g);
	json_decref(g.old_config);
	free(g.pinned);
	free(g.spool_dir);
	OPENSSL_free(g.algid);
	OPENSSL_free(g.issuer);
	ca_dir_free(g.d);
	return rc;
}

void ca_gencrl_result_free(struct ca_gencrl_result *res)
{
	json_decref(res->crls);
	json_decref(res->partitioning);
	res->crls = res->partitioning = NULL;
}
