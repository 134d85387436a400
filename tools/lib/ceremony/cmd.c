/* The hsmca tools' command lines of a ceremony, built once for both the
 * plan (printed) and the run (executed). Tools answer with --json; the
 * token PIN goes on fd 3. */
#include "ceremony/internal.h"

#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

const char *ca_op_name(enum ca_op op)
{
	static const char *const names[] = {"root",   "subca", "cross",
					    "revoke", "crl",   "none"};

	return names[op];
}

const char *ca_op_action(enum ca_op op)
{
	static const char *const actions[] = {
	    "init-ca", "sign-subca", "sign-subca", "revoke", "gen-crl", ""};

	return actions[op];
}

/* An operation's files: OP, or OP-2, OP-3 ... when its request was
 * prepared again (the one before expired or was interrupted), so that
 * nothing of an earlier request is taken for the new one. */
static void op_files(const struct ca_cer *c, enum ca_op op, char *out,
		     size_t len)
{
	json_int_t g = json_integer_value(
	    json_object_get(ca_op_state((struct ca_cer *)c, op), "generation"));

	if (g <= 1)
		snprintf(out, len, "%s", ca_op_name(op));
	else
		snprintf(out, len, "%s-%d", ca_op_name(op), (int)g);
}

char *ca_request_path(struct ca_cer *c, enum ca_op op)
{
	char name[40];

	op_files(c, op, name, sizeof(name));
	return ca_out_path(c, "requests/%s.json", name);
}

char *ca_approvals_dir(const struct ca_cer *c, enum ca_op op)
{
	char name[40];

	op_files(c, op, name, sizeof(name));
	return ca_out_path(c, "approvals/%s", name);
}

char *ca_lint_path(const struct ca_cer *c, enum ca_op op)
{
	char name[40];

	op_files(c, op, name, sizeof(name));
	return ca_out_path(c, "lint/%s.%s", name,
			   op == CA_OP_CRL ? "crl" : "der");
}

/* The serial the token must have: the file's, or at a rehearsal the
 * SoftHSM token's. */
static const char *token_serial(struct ca_cer *c)
{
	const char *s =
	    c->rehearse ? ca_val(c, "rehearsal_token_serial") : NULL;

	return s != NULL ? s : c->spec->token_serial;
}

/* pkcs11:token=L;serial=S[;object=K], percent-encoded by p11-kit. */
static char *uri_text(struct ca_cer *c, const char *object)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_TOKEN_INFO *ti;
	char *s = NULL, *out;
	size_t n;

	if (u == NULL)
		return NULL;
	ti = p11_kit_uri_get_token_info(u);
	n = strlen(c->spec->token_label);
	memset(ti->label, ' ', sizeof(ti->label));
	memcpy(ti->label, c->spec->token_label,
	       n < sizeof(ti->label) ? n : sizeof(ti->label));
	n = strlen(token_serial(c));
	memset(ti->serialNumber, ' ', sizeof(ti->serialNumber));
	memcpy(ti->serialNumber, token_serial(c),
	       n < sizeof(ti->serialNumber) ? n : sizeof(ti->serialNumber));
	if (object != NULL) {
		CK_ATTRIBUTE a = {CKA_LABEL, (void *)object,
				  (CK_ULONG)strlen(object)};

		if (p11_kit_uri_set_attribute(u, &a) != P11_KIT_URI_OK) {
			p11_kit_uri_free(u);
			return NULL;
		}
	}
	if (p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &s) !=
	    P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(u);
	out = s ? strdup(s) : NULL;
	free(s);
	return out;
}

char *ca_key_uri_text(const struct ca_cer *c)
{
	return uri_text((struct ca_cer *)c, c->spec->key_label);
}

char *ca_token_uri_text(const struct ca_cer *c)
{
	return uri_text((struct ca_cer *)c, NULL);
}

static void add_tool(struct ca_cer *c, struct ca_argv *a, const char *name)
{
	char *p = ca_tool_path(c, name);

	ca_argv_add(a, p ? p : name);
	free(p);
}

static void add_list(struct ca_argv *a, const char *opt,
		     const struct ca_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		ca_argv_add(a, opt);
		ca_argv_add(a, l->v[i]);
	}
}

/* --module and --pin-source fd:3, for tools that use the token. */
static void add_token_opts(struct ca_cer *c, struct ca_argv *a)
{
	if (c->module != NULL) {
		ca_argv_add(a, "--module");
		ca_argv_add(a, c->module);
	}
	ca_argv_add(a, "--pin-source");
	ca_argv_add(a, "fd:3");
	ca_argv_add(a, "--json");
}

