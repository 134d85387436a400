#include "base/time.h"

#include <string.h>

void ca_time_rfc3339(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ca_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y%m%d%H%M%SZ", &tm);
	}
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0')
		return ca_err(CA_EUSAGE,
			      "bad time '%s': use YYYY-MM-DDTHH:MM:SSZ (UTC)", s);
	*out = timegm(&tm);
	return CA_OK;
}

time_t ca_now(void)
{
	return time(NULL);
}
