#include "ceremony/spec.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/sha256.h"
#include "ceremony/yaml.h"
#include "input/name.h"
#include "input/quorum.h"
#include "providers/hsmca/token/token.h"
#include "quorum/request.h"
#include "x509/crl.h"

const char *const ca_nc_names[CA_NC_COUNT + 1] = {
    "permit_dns",    "exclude_dns", "permit_ip",   "exclude_ip", "permit_email",
    "exclude_email", "permit_uri",  "exclude_uri", NULL,
};

static const struct {
	const char *name;
	enum ca_cer_type type;
} types[] = {
    {"root", CA_CER_ROOT},	     {"subca", CA_CER_SUBCA},
    {"cross", CA_CER_CROSS},	     {"crl", CA_CER_CRL},
    {"revoke-subca", CA_CER_REVOKE}, {"key", CA_CER_KEY},
};

/* The top-level keys of each type. */
static const char *const top_root[] = {
    "version",	    "type",    "title",	      "description", "token",
    "key",	    "ca",      "certificate", "quorum",	     "approvers",
    "approval_ttl", "outputs", NULL};
static const char *const top_key[] = {"version",     "type",	"title",
				      "description", "token",	"key",
				      "csr",	     "outputs", NULL};
static const char *const top_subca[] = {
    "version",	    "type",    "title",	      "description", "token",
    "ca",	    "csr",     "certificate", "quorum",	     "approvers",
    "approval_ttl", "outputs", NULL};
static const char *const top_cross[] = {
    "version",	    "type",    "title",	      "description", "token",
    "ca",	    "cross",   "certificate", "quorum",	     "approvers",
    "approval_ttl", "outputs", NULL};
static const char *const top_crl[] = {
    "version", "type",	 "title",     "description",  "token",	 "ca",
    "crl",     "quorum", "approvers", "approval_ttl", "outputs", NULL};
static const char *const top_revoke[] = {
    "version", "type",	 "title",     "description",  "token",	 "ca", "revoke",
    "crl",     "quorum", "approvers", "approval_ttl", "outputs", NULL};

#define MAX_TEXT 1024
#define MAX_LIST 64

const char *ca_cer_type_name(enum ca_cer_type t)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i].type == t)
			return types[i].name;
	}
	return "?";
}

int ca_spec_has_quorum(const struct ca_spec *s)
{
	return s->type != CA_CER_KEY;
}

static void list_free(struct ca_list *l)
{
	ca_strlist_free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ca_spec_free(struct ca_spec *s)
{
	int i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->base);
	free(s->raw);
	free(s->title);
	free(s->description);
	free(s->token_label);
	free(s->token_serial);
	free(s->key_label);
	free(s->key_type);
	free(s->ca_dir);
	free(s->ca_subject);
	free(s->subject);
	list_free(&s->crl_urls);
	list_free(&s->aia_urls);
	list_free(&s->policies);
	list_free(&s->ekus);
	for (i = 0; i < CA_NC_COUNT; i++)
		list_free(&s->nc[i]);
	free(s->csr_file);
	free(s->csr_sha256);
	free(s->csr_spki);
	free(s->csr_subject);
	free(s->cross_file);
	free(s->cross_sha256);
	free(s->revoke_file);
	free(s->revoke_sha256);
	free(s->revoke_reason);
	free(s->quorum_file);
	free(s->quorum_sha256);
	list_free(&s->approvers);
	free(s->approval_ttl);
	free(s->out_cert);
	free(s->out_chain);
	free(s->out_crl);
	free(s->out_pub);
	free(s->out_csr);
	free(s);
}

char *ca_spec_path(const struct ca_spec *s, const char *p)
{
	char *out;
	size_t n;

	if (p == NULL)
		return NULL;
	if (p[0] == '/')
		return strdup(p);
	n = strlen(s->base) + strlen(p) + 2;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s/%s", s->base, p);
	return out;
}

/* ---------------------------------------------------------------------- */
/* Value checks                                                            */

struct ctx {
	const struct ca_yaml_doc *doc;
	const struct ca_yaml_node *top;
	struct ca_spec *s;
};

