#include "ceremony/yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/number.h"
#include "base/read.h"

struct builder {
	struct ca_yaml_doc *doc;
	struct ca_yaml_node *stack[CA_YAML_MAX_DEPTH + 1];
	int depth;
	size_t nodes;
};

int ca_yaml_refuse(const struct ca_yaml_doc *doc, unsigned long line,
		   const char *what, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (what != NULL && what[0] != '\0')
		return ca_err(CA_EUSAGE, "%s: %s at line %lu: %s", doc->name,
			      what, line, msg);
	return ca_err(CA_EUSAGE, "%s: %s at line %lu", doc->name, msg, line);
}

static void node_free(struct ca_yaml_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

void ca_yaml_free(struct ca_yaml_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->name);
	free(doc);
}

/* UTF-8 text without control characters (tab allowed in block text). */
static int text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == 0x7f ||
		    (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n'))
			return 0;
	}
	return 1;
}

static int add_child(struct builder *b, struct ca_yaml_node *parent,
		     struct ca_yaml_node *child)
{
	struct ca_yaml_node **items;
	size_t i;

	if (parent->kind == CA_YAML_MAP && parent->n % 2 == 0) {
		/* A key: a plain or quoted scalar, once per mapping. */
		if (child->kind != CA_YAML_SCALAR)
			return ca_yaml_refuse(b->doc, child->line, NULL,
					      "a mapping key must be a plain "
					      "name");
		for (i = 0; i < parent->n; i += 2) {
			if (strcmp(parent->items[i]->text, child->text) == 0)
				return ca_yaml_refuse(
				    b->doc, child->line, NULL,
				    "key '%s' given twice (first at line %lu)",
				    child->text, parent->items[i]->line);
		}
	}
	items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
	if (items == NULL)
		return ca_err(CA_EIO, "out of memory");
	parent->items = items;
	parent->items[parent->n++] = child;
	return CA_OK;
}

/* Attach a finished node to the open collection, or make it the root. */
static int attach(struct builder *b, struct ca_yaml_node *n)
{
	if (b->depth == 0) {
		if (n->kind != CA_YAML_MAP) {
			unsigned long line = n->line;

			node_free(n);
			return ca_yaml_refuse(b->doc, line, NULL,
					      "the file must be a mapping of "
					      "keys (key: value)");
		}
		b->doc->root = n;
		return CA_OK;
	}
	if (add_child(b, b->stack[b->depth - 1], n) < 0) {
		node_free(n);
		return CA_EUSAGE;
	}
	return CA_OK;
}

static struct ca_yaml_node *new_node(struct builder *b, enum ca_yaml_kind k,
				     const yaml_event_t *ev)
{
	struct ca_yaml_node *n;

	if (++b->nodes > CA_YAML_MAX_NODES) {
		ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
			       "more than %d values", CA_YAML_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		ca_err(CA_EIO, "out of memory");
		return NULL;
	}
	n->kind = k;
	n->line = ev->start_mark.line + 1;
	return n;
}

/* Anchors, aliases and tags: refused wherever they appear. */
static int plain_node(struct builder *b, const yaml_event_t *ev,
		      const yaml_char_t *anchor, const yaml_char_t *tag,
		      int implicit)
{
	if (anchor != NULL)
		return ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
				      "anchor '&%s' (anchors and aliases are "
				      "not accepted: write values out)",
				      (const char *)anchor);
	if (tag != NULL && !implicit)
		return ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
				      "tag '%s' (tags are not accepted)",
				      (const char *)tag);
	return CA_OK;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const size_t len = ev->data.scalar.length;
	struct ca_yaml_node *n;
	int rc;

	rc = plain_node(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag,
			ev->data.scalar.plain_implicit ||
			    ev->data.scalar.quoted_implicit);
	if (rc < 0)
		return rc;
	if (len > CA_YAML_MAX_SCALAR ||
	    memchr(ev->data.scalar.value, '\0', len) != NULL ||
	    !text_ok((const char *)ev->data.scalar.value, len))
		return ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
				      "a value with control characters or "
				      "longer than %d bytes",
				      CA_YAML_MAX_SCALAR);
	n = new_node(b, CA_YAML_SCALAR, ev);
	if (n == NULL)
		return CA_EUSAGE;
	n->text = malloc(len + 1);
	if (n->text == NULL) {
		node_free(n);
		return ca_err(CA_EIO, "out of memory");
	}
	memcpy(n->text, ev->data.scalar.value, len);
	n->text[len] = '\0';
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev,
		    enum ca_yaml_kind k)
{
	struct ca_yaml_node *n;
	int rc;

