/* Unit tests (TAP) for tools/lib/base: hex, base64, strict JSON, text
 * escaping, strict numbers, times, PGP words, capped reads, SHA-256 and
 * process hardening. Vectors come from the RFCs and the published word
 * list, not from the code under test. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/number.h"
#include "base/process.h"
#include "base/read.h"
#include "base/sha256.h"
#include "base/text.h"
#include "base/time.h"
#include "base/words.h"
#include "fixture.h"
#include "tap.h"

/* ---------------------------------------------------------------------- */
/* hex                                                                     */

static void test_hex(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *bytes; /* expected bytes, as a C string */
		size_t len;
		const char *msg;
	} cases[] = {
	    {"01abff", CA_OK, "\x01\xab\xff", 3, NULL},
	    {"01:AB:fF", CA_OK, "\x01\xab\xff", 3, NULL},
	    {"", CA_OK, "", 0, NULL},
	    {":::", CA_OK, "", 0, NULL},
	    {"0", CA_EUSAGE, NULL, 0, "odd number of hex digits"},
	    {"0g", CA_EUSAGE, NULL, 0, "'g' is not a hex digit"},
	    {"-1", CA_EUSAGE, NULL, 0, "'-' is not a hex digit"},
	    {"0 1", CA_EUSAGE, NULL, 0, "' ' is not a hex digit"},
	    {"0102030405", CA_EUSAGE, NULL, 0, "longer than 4 bytes"},
	    {"01020304", CA_OK, "\x01\x02\x03\x04", 4, NULL},
	};
	unsigned char all[256], back[256];
	char text[513];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char out[5] = {0, 0, 0, 0, 0xee};

		ca_err_clear();
		len = 99;
		rc = ca_unhex(cases[i].in, out, 4, &len);
		ok(rc == cases[i].rc &&
		       (rc != CA_OK ||
			(len == cases[i].len &&
			 memcmp(out, cases[i].bytes, len) == 0)) &&
		       fx_err(cases[i].msg) && out[4] == 0xee,
		   "unhex '%s': %s", cases[i].in,
		   rc == CA_OK ? "decodes" : "refused");
	}
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	ca_hex(all, 256, text);
	ok(strlen(text) == 512 && strncmp(text, "000102", 6) == 0 &&
	       strcmp(text + 506, "fdfeff") == 0,
	   "hex of 0..255 is lowercase, two digits a byte");
	ok(ca_unhex(text, back, sizeof(back), &len) == CA_OK && len == 256 &&
	       memcmp(all, back, 256) == 0,
	   "hex of every byte value decodes back");
	text[0] = 'x';
	ca_hex(all, 0, text);
	ok(text[0] == '\0', "hex of nothing is the empty string");
}

/* ---------------------------------------------------------------------- */
/* base64                                                                  */

static void test_base64(void)
{
	/* RFC 4648 section 10 */
	static const char *const vec[][2] = {
	    {"f", "Zg=="},	  {"fo", "Zm8="},	 {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "empty"},
	    {"Zg", "unpadded"},
	    {"Zg=", "length not a multiple of 4"},
	    {"Zm9v\n", "a newline"},
	    {"Zm9 v", "a space inside"},
	    {"Zh==", "non-zero unused bits (one byte)"},
	    {"Zm9=", "non-zero unused bits (two bytes)"},
	    {"Z===", "three padding characters"},
	    {"====", "only padding"},
	    {"Zg==Zm8=", "padding in the middle"},
	    {"Zm9-", "URL-safe alphabet"},
	    {"Zm9_", "URL-safe alphabet (underscore)"},
	    {"Zm9v\x80\x80\x80\x80", "bytes above 0x7f"},
	};
	unsigned char all[256], *out = NULL;
	size_t i, len;
	char *enc;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		enc = ca_base64_encode((const unsigned char *)vec[i][0],
				       strlen(vec[i][0]));
		ok(fx_streq(enc, vec[i][1]), "base64 of '%s' is %s", vec[i][0],
		   vec[i][1]);
		free(enc);
		ok(ca_base64_decode(vec[i][1], &out, &len) == CA_OK &&
		       len == strlen(vec[i][0]) &&
		       memcmp(out, vec[i][0], len) == 0,
		   "%s decodes to '%s'", vec[i][1], vec[i][0]);
		free(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (unsigned char *)"x";
		len = 7;
		ok(ca_base64_decode(bad[i].in, &out, &len) == CA_EUSAGE &&
		       out == NULL && len == 0,
		   "strict base64 refuses %s", bad[i].why);
	}
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	enc = ca_base64_encode(all, sizeof(all));
	ok(enc != NULL && strlen(enc) == 344 &&
	       ca_base64_decode(enc, &out, &len) == CA_OK && len == 256 &&
	       memcmp(out, all, 256) == 0,
	   "256 bytes round-trip through base64");
	free(enc);
	free(out);
	enc = ca_base64_encode(all, 0);
	ok(fx_streq(enc, ""), "base64 of nothing is the empty string");
	free(enc);
	ok(ca_base64_encode(all, (size_t)INT_MAX) == NULL,
	   "base64 refuses to encode more than INT_MAX/2 bytes");
}

