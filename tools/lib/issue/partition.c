#include "issue/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/url.h"
#include "store/partition.h"
#include "x509/crl.h"

/* Limits of the configuration (ca.json "crl"). */
#define PARTITIONS_MAX	   1024
#define PARTITION_SIZE_MIN 8192L
#define PARTITION_SIZE_MAX (1024L * 1024 * 1024)
/* Everything in a partition CRL but its entries, bounded from above:
 * outer SEQUENCE header, two AlgorithmIdentifiers, a signature of up to
 * 4096-bit RSA, version, an issuer Name of up to 1 KiB, two
 * GeneralizedTimes, the entries' SEQUENCE header, AKI with a keyid of up
 * to 64 octets, cRLNumber of up to 20 octets and the IDP framing. The
 * IDP's URL comes on top. */
#define CRL_FIXED_OVERHEAD 2560L

static int url_check(const char *url)
{
	const char *brace;
	int rc = ca_url_check(url, "ca.json: crl.url");

	if (rc < 0)
		return rc;
	brace = strstr(url, "{n}");
	if (brace == NULL || strstr(brace + 3, "{n}") != NULL)
		return ca_err(CA_EUSAGE,
			      "ca.json: crl.url '%s' must contain {n} "
			      "(the partition number) exactly once",
			      url);
	return CA_OK;
}

static int get_long(json_t *v, const char *key, long min, long max, long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return ca_err(CA_EUSAGE,
			      "ca.json: crl.%s must be an integer from "
			      "%ld to %ld",
			      key, min, max);
	*out = (long)json_integer_value(v);
	return CA_OK;
}

int ca_partitions_config(json_t *config, struct ca_partitions *pc)
{
	json_t *crl = json_object_get(config, "crl"), *v;
	const char *k;
	long count = 0;
	int rc = CA_OK;

	memset(pc, 0, sizeof(*pc));
	if (crl == NULL)
		return CA_OK;
	if (!json_is_object(crl))
		return ca_err(CA_EUSAGE, "ca.json: \"crl\" must be an object");
	json_object_foreach(crl, k, v)
	{
		if (strcmp(k, "partitions") == 0)
			rc = get_long(v, k, 1, PARTITIONS_MAX, &count);
		else if (strcmp(k, "partition_size") == 0)
			rc = get_long(v, k, PARTITION_SIZE_MIN,
				      PARTITION_SIZE_MAX, &pc->size);
		else if (strcmp(k, "url") == 0 && json_is_string(v))
			pc->url = json_string_value(v);
		else if (strcmp(k, "url") == 0)
			rc = ca_err(CA_EUSAGE,
				    "ca.json: crl.url must be a string");
		else
			rc = ca_json_key_refuse("ca.json: crl", k);
		if (rc < 0)
			return rc;
	}
	pc->count = (int)count;
	if (pc->count > 0 && pc->size > 0)
		return ca_err(CA_EUSAGE, "ca.json: crl has both partitions and "
					 "partition_size: choose one");
	if (!ca_partitions_enabled(pc)) {
		if (pc->url != NULL)
			return ca_err(CA_EUSAGE,
				      "ca.json: crl.url without "
				      "partitions or partition_size");
		return CA_OK;
	}
	if (pc->url == NULL)
		return ca_err(CA_EUSAGE,
			      "ca.json: partitioned CRLs need crl.url "
			      "(with {n} for the partition number)");
	rc = url_check(pc->url);
	if (rc < 0)
		return rc;
	if (pc->size > 0) {
		/* Every certificate of a full partition may be revoked: the
		 * CRL stays under the size even then. */
		long overhead = CRL_FIXED_OVERHEAD + (long)strlen(pc->url) + 16;

		pc->per_partition = (pc->size - overhead) / CA_CRL_ENTRY_WORST;
		if (pc->per_partition < 1)
			return ca_err(CA_EUSAGE,
				      "ca.json: crl.partition_size %ld "
				      "leaves no room for entries",
				      pc->size);
	}
	return CA_OK;
}

int ca_partitions_enabled(const struct ca_partitions *pc)
{
	return pc != NULL && (pc->count > 0 || pc->size > 0);
}

/* Size mode: the highest partition and how many certificates it holds. */
static int fill_from_store(ca_store *st, struct ca_partition_cursor *cur)
{
	int none, rc;

	cur->last = 0;
	cur->used = 0;
	rc = ca_store_partition_last(st, &cur->last, &none);
	if (rc == CA_OK && !none)
		rc = ca_store_partition_used(st, cur->last, &cur->used);
	if (rc == CA_OK)
		cur->valid = 1;
	return rc;
}

int ca_partition_assign(ca_store *st, const struct ca_partitions *pc,
			struct ca_partition_cursor *cur,
			const unsigned char *serial, size_t serial_len,
			int *partition)
{
	struct ca_partition_cursor one = {0, 0, 0};
	unsigned long r = 0;
	size_t i;
	int rc;

	*partition = -1;
	if (!ca_partitions_enabled(pc))
		return CA_OK;
	if (pc->count > 0) {
		/* Balanced and stateless: the serial is random. */
		for (i = 0; i < serial_len; i++)
			r = (r * 256 + serial[i]) % (unsigned long)pc->count;
		*partition = (int)r;
		return CA_OK;
	}
	/* Size mode: fill the highest partition in issuance order, open the
	 * next one when it holds per_partition certificates (those placed
	 * earlier in this chunk included). */
	if (cur == NULL)
		cur = &one;
	/* A store several hosts share: the placement is read and the chunk
	 * committed under the writers' lock, so hosts never overfill a
	 * partition (the lock is then held while the chunk signs; SQLite
	 * holds it already). */
	rc = ca_store_serialise(st);
	if (rc < 0)
		return rc;
	if (!cur->valid) {
		rc = fill_from_store(st, cur);
		if (rc < 0)
			return rc;
	}
	if (cur->used >= pc->per_partition) {
		if (cur->last >= 0x7fffffff)
			return ca_err(CA_EPOLICY,
				      "no CRL partition number left");
		cur->last++;
		cur->used = 0;
	}
	cur->used++;
	*partition = (int)cur->last;
	return CA_OK;
}

char *ca_partition_url(const struct ca_partitions *pc, int partition)
{
	const char *brace;
	char num[16], *out;
	size_t n;

	if (pc == NULL || pc->url == NULL || partition < 0)
		return NULL;
	brace = strstr(pc->url, "{n}");
	if (brace == NULL)
		return NULL;
	snprintf(num, sizeof(num), "%d", partition);
	n = strlen(pc->url) - 3 + strlen(num) + 1;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%.*s%s%s", (int)(brace - pc->url), pc->url,
			 num, brace + 3);
	return out;
}
