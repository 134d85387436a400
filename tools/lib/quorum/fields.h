/* Field rules shared by approval request and approval files (used inside
 * quorum/). Every refusal is CA_EPOLICY naming the file (what) and the
 * key. */
#ifndef HSMCA_QUORUM_FIELDS_H
#define HSMCA_QUORUM_FIELDS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"

/* 1 when s is exactly 64 lowercase hex digits. */
int ca_fields_is_hex64(const char *s);
/* Lowercase copy of a 64-digit hex string; 0 when it is not one. */
int ca_fields_hex64_lower(const char *in, char out[65]);
/* Printed to the operator: at most max bytes, no control characters. */
int ca_fields_text_ok(const char *s, size_t max);
/* RFC 3339 UTC exactly as ca_time_rfc3339 writes it. */
int ca_fields_time_strict(const char *s, time_t *t);
/* A string member; error names the member. */
int ca_fields_get_str(json_t *obj, const char *key, const char *what,
		      const char **out) CA_WUR;
/* A member of 64 lowercase hex digits. */
int ca_fields_get_hex64(json_t *obj, const char *key, const char *what,
			char out[65]) CA_WUR;

#endif
