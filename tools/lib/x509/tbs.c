#include "x509/tbs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "x509/tbsmark.h"

#define BODY_BUF 16384

/* The process's mark key, drawn once, and the HMAC implementation. */
static unsigned char mark_key[32];
static EVP_MAC *hmac;
static int mark_ready;
static pthread_once_t mark_once = PTHREAD_ONCE_INIT;

static void mark_init(void)
{
	if (RAND_priv_bytes(mark_key, sizeof(mark_key)) != 1)
		return;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	mark_ready = hmac != NULL;
}

static int mac_new(const char *label, EVP_MAC_CTX **out)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c = NULL;

	*out = NULL;
	if (pthread_once(&mark_once, mark_init) != 0 || !mark_ready)
		return ca_err(CA_EIO, "cannot set up the TBS mark key");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	c = EVP_MAC_CTX_new(hmac);
	if (c == NULL ||
	    EVP_MAC_init(c, mark_key, sizeof(mark_key), params) != 1 ||
	    EVP_MAC_update(c, (const unsigned char *)label,
			   strlen(label) + 1) != 1) {
		EVP_MAC_CTX_free(c);
		ERR_clear_error();
		return ca_err(CA_EIO, "cannot compute a TBS mark");
	}
	*out = c;
	return CA_OK;
}

static int mac_final(EVP_MAC_CTX *c, unsigned char out[CA_TBS_MARK_LEN])
{
	size_t n = 0;
	int ok = EVP_MAC_final(c, out, &n, CA_TBS_MARK_LEN) == 1 &&
		 n == CA_TBS_MARK_LEN;

	EVP_MAC_CTX_free(c);
	if (ok)
		return CA_OK;
	ERR_clear_error();
	return ca_err(CA_EIO, "cannot compute a TBS mark");
}

/* len as 8 octets, then p (when given). */
static int mac_part(EVP_MAC_CTX *c, const unsigned char *p, size_t len)
{
	unsigned char n[8];
	uint64_t v = len;
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		n[i] = (unsigned char)v;
	if (EVP_MAC_update(c, n, sizeof(n)) != 1 ||
	    (p != NULL && len > 0 && EVP_MAC_update(c, p, len) != 1))
		return ca_err(CA_EIO, "cannot compute a TBS mark");
	return CA_OK;
}

void ca_tbs_init(struct ca_tbs *t, enum ca_tbs_kind kind,
		 const unsigned char *der, size_t len)
{
	ca_tbs_init_framed(t, kind, der, len, der, len, NULL, 0);
}

void ca_tbs_init_framed(struct ca_tbs *t, enum ca_tbs_kind kind,
			const unsigned char *der, size_t len,
			const unsigned char *head, size_t head_len,
			const unsigned char *tail, size_t tail_len)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->der = der;
	t->len = len;
	t->head = head;
	t->head_len = head_len;
	t->tail = tail;
	t->tail_len = tail_len;
}

size_t ca_tbs_body(const struct ca_tbs *t, const unsigned char **body)
{
	*body = t->der != NULL ? t->der + t->head_len : NULL;
	return t->len - t->head_len - t->tail_len;
}

int ca_tbs_is_cert(const struct ca_tbs *t)
{
	return t->kind == CA_TBS_CA_CERT || t->kind == CA_TBS_LEAF_CERT;
}

int ca_tbs_needs_approval(const struct ca_tbs *t)
{
	return t->kind == CA_TBS_CA_CERT || t->kind == CA_TBS_CRL;
}

const char *ca_tbs_kind_name(enum ca_tbs_kind kind)
{
	switch (kind) {
	case CA_TBS_CA_CERT:
		return "CA certificate";
	case CA_TBS_LEAF_CERT:
		return "certificate";
	case CA_TBS_CRL:
		return "CRL";
	case CA_TBS_REVOCATION:
		return "revocation";
	}
	return "unknown";
}

int ca_tbs_in_memory(const struct ca_tbs *t, const char *step)
{
	if (t->der != NULL)
		return CA_OK;
	return ca_err(CA_EIO, "internal error: the %s to %s is not in memory",
		      ca_tbs_kind_name(t->kind), step);
}

struct ca_tbs_body_mac {
	EVP_MAC_CTX *c;
	size_t used;
	size_t dirty; /* buf's bytes ever written: what the free wipes */
	unsigned char buf[BODY_BUF];
};

int ca_tbs_body_mac_new(ca_tbs_body_mac **out)
{
	/* buf is neither zeroed nor wiped whole: one certificate's body uses
	 * a sixth of it, and 32 KiB of memset per certificate showed. */
	ca_tbs_body_mac *m = malloc(sizeof(*m));
	int rc;

	*out = NULL;
	if (m == NULL)
		return ca_err(CA_EIO, "out of memory");
	m->used = 0;
	m->dirty = 0;
	rc = mac_new("hsmca tbs body", &m->c);
	if (rc < 0) {
		free(m);
		return rc;
	}
	*out = m;
	return CA_OK;
}

