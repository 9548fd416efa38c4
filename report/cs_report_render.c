/*
 * cs_report_render.c - an edition as JSON, Markdown and self-contained HTML.
 *
 * DESIGN: writes what cs_report_ed.c computed, nothing more: a withheld cell
 * is counted, never named. Every string from the data (indicator values,
 * categories, names) is escaped for its format; indicators are defanged in
 * Markdown and HTML. The HTML fetches nothing: inline CSS and SVG only; the
 * TLP label is fixed in the header and footer (repeated on every printed
 * page) and the page's title.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cs_report_int.h"
#include "cs_json.h"

static const char *cs__iso(int64_t t, char *buf, size_t size) {
	cs_time_format_iso8601(t, buf, size);
	return buf;
}

static const char *cs__tlp_name(int tlp) {
	return cs_tlp2str((cs_tlp_t)(tlp < 0 ? CS_TLP_CLEAR : tlp));
}

/* ---- JSON ---- */

static void cs__jfig(cs_jw_t *jw, const char *key, const cs__fig_t *cur, const cs__fig_t *prev) {
	cs_jw_key(jw, key);
	cs_jw_obj_begin(jw);
	cs_jw_kint(jw, "value", cur->v);
	if (prev)
		cs_jw_kint(jw, "previous", prev->v);
	cs_jw_kstr(jw, "tlp", cs__tlp_name(cur->tlp > (prev ? prev->tlp : -1) ? cur->tlp : prev ? prev->tlp : -1));
	cs_jw_obj_end(jw);
}

void cs__jlist(cs_jw_t *jw, const char *key, const char *csv) {
	cs_jw_key(jw, key);
	if (!csv) {
		cs_jw_null(jw);
		return;
	}
	cs_jw_arr_begin(jw);
	while (*csv) {
		const char *c = strchr(csv, ',');
		size_t n = c ? (size_t)(c - csv) : strlen(csv);
		if (n)
			cs_jw_strn(jw, csv, n);
		csv += n + (c ? 1 : 0);
	}
	cs_jw_arr_end(jw);
}

