/* Unit tests for ceremony files and environment files
 * (tools/lib/ceremony/yaml.c, spec.c, env.c): what is accepted, and every
 * refusal with the line it names. TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/env.h"
#include "ceremony/spec.h"
#include "tap.h"

#define Q                                                                      \
	"quorum:\n  file: quorum.json\n  sha256: "                             \
	"3f2a0f5e0c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5\n"

static const char root_ok[] =
    "# A root ceremony.\n"
    "version: 1\n"
    "type: root\n"
    "title: Example Root R1\n"
    "token:\n"
    "  label: Root\n"
    "  serial: \"0000000000000001\"\n"
    "key:\n"
    "  label: root-key\n"
    "  type: ec:p384\n"
    "ca:\n"
    "  dir: /srv/ca/root\n"
    "certificate:\n"
    "  subject: CN=Example Root R1,O=Example,C=NO\n"
    "  days: 7300\n"
    "  pathlen: 1\n"
    "  crl_urls:\n"
    "    - http://crl.example.com/root.crl\n"
    "  policies: [2.23.140.1.2.1]\n" Q "approvers: [alice, carol]\n"
    "approval_ttl: 2h\n";

static const char subca_ok[] =
    "version: 1\n"
    "type: subca\n"
    "token: {label: Root, serial: 1d903c1e78770d90}\n"
    "ca:\n"
    "  dir: root\n"
    "  subject: CN=Example Root R1\n"
    "csr:\n"
    "  file: issuing.csr\n"
    "  spki_sha256: 3F:2A:0F:5E:0C:1B:2A:3D:4E:5F:60:71:82:93:A4:B5:"
    "C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5\n"
    "certificate:\n"
    "  days: 1825\n"
    "  pathlen: 0\n"
    "  name_constraints:\n"
    "    permit_dns: [example.com]\n"
    "    exclude_ip: [10.0.0.0/8]\n" Q "approvers: [alice, bob]\n"
    "outputs:\n"
    "  certificate: issuing.crt\n";

static const char key_ok[] = "version: 1\n"
			     "type: key\n"
			     "token: {label: Issuing, serial: '42'}\n"
			     "key: {label: issuing-key, type: ec:p256}\n"
			     "csr: {subject: 'CN=Issuing CA 1,O=Example'}\n";

static const char crl_ok[] =
    "version: 1\ntype: crl\ntoken: {label: Root, serial: '1'}\n"
    "ca: {dir: /srv/ca/root, subject: CN=R}\ncrl: {days: 200}\n" Q
    "approvers: [bob, carol]\n";

static const char revoke_ok[] =
    "version: 1\ntype: revoke-subca\ntoken: {label: Root, serial: '1'}\n"
    "ca: {dir: /srv/ca/root, subject: CN=R}\n"
    "revoke:\n  file: issuing.crt\n  reason: cACompromise\n  sha256: "
    "3f2a0f5e0c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5\n"
    "crl: {days: 30}\n" Q "approvers: [bob, carol]\n"
    "outputs: {crl: root.crl}\n";

static const char cross_ok[] =
    "version: 1\ntype: cross\ntoken: {label: Root, serial: '1'}\n"
    "ca: {dir: /srv/ca/root, subject: CN=R}\n"
    "cross:\n  file: r2.crt\n  sha256: "
    "3f2a0f5e0c1b2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5\n"
    "certificate: {days: 365}\n" Q "approvers: [bob, carol]\n";

/* Replace the first occurrence of from in base by to. */
static char *edit(const char *base, const char *from, const char *to)
{
	const char *p = strstr(base, from);
	size_t n;
	char *s;

	if (p == NULL)
		return NULL;
	n = strlen(base) - strlen(from) + strlen(to) + 1;
	s = malloc(n);
	if (s != NULL)
		snprintf(s, n, "%.*s%s%s", (int)(p - base), base, to,
			 p + strlen(from));
	return s;
}

static int parse(const char *text, struct ca_spec **s)
{
	return ca_spec_parse((const unsigned char *)text, strlen(text),
			     "c.yaml", "/base", s);
}

