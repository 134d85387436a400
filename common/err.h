/* Error reporting shared by the tools, the tools library and the provider.
 *
 * Library functions return 0 on success or one of the negative CA_E* codes
 * below; the code maps to the tool's exit status (CA_EIO -> 1, CA_EUSAGE -> 2,
 * CA_EPOLICY -> 3). The human-readable reason is recorded with ca_err() in a
 * thread-local buffer and printed once, at tool level, with ca_errmsg().
 */
#ifndef HSMCA_COMMON_ERR_H
#define HSMCA_COMMON_ERR_H

#include <stddef.h>

#define CA_OK	   0
#define CA_EIO	   (-1) /* I/O, token, internal */
#define CA_EUSAGE  (-2) /* bad arguments or input syntax */
#define CA_EPOLICY (-3) /* refused by policy */
/* The token lost the session in the middle of a multi-part operation and
 * was recovered (new session, logged in again): nothing was signed, and
 * the caller may make the whole operation once more from its start. Exit
 * status 1 when it reaches a tool. */
#define CA_ERETRY (-4)

#define CA_WUR		__attribute__((warn_unused_result))
#define CA_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record a message for code and return code (so: return ca_err(...)). */
int ca_err(int code, const char *fmt, ...) CA_PRINTF(2, 3);
/* Prefix the current message with "what: " (context added by a caller). */
int ca_err_ctx(int code, const char *fmt, ...) CA_PRINTF(2, 3);
/* The last recorded message ("" when none). */
const char *ca_errmsg(void);
/* The code recorded with the last message (CA_EIO when none): lets a
 * caller keep the class of an error that crossed OpenSSL's API. */
int ca_errcode(void);
/* Forget the last message. */
void ca_err_clear(void);
/* Exit status for a library return code (0, 1, 2 or 3). */
int ca_exit_code(int rc);
/* For text quoted in a message: append piece (n bytes) at *o of buf (len
 * bytes, len >= 4), or "..." when piece and a later "..." would not fit
 * (then 0: stop appending); 1 when appended. The caller ends buf with a
 * NUL at *o. */
int ca_msg_append(char *buf, size_t len, size_t *o, const char *piece,
		  size_t n);
/* Append the innermost OpenSSL error reason, if any, to buf. */
void ca_err_openssl(char *buf, size_t len);

/* GUARD(expr): evaluate a library call, jump to out with rc set on failure. */
#define GUARD(expr)                                                            \
	do {                                                                   \
		rc = (expr);                                                   \
		if (rc < 0)                                                    \
			goto out;                                              \
	} while (0)

#endif