void cs_report_ed_json(const cs_report_ed_t *ed, FILE *fp) {
	const cs_report_sit_t *s = ed->s;
	char a[32], b[32];
	cs_jw_t jw;
	cs_jw_init(&jw, fp);
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "schema", "cshield-situation/1");
	cs_jw_kstr(&jw, "title", ed->o.title);
	cs_jw_kstr(&jw, "tlp", cs__tlp_name(ed->tlp));
	cs_jw_kstr(&jw, "audience", cs_tlp2str(ed->o.audience));
	cs_jw_key(&jw, "org");
	if (ed->o.org)
		cs_jw_str(&jw, ed->o.org);
	else
		cs_jw_null(&jw);
	cs_jw_kstr(&jw, "generated", cs__iso(ed->o.now, a, sizeof(a)));
	cs_jw_kint(&jw, "k", ed->o.k);
	cs_jw_key(&jw, "period");
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "from", cs__iso(s->from, a, sizeof(a)));
	cs_jw_kstr(&jw, "to", cs__iso(s->to, b, sizeof(b)));
	cs_jw_kint(&jw, "bucket_s", s->tier);
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "previous_period");
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "from", cs__iso(2 * s->from - s->to, a, sizeof(a)));
	cs_jw_kstr(&jw, "to", cs__iso(s->from, b, sizeof(b)));
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "headline");
	cs_jw_obj_begin(&jw);
	for (int h = 0; h < CS__H__CNT; h++)
		cs__jfig(&jw, cs__headline_names[h], &ed->head[h], &ed->prev[h]);
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "escalations");
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "tlp", cs__tlp_name(ed->esc_tlp));
	cs_jw_kint(&jw, "count", (int64_t)ed->esc_cnt);
	cs_jw_key(&jw, "per_bucket");
	cs_jw_arr_begin(&jw);
	for (int64_t i = 0; i < s->nb; i++)
		cs_jw_int(&jw, ed->tl_esc[i]);
	cs_jw_arr_end(&jw);
	cs_jw_key(&jw, "items");
	cs_jw_arr_begin(&jw);
	for (size_t i = 0; i < ed->esc_cnt; i++) {
		const cs__esc_t *e = ed->esc[i];
		int wh = ed->esc_states_withheld[i];
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "id", e->id);
		cs_jw_kstr(&jw, "tlp", cs_tlp2str(e->tlp));
		cs_jw_kint(&jw, "seq", e->seq);
		cs_jw_kstr(&jw, "reason", e->reason);
		cs__jlist(&jw, "rules", e->rules);
		cs_jw_kstr(&jw, "indicator", e->value);
		cs_jw_kstr(&jw, "type", e->itype);
		cs_jw_kstr(&jw, "source", e->source);
		cs__jlist(&jw, "member_states", wh ? NULL : e->states);
		cs_jw_kint(&jw, "participants", e->participants);
		cs__jlist(&jw, "participant_ids", ed->o.audience >= CS_TLP_AMBER ? e->names : NULL);
		cs__jlist(&jw, "sectors", wh ? NULL : e->sectors);
		cs_jw_kstr(&jw, "first_seen", cs__iso(e->first, a, sizeof(a)));
		cs_jw_kstr(&jw, "last_seen", cs__iso(e->last, b, sizeof(b)));
		cs_jw_kint(&jw, "hits", e->hits);
		cs_jw_obj_end(&jw);
	}
	cs_jw_arr_end(&jw);
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "timeline");
	cs_jw_obj_begin(&jw);
	cs_jw_kint(&jw, "bucket_s", s->tier);
	cs_jw_kstr(&jw, "tlp", cs__tlp_name(ed->tl_tlp));
	cs_jw_key(&jw, "points");
	cs_jw_arr_begin(&jw);
	for (int64_t i = 0; i < s->nb; i++) {
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "t", cs__iso(s->from + i * s->tier, a, sizeof(a)));
		cs_jw_kint(&jw, "hits", ed->tl_hits[i]);
		cs_jw_kint(&jw, "events", ed->tl_events[i]);
		cs_jw_obj_end(&jw);
	}
	cs_jw_arr_end(&jw);
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "top_indicators");
	cs_jw_arr_begin(&jw);
	for (size_t r = 0; r < ed->top_cnt; r++) {
		const cs__row_t *x = &ed->top[r];
		cs_jw_obj_begin(&jw);
		cs_jw_kint(&jw, "rank", (int64_t)r + 1);
		cs_jw_kstr(&jw, "value", x->value);
		cs_jw_kstr(&jw, "type", x->type ? x->type : "");
		cs_jw_kstr(&jw, "source", x->source ? x->source : "");
		cs_jw_key(&jw, "confidence");
		if (x->confidence >= 0)
			cs_jw_int(&jw, x->confidence);
		else
			cs_jw_null(&jw);
		cs__jlist(&jw, "tags", x->tags ? x->tags : "");
		cs_jw_kint(&jw, "hits", x->hits);
		cs_jw_key(&jw, "participants");
		if (x->participants_withheld)
			cs_jw_null(&jw);
		else
			cs_jw_int(&jw, x->participants);
		cs__jlist(&jw, "member_states", x->participants_withheld ? NULL : x->states);
		cs_jw_key(&jw, "first_seen");
		if (x->first_seen >= 0)
			cs_jw_str(&jw, cs__iso(x->first_seen, a, sizeof(a)));
		else
			cs_jw_null(&jw);
		cs_jw_key(&jw, "last_seen");
		if (x->last_seen >= 0)
			cs_jw_str(&jw, cs__iso(x->last_seen, a, sizeof(a)));
		else
			cs_jw_null(&jw);
		cs_jw_kbool(&jw, "new", x->isnew);
		cs_jw_kstr(&jw, "tlp", cs__tlp_name(x->tlp));
		cs_jw_key(&jw, "sparkline");
		cs_jw_arr_begin(&jw);
		for (int64_t i = 0; i < s->nb; i++)
			cs_jw_int(&jw, x->spark[i]);
		cs_jw_arr_end(&jw);
		cs_jw_obj_end(&jw);
	}
	cs_jw_arr_end(&jw);
	cs_jw_key(&jw, "breakdowns");
	cs_jw_obj_begin(&jw);
	for (int bd = 0; bd < CS__B__CNT; bd++) {
		const cs__breakdown_t *B = &ed->bd[bd];
		cs_jw_key(&jw, cs__breakdown_names[bd]);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "tlp", cs__tlp_name(B->tlp));
		if (bd < CS__B_CATEGORY)
			cs_jw_kint(&jw, "total_events", B->total_events);
		cs_jw_kint(&jw, "total_hits", B->total_hits);
		cs_jw_kint(&jw, "withheld_cells", (int64_t)(B->cnt - B->shown));
		cs_jw_key(&jw, "cells");
		cs_jw_arr_begin(&jw);
		for (size_t c = 0; c < B->shown; c++) {
			const cs__cell_t *x = &B->cells[c];
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "key", x->key);
			if (bd < CS__B_CATEGORY)
				cs_jw_kint(&jw, "events", x->events.v);
			cs_jw_kint(&jw, "hits", x->hits.v);
			cs_jw_kint(&jw, "participants", x->participants);
			cs_jw_kstr(&jw, "tlp", cs__tlp_name(x->tlp));
			cs_jw_obj_end(&jw);
		}
		cs_jw_arr_end(&jw);
		cs_jw_obj_end(&jw);
	}
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "new_vs_recurring");
	cs_jw_obj_begin(&jw);
	cs_jw_kint(&jw, "new", ed->head[CS__H_NEW].v);
	cs_jw_kint(&jw, "recurring", ed->recurring);
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "nis");
	cs_jw_arr_begin(&jw);
	for (size_t c = 0; c < ed->bd[CS__B_CATEGORY].shown; c++) {
		const cs__cell_t *x = &ed->bd[CS__B_CATEGORY].cells[c];
		const char *out = cs__nis_outlook(x);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "category", x->key);
		cs_jw_kstr(&jw, "impact_severity", cs__nis_impact(ed, x));
		cs_jw_key(&jw, "outlook");
		if (out)
			cs_jw_str(&jw, out);
		else
			cs_jw_null(&jw);
		cs_jw_kint(&jw, "hits", x->hits.v);
		cs_jw_key(&jw, "previous_hits");
		if (x->prev_hits.withheld)
			cs_jw_null(&jw);
		else
			cs_jw_int(&jw, x->prev_hits.v);
		cs_jw_kstr(&jw, "tlp", cs__tlp_name(cs__nis_tlp(x)));
		cs_jw_obj_end(&jw);
	}
	cs_jw_arr_end(&jw);
	cs_jw_key(&jw, "data_quality");
	cs_jw_obj_begin(&jw);
	for (int q = 0; q < 2; q++) {
		const cs__named_t *v = q ? ed->lists : ed->reasons;
		size_t n = q ? ed->list_cnt : ed->reason_cnt;
		cs_jw_key(&jw, q ? "suppressed_by_list" : "rejected_by_reason");
		cs_jw_arr_begin(&jw);
		for (size_t i = 0; i < n; i++) {
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, q ? "list" : "reason", v[i].name);
			cs_jw_kint(&jw, q ? "hits" : "events", v[i].fig.v);
			cs_jw_kstr(&jw, "tlp", cs__tlp_name(v[i].fig.tlp));
			cs_jw_obj_end(&jw);
		}
		cs_jw_arr_end(&jw);
	}
	cs_jw_obj_end(&jw);
	cs_jw_key(&jw, "participants");
	cs_jw_obj_begin(&jw);
	cs_jw_kbool(&jw, "withheld", ed->inv_withheld);
	cs_jw_kint(&jw, "silent_after_s", ed->o.silent_s);
	cs_jw_key(&jw, "rows");
	cs_jw_arr_begin(&jw);
	for (size_t i = 0; i < ed->inv_cnt; i++) {
		const cs__inv_t *x = &ed->inv[i];
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "id", x->id);
		cs_jw_kstr(&jw, "name", x->p->name);
		cs_jw_kstr(&jw, "kind", x->p->kind);
		cs_jw_kstr(&jw, "member_state", x->p->ms);
		cs_jw_kstr(&jw, "sector", x->p->sector);
		cs__jlist(&jw, "formats", x->formats);
		cs_jw_kint(&jw, "events", x->events);
		cs_jw_kfixed(&jw, "events_per_day", x->per_day, 1);
		cs_jw_kint(&jw, "indicators_shared", x->indicators_shared);
		cs_jw_key(&jw, "last_event");
		if (x->p->last_event >= 0)
			cs_jw_str(&jw, cs__iso(x->p->last_event, a, sizeof(a)));
		else
			cs_jw_null(&jw);
		cs_jw_kbool(&jw, "silent", x->silent);
		cs_jw_kstr(&jw, "tlp", cs__tlp_name(x->tlp));
		cs_jw_obj_end(&jw);
	}
	cs_jw_arr_end(&jw);
	cs_jw_obj_end(&jw);
	cs_jw_kint(&jw, "withheld_cells", ed->withheld_cells);
	cs_jw_obj_end(&jw);
	fputc('\n', fp);
}

