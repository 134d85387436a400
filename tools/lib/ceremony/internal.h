/* Private to tools/lib/ceremony: the state of one ceremony run, shared by
 * the modules of the folder (exec, transcript, progress, steps, ...). */
#ifndef HSMCA_CEREMONY_INTERNAL_H
#define HSMCA_CEREMONY_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "ceremony/env.h"
#include "ceremony/run.h"
#include "ceremony/spec.h"
#include "common/err.h"
#include "common/pin.h"

/* A growing argument vector (NULL-terminated). */
struct ca_argv {
	char **v;
	size_t n, cap;
	int oom;
};
void ca_argv_add(struct ca_argv *a, const char *s);
void ca_argv_addf(struct ca_argv *a, const char *fmt, ...) CA_PRINTF(2, 3);
void ca_argv_free(struct ca_argv *a);

/* Quorum-protected operations a ceremony executes in two phases. */
enum ca_op {
	CA_OP_ROOT,   /* init-ca --self-sign */
	CA_OP_SUBCA,  /* sign-subca --csr */
	CA_OP_CROSS,  /* sign-subca --cross-sign */
	CA_OP_REVOKE, /* revoke --serial */
	CA_OP_CRL,    /* gen-crl */
	CA_OP_NONE
};
const char *ca_op_name(enum ca_op op);	 /* "root", "subca", ... */
const char *ca_op_action(enum ca_op op); /* the request's action */

struct ca_cer;

struct ca_step {
	const char *name;
	const char *title;
	enum ca_op op;
	int (*run)(struct ca_cer *c, const struct ca_step *st);
	/* On resume, for a step done before: check it still holds. */
	int (*reverify)(struct ca_cer *c, const struct ca_step *st);
};

struct ca_cer {
	struct ca_spec *spec;
	struct ca_env *env;
	const struct ca_ceremony_opts *opts;
	char *tools; /* directory of the hsmca tools */
	char *out;   /* absolute output directory */
	int interactive, rehearse, resume;
	/* What the tools are given (relocated under out/rehearsal/ when
	 * rehearsing). */
	char *ca_dir;	    /* the CA directory (root: to create) */
	char *quorum;	    /* the quorum file */
	char *module;	    /* --module for the tools, or NULL */
	char *revoke_cert;  /* the certificate to revoke */
	struct ca_pin *pin; /* the token PIN (locked memory), or NULL */
	int have_pin;
	FILE *tr;	  /* transcript */
	json_t *state;	  /* progress.json */
	int state_failed; /* a value could not be recorded (out of memory):
			   * progress.json is not saved */
	const struct ca_step *steps;
	int n_steps, step_no;
	const struct ca_step *cur;
	int lock_fd;
};

/* --- exec.c: running the tools ------------------------------------------ */
/* Shell quoting of one word, for commands shown and logged (static
 * buffer rotation: valid until the 8th next call). */
const char *ca_q(const char *s);
/* A tool's full path: TOOLS/hsmca-NAME (malloc'd). */
char *ca_tool_path(const struct ca_cer *c, const char *name);
/* Show, log and run argv (argv[0]: a path, or a name searched in PATH);
 * stdin is /dev/null, the PIN is handed on fd 3 when pin is set. stderr
 * is shown (indented) and logged as it comes; stdout is logged and kept:
 * when json is not NULL it is parsed into *json (NULL when not JSON).
 * *status: the exit status (128 + signal when killed). Returns CA_OK
 * when the command ran, whatever its status. */
int ca_exec(struct ca_cer *c, const struct ca_argv *argv, int pin,
	    json_t **json, int *status) CA_WUR;
/* ca_exec that must succeed: a failure stops the ceremony with the
 * tool's exit status mapped (3 stays a refusal, else an error). */
int ca_exec_must(struct ca_cer *c, const struct ca_argv *argv, int pin,
		 json_t **json) CA_WUR;
/* The command line as shown (malloc'd). */
char *ca_argv_line(const struct ca_argv *a);

/* --- transcript.c ----------------------------------------------------- */
/* To the room (the program's ui), not to the transcript. */
void ca_show(const struct ca_cer *c, const char *fmt, ...) CA_PRINTF(2, 3);
void ca_warn(const struct ca_cer *c, const char *fmt, ...) CA_PRINTF(2, 3);
void ca_now_utc(char out[32]);
int ca_tr_open(struct ca_cer *c, int append) CA_WUR;
void ca_tr_close(struct ca_cer *c);
void ca_tr_log(struct ca_cer *c, const char *kind, const char *fmt, ...)
    CA_PRINTF(3, 4);
/* Shown to the room and logged as NOTE (one line each). */
void ca_say(struct ca_cer *c, const char *fmt, ...) CA_PRINTF(2, 3);
/* A check: shown as "  OK: what" and logged; a failure stops the
 * ceremony (CA_EPOLICY) with detail. */
int ca_check(struct ca_cer *c, int ok, const char *what, const char *fmt, ...)
    CA_PRINTF(4, 5);
/* The witness types "yes" or the ceremony stops (CA_CER_STOPPED). Not
 * asked when non-interactive (logged as such). The answer is kept in the
 * step's record. */
int ca_confirm(struct ca_cer *c, const char *fmt, ...) CA_PRINTF(2, 3);
/* SHA-256 of a file, shown, logged ("SHA256 input|output HEX PATH") and
 * kept in the list of artifacts. */
int ca_record_file(struct ca_cer *c, const char *kind, const char *path,
		   char hex[65]) CA_WUR;
/* Words for a 32-byte digest given in hex, eight a line (malloc'd). */
char *ca_words_hex(const char *hex);

