#include "out/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* Add name; returns 1 when it was already there, -1 on no memory. */
static int name_set_add(struct ca_out_names *ns, const char *name)
{
	uint64_t h = name_hash(name);
	size_t i;

	if (2 * (ns->n + 1) > ns->cap) {
		struct ca_out_names bigger = {NULL,
					      ns->cap ? 2 * ns->cap : 1024, 0};

		bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
		if (bigger.slot == NULL)
			return -1;
		for (i = 0; i < ns->cap; i++) {
			size_t k = ns->slot[i] % bigger.cap;

			if (ns->slot[i] == 0)
				continue;
			while (bigger.slot[k] != 0)
				k = (k + 1) % bigger.cap;
			bigger.slot[k] = ns->slot[i];
			bigger.n++;
		}
		free(ns->slot);
		*ns = bigger;
	}
	for (i = h % ns->cap; ns->slot[i] != 0; i = (i + 1) % ns->cap)
		if (ns->slot[i] == h)
			return 1;
	ns->slot[i] = h;
	ns->n++;
	return 0;
}

int ca_out_names_batch(struct ca_out_names *ns, const char *dir,
		       const char *csr_file, const char *common_name,
		       size_t index, char **cert, char **chain, char **bundle)
{
	char base[200], name[256];
	const char *src = NULL;
	size_t i, n = 0;

	if (csr_file != NULL) {
		src = strrchr(csr_file, '/');
		src = src ? src + 1 : csr_file;
	} else if (common_name != NULL) {
		src = common_name;
	}
	for (i = 0; src != NULL && src[i] != '\0' && n + 1 < sizeof(base);
	     i++) {
		char c = src[i];

		if (csr_file != NULL && strcmp(src + i, ".csr") == 0)
			break;
		base[n++] = (c == '.' || c == '-' || c == '_' ||
			     (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z'))
				? c
				: '_';
	}
	base[n] = '\0';
	if (n == 0 || base[0] == '.')
		snprintf(base, sizeof(base), "request-%zu", index + 1);
	snprintf(name, sizeof(name), "%s", base);
	switch (name_set_add(ns, name)) {
	case 1:
		snprintf(name, sizeof(name), "%s-%zu", base, index + 1);
		if (name_set_add(ns, name) >= 0)
			break;
		/* fall through */
	case -1:
		return ca_err(CA_EIO, "out of memory");
	}
	if (asprintf(cert, "%s/%s.crt", dir, name) < 0 ||
	    asprintf(chain, "%s/%s.chain.pem", dir, name) < 0 ||
	    asprintf(bundle, "%s/%s.pem", dir, name) < 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

void ca_out_names_free(struct ca_out_names *ns)
{
	free(ns->slot);
	ns->slot = NULL;
	ns->cap = ns->n = 0;
}
