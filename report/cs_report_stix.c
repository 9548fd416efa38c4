/*
 * cs_report_stix.c - an edition as a STIX 2.1 bundle: the hub's identity,
 * the TLP 2.0 marking definitions it uses, one indicator and one sighting per
 * top indicator the edition shows, and a report referencing them.
 *
 * DESIGN: ids are version-5 UUIDs of what they name (the hub, the indicator's
 * value, the sighting's indicator, period and edition), so writing the same
 * report twice gives the same objects. A sighting names the hub as where it
 * was sighted (never the participants); counts, first_seen and last_seen come
 * from the edition, so they hold only what its audience may see. Indicators
 * whose type has no STIX pattern (cshield's regular expressions and
 * literals) are left out, and counted in the report's description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_report_int.h"
#include "cs_json.h"
#include "cs_sha1.h"
#include "cs_norm.h"

/* cshield's namespace for the ids it makes (a random UUID, fixed for ever) */
#define CS__NS "5f0e2c61-6f4e-4d3b-9a57-0c1e2d3f4a5b"
#define CS__TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

static const char *const cs__tlp_ids[CS_TLP__CNT] = {
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};

static void cs__id(char *out, size_t size, const char *type, const char *name) {
	char u[37];
	if (cs_uuid5(CS__NS, name, strlen(name), u))
		snprintf(u, sizeof(u), "00000000-0000-5000-8000-000000000000"); /* CS__NS is a UUID: not reached */
	snprintf(out, size, "%s--%s", type, u);
}

/* A STIX timestamp: to the millisecond, as created and modified must be ("2026-12-05T04:00:00.000Z"). */
static const char *cs__ts(int64_t t, char *buf, size_t size) {
	size_t n;
	cs_time_format_iso8601(t, buf, size);
	n = strlen(buf);
	if (n && buf[n - 1] == 'Z' && n + 4 < size)
		memcpy(buf + n - 1, ".000Z", 6);
	return buf;
}

/* The STIX pattern of an indicator of cshield type type, or NULL when it has none. */
static int cs__pattern(char *out, size_t size, const char *type, const char *value) {
	const char *path = NULL;
	size_t o;
	if (!type)
		return -1;
	if (!strcmp(type, "domain"))
		path = "domain-name:value";
	else if (!strcmp(type, "ipv4") || !strcmp(type, "cidr4"))
		path = "ipv4-addr:value";
	else if (!strcmp(type, "ipv6") || !strcmp(type, "cidr6"))
		path = "ipv6-addr:value";
	else if (!strcmp(type, "url"))
		path = "url:value";
	else if (!strcmp(type, "email"))
		path = "email-addr:value";
	else if (!strcmp(type, "md5"))
		path = "file:hashes.MD5";
	else if (!strcmp(type, "sha1"))
		path = "file:hashes.'SHA-1'";
	else if (!strcmp(type, "sha256"))
		path = "file:hashes.'SHA-256'";
	else if (!strcmp(type, "sha512"))
		path = "file:hashes.'SHA-512'";
	if (!path)
		return -1;
	o = (size_t)snprintf(out, size, "[%s = '", path);
	for (; *value && o + 4 < size; value++) {
		if (*value == '\'' || *value == '\\')
			out[o++] = '\\';
		out[o++] = *value;
	}
	if (o + 3 >= size)
		return -1;
	memcpy(out + o, "']", 3);
	return 0;
}

static void cs__marking(cs_jw_t *jw, int tlp) {
	cs_jw_key(jw, "object_marking_refs");
	cs_jw_arr_begin(jw);
	cs_jw_str(jw, cs__tlp_ids[tlp < 0 ? 0 : tlp]);
	cs_jw_arr_end(jw);
}

static void cs__common(cs_jw_t *jw, const char *type, const char *id, const char *created, const char *by) {
	cs_jw_kstr(jw, "type", type);
	cs_jw_kstr(jw, "spec_version", "2.1");
	cs_jw_kstr(jw, "id", id);
	cs_jw_kstr(jw, "created", created);
	cs_jw_kstr(jw, "modified", created);
	if (by)
		cs_jw_kstr(jw, "created_by_ref", by);
}

