/* record.pdf: the ceremony on paper, for the witness, the approvers and
 * the auditors to sign (cairo draws, pango sets the text). Everything in
 * it comes from progress.json and the artifacts themselves. */
#include "ceremony/internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pango/pangocairo.h>

#include "base/hex.h"
#include "base/time.h"
#include "base/words.h"
#include "input/name.h"
#include "input/quorum.h"
#include "out/cadir.h"
#include "x509/cert.h"

#define PAGE_W 595.28 /* A4, points */
#define PAGE_H 841.89
#define MARGIN 50.0
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define BOTTOM (PAGE_H - MARGIN - 20)

/* Sizes in points: pango lays out at 72 dpi on the PDF surface. */
#define SANS   "DejaVu Sans 9.5"
#define SANS_B "DejaVu Sans Bold 9.5"
#define SMALL  "DejaVu Sans 7.5"
#define HEAD   "DejaVu Sans Bold 13"
#define TITLE  "DejaVu Sans Bold 18"
#define MONO   "DejaVu Sans Mono 9"
#define BOX    "DejaVu Sans 8.5"

struct doc {
	cairo_surface_t *surface;
	cairo_t *cr;
	PangoContext *pc;
	double y;
	int page;
	char footer[200];
};

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static PangoLayout *layout(struct doc *d, const char *font, const char *text,
			   double width, int markup)
{
	PangoLayout *l = pango_layout_new(d->pc);
	PangoFontDescription *f = pango_font_description_from_string(font);

	pango_layout_set_font_description(l, f);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	if (markup)
		pango_layout_set_markup(l, text, -1);
	else
		pango_layout_set_text(l, text, -1);
	pango_font_description_free(f);
	return l;
}

static void footer(struct doc *d)
{
	PangoLayout *l;
	char text[260];

	snprintf(text, sizeof(text), "%s    page %d", d->footer, d->page);
	l = layout(d, SMALL, text, TEXT_W, 0);
	cairo_set_source_rgb(d->cr, 0.35, 0.35, 0.35);
	cairo_move_to(d->cr, MARGIN, PAGE_H - MARGIN + 6);
	pango_cairo_show_layout(d->cr, l);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	g_object_unref(l);
}

static void new_page(struct doc *d)
{
	footer(d);
	cairo_show_page(d->cr);
	d->page++;
	d->y = MARGIN;
}

