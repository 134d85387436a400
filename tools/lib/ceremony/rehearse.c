/* --rehearse: the real ceremony file, run on any machine. Under
 * OUT/rehearsal: a SoftHSM token store (its own softhsm2.conf) with a token
 * of the file's label, a PIN file, throwaway Ed25519 keys for the quorum's
 * approvers and a quorum file of them (same ids, names and threshold), an
 * environment file, and stand-ins for what a real ceremony finds: the
 * signing CA (keygen and a quorum root of the file's ca.subject) and, to
 * revoke, a certificate of the real one's subject and key issued by that
 * stand-in. Nothing made here is for real use. */
#include "ceremony/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <p11-kit/p11-kit.h>

#include "input/quorum.h"
#include "out/file.h"

#define STANDIN_KEY "rehearsal-ca-key"

static const char *softhsm_module(void)
{
	static const char *const candidates[] = {
	    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	    "/usr/lib/softhsm/libsofthsm2.so",
	    "/usr/lib64/softhsm/libsofthsm2.so",
	    "/usr/local/lib/softhsm/libsofthsm2.so",
	    NULL};
	const char *env = getenv("SOFTHSM_MODULE");
	int i;

	if (env != NULL && env[0] != '\0')
		return env;
	for (i = 0; candidates[i] != NULL; i++) {
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	}
	return NULL;
}

static char *rpath(const struct ca_cer *c, const char *name)
{
	return ca_out_path(c, "rehearsal/%s", name);
}

static int set_paths(struct ca_cer *c)
{
	char *conf = rpath(c, "softhsm2.conf");
	int rc = CA_OK;

	free(c->quorum);
	free(c->ca_dir);
	c->quorum = rpath(c, "quorum.json");
	c->ca_dir = rpath(c, "ca");
	if (conf == NULL || c->quorum == NULL || c->ca_dir == NULL ||
	    setenv("SOFTHSM2_CONF", conf, 1) != 0)
		rc = ca_err(CA_EIO, "out of memory");
	/* The rehearsal's SoftHSM takes no initialisation arguments: those
	 * meant for the real module (HSMCA_MODULE_ARGS) must not reach it
	 * (SoftHSM refuses a non-NULL pReserved). */
	(void)unsetenv("HSMCA_MODULE_ARGS");
	if (c->spec->type == CA_CER_REVOKE) {
		free(c->revoke_cert);
		c->revoke_cert = rpath(c, "revoke-target.crt");
	}
	free(conf);
	return rc;
}

/* Random decimal digits (PINs of throwaway tokens). */
static int digits(char *out, size_t n)
{
	unsigned char r[64];
	size_t i;

	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return ca_err(CA_EIO, "no random numbers");
	for (i = 0; i < n; i++)
		out[i] = (char)('0' + r[i] % 10);
	out[n] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return CA_OK;
}

/* --- the SoftHSM token, made through PKCS#11 (no PIN in any argv) ------- */

static int p11(CK_RV rv, const char *what)
{
	if (rv == CKR_OK)
		return CA_OK;
	return ca_err(CA_EIO, "SoftHSM %s: %s", what, p11_kit_strerror(rv));
}

static int find_slot(CK_FUNCTION_LIST *m, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	int rc;

	GUARD(p11(m->C_GetSlotList(CK_TRUE, slots, &n), "C_GetSlotList"));
	for (i = 0; i < n; i++) {
		if (m->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (label == NULL ? !(ti.flags & CKF_TOKEN_INITIALIZED)
				  : ((ti.flags & CKF_TOKEN_INITIALIZED) &&
				     memcmp(ti.label, label, 32) == 0)) {
			*slot = slots[i];
			goto out;
		}
	}
	rc = ca_err(CA_EIO, "SoftHSM offers no %s token",
		    label ? "such" : "free");
out:
	return rc;
}

static int init_token(const char *module, const char *label, const char *pin,
		      char serial[17])
{
	CK_FUNCTION_LIST *m = NULL;
	CK_SESSION_HANDLE s = 0;
	CK_UTF8CHAR lab[32];
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;
	char so[17];
	size_t n = strlen(label), i;
	int rc, init = 0, open = 0;

	memset(lab, ' ', sizeof(lab));
	memcpy(lab, label, n < 32 ? n : 32);
	GUARD(digits(so, 16));
	m = p11_kit_module_load(module, P11_KIT_MODULE_UNMANAGED);
	if (m == NULL) {
		rc = ca_err(CA_EIO, "cannot load SoftHSM (%s): %s", module,
			    p11_kit_message() ? p11_kit_message() : "");
		goto out;
	}
	GUARD(p11(p11_kit_module_initialize(m), "C_Initialize"));
	init = 1;
	GUARD(find_slot(m, NULL, &slot));
	GUARD(p11(m->C_InitToken(slot, (CK_UTF8CHAR *)so, 16, lab),
		  "C_InitToken"));
	/* SoftHSM gives an initialised token a slot of its own. */
	GUARD(find_slot(m, (const char *)lab, &slot));
	GUARD(p11(m->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				   NULL, NULL, &s),
		  "C_OpenSession"));
	open = 1;
	GUARD(p11(m->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so, 16), "C_Login"));
	GUARD(p11(m->C_InitPIN(s, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin)),
		  "C_InitPIN"));
	(void)m->C_Logout(s);
	GUARD(p11(m->C_GetTokenInfo(slot, &ti), "C_GetTokenInfo"));
	memcpy(serial, ti.serialNumber, 16);
	for (i = 16; i > 0 && serial[i - 1] == ' '; i--)
		;
	serial[i] = '\0';