/* The TLP 2.0 marking definitions of the labels used[t]. */
static void cs__markings(cs_jw_t *jw, const int used[CS_TLP__CNT]) {
	for (int t = 0; t < CS_TLP__CNT; t++) {
		if (!used[t])
			continue;
		cs_jw_obj_begin(jw);
		cs_jw_kstr(jw, "type", "marking-definition");
		cs_jw_kstr(jw, "spec_version", "2.1");
		cs_jw_kstr(jw, "id", cs__tlp_ids[t]);
		cs_jw_kstr(jw, "created", "2022-10-01T00:00:00.000Z");
		cs_jw_kstr(jw, "name", cs__tlp_upper(t));
		cs_jw_key(jw, "extensions");
		cs_jw_obj_begin(jw);
		cs_jw_key(jw, CS__TLP_EXT);
		cs_jw_obj_begin(jw);
		cs_jw_kstr(jw, "extension_type", "property-extension");
		cs_jw_kstr(jw, "tlp_2_0", cs_tlp2str((cs_tlp_t)t));
		cs_jw_obj_end(jw);
		cs_jw_obj_end(jw);
		cs_jw_obj_end(jw);
	}
}

/* An organization's identity, marked tlp (description may be NULL). */
static void cs__identity(cs_jw_t *jw, const char *id, const char *created, const char *name, const char *description,
			 int tlp) {
	cs_jw_obj_begin(jw);
	cs__common(jw, "identity", id, created, NULL);
	cs_jw_kstr(jw, "name", name);
	if (description)
		cs_jw_kstr(jw, "description", description);
	cs_jw_kstr(jw, "identity_class", "organization");
	cs__marking(jw, tlp);
	cs_jw_obj_end(jw);
}

