/* Data objects (CKO_DATA) of an application on a token: private token
 * objects found by CKA_APPLICATION and CKA_LABEL, whose CKA_VALUE is read
 * and replaced in place. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DATA_ATTRS(app, label)                                                 \
	{CKA_CLASS, &cls, sizeof(cls)}, {CKA_TOKEN, &yes, sizeof(yes)},        \
	    {CKA_APPLICATION, (void *)(app), strlen(app)},                     \
	{                                                                      \
		CKA_LABEL, (void *)(label), strlen(label)                      \
	}

#define DATA_MAX 4

/* The objects of app named label (normally one; a replacement
 * interrupted between creating the new object and deleting the old one
 * leaves two): data objects, or where the token refuses private data
 * objects (NSS softokn), generic secret keys of that label, whose value
 * is their CKA_ID (a key's CKA_VALUE may be forced sensitive). *secret:
 * which class was found. */
static int find_data(ca_token *tok, CK_SESSION_HANDLE s, const char *app,
		     const char *label, CK_OBJECT_HANDLE found[DATA_MAX],
		     CK_ULONG *n, int *secret)
{
	CK_OBJECT_CLASS cls = CKO_DATA, sk = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {DATA_ATTRS(app, label)};
	CK_ATTRIBUTE ktmpl[] = {{CKA_CLASS, &sk, sizeof(sk)},
				{CKA_KEY_TYPE, &kt, sizeof(kt)},
				{CKA_TOKEN, &yes, sizeof(yes)},
				{CKA_LABEL, (void *)label, strlen(label)}};
	int rc;

	*secret = 0;
	rc = ca_token_find(tok, s, tmpl, 4, found, DATA_MAX, n);
	if (rc == CA_OK && *n == 0) {
		rc = ca_token_find(tok, s, ktmpl, 4, found, DATA_MAX, n);
		*secret = 1;
	}
	return rc;
}

/* A new object holding val: a private data object, or where the token
 * refuses those a generic secret key (of zeros, usable for nothing)
 * holding val as its CKA_ID. */
static CK_RV create_data(ca_token *tok, CK_SESSION_HANDLE s, const char *app,
			 const char *label, const unsigned char *val,
			 size_t len, int secret)
{
	CK_OBJECT_CLASS cls = CKO_DATA, sk = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {DATA_ATTRS(app, label),
			       {CKA_PRIVATE, &yes, sizeof(yes)},
			       {CKA_MODIFIABLE, &yes, sizeof(yes)},
			       {CKA_VALUE, (void *)val, len}};
	unsigned char zero[32] = {0};
	CK_ATTRIBUTE ktmpl[] = {{CKA_CLASS, &sk, sizeof(sk)},
				{CKA_KEY_TYPE, &kt, sizeof(kt)},
				{CKA_TOKEN, &yes, sizeof(yes)},
				{CKA_LABEL, (void *)label, strlen(label)},
				{CKA_PRIVATE, &yes, sizeof(yes)},
				{CKA_MODIFIABLE, &yes, sizeof(yes)},
				{CKA_SENSITIVE, &yes, sizeof(yes)},
				{CKA_EXTRACTABLE, &no, sizeof(no)},
				{CKA_SIGN, &no, sizeof(no)},
				{CKA_VERIFY, &no, sizeof(no)},
				{CKA_ENCRYPT, &no, sizeof(no)},
				{CKA_DECRYPT, &no, sizeof(no)},
				{CKA_VALUE, zero, sizeof(zero)},
				{CKA_ID, (void *)val, len}};
	CK_OBJECT_HANDLE obj;
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	if (!secret)
		rv = tok->fl->C_CreateObject(s, tmpl, 7, &obj);
	if (rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	    rv == CKR_TEMPLATE_INCONSISTENT || rv == CKR_ATTRIBUTE_TYPE_INVALID)
		rv = tok->fl->C_CreateObject(s, ktmpl, 14, &obj);
	return rv;
}

/* Another process replacing the object between our find and our read
 * (ca_token_data_write) invalidates the handle found: look again, a
 * bounded number of times. */
#define DATA_READ_TRIES 8

