/* libFuzzer target: `hsmca-two-person-approve show` and the line `sign`
 * prints: a request file parsed (ca_request_parse), described from its
 * own bytes (ca_request_describe) and printed for people by the tool's own
 * print_describe and print_oneline (the tool's source is included, its
 * main() renamed). What is printed must be printable ASCII and newlines:
 * nothing from the request may reach a terminal as a control sequence.
 * The first byte picks the mode (request_modes.h).
 * Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/show/. */
#define main two_person_approve_main
#include "tools/two-person-approve.c"
#undef main

#include "request_modes.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request_modes(data, size, show);
	ca_err_clear();
	return 0;
}