void cs_report_ed_stix(const cs_report_ed_t *ed, FILE *fp) {
	const cs_report_sit_t *s = ed->s;
	char hub[96], rep[96], name[8192], now[32], a[32], b[32], pat[3 * 4096];
	int used[CS_TLP__CNT] = {0};
	size_t skipped = 0;
	cs_jw_t jw;

	snprintf(name, sizeof(name), "identity:%s", ed->o.hub);
	cs__id(hub, sizeof(hub), "identity", name);
	cs__ts(ed->o.now, now, sizeof(now));
	snprintf(name, sizeof(name), "report:%lld:%lld:%s:%s", (long long)s->from, (long long)s->to,
		 cs_tlp2str(ed->o.audience), ed->o.org ? ed->o.org : "");
	cs__id(rep, sizeof(rep), "report", name);
	used[ed->tlp < 0 ? 0 : ed->tlp] = 1;
	for (size_t r = 0; r < ed->top_cnt; r++)
		used[ed->top[r].tlp < 0 ? 0 : ed->top[r].tlp] = 1;

	cs_jw_init(&jw, fp);
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "type", "bundle");
	cs__id(name, sizeof(name), "bundle", rep);
	cs_jw_kstr(&jw, "id", name);
	cs_jw_key(&jw, "objects");
	cs_jw_arr_begin(&jw);
	cs__markings(&jw, used);
	cs__identity(&jw, hub, now, ed->o.hub, NULL, CS_TLP_CLEAR);
	for (size_t r = 0; r < ed->top_cnt; r++) {
		const cs__row_t *x = &ed->top[r];
		char ind[96], sig[96];
		int64_t first = -1, last = -1;
		if (cs__pattern(pat, sizeof(pat), x->type, x->value)) {
			skipped++;
			continue;
		}
		for (int64_t i = 0; i < s->nb; i++)
			if (x->spark[i]) {
				if (first < 0)
					first = s->from + i * s->tier;
				last = s->from + (i + 1) * s->tier;
			}
		snprintf(name, sizeof(name), "indicator:%s:%s", x->type, x->value);
		cs__id(ind, sizeof(ind), "indicator", name);
		cs_jw_obj_begin(&jw);
		cs__common(&jw, "indicator", ind, now, hub);
		cs_jw_kstr(&jw, "name", x->value);
		snprintf(name, sizeof(name), "Hit %lld times in the period%s%s%s%s.", (long long)x->hits,
			 x->source && *x->source ? "; shared by " : "", x->source ? x->source : "",
			 x->tags && *x->tags ? "; tags: " : "", x->tags ? x->tags : "");
		cs_jw_kstr(&jw, "description", name);
		cs_jw_kstr(&jw, "pattern", pat);
		cs_jw_kstr(&jw, "pattern_type", "stix");
		cs_jw_kstr(&jw, "valid_from", cs__ts(x->first_seen >= 0 ? x->first_seen : s->from, a, sizeof(a)));
		if (x->confidence >= 0)
			cs_jw_kint(&jw, "confidence", x->confidence);
		cs__marking(&jw, x->tlp);
		cs_jw_obj_end(&jw);
		snprintf(name, sizeof(name), "sighting:%s:%lld:%lld:%s:%s", ind, (long long)s->from, (long long)s->to,
			 cs_tlp2str(ed->o.audience), ed->o.org ? ed->o.org : "");
		cs__id(sig, sizeof(sig), "sighting", name);
		cs_jw_obj_begin(&jw);
		cs__common(&jw, "sighting", sig, now, hub);
		cs_jw_kstr(&jw, "sighting_of_ref", ind);
		cs_jw_kint(&jw, "count", x->hits > 999999999 ? 999999999 : x->hits);
		cs_jw_kstr(&jw, "first_seen", cs__ts(first >= 0 ? first : s->from, a, sizeof(a)));
		cs_jw_kstr(&jw, "last_seen", cs__ts(last >= 0 ? last : s->to, b, sizeof(b)));
		cs_jw_key(&jw, "where_sighted_refs");
		cs_jw_arr_begin(&jw);
		cs_jw_str(&jw, hub);
		cs_jw_arr_end(&jw);
		cs_jw_kbool(&jw, "summary", 1);
		cs__marking(&jw, x->tlp);
		cs_jw_obj_end(&jw);
	}
	cs_jw_obj_begin(&jw);
	cs__common(&jw, "report", rep, now, hub);
	snprintf(name, sizeof(name), "%s, %s to %s", ed->o.title, cs__ts(s->from, a, sizeof(a)), cs__ts(s->to, b, sizeof(b)));
	cs_jw_kstr(&jw, "name", name);
	snprintf(name, sizeof(name),
		 "Edition for %s. Events received: %lld; hits: %lld; participants reporting: %lld; member states: %lld; "
		 "distinct indicators hit: %lld (%lld for the first time). %zu of the top indicators have no STIX "
		 "pattern and are not in this bundle.",
		 cs__tlp_upper(ed->o.audience), (long long)ed->head[CS__H_EVENTS].v, (long long)ed->head[CS__H_HITS].v,
		 (long long)ed->head[CS__H_PARTICIPANTS].v, (long long)ed->head[CS__H_STATES].v,
		 (long long)ed->head[CS__H_INDICATORS].v, (long long)ed->head[CS__H_NEW].v, skipped);
	cs_jw_kstr(&jw, "description", name);
	cs_jw_key(&jw, "report_types");
	cs_jw_arr_begin(&jw);
	cs_jw_str(&jw, "threat-report");
	cs_jw_arr_end(&jw);
	cs_jw_kstr(&jw, "published", now);
	cs_jw_key(&jw, "object_refs");
	cs_jw_arr_begin(&jw);
	cs_jw_str(&jw, hub);
	for (size_t r = 0; r < ed->top_cnt; r++) {
		const cs__row_t *x = &ed->top[r];
		char ind[96], sig[96];
		if (cs__pattern(pat, sizeof(pat), x->type, x->value))
			continue;
		snprintf(name, sizeof(name), "indicator:%s:%s", x->type, x->value);
		cs__id(ind, sizeof(ind), "indicator", name);
		snprintf(name, sizeof(name), "sighting:%s:%lld:%lld:%s:%s", ind, (long long)s->from, (long long)s->to,
			 cs_tlp2str(ed->o.audience), ed->o.org ? ed->o.org : "");
		cs__id(sig, sizeof(sig), "sighting", name);
		cs_jw_str(&jw, ind);
		cs_jw_str(&jw, sig);
	}
	cs_jw_arr_end(&jw);
	cs__marking(&jw, ed->tlp);
	cs_jw_obj_end(&jw);
	cs_jw_arr_end(&jw);
	cs_jw_obj_end(&jw);
	fputc('\n', fp);
}

/* ---- sightings (cs_report_ed_sightings) ---- */

/* A named participant's identity is marked with its registry label, at least AMBER (names are AMBER). */
static int cs__named_tlp(const cs__part_t *part) {
	return part->tlp > CS_TLP_AMBER ? (int)part->tlp : CS_TLP_AMBER;
}

