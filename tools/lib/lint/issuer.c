#include "lint/issuer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/text.h"
#include "base/time.h"
#include "input/name.h"
#include "x509/cert.h"
#include "x509/san.h"

#define LINT(...) ca_err(CA_EPOLICY, "lint: " __VA_ARGS__)

/* The issuer as the messages name it. */
struct issuer_ctx {
	X509 *cert;
	NAME_CONSTRAINTS *nc;
	char *dn;
};

/* One name of the certificate, in the form a constraint compares. */
struct nc_name {
	int type;		   /* GEN_DNS, GEN_IPADD, GEN_EMAIL, ... */
	const unsigned char *data; /* text forms; IP octets */
	size_t len;
	X509_NAME *dn;	  /* GEN_DIRNAME */
	const char *from; /* where it was found, NULL for a SAN */
};

/* ---- rendering for messages ------------------------------------------- */

static const char *type_name(int type)
{
	switch (type) {
	case GEN_DNS:
		return "dNSName";
	case GEN_IPADD:
		return "iPAddress";
	case GEN_EMAIL:
		return "rfc822Name";
	case GEN_URI:
		return "URI";
	case GEN_DIRNAME:
		return "directoryName";
	case GEN_OTHERNAME:
		return "otherName";
	case GEN_X400:
		return "x400Address";
	case GEN_EDIPARTY:
		return "ediPartyName";
	case GEN_RID:
		return "registeredID";
	default:
		return "name";
	}
}

static char *dn_text(const X509_NAME *dn)
{
	char *one = ca_name_oneline(dn), *s;

	if (one == NULL)
		return NULL;
	if (one[0] == '\0') {
		free(one);
		return strdup("(empty name)");
	}
	s = ca_text_clean((const unsigned char *)one, strlen(one), 0, 1);
	free(one);
	return s;
}

/* An iPAddress subtree as address/prefix (address/mask when the mask is
 * not a prefix). */
static char *ip_subtree_text(const unsigned char *p, size_t len)
{
	char addr[INET6_ADDRSTRLEN], mask[INET6_ADDRSTRLEN], *s = NULL;
	size_t half = len / 2, i;
	int bits = 0, contiguous = 1, zero = 0;

	if ((len != 8 && len != 32) || inet_ntop(half == 4 ? AF_INET : AF_INET6,
						 p, addr, sizeof(addr)) == NULL)
		return strdup("(malformed iPAddress subtree)");
	for (i = 0; i < half; i++)
		for (int b = 7; b >= 0; b--) {
			int set = (p[half + i] >> b) & 1;

			if (set && zero)
				contiguous = 0;
			zero |= !set;
			bits += set;
		}
	if (contiguous) {
		if (asprintf(&s, "%s/%d", addr, bits) < 0)
			s = NULL;
	} else if (inet_ntop(half == 4 ? AF_INET : AF_INET6, p + half, mask,
			     sizeof(mask)) != NULL &&
		   asprintf(&s, "%s/%s", addr, mask) < 0) {
		s = NULL;
	}
	return s;
}

static char *name_text(const struct nc_name *n)
{
	char addr[INET6_ADDRSTRLEN];

	switch (n->type) {
	case GEN_DIRNAME:
		return dn_text(n->dn);
	case GEN_IPADD:
		if ((n->len != 4 && n->len != 16) ||
		    inet_ntop(n->len == 4 ? AF_INET : AF_INET6, n->data, addr,
			      sizeof(addr)) == NULL)
			return strdup("(malformed address)");
		return strdup(addr);
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		return ca_text_clean(n->data, n->len, 0, 0);
	default:
		return strdup("(a name of that form)");
	}
}

static char *subtree_text(GENERAL_NAME *base)
{
	int type;
	ASN1_STRING *s;

	if (base->type == GEN_DIRNAME)
		return dn_text(base->d.directoryName);
	s = GENERAL_NAME_get0_value(base, &type);
	if (type == GEN_IPADD)
		return ip_subtree_text(ASN1_STRING_get0_data(s),
				       (size_t)ASN1_STRING_length(s));
	if (type == GEN_DNS || type == GEN_EMAIL || type == GEN_URI) {
		if (ASN1_STRING_length(s) == 0)
			return strdup("(empty: every name)");
		return ca_text_clean(ASN1_STRING_get0_data(s),
				     (size_t)ASN1_STRING_length(s), 0, 0);
	}
	return strdup("(unsupported form)");
}