/* --- progress.c ---------------------------------------------------------- */
int ca_progress_save(struct ca_cer *c) CA_WUR;
int ca_progress_load(const char *out, json_t **state) CA_WUR;
/* The state (progress.json) is changed only through these: a value that
 * cannot be recorded is kept as a failure that refuses the next save. */
void ca_state_put(struct ca_cer *c, json_t *obj, const char *key, json_t *v);
void ca_state_append(struct ca_cer *c, json_t *arr, json_t *v);
/* obj[key], made by make() (json_object, json_array) when absent. */
json_t *ca_state_child(struct ca_cer *c, json_t *obj, const char *key,
		       json_t *(*make)(void));
json_t *ca_progress_step(struct ca_cer *c, const char *name); /* borrowed */
const char *ca_progress_step_state(struct ca_cer *c, const char *name);
int ca_progress_step_set(struct ca_cer *c, const char *name,
			 const char *state) CA_WUR;
/* state.values.KEY (a string), or NULL. */
const char *ca_val(struct ca_cer *c, const char *key);
void ca_val_set(struct ca_cer *c, const char *key, const char *v);
json_t *ca_op_state(struct ca_cer *c, enum ca_op op); /* borrowed, made */
const char *ca_op_str(struct ca_cer *c, enum ca_op op, const char *key);
void ca_op_set(struct ca_cer *c, enum ca_op op, const char *key,
	       json_t *v); /* steals v */

/* --- cmd.c: the tools' command lines (run and plan alike) ------------------
 */
/* The output directory's files. */
char *ca_out_path(const struct ca_cer *c, const char *fmt, ...) CA_PRINTF(2, 3);
char *ca_request_path(struct ca_cer *c, enum ca_op op);
char *ca_approvals_dir(const struct ca_cer *c, enum ca_op op);
char *ca_lint_path(const struct ca_cer *c, enum ca_op op);
char *ca_key_uri_text(const struct ca_cer *c);
char *ca_token_uri_text(const struct ca_cer *c);
void ca_cmd_keygen(struct ca_cer *c, struct ca_argv *a, int check);
/* The quorum operation's command: phase 0 prepare, 1 execute. */
void ca_cmd_op(struct ca_cer *c, enum ca_op op, int execute, struct ca_argv *a);
void ca_cmd_show(struct ca_cer *c, const char *request, struct ca_argv *a);
void ca_cmd_sign(struct ca_cer *c, enum ca_op op, const char *id,
		 const char *request, struct ca_argv *a);
void ca_cmd_verify(struct ca_cer *c, enum ca_op op, const char *request,
		   struct ca_argv *a);
void ca_cmd_check_key(struct ca_cer *c, const char *id, struct ca_argv *a);
void ca_cmd_audit(struct ca_cer *c, const char *what, struct ca_argv *a);

/* --- inputs.c: the files a ceremony file names --------------------------- */
/* Quorum: exists, hashes to the file's quorum.sha256, parses, holds the
 * expected approvers, enough of them. Inputs of subca, cross and
 * revoke-subca likewise. Each finding is said; refusals are CA_EPOLICY
 * (CA_EIO for a missing file). */
int ca_inputs_check(struct ca_cer *c) CA_WUR;
/* The type's own input only (CSR, certificate to cross-sign or revoke). */
int ca_input_check(struct ca_cer *c) CA_WUR;
/* Threshold and approvers of a quorum file, with their keys' SHA-256. */
int ca_quorum_show(struct ca_cer *c, const char *path) CA_WUR;
/* SHA-256 of the DER SubjectPublicKeyInfo of a PEM/DER certificate,
 * CSR or public key file. */
int ca_spki_of_file(const char *path, char hex[65]) CA_WUR;

/* --- x509.c: reading what the tools wrote (PEM or DER; CSRs with csr.h) --- */
int ca_cert_load(const char *path, X509 **out) CA_WUR;
int ca_crl_load(const char *path, X509_CRL **out) CA_WUR;
/* SHA-256 of a DER SubjectPublicKeyInfo. */
void ca_spki_sha256_hex(X509_PUBKEY *k, char hex[65]);
/* SHA-256 of the signed part (TBS) of a certificate or CRL file. */
int ca_tbs_sha256_of_file(const char *path, char hex[65]) CA_WUR;
/* RFC 4514 text of a name (malloc'd). */
char *ca_name_text(const X509_NAME *n);
/* Lowercase hex of a certificate's serial (as the tools print it). */
int ca_cert_serial_hex(X509 *x, char hex[64]) CA_WUR;

/* --- steps.c, verify.c, preflight.c --------------------------------------- */
const struct ca_step *ca_steps_for(enum ca_cer_type t, int *n);
int ca_preflight(struct ca_cer *c) CA_WUR;
int ca_step_verify(struct ca_cer *c, const struct ca_step *st) CA_WUR;

/* --- rehearse.c ---------------------------------------------------------- */
/* Fresh SoftHSM tokens, throwaway approver keys, a rehearsal quorum and
 * environment, and stand-ins for what the real ceremony finds (the
 * signing CA, the certificate to revoke). */
int ca_rehearse_setup(struct ca_cer *c) CA_WUR;
/* Once the environment is loaded and the PIN read: the stand-in signing
 * CA (and certificate to revoke) the ceremony type needs. */
int ca_rehearse_standins(struct ca_cer *c) CA_WUR;
/* On resume: SOFTHSM2_CONF and paths from out/rehearsal. */
int ca_rehearse_env(struct ca_cer *c) CA_WUR;

/* --- record.c ----------------------------------------------------------------
 */
/* out/record.pdf from the progress state and the artifacts. */
int ca_record_pdf(struct ca_cer *c, const char *path) CA_WUR;

#endif