void ca_cmd_keygen(struct ca_cer *c, struct ca_argv *a, int check)
{
	const struct ca_spec *s = c->spec;
	char *uri = ca_token_uri_text(c);
	int with_key = s->type == CA_CER_ROOT || s->type == CA_CER_KEY;

	add_tool(c, a, "keygen");
	if (check)
		ca_argv_add(a, "--check");
	ca_argv_add(a, "--token");
	ca_argv_add(a, uri ? uri : "?");
	free(uri);
	if (with_key) {
		ca_argv_add(a, "--label");
		ca_argv_add(a, s->key_label);
		ca_argv_add(a, "--type");
		ca_argv_add(a, s->key_type);
	}
	/* Generation, or the outputs written again from the key (check 2). */
	if (with_key && check != 1) {
		char *pub = ca_out_path(
		    c, "%s", s->out_pub ? s->out_pub : "public-key.pem");

		ca_argv_add(a, "--pubout");
		ca_argv_add(a, pub ? pub : "?");
		free(pub);
		if (s->csr_subject != NULL) {
			char *csr = ca_out_path(c, "%s", s->out_csr);

			ca_argv_add(a, "--csr");
			ca_argv_add(a, csr ? csr : "?");
			ca_argv_add(a, "--subject");
			ca_argv_add(a, s->csr_subject);
			free(csr);
		}
		/* Written again from the key an interrupted run made. */
		if (check == 2)
			ca_argv_add(a, "--force");
	}
	add_token_opts(c, a);
}

static void add_certificate(struct ca_cer *c, enum ca_op op, struct ca_argv *a)
{
	const struct ca_spec *s = c->spec;
	int i;

	if (op == CA_OP_ROOT) {
		ca_argv_add(a, "--self-sign");
		ca_argv_add(a, "--subject");
		ca_argv_add(a, s->subject);
	}
	ca_argv_add(a, "--days");
	ca_argv_addf(a, "%ld", s->days);
	if (s->pathlen >= 0) {
		ca_argv_add(a, "--pathlen");
		ca_argv_addf(a, "%ld", s->pathlen);
	}
	if (op == CA_OP_SUBCA && s->subject != NULL) {
		ca_argv_add(a, "--subject");
		ca_argv_add(a, s->subject);
	}
	for (i = 0; i < CA_NC_COUNT; i++) {
		char opt[32];
		size_t j;

		snprintf(opt, sizeof(opt), "--%s", ca_nc_names[i]);
		for (j = 0; opt[j] != '\0'; j++)
			opt[j] = opt[j] == '_' ? '-' : opt[j];
		add_list(a, opt, &s->nc[i]);
	}
	add_list(a, "--policy", &s->policies);
	add_list(a, "--eku", &s->ekus);
	add_list(a, "--crl-url", &s->crl_urls);
	add_list(a, "--aia-url", &s->aia_urls);
}

/* Everything but the phase: the same for --prepare and --request. */
static void op_base(struct ca_cer *c, enum ca_op op, struct ca_argv *a)
{
	const struct ca_spec *s = c->spec;
	char *p = NULL;

	add_tool(c, a,
		 op == CA_OP_ROOT     ? "init-ca"
		 : op == CA_OP_REVOKE ? "revoke"
		 : op == CA_OP_CRL    ? "gen-crl"
				      : "sign-subca");
	ca_argv_add(a, "--ca");
	ca_argv_add(a, c->ca_dir);
	switch (op) {
	case CA_OP_ROOT:
		p = ca_key_uri_text(c);
		ca_argv_add(a, "--key");
		ca_argv_add(a, p ? p : "?");
		add_certificate(c, op, a);
		ca_argv_add(a, "--quorum");
		ca_argv_add(a, c->quorum);
		break;
	case CA_OP_SUBCA:
	case CA_OP_CROSS:
		p = ca_spec_path(s, op == CA_OP_SUBCA ? s->csr_file
						      : s->cross_file);
		ca_argv_add(a, op == CA_OP_SUBCA ? "--csr" : "--cross-sign");
		ca_argv_add(a, p ? p : "?");
		add_certificate(c, op, a);
		free(p);
		p = ca_out_path(c, "%s", s->out_cert);
		ca_argv_add(a, "--out");
		ca_argv_add(a, p ? p : "?");
		break;
	case CA_OP_REVOKE:
		ca_argv_add(a, "--serial");
		ca_argv_add(a, ca_val(c, "revoke_serial")
				   ? ca_val(c, "revoke_serial")
				   : "SERIAL");
		ca_argv_add(a, "--reason");
		ca_argv_add(a, s->revoke_reason);
		break;
	case CA_OP_CRL:
		ca_argv_add(a, "--days");
		ca_argv_addf(a, "%ld", s->crl_days);
		break;
	case CA_OP_NONE:
		break;
	}
	free(p);
	if (s->approval_ttl != NULL) {
		ca_argv_add(a, "--approval-ttl");
		ca_argv_add(a, s->approval_ttl);
	}
	if (op == CA_OP_REVOKE)
		ca_argv_add(a, "--json"); /* no signature: no token */
	else
		add_token_opts(c, a);
}