/* ---- Markdown ---- */

/* Text for a Markdown table cell: '|' escaped, controls and newlines as spaces. */
static void cs__md(FILE *fp, const char *v) {
	for (; *v; v++) {
		if (*v == '|' || *v == '\\' || *v == '`' || *v == '*' || *v == '_' || *v == '<' || *v == '[' || *v == ']')
			fputc('\\', fp);
		fputc((unsigned char)*v < 0x20 ? ' ' : *v, fp);
	}
}

/* An indicator, defanged, as a code span (nothing in it is Markdown; '|' escaped for the table). */
static void cs__md_defanged(FILE *fp, const char *v) {
	char buf[3 * 4096 + 16];
	int run = 0, longest = 0;
	cs_report_defang(v, buf, sizeof(buf));
	for (const char *p = buf; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	for (int i = 0; i <= longest; i++)
		fputc('`', fp);
	fputc(' ', fp);
	for (const char *p = buf; *p; p++) {
		if (*p == '|')
			fputc('\\', fp);
		fputc((unsigned char)*p < 0x20 ? ' ' : *p, fp);
	}
	fputc(' ', fp);
	for (int i = 0; i <= longest; i++)
		fputc('`', fp);
}

static const char *cs__delta(int64_t now, int64_t before, char *buf, size_t size) {
	if (before == 0)
		snprintf(buf, size, now ? "new" : "=");
	else
		snprintf(buf, size, "%+.0f%%", 100.0 * (double)(now - before) / (double)before);
	return buf;
}

/* A table of named counts (data quality). */
static void cs__md_named(FILE *fp, const char *what, const char *unit, const cs__named_t *v, size_t n) {
	fprintf(fp, "\n| %s | %s | TLP |\n|---|---:|---|\n", what, unit);
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, "| ");
		cs__md(fp, v[i].name);
		fprintf(fp, " | %lld | %s |\n", (long long)v[i].fig.v, cs__tlp_name(v[i].fig.tlp));
	}
}