out:
	OPENSSL_cleanse(so, sizeof(so));
	if (open)
		(void)m->C_CloseSession(s);
	if (init)
		(void)p11_kit_module_finalize(m);
	if (m != NULL)
		p11_kit_module_release(m);
	return rc;
}

/* --- approvers ------------------------------------------------------------ */

static int pem_of(EVP_PKEY *k, int private, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ok;

	*out = NULL;
	if (b == NULL)
		return ca_err(CA_EIO, "out of memory");
	ok = private ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(b, k);
	n = BIO_get_mem_data(b, &data);
	if (ok == 1 && n > 0 && (*out = malloc((size_t)n + 1)) != NULL) {
		memcpy(*out, data, (size_t)n);
		(*out)[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(b);
	return *out != NULL ? CA_OK : ca_err(CA_EIO, "cannot encode a key");
}

/* Throwaway Ed25519 keys for every approver of the real quorum, and a
 * quorum file of them with the same ids, names and threshold. */
static int approvers(struct ca_cer *c)
{
	char *qpath = ca_spec_path(c->spec, c->spec->quorum_file);
	struct ca_quorum *q = NULL;
	json_t *list = json_array(), *doc = NULL;
	EVP_PKEY *k = NULL;
	char *pem = NULL, *path = NULL, *text = NULL, name[100];
	size_t len;
	int rc, i;

	GUARD(ca_quorum_load(qpath, &q));
	for (i = 0; i < q->n; i++) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (k == NULL) {
			rc = ca_err(CA_EIO, "cannot make an Ed25519 key");
			goto out;
		}
		GUARD(pem_of(k, 1, &pem, &len));
		snprintf(name, sizeof(name), "approvers/%s.key",
			 q->approvers[i].id);
		path = rpath(c, name);
		GUARD(ca_out_write(path, pem, len, 0, 0600));
		OPENSSL_cleanse(pem, len);
		free(pem);
		free(path);
		pem = path = NULL;
		GUARD(pem_of(k, 0, &pem, &len));
		if (json_array_append_new(list,
					  json_pack("{s:s, s:s, s:s}", "id",
						    q->approvers[i].id, "name",
						    q->approvers[i].name,
						    "public_key", pem)) != 0) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		free(pem);
		pem = NULL;
		EVP_PKEY_free(k);
		k = NULL;
	}
	doc = json_pack("{s:i, s:i, s:O}", "version", 1, "threshold",
			q->threshold, "approvers", list);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (text == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_out_write(c->quorum, text, strlen(text), 0, 0644));
	ca_say(c,
	       "  throwaway Ed25519 keys for the %d approvers of %s, and a "
	       "quorum file of them (%d of %d): %s",
	       q->n, c->spec->quorum_file, q->threshold, q->n, c->quorum);
out:
	free(text);
	json_decref(doc);
	json_decref(list);
	EVP_PKEY_free(k);
	free(path);
	free(pem);
	ca_quorum_free(q);
	free(qpath);
	return rc;
}

/* YAML double-quoted text. */
static void yq_body(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	yq_body(f, s);
	fputc('"', f);
}

static int write_env(struct ca_cer *c, const char *module)
{
	char *path = rpath(c, "env.yaml"), *pin = rpath(c, "token.pin");
	char *qpath = ca_spec_path(c->spec, c->spec->quorum_file);
	struct ca_quorum *q = NULL;
	FILE *f = NULL;
	int rc = CA_OK, i;

	if (ca_spec_has_quorum(c->spec))
		GUARD(ca_quorum_load(qpath, &q));
	f = path ? fopen(path, "wxe") : NULL;
	if (f == NULL) {
		rc =
		    ca_err(CA_EIO, "cannot write %s", path ? path : "env.yaml");
		goto out;
	}
	fprintf(f, "# The environment of a rehearsal (made by hsmca-ceremony "
		   "--rehearse).\nmodule: ");
	yq(f, module);
	fprintf(f, "\npin_source: \"file:");
	yq_body(f, pin);
	fputc('"', f);
	fprintf(f, "\ntools: ");
	yq(f, c->tools);
	fprintf(f, "\n%s", q ? "approvers:\n" : "");
	for (i = 0; q != NULL && i < q->n; i++) {
		char name[100], *key;

		snprintf(name, sizeof(name), "approvers/%s.key",
			 q->approvers[i].id);
		key = rpath(c, name);
		fprintf(f, "  %s:\n    key: ", q->approvers[i].id);
		yq(f, key ? key : "?");
		fputc('\n', f);
		free(key);
	}
	rc = fclose(f) == 0 ? CA_OK : ca_err(CA_EIO, "cannot write %s", path);
	f = NULL;
out:
	if (f != NULL)
		fclose(f);
	ca_quorum_free(q);
	free(qpath);
	free(pin);
	free(path);
	return rc;
}

/* --- stand-ins ------------------------------------------------------------ */

/* A two-phase operation of the stand-in CA, approved by the first M
 * approvers' throwaway keys: base + --prepare REQ, then base + --request
 * REQ --approval .... */
static int standin_op(struct ca_cer *c, const struct ca_argv *base,
		      const char *name, int pin, json_t **result)
{
	struct ca_quorum *q = NULL;
	struct ca_argv a = {0};
	json_t *r = NULL;
	char *req = NULL, *sig = NULL, file[100];
	size_t i;
	int rc, k;

	snprintf(file, sizeof(file), "standin-%s.json", name);
	req = rpath(c, file);
	GUARD(ca_quorum_load(c->quorum, &q));
	for (i = 0; i < base->n; i++)
		ca_argv_add(&a, base->v[i]);
	ca_argv_add(&a, "--prepare");
	ca_argv_add(&a, req);
	GUARD(ca_exec_must(c, &a, pin, &r));
	json_decref(r);
	r = NULL;
	ca_argv_free(&a);
	for (i = 0; i < base->n; i++)
		ca_argv_add(&a, base->v[i]);
	ca_argv_add(&a, "--request");
	ca_argv_add(&a, req);
	for (k = 0; k < q->threshold; k++) {
		struct ca_argv s = {0};
		char *tool = ca_tool_path(c, "two-person-approve"), key[100];

		snprintf(file, sizeof(file), "standin-%s-%s.sig", name,
			 q->approvers[k].id);
		snprintf(key, sizeof(key), "approvers/%s.key",
			 q->approvers[k].id);
		free(sig);
		sig = rpath(c, file);
		ca_argv_add(&s, tool ? tool : "hsmca-two-person-approve");
		ca_argv_add(&s, "sign");
		ca_argv_add(&s, req);
		ca_argv_add(&s, "--id");
		ca_argv_add(&s, q->approvers[k].id);
		ca_argv_add(&s, "--key");
		ca_argv_addf(&s, "%s/rehearsal/%s", c->out, key);
		ca_argv_add(&s, "--out");
		ca_argv_add(&s, sig);
		ca_argv_add(&s, "--json");
		free(tool);
		rc = ca_exec_must(c, &s, 0, &r);
		ca_argv_free(&s);
		json_decref(r);
		r = NULL;
		if (rc < 0)
			goto out;
		ca_argv_add(&a, "--approval");
		ca_argv_add(&a, sig);
	}
	rc = ca_exec_must(c, &a, pin, result);
out:
	ca_argv_free(&a);
	json_decref(r);
	free(sig);
	free(req);
	ca_quorum_free(q);
	return rc;
}

static void tool_argv(struct ca_cer *c, struct ca_argv *a, const char *name)
{
	char *p = ca_tool_path(c, name);

	ca_argv_add(a, p ? p : name);
	free(p);
}

static void token_args(struct ca_cer *c, struct ca_argv *a)
{
	ca_argv_add(a, "--module");
	ca_argv_add(a, c->module);
	ca_argv_add(a, "--pin-source");
	ca_argv_add(a, "fd:3");
	ca_argv_add(a, "--json");
}

/* The signing CA the ceremony file names, as a quorum root of its subject
 * on the rehearsal token. */
static int standin_ca(struct ca_cer *c, const char *serial)
{
	struct ca_argv a = {0};
	json_t *r = NULL;
	int rc;

	ca_say(c,
	       "  a stand-in for the signing CA %s (%s):", c->spec->ca_subject,
	       c->spec->ca_dir);
	tool_argv(c, &a, "keygen");
	ca_argv_add(&a, "--token");
	ca_argv_addf(&a, "pkcs11:token=%s;serial=%s", c->spec->token_label,
		     serial);
	ca_argv_add(&a, "--label");
	ca_argv_add(&a, STANDIN_KEY);
	ca_argv_add(&a, "--type");
	ca_argv_add(&a, "ec:p384");
	token_args(c, &a);
	GUARD(ca_exec_must(c, &a, 1, &r));
	ca_argv_free(&a);
	tool_argv(c, &a, "init-ca");
	ca_argv_add(&a, "--ca");
	ca_argv_add(&a, c->ca_dir);
	ca_argv_add(&a, "--key");
	ca_argv_add(&a, json_string_value(json_object_get(r, "uri")));
	ca_argv_add(&a, "--self-sign");
	ca_argv_add(&a, "--subject");
	ca_argv_add(&a, c->spec->ca_subject);
	ca_argv_add(&a, "--days");
	ca_argv_add(&a, "7300");
	ca_argv_add(&a, "--quorum");
	ca_argv_add(&a, c->quorum);
	token_args(c, &a);
	json_decref(r);
	r = NULL;
	rc = standin_op(c, &a, "ca", 1, &r);
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

/* The certificate to revoke: the real one's subject and key, certified by
 * the stand-in CA (a cross-certificate of it). */
static int standin_target(struct ca_cer *c)
{
	char *real = ca_spec_path(c->spec, c->spec->revoke_file);
	struct ca_argv a = {0};
	json_t *r = NULL;
	int rc;

	ca_say(c, "  a stand-in for the certificate to revoke, issued by the "
		  "stand-in CA:");
	tool_argv(c, &a, "sign-subca");
	ca_argv_add(&a, "--ca");
	ca_argv_add(&a, c->ca_dir);
	ca_argv_add(&a, "--cross-sign");
	ca_argv_add(&a, real ? real : "?");
	ca_argv_add(&a, "--days");
	ca_argv_add(&a, "365");
	ca_argv_add(&a, "--out");
	ca_argv_add(&a, c->revoke_cert);
	token_args(c, &a);
	GUARD(standin_op(c, &a, "target", 1, &r));
	ca_val_set(c, "revoke_serial",
		   json_string_value(json_object_get(r, "serial")));
out:
	ca_argv_free(&a);
	json_decref(r);
	free(real);
	return rc;
}

static int conf(struct ca_cer *c)
{
	char *tokens = rpath(c, "tokens"), *path = rpath(c, "softhsm2.conf");
	char text[8400];
	int rc;

	if (tokens == NULL || path == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (mkdir(tokens, 0700) != 0) {
		rc = ca_err(CA_EIO, "cannot create %s: %s", tokens,
			    strerror(errno));
		goto out;
	}
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\n"
		 "log.level = ERROR\n",
		 tokens);
	rc = ca_out_write(path, text, strlen(text), 0, 0600);
out:
	free(path);
	free(tokens);
	return rc;
}

int ca_rehearse_setup(struct ca_cer *c)
{
	const char *module = softhsm_module();
	char *dir = rpath(c, ""), *appr = rpath(c, "approvers");
	char *pinfile = rpath(c, "token.pin"), pin[9], serial[17];
	int rc;

	if (module == NULL) {
		rc = ca_err(CA_EIO,
			    "--rehearse needs SoftHSM (apt-get install "
			    "softhsm2), or its module in SOFTHSM_MODULE");
		goto out;
	}
	if (dir == NULL || appr == NULL || pinfile == NULL ||
	    mkdir(dir, 0700) != 0 || mkdir(appr, 0700) != 0) {
		rc = ca_err(CA_EIO, "cannot create %s",
			    dir ? dir : "rehearsal/");
		goto out;
	}
	ca_say(c, "Rehearsal set-up in %s:", dir);
	GUARD(set_paths(c));
	GUARD(conf(c));
	GUARD(digits(pin, 8));
	GUARD(ca_out_write(pinfile, pin, strlen(pin), 0, 0600));
	GUARD(init_token(module, c->spec->token_label, pin, serial));
	ca_val_set(c, "rehearsal_token_serial", serial);
	ca_say(c, "  a SoftHSM token '%s' (serial %s), its PIN in %s",
	       c->spec->token_label, serial, pinfile);
	if (ca_spec_has_quorum(c->spec))
		GUARD(approvers(c));
	GUARD(write_env(c, module));
	GUARD(ca_progress_save(c));
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	free(pinfile);
	free(appr);
	free(dir);
	return rc;
}

/* After the PIN is read: the stand-ins the ceremony type needs. */
int ca_rehearse_standins(struct ca_cer *c)
{
	int rc = CA_OK;

	if (c->spec->type == CA_CER_ROOT || c->spec->type == CA_CER_KEY)
		return CA_OK;
	GUARD(standin_ca(c, ca_val(c, "rehearsal_token_serial")));
	if (c->spec->type == CA_CER_REVOKE)
		GUARD(standin_target(c));
	rc = ca_progress_save(c);
out:
	return rc;
}

int ca_rehearse_env(struct ca_cer *c)
{
	return set_paths(c);
}
