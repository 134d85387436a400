#include "issue/ca.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "issue/partition.h"
#include "out/cadir.h"
#include "store/audit.h"
#include "store/repair.h"
#include "x509/cert.h"
#include "x509/leafprof.h"
#include "x509/spki.h"

void ca_dir_free(struct ca_dir *d)
{
	if (d == NULL)
		return;
	ca_store_close(d->store);
	ca_anchor_free(d->anchor);
	ca_signer_free(d->signer);
	sk_X509_pop_free(d->chain, X509_free);
	X509_free(d->cert);
	json_decref(d->config);
	free(d->path);
	free(d);
}

/* ca.json's signature_algorithm must be one we know. */
static int config_sigalg(const struct ca_dir *d, const char *path)
{
	json_t *v = json_object_get(d->config, "signature_algorithm");
	enum ca_sigalg alg;

	if (v != NULL && ca_sigalg_parse(json_string_value(v), &alg) < 0)
		return ca_err(CA_EUSAGE, "%s/ca.json: signature_algorithm: %s",
			      path, ca_errmsg());
	return CA_OK;
}

/* ca.json's profiles, default profile and partition settings, checked
 * when the directory is opened rather than when first used. */
static int config_parts(const struct ca_dir *d)
{
	json_t *profiles = json_object_get(d->config, "profiles"), *v;
	const char *name;
	struct ca_leaf_profile prof;
	struct ca_partitions pc;
	char why[512];
	int rc = CA_OK;

	json_object_foreach(profiles, name, v)
	{
		GUARD(ca_leaf_profile_find(d->config, name, &prof));
	}
	name = json_string_value(json_object_get(d->config, "default_profile"));
	if (name != NULL)
		GUARD(ca_leaf_profile_find(d->config, name, &prof));
	GUARD(ca_partitions_config(d->config, &pc));
out:
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s", ca_errmsg());
		return ca_err(rc, "%s/ca.json: %s", d->path, why);
	}
	return rc;
}

/* Where a module named in ca.json may be loaded from without the operator
 * naming it: the system's library directories (and their subdirectories),
 * or a module registered with p11-kit (its configuration is the
 * system's). Whoever can write ca.json must not choose code for us to run
 * before the PIN is read. */
static const char *const system_lib_dirs[] = {
    "/usr/lib/", "/usr/lib64/", "/usr/lib32/",	   "/lib/",
    "/lib64/",	 "/lib32/",	"/usr/local/lib/", "/usr/local/lib64/",
};

static int config_module(const struct ca_dir *d)
{
	const char *m = json_string_value(json_object_get(d->config, "module"));
	char real[PATH_MAX];
	size_t i;

	if (m == NULL || ca_p11_module_explicit())
		return CA_OK;
	/* Not a path: a module name p11-kit resolves from its registry. */
	if (strchr(m, '/') == NULL && strstr(m, ".so") == NULL)
		return CA_OK;
	if (m[0] == '/' && realpath(m, real) != NULL)
		for (i = 0;
		     i < sizeof(system_lib_dirs) / sizeof(*system_lib_dirs);
		     i++)
			if (strncmp(real, system_lib_dirs[i],
				    strlen(system_lib_dirs[i])) == 0)
				return CA_OK;
	return ca_err(CA_EPOLICY,
		      "%s/ca.json names the PKCS#11 module %s, which is not "
		      "in a system library directory (/usr/lib, /lib, "
		      "/usr/local/lib) nor a module registered with p11-kit: "
		      "refusing to load it; to use it, pass it explicitly "
		      "with --module %s or HSMCA_MODULE=%s",
		      d->path, m, m, m);
}

int ca_dir_store_find(const char *dir, const json_t *config, char **where)
{
	json_t *own = NULL;
	int rc;

	*where = NULL;
	/* As ca_dir_store_where: an unreadable ca.json means DIR/ca.db. */
	if (config == NULL && ca_config_load(dir, &own) == CA_OK)
		config = own;
	ca_err_clear();
	GUARD(ca_store_password_source(
	    json_string_value(json_object_get(config, "store_password_source")),
	    0));
	rc = ca_dir_store_where(dir, config, where);
out:
	json_decref(own);
	return rc;
}

/* certs: read ca.crt and chain.pem too. */
static int dir_open(const char *path, const char *db, int certs,
		    struct ca_dir **out)
{
	struct ca_dir *d = NULL;
	struct stat st;
	char *f = NULL;
	int rc;

