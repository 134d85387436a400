/* Strict JSON, as quorum files, approval requests and approvals are read:
 * capped size, no key given twice, no unknown key; every refusal is
 * CA_EPOLICY. */
#ifndef HSMCA_BASE_JSON_H
#define HSMCA_BASE_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

/* At most CA_MAX_INPUT bytes of JSON with no key given twice; the error
 * reads "WHAT is not valid JSON (HINTline N: ...)". */
int ca_json_parse_strict(const unsigned char *data, size_t len,
			 const char *what, const char *hint,
			 json_t **root) CA_WUR;
/* The one "unknown key" check of every JSON file we read: the first key
 * of obj not in allowed (NULL-terminated), or NULL. */
const char *ca_json_unknown_key(json_t *obj, const char *const *allowed);
/* "WHAT: unknown key 'KEY'", the key escaped (base/text.h) and cut to
 * fit: CA_EUSAGE (exit 2) in every file we read, whoever writes it. */
int ca_json_key_refuse(const char *what, const char *key) CA_WUR;
/* Refuse the first unknown key of obj that way (CA_OK when none). */
int ca_json_keys_refuse(json_t *obj, const char *what,
			const char *const *allowed) CA_WUR;

/* What a value is, for messages: "a string", "a list", "an integer"... */
const char *ca_json_type_name(const json_t *v);

#endif