/* A paragraph at indent, on a new page when it does not fit. */
static void para(struct doc *d, const char *font, double indent,
		 const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void para(struct doc *d, const char *font, double indent,
		 const char *fmt, ...)
{
	char text[8192];
	PangoLayout *l;
	int w, h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	l = layout(d, font, text, TEXT_W - indent, 0);
	pango_layout_get_pixel_size(l, &w, &h);
	if (d->y + h > BOTTOM)
		new_page(d);
	cairo_move_to(d->cr, MARGIN + indent, d->y);
	pango_cairo_show_layout(d->cr, l);
	d->y += h + 2;
	g_object_unref(l);
}

/* "label: value", the value in font. */
static void field(struct doc *d, const char *label, const char *font,
		  const char *value)
{
	PangoLayout *k = layout(d, SANS_B, label, 120, 0);
	PangoLayout *v = layout(d, font, value, TEXT_W - 125, 0);
	int w, hk, hv;

	pango_layout_get_pixel_size(k, &w, &hk);
	pango_layout_get_pixel_size(v, &w, &hv);
	if (d->y + (hv > hk ? hv : hk) > BOTTOM)
		new_page(d);
	cairo_move_to(d->cr, MARGIN, d->y);
	pango_cairo_show_layout(d->cr, k);
	cairo_move_to(d->cr, MARGIN + 125, d->y);
	pango_cairo_show_layout(d->cr, v);
	d->y += (hv > hk ? hv : hk) + 3;
	g_object_unref(k);
	g_object_unref(v);
}

static void heading(struct doc *d, const char *text)
{
	if (d->y + 60 > BOTTOM)
		new_page(d);
	d->y += 10;
	para(d, HEAD, 0, "%s", text);
	cairo_set_line_width(d->cr, 0.6);
	cairo_move_to(d->cr, MARGIN, d->y);
	cairo_line_to(d->cr, PAGE_W - MARGIN, d->y);
	cairo_stroke(d->cr);
	d->y += 5;
}

/* A SHA-256: hex on one line, words below. */
static void digest(struct doc *d, const char *label, const char *hex)
{
	char *w = ca_words_hex(hex), *p;

	field(d, label, MONO, hex);
	if (w == NULL)
		return;
	for (p = w; *p != '\0'; p++)
		*p = *p == '\n' ? ' ' : *p;
	field(d, "  in words", SANS, w);
	free(w);
}

/* ---------------------------------------------------------------------- */
/* Sections                                                                 */

static void title(struct doc *d, struct ca_cer *c)
{
	json_t *st = c->state;

	para(d, TITLE, 0, "hsmca key ceremony record");
	if (c->rehearse) {
		cairo_set_source_rgb(d->cr, 0.75, 0, 0);
		para(d, HEAD, 0,
		     "REHEARSAL: SoftHSM and throwaway keys, not for "
		     "use");
		cairo_set_source_rgb(d->cr, 0, 0, 0);
	}
	d->y += 4;
	field(d, "Ceremony", SANS,
	      c->spec->title ? c->spec->title : "(untitled)");
	field(d, "Type", SANS, ca_cer_type_name(c->spec->type));
	if (c->spec->description != NULL)
		field(d, "Description", SANS, c->spec->description);
	field(d, "Started (UTC)", SANS, jstr(st, "started"));
	{
		json_t *r = json_object_get(st, "resumed"), *t;
		char list[400] = "", now[32];
		size_t i, o = 0;

		json_array_foreach(r, i, t)
		{
			if (o + 40 >= sizeof(list))
				break;
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%s", i ? ", " : "",
					      json_string_value(t));
		}
		if (o > 0)
			field(d, "Resumed (UTC)", SANS, list);
		ca_now_utc(now);
		field(d, "Record made (UTC)", SANS, now);
	}
	field(d, "Workstation", SANS, jstr(st, "host"));
	field(d, "Operator account", SANS, jstr(st, "user"));
	field(d, "hsmca", SANS, jstr(st, "hsmca"));
	field(d, "Token", SANS, c->spec->token_label);
	field(d, "Token serial", MONO,
	      c->rehearse && ca_val(c, "rehearsal_token_serial")
		  ? ca_val(c, "rehearsal_token_serial")
		  : c->spec->token_serial);
	field(d, "PKCS#11 module", SANS,
	      c->module ? c->module : "(the tools' default)");
	heading(d, "Ceremony file");
	field(d, "File", SANS, jstr(st, "ceremony_file"));
	digest(d, "SHA-256", c->spec->sha256);
}

static void steps(struct doc *d, struct ca_cer *c)
{
	json_t *s, *ans, *a;
	size_t j;
	int i;

	heading(d, "Steps (times in UTC)");
	for (i = 0; i < c->n_steps; i++) {
		s = ca_progress_step(c, c->steps[i].name);
		para(d, SANS_B, 0, "%d. %s (%s)", i + 1, c->steps[i].title,
		     c->steps[i].name);
		para(d, SANS, 14, "started %s, finished %s", jstr(s, "started"),
		     jstr(s, "finished")[0] ? jstr(s, "finished")
					    : "(not finished)");
		ans = json_object_get(s, "answers");
		json_array_foreach(ans, j, a)
		{
			para(d, SANS, 14, "%s", jstr(a, "question"));
			para(d, SANS, 28, "answer at %s: %s", jstr(a, "time"),
			     jstr(a, "answer"));
		}
	}
}

static void key(struct doc *d, struct ca_cer *c)
{
	if (ca_val(c, "key_spki") == NULL)
		return;
	heading(d, "Key");
	field(d, "Label", SANS, c->spec->key_label);
	field(d, "Type", SANS, ca_val(c, "key_type"));
	field(d, "URI", MONO, ca_val(c, "key_uri"));
	digest(d, "SPKI SHA-256", ca_val(c, "key_spki"));
}

