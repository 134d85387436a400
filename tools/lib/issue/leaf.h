/* Issuing end-entity certificates: one from the command line, or a batch
 * from a serverless-CA tls.json. */
#ifndef HSMCA_ISSUE_LEAF_H
#define HSMCA_ISSUE_LEAF_H

#include <signal.h>

#include <jansson.h>

#include "common/err.h"

/* A batch's summary keeps this many refusals in memory (for the tool to
 * show); summary.json lists them all. */
#define CA_LEAF_REFUSALS_SHOWN 20

/* How far a batch is. */
struct ca_leaf_progress {
	size_t done, total; /* requests */
	long issued, already, refused;
};

/* Signatures in flight: they wait on the token, not on the CPUs (a slow
 * token hides its latency behind others' signatures). */
#define CA_LEAF_IN_FLIGHT_DEFAULT 8
#define CA_LEAF_IN_FLIGHT_MAX	  64

struct ca_leaf_params {
	const char *ca_dir;
	const char *profile; /* default "server-client" */
	const char *pin_source;
	int force; /* replace existing output files */
	/* one certificate */
	const char *csr;
	const char *cn;
	struct ca_san *sans;
	size_t n_sans;
	const char **ekus;
	size_t n_ekus;
	long days; /* 0: the profile's default */
	int force_issue;
	const char *renew; /* serial renewed (canonical hex), or NULL */
	const char *out;
	const char *chain_out;
	/* batch */
	const char *requests;
	const char *csr_dir;
	const char *out_dir;
	/* signatures on the token at once (0: CA_LEAF_IN_FLIGHT_DEFAULT),
	 * bounded by the token's session limit */
	int in_flight;
	/* after each chunk of a batch (NULL: nothing); the tool draws it */
	void (*progress)(const struct ca_leaf_progress *pr, void *ctx);
	void *progress_ctx;
	/* batch: set (to the signal's number) by the tool's SIGINT/SIGTERM
	 * handler; the batch stops at the next chunk boundary, or before
	 * the current chunk signs anything, keeping what is committed */
	volatile sig_atomic_t *stop;
	/* --check: validate the requests and CSRs (syntax, signatures, lint
	 * of the certificate as it would be built); no token, no store
	 * change, nothing signed or written */
	int check;
};

/* Issue; *summary gets a JSON object: {"issued": n, "already_issued": n,
 * "refused": n, "results": [{"index", "common_name", "status", "serial",
 * "certificate", "chain", "reason", "renews"}], "refusals": [the refused
 * results]}.
 * A batch keeps its results out of memory: they go to OUT_DIR/summary.json
 * (the same object) and "results" stays empty; "refusals" holds the first
 * CA_LEAF_REFUSALS_SHOWN. Returns CA_EPOLICY when a
 * single request was refused, or when any batch request was refused (the
 * others are still issued), CA_OK otherwise. */
int ca_leaf_issue(const struct ca_leaf_params *p, json_t **summary) CA_WUR;

#endif
