#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Printable ASCII; anything else as \xNN (and \ as \\, unless the text
 * is escaped already), newlines kept when asked, so what the operator reads
 * cannot hide bytes or drive the terminal. */
char *ca_text_clean(const unsigned char *s, size_t n, int newlines, int escaped)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(4 * n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '\\' && !escaped) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if ((c >= 0x20 && c < 0x7f) || (newlines && c == '\n')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 15];
		}
	}
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
