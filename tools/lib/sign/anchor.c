#include "sign/anchor.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/audit.h"

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static json_t *state_json(const struct ca_anchor_state *st)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:s}", "seq",
			 (json_int_t)st->seq, "hash", st->hash, "crl",
			 (json_int_t)st->crl, "nonces", (json_int_t)st->nonces,
			 "nonce_digest", st->nonce_digest);
}

static int state_parse(json_t *o, struct ca_anchor_state *st)
{
	json_int_t seq, crl, nonces;
	const char *hash, *digest;

	if (json_unpack(o, "{s:I, s:s, s:I, s:I, s:s}", "seq", &seq, "hash",
			&hash, "crl", &crl, "nonces", &nonces, "nonce_digest",
			&digest) != 0 ||
	    strlen(hash) != 64 || strlen(digest) != 64)
		return CA_EPOLICY;
	st->seq = (long)seq;
	st->crl = (long long)crl;
	st->nonces = (long)nonces;
	memcpy(st->hash, hash, 65);
	memcpy(st->nonce_digest, digest, 65);
	return CA_OK;
}

static int same_state(const struct ca_anchor_state *a,
		      const struct ca_anchor_state *b)
{
	return a->seq == b->seq && strcmp(a->hash, b->hash) == 0 &&
	       a->crl == b->crl && a->nonces == b->nonces &&
	       strcmp(a->nonce_digest, b->nonce_digest) == 0;
}

static int write_anchor(struct ca_anchor *a, int create)
{
	json_t *o = json_pack("{s:i, s:I, s:s, s:o}", "version", 1, "gen",
			      (json_int_t)++a->gen, "ca_id", a->ca_id,
			      "committed", state_json(&a->committed));
	char *text;
	int rc;

	if (o != NULL && a->has_pending &&
	    json_object_set_new(o, "pending", state_json(&a->pending)) < 0) {
		json_decref(o);
		o = NULL;
	}
	text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (text == NULL)
		return ca_err(CA_EIO, "cannot encode the token anchor");
	rc = ca_token_data_write(a->tok, CA_ANCHOR_APP, a->label,
				 (const unsigned char *)text, strlen(text),
				 create);
	free(text);
	return rc;
}

void ca_anchor_free(struct ca_anchor *a)
{
	if (a == NULL)
		return;
	ca_token_free(a->tok);
	free(a->dir);
	free(a);
}

static struct ca_anchor *anchor_new(ca_token *tok, const char *spki_hex)
{
	struct ca_anchor *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->tok = ca_token_ref(tok);
	snprintf(a->label, sizeof(a->label), "hsmca anchor %s", spki_hex);
	return a;
}

/* One stored value into a; CA_EPOLICY when it is not an anchor. */
static int parse_anchor(const unsigned char *val, size_t len,
			struct ca_anchor *a)
{
	json_t *o = json_loadb((const char *)val, len, 0, NULL);
	const char *id = NULL;
	json_int_t gen = 0;
	int rc = CA_EPOLICY;

	if (o == NULL ||
	    json_unpack(o, "{s:s, s:I}", "ca_id", &id, "gen", &gen) != 0 ||
	    strlen(id) != 32 ||
	    state_parse(json_object_get(o, "committed"), &a->committed) < 0 ||
	    (json_object_get(o, "pending") != NULL &&
	     state_parse(json_object_get(o, "pending"), &a->pending) < 0))
		goto out;
	memcpy(a->ca_id, id, 33);
	a->gen = (long long)gen;
	a->has_pending = json_object_get(o, "pending") != NULL;
	rc = CA_OK;
out:
	json_decref(o);
	return rc;
}

