/*
 * cs_report_esc.c - escalations in situation reports, and their draft early
 * warnings.
 *
 * DESIGN: the flush script decides and words each escalation (ingest/
 * cs_ingest_flush.lua, docs/ESCALATION.md); here they are read back (jansson,
 * cold path), kept when their last hit falls in the report's period, and
 * shown to an audience as TLP allows: an escalation of TLP t is computed only
 * from hits marked t or below, so it is shown where t is (CLEAR, GREEN,
 * AMBER editions: t at or below the audience; AMBER+STRICT and RED editions:
 * AMBER or below, or all for the hub, which received them). In CLEAR and
 * GREEN editions the member states of an escalation from fewer than k
 * participants are not named, as breakdown cells are not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cs_report_int.h"
#include "cs_json.h"
#include "cs_keys.h"

static char *cs__jdup(json_t *o, const char *key) {
	const char *v = json_string_value(json_object_get(o, key));
	return cs_strdup(v ? v : "");
}

/* A JSON array of strings as "a,b,c" (NULL when it is not an array). */
static char *cs__jcsv(json_t *a) {
	size_t len = 0, i;
	json_t *v;
	char *out;
	if (!json_is_array(a))
		return NULL;
	json_array_foreach(a, i, v) len += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
	if (!(out = cs_malloc(len + 1)))
		return NULL;
	out[0] = '\0';
	len = 0;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v) ? json_string_value(v) : "";
		len += (size_t)sprintf(out + len, "%s%s", i ? "," : "", s);
	}
	return out;
}

static int64_t cs__jtime(json_t *o, const char *key) {
	int64_t ms;
	const char *v = json_string_value(json_object_get(o, key));
	return v && !cs_time_parse_iso8601(v, strlen(v), &ms) ? ms / 1000 : -1;
}

static void cs__esc_free(cs__esc_t *e) {
	char **strs[] = {&e->id, &e->reason, &e->rules, &e->value, &e->itype, &e->source, &e->tags, &e->ind_id,
			 &e->states, &e->sectors, &e->names};
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		cs_free(*strs[i]);
}

int cs_report_sit_add_esc(cs_report_sit_t *s, cs_tlp_t tlp, const char *json, char *errstr, size_t errstr_size) {
	json_error_t jerr;
	json_t *j = json_loads(json, 0, &jerr), *ind, *parts, *names;
	cs__esc_t e = {0};
	int64_t last;
	if (!j || !json_is_object(j) || !json_is_string(json_object_get(j, "id")) ||
	    !json_is_object(ind = json_object_get(j, "indicator")) ||
	    !json_is_object(parts = json_object_get(j, "participants")) || (last = cs__jtime(j, "last_seen")) < 0) {
		cs_errstr_set(errstr, errstr_size, "not an escalation: %s", j ? "a field is missing" : jerr.text);
		json_decref(j);
		return -1;
	}
	if (last < s->from || last >= s->to) {
		json_decref(j);
		return 0; /* raised outside the period */
	}
	e.tlp = tlp;
	e.seq = (int)json_integer_value(json_object_get(j, "seq"));
	e.confidence = json_is_integer(json_object_get(ind, "confidence")) ? (int)json_integer_value(json_object_get(ind, "confidence")) : -1;
	e.participants = json_integer_value(json_object_get(parts, "count"));
	e.hits = json_integer_value(json_object_get(j, "hits"));
	e.period_s = json_integer_value(json_object_get(j, "period_s"));
	e.first = cs__jtime(j, "first_seen");
	e.last = last;
	if (json_is_array(names = json_object_get(parts, "names"))) {
		size_t i, len = 0;
		json_t *p;
		json_array_foreach(names, i, p) len += strlen(json_string_value(json_object_get(p, "id")) ? json_string_value(json_object_get(p, "id")) : "") + 1;
		if ((e.names = cs_malloc(len + 1))) {
			e.names[0] = '\0';
			len = 0;
			json_array_foreach(names, i, p) {
				const char *id = json_string_value(json_object_get(p, "id"));
				len += (size_t)sprintf(e.names + len, "%s%s", i ? "," : "", id ? id : "");
			}
		}
	}
	if (!(e.id = cs__jdup(j, "id")) || !(e.reason = cs__jdup(j, "reason")) ||
	    !(e.rules = cs__jcsv(json_object_get(j, "rules"))) || !(e.value = cs__jdup(ind, "value")) ||
	    !(e.itype = cs__jdup(ind, "type")) || !(e.source = cs__jdup(ind, "source")) || !(e.tags = cs__jdup(ind, "tags")) ||
	    !(e.ind_id = cs__jdup(ind, "id")) || !(e.states = cs__jcsv(json_object_get(j, "member_states"))) ||
	    !(e.sectors = cs__jcsv(json_object_get(j, "sectors"))) ||
	    (json_is_array(names) && !e.names) ||
	    cs_array_reserve(&s->escs, &s->esc_cap, s->esc_cnt + 1, sizeof(*s->escs))) {
		cs_errstr_set(errstr, errstr_size, "out of memory (or an escalation without its lists)");
		cs__esc_free(&e);
		json_decref(j);
		return -1;
	}
	s->escs[s->esc_cnt++] = e;
	json_decref(j);
	return 0;
}