/* ---------------------------------------------------------------------- */
/* strict JSON                                                             */

static int parse_json(const char *text, size_t len, json_t **root)
{
	ca_err_clear();
	return ca_json_parse_strict((const unsigned char *)text, len,
				    "quorum.json", "hint: ", root);
}

static void test_json(void)
{
	static const struct {
		const char *text, *msg, *what;
	} cases[] = {
	    {"{\"a\": 1, \"b\": [true]}", NULL, "an object parses"},
	    {"[1, 2]", NULL, "an array parses"},
	    {"{\"a\": 1, \"a\": 2}", "duplicate object key",
	     "a key given twice is refused"},
	    {"{\"a\": {\"b\": 1, \"b\": 1}}", "duplicate object key",
	     "a key given twice in a nested object is refused"},
	    {"{\"a\": 1,}", "quorum.json is not valid JSON (hint: line 1:",
	     "a trailing comma is refused, naming file and line"},
	    {"{\n\n\"a\" 1}", "line 3", "the error names the line"},
	    {"{} {}", "not valid JSON", "trailing data is refused"},
	    {"3", "not valid JSON", "a bare number is refused"},
	    {"", "not valid JSON", "empty input is refused"},
	};
	static const char *const allowed[] = {"version", "threshold", NULL};
	static const char *const none[] = {NULL};
	char *big, longkey[200];
	json_t *root = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = parse_json(cases[i].text, strlen(cases[i].text), &root);
		ok(cases[i].msg == NULL ? rc == CA_OK && root != NULL
					: rc == CA_EPOLICY && root == NULL &&
					      fx_err(cases[i].msg),
		   "%s", cases[i].what);
		json_decref(root);
	}
	big = malloc(CA_MAX_INPUT + 2);
	if (big != NULL) {
		/* "{   ...   }" of CA_MAX_INPUT bytes, then one more space */
		memset(big, ' ', CA_MAX_INPUT + 1);
		big[0] = '{';
		big[CA_MAX_INPUT - 1] = '}';
		ok(parse_json(big, CA_MAX_INPUT + 1, &root) == CA_EPOLICY &&
		       root == NULL && fx_err("larger than 1048576 bytes"),
		   "JSON over CA_MAX_INPUT is refused before parsing");
		ok(parse_json(big, CA_MAX_INPUT, &root) == CA_OK &&
		       root != NULL,
		   "JSON of exactly CA_MAX_INPUT bytes parses");
		json_decref(root);
		free(big);
	} else {
		tap_missed(2);
	}

	root = json_pack("{s:i, s:i}", "version", 1, "threshold", 2);
	ok(ca_json_keys_refuse(root, "quorum.json", allowed) == CA_OK,
	   "only allowed keys: accepted");
	json_object_set_new(root, "approver", json_true());
	ca_err_clear();
	ok(ca_json_keys_refuse(root, "quorum.json", allowed) == CA_EUSAGE &&
	       fx_err("quorum.json: unknown key 'approver'"),
	   "an unknown key is refused and named in quotes");
	json_decref(root);
	root = json_object();
	ok(ca_json_keys_refuse(root, "x", none) == CA_OK,
	   "an empty object passes an empty allowlist");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	json_object_set_new(root, longkey, json_null());
	ca_err_clear();
	rc = ca_json_keys_refuse(root, "x", allowed);
	ok(rc == CA_EUSAGE && strlen(ca_errmsg()) < 100 &&
	       fx_err(": unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		      "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...'"),
	   "a long unknown key is quoted, cut with ...");
	json_decref(root);
}