void ca_cmd_op(struct ca_cer *c, enum ca_op op, int execute, struct ca_argv *a)
{
	char *req = ca_request_path(c, op), *p = NULL, *dir;
	json_t *files, *f;
	size_t i;

	op_base(c, op, a);
	if (!execute) {
		ca_argv_add(a, "--prepare");
		ca_argv_add(a, req ? req : "?");
		if (op != CA_OP_REVOKE) {
			p = ca_lint_path(c, op);
			ca_argv_add(a, "--lint-cert");
			ca_argv_add(a, p ? p : "?");
		}
		goto out;
	}
	if (op == CA_OP_CRL) {
		p = ca_out_path(c, "%s", c->spec->out_crl);
		ca_argv_add(a, "--out");
		ca_argv_add(a, p ? p : "?");
	}
	ca_argv_add(a, "--request");
	ca_argv_add(a, req ? req : "?");
	files = json_object_get(ca_op_state(c, op), "approvals");
	if (json_array_size(files) == 0) {
		/* The plan: the approval files the approvers will bring. */
		dir = ca_approvals_dir(c, op);
		for (i = 0; i < c->spec->approvers.n; i++) {
			ca_argv_add(a, "--approval");
			ca_argv_addf(a, "%s/%s.sig", dir ? dir : "?",
				     c->spec->approvers.v[i]);
		}
		free(dir);
	}
	json_array_foreach(files, i, f)
	{
		ca_argv_add(a, "--approval");
		ca_argv_add(a, json_string_value(f));
	}
out:
	free(p);
	free(req);
}

void ca_cmd_show(struct ca_cer *c, const char *request, struct ca_argv *a)
{
	add_tool(c, a, "two-person-approve");
	ca_argv_add(a, "show");
	ca_argv_add(a, request);
	ca_argv_add(a, "--json");
}

static void approver_opts(struct ca_cer *c, const char *id, struct ca_argv *a)
{
	const struct ca_env_approver *e = ca_env_approver(c->env, id);

	ca_argv_add(a, "--id");
	ca_argv_add(a, id);
	ca_argv_add(a, "--key");
	ca_argv_add(a, e ? e->key : "YOUR-KEY");
	if (e != NULL && e->pass_source != NULL) {
		ca_argv_add(a, "--pass-source");
		ca_argv_add(a, e->pass_source);
	}
	if (e != NULL && e->pin_source != NULL) {
		ca_argv_add(a, "--pin-source");
		ca_argv_add(a, e->pin_source);
	}
	if (e != NULL && e->module != NULL) {
		ca_argv_add(a, "--module");
		ca_argv_add(a, e->module);
	}
}

void ca_cmd_sign(struct ca_cer *c, enum ca_op op, const char *id,
		 const char *request, struct ca_argv *a)
{
	char *dir = ca_approvals_dir(c, op);

	add_tool(c, a, "two-person-approve");
	ca_argv_add(a, "sign");
	ca_argv_add(a, request);
	approver_opts(c, id, a);
	ca_argv_add(a, "--out");
	ca_argv_addf(a, "%s/%s.sig", dir ? dir : "?", id);
	ca_argv_add(a, "--json");
	free(dir);
}

/* The quorum an operation is checked against: the file the root pins,
 * or the one the signing CA pinned. */
static char *op_quorum(struct ca_cer *c, enum ca_op op)
{
	size_t n;
	char *p;

	if (op == CA_OP_ROOT)
		return strdup(c->quorum);
	n = strlen(c->ca_dir) + 16;
	p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/quorum.json", c->ca_dir);
	return p;
}

void ca_cmd_verify(struct ca_cer *c, enum ca_op op, const char *request,
		   struct ca_argv *a)
{
	char *q = op_quorum(c, op), *dir = ca_approvals_dir(c, op);
	json_t *files = json_object_get(ca_op_state(c, op), "approvals"), *f;
	size_t i;

	add_tool(c, a, "two-person-approve");
	ca_argv_add(a, "verify");
	ca_argv_add(a, request);
	ca_argv_add(a, "--quorum");
	ca_argv_add(a, q ? q : "?");
	if (json_array_size(files) == 0) {
		for (i = 0; i < c->spec->approvers.n; i++)
			ca_argv_addf(a, "%s/%s.sig", dir ? dir : "?",
				     c->spec->approvers.v[i]);
	}
	json_array_foreach(files, i, f) ca_argv_add(a, json_string_value(f));
	ca_argv_add(a, "--json");
	free(dir);
	free(q);
}

void ca_cmd_check_key(struct ca_cer *c, const char *id, struct ca_argv *a)
{
	add_tool(c, a, "two-person-approve");
	ca_argv_add(a, "check-key");
	ca_argv_add(a, "--quorum");
	ca_argv_add(a, c->quorum);
	approver_opts(c, id, a);
	ca_argv_add(a, "--json");
}

void ca_cmd_audit(struct ca_cer *c, const char *what, struct ca_argv *a)
{
	add_tool(c, a, "audit");
	ca_argv_add(a, "--ca");
	ca_argv_add(a, c->ca_dir);
	ca_argv_add(a, what);
	ca_argv_add(a, "--json");
}
