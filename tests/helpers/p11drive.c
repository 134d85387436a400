/* p11drive MODULE STEP...: call a PKCS#11 module step by step and print one
 * line per step, "NAME rv=CKR_X [details]", whatever the result; the exit
 * status is 0 once every step ran (2: a step or its argument is unknown,
 * 1: the module cannot be loaded). For the tests of tests/faultp11.
 *
 *   init | final                 C_Initialize (OS locking) | C_Finalize
 *   slot LABEL                   the slot whose token has LABEL
 *   tokeninfo                    flags=CKF_A,CKF_B max_sessions=N sessions=N
 *   mechs                        every mechanism of the slot, by name
 *   mechinfo MECH                min=N max=N flags=0xN
 *   open | close | closeall      sessions are numbered from 0 in opening
 *   use N                        order; open and use make one current
 *   sessioninfo                  state=N (CKS_*)
 *   login PIN | ctxlogin PIN     user | context-specific login; PIN "-"
 *   logout                       passes a NULL PIN
 *   key LABEL | pubkey LABEL     the private | public key labelled LABEL
 *   attr always_authenticate     value=0|1 of the private key's attribute
 *   signinit MECH                C_SignInit with the private key
 *   sign TEXT                    length query, then C_Sign over TEXT: len=N
 *   signupdate TEXT | signfinal  C_SignUpdate | length query + C_SignFinal
 *   verifyinit MECH              C_VerifyInit with the public key
 *   verify TEXT                  C_Verify of the last signature over TEXT
 *   savesig FILE                 the last signature, as the module gave it
 *   savesig-ecdsa FILE           the last r||s signature as DER (RFC 3279)
 *   random N                     C_GenerateRandom of N bytes
 *   sleep MS                     pause MS milliseconds
 *   forkinit                     fork; the child calls C_Initialize, opens
 *                                a session and C_Finalize: child-init
 *                                rv=CKR_X child-open rv=CKR_X
 *   threads N COUNT MECH         N threads, each opening its own session on
 *                                the slot (the login is shared), finding
 *                                the key by label and signing COUNT times
 *                                with MECH: ok=N failed=N [first=CKR_X]
 * MECH is a CKM_ name (or 0x hex). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "tests/faultp11/p11names.h"

#define MAX_SESSIONS 64

static CK_FUNCTION_LIST *p11;
static CK_SLOT_ID slot;
static CK_SESSION_HANDLE sessions[MAX_SESSIONS];
static int nsessions, cur = -1;
static CK_OBJECT_HANDLE priv, pub;
static char key_label[256];
static unsigned char sig[4096];
static CK_ULONG siglen;

static void show(const char *step, CK_RV rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void show(const char *step, CK_RV rv, const char *fmt, ...)
{
	char buf[24];
	va_list ap;

	printf("%s rv=%s", step, P11_RV_NAME(rv, buf));
	if (fmt != NULL) {
		putchar(' ');
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
}

static CK_SESSION_HANDLE session(void)
{
	return cur >= 0 ? sessions[cur] : CK_INVALID_HANDLE;
}

static int mech_of(const char *name, CK_MECHANISM *m)
{
	memset(m, 0, sizeof(*m));
	if (P11_MECH_VALUE(name, &m->mechanism) != 0) {
		fprintf(stderr, "p11drive: unknown mechanism %s\n", name);
		return -1;
	}
	return 0;
}

/* The object of class cls labelled label in session h, or 0. */
static CK_RV find(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const char *label,
		  CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	};
	CK_ULONG n = 0;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = p11->C_FindObjectsInit(h, tmpl, 2);
	if (rv != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(h, out, 1, &n);
	(void)p11->C_FindObjectsFinal(h);
	if (rv == CKR_OK && n == 0)
		*out = CK_INVALID_HANDLE;
	return rv;
}

static void step_slot(const char *label)
{
	CK_SLOT_ID list[32];
	CK_ULONG n = 32, i;
	CK_TOKEN_INFO ti;
	size_t len = strlen(label);
	int found = 0;
	CK_RV rv = p11->C_GetSlotList(CK_TRUE, list, &n);

	for (i = 0; rv == CKR_OK && i < n && !found; i++) {
		if (p11->C_GetTokenInfo(list[i], &ti) != CKR_OK ||
		    len > sizeof(ti.label))
			continue;
		if (memcmp(ti.label, label, len) == 0 &&
		    (len == sizeof(ti.label) || ti.label[len] == ' ')) {
			slot = list[i];
			found = 1;
		}
	}
	show("slot", rv, "found=%d", found);
}