/* ---------------------------------------------------------------------- */
/* text escaping                                                           */

/* ca_text_show: escaped and cut with "..." (ca_msg_append) to fit. */
static void test_text_show(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out, *what;
	} cases[] = {
	    {"abc", 8, "abc", "short text kept"},
	    {"abcdefghijklmnop", 8, "abcd...", "long text cut to fit with ..."},
	    {"abc\ndef", 10, "abc...",
	     "an escape that would not fit is cut whole"},
	    {"abc\ndef", 16, "abc\\x0adef", "an escape that fits is kept"},
	    {"", 8, "", "empty text"},
	};
	char buf[16];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(fx_streq(ca_text_show(cases[i].in, buf, cases[i].len),
			    cases[i].out) &&
		       strlen(buf) < cases[i].len,
		   "text_show: %s", cases[i].what);
}

static void test_text(void)
{
	static const struct {
		const char *in;
		size_t n;
		int newlines, escaped;
		const char *out, *what;
	} cases[] = {
	    {"plain text ~!", 13, 0, 0, "plain text ~!",
	     "printable ASCII kept"},
	    {"a\nb", 3, 0, 0, "a\\x0ab", "newline escaped by default"},
	    {"a\nb", 3, 1, 0, "a\nb", "newline kept when asked"},
	    {"\x1b[31mred", 8, 1, 0, "\\x1b[31mred",
	     "terminal escape sequence defused"},
	    {"a\\b", 3, 0, 0, "a\\\\b", "backslash doubled"},
	    {"a\\x41", 5, 0, 1, "a\\x41",
	     "backslash kept in text escaped already"},
	    {"tab\there\r", 9, 1, 0, "tab\\x09here\\x0d",
	     "tab and carriage return escaped"},
	    {"nul\0after", 9, 0, 0, "nul\\x00after",
	     "NUL escaped, text after it kept"},
	    {"\x7f\x80\xff", 3, 0, 0, "\\x7f\\x80\\xff",
	     "DEL and high bytes escaped"},
	    {"caf\xc3\xa9", 5, 0, 0, "caf\\xc3\\xa9",
	     "UTF-8 shown byte by byte"},
	    {"", 0, 0, 0, "", "empty text"},
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = ca_text_clean((const unsigned char *)cases[i].in,
				  cases[i].n, cases[i].newlines,
				  cases[i].escaped);
		ok(fx_streq(s, cases[i].out), "text: %s", cases[i].what);
		free(s);
	}
	ok(ca_text_clean((const unsigned char *)"x", SIZE_MAX / 2, 0, 0) ==
	       NULL,
	   "a length whose escaped form overflows is refused");
	test_text_show();
}

/* ---------------------------------------------------------------------- */
/* numbers                                                                 */

static void test_number(void)
{
	static const struct {
		const char *in;
		long min, max;
		int rc;
		long want;
		const char *msg;
	} cases[] = {
	    {"42", 1, 100, CA_OK, 42, NULL},
	    {"1", 1, 100, CA_OK, 1, NULL},
	    {"100", 1, 100, CA_OK, 100, NULL},
	    {"-5", -10, 10, CA_OK, -5, NULL},
	    {"0", 1, 100, CA_EUSAGE, 0, "--days: 0 is out of range (1 to 100)"},
	    {"101", 1, 100, CA_EUSAGE, 0, "101 is out of range"},
	    {"", 1, 100, CA_EUSAGE, 0, "--days: '' is not a number"},
	    {" 5", 1, 100, CA_EUSAGE, 0, "' 5' is not a number"},
	    {"5 ", 1, 100, CA_EUSAGE, 0, "'5 ' is not a number"},
	    {"12abc", 1, 100, CA_EUSAGE, 0, "'12abc' is not a number"},
	    {"0x10", 0, 100, CA_EUSAGE, 0, "not a number"},
	    {"1e3", 0, 10000, CA_EUSAGE, 0, "not a number"},
	    {"3.0", 0, 100, CA_EUSAGE, 0, "not a number"},
	    {"99999999999999999999", 0, LONG_MAX, CA_EUSAGE, 0, "not a number"},
	    {"9223372036854775807", 0, LONG_MAX, CA_OK, LONG_MAX, NULL},
	    {"-9223372036854775808", LONG_MIN, 0, CA_OK, LONG_MIN, NULL},
	};
	size_t i;
	long v;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		v = -77;
		rc = ca_parse_long(cases[i].in, cases[i].min, cases[i].max,
				   "--days", &v);
		ok(rc == cases[i].rc &&
		       v == (rc == CA_OK ? cases[i].want : -77) &&
		       fx_err(cases[i].msg),
		   "number '%s' in [%ld, %ld]: %s", cases[i].in, cases[i].min,
		   cases[i].max, rc == CA_OK ? "accepted" : "refused");
	}
	ca_err_clear();
	v = -77;
	ok(ca_parse_long(NULL, 0, 10, "--pathlen", &v) == CA_EUSAGE &&
	       v == -77 && fx_err("--pathlen: '' is not a number"),
	   "a missing number is refused");
}

