/* hsmca-ceremony's entry points: check a ceremony file, print its plan,
 * run it (or rehearse it, or resume it).
 *
 * A run writes into one output directory: a copy of the ceremony file,
 * the transcript, progress.json (what is done, for --resume), requests,
 * approvals, the outputs, SHA256SUMS and record.pdf.
 */
#ifndef HSMCA_CEREMONY_RUN_H
#define HSMCA_CEREMONY_RUN_H

#include <stddef.h>

#include "common/err.h"

/* The witness did not confirm: the ceremony stopped (exit status 4). */
#define CA_CER_STOPPED (-4)

/* Presentation belongs to the program: the library writes what the room
 * sees through text() (whole lines, or a prompt without its newline) and
 * reads the witness's answers through answer() (one line without its
 * newline; -1 at the end of input). warn() is for errors. */
struct ca_ceremony_ui {
	void (*text)(void *ctx, const char *text);
	void (*warn)(void *ctx, const char *text);
	int (*answer)(void *ctx, char *buf, size_t len);
	void *ctx;
};

struct ca_ceremony_opts {
	const struct ca_ceremony_ui *ui;
	const char *file;   /* the ceremony file (run: optional on resume) */
	const char *env;    /* the environment file, or NULL */
	const char *out;    /* the output directory */
	const char *resume; /* resume this output directory */
	int interactive;
	int rehearse;
};

/* Validate FILE and what it names; print its SHA-256 and words. */
int ca_ceremony_check(const struct ca_ceremony_opts *o) CA_WUR;
/* Print every step with the exact command lines. */
int ca_ceremony_plan(const struct ca_ceremony_opts *o) CA_WUR;
/* Run (or resume) the ceremony; argv is logged in the transcript. */
int ca_ceremony_run(const struct ca_ceremony_opts *o, int argc,
		    char **argv) CA_WUR;

#endif
