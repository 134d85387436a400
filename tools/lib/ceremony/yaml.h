/* Strict YAML documents for ceremony and environment files (libyaml).
 *
 * A file is read into a small tree of mappings, sequences and scalars,
 * each node with the line it starts on, so that every later refusal can
 * name its line. Only what a reviewer can read at face value is accepted:
 * one document; no anchors, aliases or tags (no "&a", "*a", "!!str");
 * mapping keys are plain scalars, never twice in one mapping; at most
 * CA_YAML_MAX_DEPTH levels and CA_YAML_MAX_NODES nodes. Scalars are never
 * typed by YAML's rules ("NO" stays the text NO): the schema decides, and
 * a whole number or a boolean must be written plainly.
 *
 * Errors (CA_EUSAGE) read "FILE: PROBLEM at line N ...", FILE being the
 * name the caller gave.
 */
#ifndef HSMCA_CEREMONY_YAML_H
#define HSMCA_CEREMONY_YAML_H

#include <stddef.h>

#include "common/err.h"

#define CA_YAML_MAX_DEPTH  12
#define CA_YAML_MAX_NODES  4096
#define CA_YAML_MAX_SCALAR 65536

enum ca_yaml_kind { CA_YAML_SCALAR, CA_YAML_MAP, CA_YAML_SEQ };

struct ca_yaml_node {
	enum ca_yaml_kind kind;
	unsigned long line; /* 1-based */
	char *text;	    /* scalar: NUL-terminated, no NUL inside */
	size_t len;
	int plain; /* scalar written without quotes or block style */
	/* map: items[2i] is a key (scalar), items[2i+1] its value;
	 * seq: items[i]. n counts items. */
	struct ca_yaml_node **items;
	size_t n;
};

struct ca_yaml_doc {
	char *name; /* for messages */
	struct ca_yaml_node *root;
};

/* Parse data (len bytes, at most CA_MAX_INPUT) as one strict document
 * whose root is a mapping. name is used in messages. */
int ca_yaml_parse(const unsigned char *data, size_t len, const char *name,
		  struct ca_yaml_doc **out) CA_WUR;
void ca_yaml_free(struct ca_yaml_doc *doc);

/* --- schema helpers: every refusal names the file, the key path and the
 * line. what is the key path shown ("certificate.days"). ------------- */

/* The value of key in map, or NULL. */
const struct ca_yaml_node *ca_yaml_get(const struct ca_yaml_node *map,
				       const char *key);
/* Refuse keys of map not in allowed (NULL-terminated); what names the
 * mapping ("certificate", or "" for the top level). */
int ca_yaml_keys_allowed(const struct ca_yaml_doc *doc,
			 const struct ca_yaml_node *map, const char *what,
			 const char *const *allowed) CA_WUR;
/* The mapping at key (NULL when absent and !required). */
int ca_yaml_map(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		const char *key, const char *what, int required,
		const struct ca_yaml_node **out) CA_WUR;
/* A text value at key: a scalar, not empty, printable UTF-8 without
 * control characters, at most max bytes; *out malloc'd (NULL when absent
 * and !required). */
int ca_yaml_str(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		const char *key, const char *what, int required, size_t max,
		char **out) CA_WUR;
/* The same for free text: several lines allowed (a trailing newline of a
 * block scalar dropped). */
int ca_yaml_text(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		 const char *key, const char *what, size_t max,
		 char **out) CA_WUR;
/* A whole number at key, written plainly in decimal, in [min, max];
 * *out untouched when absent and !required. */
int ca_yaml_long(const struct ca_yaml_doc *doc, const struct ca_yaml_node *map,
		 const char *key, const char *what, int required, long min,
		 long max, long *out) CA_WUR;
/* A list of texts at key (a YAML sequence of scalars, each as for
 * ca_yaml_str); *out is a NULL-terminated malloc'd array (NULL when
 * absent), *n its length. */
int ca_yaml_strlist(const struct ca_yaml_doc *doc,
		    const struct ca_yaml_node *map, const char *key,
		    const char *what, size_t max_items, char ***out,
		    size_t *n) CA_WUR;
/* The line of key's value in map (or of map itself when absent). */
unsigned long ca_yaml_line(const struct ca_yaml_node *map, const char *key);
/* Refuse: "FILE: what at line N: MESSAGE" (CA_EUSAGE). */
int ca_yaml_refuse(const struct ca_yaml_doc *doc, unsigned long line,
		   const char *what, const char *fmt, ...) CA_PRINTF(4, 5);

void ca_strlist_free(char **list);

#endif