static void test_oid(void)
{
	static const struct {
		const char *in;
		int ok;
	} cases[] = {
	    {"1.3.6.1.5.5.7.3.1", 1},
	    {"2.5.29.37.0", 1},
	    {"2.999.1", 1},
	    {"0.39", 1},
	    {"1.2", 1},
	    {"1", 0},
	    {"", 0},
	    {"1..3", 0},
	    {"1.3.", 0},
	    {".1.3", 0},
	    {"1.03.4", 0},
	    {"01.3", 0},
	    {"3.1", 0},
	    {"1.40", 0},
	    {"1.3.a", 0},
	    {"1.3 ", 0},
	    {"-1.3", 0},
	};
	char long_oid[140];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(ca_oid_syntax_ok(cases[i].in) == cases[i].ok, "OID '%s': %s",
		   cases[i].in, cases[i].ok ? "accepted" : "refused");
	memset(long_oid, 0, sizeof(long_oid));
	memcpy(long_oid, "1.20", 4);
	for (i = 4; i + 2 <= CA_OID_MAX; i += 2)
		memcpy(long_oid + i, ".5", 2);
	ok(strlen(long_oid) == CA_OID_MAX && ca_oid_syntax_ok(long_oid) == 1,
	   "an OID of CA_OID_MAX characters is accepted");
	memcpy(long_oid + i, ".5", 2);
	ok(ca_oid_syntax_ok(long_oid) == 0, "a longer OID is refused");
	ok(ca_oid_syntax_ok(NULL) == 0, "no OID is refused");
}

/* ---------------------------------------------------------------------- */
/* times                                                                   */