static void step_tokeninfo(void)
{
	static const struct p11_name flags[] = {
	    {CKF_LOGIN_REQUIRED, "CKF_LOGIN_REQUIRED"},
	    {CKF_PROTECTED_AUTHENTICATION_PATH,
	     "CKF_PROTECTED_AUTHENTICATION_PATH"},
	    {CKF_USER_PIN_COUNT_LOW, "CKF_USER_PIN_COUNT_LOW"},
	    {CKF_USER_PIN_FINAL_TRY, "CKF_USER_PIN_FINAL_TRY"},
	    {CKF_USER_PIN_LOCKED, "CKF_USER_PIN_LOCKED"},
	};
	char names[256] = "";
	CK_TOKEN_INFO ti;
	size_t i;
	CK_RV rv = p11->C_GetTokenInfo(slot, &ti);

	if (rv != CKR_OK) {
		show("tokeninfo", rv, NULL);
		return;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if ((ti.flags & flags[i].value) == 0)
			continue;
		if (names[0] != '\0')
			strcat(names, ",");
		strcat(names, flags[i].name);
	}
	show("tokeninfo", rv, "flags=%s max_sessions=%lu sessions=%lu", names,
	     (unsigned long)ti.ulMaxSessionCount,
	     (unsigned long)ti.ulSessionCount);
}

static void step_mechs(void)
{
	CK_MECHANISM_TYPE list[512];
	CK_ULONG n = 512, i;
	char buf[24];
	CK_RV rv = p11->C_GetMechanismList(slot, list, &n);

	printf("mechs rv=%s", P11_RV_NAME(rv, buf));
	for (i = 0; rv == CKR_OK && i < n; i++)
		printf(" %s", P11_MECH_NAME(list[i], buf));
	putchar('\n');
}

static void step_mechinfo(const CK_MECHANISM *m)
{
	CK_MECHANISM_INFO info;
	CK_RV rv = p11->C_GetMechanismInfo(slot, m->mechanism, &info);

	if (rv != CKR_OK)
		show("mechinfo", rv, NULL);
	else
		show("mechinfo", rv, "min=%lu max=%lu flags=0x%lx",
		     (unsigned long)info.ulMinKeySize,
		     (unsigned long)info.ulMaxKeySize,
		     (unsigned long)info.flags);
}

static void step_open(void)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;

	if (nsessions == MAX_SESSIONS) {
		show("open", CKR_HOST_MEMORY, NULL);
		return;
	}
	rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
				NULL, &h);
	if (rv == CKR_OK) {
		sessions[nsessions] = h;
		cur = nsessions++;
		show("open", rv, "session=%d", cur);
	} else {
		show("open", rv, NULL);
	}
}

static void step_login(const char *name, CK_USER_TYPE user, const char *pin)
{
	int none = strcmp(pin, "-") == 0;

	show(name,
	     p11->C_Login(session(), user, none ? NULL : (CK_UTF8CHAR *)pin,
			  none ? 0 : strlen(pin)),
	     NULL);
}

static void step_key(const char *step, CK_OBJECT_CLASS cls, const char *label,
		     CK_OBJECT_HANDLE *out)
{
	CK_RV rv = find(session(), cls, label, out);

	if (cls == CKO_PRIVATE_KEY)
		snprintf(key_label, sizeof(key_label), "%s", label);
	show(step, rv, "found=%d", *out != CK_INVALID_HANDLE);
}

static void step_attr(void)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = {CKA_ALWAYS_AUTHENTICATE, &v, sizeof(v)};
	CK_RV rv = p11->C_GetAttributeValue(session(), priv, &a, 1);

	show("attr", rv, "value=%d", v == CK_TRUE);
}

static void step_sign(const char *text)
{
	CK_ULONG len = 0;
	CK_RV rv =
	    p11->C_Sign(session(), (CK_BYTE *)text, strlen(text), NULL, &len);

	if (rv == CKR_OK && len > sizeof(sig))
		rv = CKR_BUFFER_TOO_SMALL;
	if (rv == CKR_OK) {
		siglen = sizeof(sig);
		rv = p11->C_Sign(session(), (CK_BYTE *)text, strlen(text), sig,
				 &siglen);
	}
	show("sign", rv, "len=%lu", rv == CKR_OK ? (unsigned long)siglen : 0);
}

static void step_signfinal(void)
{
	CK_ULONG len = 0;
	CK_RV rv = p11->C_SignFinal(session(), NULL, &len);

	if (rv == CKR_OK && len > sizeof(sig))
		rv = CKR_BUFFER_TOO_SMALL;
	if (rv == CKR_OK) {
		siglen = sizeof(sig);
		rv = p11->C_SignFinal(session(), sig, &siglen);
	}
	show("signfinal", rv, "len=%lu",
	     rv == CKR_OK ? (unsigned long)siglen : 0);
}

