/*
 * cs_conf.h - property tables and librdkafka-style "key=value" files.
 *
 * Every module describes its configuration in one table (name, type, offset,
 * min, max, default, description). Unknown keys are an error naming the key
 * (and the file and line). Keys under a registered prefix ("kafka.", "redis.")
 * pass through to a callback instead of being mirrored here.
 * docs/CONFIGURATION.md is generated from the tables (cs_conf_doc_md()).
 */
#ifndef CS_CONF_H
#define CS_CONF_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "cs_common.h"

typedef enum cs_conf_type_e {
	CS_CONF_STR,  /* char * (owned by the object, freed by cs_conf_free()) */
	CS_CONF_INT,  /* int64_t, checked against [min, max] */
	CS_CONF_BOOL, /* int: true/false, 1/0, yes/no, on/off */
} cs_conf_type_t;

#define CS_CONF_F_REQUIRED 0x1 /* must be set by the user; checked by cs_conf_check() */

typedef struct cs_conf_prop_s {
	const char *name;
	cs_conf_type_t type;
	size_t offset;
	int64_t min, max;
	const char *def; /* default as text; NULL: none */
	int flags;
	const char *desc;
} cs_conf_prop_t;

/**
 * A prefix whose keys go to a library's own configuration.
 * @param key the key without the prefix ("bootstrap.servers")
 * @returns CS_ERR_OK, or an error with errstr set.
 */
typedef cs_err_t(cs_conf_passthru_cb_t)(void *opaque, const char *key, const char *value,
					 char *errstr, size_t errstr_size);

typedef struct cs_conf_passthru_s {
	const char *prefix; /* "kafka." */
	cs_conf_passthru_cb_t *cb;
	void *opaque;
	const char *desc; /* for the generated documentation */
} cs_conf_passthru_t;

/** A table and its pass-through prefixes; tables end with a {NULL} row, passthru with {NULL}. */
typedef struct cs_conf_schema_s {
	const char *title;
	const cs_conf_prop_t *props;
	const cs_conf_passthru_t *passthru;
	const char *doc_prefix; /* shown before each name in the documentation ("redis.") */
} cs_conf_schema_t;

/** Applies every default of the table to obj (zeroed by the caller). */
cs_err_t cs_conf_defaults(const cs_conf_schema_t *schema, void *obj, char *errstr,
			  size_t errstr_size);

/** Sets one property, or hands it to the pass-through callback of its prefix. */
cs_err_t cs_conf_set(const cs_conf_schema_t *schema, void *obj, const char *key,
		     const char *value, char *errstr, size_t errstr_size);

/**
 * Reads a properties file: one key=value a line, '#' or '!' comment lines,
 * blank lines, surrounding white space trimmed, a '#' after white space in a
 * value starts a comment ("\\#": a literal '#'), a UTF-8 byte order mark
 * ignored. A key set twice in the file is an error. Errors name "path:line".
 */
cs_err_t cs_conf_load_file(const cs_conf_schema_t *schema, void *obj, const char *path,
			   char *errstr, size_t errstr_size);

/** Parses "key=value" (command-line -X). */
cs_err_t cs_conf_set_kv(const cs_conf_schema_t *schema, void *obj, const char *kv, char *errstr,
			size_t errstr_size);

/** Checks that every CS_CONF_F_REQUIRED string is set. */
cs_err_t cs_conf_check(const cs_conf_schema_t *schema, const void *obj, char *errstr,
		       size_t errstr_size);

/** Frees the strings the table owns in obj. */
void cs_conf_free(const cs_conf_schema_t *schema, void *obj);

/** Writes the table as a Markdown section. */
void cs_conf_doc_md(const cs_conf_schema_t *schema, FILE *fp);

#endif /* CS_CONF_H */