/* ---- matching (RFC 5280 4.2.1.10) --------------------------------------- */

static int ci_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return 0;
	return 1;
}

static int ci_ends_with(const unsigned char *s, size_t n,
			const unsigned char *suffix, size_t m)
{
	return n >= m && ci_equal(s + n - m, suffix, m);
}

/* dNSName: the base with zero or more labels added on the left; a base
 * with a leading period only with at least one (OpenSSL's reading). */
static int dns_within(const unsigned char *name, size_t n,
		      const unsigned char *base, size_t m)
{
	if (m == 0)
		return 1;
	if (base[0] == '.')
		return n > m && ci_ends_with(name, n, base, m);
	if (n == m)
		return ci_equal(name, base, m);
	return n > m && name[n - m - 1] == '.' &&
	       ci_ends_with(name, n, base, m);
}

/* A wildcard "*.rest" also names every "label.rest": it touches an
 * excluded base of that form although the string is not within it. */
static int wildcard_covers(const unsigned char *name, size_t n,
			   const unsigned char *base, size_t m)
{
	size_t rest;

	if (n < 3 || name[0] != '*' || name[1] != '.' || m == 0 ||
	    base[0] == '.')
		return 0;
	rest = n - 2;
	return m > rest + 1 && base[m - rest - 1] == '.' &&
	       ci_ends_with(base, m, name + 2, rest) &&
	       memchr(base, '.', m - rest - 1) == NULL;
}

/* rfc822Name: a mailbox (exact), a host (every mailbox there) or, with a
 * leading period, every host under a domain. -1: not a mailbox. */
static int email_within(const unsigned char *name, size_t n,
			const unsigned char *base, size_t m)
{
	const unsigned char *at = NULL, *dom;
	size_t i, dlen;

	for (i = 0; i < n; i++)
		if (name[i] == '@')
			at = name + i;
	if (at == NULL || at == name || at + 1 == name + n)
		return -1;
	dom = at + 1;
	dlen = (size_t)(name + n - dom);
	if (m == 0)
		return 1;
	if (memchr(base, '@', m) != NULL) {
		const unsigned char *bat = memchr(base, '@', m);
		size_t blocal = (size_t)(bat - base);

		/* The local part is case-sensitive (RFC 5280 7.5). */
		return (size_t)(at - name) == blocal &&
		       memcmp(name, base, blocal) == 0 &&
		       dlen == m - blocal - 1 && ci_equal(dom, bat + 1, dlen);
	}
	if (base[0] == '.')
		return dlen > m && ci_ends_with(dom, dlen, base, m);
	return dlen == m && ci_equal(dom, base, m);
}

/* The host of an absolute URI with an authority ("scheme://[user@]host
 * [:port]..."); 0 when there is none. */
static int uri_host(const unsigned char *uri, size_t n,
		    const unsigned char **host, size_t *hlen)
{
	const unsigned char *p, *end = uri + n, *auth, *aend, *h;

	p = memchr(uri, ':', n);
	if (p == NULL || end - p < 3 || p[1] != '/' || p[2] != '/')
		return 0;
	auth = p + 3;
	for (aend = auth;
	     aend < end && *aend != '/' && *aend != '?' && *aend != '#'; aend++)
		;
	h = auth;
	for (p = auth; p < aend; p++)
		if (*p == '@')
			h = p + 1;
	if (h < aend && *h == '[') {
		p = memchr(h, ']', (size_t)(aend - h));
		if (p == NULL)
			return 0;
		*host = h + 1;
		*hlen = (size_t)(p - h - 1);
	} else {
		for (p = h; p < aend && *p != ':'; p++)
			;
		*host = h;
		*hlen = (size_t)(p - h);
	}
	return *hlen > 0;
}

/* URI: the constraint names a host, or with a leading period every host
 * under a domain. -1: the URI has no host to compare. */
static int uri_within(const unsigned char *uri, size_t n,
		      const unsigned char *base, size_t m)
{
	const unsigned char *host;
	size_t hlen;

	if (!uri_host(uri, n, &host, &hlen))
		return -1;
	if (m == 0)
		return 1;
	if (base[0] == '.')
		return hlen > m && ci_ends_with(host, hlen, base, m);
	return hlen == m && ci_equal(host, base, m);
}

