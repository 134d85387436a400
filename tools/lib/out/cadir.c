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

#include "base/json.h"
#include "base/number.h"
#include "base/read.h"
#include "base/url.h"
#include "out/file.h"

char *ca_dir_file(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int ca_dir_store_where(const char *dir, const json_t *config, char **where)
{
	json_t *own = NULL;
	const char *url;

	if (config == NULL && ca_config_load(dir, &own) == CA_OK)
		config = own;
	ca_err_clear();
	url = json_string_value(json_object_get(config, "store"));
	*where = url != NULL ? strdup(url) : ca_dir_file(dir, "ca.db");
	json_decref(own);
	return *where != NULL ? CA_OK : ca_err(CA_EIO, "out of memory");
}

/* ca.json's schema: every key ca.json may hold, with the one type it may
 * have; anything else is refused, not ignored, so that a value of the
 * wrong type never silently drops an extension from what is signed. The
 * contents of "crl" and "profiles" are checked where they are read
 * (issue/ca.c checks them when the directory is opened). */
enum config_type {
	T_VERSION, /* the integer 1 */
	T_KIND,	   /* "root" or "subordinate" */
	T_URI,	   /* a pkcs11: URI */
	T_TEXT,	   /* a non-empty string */
	T_HEX64,   /* 64 lowercase hex digits (a SHA-256) */
	T_URLS,	   /* a list of absolute URLs */
	T_OIDS,	   /* a list of dotted OIDs */
	T_OBJECT,  /* a JSON object */
};

static const struct {
	const char *key;
	enum config_type type;
	int required;
} config_schema[] = {
    {"version", T_VERSION, 1},
    {"kind", T_KIND, 0},
    {"key", T_URI, 1},
    {"module", T_TEXT, 0},
    {"module_args", T_TEXT, 0},
    {"token_label", T_TEXT, 0},
    {"token_serial", T_TEXT, 0},
    {"spki_sha256", T_HEX64, 0},
    {"crl_urls", T_URLS, 0},
    {"aia_urls", T_URLS, 0},
    {"policies", T_OIDS, 0},
    {"crl", T_OBJECT, 0},
    {"profiles", T_OBJECT, 0},
    {"extension_allowlist", T_OIDS, 0},
    {"quorum_sha256", T_HEX64, 0},
    {"default_profile", T_TEXT, 0},
    {"signature_algorithm", T_TEXT, 0},
    {"ca_id", T_TEXT, 0},  /* the directory's id (token anchor) */
    {"anchor", T_TEXT, 0}, /* "token" or "none" (issue/ca.c) */
    {"store", T_TEXT, 0},  /* a PostgreSQL connection string (store.h) */
    {"store_password_source", T_TEXT, 0}, /* its password's (store.h) */
};

#define CONFIG_LIST_MAX 64 /* URLs, policies, allowed extensions */
#define CONFIG_TEXT_MAX 4096

static int text_ok(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t i, n = json_string_length(v);

	if (s == NULL || n == 0 || n > CONFIG_TEXT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int hex64_ok(const char *s)
{
	return s != NULL && strlen(s) == 64 &&
	       strspn(s, "0123456789abcdef") == 64;
}

/* One element of a T_URLS or T_OIDS list. */
static int list_item(const char *path, const char *key, size_t i,
		     const json_t *v, enum config_type type)
{
	char what[160];

	if (!json_is_string(v))
		return ca_err(CA_EUSAGE,
			      "%s: '%s' item %zu must be a string, "
			      "not %s",
			      path, key, i + 1, ca_json_type_name(v));
	if (type == T_OIDS) {
		if (!ca_oid_syntax_ok(json_string_value(v)))
			return ca_err(CA_EUSAGE,
				      "%s: '%s' item %zu '%.80s' is not a "
				      "dotted OID",
				      path, key, i + 1, json_string_value(v));
		return CA_OK;
	}
	snprintf(what, sizeof(what), "%s: '%s' item %zu", path, key, i + 1);
	return ca_url_check(json_string_value(v), what);
}

static int config_value(const char *path, const char *key, const json_t *v,
			enum config_type type)
{
	const char *want = NULL;
	size_t i;
	json_t *e;
	int rc;

	switch (type) {
	case T_VERSION:
		if (!json_is_integer(v) || json_integer_value(v) != 1)
			want = "the integer 1";
		break;
	case T_KIND:
		if (!json_is_string(v) ||
		    (strcmp(json_string_value(v), "root") != 0 &&
		     strcmp(json_string_value(v), "subordinate") != 0))
			want = "\"root\" or \"subordinate\"";
		break;
	case T_URI:
		if (!text_ok(v) ||
		    strncmp(json_string_value(v), "pkcs11:", 7) != 0)
			want = "a pkcs11: URI";
		break;
	case T_TEXT:
		if (!text_ok(v))
			want = "a non-empty string without control characters";
		break;
	case T_HEX64:
		if (!hex64_ok(json_string_value(v)))
			want = "64 lowercase hexadecimal digits";
		break;
	case T_URLS:
	case T_OIDS:
		if (!json_is_array(v)) {
			want = type == T_URLS ? "a list of URLs"
					      : "a list of dotted OIDs";
			break;
		}
		if (json_array_size(v) > CONFIG_LIST_MAX)
			return ca_err(CA_EUSAGE,
				      "%s: '%s' has more than %d entries", path,
				      key, CONFIG_LIST_MAX);
		json_array_foreach(v, i, e)
		{
			rc = list_item(path, key, i, e, type);
			if (rc < 0)
				return rc;
		}
		break;
	case T_OBJECT:
		if (!json_is_object(v))
			want = "an object";
		break;
	}
	if (want != NULL)
		return ca_err(CA_EUSAGE, "%s: '%s' must be %s, not %s", path,
			      key, want, ca_json_type_name(v));
	return CA_OK;
}

int ca_config_check(json_t *config, const char *path)
{
	const size_t n = sizeof(config_schema) / sizeof(config_schema[0]);
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	if (!json_is_object(config))
		return ca_err(CA_EUSAGE, "%s: not a JSON object", path);
	json_object_foreach(config, k, v)
	{
		for (i = 0; i < n; i++)
			if (strcmp(config_schema[i].key, k) == 0)
				break;
		if (i == n)
			return ca_json_key_refuse(path, k);
		rc = config_value(path, k, v, config_schema[i].type);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < n; i++)
		if (config_schema[i].required &&
		    json_object_get(config, config_schema[i].key) == NULL)
			return ca_err(CA_EUSAGE, "%s: '%s' is missing", path,
				      config_schema[i].key);
	return CA_OK;
}

/* A file or directory of the CA that someone else could change: not ours,
 * or writable by group or others. */
static int owned_safe(const char *path, int required)
{
	struct stat sb;
	uid_t me = geteuid();

	if (stat(path, &sb) != 0) {
		if (!required && errno == ENOENT)
			return CA_OK;
		return ca_err(CA_EUSAGE, "cannot read %s: %s", path,
			      strerror(errno));
	}
	if (sb.st_uid != me)
		return ca_err(CA_EPOLICY,
			      "%s is owned by uid %lu, not by you (uid %lu): "
			      "refusing to use a CA someone else can change; "
			      "run as its owner or 'chown %lu %s'",
			      path, (unsigned long)sb.st_uid, (unsigned long)me,
			      (unsigned long)me, path);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return ca_err(CA_EPOLICY,
			      "%s is writable by group or others (mode %04o): "
			      "refusing to use a CA someone else can change; "
			      "run 'chmod go-w %s'",
			      path, (unsigned)(sb.st_mode & 07777), path);
	return CA_OK;
}

int ca_dir_check_owner(const char *dir)
{
	static const char *const files[] = {
	    "ca.json",	 "ca.crt",    "chain.pem",   "ca.db",
	    "ca.db-wal", "ca.db-shm", "quorum.json", "ca.db-journal",
	};
	size_t i;
	int rc;

	rc = owned_safe(dir, 1);
	for (i = 0; rc == CA_OK && i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = ca_dir_file(dir, files[i]);

		if (p == NULL)
			return ca_err(CA_EIO, "out of memory");
		rc = owned_safe(p, 0);
		free(p);
	}
	return rc;
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