static void approvers(struct doc *d, struct ca_cer *c)
{
	struct ca_quorum *q = NULL;
	json_t *ops = json_object_get(c->state, "ops"), *op, *by;
	const char *name;
	char fp[65];
	int i;

	if (!ca_spec_has_quorum(c->spec) || ca_quorum_load(c->quorum, &q) < 0)
		return;
	heading(d, "Quorum and approvers");
	field(d, "Quorum file", SANS, c->quorum);
	field(d, "Its SHA-256", MONO, q->sha256_hex);
	para(d, SANS, 0,
	     "%d of %d approvers must approve each action of the CA.",
	     q->threshold, q->n);
	for (i = 0; i < q->n; i++) {
		ca_hex(q->approvers[i].spki_sha256, 32, fp);
		para(d, SANS, 0, "%s (%s)", q->approvers[i].id,
		     q->approvers[i].name);
		para(d, MONO, 14, "key SHA-256 %s", fp);
	}
	json_object_foreach(ops, name, op)
	{
		by = json_object_get(op, "approved_by");
		if (json_array_size(by) == 0)
			continue;
		{
			char list[600] = "";
			size_t j, o = 0;
			json_t *id;

			json_array_foreach(by, j, id) o += (size_t)snprintf(
			    list + o, sizeof(list) - o, "%s%s", j ? ", " : "",
			    json_string_value(id));
			para(d, SANS_B, 0, "Request %s approved by %s", name,
			     list);
		}
		digest(d, "Request SHA-256", jstr(op, "request_sha256"));
		field(d, "TBS SHA-256", MONO, jstr(op, "tbs_sha256"));
	}
	ca_quorum_free(q);
}

static void summaries(struct doc *d, struct ca_cer *c)
{
	json_t *ops = json_object_get(c->state, "ops"), *op, *desc, *x, *e;
	const char *name;
	size_t i;

	if (json_object_size(ops) == 0)
		return;
	heading(d, "What was signed");
	json_object_foreach(ops, name, op)
	{
		desc = json_object_get(op, "request_description");
		para(d, SANS_B, 0, "%s (%s)", name, jstr(desc, "action"));
		if ((x = json_object_get(desc, "certificate")) != NULL) {
			field(d, "Subject", SANS, jstr(x, "subject"));
			field(d, "Issuer", SANS, jstr(x, "issuer"));
			field(d, "Serial", MONO, jstr(x, "serial"));
			field(d, "Not before", SANS, jstr(x, "not_before"));
			field(d, "Not after", SANS, jstr(x, "not_after"));
			field(d, "Key SPKI SHA-256", MONO,
			      jstr(json_object_get(x, "public_key"),
				   "spki_sha256"));
			field(d, "Signature", SANS,
			      jstr(x, "signature_algorithm"));
			json_array_foreach(json_object_get(x, "extensions"), i,
					   e)
			    para(d, SANS, 14, "%s%s: %s", jstr(e, "name"),
				 json_is_true(json_object_get(e, "critical"))
				     ? " (critical)"
				     : "",
				 jstr(e, "value"));
		} else if ((x = json_object_get(desc, "crl")) != NULL) {
			field(d, "Issuer", SANS, jstr(x, "issuer"));
			field(d, "CRL number", MONO, jstr(x, "crl_number"));
			field(d, "This update", SANS, jstr(x, "this_update"));
			field(d, "Next update", SANS, jstr(x, "next_update"));
			para(d, SANS, 0, "%lld entries",
			     (long long)json_integer_value(
				 json_object_get(x, "entries")));
			json_array_foreach(json_object_get(x, "first_entries"),
					   i, e)
			    para(d, MONO, 14, "%s %s %s", jstr(e, "serial"),
				 jstr(e, "revocation_date"), jstr(e, "reason"));
		} else {
			para(d, MONO, 0, "%s", jstr(desc, "revocation"));
		}
	}
}

/* ---------------------------------------------------------------------- */
/* The chain, drawn                                                         */

struct box {
	char role[120];
	char text[1400];
	int revoked, crl;
};

static void time_text(const ASN1_TIME *t, char *out, size_t len)
{
	time_t v;

	if (ca_asn1_time(t, &v) == CA_OK)
		ca_time_rfc3339(v, out, len);
	else
		snprintf(out, len, "?");
}

/* An extension as OpenSSL prints it, on one line: lines trimmed and
 * joined ("Permitted: DNS:example.com; IP:10.0.0.0/8"). */
