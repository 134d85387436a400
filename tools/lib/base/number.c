#include "base/number.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ca_parse_long(const char *s, long min, long max, const char *what,
		  long *out)
{
	char *end;
	long v;

	errno = 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return ca_err(CA_EUSAGE, "%s: '%s' is not a number", what,
			      s ? s : "");
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return ca_err(CA_EUSAGE, "%s: '%s' is not a number", what, s);
	if (v < min || v > max)
		return ca_err(CA_EUSAGE, "%s: %ld is out of range (%ld to %ld)",
			      what, v, min, max);
	*out = v;
	return CA_OK;
}

int ca_oid_syntax_ok(const char *s)
{
	size_t arcs = 0;
	unsigned long first = 0;

	if (s == NULL || strlen(s) > CA_OID_MAX)
		return 0;
	for (;;) {
		const char *start = s;
		unsigned long val = 0;

		while (*s >= '0' && *s <= '9') {
			if (val < 100000)
				val = val * 10 + (unsigned long)(*s - '0');
			s++;
		}
		if (s == start || (*start == '0' && s - start > 1))
			return 0;
		if (arcs == 0 && val > 2)
			return 0;
		if (arcs == 0)
			first = val;
		if (arcs == 1 && first < 2 && val >= 40)
			return 0;
		arcs++;
		if (*s == '\0')
			break;
		if (*s != '.')
			return 0;
		s++;
	}
	return arcs >= 2;
}
