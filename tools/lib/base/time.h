/* Times: RFC 3339 UTC text, and the current time. */
#ifndef HSMCA_BASE_TIME_H
#define HSMCA_BASE_TIME_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

/* RFC 3339 UTC ("2026-11-22T08:29:34Z") into out (>= 21 bytes). */
void ca_time_rfc3339(time_t t, char *out, size_t len);
int ca_parse_time(const char *s, time_t *out) CA_WUR; /* RFC 3339 / GeneralizedTime */
/* Current time. */
time_t ca_now(void);

#endif