	*out = NULL;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return ca_err(CA_EUSAGE, "%s is not a CA directory", path);
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		return ca_err(CA_EIO, "out of memory");
	}
	GUARD(ca_dir_check_owner(path));
	GUARD(ca_config_load(path, &d->config));
	GUARD(config_sigalg(d, path));
	GUARD(config_parts(d));
	GUARD(config_module(d));
	/* The CA's module, below --module and $HSMCA_MODULE (token.h). */
	ca_p11_set_key_module(
	    json_string_value(json_object_get(d->config, "module")),
	    json_string_value(json_object_get(d->config, "module_args")));
	if (certs) {
		f = ca_dir_file(path, "ca.crt");
		GUARD(ca_x509_load(f, &d->cert));
		free(f);
		f = ca_dir_file(path, "chain.pem");
		if (access(f, F_OK) == 0)
			GUARD(ca_x509_load_all(f, &d->chain));
		else if ((d->chain = sk_X509_new_null()) == NULL)
			rc = ca_err(CA_EIO, "out of memory");
		free(f);
		f = NULL;
	}
	/* The store: a copy being checked (db), or the CA's own. */
	if (db != NULL && (f = strdup(db)) == NULL)
		GUARD(ca_err(CA_EIO, "out of memory"));
	if (db == NULL)
		GUARD(ca_dir_store_find(path, d->config, &f));
	GUARD(db != NULL ? ca_store_open_copy(f, &d->store)
			 : ca_store_open(f, &d->store));
	*out = d;
	d = NULL;
out:
	free(f);
	ca_dir_free(d);
	return rc;
}

int ca_dir_open(const char *path, struct ca_dir **out)
{
	return dir_open(path, NULL, 1, out);
}

int ca_dir_open_report(const char *path, struct ca_dir **out)
{
	return dir_open(path, NULL, 0, out);
}

int ca_dir_open_store(const char *path, const char *db, struct ca_dir **out)
{
	return dir_open(path, db, 1, out);
}

const char *ca_dir_key_uri(const struct ca_dir *d)
{
	return json_string_value(json_object_get(d->config, "key"));
}

json_t *ca_dir_urls(const struct ca_dir *d, const char *key)
{
	return json_object_get(d->config, key);
}

enum ca_sigalg ca_dir_sigalg(const struct ca_dir *d)
{
	enum ca_sigalg alg = CA_SIGALG_DEFAULT;
	const char *v = json_string_value(
	    json_object_get(d->config, "signature_algorithm"));

	/* Checked when the directory was opened. */
	if (v != NULL && ca_sigalg_parse(v, &alg) < 0)
		alg = CA_SIGALG_DEFAULT;
	return alg;
}

/* The check before every state change reads the whole store while it is
 * small (an offline root's, an issuing CA's first hundred thousand
 * certificates); past CHECK_WHOLE_MAX bytes it would cost seconds per run
 * (a million certificates: about 2 GB), so it checks the last CHECK_TAIL
 * audit entries, the token anchor vouches for the head (sign/anchor.h),
 * and hsmca-audit verify --full reads everything. */
#define CHECK_WHOLE_MAX (256LL * 1024 * 1024)
#define CHECK_TAIL	1024

int ca_dir_check_store(struct ca_dir *d)
{
	struct ca_audit_head head;
	long long bytes = 0;
	long bad = 0, from = 1;
	int rc;

	GUARD(ca_store_bytes(d->store, &bytes));
	if (bytes <= CHECK_WHOLE_MAX) {
		GUARD(ca_store_check(d->store, 0));
	} else {
		GUARD(ca_audit_head(d->store, &head));
		from = head.seq - CHECK_TAIL + 1;
	}
	rc = ca_audit_verify_from(d->store, from, &bad, &head);
	if (rc == CA_EPOLICY)
		rc = ca_err(CA_EPOLICY,
			    "the audit log of %s is broken: %s: refusing to "
			    "change or sign anything (hsmca-audit verify)",
			    d->path, ca_errmsg());
out:
	if (rc == CA_EPOLICY)
		d->store->untrusted = 1;
	return rc;
}