size_t cs_report_sit_escalations(const cs_report_sit_t *s) {
	return s->esc_cnt;
}

void cs__sit_escs_free(cs_report_sit_t *s) {
	for (size_t i = 0; i < s->esc_cnt; i++)
		cs__esc_free(&s->escs[i]);
	cs_free(s->escs);
	s->escs = NULL;
	s->esc_cnt = s->esc_cap = 0;
}

static int cs__esc_cmp(const void *a, const void *b) {
	const cs__esc_t *x = *(const cs__esc_t *const *)a, *y = *(const cs__esc_t *const *)b;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return strcmp(x->id, y->id);
}

int cs__ed_escalations(cs_report_ed_t *ed) {
	const cs_report_sit_t *s = ed->s;
	cs_tlp_t a = ed->o.audience;
	int strict = a >= CS_TLP_AMBER_STRICT;
	ed->esc_tlp = -1;
	if (!(ed->esc = cs_calloc(s->esc_cnt + 1, sizeof(*ed->esc))) ||
	    !(ed->esc_states_withheld = cs_calloc(s->esc_cnt + 1, 1)) ||
	    !(ed->tl_esc = cs_calloc((size_t)s->nb + 1, sizeof(*ed->tl_esc))))
		return -1;
	for (size_t i = 0; i < s->esc_cnt; i++) {
		const cs__esc_t *e = &s->escs[i];
		if (strict ? !(e->tlp <= CS_TLP_AMBER || ed->is_hub) : e->tlp > a)
			continue;
		ed->esc[ed->esc_cnt++] = e;
	}
	qsort(ed->esc, ed->esc_cnt, sizeof(*ed->esc), cs__esc_cmp);
	for (size_t i = 0; i < ed->esc_cnt; i++) {
		const cs__esc_t *e = ed->esc[i];
		int64_t b = (e->last - s->from) / s->tier;
		ed->esc_states_withheld[i] = a <= CS_TLP_GREEN && e->participants < ed->o.k;
		if (b >= 0 && b < s->nb)
			ed->tl_esc[b]++;
		if ((int)e->tlp > ed->esc_tlp)
			ed->esc_tlp = (int)e->tlp;
	}
	return 0;
}

/* ---- draft early warnings ---- */

/* The nis taxonomy's words for an escalation (misp-taxonomies nis; docs/ESCALATION.md). */
static const char *cs__ew_threat(const cs__esc_t *e) {
	return e->confidence >= 80 ? "high" : e->confidence >= 50 ? "medium" : e->confidence >= 0 ? "low" : "medium";
}

static const char *cs__ew_impact(int64_t states) {
	return states >= 3 ? "red" : states >= 2 ? "yellow" : "green";
}

static const char *cs__ew_outlook(const cs__esc_t *e) {
	return !strcmp(e->reason, "still-active") ? "stable" : "worsening";
}

static int64_t cs__csv_count(const char *csv) {
	int64_t n = *csv ? 1 : 0;
	for (; *csv; csv++)
		n += *csv == ',';
	return n;
}

