/* Helpers shared by the libFuzzer targets: the input as a C string, and
 * the input written to a file in a private directory for the readers that
 * take a path (the same code the tools run, file checks included). */
#ifndef HSMCA_FUZZ_INPUT_H
#define HSMCA_FUZZ_INPUT_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input up to its first NUL, NUL-terminated (malloc'd), as argv
 * would carry it. */
static char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The directory made once per process (0700, removed at exit). */
static char fuzz_dir_path[64];

static void fuzz_dir_remove(void)
{
	char p[128];
	static const char *const names[] = {"ca.json", "input", NULL};
	int i;

	for (i = 0; names[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir_path, names[i]);
		(void)unlink(p);
	}
	(void)rmdir(fuzz_dir_path);
}

/* In $TMPDIR, else /dev/shm (memory), else /tmp. */
static const char *fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL && access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";

	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/hsmca-fuzz-XXXXXX",
		 tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir_path) == NULL)
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* Write the input to DIR/name (mode 0600); the path is static. */
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[128];
	size_t off = 0;
	ssize_t w;
	int fd;

	/* Rewritten in place: a file created and removed for every input
	 * costs more than the parsing on some file systems. */
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (off < size) {
		w = write(fd, data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	close(fd);
	return path;
}

#endif