/* the version of what only gives sightings something to point at: identities, the hub's own indicators */
#define CS__FIXED_TS "2020-01-01T00:00:00.000Z"

typedef struct cs__sight_s {
	uint32_t val;
	int32_t b;     /* bucket index in the situation (the period: [nb, 2 nb)) */
	uint32_t org;  /* UINT32_MAX: the hub */
	int64_t n;
	int tlp;
} cs__sight_t;

static int cs__sight_cmp(const void *a, const void *b) {
	const cs__sight_t *x = a, *y = b;
	if (x->val != y->val)
		return x->val < y->val ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return x->org < y->org ? -1 : x->org > y->org;
}

/* Sorts v[0..n) and sums equal keys (the strictest TLP); returns the new count. */
static size_t cs__sight_merge(cs__sight_t *v, size_t n) {
	size_t o = 0;
	qsort(v, n, sizeof(*v), cs__sight_cmp);
	for (size_t i = 0; i < n; i++) {
		if (o && !cs__sight_cmp(&v[o - 1], &v[i])) {
			v[o - 1].n += v[i].n;
			if (v[i].tlp > v[o - 1].tlp)
				v[o - 1].tlp = v[i].tlp;
		} else {
			v[o++] = v[i];
		}
	}
	return o;
}

/* The producer's STIX id of an indicator from its origin, into out; 0, or -1 when it has none. */
static int cs__producer_id(const char *origin, char *out, size_t size) {
	const char *p;
	if (!origin)
		return -1;
	if ((p = strstr(origin, "indicator--")) && strlen(p) >= 47) {
		snprintf(out, size, "%.47s", p);
		return 0;
	}
	if ((p = strstr(origin, ":misp:")) && strlen(p + 6) == 36) { /* MISP's STIX export: indicator--<attribute uuid> */
		snprintf(out, size, "indicator--%s", p + 6);
		return 0;
	}
	return -1;
}

/* What a sighting points at, and whether the hub must say what it is (its own indicator in the bundle). */
static int cs__sight_ref(const cs_report_sit_t *s, const long *ind_of_val, uint32_t val, char *ref, size_t size,
			 char *pat, size_t pat_size) {
	long d = ind_of_val[val];
	const cs__ind_t *ind = d >= 0 ? &s->inds[d] : NULL;
	char name[4200];
	if (ind && !cs__producer_id(ind->origin, ref, size))
		return 0;
	if (!ind || cs__pattern(pat, pat_size, ind->type, s->vals.v[val]))
		return -1; /* no STIX id and no pattern: nothing to point at */
	snprintf(name, sizeof(name), "indicator:%s:%s", ind->type, s->vals.v[val]);
	cs__id(ref, size, "indicator", name);
	return 1;
}