static void ext_text(X509 *x, int nid, char *out, size_t len)
{
	int i = X509_get_ext_by_NID(x, nid, -1);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *line, *save = NULL, *copy;
	size_t o = 0;
	long n;

	out[0] = '\0';
	if (i < 0 || b == NULL ||
	    X509V3_EXT_print(b, X509_get_ext(x, i), 0, 0) != 1) {
		BIO_free(b);
		return;
	}
	n = BIO_get_mem_data(b, &data);
	copy = strndup(data, (size_t)n);
	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " ");
		if (*line == '\0' || o + 3 >= len)
			continue;
		if (o > 0)
			o += (size_t)snprintf(out + o, len - o, "%s",
					      out[o - 1] == ':' ? " " : "; ");
		o += (size_t)snprintf(out + o, len - o, "%s", line);
		if (o >= len)
			o = len - 1;
	}
	free(copy);
	BIO_free(b);
}

static void cert_box(X509 *x, struct box *b, const char *role)
{
	char nb[32], na[32], nc[500], bc[100];
	char *subject = ca_name_oneline(X509_get_subject_name(x));
	char *issuer = ca_name_oneline(X509_get_issuer_name(x));

	time_text(X509_get0_notBefore(x), nb, sizeof(nb));
	time_text(X509_get0_notAfter(x), na, sizeof(na));
	ext_text(x, NID_basic_constraints, bc, sizeof(bc));
	ext_text(x, NID_name_constraints, nc, sizeof(nc));
	snprintf(b->role, sizeof(b->role), "%s", role);
	snprintf(b->text, sizeof(b->text),
		 "%s\nissuer %s\nvalid %s to %s\n%s%s%s",
		 subject ? subject : "?", issuer ? issuer : "?", nb, na,
		 bc[0] ? bc : "no basic constraints",
		 nc[0] ? "\nname constraints " : "", nc);
	free(subject);
	free(issuer);
}

static int add_cert(struct box *boxes, int *n, const char *path,
		    const char *role, int revoked)
{
	X509 *x = NULL;

	if (*n >= 8 || ca_cert_load(path, &x) < 0)
		return 0;
	cert_box(x, &boxes[*n], role);
	boxes[(*n)++].revoked = revoked;
	X509_free(x);
	return 1;
}

