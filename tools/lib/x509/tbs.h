/* One typed TBS: the bytes a CA key signs, and the marks that say which
 * steps of the flow have passed them.
 *
 * The flow is build TBS -> lint -> approve (quorum keys) -> sign. The
 * signing step (sign/tbs.h) takes only a struct ca_tbs, and refuses one
 * that the lint step did not mark, or, for a quorum-protected key, that
 * the approval step did not mark (a quorum protects CA certificates and
 * CRLs; end-entity certificates are issued without approvals, SPEC.md). A mark
 * is HMAC-SHA256 under a key drawn at random once per process, over the step,
 * the kind and the exact bytes; the signer recomputes it from the bytes it is
 * about to sign, so a TBS changed after lint (or after approval) is refused as
 * well as one that skipped a step. The key never leaves this process and is
 * never written anywhere: a mark means nothing outside the run that made it.
 *
 * This is a guard against a flow wired wrongly (a new action that forgets
 * lint, bytes rebuilt between lint and sign), not against code in the same
 * process that wants to cheat: only lint/ and quorum/ call ca_tbs_mark()
 * (tests/check-layers keeps every other folder from including
 * x509/tbsmark.h).
 *
 * A TBS is head || body || tail. A certificate is all head. A CRL's body
 * is its revokedCertificates entries, which can be too many to hold in
 * memory: they are streamed (lint as they are encoded, the signer as they
 * are hashed), so the body enters the mark as its own MAC, computed by
 * whoever streams it (struct ca_tbs_body), chunk by chunk in order. */
#ifndef HSMCA_X509_TBS_H
#define HSMCA_X509_TBS_H

#include <stddef.h>

#include "common/err.h"

enum ca_tbs_kind {
	CA_TBS_CA_CERT = 1, /* a CA's TBSCertificate: root, sub-CA, cross */
	CA_TBS_LEAF_CERT,   /* an end-entity TBSCertificate */
	CA_TBS_CRL,	    /* a TBSCertList */
	CA_TBS_REVOCATION,  /* a revocation statement: approved, never signed */
};

enum ca_tbs_step {
	CA_TBS_LINTED,
	CA_TBS_APPROVED,
};

#define CA_TBS_MARK_LEN 32

struct ca_tbs {
	enum ca_tbs_kind kind;
	const unsigned char *der; /* the whole TBS (borrowed), or NULL */
	size_t len;		  /* the whole TBS's length */
	const unsigned char *head, *tail; /* borrowed */
	size_t head_len, tail_len;
	/* Set only by the lint and the approval steps. */
	unsigned char mark[2][CA_TBS_MARK_LEN];
	unsigned char marked[2];
};

/* A certificate TBS of either kind. */
int ca_tbs_is_cert(const struct ca_tbs *t);
/* The kinds a quorum-protected key signs only once approved. */
int ca_tbs_needs_approval(const struct ca_tbs *t);

/* A TBS held whole in memory: head = der, no body, no tail. */
void ca_tbs_init(struct ca_tbs *t, enum ca_tbs_kind kind,
		 const unsigned char *der, size_t len);
/* A framed TBS (a CRL): head || body || tail, len in all; der is the
 * whole TBS when it is in memory, NULL when the body is streamed. */
void ca_tbs_init_framed(struct ca_tbs *t, enum ca_tbs_kind kind,
			const unsigned char *der, size_t len,
			const unsigned char *head, size_t head_len,
			const unsigned char *tail, size_t tail_len);
/* The body of a TBS in memory: der + head_len, len - head_len - tail_len. */
size_t ca_tbs_body(const struct ca_tbs *t, const unsigned char **body);
const char *ca_tbs_kind_name(enum ca_tbs_kind kind);
/* CA_OK when the whole TBS is in memory (t->der), else an internal error
 * naming the step that needs it ("mark", "approve", "sign"). */
int ca_tbs_in_memory(const struct ca_tbs *t, const char *step) CA_WUR;

/* The MAC of a streamed body: new, update (any chunking), final (frees). */
typedef struct ca_tbs_body_mac ca_tbs_body_mac;
int ca_tbs_body_mac_new(ca_tbs_body_mac **out) CA_WUR;
int ca_tbs_body_mac_update(ca_tbs_body_mac *m, const unsigned char *data,
			   size_t len) CA_WUR;
int ca_tbs_body_mac_final(ca_tbs_body_mac *m,
			  unsigned char out[CA_TBS_MARK_LEN]) CA_WUR;
void ca_tbs_body_mac_free(ca_tbs_body_mac *m);

/* Whether step's mark is present and matches the bytes: 0 yes, 1 no,
 * negative on error. body_mac: the MAC of the body as the caller streamed
 * it, or NULL when t->der holds the whole TBS. */
int ca_tbs_marked(const struct ca_tbs *t, enum ca_tbs_step step,
		  const unsigned char *body_mac) CA_WUR;

#endif