void cs_report_ed_md(const cs_report_ed_t *ed, FILE *fp) {
	const cs_report_sit_t *s = ed->s;
	char a[32], b[32], d[32];
	const char *label = cs__tlp_upper(ed->tlp);

	fprintf(fp, "**%s**\n\n# ", label);
	cs__md(fp, ed->o.title);
	fprintf(fp, "\n\nPeriod %s to %s (compared with the %s before it). Edition for %s%s%s; generated %s.\n\n",
		cs__iso(s->from, a, sizeof(a)), cs__iso(s->to, b, sizeof(b)), s->tier == 86400 ? "days" : "hours",
		cs__tlp_upper(ed->o.audience), ed->o.org ? ", organization " : "", ed->o.org ? ed->o.org : "",
		cs__iso(ed->o.now, d, sizeof(d)));
	fprintf(fp, "## Headline\n\n| figure | this period | before | change | TLP |\n|---|---:|---:|---:|---|\n");
	for (int h = 0; h < CS__H__CNT; h++)
		fprintf(fp, "| %s | %lld | %lld | %s | %s |\n", cs__headline_labels[h], (long long)ed->head[h].v,
			(long long)ed->prev[h].v, cs__delta(ed->head[h].v, ed->prev[h].v, a, sizeof(a)),
			cs__tlp_name(ed->head[h].tlp > ed->prev[h].tlp ? ed->head[h].tlp : ed->prev[h].tlp));
	fprintf(fp, "| Escalations | %zu | | | %s |\n\n", ed->esc_cnt, cs__tlp_name(ed->esc_tlp));
	if (ed->esc_cnt) {
		fprintf(fp, "## Escalations\n\nOne campaign hitting several member states or organizations (docs/ESCALATION.md); "
			    "draft early warnings: `cshield-report --early-warning`.\n\n"
			    "| last seen | indicator | rules | raised for | member states | participants | sectors | hits | TLP |\n"
			    "|---|---|---|---|---|---:|---|---:|---|\n");
		for (size_t i = 0; i < ed->esc_cnt; i++) {
			const cs__esc_t *e = ed->esc[i];
			int wh = ed->esc_states_withheld[i];
			fprintf(fp, "| %s | ", cs__iso(e->last, a, sizeof(a)));
			cs__md_defanged(fp, e->value);
			fprintf(fp, " | %s | %s (#%d) | ", e->rules, e->reason, e->seq);
			cs__md(fp, wh ? "withheld (< k participants)" : e->states);
			fprintf(fp, " | %lld | ", (long long)e->participants);
			cs__md(fp, wh ? "withheld" : e->sectors);
			fprintf(fp, " | %lld | %s |\n", (long long)e->hits, cs_tlp2str(e->tlp));
		}
		fprintf(fp, "\n");
	}
	fprintf(fp, "## Activity\n\n| %s (UTC) | hits | events |\n|---|---:|---:|\n", s->tier == 86400 ? "day" : "hour");
	for (int64_t i = 0; i < s->nb; i++)
		if (ed->tl_hits[i] || ed->tl_events[i])
			fprintf(fp, "| %s | %lld | %lld |\n", cs__iso(s->from + i * s->tier, a, sizeof(a)),
				(long long)ed->tl_hits[i], (long long)ed->tl_events[i]);
	fprintf(fp, "\n## Top indicators\n\n| # | indicator | type | source | confidence | tags | hits | participants | "
		    "member states | first seen | last seen | new | TLP |\n|---:|---|---|---|---:|---|---:|---:|---|---|---|---|---|\n");
	for (size_t r = 0; r < ed->top_cnt; r++) {
		const cs__row_t *x = &ed->top[r];
		fprintf(fp, "| %zu | ", r + 1);
		cs__md_defanged(fp, x->value);
		fprintf(fp, " | ");
		cs__md(fp, x->type ? x->type : "");
		fprintf(fp, " | ");
		cs__md(fp, x->source ? x->source : "");
		if (x->confidence >= 0)
			fprintf(fp, " | %d | ", x->confidence);
		else
			fprintf(fp, " | | ");
		cs__md(fp, x->tags ? x->tags : "");
		fprintf(fp, " | %lld | ", (long long)x->hits);
		if (x->participants_withheld)
			fprintf(fp, "fewer than %d | withheld", ed->o.k);
		else {
			fprintf(fp, "%lld | ", (long long)x->participants);
			cs__md(fp, x->states ? x->states : "");
		}
		fprintf(fp, " | %s | %s | %s | %s |\n", x->first_seen >= 0 ? cs__iso(x->first_seen, a, sizeof(a)) : "",
			x->last_seen >= 0 ? cs__iso(x->last_seen, b, sizeof(b)) : "", x->isnew ? "yes" : "",
			cs__tlp_name(x->tlp));
	}
	fprintf(fp, "\nNew indicators: %lld; recurring: %lld.\n", (long long)ed->head[CS__H_NEW].v, (long long)ed->recurring);
	for (int bd = 0; bd < CS__B__CNT; bd++) {
		const cs__breakdown_t *B = &ed->bd[bd];
		fprintf(fp, "\n## By %s\n\n", cs__breakdown_labels[bd]);
		if (bd < CS__B_CATEGORY)
			fprintf(fp, "| %s | events | hits | participants | TLP |\n|---|---:|---:|---:|---|\n", cs__breakdown_labels[bd]);
		else
			fprintf(fp, "| %s | hits | participants | TLP |\n|---|---:|---:|---|\n", cs__breakdown_labels[bd]);
		for (size_t c = 0; c < B->shown; c++) {
			fprintf(fp, "| ");
			cs__md(fp, B->cells[c].key);
			if (bd < CS__B_CATEGORY)
				fprintf(fp, " | %lld", (long long)B->cells[c].events.v);
			fprintf(fp, " | %lld | %lld | %s |\n", (long long)B->cells[c].hits.v, (long long)B->cells[c].participants,
				cs__tlp_name(B->cells[c].tlp));
		}
		if (bd < CS__B_CATEGORY)
			fprintf(fp, "| **total shown** | %lld | %lld | | |\n", (long long)B->total_events, (long long)B->total_hits);
		else
			fprintf(fp, "| **total shown** | %lld | | |\n", (long long)B->total_hits);
		if (B->cnt > B->shown)
			fprintf(fp, "\n%zu cells withheld (fewer than %d participants each, or needed to protect one that "
				    "was); not counted in the total.\n", B->cnt - B->shown, ed->o.k);
	}
	fprintf(fp, "\n## State per category (MISP `nis` taxonomy)\n\n| category | impact severity | outlook |\n|---|---|---|\n");
	for (size_t c = 0; c < ed->bd[CS__B_CATEGORY].shown; c++) {
		const cs__cell_t *x = &ed->bd[CS__B_CATEGORY].cells[c];
		const char *out = cs__nis_outlook(x);
		fprintf(fp, "| ");
		cs__md(fp, x->key);
		fprintf(fp, " | %s | %s |\n", cs__nis_impact(ed, x), out ? out : "withheld");
	}
	fprintf(fp, "\n## Data quality\n");
	cs__md_named(fp, "rejected: reason", "events", ed->reasons, ed->reason_cnt);
	cs__md_named(fp, "suppressed: warning list", "hits", ed->lists, ed->list_cnt);
	fprintf(fp, "\n## Participants\n\n");
	if (ed->inv_withheld) {
		fprintf(fp, "Withheld: the inventory names participants, which %s editions do not.\n",
			cs__tlp_upper(ed->o.audience));
	} else {
		fprintf(fp, "| participant | kind | member state | sector | formats | events | per day | indicators shared | "
			    "last event | silent | TLP |\n|---|---|---|---|---|---:|---:|---:|---|---|---|\n");
		for (size_t i = 0; i < ed->inv_cnt; i++) {
			const cs__inv_t *x = &ed->inv[i];
			fprintf(fp, "| ");
			cs__md(fp, x->id);
			fprintf(fp, " | ");
			cs__md(fp, x->p->kind);
			fprintf(fp, " | ");
			cs__md(fp, x->p->ms);
			fprintf(fp, " | ");
			cs__md(fp, x->p->sector);
			fprintf(fp, " | ");
			cs__md(fp, x->formats);
			fprintf(fp, " | %lld | %.1f | %lld | %s | %s | %s |\n", (long long)x->events, x->per_day,
				(long long)x->indicators_shared, x->p->last_event >= 0 ? cs__iso(x->p->last_event, a, sizeof(a)) : "never",
				x->silent ? "**SILENT**" : "", cs__tlp_name(x->tlp));
		}
	}
	fprintf(fp, "\n**%s**\n", label);
}