/* iPAddress: address and mask of the same family. */
static int ip_within(const unsigned char *ip, size_t n,
		     const unsigned char *base, size_t m)
{
	size_t i;

	if (m != 2 * n)
		return 0;
	for (i = 0; i < n; i++)
		if ((ip[i] & base[n + i]) != (base[i] & base[n + i]))
			return 0;
	return 1;
}

/* directoryName: the base is a prefix of the name, RDN by RDN, compared
 * as OpenSSL does (canonical encoding: case and spaces folded). */
static int dn_within(X509_NAME *dn, X509_NAME *base)
{
	int k = X509_NAME_entry_count(base), n = X509_NAME_entry_count(dn), i;
	X509_NAME *prefix;
	int within;

	if (k == 0)
		return 1;
	if (n < k)
		return 0;
	/* The prefix must end on an RDN boundary. */
	if (n > k && X509_NAME_ENTRY_set(X509_NAME_get_entry(dn, k)) ==
			 X509_NAME_ENTRY_set(X509_NAME_get_entry(dn, k - 1)))
		return 0;
	prefix = X509_NAME_new();
	if (prefix == NULL)
		return -2;
	for (i = 0; i < k; i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(dn, i);
		int same = i > 0 && X509_NAME_ENTRY_set(e) ==
					X509_NAME_ENTRY_set(
					    X509_NAME_get_entry(dn, i - 1));

		if (X509_NAME_add_entry(prefix, e, -1, same ? -1 : 0) != 1) {
			X509_NAME_free(prefix);
			return -2;
		}
	}
	within = X509_NAME_cmp(prefix, base) == 0;
	X509_NAME_free(prefix);
	return within;
}

/* 1: within base, 0: not, -1: the name cannot be compared, -2: no memory. */
static int within(const struct nc_name *n, GENERAL_NAME *base)
{
	int type;
	ASN1_STRING *s;
	const unsigned char *b;
	size_t m;

	if (base->type == GEN_DIRNAME)
		return dn_within(n->dn, base->d.directoryName);
	s = GENERAL_NAME_get0_value(base, &type);
	b = ASN1_STRING_get0_data(s);
	m = (size_t)ASN1_STRING_length(s);
	switch (type) {
	case GEN_DNS:
		return dns_within(n->data, n->len, b, m);
	case GEN_EMAIL:
		return email_within(n->data, n->len, b, m);
	case GEN_URI:
		return uri_within(n->data, n->len, b, m);
	case GEN_IPADD:
		return ip_within(n->data, n->len, b, m);
	default:
		return -1;
	}
}

/* ---- the checks ---------------------------------------------------------- */

/* "lint: dNSName NAME (where) TAIL": tail says what is wrong. */
static int refuse(const struct nc_name *n, const char *tail)
{
	char *name = name_text(n);
	int rc;

	rc = LINT("%s %s%s%s%s %s", type_name(n->type), name ? name : "?",
		  n->from ? " (" : "", n->from ? n->from : "",
		  n->from ? ")" : "",
		  tail ? tail : "breaks the issuer's name constraints");
	free(name);
	return rc;
}

/* The same with TAIL made of what, the subtree and the issuer. */
static int refuse_subtree(const struct issuer_ctx *c, const struct nc_name *n,
			  const char *what, GENERAL_NAME *base, const char *why)
{
	char *sub = subtree_text(base), *tail = NULL;
	int rc;

	if (asprintf(&tail, "%s %s of %s%s", what, sub ? sub : "?",
		     c->dn ? c->dn : "the issuer", why ? why : "") < 0)
		tail = NULL;
	rc = refuse(n, tail);
	free(sub);
	free(tail);
	return rc;
}

/* "list, one" (both freed; NULL when out of memory). */
static char *list_add(char *list, char *one)
{
	char *next;

	if (asprintf(&next, "%s%s%s", list ? list : "", list ? ", " : "",
		     one ? one : "?") < 0)
		next = NULL;
	free(list);
	free(one);
	return next;
}

/* "a, b, c": the permitted subtrees of one form (for a message). */
static char *subtree_list(STACK_OF(GENERAL_SUBTREE) * subs, int type)
{
	char *list = NULL;
	int i;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(subs); i++) {
		GENERAL_NAME *b = sk_GENERAL_SUBTREE_value(subs, i)->base;

		if (b->type != type)
			continue;
		list = list_add(list, subtree_text(b));
		if (list == NULL)
			break;
	}
	return list;
}

