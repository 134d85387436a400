/* hsmca-ceremony check | plan | run: the ceremony as a list of steps, each
 * recorded in the transcript and in progress.json, resumable. */
#include "ceremony/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/sha256.h"
#include "base/time.h"
#include "base/words.h"
#include "common/pin.h"
#include "out/file.h"

/* ---------------------------------------------------------------------- */
/* Set-up shared by check, plan and run                                     */

static void cer_free(struct ca_cer *c)
{
	ca_tr_close(c);
	if (c->pin != NULL) {
		OPENSSL_cleanse(c->pin, sizeof(*c->pin));
		munlock(c->pin, sizeof(*c->pin));
		free(c->pin);
	}
	if (c->lock_fd > 0)
		close(c->lock_fd);
	json_decref(c->state);
	ca_spec_free(c->spec);
	ca_env_free(c->env);
	free(c->tools);
	free(c->out);
	free(c->ca_dir);
	free(c->quorum);
	free(c->module);
	free(c->revoke_cert);
}

/* The hsmca tools: the environment file's directory, else the one
 * hsmca-ceremony runs from (installed side by side, or build/bin). */
static int find_tools(struct ca_cer *c)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (c->env->tools != NULL) {
		c->tools = strdup(c->env->tools);
		return c->tools ? CA_OK : ca_err(CA_EIO, "out of memory");
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return ca_err(CA_EIO, "cannot find where hsmca-ceremony runs "
				      "from: name the tools' directory in the "
				      "environment file (tools:)");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	c->tools = strdup(self);
	return c->tools ? CA_OK : ca_err(CA_EIO, "out of memory");
}