int ca_anchor_open(ca_token *tok, const char *spki_hex, struct ca_anchor **out)
{
	struct ca_anchor *a = anchor_new(tok, spki_hex), *b = NULL;
	struct ca_token_data d;
	size_t i;
	int rc;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	if (a == NULL || (b = anchor_new(tok, spki_hex)) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_token_data_read(tok, CA_ANCHOR_APP, a->label, &d));
	if (d.n == 0)
		goto out;
	a->gen = -1;
	for (i = 0; i < d.n; i++) {
		if (parse_anchor(d.val[i], d.len[i], b) < 0) {
			rc = ca_err(CA_EPOLICY,
				    "the token anchor '%s' on token '%s' is "
				    "not readable: refusing to sign",
				    a->label, ca_token_label(tok));
			goto out;
		}
		if (b->gen > a->gen) {
			memcpy(a->ca_id, b->ca_id, sizeof(a->ca_id));
			a->gen = b->gen;
			a->committed = b->committed;
			a->pending = b->pending;
			a->has_pending = b->has_pending;
		}
	}
	*out = a;
	a = NULL;
out:
	ca_token_data_clear(&d);
	ca_anchor_free(a);
	ca_anchor_free(b);
	return rc;
}

int ca_anchor_state_of(ca_store *s, long nonces, struct ca_anchor_state *st)
{
	struct ca_audit_head head;
	char *crl = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	GUARD(ca_audit_head(s, &head));
	st->seq = head.seq;
	memcpy(st->hash, head.hash, 65);
	GUARD(ca_store_meta_get(s, "crl_number", &crl));
	st->crl = crl ? strtoll(crl, NULL, 10) : 0;
	GUARD(ca_store_nonce_digest(s, nonces, &st->nonces, st->nonce_digest));
out:
	free(crl);
	return rc;
}

