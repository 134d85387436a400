#include "ceremony/env.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/read.h"
#include "ceremony/yaml.h"
#include "common/pin.h"
#include "input/quorum.h"

#define MAX_APPROVERS 64

void ca_env_free(struct ca_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n_approvers; i++) {
		free(e->approvers[i].id);
		free(e->approvers[i].key);
		free(e->approvers[i].pass_source);
		free(e->approvers[i].pin_source);
		free(e->approvers[i].module);
	}
	free(e->approvers);
	free(e->name);
	free(e->module);
	free(e->module_init_args);
	free(e->pin_source);
	free(e->tools);
	free(e);
}

int ca_env_empty(struct ca_env **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL ||
	    ((*out)->name = strdup("(no environment file)")) == NULL) {
		ca_env_free(*out);
		*out = NULL;
		return ca_err(CA_EIO, "out of memory");
	}
	return CA_OK;
}

const struct ca_env_approver *ca_env_approver(const struct ca_env *e,
					      const char *id)
{
	size_t i;

	for (i = 0; e != NULL && i < e->n_approvers; i++) {
		if (strcmp(e->approvers[i].id, id) == 0)
			return &e->approvers[i];
	}
	return NULL;
}

/* A PIN or passphrase source: file:PATH, env:NAME, fd:N (the ceremony's
 * own token PIN only) or "prompt" (stored as NULL). */
static int source_value(const struct ca_yaml_doc *doc,
			const struct ca_yaml_node *map, const char *what,
			int fd_ok, char **out)
{
	char path[200];
	int rc;

	rc = ca_yaml_str(doc, map, what, "", 0, PATH_MAX, out);
	if (rc < 0 || *out == NULL)
		return rc;
	snprintf(path, sizeof(path), "%s", what);
	if (strcmp(*out, "prompt") == 0) {
		free(*out);
		*out = NULL;
		return CA_OK;
	}
	if (!fd_ok && strncmp(*out, "fd:", 3) == 0)
		return ca_yaml_refuse(doc, ca_yaml_line(map, what), path,
				      "fd:N is for the token PIN only: use "
				      "file:PATH, env:NAME or prompt");
	if (ca_pin_source_check(*out) < 0)
		return ca_yaml_refuse(doc, ca_yaml_line(map, what), path,
				      "%s (use file:PATH, env:NAME, fd:N or "
				      "prompt; never a PIN itself)",
				      ca_errmsg());
	return CA_OK;
}

static int approver(const struct ca_yaml_doc *doc, const char *id,
		    const struct ca_yaml_node *m, struct ca_env_approver *a)
{
	static const char *const keys[] = {"key", "pass_source", "pin_source",
					   "module", NULL};
	char what[100];
	int rc;

	snprintf(what, sizeof(what), "approvers.%s", id);
	if (m->kind != CA_YAML_MAP)
		return ca_yaml_refuse(doc, m->line, what,
				      "must be a mapping (key: ...)");
	a->id = strdup(id);
	if (a->id == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_yaml_keys_allowed(doc, m, what, keys));
	GUARD(ca_yaml_str(doc, m, "key", what, 1, PATH_MAX, &a->key));
	GUARD(source_value(doc, m, "pass_source", 0, &a->pass_source));
	GUARD(source_value(doc, m, "pin_source", 0, &a->pin_source));
	GUARD(ca_yaml_str(doc, m, "module", what, 0, PATH_MAX, &a->module));
	if (a->pass_source != NULL && a->pin_source != NULL)
		rc = ca_yaml_refuse(doc, m->line, what,
				    "give pass_source (key file) or "
				    "pin_source (token), not both");
out:
	return rc;
}

static int approvers(const struct ca_yaml_doc *doc, struct ca_env *e)
{
	const struct ca_yaml_node *m;
	size_t i;
	int rc;

	GUARD(ca_yaml_map(doc, doc->root, "approvers", "", 0, &m));
	if (m == NULL)
		goto out;
	if (m->n / 2 > MAX_APPROVERS) {
		rc = ca_yaml_refuse(doc, m->line, "approvers",
				    "more than %d approvers", MAX_APPROVERS);
		goto out;
	}
	e->approvers = calloc(m->n / 2 + 1, sizeof(*e->approvers));
	if (e->approvers == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i + 1 < m->n; i += 2) {
		const char *id = m->items[i]->text;

		if (!ca_quorum_id_ok(id)) {
			rc = ca_yaml_refuse(doc, m->items[i]->line, "approvers",
					    "'%s' is not an approver id", id);
			goto out;
		}
		e->n_approvers++;
		GUARD(approver(doc, id, m->items[i + 1],
			       &e->approvers[e->n_approvers - 1]));
	}
out:
	return rc;
}

int ca_env_parse(const unsigned char *data, size_t len, const char *name,
		 struct ca_env **out)
{
	static const char *const keys[] = {"module",	 "module_init_args",
					   "pin_source", "tools",
					   "approvers",	 NULL};
	struct ca_yaml_doc *doc = NULL;
	struct ca_env *e = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_env_empty(&e));
	free(e->name);
	e->name = strdup(name);
	if (e->name == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_yaml_parse(data, len, name, &doc));
	GUARD(ca_yaml_keys_allowed(doc, doc->root, "", keys));
	GUARD(
	    ca_yaml_str(doc, doc->root, "module", "", 0, PATH_MAX, &e->module));
	GUARD(ca_yaml_str(doc, doc->root, "module_init_args", "", 0, 4096,
			  &e->module_init_args));
	GUARD(source_value(doc, doc->root, "pin_source", 1, &e->pin_source));
	GUARD(ca_yaml_str(doc, doc->root, "tools", "", 0, PATH_MAX, &e->tools));
	GUARD(approvers(doc, e));
	*out = e;
	e = NULL;
out:
	ca_yaml_free(doc);
	ca_env_free(e);
	return rc;
}

/* ca_env_parse for ca_read_parse. */
static int parse_file(const unsigned char *data, size_t len, const char *path,
		      void *out)
{
	return ca_env_parse(data, len, path, out);
}

int ca_env_load(const char *path, struct ca_env **out)
{
	*out = NULL;
	return ca_read_parse(path, parse_file, out);
}
