/* progress.json: what a ceremony has done, written (temp file, fsync,
 * rename) at every change of a step's state, so that a run stopped by a
 * failure, a witness or a power cut is resumed where it was. A step is
 * marked "started" (and saved) before its first irreversible action. */
#include "ceremony/internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/read.h"
#include "base/time.h"
#include "out/cadir.h"
#include "out/file.h"

char *ca_out_path(const struct ca_cer *c, const char *fmt, ...)
{
	char name[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return ca_dir_file(c->out, name);
}

void ca_state_put(struct ca_cer *c, json_t *obj, const char *key, json_t *v)
{
	c->state_failed |= json_object_set_new(obj, key, v) != 0;
}

void ca_state_append(struct ca_cer *c, json_t *arr, json_t *v)
{
	c->state_failed |= json_array_append_new(arr, v) != 0;
}

json_t *ca_state_child(struct ca_cer *c, json_t *obj, const char *key,
		       json_t *(*make)(void))
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		v = make();
		ca_state_put(c, obj, key, v);
	}
	return v;
}

int ca_progress_save(struct ca_cer *c)
{
	char *path = ca_out_path(c, "progress.json");
	char *text = json_dumps(c->state, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (path == NULL || text == NULL || c->state_failed) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rc = ca_out_write(path, text, strlen(text), 1, 0600);
out:
	free(text);
	free(path);
	return rc;
}

int ca_progress_load(const char *out, json_t **state)
{
	unsigned char *data = NULL;
	json_error_t jerr;
	char path[4200];
	size_t len = 0;
	int rc;

	*state = NULL;
	snprintf(path, sizeof(path), "%s/progress.json", out);
	GUARD(ca_read_file(path, 16 * CA_MAX_INPUT, &data, &len));
	*state =
	    json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*state == NULL || !json_is_object(*state) ||
	    json_integer_value(json_object_get(*state, "version")) != 1) {
		json_decref(*state);
		*state = NULL;
		rc = ca_err(CA_EUSAGE,
			    "%s is not the progress record of a ceremony "
			    "(line %d: %s)",
			    path, jerr.line, jerr.text);
	}
out:
	free(data);
	return rc;
}

json_t *ca_progress_step(struct ca_cer *c, const char *name)
{
	json_t *steps = ca_state_child(c, c->state, "steps", json_object);
	json_t *st = json_object_get(steps, name);

	if (st == NULL) {
		st = json_pack("{s:s}", "state", "pending");
		ca_state_put(c, steps, name, st);
	}
	return st;
}

const char *ca_progress_step_state(struct ca_cer *c, const char *name)
{
	return json_string_value(
	    json_object_get(ca_progress_step(c, name), "state"));
}

int ca_progress_step_set(struct ca_cer *c, const char *name, const char *state)
{
	json_t *st = ca_progress_step(c, name);
	char now[32];

	ca_now_utc(now);
	ca_state_put(c, st, "state", json_string(state));
	if (strcmp(state, "started") == 0 &&
	    json_object_get(st, "started") == NULL)
		ca_state_put(c, st, "started", json_string(now));
	if (strcmp(state, "done") == 0)
		ca_state_put(c, st, "finished", json_string(now));
	return ca_progress_save(c);
}

static json_t *values(struct ca_cer *c)
{
	return ca_state_child(c, c->state, "values", json_object);
}

const char *ca_val(struct ca_cer *c, const char *key)
{
	return json_string_value(json_object_get(values(c), key));
}

void ca_val_set(struct ca_cer *c, const char *key, const char *v)
{
	if (v == NULL)
		json_object_del(values(c), key);
	else
		ca_state_put(c, values(c), key, json_string(v));
}

json_t *ca_op_state(struct ca_cer *c, enum ca_op op)
{
	json_t *ops = ca_state_child(c, c->state, "ops", json_object);

	return ca_state_child(c, ops, ca_op_name(op), json_object);
}

const char *ca_op_str(struct ca_cer *c, enum ca_op op, const char *key)
{
	return json_string_value(json_object_get(ca_op_state(c, op), key));
}

void ca_op_set(struct ca_cer *c, enum ca_op op, const char *key, json_t *v)
{
	if (v == NULL)
		json_object_del(ca_op_state(c, op), key);
	else
		ca_state_put(c, ca_op_state(c, op), key, v);
}
