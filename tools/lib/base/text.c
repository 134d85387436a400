#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* One byte as the operator sees it: itself when printable ASCII (or a
 * kept newline), \\ for a backslash not escaped already, else \xNN.
 * Returns the characters written to out (1, 2 or 4). */
static size_t escape_one(unsigned char c, int newlines, int escaped,
			 char out[4])
{
	static const char digits[] = "0123456789abcdef";

	if (c == '\\' && !escaped) {
		out[0] = out[1] = '\\';
		return 2;
	}
	if ((c >= 0x20 && c < 0x7f) || (newlines && c == '\n')) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = digits[c >> 4];
	out[3] = digits[c & 15];
	return 4;
}

char *ca_text_clean(const unsigned char *s, size_t n, int newlines, int escaped)
{
	size_t i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(4 * n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		o += escape_one(s[i], newlines, escaped, out + o);
	out[o] = '\0';
	return out;
}

void ca_text_put(FILE *f, const char *s, int escaped)
{
	char *t;

	if (s == NULL)
		return;
	/* Messages of ours may span lines; text from outside does not. */
	t = ca_text_clean((const unsigned char *)s, strlen(s), escaped,
			  escaped);
	fputs(t != NULL ? t : "?", f);
	free(t);
}

const char *ca_text_show(const char *s, char *buf, size_t len)
{
	char e[4];
	size_t o = 0, n;

	for (; *s != '\0'; s++) {
		n = escape_one((unsigned char)*s, 0, 0, e);
		if (!ca_msg_append(buf, len, &o, e, n))
			break;
	}
	buf[o] = '\0';
	return buf;
}
