/*
 * cs_conf.c - the property-table engine behind every module's configuration.
 * DESIGN: owns the parsing of values and files; knows nothing of any module.
 * Runs on the main thread at start-up (and on reload); never on a hot path.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>

#include "cs_conf.h"

static const cs_conf_prop_t *cs__conf_find(const cs_conf_schema_t *schema, const char *key) {
	for (const cs_conf_prop_t *p = schema->props; p->name; p++)
		if (!strcmp(p->name, key))
			return p;
	return NULL;
}

static cs_err_t cs__conf_apply(const cs_conf_schema_t *schema, const cs_conf_prop_t *p, void *obj, const char *value,
			       char *errstr, size_t errstr_size) {
	char *base = (char *)obj + p->offset;
	const char *pre = schema->doc_prefix ? schema->doc_prefix : "";

	switch (p->type) {
	case CS_CONF_STR: {
		char **dst = (char **)base;
		char *v = cs_strdup(value);
		if (!v) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			return CS_ERR_NOMEM;
		}
		cs_free(*dst);
		*dst = v;
		return CS_ERR_OK;
	}
	case CS_CONF_INT: {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end) {
			cs_errstr_set(errstr, errstr_size, "property \"%s%s\": \"%s\" is not an integer", pre,
				      p->name, value);
			return CS_ERR_CONF_VALUE;
		}
		if (v < p->min || v > p->max) {
			cs_errstr_set(errstr, errstr_size,
				      "property \"%s%s\": %lld is out of range [%lld..%lld]", pre, p->name, v,
				      (long long)p->min, (long long)p->max);
			return CS_ERR_CONF_VALUE;
		}
		*(int64_t *)base = v;
		return CS_ERR_OK;
	}
	case CS_CONF_BOOL: {
		int v;
		if (!strcasecmp(value, "true") || !strcmp(value, "1") || !strcasecmp(value, "yes") ||
		    !strcasecmp(value, "on"))
			v = 1;
		else if (!strcasecmp(value, "false") || !strcmp(value, "0") ||
			 !strcasecmp(value, "no") || !strcasecmp(value, "off"))
			v = 0;
		else {
			cs_errstr_set(errstr, errstr_size,
				      "property \"%s%s\": \"%s\" is not a boolean (true/false)", pre, p->name,
				      value);
			return CS_ERR_CONF_VALUE;
		}
		*(int *)base = v;
		return CS_ERR_OK;
	}
	}
	cs_errstr_set(errstr, errstr_size, "property \"%s%s\": bad type in table", pre, p->name);
	return CS_ERR_INVAL;
}

cs_err_t cs_conf_defaults(const cs_conf_schema_t *schema, void *obj, char *errstr,
			  size_t errstr_size) {
	for (const cs_conf_prop_t *p = schema->props; p->name; p++) {
		cs_err_t err;
		if (!p->def)
			continue;
		if ((err = cs__conf_apply(schema, p, obj, p->def, errstr, errstr_size)))
			return err;
	}
	return CS_ERR_OK;
}

cs_err_t cs_conf_set(const cs_conf_schema_t *schema, void *obj, const char *key,
		     const char *value, char *errstr, size_t errstr_size) {
	const cs_conf_prop_t *p = cs__conf_find(schema, key);

	if (p)
		return cs__conf_apply(schema, p, obj, value, errstr, errstr_size);

	for (const cs_conf_passthru_t *pt = schema->passthru; pt && pt->prefix; pt++) {
		size_t n = strlen(pt->prefix);
		if (!strncmp(key, pt->prefix, n) && key[n])
			return pt->cb(pt->opaque, key + n, value, errstr, errstr_size);
	}
	cs_errstr_set(errstr, errstr_size, "unknown property \"%s%s\"", schema->doc_prefix ? schema->doc_prefix : "",
		      key);
	return CS_ERR_CONF_UNKNOWN;
}

static char *cs__trim(char *s) {
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

cs_err_t cs_conf_set_kv(const cs_conf_schema_t *schema, void *obj, const char *kv, char *errstr,
			size_t errstr_size) {
	char *dup = cs_strdup(kv), *eq, *key, *val;
	cs_err_t err;

	if (!dup) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return CS_ERR_NOMEM;
	}
	if (!(eq = strchr(dup, '='))) {
		cs_errstr_set(errstr, errstr_size, "\"%s\": expected key=value", kv);
		cs_free(dup);
		return CS_ERR_CONF_VALUE;
	}
	*eq = '\0';
	key = cs__trim(dup);
	val = cs__trim(eq + 1);
	err = cs_conf_set(schema, obj, key, val, errstr, errstr_size);
	cs_free(dup);
	return err;
}

/*
 * A value as written in a file: a '#' after white space starts a comment
 * ("redis.host=10.0.0.5  # the primary"), "\\#" is a literal '#'; trimmed.
 */
