/* The transcript (one line per event, each starting with its UTC time),
 * what the room is shown, the witness's confirmations and the recorded
 * hashes of artifacts. The line kinds are those of the earlier runbooks:
 *   BEGIN RESUME ARGS STEP DONE NOTE RUN > EXIT CHECK ASK CONFIRM REFUSED
 *   SHA256 KEY AUDIT-HEAD END
 */
#include "ceremony/internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "base/sha256.h"
#include "base/time.h"
#include "base/words.h"

static void show(const struct ca_cer *c, int warn, const char *fmt, va_list ap)
{
	char text[8192];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (warn)
		c->opts->ui->warn(c->opts->ui->ctx, text);
	else
		c->opts->ui->text(c->opts->ui->ctx, text);
}

void ca_show(const struct ca_cer *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	show(c, 0, fmt, ap);
	va_end(ap);
}

void ca_warn(const struct ca_cer *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	show(c, 1, fmt, ap);
	va_end(ap);
}

void ca_now_utc(char out[32])
{
	ca_time_rfc3339(ca_now(), out, 32);
}

int ca_tr_open(struct ca_cer *c, int append)
{
	char *path = ca_out_path(c, "transcript.txt");

	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	c->tr = fopen(path, append ? "ae" : "wxe");
	if (c->tr == NULL) {
		int rc = ca_err(CA_EIO, "cannot open %s", path);

		free(path);
		return rc;
	}
	free(path);
	return CA_OK;
}

void ca_tr_close(struct ca_cer *c)
{
	if (c->tr != NULL) {
		fflush(c->tr);
		(void)fsync(fileno(c->tr));
		fclose(c->tr);
		c->tr = NULL;
	}
}

/* Control characters never reach the transcript. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void ca_tr_log(struct ca_cer *c, const char *kind, const char *fmt, ...)
{
	char now[32], msg[4096];
	va_list ap;

	if (c->tr == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_now_utc(now);
	fprintf(c->tr, "%s %s", now, kind);
	if (msg[0] != '\0') {
		fputc(' ', c->tr);
		put_clean(c->tr, msg);
	}
	fputc('\n', c->tr);
	fflush(c->tr);
}

void ca_say(struct ca_cer *c, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_show(c, "%s\n", msg);
	ca_tr_log(c, "NOTE", "%s", msg);
}

int ca_check(struct ca_cer *c, int ok, const char *what, const char *fmt, ...)
{
	char detail[1024] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (ok) {
		ca_show(c, "  OK: %s\n", what);
		ca_tr_log(c, "CHECK", "ok %s%s%s%s", what,
			  detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
		return CA_OK;
	}
	ca_tr_log(c, "CHECK", "FAILED %s%s%s", what, detail[0] ? ": " : "",
		  detail);
	return ca_err(CA_EPOLICY, "check failed: %s%s%s", what,
		      detail[0] ? ": " : "", detail);
}

static void keep_answer(struct ca_cer *c, const char *q, const char *a)
{
	json_t *st = c->cur ? ca_progress_step(c, c->cur->name) : NULL;
	json_t *answers;
	char now[32];

	if (st == NULL)
		return;
	answers = ca_state_child(c, st, "answers", json_array);
	ca_now_utc(now);
	ca_state_append(c, answers,
			json_pack("{s:s, s:s, s:s}", "question", q, "answer", a,
				  "time", now));
}

/* The witness's answer, printable, at most 80 characters shown. */
static void read_answer(struct ca_cer *c, char *ans, size_t len)
{
	const struct ca_ceremony_ui *ui = c->opts->ui;
	size_t i;

	if (ui->answer(ui->ctx, ans, len) < 0) {
		snprintf(ans, len, "(end of input)");
		return;
	}
	ans[strcspn(ans, "\r\n")] = '\0';
	for (i = 0; ans[i] != '\0'; i++) {
		if ((unsigned char)ans[i] < 0x20 || ans[i] == 0x7f)
			ans[i] = '?';
	}
	if (strlen(ans) > 80)
		ans[80] = '\0';
}

int ca_confirm(struct ca_cer *c, const char *fmt, ...)
{
	char q[1024], ans[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	ca_show(c, "\n%s\n", q);
	ca_tr_log(c, "ASK", "%s", q);
	if (!c->interactive) {
		ca_tr_log(c, "CONFIRM",
			  "step %d: not asked (--non-interactive)", c->step_no);
		keep_answer(c, q, "not asked (non-interactive)");
		return CA_OK;
	}
	ca_show(c, "Witness, type \"yes\" to confirm: ");
	read_answer(c, ans, sizeof(ans));
	if (strcmp(ans, "yes") == 0) {
		ca_tr_log(c, "CONFIRM", "step %d: witness typed yes",
			  c->step_no);
		keep_answer(c, q, "yes");
		return CA_OK;
	}
	ca_tr_log(c, "REFUSED", "step %d: witness typed '%s'", c->step_no, ans);
	keep_answer(c, q, ans);
	return ca_err(CA_CER_STOPPED,
		      "the witness did not confirm (typed '%s'): the ceremony "
		      "stops at step %d",
		      ans, c->step_no);
}

int ca_record_file(struct ca_cer *c, const char *kind, const char *path,
		   char hex[65])
{
	json_t *arts, *e;
	size_t i;

	if (ca_sha256_file(path, hex) < 0)
		return ca_err(CA_EIO, "expected %s file %s cannot be read",
			      kind, path);
	ca_show(c, "  %-6s sha256 %s  %s\n", kind, hex, path);
	ca_tr_log(c, "SHA256", "%s %s %s", kind, hex, path);
	arts = ca_state_child(c, c->state, "artifacts", json_array);
	json_array_foreach(arts, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "path")),
			   path) == 0) {
			ca_state_put(c, e, "sha256", json_string(hex));
			return CA_OK;
		}
	}
	ca_state_append(c, arts,
			json_pack("{s:s, s:s, s:s}", "kind", kind, "path", path,
				  "sha256", hex));
	return CA_OK;
}

char *ca_words_hex(const char *hex)
{
	unsigned char d[32];
	char words[600], *out;
	size_t n = 0, i, o = 0, w = 0;

	if (ca_unhex(hex, d, sizeof(d), &n) < 0 || n != 32)
		return NULL;
	ca_words(d, 32, words, sizeof(words));
	out = malloc(strlen(words) + 8);
	if (out == NULL)
		return NULL;
	/* Eight words a line. */
	for (i = 0; words[i] != '\0'; i++) {
		if (words[i] == ' ' && ++w % 8 == 0)
			out[o++] = '\n';
		else
			out[o++] = words[i];
	}
	out[o] = '\0';
	return out;
}