/* The signing CA's issuers (chain.pem, the root last) then the CA. */
static void add_ca(struct ca_cer *c, struct box *boxes, int *n)
{
	char *chain = ca_dir_file(c->ca_dir, "chain.pem"),
	     *crt = ca_dir_file(c->ca_dir, "ca.crt");
	BIO *b = chain ? BIO_new_file(chain, "r") : NULL;
	X509 *list[6];
	int k = 0, i;

	while (b != NULL && k < 6 &&
	       (list[k] = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		k++;
	ERR_clear_error();
	for (i = k - 1; i >= 0 && *n < 8; i--) {
		cert_box(list[i], &boxes[*n], i == k - 1 ? "root" : "CA");
		boxes[(*n)++].revoked = 0;
	}
	for (i = 0; i < k; i++)
		X509_free(list[i]);
	BIO_free(b);
	(void)add_cert(boxes, n, crt,
		       k == 0 ? "root (the signing CA)" : "the signing CA", 0);
	free(crt);
	free(chain);
}

static void draw_box(struct doc *d, const struct box *b, double x, double w,
		     double *h)
{
	char *role = g_markup_escape_text(b->role, -1);
	char *text = g_markup_escape_text(b->text, -1);
	char *markup = g_strdup_printf("<b>%s</b>\n%s", role, text);
	PangoLayout *l = layout(d, BOX, markup, w - 16, 1);
	int pw, ph;

	g_free(markup);
	g_free(text);
	g_free(role);
	pango_layout_get_pixel_size(l, &pw, &ph);
	*h = ph + 14;
	if (b->crl)
		cairo_set_dash(d->cr, (double[]){4, 3}, 2, 0);
	cairo_set_line_width(d->cr, b->revoked ? 1.6 : 0.9);
	if (b->revoked)
		cairo_set_source_rgb(d->cr, 0.75, 0, 0);
	cairo_rectangle(d->cr, x, d->y, w, *h);
	cairo_stroke(d->cr);
	cairo_set_dash(d->cr, NULL, 0, 0);
	cairo_move_to(d->cr, x + 8, d->y + 7);
	pango_cairo_show_layout(d->cr, l);
	cairo_set_source_rgb(d->cr, 0, 0, 0);
	g_object_unref(l);
}

static void arrow(struct doc *d, double x, double y0, double y1)
{
	cairo_set_line_width(d->cr, 0.9);
	cairo_move_to(d->cr, x, y0);
	cairo_line_to(d->cr, x, y1 - 1);
	cairo_stroke(d->cr);
	cairo_move_to(d->cr, x - 4, y1 - 7);
	cairo_line_to(d->cr, x, y1);
	cairo_line_to(d->cr, x + 4, y1 - 7);
	cairo_close_path(d->cr);
	cairo_fill(d->cr);
}

static void chain(struct doc *d, struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct box boxes[9];
	char *p = NULL;
	double h, w = TEXT_W - 60, x = MARGIN + 30;
	int n = 0, i;

	memset(boxes, 0, sizeof(boxes));
	switch (s->type) {
	case CA_CER_ROOT:
		p = ca_dir_file(c->ca_dir, "ca.crt");
		(void)add_cert(boxes, &n, p, "root (made at this ceremony)", 0);
		break;
	case CA_CER_SUBCA:
	case CA_CER_CROSS:
		add_ca(c, boxes, &n);
		p = ca_out_path(c, "%s", s->out_cert);
		(void)add_cert(
		    boxes, &n, p,
		    s->type == CA_CER_SUBCA
			? "subordinate CA (signed at this ceremony)"
			: "cross-certificate (signed at this ceremony)",
		    0);
		break;
	case CA_CER_CRL:
	case CA_CER_REVOKE:
		add_ca(c, boxes, &n);
		if (s->type == CA_CER_REVOKE)
			(void)add_cert(boxes, &n, c->revoke_cert,
				       "REVOKED at this ceremony", 1);
		{
			json_t *crl = json_object_get(
			    json_object_get(
				json_object_get(
				    json_object_get(c->state, "ops"), "crl"),
				"request_description"),
			    "crl");

			snprintf(boxes[n].role, sizeof(boxes[n].role),
				 "CRL (signed at this ceremony)");
			snprintf(boxes[n].text, sizeof(boxes[n].text),
				 "CRL number %s\n"
				 "this update %s, next update %s\n%lld entries",
				 jstr(crl, "crl_number"),
				 jstr(crl, "this_update"),
				 jstr(crl, "next_update"),
				 (long long)json_integer_value(
				     json_object_get(crl, "entries")));
			boxes[n++].crl = 1;
		}
		break;
	case CA_CER_KEY:
		snprintf(boxes[0].role, sizeof(boxes[0].role),
			 "key (made at this ceremony)");
		snprintf(boxes[0].text, sizeof(boxes[0].text),
			 "key '%s' (%s) on token '%s'\nSPKI SHA-256 %s%s%s",
			 s->key_label, s->key_type, s->token_label,
			 ca_val(c, "key_spki") ? ca_val(c, "key_spki") : "?",
			 s->csr_subject ? "\nCSR for " : "",
			 s->csr_subject ? s->csr_subject : "");
		n = 1;
		break;
	}
	free(p);
	heading(d, "Chain");
	for (i = 0; i < n; i++) {
		double top;

		if (d->y + 110 > BOTTOM)
			new_page(d);
		top = d->y;
		draw_box(d, &boxes[i], x, w, &h);
		d->y = top + h;
		if (i + 1 < n) {
			arrow(d, x + w / 2, d->y, d->y + 22);
			d->y += 22;
		}
	}
	d->y += 6;
}

static void artifacts(struct doc *d, struct ca_cer *c)
{
	json_t *arts = json_object_get(c->state, "artifacts"), *e;
	size_t i;

	heading(d, "Artifacts (SHA-256)");
	json_array_foreach(arts, i, e)
	{
		if (strcmp(jstr(e, "kind"), "record") == 0)
			continue;
		para(d, SANS, 0, "%s %s", jstr(e, "kind"), jstr(e, "path"));
		para(d, MONO, 14, "%s", jstr(e, "sha256"));
	}
}

static void audit(struct doc *d, struct ca_cer *c)
{
	json_t *a = json_object_get(c->state, "audit");

	if (a == NULL)
		return;
	heading(d, "Audit log head");
	field(d, "CA directory", SANS, jstr(a, "ca"));
	para(d, SANS, 0, "entry %lld",
	     (long long)json_integer_value(json_object_get(a, "entries")));
	field(d, "SHA-256", MONO, jstr(a, "head"));
}

static void small_at(struct doc *d, double x, const char *text)
{
	PangoLayout *l = layout(d, SMALL, text, 200, 0);

	cairo_move_to(d->cr, x, d->y);
	pango_cairo_show_layout(d->cr, l);
	g_object_unref(l);
}

/* Three lines to write on: name, signature, date. */
static void signature_line(struct doc *d, const char *role)
{
	static const double at[] = {0, 210, 400, PAGE_W - 2 * MARGIN};
	static const char *const label[] = {"name", "signature", "date (UTC)"};
	int i;

	if (d->y + 48 > BOTTOM)
		new_page(d);
	para(d, SANS_B, 0, "%s", role);
	d->y += 18;
	cairo_set_line_width(d->cr, 0.5);
	for (i = 0; i < 3; i++) {
		cairo_move_to(d->cr, MARGIN + at[i], d->y);
		cairo_line_to(d->cr, MARGIN + at[i + 1] - 14, d->y);
	}
	cairo_stroke(d->cr);
	d->y += 2;
	for (i = 0; i < 3; i++)
		small_at(d, MARGIN + at[i], label[i]);
	d->y += 16;
}

static void signatures(struct doc *d, struct ca_cer *c)
{
	char role[200];
	size_t i;

	/* The block on one page when it fits on one. */
	if (d->y + 120 + 52.0 * (double)(c->spec->approvers.n + 3) > BOTTOM)
		new_page(d);
	heading(d, "Signatures");
	para(d, SANS, 0,
	     "We were present and confirm that the steps above "
	     "took place as recorded, and that the hashes on this "
	     "record are those we compared.");
	d->y += 6;
	signature_line(d, "Ceremony administrator");
	signature_line(d, "Witness");
	for (i = 0; i < c->spec->approvers.n; i++) {
		snprintf(role, sizeof(role), "Approver %s",
			 c->spec->approvers.v[i]);
		signature_line(d, role);
	}
	signature_line(d, "Auditor (on receipt)");
}

int ca_record_pdf(struct ca_cer *c, const char *path)
{
	struct doc d;
	cairo_status_t st;
	int rc = CA_OK;

	memset(&d, 0, sizeof(d));
	d.surface = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
	if (cairo_surface_status(d.surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(d.surface);
		return ca_err(CA_EIO, "cannot create %s", path);
	}
	cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_TITLE,
				       "hsmca key ceremony record");
	d.cr = cairo_create(d.surface);
	d.pc = pango_cairo_create_context(d.cr);
	pango_cairo_context_set_resolution(d.pc, 72);
	d.page = 1;
	d.y = MARGIN;
	snprintf(d.footer, sizeof(d.footer),
		 "%s ceremony, file SHA-256 %.16s...%s",
		 ca_cer_type_name(c->spec->type), c->spec->sha256,
		 c->rehearse ? "  REHEARSAL" : "");
	title(&d, c);
	key(&d, c);
	approvers(&d, c);
	summaries(&d, c);
	chain(&d, c);
	steps(&d, c);
	artifacts(&d, c);
	audit(&d, c);
	signatures(&d, c);
	footer(&d);
	cairo_show_page(d.cr);
	st = cairo_status(d.cr);
	g_object_unref(d.pc);
	cairo_destroy(d.cr);
	cairo_surface_finish(d.surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(d.surface);
	cairo_surface_destroy(d.surface);
	/* The font caches pango, cairo and fontconfig keep stay for the life
	 * of the process (tests/lsan.supp): pango's font thread may still
	 * hold the font map, and cairo_debug_reset_static_data() or FcFini()
	 * while it lets go aborts in cairo (live_entries == 0). */
	if (st != CAIRO_STATUS_SUCCESS)
		rc = ca_err(CA_EIO, "cannot write %s: %s", path,
			    cairo_status_to_string(st));
	return rc;
}