/* ---- HTML ---- */

static void cs__h(FILE *fp, const char *v) {
	for (; *v; v++) {
		switch (*v) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc((unsigned char)*v < 0x20 ? ' ' : *v, fp);
		}
	}
}

static void cs__h_defanged(FILE *fp, const char *v) {
	char buf[3 * 4096 + 16];
	cs__h(fp, cs_report_defang(v, buf, sizeof(buf)));
}

/* TLP 2.0's colours: the label on black */
static const char *cs__tlp_color(int tlp) {
	static const char *const c[] = {"#FFFFFF", "#33FF00", "#FFC000", "#FFC000", "#FF2B2B"};
	return c[tlp < 0 ? 0 : tlp];
}

/* A bar chart of v[0..nb) per bucket: id, what a bar counts ("hits"), its colour and height. */
static void cs__svg_series(FILE *fp, const cs_report_ed_t *ed, const int64_t *v, const char *id, const char *unit,
			 const char *color, int H) {
	const cs_report_sit_t *s = ed->s;
	const int W = 900, L = 60, B = 30;
	int64_t max = 1;
	double bw;
	char a[32];
	for (int64_t i = 0; i < s->nb; i++)
		if (v[i] > max)
			max = v[i];
	bw = (double)(W - L - 10) / (double)s->nb;
	fprintf(fp, "<svg class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
		    "aria-label=\"%s per %s\">\n", id, W, H, W, H, unit, s->tier == 86400 ? "day" : "hour");
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n", L, H - B, W - 10, H - B);
	fprintf(fp, "<text x=\"%d\" y=\"14\" font-size=\"11\" text-anchor=\"end\">%lld</text>\n", L - 4, (long long)max);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n", L - 4, H - B);
	for (int64_t i = 0; i < s->nb; i++) {
		double h = (double)(H - B - 10) * (double)v[i] / (double)max;
		fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %lld %s</title></rect>\n",
			L + i * bw, (double)(H - B) - h, bw > 2 ? bw - 1 : bw, h, color,
			cs__iso(s->from + i * s->tier, a, sizeof(a)), (long long)v[i], unit);
	}
	for (int64_t i = 0; i < s->nb; i += (s->nb + 5) / 6) {
		cs__iso(s->from + i * s->tier, a, sizeof(a));
		a[s->tier == 86400 ? 10 : 16] = '\0';
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n", L + i * bw, H - 10, a);
	}
	fputs("</svg>\n", fp);
}