int ca_token_data_read(ca_token *tok, const char *app, const char *label,
		       struct ca_token_data *out)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj[DATA_MAX];
	CK_ULONG n, i;
	CK_RV rv = CKR_OK;
	int rc, secret, tries = 0;

	memset(out, 0, sizeof(*out));
	GUARD(ca_token_session(tok, &s));
	do {
		ca_token_data_clear(out);
		rc = find_data(tok, s, app, label, obj, &n, &secret);
		for (i = 0; rc == CA_OK && i < n && i < CA_TOKEN_DATA_MAX;
		     i++) {
			rc = ca_token_attr_rv(tok, s, obj[i],
					      secret ? CKA_ID : CKA_VALUE,
					      &out->val[i], &out->len[i], &rv);
			if (rc == CA_OK)
				out->n++;
		}
	} while (rc < 0 && rv == CKR_OBJECT_HANDLE_INVALID &&
		 ++tries < DATA_READ_TRIES);
	ca_token_release(tok, s, 0);
	if (rc < 0)
		ca_token_data_clear(out);
out:
	return rc;
}

void ca_token_data_clear(struct ca_token_data *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->val[i]);
	memset(d, 0, sizeof(*d));
}

/* Delete the n objects found for label; which ("old " or "") says which
 * in a message. */
static int destroy_all(ca_token *tok, CK_SESSION_HANDLE s,
		       const CK_OBJECT_HANDLE *obj, CK_ULONG n,
		       const char *label, const char *which)
{
	CK_ULONG i;
	CK_RV rv;

	for (i = 0; i < n; i++) {
		rv = tok->fl->C_DestroyObject(s, obj[i]);
		/* Invalid: another process deleted it first. */
		if (rv != CKR_OK && rv != CKR_OBJECT_HANDLE_INVALID)
			return ca_err(CA_EIO,
				      "cannot delete the %sdata object '%s' "
				      "on token '%s': %s",
				      which, label, tok->label,
				      p11_kit_strerror(rv));
	}
	return CA_OK;
}

int ca_token_data_write(ca_token *tok, const char *app, const char *label,
			const unsigned char *val, size_t len, int create)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE old[DATA_MAX];
	CK_ULONG n;
	CK_RV rv;
	int rc, secret;

	GUARD(ca_token_session(tok, &s));
	rc = find_data(tok, s, app, label, old, &n, &secret);
	if (rc < 0)
		goto release;
	if (create && n > 0) {
		rc = ca_err(CA_EPOLICY,
			    "token '%s' already holds the data object '%s'",
			    tok->label, label);
		goto release;
	}
	if (!create && n == 0) {
		rc = ca_err(CA_EPOLICY,
			    "token '%s' holds no data object '%s' any more",
			    tok->label, label);
		goto release;
	}
	/* Never in place: CKA_VALUE of a data object is read-only on some
	 * tokens (SoftHSM), and tpm2-pkcs11 accepts C_SetAttributeValue but
	 * does not keep the new value. A new object, then the old ones
	 * deleted: whenever this stops, the token holds the old value or
	 * the new one or both. */
	rv = create_data(tok, s, app, label, val, len, n > 0 && secret);
	if (rv != CKR_OK) {
		rc = ca_err(CA_EIO,
			    create ? "token '%s' cannot hold a private data "
				     "object (C_CreateObject: %s)"
				   : "cannot update a private data object on "
				     "token '%s' (C_CreateObject: %s)",
			    tok->label, p11_kit_strerror(rv));
		goto release;
	}
	rc = destroy_all(tok, s, old, n, label, "old ");
release:
	ca_token_release(tok, s, 0);
out:
	return rc;
}

int ca_token_data_destroy(ca_token *tok, const char *app, const char *label)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj[DATA_MAX];
	CK_ULONG n;
	int rc, secret;

	GUARD(ca_token_session(tok, &s));
	rc = find_data(tok, s, app, label, obj, &n, &secret);
	if (rc == CA_OK)
		rc = destroy_all(tok, s, obj, n, label, "");
	ca_token_release(tok, s, 0);
out:
	return rc;
}
