#include "base/time.h"

#include <stdio.h>
#include <string.h>

void ca_time_rfc3339(time_t t, char *out, size_t len)
{
	struct tm tm;

	/* RFC 3339 5.6: a four-digit year, which strftime's %Y does not pad
	 * to (year 999 would print as "999-..."), so that every time
	 * ca_parse_time takes prints as text it reads back. */
	gmtime_r(&t, &tm);
	snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
		 (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The value of n decimal digits at s (checked to be digits already). */
static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Exactly "YYYY-MM-DDTHH:MM:SSZ", "YYYYMMDDHHMMSSZ" or "YYYY-MM-DD", naming
 * a date and time that exist: strptime and timegm would take "2026-2-30"
 * and move it to March. */
int ca_parse_time(const char *s, time_t *out)
{
	/* field offsets: year, month, day, hour, minute, second */
	static const struct {
		const char *shape; /* 'd': a digit; anything else: itself */
		int at[6];
	} forms[] = {
	    {"dddd-dd-ddTdd:dd:ddZ", {0, 5, 8, 11, 14, 17}},
	    {"ddddddddddddddZ", {0, 4, 6, 8, 10, 12}},
	    {"dddd-dd-dd", {0, 5, 8, -1, -1, -1}},
	};
	size_t f, i, n = strlen(s);
	int v[6], k;

	for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		const char *shape = forms[f].shape;

		if (n != strlen(shape))
			continue;
		for (i = 0; i < n; i++)
			if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9'
					    : s[i] != shape[i])
				break;
		if (i < n)
			continue;
		for (k = 0; k < 6; k++)
			v[k] = forms[f].at[k] < 0
				   ? 0
				   : digits(s + forms[f].at[k], k == 0 ? 4 : 2);
		if (v[1] < 1 || v[1] > 12 || v[2] < 1 ||
		    v[2] > ca_time_days_in_month(v[0], v[1]) || v[3] > 23 ||
		    v[4] > 59 || v[5] > 59)
			break;
		*out =
		    (time_t)ca_time_days_from_civil(v[0], v[1], v[2]) * 86400 +
		    v[3] * 3600 + v[4] * 60 + v[5];
		return CA_OK;
	}
	return ca_err(CA_EUSAGE,
		      "bad time '%s': use YYYY-MM-DDTHH:MM:SSZ (UTC)", s);
}

time_t ca_now(void)
{
	return time(NULL);
}

void ca_time_civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

long ca_time_days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int ca_time_days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30,
				 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}
