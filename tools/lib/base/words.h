/* Digests as words to read aloud (the PGP word list). */
#ifndef HSMCA_BASE_WORDS_H
#define HSMCA_BASE_WORDS_H

#include <stddef.h>

/* digest as words: even bytes from the two-syllable list, odd bytes from
 * the three-syllable list, separated by spaces; out holds outlen bytes. */
void ca_words(const unsigned char *digest, size_t len, char *out,
	      size_t outlen);

#endif
