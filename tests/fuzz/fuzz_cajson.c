/* libFuzzer target: a CA directory's ca.json as the tools read it
 * (ca_config_load on a file in a private directory), then what the
 * actions take from it before any token is opened: signature_algorithm,
 * the "crl" partition settings and their URLs, every custom profile and
 * the default one, and crl_urls, aia_urls, policies and profile EKUs added
 * to a certificate as the leaf and subordinate CA builders add them.
 * Built by scripts/build-fuzz; seeds in tests/fuzz/corpus/cajson/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "issue/partition.h"
#include "out/cadir.h"
#include "x509/algid.h"
#include "x509/leafprof.h"
#include "x509/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void partitions(json_t *config)
{
	struct ca_partitions pc;

	if (ca_partitions_config(config, &pc) != CA_OK ||
	    !ca_partitions_enabled(&pc))
		return;
	free(ca_partition_url(&pc, 0));
	free(ca_partition_url(&pc, pc.count > 0 ? pc.count - 1 : 65535));
}

static void profile(json_t *config, const char *name)
{
	struct ca_leaf_profile p;
	X509 *x;

	if (name == NULL || ca_leaf_profile_find(config, name, &p) != CA_OK)
		return;
	if (p.n_ekus < 0 || p.n_ekus > 12 || p.max_days < p.default_days)
		abort();
	x = X509_new();
	if (x != NULL && p.custom_ekus != NULL)
		(void)ca_profile_add_ekus(x, p.custom_ekus);
	X509_free(x);
}

static void extensions(json_t *config)
{
	X509 *x = X509_new();

	if (x == NULL)
		return;
	(void)ca_profile_add_urls(x, json_object_get(config, "crl_urls"),
				  json_object_get(config, "aia_urls"));
	(void)ca_profile_add_policies(x, json_object_get(config, "policies"));
	X509_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *config = NULL, *v;
	enum ca_sigalg alg;
	const char *k;

	(void)fuzz_file("ca.json", data, size);
	if (ca_config_load(fuzz_dir(), &config) == CA_OK) {
		if (!json_is_object(config))
			abort();
		v = json_object_get(config, "signature_algorithm");
		if (v != NULL)
			(void)ca_sigalg_parse(json_string_value(v), &alg);
		partitions(config);
		json_object_foreach(json_object_get(config, "profiles"), k, v)
		    profile(config, k);
		profile(config, json_string_value(json_object_get(
				    config, "default_profile")));
		extensions(config);
	}
	json_decref(config);
	ca_err_clear();
	return 0;
}