static int write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(p, 1, n, f) == n;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* PKCS#11 ECDSA gives r||s; X.509 and openssl dgst want the DER of RFC 3279
 * Ecdsa-Sig-Value. */
static int write_ecdsa_der(const char *path)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(siglen / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + siglen / 2, (int)(siglen / 2), NULL);
	unsigned char *der = NULL;
	int n = -1, rc = -1;

	if (es != NULL && r != NULL && s != NULL && siglen % 2 == 0 &&
	    ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(es, &der);
	}
	if (n > 0)
		rc = write_file(path, der, (size_t)n);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

struct worker {
	pthread_t tid;
	CK_MECHANISM mech;
	long count, ok, failed;
	CK_RV first;
};

static void worker_result(struct worker *w, CK_RV rv)
{
	if (rv == CKR_OK) {
		w->ok++;
		return;
	}
	if (w->failed++ == 0)
		w->first = rv;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	unsigned char out[4096];
	CK_ULONG len;
	long i;
	CK_RV rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h);

	if (rv == CKR_OK)
		rv = find(h, CKO_PRIVATE_KEY, key_label, &key);
	if (rv == CKR_OK && key == CK_INVALID_HANDLE)
		rv = CKR_KEY_HANDLE_INVALID;
	for (i = 0; i < w->count; i++) {
		if (rv != CKR_OK) {
			worker_result(w, rv);
			continue;
		}
		len = sizeof(out);
		rv = p11->C_SignInit(h, &w->mech, key);
		if (rv == CKR_OK)
			rv = p11->C_Sign(h, (CK_BYTE *)"threads", 7, out, &len);
		worker_result(w, rv);
		rv = CKR_OK;
	}
	(void)p11->C_CloseSession(h);
	return NULL;
}

static void step_threads(long n, long count, const CK_MECHANISM *m)
{
	struct worker w[64];
	long i, started = 0, ok = 0, failed = 0;
	CK_RV first = CKR_OK;
	char buf[24];

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].mech = *m;
		w[i].count = count;
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
		failed += w[i].failed;
		if (first == CKR_OK && w[i].failed != 0)
			first = w[i].first;
	}
	failed += (n - started) * count;
	printf("threads ok=%ld failed=%ld", ok, failed);
	if (first != CKR_OK)
		printf(" first=%s", P11_RV_NAME(first, buf));
	putchar('\n');
}

static void step_sleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	printf("sleep ms=%ld\n", ms);
}

static void step_random(long n)
{
	unsigned char buf[256];

	if (n < 1 || n > (long)sizeof(buf))
		n = sizeof(buf);
	show("random", p11->C_GenerateRandom(session(), buf, (CK_ULONG)n),
	     NULL);
}

static void step_forkinit(void)
{
	CK_C_INITIALIZE_ARGS args;
	CK_SESSION_HANDLE h;
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		memset(&args, 0, sizeof(args));
		args.flags = CKF_OS_LOCKING_OK;
		show("child-init", p11->C_Initialize(&args), NULL);
		show("child-open",
		     p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
					&h),
		     NULL);
		(void)p11->C_Finalize(NULL);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		printf("forkinit failed\n");
	else
		printf("forkinit status=%d\n", status);
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "p11drive: bad number %s\n", s);
		exit(2);
	}
	return v;
}

