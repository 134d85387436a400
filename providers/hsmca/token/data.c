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

/* The data objects of app named label (normally one; a replacement
 * interrupted between creating the new object and deleting the old one
 * leaves two). */
static int find_data(ca_token *tok, CK_SESSION_HANDLE s, const char *app,
		     const char *label, CK_OBJECT_HANDLE found[DATA_MAX],
		     CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {DATA_ATTRS(app, label)};

	return ca_token_find(tok, s, tmpl, 4, found, DATA_MAX, n);
}

int ca_token_data_read(ca_token *tok, const char *app, const char *label,
		       struct ca_token_data *out)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj[DATA_MAX];
	CK_ULONG n, i;
	int rc;

	memset(out, 0, sizeof(*out));
	GUARD(ca_token_session(tok, &s));
	rc = find_data(tok, s, app, label, obj, &n);
	for (i = 0; rc == CA_OK && i < n && i < CA_TOKEN_DATA_MAX; i++) {
		rc = ca_token_attr(tok, s, obj[i], CKA_VALUE, &out->val[i],
				   &out->len[i]);
		if (rc == CA_OK)
			out->n++;
	}
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

int ca_token_data_write(ca_token *tok, const char *app, const char *label,
			const unsigned char *val, size_t len, int create)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {DATA_ATTRS(app, label),
			       {CKA_PRIVATE, &yes, sizeof(yes)},
			       {CKA_MODIFIABLE, &yes, sizeof(yes)},
			       {CKA_VALUE, (void *)val, len}};
	CK_ATTRIBUTE value = {CKA_VALUE, (void *)val, len};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE old[DATA_MAX], obj;
	CK_ULONG n, i;
	CK_RV rv;
	int rc;

	GUARD(ca_token_session(tok, &s));
	rc = find_data(tok, s, app, label, old, &n);
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
	/* In place where the token allows it (CKA_VALUE of a data object
	 * is read-only on some). */
	if (n == 1 &&
	    tok->fl->C_SetAttributeValue(s, old[0], &value, 1) == CKR_OK)
		goto release;
	/* Else a new object, then the old ones deleted: whenever this
	 * stops, the token holds the old value or the new one or both. */
	rv = tok->fl->C_CreateObject(s, tmpl, 7, &obj);
	if (rv != CKR_OK) {
		rc = ca_err(CA_EIO,
			    create ? "token '%s' cannot hold a private data "
				     "object (C_CreateObject: %s)"
				   : "cannot update a private data object on "
				     "token '%s' (C_CreateObject: %s)",
			    tok->label, p11_kit_strerror(rv));
		goto release;
	}
	for (i = 0; i < n; i++) {
		rv = tok->fl->C_DestroyObject(s, old[i]);
		if (rv != CKR_OK) {
			rc = ca_err(CA_EIO,
				    "cannot delete the old data object '%s' "
				    "on token '%s': %s",
				    label, tok->label, p11_kit_strerror(rv));
			break;
		}
	}
release:
	ca_token_release(tok, s, 0);
out:
	return rc;
}

int ca_token_data_destroy(ca_token *tok, const char *app, const char *label)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj[DATA_MAX];
	CK_ULONG n, i;
	CK_RV rv;
	int rc;

	GUARD(ca_token_session(tok, &s));
	rc = find_data(tok, s, app, label, obj, &n);
	for (i = 0; rc == CA_OK && i < n; i++) {
		rv = tok->fl->C_DestroyObject(s, obj[i]);
		if (rv != CKR_OK)
			rc = ca_err(CA_EIO,
				    "cannot delete the data object '%s' on "
				    "token '%s': %s",
				    label, tok->label, p11_kit_strerror(rv));
	}
	ca_token_release(tok, s, 0);
out:
	return rc;
}
