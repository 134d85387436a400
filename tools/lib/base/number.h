/* Strict numbers from the command line and input files. */
#ifndef HSMCA_BASE_NUMBER_H
#define HSMCA_BASE_NUMBER_H

#include "common/err.h"

/* Strict decimal within [min, max]; what names the value in errors. */
int ca_parse_long(const char *s, long min, long max, const char *what,
		  long *out) CA_WUR;

#endif
