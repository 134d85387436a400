/* libFuzzer target: `hsmca-two-person-approve show` and the line `sign`
 * prints: a request file parsed (ca_request_parse), described from its
 * own bytes (ca_request_describe) and printed for people by the tool's own
 * print_describe and print_oneline (the tool's source is included, its
 * main() renamed). What is printed must be printable ASCII and newlines:
 * nothing from the request may reach a terminal as a control sequence.
 * The first byte picks the mode, as in fuzz_request.c:
 *   0x01  the rest is a TBSCertificate
 *   0x02  the rest is a TBSCertList
 *   0x03  the rest is revocation text
 *   else  the whole input is a request file
 * Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/show/. */
#define main two_person_approve_main
#include "tools/two-person-approve.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything printed is printable ASCII or a newline. */
static void check_printed(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] != '\n' && (text[i] < 0x20 || text[i] > 0x7e))
			abort();
}

static void show(const struct ca_request *r)
{
	FILE *saved = stdout, *mem;
	json_t *d = NULL;
	char *text = NULL;
	size_t len = 0;

	if (ca_request_describe(r, &d) != CA_OK)
		return;
	mem = open_memstream(&text, &len);
	if (mem == NULL)
		abort();
	stdout = mem;
	print_describe("fuzz.request", d);
	stdout = saved;
	print_oneline(mem, d);
	fclose(mem);
	check_printed(text, len);
	free(text);
	json_decref(d);
}

static void direct(const uint8_t *data, size_t size, const char *action,
		   const char *tbs_type)
{
	static char zero[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	struct ca_request r;

	memset(&r, 0, sizeof(r));
	memcpy(r.sha256_hex, zero, 65);
	memcpy(r.nonce, zero, 65);
	memcpy(r.quorum_sha256, zero, 65);
	r.action = (char *)action;
	r.tbs_type = (char *)tbs_type;
	r.ca_spki_sha256 = zero;
	r.ca_token_serial = (char *)"fuzz";
	r.ca_key = (char *)"pkcs11:token=fuzz";
	r.tbs = (unsigned char *)data;
	r.tbs_len = size;
	show(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_request *r = NULL;

	if (size > 0 && data[0] == 0x01) {
		direct(data + 1, size - 1, "sign-subca", "certificate");
	} else if (size > 0 && data[0] == 0x02) {
		direct(data + 1, size - 1, "gen-crl", "crl");
	} else if (size > 0 && data[0] == 0x03) {
		direct(data + 1, size - 1, "revoke", "revocation");
	} else if (ca_request_parse(data, size, "fuzz", &r) == CA_OK) {
		show(r);
		ca_request_free(r);
	}
	ca_err_clear();
	return 0;
}