static int refuse_permitted(const struct issuer_ctx *c, const struct nc_name *n)
{
	char *list = subtree_list(c->nc->permittedSubtrees, n->type),
	     *tail = NULL;
	int rc;

	if (asprintf(&tail, "is not within any permitted %s subtree of %s (%s)",
		     type_name(n->type), c->dn ? c->dn : "the issuer",
		     list ? list : "?") < 0)
		tail = NULL;
	rc = refuse(n, tail);
	free(list);
	free(tail);
	return rc;
}

static int refuse_unsupported(const struct issuer_ctx *c,
			      const struct nc_name *n)
{
	char *tail = NULL;
	int rc;

	if (asprintf(&tail,
		     "cannot be checked against the %s constraints of %s",
		     type_name(n->type), c->dn ? c->dn : "the issuer") < 0)
		tail = NULL;
	rc = refuse(n, tail);
	free(tail);
	return rc;
}

static int supported(int type)
{
	return type == GEN_DNS || type == GEN_IPADD || type == GEN_EMAIL ||
	       type == GEN_URI || type == GEN_DIRNAME;
}

/* *inside: whether n is within the subtree b of its own form, or a
 * refusal when the two cannot be compared. which: "excluded" or
 * "permitted", for the message. */
static int compare_subtree(const struct issuer_ctx *c, const struct nc_name *n,
			   GENERAL_NAME *b, const char *which, int *inside)
{
	char what[64];
	int r;

	if (!supported(n->type))
		return refuse_unsupported(c, n);
	r = within(n, b);
	if (r == -2)
		return ca_err(CA_EIO, "out of memory");
	if (r < 0) {
		snprintf(what, sizeof(what),
			 "cannot be compared with the %s subtree", which);
		return refuse_subtree(c, n, what, b,
				      n->type == GEN_URI ? " (it has no host)"
							 : NULL);
	}
	*inside = r > 0;
	return CA_OK;
}

static int check_name(const struct issuer_ctx *c, const struct nc_name *n)
{
	STACK_OF(GENERAL_SUBTREE) *excl = c->nc->excludedSubtrees;
	STACK_OF(GENERAL_SUBTREE) *perm = c->nc->permittedSubtrees;
	GENERAL_NAME *first = NULL;
	int i, r, permitted = 0, in = 0, inside = 0;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(excl); i++) {
		GENERAL_NAME *b = sk_GENERAL_SUBTREE_value(excl, i)->base;

		if (b->type != n->type)
			continue;
		r = compare_subtree(c, n, b, "excluded", &inside);
		if (r < 0)
			return r;
		if (inside)
			return refuse_subtree(
			    c, n, "is within the excluded subtree", b, NULL);
		if (n->type == GEN_DNS &&
		    wildcard_covers(n->data, n->len,
				    ASN1_STRING_get0_data(b->d.dNSName),
				    (size_t)ASN1_STRING_length(b->d.dNSName)))
			return refuse_subtree(
			    c, n, "covers the excluded subtree", b, NULL);
	}
	for (i = 0; i < sk_GENERAL_SUBTREE_num(perm) && !in; i++) {
		GENERAL_NAME *b = sk_GENERAL_SUBTREE_value(perm, i)->base;

		if (b->type != n->type)
			continue;
		if (permitted++ == 0)
			first = b;
		r = compare_subtree(c, n, b, "permitted", &in);
		if (r < 0)
			return r;
	}
	if (permitted == 0 || in)
		return CA_OK;
	for (; i < sk_GENERAL_SUBTREE_num(perm); i++)
		permitted +=
		    sk_GENERAL_SUBTREE_value(perm, i)->base->type == n->type;
	if (permitted == 1)
		return refuse_subtree(
		    c, n, "is not within the permitted subtree", first, NULL);
	return refuse_permitted(c, n);
}

