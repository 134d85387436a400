#include "base/number.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int ca_parse_long(const char *s, long min, long max, const char *what, long *out)
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
