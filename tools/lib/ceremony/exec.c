/* Running the hsmca tools: fork and exec with an argument vector (never a
 * shell), the PIN on a pipe, stderr shown and logged as it comes, stdout
 * kept for its JSON. */
#include "ceremony/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STDOUT (16 * 1024 * 1024)

void ca_argv_add(struct ca_argv *a, const char *s)
{
	char **v;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;

		v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL) {
			a->oom = 1;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = strdup(s);
	if (a->v[a->n] == NULL) {
		a->oom = 1;
		return;
	}
	a->v[++a->n] = NULL;
}

void ca_argv_addf(struct ca_argv *a, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ca_argv_add(a, buf);
}

void ca_argv_free(struct ca_argv *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

const char *ca_q(const char *s)
{
	static _Thread_local char bufs[8][4200];
	static _Thread_local int next;
	char *b = bufs[next++ % 8];
	size_t o = 0;
	const char *p;

	if (s[0] != '\0' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_./:=@%+,-") == strlen(s))
		return s;
	b[o++] = '\'';
	for (p = s; *p != '\0' && o + 6 < 4200; p++) {
		if (*p == '\'') {
			memcpy(b + o, "'\\''", 4);
			o += 4;
		} else {
			b[o++] = *p;
		}
	}
	b[o++] = '\'';
	b[o] = '\0';
	return b;
}

char *ca_argv_line(const struct ca_argv *a)
{
	size_t i, len = 1, o = 0;
	const char *w;
	char *line;

	for (i = 0; i < a->n; i++)
		len += strlen(ca_q(a->v[i])) + 1;
	line = malloc(len);
	if (line == NULL)
		return NULL;
	for (i = 0; i < a->n; i++) {
		w = ca_q(a->v[i]);
		o += (size_t)snprintf(line + o, len - o, "%s%s", i ? " " : "",
				      w);
	}
	line[o] = '\0';
	return line;
}

char *ca_tool_path(const struct ca_cer *c, const char *name)
{
	size_t n = strlen(c->tools) + strlen(name) + 8;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/hsmca-%s", c->tools, name);
	return p;
}

/* The child: stdin /dev/null, stdout and stderr to the pipes, the PIN pipe
 * on fd 3, nothing else open. */
static void child(const struct ca_argv *a, int out_w, int err_w, int pin_r)
{
	int null = open("/dev/null", O_RDONLY);

	if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 ||
	    dup2(err_w, 2) < 0)
		_exit(127);
	if (pin_r >= 0) {
		if (dup2(pin_r, 3) < 0)
			_exit(127);
	}
	closefrom(pin_r >= 0 ? 4 : 3);
	signal(SIGPIPE, SIG_DFL);
	if (strchr(a->v[0], '/') != NULL)
		execv(a->v[0], a->v);
	else
		execvp(a->v[0], a->v);
	dprintf(2, "cannot run %s: %s\n", a->v[0], strerror(errno));
	_exit(127);
}

/* A line of the child's stderr: shown indented and logged. */
static void err_line(struct ca_cer *c, const char *line, size_t len)
{
	ca_show(c, "    %.*s\n", (int)len, line);
	ca_tr_log(c, ">", "%.*s", (int)len, line);
}

struct pipes {
	char *out;
	size_t out_len;
	char err[4096];
	size_t err_len;
};

/* Read what is ready on fd; 0 at end of file. */
static int drain(struct ca_cer *c, int fd, int is_err, struct pipes *p)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	size_t i;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (!is_err) {
		char *nb;

		if (p->out_len + (size_t)n > MAX_STDOUT)
			return 1; /* more than any tool's JSON: dropped */
		nb = realloc(p->out, p->out_len + (size_t)n + 1);
		if (nb == NULL)
			return 1;
		p->out = nb;
		memcpy(p->out + p->out_len, buf, (size_t)n);
		p->out_len += (size_t)n;
		p->out[p->out_len] = '\0';
		return 1;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] == '\n' || p->err_len == sizeof(p->err)) {
			err_line(c, p->err, p->err_len);
			p->err_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		p->err[p->err_len++] = buf[i];
	}
	return 1;
}