static int check_sans(const struct issuer_ctx *c, X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, rc = CA_OK;

	for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == CA_OK; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		struct nc_name n = {g->type, NULL, 0, NULL, NULL};
		int type;
		ASN1_STRING *s;

		if (g->type == GEN_DIRNAME) {
			n.dn = g->d.directoryName;
		} else if (g->type == GEN_DNS || g->type == GEN_EMAIL ||
			   g->type == GEN_URI || g->type == GEN_IPADD) {
			s = GENERAL_NAME_get0_value(g, &type);
			n.data = ASN1_STRING_get0_data(s);
			n.len = (size_t)ASN1_STRING_length(s);
		}
		rc = check_name(c, &n);
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

/* A CN a host name could be read from: RFC 1034 labels, at least one dot
 * (OpenSSL's rule for checking a CN against dNSName constraints). */
static int host_like(const unsigned char *s, size_t n)
{
	int rc;

	if (n == 0 || memchr(s, '.', n) == NULL)
		return 0;
	rc = ca_san_dns_check((const char *)s, n, 1);
	ca_err_clear();
	return rc == CA_OK;
}

/* Subject attributes read as names of another form: emailAddress as an
 * rfc822Name (RFC 5280 4.2.1.10), and for an end-entity certificate a
 * host-name CN as a dNSName. */
static int check_subject_attrs(const struct issuer_ctx *c, X509 *x, int is_ca)
{
	X509_NAME *subj = X509_get_subject_name(x);
	int i, len, rc = CA_OK;

	for (i = 0; i < X509_NAME_entry_count(subj) && rc == CA_OK; i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		unsigned char *utf8 = NULL;
		struct nc_name n = {GEN_EMAIL, NULL, 0, NULL,
				    "the subject emailAddress"};

		if (nid != NID_pkcs9_emailAddress &&
		    (nid != NID_commonName || is_ca))
			continue;
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (len < 0) {
			ERR_clear_error();
			rc = LINT("a subject %s does not decode",
				  OBJ_nid2sn(nid));
			break;
		}
		n.data = utf8;
		n.len = (size_t)len;
		if (nid == NID_commonName) {
			n.type = GEN_DNS;
			n.from = "the subject CN";
			if (!host_like(utf8, (size_t)len)) {
				OPENSSL_free(utf8);
				continue;
			}
		}
		rc = check_name(c, &n);
		OPENSSL_free(utf8);
	}
	return rc;
}

static int self_issued(X509 *x)
{
	return X509_NAME_cmp(X509_get_subject_name(x),
			     X509_get_issuer_name(x)) == 0;
}

static int check_name_constraints(const struct issuer_ctx *c, X509 *x,
				  int is_ca)
{
	struct nc_name subject = {GEN_DIRNAME, NULL, 0, NULL, "the subject"};
	int rc;

	if (c->nc == NULL || (is_ca && self_issued(x)))
		return CA_OK;
	GUARD(check_sans(c, x));
	subject.dn = X509_get_subject_name(x);
	if (X509_NAME_entry_count(subject.dn) > 0)
		GUARD(check_name(c, &subject));
	GUARD(check_subject_attrs(c, x, is_ca));
out:
	return rc;
}

static char *oid_text(const ASN1_OBJECT *o)
{
	char buf[128];
	int nid = OBJ_obj2nid(o);

	if (nid != NID_undef)
		return strdup(OBJ_nid2sn(nid));
	if (OBJ_obj2txt(buf, sizeof(buf), o, 1) <= 0)
		return strdup("?");
	return strdup(buf);
}

static int eku_has(EXTENDED_KEY_USAGE *eku, const ASN1_OBJECT *o)
{
	int i;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), o) == 0)
			return 1;
	return 0;
}

/* The purposes the issuer allows, "serverAuth, clientAuth". */
static char *eku_list(EXTENDED_KEY_USAGE *eku)
{
	char *list = NULL;
	int i;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		list = list_add(list, oid_text(sk_ASN1_OBJECT_value(eku, i)));
		if (list == NULL)
			break;
	}
	return list;
}

/* A CA certificate's EKU limits what it may certify (as OpenSSL, NSS, Go
 * and Windows read it; RFC 5280 leaves it to applications). */
static int check_eku(const struct issuer_ctx *c, X509 *x)
{
	EXTENDED_KEY_USAGE *ieku =
	    X509_get_ext_d2i(c->cert, NID_ext_key_usage, NULL, NULL);
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *any = OBJ_nid2obj(NID_anyExtendedKeyUsage);
	char *allowed = NULL, *one = NULL;
	int i, rc = CA_OK;

	if (ieku == NULL || eku_has(ieku, any))
		goto out;
	allowed = eku_list(ieku);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL) {
		rc = LINT(
		    "the certificate has no extended key usage (any purpose) "
		    "but %s allows only %s",
		    c->dn ? c->dn : "the issuer", allowed ? allowed : "?");
		goto out;
	}
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);

		if (eku_has(ieku, o))
			continue;
		one = oid_text(o);
		rc = LINT("extended key usage %s is not among those %s allows "
			  "(%s)",
			  one ? one : "?", c->dn ? c->dn : "the issuer",
			  allowed ? allowed : "?");
		break;
	}
