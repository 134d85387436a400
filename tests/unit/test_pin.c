/* Unit tests (TAP) for PIN sources (common/pin.c) and the secret-file
 * check (common/secret.c): file: with its mode and owner checks, fd:,
 * env:, the prompt without a terminal, refusals, and wiping. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/pin.h"
#include "common/secret.h"
#include "fixture.h"
#include "tap.h"

/* Every byte of the struct is zero. */
static int wiped(const struct ca_pin *pin)
{
	const unsigned char *p = (const unsigned char *)pin;
	size_t i;

	for (i = 0; i < sizeof(*pin); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int read_pin(const char *source, struct ca_pin *pin)
{
	memset(pin, 0xa5, sizeof(*pin));
	ca_err_clear();
	return ca_pin_read(source, "PIN: ", pin);
}

static int pin_is(const struct ca_pin *pin, const char *want)
{
	return pin->len == strlen(want) &&
	       memcmp(pin->value, want, pin->len) == 0 &&
	       pin->value[pin->len] == '\0';
}

static void test_source_syntax(void)
{
	static const struct {
		const char *source;
		int rc;
	} cases[] = {
	    {NULL, CA_OK},	    {"file:/etc/pin", CA_OK},
	    {"env:HSM_PIN", CA_OK}, {"fd:0", CA_OK},
	    {"fd:42", CA_OK},	    {"file:", CA_EUSAGE},
	    {"env:", CA_EUSAGE},    {"fd:", CA_EUSAGE},
	    {"fd:-1", CA_EUSAGE},   {"fd:3x", CA_EUSAGE},
	    {"fd:0x3", CA_EUSAGE},  {"fd:99999999999", CA_EUSAGE},
	    {"FILE:/x", CA_EUSAGE}, {"pin:1234", CA_EUSAGE},
	    {"", CA_EUSAGE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		ok(ca_pin_source_check(cases[i].source) == cases[i].rc &&
		       (cases[i].rc == CA_OK ||
			fx_err("file:PATH, fd:N or env:NAME") ||
			fx_err("not a file descriptor")),
		   "source '%s': %s",
		   cases[i].source ? cases[i].source : "(prompt)",
		   cases[i].rc == CA_OK ? "valid" : "refused");
	}
	/* A PIN given where its source belongs is not echoed. */
	ca_err_clear();
	ok(ca_pin_source_check("7391") == CA_EUSAGE && fx_err("(not shown)") &&
	       !fx_err("7391"),
	   "a bad source is refused without its text");
	ca_err_clear();
	ok(ca_pin_source_check("fd:7391x") == CA_EUSAGE && !fx_err("7391"),
	   "a bad fd: source is refused without its text");
}

static void test_file(void)
{
	static const struct {
		const char *content;
		size_t len;
		mode_t mode;
		int rc;
		const char *pin, *msg, *what;
	} cases[] = {
	    {"1234\n", 5, 0600, CA_OK, "1234", NULL, "mode 0600, newline"},
	    {"1234", 4, 0400, CA_OK, "1234", NULL, "mode 0400, no newline"},
	    {"1234\r\n", 6, 0600, CA_OK, "1234", NULL, "CRLF line end"},
	    {"12 34\nsecond line\n", 18, 0600, CA_OK, "12 34", NULL,
	     "only the first line"},
	    {"1234\n", 5, 0640, CA_EPOLICY, NULL,
	     "is readable by group or others (mode 640): chmod 600 it",
	     "group-readable"},
	    {"1234\n", 5, 0604, CA_EPOLICY, NULL, "(mode 604)",
	     "world-readable"},
	    {"1234\n", 5, 0610, CA_EPOLICY, NULL, "(mode 610)",
	     "group-executable"},
	    {"", 0, 0600, CA_EUSAGE, NULL, "empty PIN from", "empty"},
	    {"\n", 1, 0600, CA_EUSAGE, NULL, "empty PIN from", "an empty line"},
	};
	char source[600], big[CA_PIN_MAX + 2];
	struct ca_pin pin;
	size_t i;
	int rc;

	snprintf(source, sizeof(source), "file:%s", fx_path("pin"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(fx_path("pin"));
		if (fx_write(fx_path("pin"), cases[i].content, cases[i].len,
			     cases[i].mode) != 0) {
			tap_missed(1);
			continue;
		}
		rc = read_pin(source, &pin);
		ok(rc == cases[i].rc &&
		       (rc == CA_OK ? pin_is(&pin, cases[i].pin)
				    : wiped(&pin) && fx_err(cases[i].msg) &&
					  fx_err(fx_path("pin"))),
		   "file: %s", cases[i].what);
		ca_pin_wipe(&pin);
	}
	memset(big, 'p', sizeof(big));
	fx_write(fx_path("pin"), big, CA_PIN_MAX, 0600);
	rc = read_pin(source, &pin);
	ok(rc == CA_OK && pin.len == CA_PIN_MAX, "file: a PIN of 256 bytes");
	fx_write(fx_path("pin"), big, CA_PIN_MAX + 1, 0600);
	rc = read_pin(source, &pin);
	ok(rc == CA_EUSAGE && fx_err("is longer than 256 bytes") && wiped(&pin),
	   "file: a PIN of 257 bytes refused, the buffer wiped");

	/* Not the caller's: as root, give it away; otherwise a root file. */
	if (geteuid() == 0) {
		fx_write(fx_path("pin"), "1234\n", 5, 0600);
		rc = chown(fx_path("pin"), 65534, 65534) == 0
			 ? read_pin(source, &pin)
			 : CA_EIO;
	} else {
		rc = read_pin("file:/etc/passwd", &pin);
	}
	ok(rc == CA_EPOLICY && fx_err("is not owned by you: refused") &&
	       wiped(&pin),
	   "file: owned by someone else refused");
	ok(read_pin("file:", &pin) == CA_EUSAGE, "file: an empty path refused");
	fx_write(fx_path("pin2"), "1234\n", 5, 0600);
	snprintf(source, sizeof(source), "file:%s", fx_path("link"));
	ok(symlink(fx_path("pin2"), fx_path("link")) == 0 &&
	       read_pin(source, &pin) == CA_EIO &&
	       fx_err("cannot open the PIN file"),
	   "file: a symbolic link (to a good PIN file) is not followed");
	snprintf(source, sizeof(source), "file:%s", fx_dir);
	ok(read_pin(source, &pin) == CA_EUSAGE &&
	       fx_err("is not a regular file"),
	   "file: a directory refused");
	snprintf(source, sizeof(source), "file:%s", fx_path("missing"));
	/* A PIN source is never echoed: a PIN typed in its place would be. */
	ok(read_pin(source, &pin) == CA_EIO &&
	       fx_err("cannot open the PIN file") && fx_err("No such file") &&
	       !fx_err("missing"),
	   "file: a missing file refused, its name not shown");
}

static void test_fd(void)
{
	struct ca_pin pin;
	char source[32];
	int fds[2];

	ok(pipe(fds) == 0 && write(fds[1], "s3cret\nrest", 11) == 11,
	   "a pipe holding a PIN");
	close(fds[1]);
	snprintf(source, sizeof(source), "fd:%d", fds[0]);
	ok(read_pin(source, &pin) == CA_OK && pin_is(&pin, "s3cret"),
	   "fd: the PIN up to the newline");
	ok(read_pin(source, &pin) == CA_OK && pin_is(&pin, "rest"),
	   "fd: the same descriptor goes on from there");
	ok(read_pin(source, &pin) == CA_EUSAGE &&
	       fx_err("empty PIN from the PIN source fd:... (not shown)"),
	   "fd: at end of file, an empty PIN refused");
	close(fds[0]);
	ok(read_pin(source, &pin) == CA_EIO &&
	       fx_err("cannot read PIN from the PIN source fd:") && wiped(&pin),
	   "fd: a closed descriptor cannot be read");
	ca_pin_wipe(&pin);
}

static void test_env(void)
{
	static char entry[] = "HSMCA_UNIT_PIN=env-pin-42";
	char *value = entry + strlen("HSMCA_UNIT_PIN=");
	char big[CA_PIN_MAX + 2];
	struct ca_pin pin;
	size_t i;
	int zero = 1;

	ok(putenv(entry) == 0, "a PIN in the environment");
	ok(read_pin("env:HSMCA_UNIT_PIN", &pin) == CA_OK &&
	       pin_is(&pin, "env-pin-42"),
	   "env: the PIN read");
	ok(getenv("HSMCA_UNIT_PIN") == NULL, "env: the variable is unset");
	for (i = 0; i < strlen("env-pin-42"); i++)
		zero &= value[i] == '\0';
	ok(zero, "env: the value in the environment is wiped");
	ok(read_pin("env:HSMCA_UNIT_PIN", &pin) == CA_EUSAGE &&
	       fx_err("that environment variable is not set") &&
	       !fx_err("HSMCA_UNIT_PIN"),
	   "env: an unset variable refused, its name not shown");
	setenv("HSMCA_UNIT_PIN", "", 1);
	ok(read_pin("env:HSMCA_UNIT_PIN", &pin) == CA_EUSAGE &&
	       fx_err("is empty or longer than 256 bytes"),
	   "env: an empty value refused");
	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("HSMCA_UNIT_PIN", big, 1);
	ok(read_pin("env:HSMCA_UNIT_PIN", &pin) == CA_EUSAGE &&
	       fx_err("is empty or longer than 256 bytes") && wiped(&pin),
	   "env: a value of 257 bytes refused");
	unsetenv("HSMCA_UNIT_PIN");
	ca_pin_wipe(&pin);
}

/* With no source and no controlling terminal, no prompt: in a child
 * that has left its session. */
static void test_no_terminal(void)
{
	int fds[2], status = 0;
	char msg[256] = "";
	ssize_t n = 0;
	pid_t pid;

	if (pipe(fds) != 0) {
		tap_missed(1);
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct ca_pin pin;
		int rc;

		close(fds[0]);
		setsid();
		rc = ca_pin_read(NULL, "PIN: ", &pin);
		if (write(fds[1], ca_errmsg(), strlen(ca_errmsg())) < 0)
			rc = CA_OK;
		_exit(rc == CA_EUSAGE ? 0 : 1);
	}
	close(fds[1]);
	if (pid > 0) {
		n = read(fds[0], msg, sizeof(msg) - 1);
		waitpid(pid, &status, 0);
	}
	close(fds[0]);
	msg[n > 0 ? n : 0] = '\0';
	ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       fx_has(msg, "no PIN source and no terminal to prompt on: use "
			   "--pin-source file:PATH, fd:N or env:NAME"),
	   "no source and no terminal: refused, saying what to use");
}

static void test_secret_check(void)
{
	int fds[2], fd;

	ok(pipe(fds) == 0 &&
	       ca_secret_file_check(fds[0], "key file", "k.pem") == CA_EUSAGE &&
	       fx_err("key file k.pem is not a regular file"),
	   "secret: a pipe is not a regular file");
	close(fds[0]);
	close(fds[1]);
	fx_write(fx_path("key.pem"), "k", 1, 0600);
	fd = open(fx_path("key.pem"), O_RDONLY);
	ok(fd >= 0 && ca_secret_file_check(fd, "key file", "key.pem") == CA_OK,
	   "secret: a 0600 file of ours passes");
	ok(fd >= 0 && fchmod(fd, 0660) == 0 &&
	       ca_secret_file_check(fd, "key file", "key.pem") == CA_EPOLICY &&
	       fx_err("key file key.pem is readable by group or others "
		      "(mode 660)"),
	   "secret: the mode is read from the open file");
	if (fd >= 0)
		close(fd);
}

static void test_wipe(void)
{
	struct ca_pin pin;

	memset(&pin, 0x5a, sizeof(pin));
	pin.len = 12;
	ca_pin_wipe(&pin);
	ok(wiped(&pin), "wipe: every byte of the PIN struct is zero");
}

static void test_bad_arguments(void)
{
	struct ca_pin pin;

	ok(read_pin("1234", &pin) == CA_EUSAGE && wiped(&pin),
	   "a bare value is not a PIN source; nothing read");
	ok(read_pin("fd:9999", &pin) == CA_EIO,
	   "fd: a descriptor that is not open");
	ok(read_pin("env:", &pin) == CA_EUSAGE, "env: no name");
}

int main(void)
{
	fx_mkdir("pin");
	test_source_syntax();
	test_file();
	test_fd();
	test_env();
	test_no_terminal();
	test_secret_check();
	test_wipe();
	test_bad_arguments();
	fx_rmdir();
	return tap_done();
}