static char *cs__value_uncomment(char *v) {
	char *o = v;
	for (char *p = v; *p; p++) {
		if (p[0] == '\\' && p[1] == '#') {
			*o++ = '#';
			p++;
			continue;
		}
		if (*p == '#' && p > v && isspace((unsigned char)p[-1]))
			break;
		*o++ = *p;
	}
	*o = '\0';
	return cs__trim(v);
}

cs_err_t cs_conf_load_file(const cs_conf_schema_t *schema, void *obj, const char *path,
			   char *errstr, size_t errstr_size) {
	FILE *fp = fopen(path, "r");
	char line[8192], inner[512];
	int lineno = 0;
	cs_err_t err = CS_ERR_OK;
	struct {
		char *key;
		int line;
	} *seen = NULL;
	size_t nseen = 0, cap = 0;

	if (!fp) {
		cs_errstr_set(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return CS_ERR_IO;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *s, *eq, *key;
		lineno++;
		if (!strchr(line, '\n') && !feof(fp)) {
			cs_errstr_set(errstr, errstr_size, "%s:%d: line longer than %zu bytes", path,
				      lineno, sizeof(line) - 2);
			err = CS_ERR_CONF_VALUE;
			break;
		}
		s = line;
		if (lineno == 1 && !memcmp(s, "\xef\xbb\xbf", 3))
			s += 3; /* a UTF-8 byte order mark, as some editors write */
		s = cs__trim(s);
		if (!*s || *s == '#' || *s == '!')
			continue;
		if (!(eq = strchr(s, '='))) {
			cs_errstr_set(errstr, errstr_size, "%s:%d: expected key=value, got \"%s\"",
				      path, lineno, s);
			err = CS_ERR_CONF_VALUE;
			break;
		}
		*eq = '\0';
		key = cs__trim(s);
		for (size_t i = 0; i < nseen; i++)
			if (!strcmp(seen[i].key, key)) {
				cs_errstr_set(errstr, errstr_size, "%s:%d: \"%s\" is set twice (line %d and line %d)", path,
					      lineno, key, seen[i].line, lineno);
				err = CS_ERR_CONF_VALUE;
				break;
			}
		if (err)
			break;
		if (cs_array_reserve(&seen, &cap, nseen + 1, sizeof(*seen)) || !(seen[nseen].key = cs_strdup(key))) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			err = CS_ERR_NOMEM;
			break;
		}
		seen[nseen++].line = lineno;
		if ((err = cs_conf_set(schema, obj, key, cs__value_uncomment(eq + 1), inner, sizeof(inner)))) {
			cs_errstr_set(errstr, errstr_size, "%s:%d: %s", path, lineno, inner);
			break;
		}
	}
	fclose(fp);
	for (size_t i = 0; i < nseen; i++)
		cs_free(seen[i].key);
	cs_free(seen);
	return err;
}

cs_err_t cs_conf_check(const cs_conf_schema_t *schema, const void *obj, char *errstr,
		       size_t errstr_size) {
	for (const cs_conf_prop_t *p = schema->props; p->name; p++) {
		if (!(p->flags & CS_CONF_F_REQUIRED) || p->type != CS_CONF_STR)
			continue;
		const char *v = *(char *const *)((const char *)obj + p->offset);
		if (!v || !*v) {
			cs_errstr_set(errstr, errstr_size, "required property \"%s%s\" is not set",
				      schema->doc_prefix ? schema->doc_prefix : "", p->name);
			return CS_ERR_CONF_VALUE;
		}
	}
	return CS_ERR_OK;
}

void cs_conf_free(const cs_conf_schema_t *schema, void *obj) {
	for (const cs_conf_prop_t *p = schema->props; p->name; p++) {
		if (p->type != CS_CONF_STR)
			continue;
		char **v = (char **)((char *)obj + p->offset);
		cs_free(*v);
		*v = NULL;
	}
}

void cs_conf_doc_md(const cs_conf_schema_t *schema, FILE *fp) {
	static const char *types[] = {"string", "integer", "boolean"};

	fprintf(fp, "## %s\n\n", schema->title);
	fprintf(fp, "| property | type | range | default | description |\n");
	fprintf(fp, "|---|---|---|---|---|\n");
	for (const cs_conf_prop_t *p = schema->props; p->name; p++) {
		char range[64] = "";
		if (p->type == CS_CONF_INT)
			snprintf(range, sizeof(range), "%lld..%lld", (long long)p->min,
				 (long long)p->max);
		fprintf(fp, "| `%s%s` | %s | %s | %s%s%s | %s%s |\n",
			schema->doc_prefix ? schema->doc_prefix : "", p->name, types[p->type], range,
			p->def && *p->def ? "`" : "", p->def ? (*p->def ? p->def : "(empty)") : "",
			p->def && *p->def ? "`" : "", (p->flags & CS_CONF_F_REQUIRED) ? "**Required.** " : "",
			p->desc);
	}
	for (const cs_conf_passthru_t *pt = schema->passthru; pt && pt->prefix; pt++)
		fprintf(fp, "| `%s*` | pass-through | | | %s |\n", pt->prefix, pt->desc);
	fprintf(fp, "\n");
}