static void log_stdout(struct ca_cer *c, const char *out)
{
	const char *nl;

	while (out != NULL && *out != '\0') {
		nl = strchr(out, '\n');
		if (nl == NULL)
			nl = out + strlen(out);
		ca_tr_log(c, ">", "%.*s", (int)(nl - out), out);
		out = *nl ? nl + 1 : nl;
	}
}

static int collect(struct ca_cer *c, int out_r, int err_r, struct pipes *p)
{
	struct pollfd fds[2] = {{out_r, POLLIN, 0}, {err_r, POLLIN, 0}};
	int open_fds = 2, i;

	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return ca_err(CA_EIO, "poll: %s", strerror(errno));
		}
		for (i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			if (!drain(c, fds[i].fd, i == 1, p)) {
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	if (p->err_len > 0)
		err_line(c, p->err, p->err_len);
	return CA_OK;
}

static int write_pin(int fd, const struct ca_pin *pin)
{
	size_t o = 0;
	ssize_t n;

	while (o < pin->len) {
		n = write(fd, pin->value + o, pin->len - o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		o += (size_t)n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -1;
}

int ca_exec(struct ca_cer *c, const struct ca_argv *argv, int pin,
	    json_t **json, int *status)
{
	int out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, pin_p[2] = {-1, -1};
	struct pipes p;
	char *line = NULL;
	pid_t pid;
	int rc = CA_EIO, ws;

	memset(&p, 0, sizeof(p));
	*status = -1;
	if (json != NULL)
		*json = NULL;
	if (argv->oom || argv->n == 0 || (line = ca_argv_line(argv)) == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (pin && !c->have_pin) {
		free(line);
		return ca_err(CA_EIO, "internal error: no PIN to hand on");
	}
	ca_show(c, "$ %s\n", line);
	ca_tr_log(c, "RUN", "%s", line);
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 ||
	    (pin && pipe2(pin_p, O_CLOEXEC) < 0)) {
		rc = ca_err(CA_EIO, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = ca_err(CA_EIO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, out_p[1], err_p[1], pin_p[0]);
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (pin) {
		/* A PIN fits in the pipe's buffer: written whole, then
		 * closed, before the child reads it. */
		close(pin_p[0]);
		pin_p[0] = -1;
		(void)write_pin(pin_p[1], c->pin);
		close(pin_p[1]);
		pin_p[1] = -1;
	}
	rc = collect(c, out_p[0], err_p[0], &p);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	log_stdout(c, p.out);
	ca_tr_log(c, "EXIT", "%d", *status);
	if (json != NULL && p.out != NULL)
		*json = json_loadb(p.out, p.out_len, 0, NULL);
out:
	for (ws = 0; ws < 2; ws++) {
		if (out_p[ws] >= 0)
			close(out_p[ws]);
		if (err_p[ws] >= 0)
			close(err_p[ws]);
		if (pin_p[ws] >= 0)
			close(pin_p[ws]);
	}
	free(p.out);
	free(line);
	return rc;
}

int ca_exec_must(struct ca_cer *c, const struct ca_argv *argv, int pin,
		 json_t **json)
{
	const char *name = strrchr(argv->v[0], '/');
	int status = 0, rc;

	rc = ca_exec(c, argv, pin, json, &status);
	if (rc < 0)
		return rc;
	name = name ? name + 1 : argv->v[0];
	if (status == 0 && (json == NULL || *json != NULL))
		return CA_OK;
	if (json != NULL) {
		json_decref(*json);
		*json = NULL;
	}
	if (status == 0)
		return ca_err(CA_EIO, "%s printed no JSON result", name);
	return ca_err(status == 3 ? CA_EPOLICY : CA_EIO,
		      "%s %s (exit %d; its message is above)", name,
		      status == 3 ? "refused" : "failed", status);
}
