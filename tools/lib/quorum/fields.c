#include "quorum/fields.h"

#include <string.h>

#include "base/time.h"

int ca_fields_is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Lowercase copy of a 64-digit hex string; 0 when it is not one. */
int ca_fields_hex64_lower(const char *in, char out[65])
{
	size_t i;

	if (in == NULL || strlen(in) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'F') ? (char)(in[i] + 32) : in[i];
	out[64] = '\0';
	return ca_fields_is_hex64(out);
}

/* Printed to the operator: no control characters. */
int ca_fields_text_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* RFC 3339 UTC exactly as ca_time_rfc3339 writes it. */
int ca_fields_time_strict(const char *s, time_t *t)
{
	char back[32];

	if (strlen(s) != 20 || ca_parse_time(s, t) < 0)
		return 0;
	ca_time_rfc3339(*t, back, sizeof(back));
	return strcmp(back, s) == 0;
}

/* A string member; error names the member. */
int ca_fields_get_str(json_t *obj, const char *key, const char *what,
		      const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return ca_err(CA_EPOLICY,
			      "%s: \"%s\" is missing or not a string", what,
			      key);
	*out = json_string_value(v);
	return CA_OK;
}

int ca_fields_get_hex64(json_t *obj, const char *key, const char *what,
			char out[65])
{
	const char *s = NULL;
	int rc;

	GUARD(ca_fields_get_str(obj, key, what, &s));
	if (!ca_fields_is_hex64(s)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"%s\" must be 64 lowercase hex digits", what,
			    key);
		goto out;
	}
	memcpy(out, s, 65);
out:
	return rc;
}
