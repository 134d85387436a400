/* Times: RFC 3339 UTC text, and the current time. */
#ifndef HSMCA_BASE_TIME_H
#define HSMCA_BASE_TIME_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

/* RFC 3339 UTC ("2026-11-22T08:29:34Z") into out (>= 21 bytes). */
void ca_time_rfc3339(time_t t, char *out, size_t len);
int ca_parse_time(const char *s,
		  time_t *out) CA_WUR; /* RFC 3339 / GeneralizedTime */
/* Current time. */
time_t ca_now(void);

/* Proleptic Gregorian calendar arithmetic (days since 1970-01-01), so
 * that a million dates need neither gmtime_r's lock nor printf. */
void ca_time_civil_from_days(long z, int *y, int *m, int *d);
long ca_time_days_from_civil(int y, int m, int d);
int ca_time_days_in_month(int y, int m); /* m: 1 to 12 */

#endif
