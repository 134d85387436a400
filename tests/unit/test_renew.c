/* Unit tests (TAP) for renewal (tools/lib/issue/renew.c and the store's
 * side in tools/lib/store): what a request for a key this CA certified
 * before gets (already issued, refused naming --renew or "renew", or a
 * renewal), for every combination of what the store holds; and the
 * store's current certificate of a key, request-key lookup and
 * supersede, on a fresh SQLite store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "issue/renew.h"
#include "store/lookup.h"
#include "store/store.h"
#include "tap.h"

#define KEY   "aaaa000000000000000000000000000000000000000000000000000000000000"
#define OTHER "bbbb000000000000000000000000000000000000000000000000000000000000"

static struct ca_cert_record cert(const char *serial, const char *spki,
				  const char *kind, const char *by, int revoked)
{
	struct ca_cert_record r;

	memset(&r, 0, sizeof(r));
	snprintf(r.serial, sizeof(r.serial), "%s", serial);
	r.spki_sha256 = (char *)spki;
	r.subject = (char *)"CN=host.example.com";
	r.kind = (char *)kind;
	r.superseded_by = (char *)by;
	r.revoked = revoked;
	return r;
}

static void test_decide(void)
{
	struct ca_cert_record a = cert("0a", KEY, "leaf", NULL, 0);
	struct ca_cert_record a_sup = cert("0a", KEY, "leaf", "0b", 0);
	struct ca_cert_record b = cert("0b", KEY, "leaf", NULL, 0);
	struct ca_cert_record a_rev = cert("0a", KEY, "leaf", NULL, 1);
	struct ca_cert_record other = cert("0c", OTHER, "leaf", NULL, 0);
	struct ca_cert_record sub = cert("0d", KEY, "subca", NULL, 0);
	const struct {
		const char *renew;
		int batch;
		const struct ca_cert_record *same, *current;
		int certified;
		const struct ca_cert_record *target;
		int rc;
		enum ca_renew_outcome outcome;
		const char *msg, *what;
	} cases[] = {
	    {NULL, 0, NULL, NULL, 0, NULL, CA_OK, CA_RENEW_ISSUE, NULL,
	     "a key never certified: issued"},
	    {NULL, 0, &a, &a, 1, NULL, CA_OK, CA_RENEW_ALREADY, NULL,
	     "the same request: already issued"},
	    {NULL, 0, &a_rev, NULL, 1, NULL, CA_OK, CA_RENEW_ALREADY, NULL,
	     "the same request, revoked since: already issued, as before"},
	    {NULL, 0, NULL, &a, 1, NULL, CA_EPOLICY, 0,
	     "already certified by this CA (serial 0a) and this request "
	     "differs from that one (names, profile, lifetime, EKUs or "
	     "extensions): to issue a new certificate for the key, use "
	     "--renew 0a",
	     "another request for a certified key: refused, naming --renew"},
	    {NULL, 1, NULL, &a, 1, NULL, CA_EPOLICY, 0,
	     "set \"renew\": \"0a\" in the request",
	     "in a batch: refused, naming the renew key"},
	    {NULL, 0, NULL, &sub, 1, NULL, CA_EPOLICY, 0,
	     "is the key of this CA's subca certificate 0d: refused",
	     "a leaf request for a sub-CA's key: refused, no renewal offered"},
	    {NULL, 0, NULL, NULL, 1, NULL, CA_EPOLICY, 0,
	     "has no current certificate (revoked): refused (force_issue",
	     "another request for a key whose certificates are revoked"},
	    {NULL, 0, &a_sup, &b, 1, NULL, CA_EPOLICY, 0,
	     "issued before (serial 0a) and renewed since by 0b: to issue a "
	     "new certificate for the key, use --renew 0b",
	     "the first request after its renewal: refused, naming the "
	     "current serial"},
	    {NULL, 0, &a_sup, NULL, 1, NULL, CA_EPOLICY, 0,
	     "renewed since by 0b, and the key has no current certificate "
	     "(revoked): refused",
	     "the first request after its renewal, all revoked since"},
	    {"0a", 0, NULL, &a, 1, &a, CA_OK, CA_RENEW_RENEW, NULL,
	     "--renew of the key's current certificate: a renewal"},
	    {"0b", 0, &b, &b, 1, &a_sup, CA_OK, CA_RENEW_ALREADY, NULL,
	     "the renewal again: already issued"},
	    {"0f", 0, NULL, &a, 1, NULL, CA_EPOLICY, 0,
	     "--renew 0f: this CA never issued serial 0f",
	     "--renew of a serial never issued"},
	    {"0f", 1, NULL, &a, 1, NULL, CA_EPOLICY, 0,
	     "renew 0f: this CA never issued serial 0f",
	     "renew (batch) of a serial never issued"},
	    {"0c", 0, NULL, NULL, 0, &other, CA_EPOLICY, 0,
	     "--renew 0c: certificate 0c (CN=host.example.com) is for "
	     "another public key",
	     "--renew of another key's certificate"},
	    {"0d", 0, NULL, &a, 1, &sub, CA_EPOLICY, 0,
	     "is a subca certificate, not an end-entity one",
	     "--renew of a CA certificate"},
	    {"0a", 0, NULL, NULL, 1, &a_rev, CA_EPOLICY, 0,
	     "--renew 0a: certificate 0a is revoked",
	     "--renew of a revoked certificate"},
	    {"0a", 0, NULL, &b, 1, &a_sup, CA_EPOLICY, 0,
	     "certificate 0a was renewed already, by 0b: renew the key's "
	     "current certificate 0b",
	     "--renew of a superseded certificate"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ca_renew_facts f = {KEY,
					   cases[i].renew,
					   cases[i].batch,
					   cases[i].same,
					   cases[i].current,
					   cases[i].certified,
					   cases[i].target};
		enum ca_renew_outcome out = CA_RENEW_RENEW;
		int rc;

		ca_err_clear();
		rc = ca_renew_decide(&f, &out);
		if (cases[i].rc == CA_OK)
			ok(rc == CA_OK && out == cases[i].outcome, "%s",
			   cases[i].what);
		else
			ok(rc == cases[i].rc && fx_err(cases[i].msg), "%s",
			   cases[i].what);
	}
}

static int add(ca_store *s, const char *serial, const char *spki,
	       const char *request_key, long issued_at)
{
	static const unsigned char der[] = {0x30, 0x00};
	struct ca_cert_row row;
	char sql[200];

	memset(&row, 0, sizeof(row));
	row.serial = serial;
	row.subject = "CN=host.example.com";
	row.spki_sha256 = spki;
	row.not_before = 1700000000;
	row.not_after = 1800000000;
	row.kind = "leaf";
	row.partition = -1;
	row.request_key = request_key;
	row.der = der;
	row.der_len = sizeof(der);
	if (ca_store_cert_add(s, &row) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "UPDATE certs SET issued_at = %ld WHERE serial = '%s'",
		 issued_at, serial);
	return ca_store_exec(s, sql);
}

static const char *current_of(ca_store *s, const char *spki, char *buf)
{
	struct ca_cert_record r;
	int found = 0;

	if (ca_store_cert_current(s, spki, &r, &found) < 0)
		return "error";
	snprintf(buf, 48, "%s", found ? r.serial : "none");
	ca_cert_record_free(&r);
	return buf;
}

static void test_store(void)
{
	struct ca_cert_record r;
	ca_store *s = NULL;
	char buf[48];
	int found = 0;

	fx_mkdir("renew");
	if (ca_store_create(fx_path("ca.db"), &s) < 0 ||
	    add(s, "0a", KEY, "r1", 100) < 0 ||
	    add(s, "0b", KEY, "r2", 100) < 0 ||
	    add(s, "0c", OTHER, "r1", 50) < 0) {
		ok(0, "a store with three certificates");
		tap_missed(9);
		goto out;
	}
	ok(!strcmp(current_of(s, KEY, buf), "0b"),
	   "current: the newest, the later row in the same second");
	ok(!strcmp(current_of(s, "cccc", buf), "none"),
	   "current: none for a key never certified");
	ok(ca_store_cert_by_request_key(s, KEY, "r1", &r, &found) == CA_OK &&
	       found && !strcmp(r.serial, "0a") && !strcmp(r.spki_sha256, KEY),
	   "by request key: the newest with that key");
	ca_cert_record_free(&r);
	ok(ca_store_cert_by_request_key(s, KEY, "r9", &r, &found) == CA_OK &&
	       !found,
	   "by request key: none");
	ok(ca_store_cert_supersede(s, "0b", "0d") == CA_OK &&
	       !strcmp(current_of(s, KEY, buf), "0a"),
	   "supersede: the superseded one is no longer current");
	ok(ca_store_cert_lookup(s, "0b", &r, &found) == CA_OK && found &&
	       r.superseded_by && !strcmp(r.superseded_by, "0d"),
	   "supersede: superseded_by recorded");
	ca_cert_record_free(&r);
	ca_err_clear();
	ok(ca_store_cert_supersede(s, "0b", "0e") == CA_EPOLICY &&
	       fx_err("renewed already"),
	   "supersede twice refused");
	ca_err_clear();
	ok(ca_store_cert_supersede(s, "99", "0e") == CA_EPOLICY &&
	       fx_err("not in the store"),
	   "supersede of a serial not in the store refused");
	ok(ca_store_exec(s, "INSERT INTO revocations(serial, reason,"
			    " revoked_at, recorded_at, not_after) VALUES"
			    " ('0a', 1, 1, 1, 1800000000)") == CA_OK &&
	       !strcmp(current_of(s, KEY, buf), "none"),
	   "current: a revoked certificate is not current");
out:
	ca_store_close(s);
	fx_rmdir();
}

int main(void)
{
	test_decide();
	test_store();
	return tap_done();
}
