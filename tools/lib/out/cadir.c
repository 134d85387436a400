#include "out/cadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/read.h"
#include "out/file.h"

char *ca_dir_file(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Keys ca.json may hold; anything else is refused, not ignored. */
static const char *const config_keys[] = {
    "version",
    "kind",
    "key",
    "module",
    "module_args",
    "token_label",
    "token_serial",
    "spki_sha256",
    "crl_urls",
    "aia_urls",
    "policies",
    "crl",
    "profiles",
    "extension_allowlist",
    "quorum_sha256",
    "default_profile",
    "signature_algorithm",
    NULL,
};

int ca_config_check(json_t *config, const char *path)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(config))
		return ca_err(CA_EUSAGE, "%s: not a JSON object", path);
	json_object_foreach(config, k, v)
	{
		for (i = 0; config_keys[i] != NULL; i++)
			if (strcmp(config_keys[i], k) == 0)
				break;
		if (config_keys[i] == NULL)
			return ca_err(CA_EUSAGE, "%s: unknown key '%s'", path,
				      k);
	}
	if (json_integer_value(json_object_get(config, "version")) != 1)
		return ca_err(CA_EUSAGE, "%s: unsupported version", path);
	if (!json_is_string(json_object_get(config, "key")))
		return ca_err(CA_EUSAGE,
			      "%s: 'key' (the token key URI) is missing", path);
	return CA_OK;
}

int ca_config_load(const char *dir, json_t **config)
{
	char *path = ca_dir_file(dir, "ca.json");
	unsigned char *data = NULL;
	json_error_t jerr;
	size_t len;
	int rc;

	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	*config =
	    json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*config == NULL) {
		rc = ca_err(CA_EUSAGE, "%s: line %d: %s", path, jerr.line,
			    jerr.text);
		goto out;
	}
	GUARD(ca_config_check(*config, path));
out:
	free(data);
	free(path);
	return rc;
}

int ca_config_write(const char *dir, json_t *config, char **text)
{
	char *path = ca_dir_file(dir, "ca.json");
	int rc;

	*text = NULL;
	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	*text = json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (*text == NULL) {
		rc = ca_err(CA_EIO, "cannot encode ca.json");
		goto out;
	}
	GUARD(ca_out_write(path, *text, strlen(*text), 1, 0644));
out:
	free(path);
	return rc;
}

int ca_stage_begin(const char *path, struct ca_stage *st)
{
	struct stat sb;
	size_t n;

	memset(st, 0, sizeof(*st));
	if (lstat(path, &sb) == 0)
		return ca_err(CA_EUSAGE,
			      "%s already exists: refusing to create a CA "
			      "there",
			      path);
	n = strlen(path) + 16;
	st->final = strdup(path);
	st->tmp = malloc(n);
	if (st->final == NULL || st->tmp == NULL) {
		ca_stage_discard(st);
		return ca_err(CA_EIO, "out of memory");
	}
	snprintf(st->tmp, n, "%s.new-XXXXXX", path);
	if (mkdtemp(st->tmp) == NULL) {
		int e = errno;

		free(st->tmp);
		st->tmp = NULL;
		ca_stage_discard(st);
		return ca_err(CA_EIO, "cannot create %s: %s", path,
			      strerror(e));
	}
	(void)chmod(st->tmp, 0700);
	return CA_OK;
}

int ca_stage_publish(struct ca_stage *st)
{
	struct stat sb;
	int fd;

	fd = open(st->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	/* rename(2) would replace an empty directory: check once more. */
	if (lstat(st->final, &sb) == 0)
		return ca_err(CA_EUSAGE,
			      "%s already exists: refusing to create a CA "
			      "there",
			      st->final);
	if (rename(st->tmp, st->final) != 0)
		return ca_err(CA_EIO, "cannot create %s: %s", st->final,
			      strerror(errno));
	free(st->tmp);
	st->tmp = NULL;
	return ca_fsync_dir(st->final);
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = ca_dir_file(dir, e->d_name);
		if (p != NULL)
			(void)unlink(p);
		free(p);
	}
	closedir(d);
	(void)rmdir(dir);
}

void ca_stage_discard(struct ca_stage *st)
{
	if (st->tmp != NULL)
		remove_tree(st->tmp);
	free(st->tmp);
	free(st->final);
	st->tmp = NULL;
	st->final = NULL;
}