out:
	sk_ASN1_OBJECT_pop_free(ieku, ASN1_OBJECT_free);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	free(allowed);
	free(one);
	return rc;
}

/* RFC 5280 6.1.4 (k)-(m): the issuer is a CA, and a CA certificate under
 * it fits its pathLenConstraint. */
static int check_path(const struct issuer_ctx *c, X509 *x, int is_ca)
{
	BASIC_CONSTRAINTS *ibc =
	    X509_get_ext_d2i(c->cert, NID_basic_constraints, NULL, NULL);
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *iku =
	    X509_get_ext_d2i(c->cert, NID_key_usage, NULL, NULL);
	const char *who = c->dn ? c->dn : "the issuer";
	long ipl, pl;
	int rc = CA_OK;

	if (ibc == NULL || !ibc->ca) {
		rc = LINT(
		    "%s is not a CA certificate (no basicConstraints cA): it "
		    "cannot issue certificates",
		    who);
		goto out;
	}
	if (iku != NULL && !ASN1_BIT_STRING_get_bit(iku, 5)) {
		rc = LINT("the key usage of %s has no keyCertSign: it cannot "
			  "issue certificates",
			  who);
		goto out;
	}
	if (!is_ca || ibc->pathlen == NULL || self_issued(x))
		goto out;
	ipl = ASN1_INTEGER_get(ibc->pathlen);
	if (ipl == 0) {
		rc = LINT(
		    "%s has pathLenConstraint 0: it cannot certify another CA",
		    who);
		goto out;
	}
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	pl = bc != NULL && bc->pathlen != NULL ? ASN1_INTEGER_get(bc->pathlen)
					       : -1;
	if (pl < 0)
		rc = LINT(
		    "the CA certificate has no pathLenConstraint but %s has "
		    "pathLenConstraint %ld: it needs one of at most %ld",
		    who, ipl, ipl - 1);
	else if (pl > ipl - 1)
		rc = LINT(
		    "the CA certificate's pathLenConstraint %ld does not fit "
		    "under pathLenConstraint %ld of %s (at most %ld)",
		    pl, ipl, who, ipl - 1);
out:
	BASIC_CONSTRAINTS_free(ibc);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(iku);
	return rc;
}

static int check_validity(const struct issuer_ctx *c, X509 *x)
{
	time_t nb, na, inb, ina;
	char a[32], b[32], ia[32], ib[32];
	int rc;

	GUARD(ca_asn1_time(X509_get0_notBefore(x), &nb));
	GUARD(ca_asn1_time(X509_get0_notAfter(x), &na));
	GUARD(ca_asn1_time(X509_get0_notBefore(c->cert), &inb));
	GUARD(ca_asn1_time(X509_get0_notAfter(c->cert), &ina));
	if (nb >= inb && na <= ina)
		goto out;
	ca_time_rfc3339(nb, a, sizeof(a));
	ca_time_rfc3339(na, b, sizeof(b));
	ca_time_rfc3339(inb, ia, sizeof(ia));
	ca_time_rfc3339(ina, ib, sizeof(ib));
	rc = LINT(
	    "validity %s to %s is not inside the validity of %s (%s to %s)", a,
	    b, c->dn ? c->dn : "the issuer", ia, ib);
out:
	return rc;
}

int ca_lint_issuer(X509 *x, X509 *issuer, int is_ca)
{
	struct issuer_ctx c;
	int crit = 0, rc;

	memset(&c, 0, sizeof(c));
	c.cert = issuer;
	c.dn = dn_text(X509_get_subject_name(issuer));
	c.nc = X509_get_ext_d2i(issuer, NID_name_constraints, &crit, NULL);
	if (c.nc == NULL && crit != -1) {
		rc = LINT("the name constraints of %s do not decode",
			  c.dn ? c.dn : "the issuer");
		goto out;
	}
	GUARD(check_validity(&c, x));
	GUARD(check_path(&c, x, is_ca));
	GUARD(check_eku(&c, x));
	GUARD(check_name_constraints(&c, x, is_ca));
out:
	ERR_clear_error();
	NAME_CONSTRAINTS_free(c.nc);
	free(c.dn);
	return rc;
}