	if (k == CA_YAML_MAP)
		rc = plain_node(b, ev, ev->data.mapping_start.anchor,
				ev->data.mapping_start.tag,
				ev->data.mapping_start.implicit);
	else
		rc = plain_node(b, ev, ev->data.sequence_start.anchor,
				ev->data.sequence_start.tag,
				ev->data.sequence_start.implicit);
	if (rc < 0)
		return rc;
	if (b->depth == CA_YAML_MAX_DEPTH)
		return ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
				      "values nested more than %d deep",
				      CA_YAML_MAX_DEPTH);
	n = new_node(b, k, ev);
	if (n == NULL)
		return CA_EUSAGE;
	b->stack[b->depth++] = n;
	return CA_OK;
}

static int on_end(struct builder *b)
{
	struct ca_yaml_node *n = b->stack[--b->depth];

	b->stack[b->depth] = NULL;
	return attach(b, n);
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *docs,
		    int *done)
{
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		return CA_OK;
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return ca_yaml_refuse(b->doc, ev->start_mark.line + 1,
					      NULL,
					      "a second document ('---'): one "
					      "file holds one document");
		return CA_OK;
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return CA_OK;
	case YAML_ALIAS_EVENT:
		return ca_yaml_refuse(b->doc, ev->start_mark.line + 1, NULL,
				      "alias '*%s' (anchors and aliases are "
				      "not accepted: write values out)",
				      (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, CA_YAML_MAP);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, CA_YAML_SEQ);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return on_end(b);
	default:
		return ca_err(CA_EUSAGE, "%s: unexpected YAML content",
			      b->doc->name);
	}
}

int ca_yaml_parse(const unsigned char *data, size_t len, const char *name,
		  struct ca_yaml_doc **out)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = CA_OK, docs = 0, done = 0, i;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	if (len > CA_MAX_INPUT)
		return ca_err(CA_EUSAGE, "%s is larger than %d bytes", name,
			      CA_MAX_INPUT);
	b.doc = calloc(1, sizeof(*b.doc));
	if (b.doc == NULL || (b.doc->name = strdup(name)) == NULL) {
		ca_yaml_free(b.doc);
		return ca_err(CA_EIO, "out of memory");
	}
	if (!yaml_parser_initialize(&parser)) {
		ca_yaml_free(b.doc);
		return ca_err(CA_EIO, "out of memory");
	}
	yaml_parser_set_input_string(&parser, data, len);
	while (!done && rc == CA_OK) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = ca_err(
			    CA_EUSAGE, "%s: not valid YAML at line %lu: %s%s%s",
			    name, (unsigned long)parser.problem_mark.line + 1,
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
			break;
		}
		rc = on_event(&b, &ev, &docs, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (i = 0; i < b.depth; i++)
		node_free(b.stack[i]);
	if (rc == CA_OK && b.doc->root == NULL)
		rc = ca_err(CA_EUSAGE, "%s is empty", name);
	if (rc < 0) {
		ca_yaml_free(b.doc);
		return rc;
	}
	*out = b.doc;
	return CA_OK;
}

/* ---------------------------------------------------------------------- */
/* Schema helpers                                                          */

