/* TAP output for the unit tests: one "ok N - ..." or "not ok N - ..." line
 * a test (a failure followed by the library's last error), the plan last. */
#ifndef HSMCA_TAP_H
#define HSMCA_TAP_H

#include <stdarg.h>
#include <stdio.h>

#include "common/err.h"

static int tap_run, tap_failed;

static inline void ok(int cond, const char *fmt, ...) CA_PRINTF(2, 3);

static inline void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   last error: %s\n", ca_errmsg());
}

/* n tests that could not run (what they needed failed): counted as failed
 * without a line each, so the plan does not match and the run fails. */
static inline void tap_missed(int n)
{
	tap_run += n;
	tap_failed += n;
}

/* Print the plan; the exit status: 1 when any test failed. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_run);
	return tap_failed != 0;
}

#endif
