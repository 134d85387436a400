/* Environment files: what differs between the rehearsal and the ceremony
 * and is nobody's to approve: the PKCS#11 module and its initialisation
 * arguments, where the token PIN comes from, where the hsmca tools are,
 * and how the approvers present at the workstation sign (their key files
 * or token URIs and passphrase sources). Never a PIN.
 *
 *   module: /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
 *   module_init_args: "configdir='sql:/etc/pki/nssdb'"
 *   pin_source: file:/run/ceremony/root.pin     # env:NAME, fd:N, prompt
 *   tools: /usr/local/bin
 *   approvers:
 *     alice: { key: /media/alice/alice.key }
 *     carol: { key: "pkcs11:token=Carol;object=carol-approval",
 *              pin_source: prompt }
 */
#ifndef HSMCA_CEREMONY_ENV_H
#define HSMCA_CEREMONY_ENV_H

#include <stddef.h>

#include "common/err.h"

struct ca_env_approver {
	char *id;
	char *key;	   /* PEM file or pkcs11: URI */
	char *pass_source; /* key file passphrase (NULL: prompt if encrypted) */
	char *pin_source;  /* token PIN of a pkcs11: key (NULL: prompt) */
	char *module;	   /* module of that token (NULL: the default rule) */
};

struct ca_env {
	char *name;
	char *module;		/* NULL: the tools' own rule */
	char *module_init_args; /* NULL: none */
	char *pin_source;	/* NULL: the ceremony prompts once */
	char *tools;		/* NULL: next to hsmca-ceremony */
	struct ca_env_approver *approvers;
	size_t n_approvers;
};

int ca_env_parse(const unsigned char *data, size_t len, const char *name,
		 struct ca_env **out) CA_WUR;
int ca_env_load(const char *path, struct ca_env **out) CA_WUR;
/* An empty environment (no file given). */
int ca_env_empty(struct ca_env **out) CA_WUR;
void ca_env_free(struct ca_env *e);
const struct ca_env_approver *ca_env_approver(const struct ca_env *e,
					      const char *id);

#endif