static void good_files(void)
{
	struct ca_spec *s = NULL;

	ok(parse(root_ok, &s) == CA_OK && s->type == CA_CER_ROOT &&
	       strcmp(s->token_serial, "0000000000000001") == 0 &&
	       s->days == 7300 && s->pathlen == 1 && s->crl_urls.n == 1 &&
	       s->policies.n == 1 && s->approvers.n == 2 &&
	       strcmp(s->out_cert, "root.crt") == 0,
	   "a root ceremony file parses with its values");
	ok(s != NULL && strstr(s->subject, "C=NO") != NULL,
	   "country NO stays the text NO (no YAML typing)");
	ca_spec_free(s);
	s = NULL;
	ok(parse(subca_ok, &s) == CA_OK && s->type == CA_CER_SUBCA &&
	       strcmp(s->csr_spki, "3f2a0f5e0c1b2a3d4e5f60718293a4b5c6d7e8f9"
				   "0a1b2c3d4e5f60718293a4b5") == 0 &&
	       s->nc[CA_NC_PERMIT_DNS].n == 1 &&
	       s->nc[CA_NC_EXCLUDE_IP].n == 1 &&
	       strcmp(s->out_chain, "issuing.chain.pem") == 0,
	   "a subca file parses: SPKI with colons and capitals, name "
	   "constraints, chain name from the certificate's");
	if (s != NULL) {
		char *p = ca_spec_path(s, s->csr_file);

		ok(p != NULL && strcmp(p, "/base/issuing.csr") == 0,
		   "inputs are relative to the ceremony file's directory");
		free(p);
	} else {
		tap_missed(1);
	}
	ca_spec_free(s);
	s = NULL;
	ok(parse(key_ok, &s) == CA_OK && s->type == CA_CER_KEY &&
	       s->csr_subject != NULL && strcmp(s->out_csr, "request.csr") == 0,
	   "a key ceremony file with a CSR parses");
	ca_spec_free(s);
	s = NULL;
	ok(parse(crl_ok, &s) == CA_OK && s->crl_days == 200 &&
	       strcmp(s->out_crl, "crl.pem") == 0,
	   "a crl ceremony file parses");
	ca_spec_free(s);
	s = NULL;
	ok(parse(revoke_ok, &s) == CA_OK && s->type == CA_CER_REVOKE &&
	       strcmp(s->revoke_reason, "cACompromise") == 0,
	   "a revoke-subca ceremony file parses");
	ca_spec_free(s);
	s = NULL;
	ok(parse(cross_ok, &s) == CA_OK && s->type == CA_CER_CROSS &&
	       strcmp(s->out_cert, "cross.crt") == 0,
	   "a cross ceremony file parses");
	ca_spec_free(s);
}

static const struct bad {
	const char *base, *from, *to; /* the good file edited */
	const char *want;	      /* in the message */
} bad[] = {
    {root_ok, "  subject: CN=Example", "  sbuject: CN=Example",
     "unknown key 'sbuject' at line 14 in certificate"},
    {root_ok, "  days: 7300", "  days: ten",
     "certificate.days at line 15: must be a whole number"},
    {root_ok, "  days: 7300", "  days: \"7300\"",
     "certificate.days at line 15: must be a whole number"},
    {root_ok, "  days: 7300\n", "",
     "certificate.days is missing (in certificate, which starts at line 14)"},
    {root_ok, "  crl_urls:\n    - http://crl.example.com/root.crl",
     "  crl_urls: http://crl.example.com/root.crl",
     "certificate.crl_urls at line 17: must be a list, not a single value"},
    {crl_ok, "crl: {days: 200}", "crl: 200",
     "crl at line 5: must be a mapping"},
    {root_ok, "type: root", "type: rot",
     "type at line 3: 'rot' is not a ceremony type"},
    {root_ok, "version: 1", "version: 2",
     "version at line 2: 2 is not a version"},
    {root_ok, "version: 1\n", "", "version is missing"},
    {root_ok, "  type: ec:p384", "  type: ec:p192",
     "key.type at line 10: unknown key type"},
    {root_ok, "  label: Root\n", "  label: Root\n  label: Other\n",
     "key 'label' given twice (first at line 6) at line 7"},
    {root_ok, "title: Example Root R1", "title: &t Example", "anchor '&t'"},
    {root_ok, "  serial: \"0000000000000001\"", "  serial: !!str 1",
     "tag 'tag:yaml.org,2002:str'"},
    {root_ok, "approvers: [alice, carol]", "approvers: [alice, alice]",
     "approvers at line 23: 'alice' is listed twice"},
    {root_ok, "approvers: [alice, carol]\n", "", "approvers is missing"},
    {root_ok, "  sha256: 3f2a", "  sha256: zz2a",
     "quorum.sha256 at line 22: must be a SHA-256"},
    {root_ok, "approval_ttl: 2h", "approval_ttl: forever",
     "approval_ttl at line 24"},
    {root_ok, "  subject: CN=Example Root R1,O=Example,C=NO",
     "  subject: CN=Example Root R1,Q=Example",
     "certificate.subject at line 14"},
    {root_ok, "title: Example Root R1\n", "title: x\ncsr: {subject: CN=x}\n",
     "key 'csr' at line 5 does not belong in a root ceremony file"},
    {root_ok, "approval_ttl: 2h\n", "approval_ttl: 2h\n---\nversion: 1\n",
     "a second document"},
    {root_ok, "  pathlen: 1", "  pathlen: -1",
     "certificate.pathlen at line 16"},
    {root_ok, "title: Example Root R1", "title: [a", "not valid YAML at line"},
    {root_ok, "title: Example Root R1", "title: \"a\\u0007b\"",
     "control characters"},
    {root_ok, "  dir: /srv/ca/root\n", "  dir: /srv/ca/root\n  subject: CN=x\n",
     "unknown key 'subject' at line 13 in ca"},
    {subca_ok, "  certificate: issuing.crt", "  certificate: ../issuing.crt",
     "must be a plain file name"},
    {subca_ok, "  certificate: issuing.crt", "  certificate: record.pdf",
     "must be a plain file name"},
    {subca_ok, "    permit_dns: [example.com]", "    permit_dsn: [example.com]",
     "unknown key 'permit_dsn' at line 14 in certificate.name_constraints"},
    {subca_ok, "    permit_dns: [example.com]",
     "    permit_dns: [[example.com]]",
     "certificate.name_constraints.permit_dns[1] at line 14: must be a single "
     "value"},
    {subca_ok, "  subject: CN=Example Root R1\n", "", "ca.subject is missing"},
    {revoke_ok, "reason: cACompromise", "reason: certificateHold",
     "revoke.reason at line 7: 'certificateHold' is not a reason"},
    {key_ok, "type: key\n", "type: key\nquorum: {file: q, sha256: x}\n",
     "key 'quorum' at line 3 does not belong in a key ceremony file"},
    {crl_ok, "crl: {days: 200}", "crl: {days: 0}", "crl.days at line 5"},
    {crl_ok, "version: 1\n", "version: 1\n- x\n", "not valid YAML"},
    {crl_ok, "version: 1\ntype: crl\n", "- version\n", "not valid YAML"},
};