void cs_report_ed_early_warnings(const cs_report_ed_t *ed, FILE *fp, int markdown) {
	char a[32], b[32], def[CS_KEYS_MAX * 2 + 16];
	for (size_t i = 0; i < ed->esc_cnt; i++) {
		const cs__esc_t *e = ed->esc[i];
		int withheld = ed->esc_states_withheld[i];
		const char *states = withheld ? NULL : e->states;
		int64_t nstates = cs__csv_count(e->states);
		int cross = strstr(e->rules, "cross-border") != NULL;
		const char *names = ed->o.audience >= CS_TLP_AMBER ? e->names : NULL;
		cs_time_format_iso8601(e->first, a, sizeof(a));
		cs_time_format_iso8601(e->last, b, sizeof(b));
		cs_report_defang(e->value, def, sizeof(def));
		if (!markdown) {
			cs_jw_t jw;
			cs_jw_init(&jw, fp);
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "schema", "cshield-early-warning/1");
			cs_jw_kstr(&jw, "status", "draft");
			cs_jw_kstr(&jw, "tlp", cs_tlp2str(e->tlp));
			cs_jw_kstr(&jw, "escalation", e->id);
			cs_jw_kint(&jw, "escalation_seq", e->seq);
			cs_jw_kstr(&jw, "raised_for", e->reason);
			cs__jlist(&jw, "rules", e->rules);
			cs_jw_key(&jw, "addressees");
			cs_jw_arr_begin(&jw);
			cs_jw_str(&jw, "CSIRTs network");
			cs_jw_str(&jw, "EU-CyCLONe");
			cs_jw_str(&jw, "European Commission");
			cs_jw_str(&jw, "ENISA");
			cs_jw_arr_end(&jw);
			cs_jw_key(&jw, "legal_basis");
			cs_jw_arr_begin(&jw);
			cs_jw_str(&jw, "NIS2 Art. 6(7): significant impact on at least two member states");
			cs_jw_str(&jw, "NIS2 Art. 23: early warning within 24 hours");
			cs_jw_str(&jw, "Regulation (EU) 2025/38 (Cyber Solidarity Act): cyber hubs inform EU-CyCLONe, the CSIRTs network and the Commission");
			cs_jw_arr_end(&jw);
			cs_jw_kbool(&jw, "suspected_malicious", 1);
			cs_jw_kbool(&jw, "cross_border_impact", cross);
			cs_jw_key(&jw, "nis");
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "root-cause", "malicious-actions");
			cs_jw_kstr(&jw, "threat-severity", cs__ew_threat(e));
			cs_jw_key(&jw, "impact-severity");
			if (withheld)
				cs_jw_null(&jw);
			else
				cs_jw_str(&jw, cs__ew_impact(nstates));
			cs_jw_kstr(&jw, "outlook", cs__ew_outlook(e));
			cs_jw_obj_end(&jw);
			cs__jlist(&jw, "member_states", states);
			cs_jw_kint(&jw, "participants", e->participants);
			cs__jlist(&jw, "participant_ids", names);
			cs__jlist(&jw, "sectors", withheld ? NULL : e->sectors);
			cs_jw_kstr(&jw, "first_seen", a);
			cs_jw_kstr(&jw, "last_seen", b);
			cs_jw_kint(&jw, "hits", e->hits);
			cs_jw_key(&jw, "indicator");
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "value", e->value);
			cs_jw_kstr(&jw, "defanged", def);
			cs_jw_kstr(&jw, "type", e->itype);
			cs_jw_kstr(&jw, "source", e->source);
			cs_jw_kstr(&jw, "id", e->ind_id);
			cs_jw_key(&jw, "confidence");
			if (e->confidence >= 0)
				cs_jw_int(&jw, e->confidence);
			else
				cs_jw_null(&jw);
			cs__jlist(&jw, "tags", e->tags);
			cs_jw_obj_end(&jw);
			cs_jw_kstr(&jw, "recommended_actions",
				   "Block or closely monitor the indicator; search logs from first_seen on for earlier contact; "
				   "report further sightings to the hub.");
			cs_jw_obj_end(&jw);
			fputc('\n', fp);
			continue;
		}
		fprintf(fp, "%s# DRAFT early warning: potential large-scale incident (%s)\n\n", i ? "\n---\n\n" : "",
			cs__tlp_upper((int)e->tlp));
		fprintf(fp, "**%s** | to: CSIRTs network, EU-CyCLONe, European Commission, ENISA | status: draft, "
			    "for review before sending\n\n",
			cs__tlp_upper((int)e->tlp));
		fprintf(fp, "| field | value |\n|---|---|\n");
		fprintf(fp, "| escalation | `%s` (#%d, %s) |\n", e->id, e->seq, e->reason);
		fprintf(fp, "| rules met | %s |\n", e->rules);
		if (e->confidence >= 0)
			fprintf(fp, "| indicator | `%s` (%s) from %s, confidence %d |\n", def, e->itype,
				*e->source ? e->source : "-", e->confidence);
		else
			fprintf(fp, "| indicator | `%s` (%s) from %s, no confidence given |\n", def, e->itype,
				*e->source ? e->source : "-");
		if (*e->tags)
			fprintf(fp, "| tags | %s |\n", e->tags);
		fprintf(fp, "| member states affected | %s |\n", states ? (*states ? states : "-") : "withheld (fewer than k participants)");
		fprintf(fp, "| participants | %lld%s%s%s |\n", (long long)e->participants, names ? ": " : "", names ? names : "",
			"");
		fprintf(fp, "| sectors | %s |\n", withheld ? "withheld" : *e->sectors ? e->sectors : "-");
		fprintf(fp, "| first seen / last seen | %s / %s |\n", a, b);
		fprintf(fp, "| hits | %lld |\n", (long long)e->hits);
		fprintf(fp, "| suspected unlawful or malicious act | yes: hits on a shared threat indicator |\n");
		fprintf(fp, "| cross-border impact | %s |\n", cross ? "yes (NIS2 Art. 6(7): at least two member states)" : "not established");
		fprintf(fp, "| nis root cause | malicious-actions |\n| nis threat severity | %s |\n", cs__ew_threat(e));
		fprintf(fp, "| nis impact severity | %s |\n| nis outlook | %s |\n", withheld ? "withheld" : cs__ew_impact(nstates),
			cs__ew_outlook(e));
		fprintf(fp, "\nRecommended: block or closely monitor the indicator; search logs from %s on for earlier "
			    "contact; report further sightings to the hub.\n",
			a);
	}
}