/* A SHA-256 in hex (colons and case allowed), stored lowercase. */
static int sha256_value(const struct ctx *c, const struct ca_yaml_node *map,
			const char *key, const char *what, int required,
			char **out)
{
	unsigned char d[32];
	char path[200];
	size_t n = 0;
	int rc;

	rc = ca_yaml_str(c->doc, map, key, what, required, 200, out);
	if (rc < 0 || *out == NULL)
		return rc;
	snprintf(path, sizeof(path), "%s.%s", what, key);
	if (ca_unhex(*out, d, sizeof(d), &n) < 0 || n != 32)
		return ca_yaml_refuse(c->doc, ca_yaml_line(map, key), path,
				      "must be a SHA-256: 64 hex digits");
	ca_hex(d, 32, *out);
	return CA_OK;
}

/* A file name inside the output directory. */
static int out_name(const struct ctx *c, const struct ca_yaml_node *map,
		    const char *key, const char *dflt, char **out)
{
	static const char *const reserved[] = {
	    "transcript.txt", "transcript.txt.sha256",
	    "progress.json",  "record.pdf",
	    "SHA256SUMS",     "ceremony.yaml",
	    "requests",	      "approvals",
	    "lint",	      "rehearsal",
	    "ceremony.lock",  NULL};
	size_t i;
	int rc;

	rc = map ? ca_yaml_str(c->doc, map, key, "outputs", 0, 200, out) : 0;
	if (rc < 0)
		return rc;
	if (*out == NULL) {
		*out = strdup(dflt);
		return *out ? CA_OK : ca_err(CA_EIO, "out of memory");
	}
	if (strchr(*out, '/') != NULL || (*out)[0] == '.')
		goto bad;
	for (i = 0; reserved[i] != NULL; i++) {
		if (strcmp(reserved[i], *out) == 0)
			goto bad;
	}
	return CA_OK;
bad:
	return ca_yaml_refuse(
	    c->doc, ca_yaml_line(map, key), "outputs",
	    "%s: "
	    "'%s' must be a plain file name inside the output "
	    "directory (no '/', not hidden, not one the "
	    "ceremony writes itself)",
	    key, *out);
}

static int subject_value(const struct ctx *c, const struct ca_yaml_node *map,
			 const char *key, const char *what, int required,
			 char **out)
{
	X509_NAME *n = NULL;
	char path[200];
	int rc;

	rc = ca_yaml_str(c->doc, map, key, what, required, MAX_TEXT, out);
	if (rc < 0 || *out == NULL)
		return rc;
	snprintf(path, sizeof(path), "%s.%s", what, key);
	if (ca_name_parse(*out, &n) < 0)
		return ca_yaml_refuse(c->doc, ca_yaml_line(map, key), path,
				      "%s", ca_errmsg());
	X509_NAME_free(n);
	return CA_OK;
}

static int list_value(const struct ctx *c, const struct ca_yaml_node *map,
		      const char *key, const char *what, struct ca_list *l)
{
	return ca_yaml_strlist(c->doc, map, key, what, MAX_LIST, &l->v, &l->n);
}

/* ---------------------------------------------------------------------- */
/* Sections                                                                */

static int sect_token(const struct ctx *c)
{
	static const char *const keys[] = {"label", "serial", NULL};
	const struct ca_yaml_node *m;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "token", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "token", keys));
	GUARD(ca_yaml_str(c->doc, m, "label", "token", 1, 32,
			  &c->s->token_label));
	GUARD(ca_yaml_str(c->doc, m, "serial", "token", 1, 16,
			  &c->s->token_serial));
out:
	return rc;
}

static int sect_key(const struct ctx *c)
{
	static const char *const keys[] = {"label", "type", NULL};
	const struct ca_yaml_node *m;
	struct ca_keyspec ks;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "key", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "key", keys));
	GUARD(ca_yaml_str(c->doc, m, "label", "key", 1, 128, &c->s->key_label));
	GUARD(ca_yaml_str(c->doc, m, "type", "key", 1, 32, &c->s->key_type));
	if (ca_keyspec_parse(c->s->key_type, &ks) < 0)
		rc = ca_yaml_refuse(c->doc, ca_yaml_line(m, "type"), "key.type",
				    "%s", ca_errmsg());
