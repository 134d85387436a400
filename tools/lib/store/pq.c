#include "store/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct ca_pq ca_pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static char pq_why[256];

/* Debian's libpq5; the soname, so a libpq-dev is not needed at run time. */
#define CA_PQ_SONAME "libpq.so.5"

static void pq_load_once(void)
{
	void *h = dlopen(CA_PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;
	struct ca_pq f;

	if (h == NULL) {
		const char *e = dlerror();

		snprintf(pq_why, sizeof(pq_why), "%s",
			 e != NULL ? e : CA_PQ_SONAME ": cannot load");
		return;
	}
#define CA_PQ_SYM(name)                                                        \
	if (missing == NULL) {                                                 \
		*(void **)&f.f_##name = dlsym(h, #name);                       \
		if (f.f_##name == NULL)                                        \
			missing = #name;                                       \
	}
	CA_PQ_FUNCS(CA_PQ_SYM)
#undef CA_PQ_SYM
	if (missing != NULL) {
		snprintf(pq_why, sizeof(pq_why), "%s has no %s", CA_PQ_SONAME,
			 missing);
		dlclose(h);
		return;
	}
	ca_pq = f; /* the handle stays open for the process's life */
}

int ca_pq_load(void)
{
	pthread_once(&pq_once, pq_load_once);
	if (ca_pq.f_PQconnectdb == NULL)
		return ca_err(CA_EUSAGE,
			      "a PostgreSQL store needs libpq (Debian package "
			      "libpq5): %s",
			      pq_why);
	return CA_OK;
}
