/* libFuzzer target: dates from the command line and from files
 * (ca_parse_time: revoke --date, request "expires", the dates
 * two-person-approve show reads back), and the calendar arithmetic under
 * it. A parsed time prints (ca_time_rfc3339) as text that parses to the
 * same time. Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/time/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), text[64];
	time_t t, back;
	int y, m, d;

	if (s == NULL)
		return 0;
	if (ca_parse_time(s, &t) == CA_OK) {
		ca_time_civil_from_days(
		    (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400), &y, &m,
		    &d);
		if (m < 1 || m > 12 || d < 1 || d > ca_time_days_in_month(y, m))
			abort();
		ca_time_rfc3339(t, text, sizeof(text));
		if (ca_parse_time(text, &back) != CA_OK || back != t)
			abort();
	}
	free(s);
	ca_err_clear();
	return 0;
}