static void cs__svg_timeline(FILE *fp, const cs_report_ed_t *ed) {
	cs__svg_series(fp, ed, ed->tl_hits, "timeline", "hits", "#2b6cb0", 220);
}

static void cs__svg_spark(FILE *fp, const int64_t *v, int64_t n) {
	const int W = 120, H = 24;
	int64_t max = 1;
	for (int64_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(fp, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><polyline fill=\"none\" "
		    "stroke=\"#2b6cb0\" stroke-width=\"1.5\" points=\"", W, H, W, H);
	for (int64_t i = 0; i < n; i++)
		fprintf(fp, "%.1f,%.1f ", n > 1 ? (double)W * (double)i / (double)(n - 1) : 0.0,
			(double)H - 2 - (double)(H - 4) * (double)v[i] / (double)max);
	fputs("\"/></svg>", fp);
}

static void cs__svg_bars(FILE *fp, const cs__breakdown_t *B, int bd) {
	const int W = 420, row = 18;
	int64_t max = 1;
	size_t n = B->shown < 12 ? B->shown : 12;
	for (size_t c = 0; c < n; c++) {
		int64_t v = bd < CS__B_CATEGORY ? B->cells[c].events.v + B->cells[c].hits.v : B->cells[c].hits.v;
		if (v > max)
			max = v;
	}
	fprintf(fp, "<svg class=\"chart bars\" width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\">\n", W, n * row + 4, W,
		n * row + 4);
	for (size_t c = 0; c < n; c++) {
		int64_t v = bd < CS__B_CATEGORY ? B->cells[c].events.v + B->cells[c].hits.v : B->cells[c].hits.v;
		fprintf(fp, "<text x=\"0\" y=\"%zu\" font-size=\"11\">", c * row + 13);
		cs__h(fp, B->cells[c].key);
		fprintf(fp, "</text><rect x=\"150\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"#4a5568\"/>\n", c * row + 3,
			1 + 260.0 * (double)v / (double)max, row - 5);
	}
	fputs("</svg>\n", fp);
}

/* A table of named counts (data quality). */
static void cs__h_named(FILE *fp, const char *id, const char *what, const char *unit, const cs__named_t *v, size_t n) {
	fprintf(fp, "<table id=\"%s\"><tr><th>%s</th><th>%s</th><th>TLP</th></tr>\n", id, what, unit);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", fp);
		cs__h(fp, v[i].name);
		fprintf(fp, "</td><td class=\"n\">%lld</td><td>%s</td></tr>\n", (long long)v[i].fig.v, cs__tlp_upper(v[i].fig.tlp));
	}
	fputs("</table>\n", fp);
}