void cs_report_ed_sightings(const cs_report_ed_t *ed, FILE *fp, int64_t settle_s, int misp, int misp_max) {
	const cs_report_sit_t *s = ed->s;
	cs__sight_t *v = cs_calloc(s->cnt ? s->cnt : 1, sizeof(*v));
	char *own = cs_calloc(s->vals.cnt ? s->vals.cnt : 1, 1); /* [vals]: 1 the hub's indicator is in the bundle */
	char *named = cs_calloc(s->orgs.cnt ? s->orgs.cnt : 1, 1);
	char hub[96], name[8400], ref[96], pat[3 * 4096], now[32], a[32], b[32];
	int used[CS_TLP__CNT] = {0};
	size_t n = 0, skipped = 0;
	cs_jw_t jw;

	if (!v || !own || !named) {
		cs_free(v);
		cs_free(own);
		cs_free(named);
		fprintf(stderr, "cshield-report: out of memory\n");
		return;
	}
	/* the visible hits of the period by indicator, bucket and participant */
	for (size_t i = 0; i < s->cnt; i++) {
		const cs__fact_t *f = &s->facts[i];
		if (ed->vis[i] && f->what == CS__R_IND && f->b >= s->nb && f->val != UINT32_MAX && f->n > 0)
			v[n++] = (cs__sight_t){f->val, f->b, f->org, f->n, f->tlp};
	}
	n = cs__sight_merge(v, n);
	/* a participant named where its sighting's label is AMBER or stricter and the audience may see
	 * it; the hub's own hits are the hub's */
	for (size_t i = 0; i < n; i++) {
		long p = ed->part_of_org[v[i].org];
		const cs__part_t *part = p >= 0 ? &s->parts[p] : NULL;
		if (!part || v[i].tlp < CS_TLP_AMBER || !strcmp(s->orgs.v[v[i].org], ed->o.hub) ||
		    !(cs__label_visible(ed, (int)part->tlp) || ((long)v[i].org == ed->org_id && (int)part->tlp <= (int)ed->o.audience)))
			v[i].org = UINT32_MAX;
	}
	n = cs__sight_merge(v, n);

	snprintf(name, sizeof(name), "identity:%s", ed->o.hub);
	cs__id(hub, sizeof(hub), "identity", name);
	cs__ts(ed->o.now, now, sizeof(now));
	cs_jw_init(&jw, fp);
	if (!misp) {
		for (size_t i = 0; i < n; i++) {
			int r = cs__sight_ref(s, ed->ind_of_val, v[i].val, ref, sizeof(ref), pat, sizeof(pat));
			used[v[i].tlp] = 1;
			if (r == 1)
				own[v[i].val] = 1;
			if (v[i].org != UINT32_MAX)
				named[v[i].org] = 1;
		}
		used[CS_TLP_CLEAR] = 1; /* the hub's identity */
		for (size_t o = 0; o < s->orgs.cnt; o++)
			if (named[o])
				used[cs__named_tlp(&s->parts[ed->part_of_org[o]])] = 1;
		for (size_t d = 0; d < s->vals.cnt; d++)
			if (own[d]) {
				const cs__ind_t *ind = &s->inds[ed->ind_of_val[d]];
				used[cs__label_visible(ed, (int)ind->tlp) ? (int)ind->tlp : (int)ed->o.audience] = 1;
			}
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "type", "bundle");
		snprintf(name, sizeof(name), "sightings:%lld:%lld:%s:%s:%lld", (long long)s->from, (long long)s->to,
			 cs_tlp2str(ed->o.audience), ed->o.org ? ed->o.org : "", (long long)ed->o.now);
		cs__id(ref, sizeof(ref), "bundle", name);
		cs_jw_kstr(&jw, "id", ref);
		cs_jw_key(&jw, "objects");
		cs_jw_arr_begin(&jw);
		cs__markings(&jw, used);
		cs__identity(&jw, hub, CS__FIXED_TS, ed->o.hub, "The hub: where the participants' detections are pooled.",
			     CS_TLP_CLEAR);
		for (size_t o = 0; o < s->orgs.cnt; o++) {
			const cs__part_t *part;
			char id[96];
			if (!named[o])
				continue;
			part = &s->parts[ed->part_of_org[o]];
			snprintf(name, sizeof(name), "identity:%s", s->orgs.v[o]);
			cs__id(id, sizeof(id), "identity", name);
			snprintf(name, sizeof(name), "Participant %s%s%s%s%s.", s->orgs.v[o], *part->ms ? ", member state " : "",
				 part->ms, *part->sector ? ", sector " : "", part->sector);
			cs__identity(&jw, id, CS__FIXED_TS, *part->name ? part->name : s->orgs.v[o], name,
				     cs__named_tlp(part));
		}
		for (size_t d = 0; d < s->vals.cnt; d++) {
			const cs__ind_t *ind;
			if (!own[d])
				continue;
			ind = &s->inds[ed->ind_of_val[d]];
			cs__sight_ref(s, ed->ind_of_val, (uint32_t)d, ref, sizeof(ref), pat, sizeof(pat));
			cs_jw_obj_begin(&jw);
			cs__common(&jw, "indicator", ref, CS__FIXED_TS, hub);
			cs_jw_kstr(&jw, "name", s->vals.v[d]);
			cs_jw_kstr(&jw, "pattern", pat);
			cs_jw_kstr(&jw, "pattern_type", "stix");
			cs_jw_kstr(&jw, "valid_from", CS__FIXED_TS);
			cs__marking(&jw, cs__label_visible(ed, (int)ind->tlp) ? (int)ind->tlp : (int)ed->o.audience);
			cs_jw_obj_end(&jw);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const cs__sight_t *x = &v[i];
		int64_t start = s->from + (x->b - s->nb) * s->tier, end = start + s->tier;
		int64_t last = end < ed->o.now ? end : ed->o.now, mod = end + settle_s <= ed->o.now ? end + settle_s : ed->o.now;
		const char *where_name = ed->o.hub;
		char where[96], sig[96];
		if (cs__sight_ref(s, ed->ind_of_val, x->val, ref, sizeof(ref), pat, sizeof(pat)) < 0) {
			skipped++;
			continue;
		}
		if (x->org != UINT32_MAX) {
			const cs__part_t *part = &s->parts[ed->part_of_org[x->org]];
			snprintf(name, sizeof(name), "identity:%s", s->orgs.v[x->org]);
			cs__id(where, sizeof(where), "identity", name);
			where_name = *part->name ? part->name : s->orgs.v[x->org];
		} else {
			snprintf(where, sizeof(where), "%s", hub);
		}
		if (last < start)
			last = start;
		if (mod < start)
			mod = start;
		snprintf(name, sizeof(name), "sighting:%s:%s:%lld:%lld:%s:%s", ref, where, (long long)s->tier,
			 (long long)start, cs_tlp2str(ed->o.audience), ed->o.org ? ed->o.org : "");
		cs__id(sig, sizeof(sig), "sighting", name);
		if (misp) {
			long d = ed->ind_of_val[x->val];
			const char *m = d >= 0 && s->inds[d].origin ? strstr(s->inds[d].origin, ":misp:") : NULL;
			const char *lit = cs_norm_text_literal(s->vals.v[x->val], pat, sizeof(pat)); /* MISP matches values as written */
			for (int64_t k = 0; k < x->n && k < misp_max; k++) {
				char u[37], hn[160];
				snprintf(hn, sizeof(hn), "%s#%lld", sig, (long long)k);
				if (cs_uuid5(CS__NS, hn, strlen(hn), u))
					continue;
				cs_jw_init(&jw, fp); /* one object a line */
				cs_jw_obj_begin(&jw);
				cs_jw_kstr(&jw, "uuid", u);
				if (m && strlen(m + 6) == 36)
					cs_jw_kstr(&jw, "id", m + 6); /* the attribute, when it came from MISP */
				cs_jw_key(&jw, "values");
				cs_jw_arr_begin(&jw);
				cs_jw_str(&jw, lit ? lit : s->vals.v[x->val]);
				cs_jw_arr_end(&jw);
				cs_jw_kstr(&jw, "source", where_name);
				cs_jw_kstr(&jw, "type", "0");
				snprintf(hn, sizeof(hn), "%lld", (long long)last);
				cs_jw_kstr(&jw, "timestamp", hn);
				cs_jw_kstr(&jw, "tlp", cs_tlp2str((cs_tlp_t)x->tlp)); /* not MISP's: the file's reader keeps it */
				cs_jw_kstr(&jw, "sighting", sig);
				cs_jw_obj_end(&jw);
				fputc('\n', fp);
			}
			continue;
		}
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "type", "sighting");
		cs_jw_kstr(&jw, "spec_version", "2.1");
		cs_jw_kstr(&jw, "id", sig);
		cs_jw_kstr(&jw, "created", cs__ts(start, a, sizeof(a)));
		cs_jw_kstr(&jw, "modified", cs__ts(mod, b, sizeof(b)));
		cs_jw_kstr(&jw, "created_by_ref", hub);
		cs_jw_kstr(&jw, "sighting_of_ref", ref);
		cs_jw_kint(&jw, "count", x->n > 999999999 ? 999999999 : x->n);
		cs_jw_kstr(&jw, "first_seen", cs__ts(start, a, sizeof(a)));
		cs_jw_kstr(&jw, "last_seen", cs__ts(last, b, sizeof(b)));
		cs_jw_key(&jw, "where_sighted_refs");
		cs_jw_arr_begin(&jw);
		cs_jw_str(&jw, where);
		cs_jw_arr_end(&jw);
		cs_jw_kbool(&jw, "summary", 1);
		cs__marking(&jw, x->tlp);
		cs_jw_obj_end(&jw);
	}
	if (!misp) {
		cs_jw_arr_end(&jw);
		cs_jw_obj_end(&jw);
		fputc('\n', fp);
	}
	if (skipped)
		fprintf(stderr,
			"cshield-report: %zu sighting%s left out: their indicator has no STIX id and no STIX pattern "
			"(a regular expression or literal)\n",
			skipped, skipped == 1 ? "" : "s");
	cs_free(v);
	cs_free(own);
	cs_free(named);
}