out:
	return rc;
}

static int sect_ca(const struct ctx *c)
{
	static const char *const keys_new[] = {"dir", NULL};
	static const char *const keys_signing[] = {"dir", "subject", NULL};
	const int root = c->s->type == CA_CER_ROOT;
	const struct ca_yaml_node *m;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "ca", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "ca",
				   root ? keys_new : keys_signing));
	GUARD(ca_yaml_str(c->doc, m, "dir", "ca", 1, PATH_MAX / 2,
			  &c->s->ca_dir));
	if (!root)
		GUARD(
		    subject_value(c, m, "subject", "ca", 1, &c->s->ca_subject));
out:
	return rc;
}

static int sect_name_constraints(const struct ctx *c,
				 const struct ca_yaml_node *cert)
{
	const struct ca_yaml_node *m;
	int rc, i;

	GUARD(ca_yaml_map(c->doc, cert, "name_constraints", "certificate", 0,
			  &m));
	if (m == NULL)
		goto out;
	GUARD(ca_yaml_keys_allowed(c->doc, m, "certificate.name_constraints",
				   ca_nc_names));
	for (i = 0; i < CA_NC_COUNT; i++)
		GUARD(list_value(c, m, ca_nc_names[i],
				 "certificate.name_constraints", &c->s->nc[i]));
out:
	return rc;
}

static int sect_certificate(const struct ctx *c)
{
	static const char *const keys_root[] = {
	    "subject",	"days",	    "pathlen", "crl_urls",
	    "aia_urls", "policies", NULL};
	static const char *const keys_sub[] = {
	    "subject",		"days",	    "pathlen",
	    "crl_urls",		"aia_urls", "policies",
	    "name_constraints", "ekus",	    NULL};
	static const char *const keys_cross[] = {
	    "days",	"pathlen", "crl_urls",	       "aia_urls",
	    "policies", "ekus",	   "name_constraints", NULL};
	const enum ca_cer_type t = c->s->type;
	const struct ca_yaml_node *m;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "certificate", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "certificate",
				   t == CA_CER_ROOT    ? keys_root
				   : t == CA_CER_SUBCA ? keys_sub
						       : keys_cross));
	if (t != CA_CER_CROSS)
		GUARD(subject_value(c, m, "subject", "certificate",
				    t == CA_CER_ROOT, &c->s->subject));
	GUARD(ca_yaml_long(c->doc, m, "days", "certificate", 1, 1, 36500,
			   &c->s->days));
	GUARD(ca_yaml_long(c->doc, m, "pathlen", "certificate", 0, 0, 16,
			   &c->s->pathlen));
	GUARD(list_value(c, m, "crl_urls", "certificate", &c->s->crl_urls));
	GUARD(list_value(c, m, "aia_urls", "certificate", &c->s->aia_urls));
	GUARD(list_value(c, m, "policies", "certificate", &c->s->policies));
	if (t != CA_CER_ROOT) {
		GUARD(list_value(c, m, "ekus", "certificate", &c->s->ekus));
		GUARD(sect_name_constraints(c, m));
	}
out:
	return rc;
}

/* An input file with its SHA-256: cross and revoke. */
static int sect_input(const struct ctx *c, const char *name,
		      const char *const *keys, char **file, char **sha256,
		      const struct ca_yaml_node **out)
{
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, name, "", 1, out));
	GUARD(ca_yaml_keys_allowed(c->doc, *out, name, keys));
	GUARD(ca_yaml_str(c->doc, *out, "file", name, 1, PATH_MAX / 2, file));
	GUARD(sha256_value(c, *out, "sha256", name, 1, sha256));
out:
	return rc;
}