static void bad_files(void)
{
	struct ca_spec *s = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = edit(bad[i].base, bad[i].from, bad[i].to);

		if (text == NULL) {
			ok(0, "table entry %zu: '%s' is in its base file", i,
			   bad[i].from);
			continue;
		}
		rc = parse(text, &s);
		ok(rc == CA_EUSAGE && s == NULL &&
		       strstr(ca_errmsg(), bad[i].want) != NULL &&
		       strncmp(ca_errmsg(), "c.yaml: ", 8) == 0,
		   "refused: %s", bad[i].want);
		if (rc == CA_OK || strstr(ca_errmsg(), bad[i].want) == NULL)
			printf("#   got: %s\n",
			       rc == CA_OK ? "accepted" : ca_errmsg());
		ca_spec_free(s);
		s = NULL;
		free(text);
	}
	ok(parse("", &s) == CA_EUSAGE && strstr(ca_errmsg(), "is empty"),
	   "an empty file is refused");
	ok(parse("- a\n- b\n", &s) == CA_EUSAGE &&
	       strstr(ca_errmsg(), "must be a mapping"),
	   "a file that is a list is refused");
	ok(parse("a: *x\n", &s) == CA_EUSAGE, "an alias is refused");
}

static void environments(void)
{
	static const char good[] = "module: /usr/lib/softhsm/libsofthsm2.so\n"
				   "pin_source: file:/run/pin\n"
				   "approvers:\n"
				   "  alice: {key: /media/a/alice.key}\n"
				   "  bob:\n"
				   "    key: /media/b/bob.key\n"
				   "    pass_source: env:BOB_PASS\n";
	static const char fd_approver[] =
	    "approvers:\n  bob: {key: k, pass_source: fd:3}\n";
	struct ca_env *e = NULL;
	const struct ca_env_approver *a;

	ok(ca_env_parse((const unsigned char *)good, strlen(good), "e.yaml",
			&e) == CA_OK &&
	       e->n_approvers == 2 &&
	       strcmp(e->pin_source, "file:/run/pin") == 0,
	   "an environment file parses");
	a = ca_env_approver(e, "bob");
	ok(a != NULL && strcmp(a->pass_source, "env:BOB_PASS") == 0 &&
	       ca_env_approver(e, "carol") == NULL,
	   "approvers are found by id");
	ca_env_free(e);
	e = NULL;
	ok(ca_env_parse((const unsigned char *)"pin_source: prompt\n", 19,
			"e.yaml", &e) == CA_OK &&
	       e->pin_source == NULL,
	   "pin_source: prompt means the ceremony asks");
	ca_env_free(e);
	e = NULL;
	ok(ca_env_parse((const unsigned char *)"pin_source: 1234\n", 17,
			"e.yaml", &e) == CA_EUSAGE &&
	       strstr(ca_errmsg(), "pin_source at line 1") != NULL,
	   "a PIN itself is refused with its line");
	ok(ca_env_parse((const unsigned char *)"subject: CN=x\n", 14, "e.yaml",
			&e) == CA_EUSAGE &&
	       strstr(ca_errmsg(), "unknown key 'subject' at line 1") != NULL,
	   "ceremony content in an environment file is refused");
	ok(ca_env_parse((const unsigned char *)fd_approver, strlen(fd_approver),
			"e.yaml", &e) == CA_EUSAGE &&
	       strstr(ca_errmsg(), "line 2") != NULL,
	   "fd: for an approver is refused with its line");
}

int main(void)
{
	good_files();
	bad_files();
	environments();
	return tap_done();
}
