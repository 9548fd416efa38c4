/*
 * cs_ingest_reg.c - the participant registry (participants.file): who
 * publishes events, from which member state and sector, under which TLP.
 *
 * DESIGN: a JSON file read with jansson (cold path: start-up and SIGHUP) into
 * an immutable table; one case-insensitive hash from every name a participant
 * is known by (id, name, keys, aliases, and "topic:<topic>") to its index.
 * Shared by the workers through a reference count (cs_ingest.c swaps it like
 * the indicator set). Lookups are from any thread, read-only.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "cs_ingest_int.h"

static uint64_t cs__khash(const char *s, size_t len) {
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 1099511628211ULL;
	return h;
}

static long cs__find(const cs_ingest_reg_t *r, const char *s, size_t len) {
	if (!r || !r->size || !len)
		return -1;
	for (size_t j = cs__khash(s, len) & (r->size - 1); r->slots[j].key; j = (j + 1) & (r->size - 1))
		if (strlen(r->slots[j].key) == len && !strncasecmp(r->slots[j].key, s, len))
			return (long)r->slots[j].idx;
	return -1;
}

int cs_ingest_reg_find(const cs_ingest_reg_t *r, const char *s, size_t len) {
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return (int)cs__find(r, s, len);
}

int cs_ingest_reg_topic(const cs_ingest_reg_t *r, const char *topic) {
	char k[300];
	int n = snprintf(k, sizeof(k), "topic:%s", topic);
	return n > 0 && (size_t)n < sizeof(k) ? (int)cs__find(r, k, (size_t)n) : -1;
}

/* Adds name -> idx; a name two participants claim is an error. */
static int cs__key_add(cs_ingest_reg_t *r, const char *name, uint32_t idx, char *errstr, size_t errstr_size) {
	long have = cs__find(r, name, strlen(name));
	size_t j;
	if (have >= 0) {
		if ((uint32_t)have == idx)
			return 0; /* the same participant names itself twice: harmless */
		cs_errstr_set(errstr, errstr_size, "\"%s\" names both participant %s and %s", name, r->v[have].id,
			      r->v[idx].id);
		return -1;
	}
	for (j = cs__khash(name, strlen(name)) & (r->size - 1); r->slots[j].key; j = (j + 1) & (r->size - 1))
		;
	if (!(r->slots[j].key = cs_strdup(name))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	r->slots[j].idx = idx;
	return 0;
}

static char *cs__str(json_t *o, const char *key, const char *dflt) {
	const char *v = json_string_value(json_object_get(o, key));
	return cs_strdup(v && *v ? v : dflt);
}

void cs_ingest_reg_destroy(cs_ingest_reg_t *r) {
	if (!r)
		return;
	for (size_t i = 0; i < r->cnt; i++) {
		cs_free(r->v[i].id);
		cs_free(r->v[i].name);
		cs_free(r->v[i].kind);
		cs_free(r->v[i].member_state);
		cs_free(r->v[i].sector);
	}
	for (size_t i = 0; i < r->size; i++)
		cs_free(r->slots[i].key);
	cs_free(r->slots);
	cs_free(r->v);
	cs_free(r);
}

cs_ingest_reg_t *cs_ingest_reg_load(const char *path, char *errstr, size_t errstr_size) {
	static const char *const kinds[] = {"CSIRT", "SOC", "CERT", "private"};
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *list, *p;
	cs_ingest_reg_t *r = NULL;
	size_t i, nkeys = 0;
	char why[300] = "";

	if (!root) {
		cs_errstr_set(errstr, errstr_size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	list = json_object_get(root, "participants");
	if (!json_is_array(list)) {
		cs_errstr_set(errstr, errstr_size, "%s: expected {\"participants\": [...]}", path);
		goto err;
	}
	json_array_foreach(list, i, p) nkeys += 4 + json_array_size(json_object_get(p, "keys")) +
						 json_array_size(json_object_get(p, "aliases")) +
						 json_array_size(json_object_get(p, "topics"));
	if (!(r = cs_calloc(1, sizeof(*r))) || !(r->v = cs_calloc(json_array_size(list) + 1, sizeof(*r->v))))
		goto nomem;
	for (r->size = 16; r->size < nkeys * 2; r->size *= 2)
		;
	if (!(r->slots = cs_calloc(r->size, sizeof(*r->slots))))
		goto nomem;
	json_array_foreach(list, i, p) {
		cs_ingest_participant_t *pt = &r->v[r->cnt];
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *tlp = json_string_value(json_object_get(p, "tlp"));
		const char *ms = json_string_value(json_object_get(p, "member_state"));
		const char *kind = json_string_value(json_object_get(p, "kind"));
		const char *lists[3] = {"keys", "aliases", "topics"};
		int t = CS_TLP_AMBER, k = -1;
		if (!id || !*id || strchr(id, '|')) {
			snprintf(why, sizeof(why), "participant #%zu: \"id\" missing, empty or with '|'", i + 1);
			goto bad;
		}
		if (tlp && (t = cs_tlp_parse(tlp, strlen(tlp))) < 0) {
			snprintf(why, sizeof(why), "participant %s: unknown TLP \"%s\"", id, tlp);
			goto bad;
		}
		if (ms && (strlen(ms) != 2 || !isupper((unsigned char)ms[0]) || !isupper((unsigned char)ms[1]))) {
			snprintf(why, sizeof(why), "participant %s: member_state \"%s\" is not a two-letter code (LU, DE, EU...)",
				 id, ms);
			goto bad;
		}
		for (size_t q = 0; kind && q < CS_ARRAY_SIZE(kinds); q++)
			if (!strcasecmp(kind, kinds[q]))
				k = (int)q;
		if (kind && k < 0) {
			snprintf(why, sizeof(why), "participant %s: kind \"%s\" is not CSIRT, SOC, CERT or private", id, kind);
			goto bad;
		}
		if (!(pt->id = cs_strdup(id)) || !(pt->name = cs__str(p, "name", id)) ||
		    !(pt->kind = cs_strdup(k >= 0 ? kinds[k] : "unknown")) || !(pt->member_state = cs_strdup(ms ? ms : "XX")) ||
		    !(pt->sector = cs__str(p, "sector", "unknown")))
			goto nomem;
		pt->tlp = (cs_tlp_t)t;
		r->cnt++;
		if (cs__key_add(r, pt->id, (uint32_t)(r->cnt - 1), why, sizeof(why)) ||
		    cs__key_add(r, pt->name, (uint32_t)(r->cnt - 1), why, sizeof(why)))
			goto bad;
		for (int l = 0; l < 3; l++) {
			json_t *e;
			size_t x;
			json_array_foreach(json_object_get(p, lists[l]), x, e) {
				char key[300];
				const char *v = json_string_value(e);
				if (!v || !*v)
					continue;
				snprintf(key, sizeof(key), "%s%s", l == 2 ? "topic:" : "", v);
				if (cs__key_add(r, key, (uint32_t)(r->cnt - 1), why, sizeof(why)))
					goto bad;
			}
		}
	}
	json_decref(root);
	return r;
nomem:
	snprintf(why, sizeof(why), "out of memory");
bad:
	cs_errstr_set(errstr, errstr_size, "%s: %s", path, why);
err:
	json_decref(root);
	cs_ingest_reg_destroy(r);
	return NULL;
}
