/* RFC 7512 PKCS#11 URIs and key specifications. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/obj_mac.h>

#define MSG_URI_MAX 200 /* longest URI quoted in a message */

void ca_uri_redact(const char *uri, char *buf, size_t len)
{
	static const char key[] = "pin-value=";
	static const char hidden[] = "pin-value=***";
	const char *piece;
	size_t i = 0, o = 0, n;

	if (len < 4)
		return;
	while (uri[i] != '\0') {
		if (strncasecmp(uri + i, key, sizeof(key) - 1) == 0) {
			/* RFC 7512 2.3: the value ends at the next '&' */
			piece = hidden;
			n = sizeof(hidden) - 1;
			i += sizeof(key) - 1;
			while (uri[i] != '\0' && uri[i] != '&')
				i++;
		} else {
			piece = uri + i;
			n = 1;
			i++;
		}
		if (!ca_msg_append(buf, len, &o, piece, n))
			break;
	}
	buf[o] = '\0';
}

static int refuse(int code, const char *uri, const char *why)
{
	char shown[MSG_URI_MAX];

	ca_uri_redact(uri, shown, sizeof(shown));
	return ca_err(code, "%s PKCS#11 URI '%s'%s",
		      code == CA_EPOLICY ? "refused" : "malformed", shown, why);
}

int ca_p11_uri_parse(const char *uri, P11KitUri **out)
{
	P11KitUri *u = NULL;
	int res, rc = CA_OK;

	*out = NULL;
	if (uri == NULL || uri[0] == '\0') {
		rc = ca_err(CA_EUSAGE, "empty PKCS#11 URI");
		goto out;
	}
	u = p11_kit_uri_new();
	if (u == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	res = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u);
	if (res == P11_KIT_URI_BAD_SCHEME) {
		rc = refuse(CA_EUSAGE, uri, ": not a pkcs11: URI");
		goto out;
	}
	if (res != P11_KIT_URI_OK) {
		char why[128];

		snprintf(why, sizeof(why), ": %s", p11_kit_uri_message(res));
		rc = refuse(CA_EUSAGE, uri, why);
		goto out;
	}
	/* A typo in a path attribute would widen the match: refuse it. */
	if (p11_kit_uri_any_unrecognized(u)) {
		rc = refuse(CA_EUSAGE, uri, ": unknown attribute or value");
		goto out;
	}
	/* Slot ids change when SoftHSM re-initialises a token. */
	if (p11_kit_uri_get_slot_id(u) != (CK_SLOT_ID)-1) {
		rc = refuse(CA_EUSAGE, uri,
			    ": slot-id is not used, select the token by "
			    "token= or serial=");
		goto out;
	}
	if (p11_kit_uri_get_pin_value(u) != NULL &&
	    !ca_p11_pin_value_allowed()) {
		rc = refuse(CA_EPOLICY, uri,
			    ": pin-value is refused (a PIN in a URI ends up "
			    "in logs and shell history), use pin-source");
		goto out;
	}
	*out = u;
	u = NULL;
out:
	if (u != NULL)
		p11_kit_uri_free(u);
	return rc;
}

/* RFC 3986 2.3 unreserved characters are written as is, all else %XX. */
static int pct_encode(char *buf, size_t len, size_t *o, const unsigned char *v,
		      size_t n, int all)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = v[i];
		int plain = !all && (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
				     (c >= '0' && c <= '9') || c == '-' ||
				     c == '.' || c == '_' || c == '~');

		if (*o + 4 > len)
			return -1;
		if (plain) {
			buf[(*o)++] = (char)c;
		} else {
			buf[(*o)++] = '%';
			buf[(*o)++] = hex[c >> 4];
			buf[(*o)++] = hex[c & 15];
		}
	}
	buf[*o] = '\0';
	return 0;
}

static int append(char *buf, size_t len, size_t *o, const char *s)
{
	return pct_encode(buf, len, o, (const unsigned char *)s, strlen(s), 0);
}

static int append_raw(char *buf, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n + 1 > len)
		return -1;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return 0;
}

char *ca_uri_for_key(const ca_token *tok, const char *label,
		     const unsigned char *id, size_t id_len)
{
	size_t len = 64 + 3 * (strlen(tok->label) + strlen(tok->serial) +
			       strlen(label) + id_len);
	size_t o = 0;
	char *buf = malloc(len);

	if (buf == NULL)
		return NULL;
	if (append_raw(buf, len, &o, "pkcs11:token=") < 0 ||
	    append(buf, len, &o, tok->label) < 0 ||
	    append_raw(buf, len, &o, ";serial=") < 0 ||
	    append(buf, len, &o, tok->serial) < 0 ||
	    (label[0] != '\0' && (append_raw(buf, len, &o, ";object=") < 0 ||
				  append(buf, len, &o, label) < 0)) ||
	    (id_len > 0 && (append_raw(buf, len, &o, ";id=") < 0 ||
			    pct_encode(buf, len, &o, id, id_len, 1) < 0)) ||
	    append_raw(buf, len, &o, ";type=private") < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- key specifications ----------------------------------------------- */

static const struct {
	const char *name;
	struct ca_keyspec spec;
} keyspecs[] = {
    {"rsa:2048", {CA_KT_RSA, 2048, NID_undef}},
    {"rsa:3072", {CA_KT_RSA, 3072, NID_undef}},
    {"rsa:4096", {CA_KT_RSA, 4096, NID_undef}},
    {"ec:p256", {CA_KT_EC, 256, NID_X9_62_prime256v1}},
    {"ec:p384", {CA_KT_EC, 384, NID_secp384r1}},
    {"ec:p521", {CA_KT_EC, 521, NID_secp521r1}},
    {"ed25519", {CA_KT_ED25519, 255, NID_undef}},
};

int ca_keyspec_parse(const char *s, struct ca_keyspec *spec)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(keyspecs) / sizeof(keyspecs[0]);
	     i++) {
		if (strcmp(s, keyspecs[i].name) == 0) {
			*spec = keyspecs[i].spec;
			return CA_OK;
		}
	}
	return ca_err(
	    CA_EUSAGE,
	    "unknown key type '%s': use rsa:2048, rsa:3072, rsa:4096, "
	    "ec:p256, ec:p384, ec:p521 or ed25519",
	    s != NULL ? s : "");
}

const char *ca_keyspec_name(const struct ca_keyspec *spec)
{
	size_t i;

	for (i = 0; i < sizeof(keyspecs) / sizeof(keyspecs[0]); i++) {
		if (keyspecs[i].spec.type == spec->type &&
		    keyspecs[i].spec.bits == spec->bits &&
		    keyspecs[i].spec.curve_nid == spec->curve_nid)
			return keyspecs[i].name;
	}
	return "unknown";
}
