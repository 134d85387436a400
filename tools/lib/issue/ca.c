#include "issue/ca.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "out/cadir.h"
#include "x509/cert.h"

void ca_dir_free(struct ca_dir *d)
{
	if (d == NULL)
		return;
	ca_signer_free(d->signer);
	ca_store_close(d->store);
	sk_X509_pop_free(d->chain, X509_free);
	X509_free(d->cert);
	json_decref(d->config);
	free(d->path);
	free(d);
}

int ca_dir_open(const char *path, struct ca_dir **out)
{
	struct ca_dir *d = NULL;
	struct stat st;
	char *f = NULL;
	int rc;

	*out = NULL;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return ca_err(CA_EUSAGE, "%s is not a CA directory", path);
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		return ca_err(CA_EIO, "out of memory");
	}
	GUARD(ca_config_load(path, &d->config));
	f = ca_dir_file(path, "ca.crt");
	GUARD(ca_x509_load(f, &d->cert));
	free(f);
	f = ca_dir_file(path, "chain.pem");
	if (access(f, F_OK) == 0)
		GUARD(ca_x509_load_all(f, &d->chain));
	else if ((d->chain = sk_X509_new_null()) == NULL)
		rc = ca_err(CA_EIO, "out of memory");
	free(f);
	f = ca_dir_file(path, "ca.db");
	GUARD(ca_store_open(f, &d->store));
	*out = d;
	d = NULL;
out:
	free(f);
	ca_dir_free(d);
	return rc;
}

const char *ca_dir_key_uri(const struct ca_dir *d)
{
	return json_string_value(json_object_get(d->config, "key"));
}

json_t *ca_dir_urls(const struct ca_dir *d, const char *key)
{
	return json_object_get(d->config, key);
}

int ca_dir_signer(struct ca_dir *d, const char *pin_source)
{
	const char *module = json_string_value(json_object_get(d->config, "module"));
	int rc;

	if (d->signer != NULL)
		return CA_OK;
	if (module != NULL && getenv("HSMCA_MODULE") == NULL)
		ca_p11_set_module(module);
	rc = ca_signer_open_expect(ca_dir_key_uri(d), pin_source, d->cert,
				   &d->signer);
	if (rc < 0)
		return rc;
	if (d->signer->pub != X509_get0_pubkey(d->cert) &&
	    EVP_PKEY_eq(d->signer->pub, X509_get0_pubkey(d->cert)) != 1)
		return ca_err(CA_EPOLICY,
			      "the token key %s is not the key of %s/ca.crt",
			      ca_dir_key_uri(d), d->path);
	return CA_OK;
}