/* Run the step at argv[0]; the count of words it took, or -1. */
static int step(int argc, char **argv)
{
	const char *s = argv[0];
	CK_C_INITIALIZE_ARGS args;
	CK_MECHANISM m;

#define NEED(n)                                                                \
	do {                                                                   \
		if (argc < (n) + 1) {                                          \
			fprintf(stderr, "p11drive: %s needs %d argument(s)\n", \
				s, (n));                                       \
			return -1;                                             \
		}                                                              \
	} while (0)
	if (strcmp(s, "init") == 0) {
		memset(&args, 0, sizeof(args));
		args.flags = CKF_OS_LOCKING_OK;
		show(s, p11->C_Initialize(&args), NULL);
	} else if (strcmp(s, "final") == 0) {
		show(s, p11->C_Finalize(NULL), NULL);
	} else if (strcmp(s, "slot") == 0) {
		NEED(1);
		step_slot(argv[1]);
		return 2;
	} else if (strcmp(s, "tokeninfo") == 0) {
		step_tokeninfo();
	} else if (strcmp(s, "mechs") == 0) {
		step_mechs();
	} else if (strcmp(s, "mechinfo") == 0) {
		NEED(1);
		if (mech_of(argv[1], &m) != 0)
			return -1;
		step_mechinfo(&m);
		return 2;
	} else if (strcmp(s, "open") == 0) {
		step_open();
	} else if (strcmp(s, "use") == 0) {
		NEED(1);
		cur = (int)number(argv[1]);
		if (cur >= nsessions) {
			fprintf(stderr, "p11drive: no session %d\n", cur);
			return -1;
		}
		printf("use session=%d\n", cur);
		return 2;
	} else if (strcmp(s, "close") == 0) {
		show(s, p11->C_CloseSession(session()), NULL);
	} else if (strcmp(s, "closeall") == 0) {
		show(s, p11->C_CloseAllSessions(slot), NULL);
	} else if (strcmp(s, "sessioninfo") == 0) {
		CK_SESSION_INFO si;
		CK_RV rv = p11->C_GetSessionInfo(session(), &si);

		show(s, rv, "state=%lu",
		     rv == CKR_OK ? (unsigned long)si.state : 0UL);
	} else if (strcmp(s, "login") == 0 || strcmp(s, "ctxlogin") == 0) {
		NEED(1);
		step_login(s, s[0] == 'l' ? CKU_USER : CKU_CONTEXT_SPECIFIC,
			   argv[1]);
		return 2;
	} else if (strcmp(s, "logout") == 0) {
		show(s, p11->C_Logout(session()), NULL);
	} else if (strcmp(s, "key") == 0 || strcmp(s, "pubkey") == 0) {
		NEED(1);
		if (s[0] == 'k')
			step_key(s, CKO_PRIVATE_KEY, argv[1], &priv);
		else
			step_key(s, CKO_PUBLIC_KEY, argv[1], &pub);
		return 2;
	} else if (strcmp(s, "attr") == 0) {
		NEED(1);
		if (strcmp(argv[1], "always_authenticate") != 0) {
			fprintf(stderr, "p11drive: unknown attribute %s\n",
				argv[1]);
			return -1;
		}
		step_attr();
		return 2;
	} else if (strcmp(s, "signinit") == 0 || strcmp(s, "verifyinit") == 0) {
		NEED(1);
		if (mech_of(argv[1], &m) != 0)
			return -1;
		show(s,
		     s[0] == 's' ? p11->C_SignInit(session(), &m, priv)
				 : p11->C_VerifyInit(session(), &m, pub),
		     NULL);
		return 2;
	} else if (strcmp(s, "sign") == 0) {
		NEED(1);
		step_sign(argv[1]);
		return 2;
	} else if (strcmp(s, "signupdate") == 0) {
		NEED(1);
		show(s,
		     p11->C_SignUpdate(session(), (CK_BYTE *)argv[1],
				       strlen(argv[1])),
		     NULL);
		return 2;
	} else if (strcmp(s, "signfinal") == 0) {
		step_signfinal();
	} else if (strcmp(s, "verify") == 0) {
		NEED(1);
		show(s,
		     p11->C_Verify(session(), (CK_BYTE *)argv[1],
				   strlen(argv[1]), sig, siglen),
		     NULL);
		return 2;
	} else if (strcmp(s, "savesig") == 0 ||
		   strcmp(s, "savesig-ecdsa") == 0) {
		NEED(1);
		if ((strcmp(s, "savesig") == 0
			 ? write_file(argv[1], sig, siglen)
			 : write_ecdsa_der(argv[1])) != 0) {
			fprintf(stderr, "p11drive: cannot write %s\n", argv[1]);
			return -1;
		}
		printf("%s file=%s\n", s, argv[1]);
		return 2;
	} else if (strcmp(s, "random") == 0) {
		NEED(1);
		step_random(number(argv[1]));
		return 2;
	} else if (strcmp(s, "sleep") == 0) {
		NEED(1);
		step_sleep(number(argv[1]));
		return 2;
	} else if (strcmp(s, "forkinit") == 0) {
		step_forkinit();
	} else if (strcmp(s, "threads") == 0) {
		NEED(3);
		if (mech_of(argv[3], &m) != 0)
			return -1;
		step_threads(number(argv[1]), number(argv[2]), &m);
		return 4;
	} else {
		fprintf(stderr, "p11drive: unknown step %s\n", s);
		return -1;
	}
#undef NEED
	return 1;
}

int main(int argc, char **argv)
{
	CK_C_GetFunctionList get;
	void *dl;
	int i, n;

	if (argc < 2) {
		fprintf(stderr, "usage: p11drive MODULE STEP...\n");
		return 2;
	}
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "p11drive: %s\n", dlerror());
		return 1;
	}
	get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK) {
		fprintf(stderr, "p11drive: %s: no C_GetFunctionList\n",
			argv[1]);
		return 1;
	}
	for (i = 2; i < argc; i += n) {
		n = step(argc - i, argv + i);
		if (n < 0)
			return 2;
	}
	return 0;
}
