#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static _Thread_local char errbuf[1024];
static _Thread_local int errcode;

int ca_err(int code, const char *fmt, ...)
{
	char tmp[sizeof(errbuf)];
	va_list ap;

	/* Format aside first: the arguments may include ca_errmsg(). */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(errbuf, tmp, sizeof(errbuf));
	errcode = code;
	return code;
}

int ca_err_ctx(int code, const char *fmt, ...)
{
	char prefix[512];
	char old[sizeof(errbuf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	errcode = code;
	snprintf(errbuf, sizeof(errbuf), "%s", prefix);
	if (old[0] != '\0') {
		size_t n = strlen(errbuf);

		size_t m = strlen(old);

		if (n + 2 < sizeof(errbuf)) {
			errbuf[n++] = ':';
			errbuf[n++] = ' ';
			if (m > sizeof(errbuf) - n - 1)
				m = sizeof(errbuf) - n - 1;
			memcpy(errbuf + n, old, m);
			errbuf[n + m] = '\0';
		}
	}
	return code;
}

const char *ca_errmsg(void)
{
	return errbuf;
}

void ca_err_clear(void)
{
	errbuf[0] = '\0';
	errcode = CA_OK;
}

int ca_errcode(void)
{
	return errbuf[0] != '\0' && errcode < 0 ? errcode : CA_EIO;
}

int ca_exit_code(int rc)
{
	switch (rc) {
	case CA_OK:
		return 0;
	case CA_EUSAGE:
		return 2;
	case CA_EPOLICY:
		return 3;
	default:
		return 1;
	}
}

void ca_err_openssl(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (e == 0)
		return;
	reason = ERR_reason_error_string(e);
	if (reason != NULL)
		snprintf(buf, len, " (%s)", reason);
}

int ca_msg_append(char *buf, size_t len, size_t *o, const char *piece, size_t n)
{
	if (*o + n + 4 > len) {
		memcpy(buf + *o, "...", 3);
		*o += 3;
		return 0;
	}
	memcpy(buf + *o, piece, n);
	*o += n;
	return 1;
}
