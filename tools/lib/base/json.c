#include "base/json.h"

#include <string.h>

#include "base/read.h"
#include "base/text.h"

int ca_json_parse_strict(const unsigned char *data, size_t len,
			 const char *what, const char *hint, json_t **root)
{
	json_error_t jerr;

	*root = NULL;
	if (len > CA_MAX_INPUT)
		return ca_err(CA_EPOLICY, "%s is larger than %d bytes", what,
			      CA_MAX_INPUT);
	*root =
	    json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*root == NULL)
		return ca_err(CA_EPOLICY,
			      "%s is not valid JSON (%sline %d: %s)", what,
			      hint, jerr.line, jerr.text);
	return CA_OK;
}

const char *ca_json_unknown_key(json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	int i;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return key;
	}
	return NULL;
}

int ca_json_key_refuse(const char *what, const char *key)
{
	char shown[72];

	return ca_err(CA_EUSAGE, "%s: unknown key '%s'", what,
		      ca_text_show(key, shown, sizeof(shown)));
}

/* Each key at most once: ca_json_parse_strict refuses duplicates. */
int ca_json_keys_refuse(json_t *obj, const char *what,
			const char *const *allowed)
{
	const char *key = ca_json_unknown_key(obj, allowed);

	return key == NULL ? CA_OK : ca_json_key_refuse(what, key);
}

const char *ca_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}
