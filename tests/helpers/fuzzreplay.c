/* Replays files through a libFuzzer target without libFuzzer: linked with
 * tests/fuzz/fuzz_NAME.c into build/tests/replay_NAME, so that the normal
 * and sanitizer builds (make test-san, leak detection on) run every seed
 * corpus file through the same code the fuzzer drives.
 * Usage: replay_NAME FILE... ; prints one TAP line per file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i, failed = 0;

	for (i = 1; i < argc; i++) {
		unsigned char *data = NULL;
		size_t len = 0;

		if (ca_read_file(argv[i], CA_MAX_INPUT, &data, &len) < 0) {
			printf("not ok %d - %s: cannot read\n", i, argv[i]);
			failed++;
			continue;
		}
		(void)LLVMFuzzerTestOneInput(data, len);
		free(data);
		printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return failed != 0;
}