static int body_flush(ca_tbs_body_mac *m)
{
	int ok = m->used == 0 || EVP_MAC_update(m->c, m->buf, m->used) == 1;

	m->used = 0;
	return ok ? CA_OK : ca_err(CA_EIO, "cannot compute a TBS mark");
}

/* Small updates (one CRL entry each) are gathered: one HMAC call per
 * buffer, not per entry. */
int ca_tbs_body_mac_update(ca_tbs_body_mac *m, const unsigned char *data,
			   size_t len)
{
	int rc;

	if (m->used + len > sizeof(m->buf) && (rc = body_flush(m)) < 0)
		return rc;
	if (len >= sizeof(m->buf))
		return EVP_MAC_update(m->c, data, len) == 1
			   ? CA_OK
			   : ca_err(CA_EIO, "cannot compute a TBS mark");
	memcpy(m->buf + m->used, data, len);
	m->used += len;
	if (m->used > m->dirty)
		m->dirty = m->used;
	return CA_OK;
}

int ca_tbs_body_mac_final(ca_tbs_body_mac *m,
			  unsigned char out[CA_TBS_MARK_LEN])
{
	int rc = body_flush(m);

	if (rc == CA_OK)
		rc = mac_final(m->c, out);
	else
		EVP_MAC_CTX_free(m->c);
	m->c = NULL;
	ca_tbs_body_mac_free(m);
	return rc;
}

void ca_tbs_body_mac_free(ca_tbs_body_mac *m)
{
	if (m == NULL)
		return;
	EVP_MAC_CTX_free(m->c);
	OPENSSL_cleanse(m->buf, m->dirty);
	free(m);
}

/* The body's MAC as given, or computed from the TBS in memory. */
static int body_mac_of(const struct ca_tbs *t, const unsigned char *given,
		       unsigned char out[CA_TBS_MARK_LEN])
{
	ca_tbs_body_mac *m = NULL;
	const unsigned char *body;
	size_t n = ca_tbs_body(t, &body);
	int rc;

	if (given != NULL) {
		memcpy(out, given, CA_TBS_MARK_LEN);
		return CA_OK;
	}
	GUARD(ca_tbs_in_memory(t, "mark"));
	GUARD(ca_tbs_body_mac_new(&m));
	rc = ca_tbs_body_mac_update(m, body, n);
	if (rc == CA_OK) {
		rc = ca_tbs_body_mac_final(m, out);
		m = NULL;
	}
out:
	ca_tbs_body_mac_free(m);
	return rc;
}

/* HMAC(key, label || step || kind || head || tail || body length || body
 * MAC), each part preceded by its length. */
static int mark_of(const struct ca_tbs *t, enum ca_tbs_step step,
		   const unsigned char *given,
		   unsigned char out[CA_TBS_MARK_LEN])
{
	unsigned char body[CA_TBS_MARK_LEN], sk[2];
	EVP_MAC_CTX *c = NULL;
	int rc;

	if (t->head_len + t->tail_len > t->len)
		return ca_err(CA_EIO, "internal error: a malformed TBS");
	GUARD(body_mac_of(t, given, body));
	GUARD(mac_new("hsmca tbs mark", &c));
	sk[0] = (unsigned char)step;
	sk[1] = (unsigned char)t->kind;
	GUARD(mac_part(c, sk, sizeof(sk)));
	GUARD(mac_part(c, t->head, t->head_len));
	GUARD(mac_part(c, t->tail, t->tail_len));
	/* The body's length as a part of its own, then its MAC. */
	GUARD(mac_part(c, NULL, t->len - t->head_len - t->tail_len));
	GUARD(mac_part(c, body, sizeof(body)));
	rc = mac_final(c, out);
	c = NULL;
out:
	EVP_MAC_CTX_free(c);
	return rc;
}

int ca_tbs_mark(struct ca_tbs *t, enum ca_tbs_step step,
		const unsigned char *body_mac)
{
	int rc = mark_of(t, step, body_mac, t->mark[step]);

	t->marked[step] = rc == CA_OK;
	return rc;
}

int ca_tbs_marked(const struct ca_tbs *t, enum ca_tbs_step step,
		  const unsigned char *body_mac)
{
	unsigned char want[CA_TBS_MARK_LEN];
	int rc;

	if (!t->marked[step])
		return 1;
	rc = mark_of(t, step, body_mac, want);
	if (rc < 0)
		return rc;
	return CRYPTO_memcmp(want, t->mark[step], sizeof(want)) != 0;
}
