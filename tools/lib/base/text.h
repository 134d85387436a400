/* Text shown to an operator. */
#ifndef HSMCA_BASE_TEXT_H
#define HSMCA_BASE_TEXT_H

#include <stddef.h>

/* Printable ASCII; anything else as \xNN (and \ as \\, unless the text
 * is escaped already), newlines kept when asked, so what the operator reads
 * cannot hide bytes or drive the terminal. malloc'd; NULL on no memory. */
char *ca_text_clean(const unsigned char *s, size_t n, int newlines,
		    int escaped);

#endif
