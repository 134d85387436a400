#include "common/pin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/secret.h"

/* Read up to CA_PIN_MAX bytes from fd, stop at the first newline. */
static int read_fd(int fd, const char *what, struct ca_pin *pin)
{
	char c;
	ssize_t n;

	pin->len = 0;
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ca_err(CA_EIO, "cannot read PIN from %s: %s",
				      what, strerror(errno));
		if (n == 0 || c == '\n')
			break;
		if (pin->len == CA_PIN_MAX) {
			ca_pin_wipe(pin);
			return ca_err(CA_EUSAGE,
				      "PIN from %s is longer than %d bytes",
				      what, CA_PIN_MAX);
		}
		pin->value[pin->len++] = c;
	}
	OPENSSL_cleanse(&c, sizeof(c));
	if (pin->len > 0 && pin->value[pin->len - 1] == '\r')
		pin->len--;
	pin->value[pin->len] = '\0';
	if (pin->len == 0)
		return ca_err(CA_EUSAGE, "empty PIN from %s", what);
	return CA_OK;
}

static int from_file(const char *path, struct ca_pin *pin)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ca_err(CA_EIO,
			      "cannot open the PIN file of the PIN source "
			      "file:... (not shown): %s",
			      strerror(errno));
	rc = ca_secret_file_check(fd, "PIN file", path);
	if (rc == CA_OK)
		rc = read_fd(fd, path, pin);
	close(fd);
	return rc;
}

static int parse_fd(const char *s, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
		return ca_err(CA_EUSAGE,
			      "bad PIN source fd:... (not shown): not a "
			      "file descriptor number");
	*fd = (int)v;
	return CA_OK;
}

static int from_env(const char *name, struct ca_pin *pin)
{
	char *v = getenv(name);
	size_t n;

	if (v == NULL)
		return ca_err(CA_EUSAGE, "PIN source env:... (not shown): that "
					 "environment variable is not set");
	n = strlen(v);
	if (n == 0 || n > CA_PIN_MAX)
		return ca_err(CA_EUSAGE,
			      "the PIN in the environment variable of "
			      "env:... is empty or longer than %d bytes",
			      CA_PIN_MAX);
	memcpy(pin->value, v, n);
	pin->value[n] = '\0';
	pin->len = n;
	OPENSSL_cleanse(v, n);
	unsetenv(name);
	return CA_OK;
}

static int from_tty(const char *prompt, struct ca_pin *pin)
{
	struct termios old, quiet;
	int fd, rc;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ca_err(CA_EUSAGE,
			      "no PIN source and no terminal to prompt on: "
			      "use --pin-source file:PATH, fd:N or env:NAME");
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return ca_err(CA_EUSAGE,
			      "cannot prompt for the PIN: not a terminal");
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		return ca_err(CA_EIO,
			      "cannot prompt for the PIN on the terminal");
	}
	rc = read_fd(fd, "the terminal", pin);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* cosmetic only */
	}
	close(fd);
	return rc;
}

int ca_pin_source_check(const char *source)
{
	if (source == NULL)
		return CA_OK;
	if (strncmp(source, "file:", 5) == 0 && source[5] != '\0')
		return CA_OK;
	if (strncmp(source, "env:", 4) == 0 && source[4] != '\0')
		return CA_OK;
	if (strncmp(source, "fd:", 3) == 0) {
		int fd;

		return parse_fd(source + 3, &fd);
	}
	/* Never echoed: a PIN given where its source belongs would be. */
	return ca_err(CA_EUSAGE, "bad PIN source (not shown): use file:PATH, "
				 "fd:N or env:NAME");
}

int ca_pin_read(const char *source, const char *prompt, struct ca_pin *pin)
{
	int rc, fd;

	memset(pin, 0, sizeof(*pin));
	if (source == NULL)
		return from_tty(prompt != NULL ? prompt : "PIN: ", pin);
	rc = ca_pin_source_check(source);
	if (rc < 0)
		return rc;
	if (strncmp(source, "file:", 5) == 0)
		return from_file(source + 5, pin);
	if (strncmp(source, "env:", 4) == 0)
		return from_env(source + 4, pin);
	rc = parse_fd(source + 3, &fd);
	if (rc < 0)
		return rc;
	return read_fd(fd, "the PIN source fd:... (not shown)", pin);
}

void ca_pin_wipe(struct ca_pin *pin)
{
	OPENSSL_cleanse(pin, sizeof(*pin));
}