static int sect_csr(const struct ctx *c)
{
	static const char *const keys_key[] = {"subject", NULL};
	static const char *const keys_sub[] = {"file", "sha256", "spki_sha256",
					       NULL};
	const struct ca_yaml_node *m;
	int rc;

	if (c->s->type == CA_CER_KEY) {
		GUARD(ca_yaml_map(c->doc, c->top, "csr", "", 0, &m));
		if (m == NULL)
			goto out;
		GUARD(ca_yaml_keys_allowed(c->doc, m, "csr", keys_key));
		GUARD(subject_value(c, m, "subject", "csr", 1,
				    &c->s->csr_subject));
		goto out;
	}
	GUARD(ca_yaml_map(c->doc, c->top, "csr", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "csr", keys_sub));
	GUARD(ca_yaml_str(c->doc, m, "file", "csr", 1, PATH_MAX / 2,
			  &c->s->csr_file));
	GUARD(sha256_value(c, m, "sha256", "csr", 0, &c->s->csr_sha256));
	GUARD(sha256_value(c, m, "spki_sha256", "csr", 1, &c->s->csr_spki));
out:
	return rc;
}

static int sect_revoke(const struct ctx *c)
{
	static const char *const keys[] = {"file", "sha256", "reason", NULL};
	const struct ca_yaml_node *m;
	int rc, code;

	GUARD(sect_input(c, "revoke", keys, &c->s->revoke_file,
			 &c->s->revoke_sha256, &m));
	GUARD(ca_yaml_str(c->doc, m, "reason", "revoke", 1, 64,
			  &c->s->revoke_reason));
	if (ca_crl_reason_parse(c->s->revoke_reason, &code) < 0 ||
	    !ca_crl_reason_listable(code) || code == CA_REASON_CERTIFICATE_HOLD)
		rc = ca_yaml_refuse(c->doc, ca_yaml_line(m, "reason"),
				    "revoke.reason",
				    "'%s' is not a reason for revoking a CA "
				    "(cACompromise, keyCompromise, superseded, "
				    "cessationOfOperation, affiliationChanged, "
				    "privilegeWithdrawn, unspecified)",
				    c->s->revoke_reason);
out:
	return rc;
}

static int sect_crl(const struct ctx *c)
{
	static const char *const keys[] = {"days", NULL};
	const struct ca_yaml_node *m;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "crl", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "crl", keys));
	GUARD(ca_yaml_long(c->doc, m, "days", "crl", 1, 1, 3660,
			   &c->s->crl_days));
out:
	return rc;
}

static int sect_quorum(const struct ctx *c)
{
	static const char *const keys[] = {"file", "sha256", NULL};
	const struct ca_yaml_node *m;
	long ttl;
	size_t i, j;
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "quorum", "", 1, &m));
	GUARD(ca_yaml_keys_allowed(c->doc, m, "quorum", keys));
	GUARD(ca_yaml_str(c->doc, m, "file", "quorum", 1, PATH_MAX / 2,
			  &c->s->quorum_file));
	GUARD(sha256_value(c, m, "sha256", "quorum", 1, &c->s->quorum_sha256));
	GUARD(ca_yaml_strlist(c->doc, c->top, "approvers", "", MAX_LIST,
			      &c->s->approvers.v, &c->s->approvers.n));
	if (c->s->approvers.n == 0) {
		rc = ca_err(CA_EUSAGE,
			    "%s: approvers is missing: list the ids of the "
			    "approvers expected at this ceremony",
			    c->doc->name);
		goto out;
	}
	for (i = 0; i < c->s->approvers.n; i++) {
		const char *id = c->s->approvers.v[i];

		if (!ca_quorum_id_ok(id)) {
			rc = ca_yaml_refuse(c->doc,
					    ca_yaml_line(c->top, "approvers"),
					    "approvers",
					    "'%s' is not an approver "
					    "id",
					    id);
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(c->s->approvers.v[j], id) == 0) {
				rc = ca_yaml_refuse(
				    c->doc, ca_yaml_line(c->top, "approvers"),
				    "approvers", "'%s' is listed twice", id);
				goto out;
			}
		}
	}
	GUARD(ca_yaml_str(c->doc, c->top, "approval_ttl", "", 0, 16,
			  &c->s->approval_ttl));
	if (c->s->approval_ttl != NULL &&
	    ca_ttl_parse(c->s->approval_ttl, &ttl) < 0)
		rc =
		    ca_yaml_refuse(c->doc, ca_yaml_line(c->top, "approval_ttl"),
				   "approval_ttl", "%s", ca_errmsg());
out:
	return rc;
}