int ca_anchor_create(ca_token *tok, const char *spki_hex, const char *ca_id,
		     const char *dir, ca_store *s, struct ca_anchor **out)
{
	struct ca_anchor *a = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_anchor_open(tok, spki_hex, &a));
	if (a != NULL) {
		rc = ca_err(CA_EPOLICY,
			    "the key already serves the CA directory with id "
			    "%s (token anchor '%s' on token '%s'): a key "
			    "serves one CA directory",
			    a->ca_id, a->label, ca_token_label(tok));
		goto out;
	}
	a = anchor_new(tok, spki_hex);
	if (a == NULL || (a->dir = strdup(dir)) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	snprintf(a->ca_id, sizeof(a->ca_id), "%s", ca_id);
	GUARD(ca_anchor_state_of(s, -1, &a->committed));
	rc = write_anchor(a, 1);
	if (rc < 0 && rc != CA_EPOLICY)
		rc = ca_err(rc,
			    "%s: the CA cannot be anchored on its token; "
			    "hsmca-init-ca --unanchored creates it without "
			    "the anchor (README: Token anchor)",
			    ca_errmsg());
	if (rc < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	ca_anchor_free(a);
	return rc;
}

void ca_anchor_destroy(struct ca_anchor *a)
{
	if (a != NULL &&
	    ca_token_data_destroy(a->tok, CA_ANCHOR_APP, a->label) < 0)
		fprintf(stderr, "warning: %s\n", ca_errmsg());
}

/* Does the store hold audit entry st->seq with st->hash? */
static int store_holds(ca_store *s, const struct ca_anchor_state *st,
		       int *holds, char found[65], int *has)
{
	int rc = CA_OK;

	*holds = 0;
	if (st->seq == 0) {
		*has = 1;
		memcpy(found, zero_hash, 65);
	} else {
		GUARD(ca_audit_entry_hash(s, st->seq, found, has));
	}
	*holds = *has && strcmp(found, st->hash) == 0;
out:
	return rc;
}

int ca_anchor_verify(struct ca_anchor *a, ca_store *s, const char *ca_id,
		     const char *dir)
{
	struct ca_anchor_state now;
	struct ca_audit_head head;
	char found[65];
	int holds, has, rc;

	free(a->dir);
	if ((a->dir = strdup(dir)) == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (ca_id == NULL || strcmp(ca_id, a->ca_id) != 0)
		return ca_err(CA_EPOLICY,
			      "the token anchor '%s' on token '%s' belongs to "
			      "the CA directory with id %s, not to %s (id "
			      "%s): a key serves one CA directory",
			      a->label, ca_token_label(a->tok), a->ca_id, dir,
			      ca_id ? ca_id : "none");
	if (a->has_pending) {
		GUARD(store_holds(s, &a->pending, &holds, found, &has));
		if (holds) {
			/* The commit happened; the promotion did not. */
			a->committed = a->pending;
			a->has_pending = 0;
			GUARD(write_anchor(a, 0));
		} else {
			GUARD(
			    store_holds(s, &a->committed, &holds, found, &has));
			if (holds) {
				/* The commit never happened. */
				a->has_pending = 0;
				GUARD(write_anchor(a, 0));
			}
		}
	}
	GUARD(store_holds(s, &a->committed, &holds, found, &has));
	if (!holds) {
		GUARD(ca_audit_head(s, &head));
		return ca_err(CA_EPOLICY,
			      "the state store of %s is behind its token "
			      "anchor '%s' on token '%s': the anchor records "
			      "audit entry %ld (sha256 %.16s...), the store %s "
			      "(it ends at entry %ld): the store was rolled "
			      "back, restored from an older copy or damaged",
			      dir, a->label, ca_token_label(a->tok),
			      a->committed.seq, a->committed.hash,
			      has ? "holds another entry there"
				  : "has no such entry",
			      head.seq);
	}
	GUARD(ca_anchor_state_of(s, a->committed.nonces, &now));
	if (now.crl < a->committed.crl)
		return ca_err(CA_EPOLICY,
			      "the state store of %s is behind its token "
			      "anchor '%s': the last CRL number is %lld, the "
			      "anchor records %lld",
			      dir, a->label, now.crl, a->committed.crl);
	if (now.nonces != a->committed.nonces ||
	    strcmp(now.nonce_digest, a->committed.nonce_digest) != 0)
		return ca_err(CA_EPOLICY,
			      "the executed approvals in the state store of %s "
			      "differ from those its token anchor '%s' records "
			      "(%ld executed, %ld found): approvals were "
			      "deleted or changed",
			      dir, a->label, a->committed.nonces, now.nonces);
out:
	return rc;
}

/* Tests only: $HSMCA_TEST_ANCHOR_CRASH=pending (after the pending state
 * is written, before the commit) or commit (after the commit, before the
 * promotion) ends the process there with SIGKILL, as a power loss would. */
static void crash_point(const char *where)
{
	const char *v = getenv("HSMCA_TEST_ANCHOR_CRASH");

	if (v != NULL && strcmp(v, where) == 0)
		raise(SIGKILL);
}

static int before_commit(void *ctx, ca_store *s)
{
	struct ca_anchor *a = ctx;
	struct ca_anchor_state next;
	int rc;

	GUARD(ca_anchor_state_of(s, -1, &next));
	a->has_pending = 0;
	if (same_state(&next, &a->committed))
		return CA_OK;
	a->pending = next;
	a->has_pending = 1;
	rc = write_anchor(a, 0);
	if (rc < 0) {
		a->has_pending = 0;
		rc = ca_err(rc, "%s: not committed", ca_errmsg());
	}
	if (rc == CA_OK)
		crash_point("pending");
out:
	return rc;
}

static void after_commit(void *ctx, ca_store *s)
{
	struct ca_anchor *a = ctx;

	(void)s;
	if (!a->has_pending)
		return;
	crash_point("commit");
	a->committed = a->pending;
	a->has_pending = 0;
	/* Committed either way: a pending state the store holds is promoted
	 * at the next open. */
	if (write_anchor(a, 0) < 0)
		fprintf(stderr,
			"warning: committed, but the token anchor '%s' was "
			"not advanced (%s): the next run completes it\n",
			a->label, ca_errmsg());
}

void ca_anchor_attach(struct ca_anchor *a, ca_store *s)
{
	struct ca_store_hook h = {before_commit, after_commit, a};

	ca_store_set_hook(s, &h);
}
