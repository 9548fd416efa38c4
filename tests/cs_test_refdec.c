/*
 * cs_test_refdec.c - the reference decoder of test 0008: jansson builds the
 * tree, then every entry of every format's field map (cs_decode_map_entry())
 * is looked up by walking the tree (a path may be nested, flat, or split at
 * any dot; arrays are transparent), and the values are normalized with
 * cs_norm_*(). It shares the field-map specification and the normalizers
 * with the decoder under test, and nothing else: no scanner, no trie.
 */
#include <jansson.h>

#include "cs_test.h"
#include "cs_decode.h"
#include "cs_norm.h"

typedef struct {
	char **v;
	size_t n, cap;
	char url_host[CS_NORM_MAX_IN + 1];
	char url_path[CS_NORM_MAX_IN + 1];
	int have_host, have_path;
} ref_t;

static void add(ref_t *r, const char *type, const char *val, size_t len) {
	size_t l = strlen(type) + len + 2;
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->v[i]) == l - 1 && !strncmp(r->v[i], type, strlen(type)) &&
		    r->v[i][strlen(type)] == '|' && !memcmp(r->v[i] + strlen(type) + 1, val, len))
			return;
	if (r->n == r->cap)
		r->v = realloc(r->v, (r->cap = r->cap ? r->cap * 2 : 16) * sizeof(*r->v));
	r->v[r->n] = malloc(l);
	snprintf(r->v[r->n], l, "%s|%.*s", type, (int)len, val);
	r->n++;
}

static void emit_kind(ref_t *r, const char *kind, const char *s, size_t len);

static void emit_url(ref_t *r, const char *s, size_t len) {
	char buf[CS_NORM_CAP];
	const char *h, *e, *at, *hend;
	if (len > CS_NORM_MAX_IN)
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (cs_norm_url(buf, &len, sizeof(buf)))
		return;
	add(r, "url", buf, len);
	h = strstr(buf, "://") + 3;
	e = h + strcspn(h, "/?#");
	if ((at = memchr(h, '@', (size_t)(e - h))))
		h = at + 1;
	if (*h == '[')
		hend = (const char *)memchr(h, ']', (size_t)(e - h)) + 1;
	else
		hend = (hend = memchr(h, ':', (size_t)(e - h))) ? hend : e;
	emit_kind(r, "host", h, (size_t)(hend - h));
}

static void emit_kind(ref_t *r, const char *kind, const char *s, size_t len) {
	char buf[CS_NORM_CAP];
	int t;
	if (len == 0)
		return;
	if (!strcmp(kind, "text")) {
		add(r, "text", s, len);
		return;
	}
	if (len > CS_NORM_MAX_IN)
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!strcmp(kind, "ip") || !strcmp(kind, "host") || !strcmp(kind, "url_host")) {
		if (!strcmp(kind, "url_host")) {
			memcpy(r->url_host, s, len);
			r->url_host[len] = '\0';
			r->have_host = 1;
		}
		t = cs_norm_host(buf, &len, sizeof(buf));
		if (t == CS_OBS_IPV4 || t == CS_OBS_IPV6 || (t == CS_OBS_DOMAIN && strcmp(kind, "ip")))
			add(r, cs_obs_type2str((cs_obs_type_t)t), buf, len);
	} else if (!strcmp(kind, "url")) {
		emit_url(r, s, len);
	} else if (!strcmp(kind, "url_path")) {
		if (s[0] == '/') {
			memcpy(r->url_path, s, len);
			r->url_path[len] = '\0';
			r->have_path = 1;
		} else {
			emit_url(r, s, len);
		}
	} else if (!strcmp(kind, "hash")) {
		if ((t = cs_norm_hash(buf, len)) >= 0)
			add(r, cs_obs_type2str((cs_obs_type_t)t), buf, len);
	} else if (!strcmp(kind, "email")) {
		if (!cs_norm_email(buf, &len, sizeof(buf)))
			add(r, "email", buf, len);
	}
}

/* Finds the values at path below node (nested, flat or mixed; arrays transparent). */
static void collect(ref_t *r, json_t *node, const char *path, const char *kind) {
	if (json_is_array(node)) {
		size_t i;
		json_t *el;
		json_array_foreach(node, i, el) collect(r, el, path, kind);
		return;
	}
	if (!*path) {
		if (json_is_string(node))
			emit_kind(r, kind, json_string_value(node), json_string_length(node));
		return;
	}
	if (!json_is_object(node))
		return;
	for (size_t i = 0;; i++) {
		if (path[i] == '.' || path[i] == '\0') {
			json_t *kid = json_object_getn(node, path, i);
			if (kid)
				collect(r, kid, path[i] ? path + i + 1 : "", kind);
		}
		if (!path[i])
			break;
	}
}

static int cmpstr(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t cs_refdec(json_t *doc, char ***out);
size_t cs_refdec(json_t *doc, char ***out) {
	ref_t r;
	memset(&r, 0, sizeof(r));
	for (int f = CS_DECODE_FMT_ECS; f < CS_DECODE_FMT__CNT; f++) {
		const char *path, *kind;
		cs_obs_role_t role;
		for (size_t i = 0; cs_decode_map_entry((cs_decode_fmt_t)f, i, &path, &kind, &role) == 0; i++)
			collect(&r, doc, path, kind);
	}
	if (r.have_path) {
		if (r.have_host) {
			char u[2 * CS_NORM_MAX_IN + 16];
			int n = snprintf(u, sizeof(u), "http://%s%s", r.url_host, r.url_path);
			emit_url(&r, u, (size_t)n);
		}
		add(&r, "text", r.url_path, strlen(r.url_path));
	}
	if (r.n)
		qsort(r.v, r.n, sizeof(*r.v), cmpstr);
	*out = r.v;
	return r.n;
}

void cs_refdec_free(char **v, size_t n);
void cs_refdec_free(char **v, size_t n) {
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