static int sect_outputs(const struct ctx *c)
{
	static const char *const keys_root[] = {"certificate", NULL};
	static const char *const keys_cert[] = {"certificate", "chain", NULL};
	static const char *const keys_crl[] = {"crl", NULL};
	static const char *const keys_key[] = {"public_key", "csr", NULL};
	struct ca_spec *s = c->s;
	const struct ca_yaml_node *m;
	char dflt[200];
	int rc;

	GUARD(ca_yaml_map(c->doc, c->top, "outputs", "", 0, &m));
	if (m != NULL)
		GUARD(ca_yaml_keys_allowed(
		    c->doc, m, "outputs",
		    s->type == CA_CER_ROOT  ? keys_root
		    : s->type == CA_CER_KEY ? keys_key
		    : (s->type == CA_CER_CRL || s->type == CA_CER_REVOKE)
			? keys_crl
			: keys_cert));
	switch (s->type) {
	case CA_CER_ROOT:
		GUARD(out_name(c, m, "certificate", "root.crt", &s->out_cert));
		break;
	case CA_CER_SUBCA:
	case CA_CER_CROSS:
		GUARD(out_name(c, m, "certificate",
			       s->type == CA_CER_SUBCA ? "subca.crt"
						       : "cross.crt",
			       &s->out_cert));
		/* issuing.crt -> issuing.chain.pem */
		snprintf(dflt, sizeof(dflt), "%.*s.chain.pem",
			 (int)strcspn(s->out_cert, "."), s->out_cert);
		GUARD(out_name(c, m, "chain", dflt, &s->out_chain));
		break;
	case CA_CER_CRL:
	case CA_CER_REVOKE:
		GUARD(out_name(c, m, "crl", "crl.pem", &s->out_crl));
		break;
	case CA_CER_KEY:
		GUARD(out_name(c, m, "public_key", "public-key.pem",
			       &s->out_pub));
		if (s->csr_subject != NULL)
			GUARD(
			    out_name(c, m, "csr", "request.csr", &s->out_csr));
		else if (ca_yaml_get(m, "csr") != NULL)
			rc = ca_yaml_refuse(c->doc, ca_yaml_line(m, "csr"),
					    "outputs.csr",
					    "a CSR is made only with a csr "
					    "section (csr: subject: DN)");
		break;
	}
out:
	return rc;
}

/* version and type, then the type's keys. */
static int head(const struct ctx *c, const char *const **keys)
{
	long version = 0;
	char *type = NULL;
	size_t i;
	int rc;

	GUARD(
	    ca_yaml_long(c->doc, c->top, "version", "", 1, 1, 1000, &version));
	if (version != 1) {
		rc = ca_yaml_refuse(c->doc, ca_yaml_line(c->top, "version"),
				    "version",
				    "%ld is not a version this "
				    "hsmca-ceremony reads (1)",
				    version);
		goto out;
	}
	GUARD(ca_yaml_str(c->doc, c->top, "type", "", 1, 32, &type));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].name, type) == 0)
			break;
	}
	if (i == sizeof(types) / sizeof(types[0])) {
		rc =
		    ca_yaml_refuse(c->doc, ca_yaml_line(c->top, "type"), "type",
				   "'%s' is not a ceremony type (root, subca, "
				   "cross, crl, revoke-subca, key)",
				   type);
		goto out;
	}
	c->s->type = types[i].type;
	*keys = c->s->type == CA_CER_ROOT    ? top_root
		: c->s->type == CA_CER_KEY   ? top_key
		: c->s->type == CA_CER_SUBCA ? top_subca
		: c->s->type == CA_CER_CROSS ? top_cross
		: c->s->type == CA_CER_CRL   ? top_crl
					     : top_revoke;
out:
	free(type);
	return rc;
}

