#include "input/revoked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>

#include "base/hex.h"
#include "base/json.h"
#include "x509/crl.h"

static int decimal_serial(json_t *v, const char *what, size_t idx,
			  struct ca_revoked_entry *e)
{
	unsigned char bin[32];
	BIGNUM *bn = NULL;
	const char *s;
	size_t n;
	int len, rc = CA_OK;

	if (json_is_integer(v)) {
		if (json_integer_value(v) <= 0)
			return ca_err(CA_EUSAGE,
				      "%s: entry %zu: serial_number must "
				      "be positive",
				      what, idx);
		snprintf(e->serial_dec, sizeof(e->serial_dec), "%lld",
			 (long long)json_integer_value(v));
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		n = strlen(s);
		/* 20 octets are at most 49 decimal digits. */
		if (n == 0 || n > 49 || strspn(s, "0123456789") != n ||
		    n != json_string_length(v))
			return ca_err(CA_EUSAGE,
				      "%s: entry %zu: serial_number '%.60s' "
				      "is not a decimal number of at most "
				      "20 octets",
				      what, idx, s);
		memcpy(e->serial_dec, s, n + 1);
	} else {
		return ca_err(CA_EUSAGE,
			      "%s: entry %zu: serial_number must be a "
			      "decimal string or integer",
			      what, idx);
	}
	if (BN_dec2bn(&bn, e->serial_dec) == 0 || BN_is_zero(bn) ||
	    BN_num_bytes(bn) > CA_CRL_SERIAL_MAX) {
		rc = ca_err(CA_EUSAGE,
			    "%s: entry %zu: serial_number %s is zero or "
			    "longer than 20 octets",
			    what, idx, e->serial_dec);
		goto out;
	}
	len = BN_bn2bin(bn, bin);
	ca_hex(bin, (size_t)len, e->serial);
out:
	BN_free(bn);
	return rc;
}

static int parse_entry(json_t *o, const char *what, size_t idx,
		       struct ca_revoked_entry *e)
{
	static const char *const keys[] = {"common_name", "serial_number",
					   NULL};
	json_t *cn, *sn;
	char where[300];
	int rc;

	e->index = idx;
	if (!json_is_object(o))
		return ca_err(CA_EUSAGE, "%s: entry %zu is not an object", what,
			      idx);
	snprintf(where, sizeof(where), "%s: entry %zu", what, idx);
	rc = ca_json_keys_refuse(o, where, keys);
	if (rc < 0)
		return rc;
	cn = json_object_get(o, "common_name");
	sn = json_object_get(o, "serial_number");
	if (cn == NULL || sn == NULL)
		return ca_err(CA_EUSAGE,
			      "%s: entry %zu: common_name and "
			      "serial_number are required",
			      what, idx);
	if (!json_is_string(cn) || json_string_length(cn) == 0 ||
	    json_string_length(cn) != strlen(json_string_value(cn)))
		return ca_err(CA_EUSAGE,
			      "%s: entry %zu: common_name must be a "
			      "non-empty string",
			      what, idx);
	e->common_name = strdup(json_string_value(cn));
	if (e->common_name == NULL)
		return ca_err(CA_EIO, "out of memory");
	return decimal_serial(sn, what, idx, e);
}

static int by_serial(const void *a, const void *b)
{
	const struct ca_revoked_entry *x =
	    *(const struct ca_revoked_entry *const *)a;
	const struct ca_revoked_entry *y =
	    *(const struct ca_revoked_entry *const *)b;
	int c = strcmp(x->serial, y->serial);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first entry (in file order) whose serial an earlier entry has:
 * sorted by serial then position, O(n log n). */
static int first_repeat(struct ca_revoked_entry *es, size_t count,
			const char *what)
{
	struct ca_revoked_entry **order;
	size_t i, at = count, prev = 0;

	if (count < 2)
		return CA_OK;
	order = malloc(count * sizeof(*order));
	if (order == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < count; i++)
		order[i] = &es[i];
	qsort(order, count, sizeof(*order), by_serial);
	for (i = 1; i < count; i++)
		if (strcmp(order[i]->serial, order[i - 1]->serial) == 0 &&
		    strcmp(order[i]->serial,
			   i > 1 ? order[i - 2]->serial : "") != 0 &&
		    order[i]->index < at) {
			at = order[i]->index;
			prev = order[i - 1]->index;
		}
	free(order);
	if (at == count)
		return CA_OK;
	return ca_err(CA_EUSAGE,
		      "%s: entry %zu repeats the serial of entry %zu", what, at,
		      prev);
}

int ca_revoked_parse(const unsigned char *data, size_t len, const char *what,
		     struct ca_revoked_entry **entries, size_t *n)
{
	struct ca_revoked_entry *es = NULL;
	json_error_t jerr;
	json_t *root;
	size_t i, count = 0;
	int rc = CA_OK;

	*entries = NULL;
	*n = 0;
	root =
	    json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return ca_err(CA_EUSAGE, "%s: not valid JSON: line %d: %s",
			      what, jerr.line, jerr.text);
	if (!json_is_array(root)) {
		rc = ca_err(CA_EUSAGE,
			    "%s: must be a JSON array of {common_name, "
			    "serial_number}",
			    what);
		goto out;
	}
	count = json_array_size(root);
	if (count > 0 && (es = calloc(count, sizeof(*es))) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++)
		GUARD(parse_entry(json_array_get(root, i), what, i, &es[i]));
	/* A serial listed twice is a mistake in the file, not a request. */
	GUARD(first_repeat(es, count, what));
	*entries = es;
	*n = count;
	es = NULL;
out:
	ca_revoked_free(es, count);
	json_decref(root);
	return rc;
}

void ca_revoked_free(struct ca_revoked_entry *entries, size_t n)
{
	size_t i;

	if (entries == NULL)
		return;
	for (i = 0; i < n; i++)
		free(entries[i].common_name);
	free(entries);
}
