/* Text shown to an operator. */
#ifndef HSMCA_BASE_TEXT_H
#define HSMCA_BASE_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Printable ASCII; anything else as \xNN (and \ as \\, unless the text
 * is escaped already), newlines kept when asked, so what the operator reads
 * cannot hide bytes or drive the terminal. malloc'd; NULL on no memory. */
char *ca_text_clean(const unsigned char *s, size_t n, int newlines,
		    int escaped);

/* Text from outside (a request's common name, a subject, a refusal that
 * quotes a CSR) written for a terminal through ca_text_clean: nothing but
 * printable ASCII reaches it. escaped: a message of ours (ca_errmsg()),
 * whose backslashes are escapes already and whose newlines are kept. */
void ca_text_put(FILE *f, const char *s, int escaped);
/* The same for a message, in a caller's buffer: outside text (a key or
 * name from a file) escaped and cut with "..." to fit len (>= 8). */
const char *ca_text_show(const char *s, char *buf, size_t len);

#endif
