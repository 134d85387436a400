/* PIN and passphrase sourcing.
 *
 * Sources: "file:PATH" (refused unless a regular file owned by the caller
 * with no group/other permission bits), "fd:N", "env:NAME" (the variable is
 * wiped and unset after reading), or NULL for a no-echo prompt on the
 * controlling terminal. A PIN is never taken from argv. The buffer lives in
 * the caller's struct and is wiped by ca_pin_wipe() on every path.
 */
#ifndef HSMCA_COMMON_PIN_H
#define HSMCA_COMMON_PIN_H

#include <stddef.h>

#include "common/err.h"

#define CA_PIN_MAX 256

struct ca_pin {
	char value[CA_PIN_MAX + 1]; /* NUL-terminated */
	size_t len;
};

/* Validate the syntax of a source string without reading it. */
int ca_pin_source_check(const char *source) CA_WUR;
/* Read a PIN from source (NULL: prompt with prompt text on /dev/tty). */
int ca_pin_read(const char *source, const char *prompt,
		struct ca_pin *pin) CA_WUR;
void ca_pin_wipe(struct ca_pin *pin);

#endif