void cs_report_ed_html(const cs_report_ed_t *ed, FILE *fp) {
	const cs_report_sit_t *s = ed->s;
	char a[32], b[32];
	const char *label = cs__tlp_upper(ed->tlp);

	fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
		    "<meta name=\"tlp\" content=\"%s\">\n<title>%s ", label, label);
	cs__h(fp, ed->o.title);
	fprintf(fp, "</title>\n<style>\n"
		    "body{font-family:sans-serif;margin:3.2em 2em;color:#111;font-size:14px}\n"
		    ".tlp{position:fixed;right:1.5em;background:#000;color:%s;font-weight:bold;padding:.2em .6em;"
		    "font-family:monospace;font-size:13px;z-index:9}\n"
		    ".tlp.top{top:.4em}.tlp.bottom{bottom:.4em}\n"
		    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
		    "td.n{text-align:right}\nh1{font-size:1.6em}h2{border-bottom:2px solid #2b6cb0;margin-top:1.6em}"
		    ".muted{color:#555}.silent{color:#b00;font-weight:bold}\n"
		    ".cards{display:flex;flex-wrap:wrap;gap:.6em}.card{border:1px solid #ccc;padding:.5em .8em;min-width:11em}"
		    ".card b{font-size:1.4em;display:block}\n"
		    "@media print{body{margin:2.5em 1em}h2{page-break-after:avoid}table,svg{page-break-inside:avoid}}\n"
		    "</style></head><body>\n", cs__tlp_color(ed->tlp));
	fprintf(fp, "<div class=\"tlp top\" id=\"tlp-header\">%s</div>\n<div class=\"tlp bottom\" id=\"tlp-footer\">%s</div>\n",
		label, label);
	fputs("<h1>", fp);
	cs__h(fp, ed->o.title);
	fprintf(fp, "</h1>\n<p class=\"muted\">Period %s to %s, compared with the period of the same length before it. "
		    "Edition for %s", cs__iso(s->from, a, sizeof(a)), cs__iso(s->to, b, sizeof(b)), cs__tlp_upper(ed->o.audience));
	if (ed->o.org) {
		fputs(", organization ", fp);
		cs__h(fp, ed->o.org);
	}
	fprintf(fp, "; generated %s. Every figure counts only what this audience may see.</p>\n",
		cs__iso(ed->o.now, a, sizeof(a)));

	fputs("<h2>Headline</h2>\n<div class=\"cards\">\n", fp);
	for (int h = 0; h < CS__H__CNT; h++) {
		char dl[32];
		fprintf(fp, "<div class=\"card\" id=\"h-%s\"><b>%lld</b>%s<br><span class=\"muted\">before: %lld (%s) &middot; %s</span></div>\n",
			cs__headline_names[h], (long long)ed->head[h].v, cs__headline_labels[h], (long long)ed->prev[h].v,
			cs__delta(ed->head[h].v, ed->prev[h].v, dl, sizeof(dl)),
			cs__tlp_upper(ed->head[h].tlp > ed->prev[h].tlp ? ed->head[h].tlp : ed->prev[h].tlp));
	}
	fprintf(fp, "<div class=\"card\" id=\"h-escalations\"><b>%zu</b>Escalations<br><span class=\"muted\">%s</span></div>\n</div>\n",
		ed->esc_cnt, cs__tlp_upper(ed->esc_tlp));
	if (ed->esc_cnt) {
		fprintf(fp, "<h2>Escalations</h2>\n<p class=\"muted\">One campaign hitting several member states or "
			    "organizations, raised per %s (UTC), %s</p>\n", s->tier == 86400 ? "day" : "hour",
			cs__tlp_upper(ed->esc_tlp));
		cs__svg_series(fp, ed, ed->tl_esc, "escalation-timeline", "escalations", "#c05621", 120);
		fputs("<table id=\"escalations\"><tr><th>last seen</th><th>indicator</th><th>rules</th><th>raised for</th>"
		      "<th>member states</th><th>participants</th><th>sectors</th><th>hits</th><th>TLP</th></tr>\n", fp);
		for (size_t i = 0; i < ed->esc_cnt; i++) {
			const cs__esc_t *e = ed->esc[i];
			int wh = ed->esc_states_withheld[i];
			fprintf(fp, "<tr><td>%s</td><td><code>", cs__iso(e->last, a, sizeof(a)));
			cs__h_defanged(fp, e->value);
			fputs("</code></td><td>", fp);
			cs__h(fp, e->rules);
			fputs("</td><td>", fp);
			cs__h(fp, e->reason);
			fprintf(fp, " (#%d)</td><td>", e->seq);
			cs__h(fp, wh ? "withheld (< k participants)" : e->states);
			fprintf(fp, "</td><td>%lld</td><td>", (long long)e->participants);
			cs__h(fp, wh ? "withheld" : e->sectors);
			fprintf(fp, "</td><td>%lld</td><td>%s</td></tr>\n", (long long)e->hits, cs__tlp_upper((int)e->tlp));
		}
		fputs("</table>\n", fp);
	}

	fprintf(fp, "<h2>Activity</h2>\n<p class=\"muted\">Hits per %s (UTC), %s</p>\n", s->tier == 86400 ? "day" : "hour",
		cs__tlp_upper(ed->tl_tlp));
	cs__svg_timeline(fp, ed);

	fputs("<h2>Top indicators</h2>\n<table id=\"top\"><tr><th>#</th><th>indicator</th><th>type</th><th>source</th>"
	      "<th>conf.</th><th>tags</th><th>hits</th><th>participants</th><th>member states</th><th>first seen</th>"
	      "<th>last seen</th><th>trend</th><th>TLP</th></tr>\n", fp);
	for (size_t r = 0; r < ed->top_cnt; r++) {
		const cs__row_t *x = &ed->top[r];
		fprintf(fp, "<tr><td class=\"n\">%zu</td><td><code>", r + 1);
		cs__h_defanged(fp, x->value);
		fputs("</code>", fp);
		if (x->isnew)
			fputs(" <b>new</b>", fp);
		fputs("</td><td>", fp);
		cs__h(fp, x->type ? x->type : "");
		fputs("</td><td>", fp);
		cs__h(fp, x->source ? x->source : "");
		if (x->confidence >= 0)
			fprintf(fp, "</td><td class=\"n\">%d</td><td>", x->confidence);
		else
			fputs("</td><td></td><td>", fp);
		cs__h(fp, x->tags ? x->tags : "");
		fprintf(fp, "</td><td class=\"n\">%lld</td>", (long long)x->hits);
		if (x->participants_withheld)
			fprintf(fp, "<td>&lt; %d</td><td class=\"muted\">withheld</td>", ed->o.k);
		else {
			fprintf(fp, "<td class=\"n\">%lld</td><td>", (long long)x->participants);
			cs__h(fp, x->states ? x->states : "");
			fputs("</td>", fp);
		}
		fprintf(fp, "<td>%s</td><td>%s</td><td>", x->first_seen >= 0 ? cs__iso(x->first_seen, a, sizeof(a)) : "",
			x->last_seen >= 0 ? cs__iso(x->last_seen, b, sizeof(b)) : "");
		cs__svg_spark(fp, x->spark, s->nb);
		fprintf(fp, "</td><td>%s</td></tr>\n", cs__tlp_upper(x->tlp));
	}
	fprintf(fp, "</table>\n<p>New indicators: <b>%lld</b>; recurring: <b>%lld</b>.</p>\n",
		(long long)ed->head[CS__H_NEW].v, (long long)ed->recurring);

	for (int bd = 0; bd < CS__B__CNT; bd++) {
		const cs__breakdown_t *B = &ed->bd[bd];
		fprintf(fp, "<h2>By %s</h2>\n", cs__breakdown_labels[bd]);
		if (B->shown)
			cs__svg_bars(fp, B, bd);
		fprintf(fp, "<table id=\"bd-%s\"><tr><th>%s</th>%s<th>hits</th><th>participants</th><th>TLP</th></tr>\n",
			cs__breakdown_names[bd], cs__breakdown_labels[bd], bd < CS__B_CATEGORY ? "<th>events</th>" : "");
		for (size_t c = 0; c < B->shown; c++) {
			fputs("<tr><td>", fp);
			cs__h(fp, B->cells[c].key);
			fputs("</td>", fp);
			if (bd < CS__B_CATEGORY)
				fprintf(fp, "<td class=\"n\">%lld</td>", (long long)B->cells[c].events.v);
			fprintf(fp, "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td>%s</td></tr>\n",
				(long long)B->cells[c].hits.v, (long long)B->cells[c].participants, cs__tlp_upper(B->cells[c].tlp));
		}
		fputs("<tr><th>total shown</th>", fp);
		if (bd < CS__B_CATEGORY)
			fprintf(fp, "<th class=\"n\">%lld</th>", (long long)B->total_events);
		fprintf(fp, "<th class=\"n\">%lld</th><th></th><th></th></tr></table>\n", (long long)B->total_hits);
		if (B->cnt > B->shown)
			fprintf(fp, "<p class=\"muted\">%zu cells withheld (fewer than %d participants each, or needed to "
				    "protect one that was); not in the total.</p>\n", B->cnt - B->shown, ed->o.k);
	}
	fputs("<h2>State per category</h2>\n<p class=\"muted\">In the words of the MISP <code>nis</code> taxonomy "
	      "(impact severity, outlook).</p>\n<table id=\"nis\"><tr><th>category</th><th>impact severity</th>"
	      "<th>outlook</th></tr>\n", fp);
	for (size_t c = 0; c < ed->bd[CS__B_CATEGORY].shown; c++) {
		const cs__cell_t *x = &ed->bd[CS__B_CATEGORY].cells[c];
		const char *out = cs__nis_outlook(x);
		fputs("<tr><td>", fp);
		cs__h(fp, x->key);
		fprintf(fp, "</td><td>nis:impact-severity=\"%s\"</td><td>%s%s%s</td></tr>\n", cs__nis_impact(ed, x),
			out ? "nis:outlook=\"" : "withheld", out ? out : "", out ? "\"" : "");
	}
	fputs("</table>\n<h2>Data quality</h2>\n", fp);
	cs__h_named(fp, "rejects", "rejected: reason", "events", ed->reasons, ed->reason_cnt);
	cs__h_named(fp, "suppressed", "suppressed: warning list", "hits", ed->lists, ed->list_cnt);
	fputs("<h2>Participants</h2>\n", fp);
	if (ed->inv_withheld) {
		fprintf(fp, "<p class=\"muted\">Withheld: the inventory names participants, which %s editions do not.</p>\n",
			cs__tlp_upper(ed->o.audience));
	} else {
		fputs("<table id=\"inventory\"><tr><th>participant</th><th>kind</th><th>member state</th><th>sector</th>"
		      "<th>formats</th><th>events</th><th>per day</th><th>indicators shared</th><th>last event</th><th>TLP</th></tr>\n", fp);
		for (size_t i = 0; i < ed->inv_cnt; i++) {
			const cs__inv_t *x = &ed->inv[i];
			fprintf(fp, "<tr%s><td>", x->silent ? " class=\"silent\"" : "");
			cs__h(fp, x->id);
			if (*x->p->name) {
				fputs(" (", fp);
				cs__h(fp, x->p->name);
				fputs(")", fp);
			}
			fputs("</td><td>", fp);
			cs__h(fp, x->p->kind);
			fputs("</td><td>", fp);
			cs__h(fp, x->p->ms);
			fputs("</td><td>", fp);
			cs__h(fp, x->p->sector);
			fputs("</td><td>", fp);
			cs__h(fp, x->formats);
			fprintf(fp, "</td><td class=\"n\">%lld</td><td class=\"n\">%.1f</td><td class=\"n\">%lld</td><td>%s%s</td><td>%s</td></tr>\n",
				(long long)x->events, x->per_day, (long long)x->indicators_shared,
				x->p->last_event >= 0 ? cs__iso(x->p->last_event, a, sizeof(a)) : "never",
				x->silent ? " &mdash; SILENT" : "", cs__tlp_upper(x->tlp));
		}
		fputs("</table>\n", fp);
	}
	fprintf(fp, "<p class=\"muted\">%s &middot; cshield %s</p>\n</body></html>\n", label, CS_VERSION_STR);
}
