/* seedstore: fill a CA's state store with N issued leaf certificates, for
 * the large-store benchmark (scripts/bench-leaf, part large).
 *
 *   seedstore CA_DIR N
 *
 * The newest certificate in CA_DIR's store is the template (issue one with
 * hsmca-sign-leaf first). Each new row is a copy of its DER with another
 * serial written over the template's (same length: 0x01 + 16 bytes), a
 * common name seedNNNNNNN.example, and a SPKI SHA-256 and request key of
 * their own (SHA-256 of the row number: random-looking, like real ones),
 * in the row format hsmca-sign-leaf writes (ca_store_cert_add), each with
 * the audit entry it writes (ca_audit_append: the hash chain holds, and
 * hsmca-audit verify passes). The copies' signatures do not verify (their
 * serial changed): the rows are for the store's size, not for use.
 * Committed every 20,000 rows; durability is off while seeding (a crash
 * leaves a store to throw away). Prints "seeded N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "base/hex.h"
#include "base/sha256.h"
#include "store/audit.h"
#include "store/store.h"
#include "x509/cert.h"

#define BATCH 20000

static int fail(const char *what)
{
	fprintf(stderr, "seedstore: %s: %s\n", what, ca_errmsg());
	return 1;
}

/* The newest certificate's DER (malloc'd) and its profile. */
static int template_der(ca_store *s, unsigned char **der, int *len,
			char *profile, size_t plen)
{
	ca_stmt *st = NULL;
	const char *prof;
	const void *blob;
	size_t n;
	int rc = CA_EIO;

	if (ca_store_prepare(s,
			     "SELECT der, profile FROM certs WHERE kind = "
			     "'leaf' ORDER BY rowid DESC LIMIT 1",
			     &st) < 0)
		return CA_EIO;
	if (ca_store_step(s, st, 0) == SQLITE_ROW) {
		blob = ca_col_blob(st, 0, &n);
		*len = (int)n;
		*der = malloc(n);
		prof = ca_col_text(st, 1);
		snprintf(profile, plen, "%s", prof ? prof : "server");
		if (*der != NULL && blob != NULL) {
			memcpy(*der, blob, n);
			rc = CA_OK;
		}
	}
	ca_store_done(s, st);
	return rc;
}

/* Digest of "TAG NUMBER" as hex. */
static void tagged_hex(const char *tag, long i, char out[65])
{
	char text[64];

	snprintf(text, sizeof(text), "%s %ld", tag, i);
	ca_sha256_hex((const unsigned char *)text, strlen(text), out);
}

static int seed_one(ca_store *s, long i, unsigned char *der, int len,
		    unsigned char *serial_at, X509 *tmpl, const char *profile)
{
	unsigned char raw[32];
	char serial[40], spki[65], req[65], cn[40], subject[48], text[64];
	struct ca_cert_row row;
	ca_audit *a;
	int rc;

	/* 0x01 + 16 bytes: the serial format of hsmca-sign-leaf. */
	snprintf(text, sizeof(text), "serial %ld", i);
	if (ca_sha256((const unsigned char *)text, strlen(text), raw) < 0)
		return CA_EIO;
	raw[15] = 0x01;
	memcpy(serial_at, raw + 15, 17);
	ca_hex(raw + 15, 17, serial);
	tagged_hex("spki", i, spki);
	tagged_hex("request", i, req);
	snprintf(cn, sizeof(cn), "seed%07ld.example", i);
	snprintf(subject, sizeof(subject), "CN=%s", cn);
	memset(&row, 0, sizeof(row));
	row.serial = serial;
	row.subject = subject;
	row.cn = cn;
	row.spki_sha256 = spki;
	GUARD(ca_asn1_time(X509_get0_notBefore(tmpl), &row.not_before));
	GUARD(ca_asn1_time(X509_get0_notAfter(tmpl), &row.not_after));
	row.kind = "leaf";
	row.profile = profile;
	row.partition = -1;
	row.request_key = req;
	row.der = der;
	row.der_len = (size_t)len;
	GUARD(ca_store_cert_add(s, &row));
	a = ca_audit_new("sign-leaf");
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	ca_audit_output_der(a, "certificate", der, (size_t)len);
	ca_audit_set(a, "serial", serial);
	ca_audit_set(a, "subject", subject);
	ca_audit_set(a, "profile", profile);
	rc = ca_audit_append(s, a, "ok", "certificate issued");
	ca_audit_free(a);
out:
	return rc;
}

int main(int argc, char **argv)
{
	char path[4096], profile[64];
	unsigned char *der = NULL, *serial_at = NULL;
	const unsigned char *p;
	const ASN1_INTEGER *sn;
	ca_store *s = NULL;
	X509 *tmpl = NULL;
	long n, i;
	int len = 0, k;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: seedstore CA_DIR N\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ca.db", argv[1]);
	ca_audit_set_tool("seedstore");
	if (ca_store_open(path, &s) < 0)
		return fail("cannot open the store");
	if (ca_store_exec(s, "PRAGMA synchronous=OFF;"
			     "PRAGMA cache_size=-262144;") < 0 ||
	    template_der(s, &der, &len, profile, sizeof(profile)) < 0)
		return fail("no leaf certificate to copy (issue one first)");
	p = der;
	tmpl = d2i_X509(NULL, &p, len);
	sn = tmpl ? X509_get0_serialNumber(tmpl) : NULL;
	/* The template's serial bytes, found once in its DER. */
	for (k = 0; sn != NULL && ASN1_STRING_length(sn) == 17 &&
		    k + 17 <= len && serial_at == NULL;
	     k++)
		if (memcmp(der + k, ASN1_STRING_get0_data(sn), 17) == 0)
			serial_at = der + k;
	if (serial_at == NULL) {
		fprintf(stderr, "seedstore: the template's serial is not "
				"17 bytes long\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (i % BATCH == 0 && ca_store_begin(s) < 0)
			return fail("begin");
		if (seed_one(s, i, der, len, serial_at, tmpl, profile) < 0)
			return fail("cannot add a row");
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			if (ca_store_commit(s) < 0)
				return fail("commit");
		}
	}
	if (ca_store_exec(s, "PRAGMA wal_checkpoint(TRUNCATE);") < 0)
		return fail("checkpoint");
	ca_store_close(s);
	X509_free(tmpl);
	free(der);
	printf("seeded %ld\n", n);
	return 0;
}