static void test_time(void)
{
	static const struct {
		const char *in;
		int rc;
		time_t want;
	} cases[] = {
	    {"2026-11-22T08:29:34Z", CA_OK, 1795336174},
	    {"20261122082934Z", CA_OK, 1795336174},
	    {"2026-11-22", CA_OK, 1795305600},
	    {"2024-02-29", CA_OK, 1709164800},
	    {"1970-01-01T00:00:00Z", CA_OK, 0},
	    {"9999-12-31T23:59:59Z", CA_OK, 253402300799},
	    {"2026-11-22T08:29:34", CA_EUSAGE, 0},
	    {"2026-11-22 08:29:34Z", CA_EUSAGE, 0},
	    {"2026-11-22T08:29:34+01:00", CA_EUSAGE, 0},
	    {"2026-11-22T08:29:34.5Z", CA_EUSAGE, 0},
	    {"2026-11-22x", CA_EUSAGE, 0},
	    {"yesterday", CA_EUSAGE, 0},
	    {"", CA_EUSAGE, 0},
	    {"2026-13-01", CA_EUSAGE, 0},
	    {"2026-00-10", CA_EUSAGE, 0},
	    {"2026-11-00", CA_EUSAGE, 0},
	    {"2026-11-22T24:00:00Z", CA_EUSAGE, 0},
	    {"2026-11-22T23:60:00Z", CA_EUSAGE, 0},
	    /* no such dates or seconds: refused, not moved to another day */
	    {"2026-02-30", CA_EUSAGE, 0},
	    {"2026-04-31T00:00:00Z", CA_EUSAGE, 0},
	    {"2023-02-29", CA_EUSAGE, 0},
	    {"2026-11-22T08:29:60Z", CA_EUSAGE, 0},
	    {"20260230000000Z", CA_EUSAGE, 0},
	    /* one spelling only */
	    {"2026-1-2", CA_EUSAGE, 0},
	    {" 2026-11-22", CA_EUSAGE, 0},
	    {"2026-11-22T8:29:34Z", CA_EUSAGE, 0},
	    {"+2026-11-22", CA_EUSAGE, 0},
	};
	char out[32];
	time_t t, t0, t1;
	size_t i;
	long z, bad = 0;
	int rc, y, m, d;
	struct tm tm;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		t = 12345;
		rc = ca_parse_time(cases[i].in, &t);
		ok(rc == cases[i].rc &&
		       t == (rc == CA_OK ? cases[i].want : 12345) &&
		       (rc == CA_OK ||
			fx_err("use YYYY-MM-DDTHH:MM:SSZ (UTC)")),
		   "time '%s': %s", cases[i].in,
		   cases[i].rc == CA_OK ? "parses" : "refused");
	}
	ca_time_rfc3339(1795336174, out, sizeof(out));
	ok(fx_streq(out, "2026-11-22T08:29:34Z"), "RFC 3339 text of a time");
	ca_time_rfc3339(0, out, sizeof(out));
	ok(fx_streq(out, "1970-01-01T00:00:00Z"), "RFC 3339 text of time 0");
	/* Years before 1000 parse, and print with four digits (RFC 3339). */
	ok(ca_parse_time("0999-03-01T01:02:03Z", &t) == CA_OK &&
	       (ca_time_rfc3339(t, out, sizeof(out)),
		fx_streq(out, "0999-03-01T01:02:03Z")),
	   "RFC 3339 text of a year before 1000 has four digits");
	ok(ca_parse_time("0000-01-01", &t) == CA_OK &&
	       (ca_time_rfc3339(t, out, sizeof(out)),
		fx_streq(out, "0000-01-01T00:00:00Z")),
	   "RFC 3339 text of year 0 reads back");

	/* The calendar arithmetic against gmtime_r, over 4,000 years. */
	for (z = -719468; z <= 2932896; z += 97) {
		time_t s = (time_t)z * 86400;

		ca_time_civil_from_days(z, &y, &m, &d);
		if (gmtime_r(&s, &tm) == NULL || y != tm.tm_year + 1900 ||
		    m != tm.tm_mon + 1 || d != tm.tm_mday ||
		    ca_time_days_from_civil(y, m, d) != z)
			bad++;
	}
	ok(bad == 0, "days <-> civil dates agree with gmtime_r (0000-9999)");
	ok(ca_time_days_from_civil(1970, 1, 1) == 0 &&
	       ca_time_days_from_civil(2000, 3, 1) == 11017,
	   "days since the epoch of 1970-01-01 and 2000-03-01");
	ca_time_civil_from_days(-1, &y, &m, &d);
	ok(y == 1969 && m == 12 && d == 31, "day -1 is 1969-12-31");
	ok(ca_time_days_in_month(2024, 2) == 29 &&
	       ca_time_days_in_month(2023, 2) == 28 &&
	       ca_time_days_in_month(1900, 2) == 28 &&
	       ca_time_days_in_month(2000, 2) == 29 &&
	       ca_time_days_in_month(2026, 4) == 30 &&
	       ca_time_days_in_month(2026, 12) == 31,
	   "days in month, with the Gregorian leap-year rules");
	t0 = time(NULL);
	t = ca_now();
	t1 = time(NULL);
	ok(t >= t0 && t <= t1, "ca_now is the current time");
}

/* ---------------------------------------------------------------------- */
/* PGP words                                                               */