/* A key that exists for another type is named as such. */
static int keys_for_type(const struct ctx *c, const char *const *keys)
{
	static const char *const any[] = {
	    "version", "type", "title",	      "description", "token",
	    "key",     "ca",   "certificate", "csr",	     "cross",
	    "revoke",  "crl",  "quorum",      "approvers",   "approval_ttl",
	    "outputs", NULL};
	const struct ca_yaml_node *top = c->top;
	size_t i, j, k;

	for (i = 0; i + 1 < top->n; i += 2) {
		const char *name = top->items[i]->text;

		for (j = 0; keys[j] != NULL && strcmp(keys[j], name) != 0; j++)
			;
		if (keys[j] != NULL)
			continue;
		for (k = 0; any[k] != NULL && strcmp(any[k], name) != 0; k++)
			;
		if (any[k] != NULL)
			return ca_err(CA_EUSAGE,
				      "%s: key '%s' at line %lu does not "
				      "belong in a %s ceremony file",
				      c->doc->name, name, top->items[i]->line,
				      ca_cer_type_name(c->s->type));
	}
	return ca_yaml_keys_allowed(c->doc, top, "", keys);
}

static int parse_doc(const struct ctx *c)
{
	const char *const *keys = NULL;
	int rc;

	GUARD(head(c, &keys));
	GUARD(keys_for_type(c, keys));
	GUARD(ca_yaml_str(c->doc, c->top, "title", "", 0, 200, &c->s->title));
	GUARD(ca_yaml_text(c->doc, c->top, "description", "", 4000,
			   &c->s->description));
	GUARD(sect_token(c));
	c->s->pathlen = -1;
	switch (c->s->type) {
	case CA_CER_ROOT:
		GUARD(sect_key(c));
		GUARD(sect_ca(c));
		GUARD(sect_certificate(c));
		break;
	case CA_CER_KEY:
		GUARD(sect_key(c));
		GUARD(sect_csr(c));
		break;
	case CA_CER_SUBCA:
		GUARD(sect_ca(c));
		GUARD(sect_csr(c));
		GUARD(sect_certificate(c));
		break;
	case CA_CER_CROSS: {
		static const char *const keys_in[] = {"file", "sha256", NULL};
		const struct ca_yaml_node *m;

		GUARD(sect_ca(c));
		GUARD(sect_input(c, "cross", keys_in, &c->s->cross_file,
				 &c->s->cross_sha256, &m));
		GUARD(sect_certificate(c));
		break;
	}
	case CA_CER_CRL:
		GUARD(sect_ca(c));
		GUARD(sect_crl(c));
		break;
	case CA_CER_REVOKE:
		GUARD(sect_ca(c));
		GUARD(sect_revoke(c));
		GUARD(sect_crl(c));
		break;
	}
	if (ca_spec_has_quorum(c->s))
		GUARD(sect_quorum(c));
	GUARD(sect_outputs(c));
out:
	return rc;
}

int ca_spec_parse(const unsigned char *data, size_t len, const char *name,
		  const char *base, struct ca_spec **out)
{
	struct ca_yaml_doc *doc = NULL;
	struct ca_spec *s;
	struct ctx c;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ca_err(CA_EIO, "out of memory");
	s->name = strdup(name);
	s->base = strdup(base);
	s->raw = malloc(len + 1);
	if (s->name == NULL || s->base == NULL || s->raw == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(s->raw, data, len);
	s->raw[len] = '\0';
	s->raw_len = len;
	ca_sha256_hex(data, len, s->sha256);
	GUARD(ca_yaml_parse(data, len, name, &doc));
	c.doc = doc;
	c.top = doc->root;
	c.s = s;
	GUARD(parse_doc(&c));
	*out = s;
	s = NULL;
out:
	ca_yaml_free(doc);
	ca_spec_free(s);
	return rc;
}

int ca_spec_load(const char *path, struct ca_spec **out)
{
	unsigned char *data = NULL;
	char *copy = NULL, *base = NULL, *slash;
	size_t len = 0;
	int rc;

	*out = NULL;
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	copy = strdup(path);
	if (copy == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	slash = strrchr(copy, '/');
	if (slash == NULL)
		base = getcwd(NULL, 0);
	else {
		if (slash == copy)
			slash[1] = '\0';
		else
			*slash = '\0';
		base = realpath(copy, NULL);
	}
	if (base == NULL) {
		rc = ca_err(CA_EIO, "cannot resolve the directory of %s", path);
		goto out;
	}
	GUARD(ca_spec_parse(data, len, path, base, out));
out:
	free(base);
	free(copy);
	free(data);
	return rc;
}
