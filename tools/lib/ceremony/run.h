/* hsmca-ceremony's entry points: check a ceremony file, print its plan,
 * run it (or rehearse it, or resume it).
 *
 * A run writes into one output directory: a copy of the ceremony file,
 * the transcript, progress.json (what is done, for --resume), requests,
 * approvals, the outputs, SHA256SUMS and record.pdf.
 */
#ifndef HSMCA_CEREMONY_RUN_H
#define HSMCA_CEREMONY_RUN_H

#include "common/err.h"

/* The witness did not confirm: the ceremony stopped (exit status 4). */
#define CA_CER_STOPPED (-4)

struct ca_ceremony_opts {
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