/* The token anchor of the CA's key, checked; see ca_dir_signer(). */
static int dir_anchor(struct ca_dir *d)
{
	const char *mode =
	    json_string_value(json_object_get(d->config, "anchor"));
	const char *ca_id =
	    json_string_value(json_object_get(d->config, "ca_id"));
	struct ca_anchor *a = NULL;
	char *store_id = NULL;
	int rc;

	GUARD(ca_dir_check_store(d));
	GUARD(ca_anchor_open(d->signer->tok, d->signer->spki_sha256_hex, &a));
	if (mode != NULL && strcmp(mode, "none") == 0) {
		if (a != NULL) {
			rc = ca_err(CA_EPOLICY,
				    "%s/ca.json says the CA is unanchored, but "
				    "its key has the token anchor '%s' of the "
				    "CA directory with id %s: a key serves one "
				    "CA directory",
				    d->path, a->label, a->ca_id);
			goto out;
		}
		fprintf(stderr,
			"warning: %s runs unanchored (created with "
			"--unanchored): a rollback of its store or a copy of "
			"the directory is not detected\n",
			d->path);
		goto out;
	}
	if (mode != NULL && strcmp(mode, "token") != 0) {
		rc = ca_err(CA_EUSAGE,
			    "%s/ca.json: anchor: \"token\" or "
			    "\"none\" expected",
			    d->path);
		goto out;
	}
	GUARD(ca_store_meta_get(d->store, "ca_id", &store_id));
	if (ca_id == NULL || store_id == NULL) {
		rc = ca_err(CA_EPOLICY,
			    "%s has no CA id (made before token anchors): "
			    "nothing on the token vouches for its store; "
			    "anchor it once with hsmca-audit --ca %s anchor",
			    d->path, d->path);
		goto out;
	}
	if (strcmp(ca_id, store_id) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "%s/ca.json (CA id %s) and its ca.db (CA id %s) "
			    "belong to different CA directories",
			    d->path, ca_id, store_id);
		goto out;
	}
	if (a == NULL) {
		rc = ca_err(CA_EPOLICY,
			    "the token '%s' holds no anchor for the key of %s "
			    "(CA id %s): its store cannot be checked; was the "
			    "anchor deleted, or is this the wrong token?",
			    d->signer->token_label, d->path, ca_id);
		goto out;
	}
	GUARD(ca_anchor_verify(a, d->store, ca_id, d->path));
	ca_anchor_attach(a, d->store);
	d->anchor = a;
	a = NULL;
out:
	if (rc == CA_EPOLICY)
		d->store->untrusted = 1;
	free(store_id);
	ca_anchor_free(a);
	return rc;
}

int ca_dir_signer(struct ca_dir *d, const char *pin_source)
{
	char *pinned = NULL;
	int rc;

	if (d->signer != NULL)
		return CA_OK;
	rc = ca_signer_open_expect(ca_dir_key_uri(d), pin_source, d->cert,
				   &d->signer);
	if (rc < 0)
		return rc;
	d->signer->sigalg = ca_dir_sigalg(d);
	/* The pinned quorum (state store) protects the key. */
	rc = ca_store_meta_get(d->store, "quorum_sha256", &pinned);
	if (rc < 0)
		return rc;
	d->signer->quorum = pinned != NULL;
	free(pinned);
	if (d->signer->pub != X509_get0_pubkey(d->cert) &&
	    EVP_PKEY_eq(d->signer->pub, X509_get0_pubkey(d->cert)) != 1)
		return ca_err(CA_EPOLICY,
			      "the token key %s is not the key of %s/ca.crt",
			      ca_dir_key_uri(d), d->path);
	return dir_anchor(d);
}

/* The SPKI SHA-256 (hex) of a stored certificate (store/repair.h). */
static int spki_of_der(const unsigned char *der, size_t len, char hex[65])
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int rc;

	if (x == NULL)
		return ca_err(CA_EIO, "a stored certificate does not parse");
	rc = ca_spki_der_sha256_hex(X509_get_X509_PUBKEY(x), hex);
	X509_free(x);
	return rc;
}

int ca_dir_repair(struct ca_dir *d)
{
	ca_audit *a = NULL;
	long long fixed = 0;
	char rows[32];
	int damaged = 0, rc;

	GUARD(ca_store_spki_damaged(d->store, &damaged));
	if (!damaged)
		return CA_OK;
	if ((a = ca_audit_new("repair")) == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_store_begin(d->store));
	GUARD(ca_store_serialise(d->store));
	/* Another host may have mended it meanwhile. */
	GUARD(ca_store_spki_damaged(d->store, &damaged));
	if (!damaged)
		goto out;
	GUARD(ca_store_spki_repair(d->store, spki_of_der, &fixed));
	snprintf(rows, sizeof(rows), "%lld", fixed);
	ca_audit_set(a, "rows", rows);
	ca_audit_set(a, "column", "certs.spki_sha256");
	GUARD(ca_audit_append(d->store, a, "ok",
			      "SPKI hashes of certificate rows recomputed "
			      "from their certificates"));
	GUARD(ca_store_commit(d->store));
	fprintf(stderr,
		"note: %s: the SPKI hashes of %lld certificate rows, which an "
		"earlier hsmca-audit migrate had copied as numbers, were "
		"recomputed from their certificates\n",
		d->path, fixed);
out:
	ca_store_rollback(d->store);
	ca_audit_free(a);
	return rc;
}

struct ca_tp_key ca_dir_tp_key(const struct ca_dir *d)
{
	struct ca_tp_key k;

	k.spki_sha256 =
	    json_string_value(json_object_get(d->config, "spki_sha256"));
	k.token_serial =
	    json_string_value(json_object_get(d->config, "token_serial"));
	k.uri = ca_dir_key_uri(d);
	return k;
}