static void test_words(void)
{
	/* The example from the PGP word list's publication. */
	static const unsigned char fp[] = {
	    0xe5, 0x82, 0x94, 0xf2, 0xe9, 0xa2, 0x27, 0x48, 0x6e, 0x8b,
	    0x06, 0x1b, 0x31, 0xcc, 0x52, 0x8f, 0xd7, 0xfa, 0x3f, 0x19};
	static const char want[] =
	    "topmost Istanbul Pluto vagabond treadmill Pacific brackish "
	    "dictator goldfish Medusa afflict bravado chatter revolver Dupont "
	    "midsummer stopwatch whimsical cowbell bottomless";
	static const unsigned char edges[] = {0x00, 0x00, 0xff, 0xff,
					      0x09, 0x09, 0x0a, 0x0a};
	static char even[256][16], odd[256][16];
	unsigned char b[2];
	char out[512], w[64], *sp;
	int i, j, distinct = 1;

	ca_words(fp, sizeof(fp), out, sizeof(out));
	ok(fx_streq(out, want), "the published example reads as published");
	ca_words(edges, sizeof(edges), out, sizeof(out));
	ok(fx_streq(out, "aardvark adroitness Zulu Yucatan Algol applicant "
			 "allow Apollo"),
	   "first and last words; applicant before Apollo in the odd list");
	/* Every byte value gives a different word in each list. */
	for (i = 0; i < 256; i++) {
		b[0] = b[1] = (unsigned char)i;
		ca_words(b, 2, w, sizeof(w));
		sp = strchr(w, ' ');
		if (sp == NULL || sp - w >= 16 || strlen(sp + 1) >= 16) {
			distinct = 0;
			continue;
		}
		*sp = '\0';
		memcpy(even[i], w, strlen(w) + 1);
		memcpy(odd[i], sp + 1, strlen(sp + 1) + 1);
	}
	for (i = 0; i < 256; i++)
		for (j = 0; j < 256; j++)
			if ((i < j && (strcasecmp(even[i], even[j]) == 0 ||
				       strcasecmp(odd[i], odd[j]) == 0)) ||
			    strcasecmp(even[i], odd[j]) == 0)
				distinct = 0;
	ok(distinct, "256 distinct words in each list, no word in both");
	/* Whole words only when out is short. */
	ca_words(fp, sizeof(fp), out, 17);
	ok(fx_streq(out, "topmost Istanbul"), "cut before a word that does "
					      "not fit (17 bytes)");
	ca_words(fp, sizeof(fp), out, 16);
	ok(fx_streq(out, "topmost"), "cut before a word that does not fit "
				     "(16 bytes)");
	ca_words(fp, sizeof(fp), out, 1);
	ok(out[0] == '\0', "one byte of room: the empty string");
	out[0] = 'x';
	ca_words(fp, sizeof(fp), out, 0);
	ok(out[0] == 'x', "no room: nothing written");
}

/* ---------------------------------------------------------------------- */
/* capped reads and SHA-256                                                */

/* A parser for ca_read_parse: records what it was given, returns *arg. */
static size_t parsed_len;
static char parsed_path[256];
static int parse_record(const unsigned char *data, size_t len, const char *path,
			void *arg)
{
	parsed_len = len;
	snprintf(parsed_path, sizeof(parsed_path), "%s", path);
	return data[len] == '\0' ? *(int *)arg : CA_EIO;
}

static void test_read_parse(void)
{
	int ret = CA_OK;

	fx_write(fx_path("parse"), "hello", 5, 0600);
	parsed_len = 0;
	ok(ca_read_parse(fx_path("parse"), parse_record, &ret) == CA_OK &&
	       parsed_len == 5 && fx_streq(parsed_path, fx_path("parse")),
	   "read_parse hands the whole file and its path to the parser");
	ret = CA_EPOLICY;
	ok(ca_read_parse(fx_path("parse"), parse_record, &ret) == CA_EPOLICY,
	   "read_parse returns what the parser returns");
	parsed_len = 99;
	ca_err_clear();
	ok(ca_read_parse(fx_path("missing"), parse_record, &ret) == CA_EIO &&
	       parsed_len == 99 && fx_err("cannot open"),
	   "read_parse: a missing file is not parsed");
}

