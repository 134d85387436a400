#include "issue/renew.h"

#include <stdio.h>
#include <string.h>

/* How the request names a serial to renew: the option, or the tls.json
 * key. */
static void how_to_renew(const struct ca_renew_facts *f, const char *serial,
			 char *out, size_t len)
{
	if (f->batch)
		snprintf(out, len, "set \"renew\": \"%s\" in the request",
			 serial);
	else
		snprintf(out, len, "use --renew %s", serial);
}

/* Refused: what was found, then what to do (renew the key's current
 * certificate, or nothing when none is left). */
static int refuse_renew(const struct ca_renew_facts *f, const char *found)
{
	char how[128];

	if (f->current == NULL)
		return ca_err(CA_EPOLICY,
			      "%s, and the key has no current certificate "
			      "(revoked): refused (force_issue to allow)",
			      found);
	how_to_renew(f, f->current->serial, how, sizeof(how));
	return ca_err(CA_EPOLICY,
		      "%s: to issue a new certificate for the key, %s", found,
		      how);
}

/* The same request was issued before, and renewed since. */
static int same_superseded(const struct ca_renew_facts *f)
{
	char found[256];

	snprintf(found, sizeof(found),
		 "this request was issued before (serial %s) and renewed "
		 "since by %s",
		 f->same->serial, f->same->superseded_by);
	return refuse_renew(f, found);
}

/* A different request for a key this CA certified. */
static int key_reused(const struct ca_renew_facts *f)
{
	char found[400];

	/* A CA's key: nothing to renew here. */
	if (f->current != NULL && strcmp(f->current->kind, "leaf") != 0)
		return ca_err(CA_EPOLICY,
			      "this public key (spki sha256 %.16s...) is the "
			      "key of this CA's %s certificate %s: refused",
			      f->spki, f->current->kind, f->current->serial);
	if (f->current == NULL)
		snprintf(found, sizeof(found),
			 "this public key (spki sha256 %.16s...) was already "
			 "certified by this CA",
			 f->spki);
	else
		snprintf(found, sizeof(found),
			 "this public key (spki sha256 %.16s...) was already "
			 "certified by this CA (serial %s) and this request "
			 "differs from that one (names, profile, lifetime, "
			 "EKUs or extensions)",
			 f->spki, f->current->serial);
	return refuse_renew(f, found);
}

/* The certificate named to renew must be this key's, a leaf, neither
 * revoked nor renewed already. */
static int target_check(const struct ca_renew_facts *f)
{
	const struct ca_cert_record *t = f->target;
	const char *what = f->batch ? "renew" : "--renew";

	if (t == NULL)
		return ca_err(CA_EPOLICY,
			      "%s %s: this CA never issued serial %s", what,
			      f->renew, f->renew);
	if (t->spki_sha256 == NULL || strcmp(t->spki_sha256, f->spki) != 0)
		return ca_err(CA_EPOLICY,
			      "%s %s: certificate %s (%s) is for another "
			      "public key than this CSR's: a renewal keeps "
			      "the key",
			      what, f->renew, t->serial, t->subject);
	if (strcmp(t->kind, "leaf") != 0)
		return ca_err(CA_EPOLICY,
			      "%s %s: certificate %s is a %s certificate, "
			      "not an end-entity one",
			      what, f->renew, t->serial, t->kind);
	if (t->revoked)
		return ca_err(CA_EPOLICY,
			      "%s %s: certificate %s is revoked: a revoked "
			      "certificate is not renewed",
			      what, f->renew, t->serial);
	if (t->superseded_by != NULL)
		return ca_err(CA_EPOLICY,
			      "%s %s: certificate %s was renewed already, by "
			      "%s: renew the key's current certificate%s%s",
			      what, f->renew, t->serial, t->superseded_by,
			      f->current ? " " : "",
			      f->current ? f->current->serial : "");
	return CA_OK;
}

int ca_renew_decide(const struct ca_renew_facts *f,
		    enum ca_renew_outcome *outcome)
{
	int rc;

	*outcome = CA_RENEW_ISSUE;
	if (f->same != NULL) {
		/* The request key covers the renewed serial: re-running a
		 * renewal finds the certificate it issued. */
		if (f->same->superseded_by != NULL)
			return same_superseded(f);
		*outcome = CA_RENEW_ALREADY;
		return CA_OK;
	}
	if (f->renew == NULL)
		return f->key_certified ? key_reused(f) : CA_OK;
	rc = target_check(f);
	if (rc == CA_OK)
		*outcome = CA_RENEW_RENEW;
	return rc;
}