const struct ca_yaml_node *ca_yaml_get(const struct ca_yaml_node *map,
				       const char *key)
{
	size_t i;

	if (map == NULL || map->kind != CA_YAML_MAP)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->items[i]->text, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

unsigned long ca_yaml_line(const struct ca_yaml_node *map, const char *key)
{
	const struct ca_yaml_node *v = ca_yaml_get(map, key);

	return v != NULL ? v->line : map->line;
}

/* "certificate.days" from "certificate" and "days". */
static void path_of(const char *what, const char *key, char *buf, size_t len)
{
	if (what == NULL || what[0] == '\0')
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", what, key);
}

static const char *kind_name(enum ca_yaml_kind k)
{
	return k == CA_YAML_MAP	  ? "a mapping (key: value lines)"
	       : k == CA_YAML_SEQ ? "a list"
				  : "a single value";
}

int ca_yaml_keys_allowed(const struct ca_yaml_doc *doc,
			 const struct ca_yaml_node *map, const char *what,
			 const char *const *allowed)
{
	char known[400];
	size_t i, j, o;

	for (i = 0; i + 1 < map->n; i += 2) {
		const char *k = map->items[i]->text;

		for (j = 0; allowed[j] != NULL; j++) {
			if (strcmp(allowed[j], k) == 0)
				break;
		}
		if (allowed[j] != NULL)
			continue;
		o = 0;
		known[0] = '\0';
		for (j = 0; allowed[j] != NULL && o < sizeof(known); j++)
			o +=
			    (size_t)snprintf(known + o, sizeof(known) - o,
					     "%s%s", j ? ", " : "", allowed[j]);
		return ca_err(CA_EUSAGE,
			      "%s: unknown key '%s' at line %lu%s%s (known "
			      "keys: %s)",
			      doc->name, k, map->items[i]->line,
			      what && what[0] ? " in " : "", what ? what : "",
			      known);
	}
	return CA_OK;
}

/* The node at key, checked for kind; *out NULL when absent. path (len
 * bytes) receives its name for messages. */
static int get_kind(const struct ca_yaml_doc *doc,
		    const struct ca_yaml_node *map, const char *key,
		    const char *what, int required, enum ca_yaml_kind kind,
		    const struct ca_yaml_node **out, char *path, size_t len)
{
	const struct ca_yaml_node *v = ca_yaml_get(map, key);

	*out = NULL;
	path_of(what, key, path, len);
	if (v == NULL ||
	    (v->kind == CA_YAML_SCALAR && v->plain && v->len == 0)) {
		if (!required)
			return CA_OK;
		return ca_err(CA_EUSAGE,
			      "%s: %s is missing (in %s, which starts "
			      "at line %lu)",
			      doc->name, path,
			      what && what[0] ? what : "the file",
			      v != NULL ? v->line : map->line);
	}
	if (v->kind != kind)
		return ca_yaml_refuse(doc, v->line, path, "must be %s, not %s",
				      kind_name(kind), kind_name(v->kind));
	*out = v;
	return CA_OK;
}

int ca_yaml_map(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		const char *key, const char *what, int required,
		const struct ca_yaml_node **out)
{
	char path[200];

	return get_kind(doc, map, key, what, required, CA_YAML_MAP, out, path,
			sizeof(path));
}

static int scalar_text(const struct ca_yaml_doc *doc,
		       const struct ca_yaml_node *v, const char *path,
		       size_t max, int lines, char **out)
{
	size_t n = v->len;

	if (n == 0)
		return ca_yaml_refuse(doc, v->line, path, "must not be empty");
	if (n > max)
		return ca_yaml_refuse(doc, v->line, path,
				      "longer than %zu characters", max);
	if (!lines && (memchr(v->text, '\n', n) != NULL ||
		       memchr(v->text, '\t', n) != NULL))
		return ca_yaml_refuse(doc, v->line, path,
				      "must be one line of text");
	while (lines && n > 0 && v->text[n - 1] == '\n')
		n--;
	*out = strndup(v->text, n);
	return *out != NULL ? CA_OK : ca_err(CA_EIO, "out of memory");
}

/* The scalar at key: 1 with s filled, 0 when absent (and not required). */
struct scalar {
	const struct ca_yaml_node *v;
	char path[200];
};

static int scalar_at(const struct ca_yaml_doc *doc,
		     const struct ca_yaml_node *map, const char *key,
		     const char *what, int required, struct scalar *s)
{
	int rc = get_kind(doc, map, key, what, required, CA_YAML_SCALAR, &s->v,
			  s->path, sizeof(s->path));

	return rc < 0 ? rc : s->v != NULL;
}

static int str_at(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		  const char *key, const char *what, int required, size_t max,
		  int lines, char **out)
{
	struct scalar s;
	int rc;

	*out = NULL;
	rc = scalar_at(doc, map, key, what, required, &s);
	if (rc <= 0)
		return rc;
	return scalar_text(doc, s.v, s.path, max, lines, out);
}

int ca_yaml_str(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		const char *key, const char *what, int required, size_t max,
		char **out)
{
	return str_at(doc, map, key, what, required, max, 0, out);
}

int ca_yaml_text(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		 const char *key, const char *what, size_t max, char **out)
{
	return str_at(doc, map, key, what, 0, max, 1, out);
}

int ca_yaml_long(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		 const char *key, const char *what, int required, long min,
		 long max, long *out)
{
	struct scalar s;
	int rc = scalar_at(doc, map, key, what, required, &s);

	if (rc <= 0)
		return rc;
	if (!s.v->plain || ca_parse_long(s.v->text, min, max, s.path, out) < 0)
		return ca_yaml_refuse(doc, s.v->line, s.path,
				      "must be a whole number from %ld to %ld, "
				      "not '%s'",
				      min, max, s.v->text);
	return CA_OK;
}

void ca_strlist_free(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

int ca_yaml_strlist(const struct ca_yaml_doc *doc,
		    const struct ca_yaml_node *map, const char *key,
		    const char *what, size_t max_items, char ***out, size_t *n)
{
	const struct ca_yaml_node *v;
	char path[200], item[240];
	char **list = NULL;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = get_kind(doc, map, key, what, 0, CA_YAML_SEQ, &v, path,
		      sizeof(path));
	if (rc < 0 || v == NULL)
		return rc;
	if (v->n > max_items)
		return ca_yaml_refuse(doc, v->line, path,
				      "more than %zu entries", max_items);
	list = calloc(v->n + 1, sizeof(*list));
	if (list == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < v->n; i++) {
		const struct ca_yaml_node *e = v->items[i];

		snprintf(item, sizeof(item), "%s[%zu]", path, i + 1);
		if (e->kind != CA_YAML_SCALAR) {
			rc = ca_yaml_refuse(doc, e->line, item,
					    "must be a single value, not %s",
					    kind_name(e->kind));
			goto out;
		}
		GUARD(scalar_text(doc, e, item, 2048, 0, &list[i]));
	}
	*out = list;
	*n = v->n;
	list = NULL;
	rc = CA_OK;
out:
	ca_strlist_free(list);
	return rc;
}