static void test_read(void)
{
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 8192, 10000};
	static char content[10000];
	unsigned char *data = NULL, buf[16];
	char hex[65];
	size_t i, len;
	int fds[2], rc;

	for (i = 0; i < 10000; i++)
		content[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		fx_write(fx_path("f"), content, n, 0600);
		ok(ca_read_file(fx_path("f"), n, &data, &len) == CA_OK &&
		       len == n && memcmp(data, content, n) == 0 &&
		       data[n] == '\0',
		   "a file of %zu bytes read with a cap of %zu", n, n);
		free(data);
		ca_err_clear();
		rc = ca_read_file(fx_path("f"), n - (n > 0), &data, &len);
		ok(n == 0 ? rc == CA_OK
			  : rc == CA_EUSAGE && data == NULL && len == 0 &&
				fx_err("is larger than"),
		   "a file of %zu bytes refused with a cap one smaller", n);
		free(data);
	}
	ca_err_clear();
	ok(ca_read_file(fx_path("missing"), 10, &data, &len) == CA_EIO &&
	       data == NULL && fx_err("cannot open") && fx_err("missing"),
	   "a missing file: cannot open, naming it");
	ca_err_clear();
	ok(ca_read_file(fx_dir, 10, &data, &len) == CA_EUSAGE &&
	       fx_err("is a directory"),
	   "a directory is refused");
	ca_err_clear();
	ok(ca_read_file("/dev/zero", 8192, &data, &len) == CA_EUSAGE &&
	       fx_err("/dev/zero is larger than 8192 bytes"),
	   "an endless stream is cut at the cap");

	ok(pipe(fds) == 0, "pipe");
	rc = (int)write(fds[1], "hello pipe", 10);
	close(fds[1]);
	ok(rc == 10 && ca_read_fd(fds[0], "pipe", buf, 5, &len) == CA_OK &&
	       len == 5 && memcmp(buf, "hello", 5) == 0,
	   "read_fd stops at the buffer size");
	ok(ca_read_fd(fds[0], "pipe", buf, sizeof(buf), &len) == CA_OK &&
	       len == 5 && memcmp(buf, " pipe", 5) == 0,
	   "read_fd stops at end of file");
	close(fds[0]);
	ca_err_clear();
	ok(ca_read_fd(fds[0], "closed.pin", buf, sizeof(buf), &len) == CA_EIO &&
	       len == 0 && fx_err("cannot read closed.pin"),
	   "read_fd on a closed descriptor: cannot read, naming it");

	test_read_parse();
	ca_sha256_hex((const unsigned char *)"abc", 3, hex);
	ok(fx_streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
			 "10ff61f20015ad"),
	   "SHA-256 of 'abc' (FIPS 180-2)");
	ca_sha256_fingerprint((const unsigned char *)"abc", 3, hex);
	ok(fx_streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
			 "10ff61f20015ad"),
	   "the fingerprint of 'abc' is its SHA-256");
	ca_sha256_fingerprint((const unsigned char *)"", 0, hex);
	ok(fx_streq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
			 "4ca495991b7852b855"),
	   "the fingerprint of nothing is its SHA-256");
	fx_write(fx_path("empty"), "", 0, 0600);
	ok(ca_sha256_file(fx_path("empty"), hex) == CA_OK &&
	       fx_streq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
			     "4ca495991b7852b855"),
	   "SHA-256 of an empty file");
	ok(ca_sha256_file(fx_path("missing"), hex) < 0,
	   "SHA-256 of a missing file fails");
}

/* ---------------------------------------------------------------------- */
/* process hardening (last: it changes this process)                       */

static void test_process(void)
{
	struct rlimit rl;
	mode_t old;

	umask(022);
	ca_harden_process();
	old = umask(022);
	ok(old == 077, "umask 077 after hardening");
	ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
	       rl.rlim_max == 0,
	   "no core dumps");
	ok(prctl(PR_GET_DUMPABLE) == 0, "not dumpable");
}

/* ---------------------------------------------------------------------- */
/* bad arguments                                                           */

static void test_bad_arguments(void)
{
	unsigned char out[4];
	size_t len = 0;
	json_t *root = NULL;

	ok(ca_unhex("00", out, 0, &len) == CA_EUSAGE,
	   "unhex into no room is refused");
	ok(ca_json_parse_strict(NULL, 0, "x", "", &root) == CA_EPOLICY &&
	       root == NULL,
	   "strict JSON of no data is refused");
	ok(ca_parse_long("5", 10, 1, "n", &(long){0}) == CA_EUSAGE,
	   "a number with an empty range is refused");
	ok(ca_parse_time("2026-11-22T08:29:34Z\n", &(time_t){0}) == CA_EUSAGE,
	   "a time with a trailing newline is refused");
	ok(ca_read_file("", 10, &(unsigned char *){NULL}, &len) == CA_EIO,
	   "reading the empty path fails");
}

int main(void)
{
	fx_mkdir("base");
	test_hex();
	test_base64();
	test_json();
	test_text();
	test_number();
	test_oid();
	test_time();
	test_words();
	test_read();
	test_bad_arguments();
	test_process();
	fx_rmdir();
	return tap_done();
}