/* What the tools are given: the file's paths, or the rehearsal's. */
static int set_paths(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;

	if (c->rehearse)
		return ca_rehearse_env(c);
	c->ca_dir = ca_spec_path(s, s->ca_dir ? s->ca_dir : ".");
	c->quorum =
	    ca_spec_path(s, s->quorum_file ? s->quorum_file : "quorum.json");
	if (s->revoke_file != NULL)
		c->revoke_cert = ca_spec_path(s, s->revoke_file);
	if (c->ca_dir == NULL || c->quorum == NULL)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* The module and its initialisation arguments, for every tool: --module,
 * and the arguments in the environment the tools read them from. */
static int use_env(struct ca_cer *c)
{
	free(c->module);
	c->module = c->env->module ? strdup(c->env->module) : NULL;
	if (c->env->module_init_args != NULL &&
	    setenv("HSMCA_MODULE_ARGS", c->env->module_init_args, 1) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

static int load_env(struct ca_cer *c, const char *path)
{
	ca_env_free(c->env);
	c->env = NULL;
	if (path != NULL)
		return ca_env_load(path, &c->env);
	return ca_env_empty(&c->env);
}

/* ---------------------------------------------------------------------- */
/* check                                                                    */

static void print_words(const struct ca_cer *c, const char *hex)
{
	char *w = ca_words_hex(hex), *line, *save = NULL;

	for (line = w ? strtok_r(w, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		ca_show(c, "    %s\n", line);
	free(w);
}

int ca_ceremony_check(const struct ca_ceremony_opts *o)
{
	struct ca_cer c;
	const struct ca_step *st;
	int rc, n, i;

	memset(&c, 0, sizeof(c));
	c.opts = o;
	c.state = json_object();
	c.out = strdup(".");
	GUARD(ca_spec_load(o->file, &c.spec));
	GUARD(ca_env_empty(&c.env));
	GUARD(set_paths(&c));
	ca_show(&c, "%s: a valid %s ceremony file\n", o->file,
		ca_cer_type_name(c.spec->type));
	if (c.spec->title != NULL)
		ca_show(&c, "Title:   %s\n", c.spec->title);
	GUARD(ca_inputs_check(&c));
	st = ca_steps_for(c.spec->type, &n);
	ca_show(&c, "Steps:  ");
	for (i = 0; i < n; i++)
		ca_show(&c, " %s", st[i].name);
	ca_show(&c, "\nSHA-256: %s\nWords, for the witness:\n", c.spec->sha256);
	print_words(&c, c.spec->sha256);
out:
	cer_free(&c);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* plan                                                                     */

static void plan_cmd(const struct ca_cer *c, struct ca_argv *a)
{
	char *line = ca_argv_line(a);

	ca_show(c, "    $ %s\n", line ? line : "?");
	free(line);
	ca_argv_free(a);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

static void plan_step(struct ca_cer *c, const struct ca_step *st)
{
	const struct ca_spec *s = c->spec;
	struct ca_argv a = {0};
	char *req;
	size_t i;

	if (strcmp(st->name, "file") == 0) {
		ca_show(c, "    The witness compares the file's words with the "
			   "reviewed copy.\n");
	} else if (strcmp(st->name, "preflight") == 0) {
		ca_show(c,
			"    Inputs and their SHA-256, certificate contents, "
			"directories, disk space, then:\n");
		if (s->type != CA_CER_ROOT && s->type != CA_CER_KEY) {
			ca_cmd_audit(c, "verify", &a);
			plan_cmd(c, &a);
		}
		if (s->type == CA_CER_REVOKE) {
			ca_cmd_audit(c, "report", &a);
			plan_cmd(c, &a);
		}
		ca_cmd_keygen(c, &a, 1);
		plan_cmd(c, &a);
		for (i = 0; i < s->approvers.n; i++) {
			if (ca_env_approver(c->env, s->approvers.v[i]) == NULL)
				continue;
			ca_cmd_check_key(c, s->approvers.v[i], &a);
			plan_cmd(c, &a);
		}
	} else if (strcmp(st->name, "keygen") == 0) {
		ca_cmd_keygen(c, &a, 0);
		plan_cmd(c, &a);
	} else if (strcmp(st->name, "revocations") == 0) {
		ca_cmd_audit(c, "report", &a);
		plan_cmd(c, &a);
	} else if (ends_with(st->name, "prepare")) {
		req = ca_request_path(c, st->op);
		ca_cmd_op(c, st->op, 0, &a);
		plan_cmd(c, &a);
		ca_cmd_show(c, req ? req : "?", &a);
		plan_cmd(c, &a);
		free(req);
	} else if (ends_with(st->name, "approvals")) {
		req = ca_request_path(c, st->op);
		for (i = 0; i < s->approvers.n; i++) {
			if (ca_env_approver(c->env, s->approvers.v[i]) == NULL)
				ca_show(c,
					"    %s, on their own machine, and the "
					"file "
					"brought here:\n",
					s->approvers.v[i]);
			ca_cmd_sign(c, st->op, s->approvers.v[i],
				    req ? req : "?", &a);
			plan_cmd(c, &a);
		}
		ca_cmd_verify(c, st->op, req ? req : "?", &a);
		plan_cmd(c, &a);
		free(req);
	} else if (st->op != CA_OP_NONE) {
		ca_cmd_op(c, st->op, 1, &a);
		plan_cmd(c, &a);
	} else if (strcmp(st->name, "verify") == 0) {
		ca_show(
		    c, "    OpenSSL path validation (strict) and certtool; the "
		       "key; the signed bytes against the approved ones.\n");
	} else if (strcmp(st->name, "record") == 0) {
		ca_show(c, "    SHA256SUMS, the audit head, record.pdf:\n");
		if (s->type != CA_CER_KEY) {
			ca_cmd_audit(c, "verify", &a);
			plan_cmd(c, &a);
		}
	} else {
		ca_show(
		    c,
		    "    The input is shown and checked against the ceremony "
		    "file.\n");
	}
}

int ca_ceremony_plan(const struct ca_ceremony_opts *o)
{
	struct ca_cer c;
	int rc, n, i;

	memset(&c, 0, sizeof(c));
	c.opts = o;
	c.rehearse = o->rehearse;
	c.state = json_object();
	c.out = strdup(o->out ? o->out : "OUT");
	GUARD(ca_spec_load(o->file, &c.spec));
	GUARD(load_env(&c, o->env));
	GUARD(find_tools(&c));
	GUARD(set_paths(&c));
	GUARD(use_env(&c));
	if (c.rehearse)
		c.module = strdup("SOFTHSM-MODULE");
	c.steps = ca_steps_for(c.spec->type, &n);
	ca_show(&c, "Ceremony file %s (%s), SHA-256 %s\n", o->file,
		ca_cer_type_name(c.spec->type), c.spec->sha256);
	ca_show(&c, "Outputs in %s; the token PIN goes to each tool on fd 3.\n",
		c.out);
	for (i = 0; i < n; i++) {
		ca_show(&c, "\nStep %d of %d: %s (%s)\n", i + 1, n,
			c.steps[i].title, c.steps[i].name);
		plan_step(&c, &c.steps[i]);
	}
out:
	cer_free(&c);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* run                                                                      */

static int read_pin(struct ca_cer *c)
{
	char prompt[200];
	int rc;

	c->pin = calloc(1, sizeof(*c->pin));
	if (c->pin == NULL)
		return ca_err(CA_EIO, "out of memory");
	(void)mlock(c->pin, sizeof(*c->pin));
	snprintf(prompt, sizeof(prompt),
		 "PIN for token '%s' (asked once): ", c->spec->token_label);
	rc = ca_pin_read(c->env->pin_source, prompt, c->pin);
	if (rc < 0)
		return ca_err_ctx(rc, "the token PIN (pin_source of %s)",
				  c->env->name);
	c->have_pin = 1;
	return CA_OK;
}

/* Refused at once, before anything is written. */
static int refuse_early(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	size_t i;

	if (c->interactive || c->rehearse)
		return CA_OK;
	if (c->env->pin_source == NULL)
		return ca_err(
		    CA_EUSAGE,
		    "--non-interactive needs a PIN source: pin_source "
		    "in the environment file (%s)",
		    c->env->name);
	for (i = 0; ca_spec_has_quorum(s) && i < s->approvers.n; i++) {
		if (ca_env_approver(c->env, s->approvers.v[i]) == NULL)
			return ca_err(
			    CA_EUSAGE,
			    "--non-interactive needs the key of every "
			    "expected approver in the environment "
			    "file: %s has none",
			    s->approvers.v[i]);
	}
	return CA_OK;
}

static int lock_out(struct ca_cer *c)
{
	char *p = ca_out_path(c, "ceremony.lock");

	if (p == NULL)
		return ca_err(CA_EIO, "out of memory");
	c->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return ca_err(CA_EUSAGE, "another hsmca-ceremony runs in %s",
			      c->out);
	return CA_OK;
}

/* A fresh output directory: new or empty. */
static int new_out(struct ca_cer *c, const char *out)
{
	struct stat st;
	char *copy;
	int rc;

	if (strpbrk(out, "\n\r\t") != NULL)
		return ca_err(CA_EUSAGE, "--out: a directory name without "
					 "control characters");
	/* An existing directory is taken only when empty (rmdir says). */
	if (stat(out, &st) == 0) {
		if (rmdir(out) != 0)
			return ca_err(
			    CA_EUSAGE,
			    "output directory %s is not empty: every "
			    "ceremony writes into a fresh directory "
			    "(to continue a stopped one: run --resume "
			    "%s)",
			    out, out);
	}
	if (mkdir(out, 0700) != 0)
		return ca_err(CA_EIO, "cannot create %s: %s", out,
			      strerror(errno));
	c->out = realpath(out, NULL);
	if (c->out == NULL)
		return ca_err(CA_EIO, "cannot resolve %s", out);
	copy = ca_out_path(c, "ceremony.yaml");
	rc = copy ? ca_out_write(copy, c->spec->raw, c->spec->raw_len, 0, 0644)
		  : ca_err(CA_EIO, "out of memory");
	free(copy);
	return rc;
}

static void begin_state(struct ca_cer *c)
{
	struct utsname u;
	struct passwd *pw = getpwuid(getuid());
	char now[32];

	ca_now_utc(now);
	if (uname(&u) != 0)
		snprintf(u.nodename, sizeof(u.nodename), "?");
	c->state = json_pack(
	    "{s:i, s:s, s:s, s:s, s:s?, s:b, s:s, s:s, s:s, s:s}", "version", 1,
	    "ceremony_sha256", c->spec->sha256, "ceremony_file", c->spec->name,
	    "type", ca_cer_type_name(c->spec->type), "title", c->spec->title,
	    "rehearse", c->rehearse, "started", now, "host", u.nodename, "user",
	    pw ? pw->pw_name : "?", "hsmca", HSMCA_VERSION);
}

/* Resumed: the copy of the ceremony file in OUT is the one recorded, and
 * the file named on the command line (if any) is the same. */
static int resume_state(struct ca_cer *c, const struct ca_ceremony_opts *o)
{
	struct ca_spec *given = NULL;
	char *copy = NULL;
	int rc;

	c->out = realpath(o->resume, NULL);
	if (c->out == NULL)
		return ca_err(CA_EUSAGE, "--resume %s: no such directory",
			      o->resume);
	GUARD(ca_progress_load(c->out, &c->state));
	copy = ca_out_path(c, "ceremony.yaml");
	GUARD(ca_spec_load(copy, &c->spec));
	GUARD(ca_check(
	    c,
	    strcmp(c->spec->sha256, json_string_value(json_object_get(
					c->state, "ceremony_sha256"))) == 0,
	    "the ceremony file kept in the output directory is the "
	    "one this ceremony began with",
	    NULL));
	if (o->file != NULL) {
		GUARD(ca_spec_load(o->file, &given));
		if (strcmp(given->sha256, c->spec->sha256) != 0) {
			rc = ca_err(CA_EPOLICY,
				    "%s is not the ceremony file %s began with "
				    "(SHA-256 %s, not %s)",
				    o->file, c->out, given->sha256,
				    c->spec->sha256);
			goto out;
		}
	}
	c->rehearse = json_is_true(json_object_get(c->state, "rehearse"));
	if (c->rehearse && o->env != NULL) {
		rc = ca_err(CA_EUSAGE, "a rehearsal keeps its own environment "
				       "file: resume it without --env");
		goto out;
	}
	/* Inputs stay where the original file named them. */
	{
		const char *base = json_string_value(
		    json_object_get(c->state, "ceremony_base"));
		char *f = strdup(base != NULL ? base : ".");

		if (f == NULL) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		free(c->spec->base);
		c->spec->base = f;
	}
out:
	ca_spec_free(given);
	free(copy);
	return rc;
}

static void log_begin(struct ca_cer *c, int argc, char **argv)
{
	struct ca_argv a = {0};
	char *line;
	int i;

	ca_tr_log(c, c->resume ? "RESUME" : "BEGIN",
		  "hsmca-ceremony %s %s host=%s user=%s mode=%s%s",
		  HSMCA_VERSION, ca_cer_type_name(c->spec->type),
		  json_string_value(json_object_get(c->state, "host")),
		  json_string_value(json_object_get(c->state, "user")),
		  c->interactive ? "interactive" : "non-interactive",
		  c->rehearse ? " rehearsal" : "");
	for (i = 0; i < argc; i++)
		ca_argv_add(&a, argv[i]);
	line = ca_argv_line(&a);
	ca_tr_log(c, "ARGS", "%s", line ? line : "");
	free(line);
	ca_argv_free(&a);
	ca_tr_log(c, "NOTE", "ceremony file %s sha256 %s", c->spec->name,
		  c->spec->sha256);
}

static int end(struct ca_cer *c, const char *how, int code)
{
	char *path = ca_out_path(c, "transcript.txt"), hex[65], *sum = NULL;
	size_t n;
	int rc = CA_OK;

	ca_tr_log(c, "END", "%s exit %d", how, code);
	ca_state_put(c, c->state, "outcome", json_string(how));
	rc = ca_progress_save(c);
	ca_tr_close(c);
	if (path != NULL && ca_sha256_file(path, hex) == CA_OK) {
		n = strlen(path) + 8;
		sum = malloc(n);
		if (sum != NULL) {
			char line[120];

			snprintf(sum, n, "%s.sha256", path);
			snprintf(line, sizeof(line), "%s  transcript.txt\n",
				 hex);
			rc = ca_out_write(sum, line, strlen(line), 1, 0644);
			ca_show(c, "\nTranscript: %s\nTranscript SHA-256: %s\n",
				path, hex);
		}
	}
	free(sum);
	free(path);
	return rc;
}

static int run_step(struct ca_cer *c, int i)
{
	const struct ca_step *st = &c->steps[i];
	int rc;

	c->step_no = i + 1;
	c->cur = st;
	ca_show(c, "\n======== Step %d of %d: %s ========\n", c->step_no,
		c->n_steps, st->title);
	ca_tr_log(c, "STEP", "%d/%d %s %s", c->step_no, c->n_steps, st->name,
		  st->title);
	GUARD(ca_progress_step_set(c, st->name, "started"));
	GUARD(st->run(c, st));
	GUARD(ca_progress_step_set(c, st->name, "done"));
	ca_tr_log(c, "DONE", "%d/%d %s", c->step_no, c->n_steps, st->name);
out:
	return rc;
}

/* Resumed: what was done is checked again, in order. */
static int reverify(struct ca_cer *c)
{
	int i, rc = CA_OK;

	ca_say(c,
	       "Resuming the ceremony in %s: what was done is checked "
	       "again first.",
	       c->out);
	for (i = 0; i < c->n_steps; i++) {
		const struct ca_step *st = &c->steps[i];

		if (strcmp(ca_progress_step_state(c, st->name), "done") != 0)
			continue;
		c->step_no = i + 1;
		c->cur = st;
		ca_tr_log(c, "NOTE", "step %d/%d %s was done%s", i + 1,
			  c->n_steps, st->name,
			  st->reverify ? ": checked again" : "");
		if (st->reverify != NULL)
			GUARD(st->reverify(c, st));
	}
	GUARD(ca_progress_save(c));
out:
	return rc;
}

static int run_steps(struct ca_cer *c)
{
	int i, rc = CA_OK;

	if (c->resume)
		GUARD(reverify(c));
	for (i = 0; i < c->n_steps; i++) {
		if (strcmp(ca_progress_step_state(c, c->steps[i].name),
			   "done") == 0)
			continue;
		GUARD(run_step(c, i));
	}
out:
	return rc;
}

static int prepare_run(struct ca_cer *c, const struct ca_ceremony_opts *o)
{
	int rc;

	if (o->resume != NULL) {
		c->resume = 1;
		GUARD(resume_state(c, o));
		{
			json_t *r =
			    ca_state_child(c, c->state, "resumed", json_array);
			char now[32];

			ca_now_utc(now);
			ca_state_append(c, r, json_string(now));
		}
	} else {
		GUARD(ca_spec_load(o->file, &c->spec));
	}
	if (c->rehearse && o->env != NULL) {
		rc = ca_err(CA_EUSAGE,
			    "--rehearse makes its own environment "
			    "(SoftHSM, throwaway approver keys): give "
			    "no --env");
		goto out;
	}
	if (c->rehearse && c->resume) {
		char *env = ca_out_path(c, "rehearsal/env.yaml");

		rc = load_env(c, env);
		free(env);
		if (rc < 0)
			goto out;
	} else {
		GUARD(load_env(c, c->rehearse ? NULL : o->env));
	}
	GUARD(refuse_early(c));
	GUARD(find_tools(c));
	if (!c->resume) {
		GUARD(new_out(c, o->out));
		begin_state(c);
		ca_state_put(c, c->state, "ceremony_base",
			     json_string(c->spec->base));
	}
	GUARD(lock_out(c));
	GUARD(set_paths(c));
	GUARD(use_env(c));
	GUARD(ca_tr_open(c, c->resume));
out:
	return rc;
}

int ca_ceremony_run(const struct ca_ceremony_opts *o, int argc, char **argv)
{
	struct ca_cer c;
	int rc, code;

	/* The tools' stdout is read through pipes: a closed terminal must
	 * not kill the ceremony half-way. */
	signal(SIGPIPE, SIG_IGN);

	memset(&c, 0, sizeof(c));
	c.opts = o;
	c.interactive = o->interactive;
	c.rehearse = o->rehearse;
	GUARD(prepare_run(&c, o));
	log_begin(&c, argc, argv);
	ca_show(&c,
		"hsmca-ceremony: %s ceremony%s, transcript %s/transcript.txt\n",
		ca_cer_type_name(c.spec->type), c.rehearse ? " REHEARSAL" : "",
		c.out);
	if (c.rehearse && !c.resume) {
		GUARD(ca_rehearse_setup(&c));
		{
			char *env = ca_out_path(&c, "rehearsal/env.yaml");

			rc = load_env(&c, env);
			free(env);
			if (rc < 0)
				goto out;
		}
		GUARD(use_env(&c));
	}
	GUARD(read_pin(&c));
	if (c.rehearse && !c.resume)
		GUARD(ca_rehearse_standins(&c));
	c.steps = ca_steps_for(c.spec->type, &c.n_steps);
	GUARD(run_steps(&c));
	ca_show(&c, "\n");
	ca_say(&c, "Ceremony complete. Outputs: %s", c.out);
	rc = end(&c, "ok", 0);
out:
	if (rc < 0 && c.tr != NULL) {
		code = rc == CA_CER_STOPPED ? 4 : ca_exit_code(rc);
		ca_tr_log(&c, "NOTE", "ceremony %s: %s",
			  rc == CA_CER_STOPPED ? "stopped" : "failed",
			  ca_errmsg());
		ca_warn(&c, "\nhsmca-ceremony: %s\n", ca_errmsg());
		ca_warn(&c,
			"The ceremony stops here; what was done is "
			"recorded in %s.\nAfter fixing the cause, "
			"continue with: hsmca-ceremony run --resume %s%s%s\n",
			c.out, c.out,
			c.rehearse || o->env == NULL ? "" : " --env ",
			c.rehearse || o->env == NULL ? "" : o->env);
		(void)end(&c, rc == CA_CER_STOPPED ? "stopped" : "failed",
			  code);
		ca_err_clear();
	}
	cer_free(&c);
	return rc;
}
