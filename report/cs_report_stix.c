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
#include <string.h>

#include "cs_report_int.h"
#include "cs_json.h"
#include "cs_sha1.h"

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
	for (int t = 0; t < CS_TLP__CNT; t++) {
		if (!used[t])
			continue;
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "type", "marking-definition");
		cs_jw_kstr(&jw, "spec_version", "2.1");
		cs_jw_kstr(&jw, "id", cs__tlp_ids[t]);
		cs_jw_kstr(&jw, "created", "2022-10-01T00:00:00.000Z");
		cs_jw_kstr(&jw, "name", cs__tlp_upper(t));
		cs_jw_key(&jw, "extensions");
		cs_jw_obj_begin(&jw);
		cs_jw_key(&jw, CS__TLP_EXT);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "extension_type", "property-extension");
		cs_jw_kstr(&jw, "tlp_2_0", cs_tlp2str((cs_tlp_t)t));
		cs_jw_obj_end(&jw);
		cs_jw_obj_end(&jw);
		cs_jw_obj_end(&jw);
	}
	cs_jw_obj_begin(&jw);
	cs__common(&jw, "identity", hub, now, NULL);
	cs_jw_kstr(&jw, "name", ed->o.hub);
	cs_jw_kstr(&jw, "identity_class", "organization");
	cs__marking(&jw, CS_TLP_CLEAR);
	cs_jw_obj_end(&jw);
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
