/*
 * cs_report_ed.c - an edition of a situation for one audience (the rules are
 * in cs_report_sit.h): which counts it may see, every figure computed from
 * those alone and labelled with the strictest TLP among them, small cells
 * withheld in public editions.
 *
 * DESIGN: pure (no I/O), main thread. One pass marks what is visible; every
 * figure is then a sum or a distinct count over visible counts only, so that
 * nothing withheld can reach a total. Distinct counts (participants per cell,
 * per indicator) sort (key, organization) pairs.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cs_report_int.h"
#include "cs_keys.h"

const char *const cs__headline_names[CS__H__CNT] = {
	"events", "hits", "participants", "member_states", "indicators", "new_indicators",
	"rejected", "late", "suppressed", "unregistered_events"};
const char *const cs__headline_labels[CS__H__CNT] = {
	"Events received", "Hits", "Participants reporting", "Member states", "Distinct indicators hit",
	"Indicators hit for the first time", "Rejected events", "Late events", "Hits suppressed by warning lists",
	"Events from unregistered senders"};
const char *const cs__breakdown_names[CS__B__CNT] = {"member_state", "sector", "participant_kind", "category",
						     "severity"};
const char *const cs__breakdown_labels[CS__B__CNT] = {"Member state", "Sector", "Participant kind",
						      "Event category", "Severity"};

const char *cs__tlp_upper(int tlp) {
	static const char *const n[] = {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};
	return tlp >= 0 && tlp < CS_TLP__CNT ? n[tlp] : "TLP:CLEAR";
}

static void cs__fig(cs__fig_t *f, int64_t n, int tlp) {
	f->v += n;
	if (tlp > f->tlp)
		f->tlp = tlp;
}

/* A count the audience may see (cs_report_sit.h). */
static int cs__visible(const cs_report_ed_t *ed, const cs__fact_t *f) {
	if (f->tlp > (int)ed->o.audience)
		return 0;
	if (f->tlp <= CS_TLP_AMBER || ed->is_hub)
		return 1;
	return (long)f->org == ed->org_id && f->itlp <= CS_TLP_AMBER; /* its own; itlp -1: events */
}

int cs__label_visible(const cs_report_ed_t *ed, int tlp) {
	return tlp <= (int)ed->o.audience && (tlp <= CS_TLP_AMBER || ed->is_hub);
}

static const cs__part_t *cs__part(const cs_report_ed_t *ed, uint32_t org) {
	long i = ed->part_of_org[org];
	return i >= 0 ? &ed->s->parts[i] : NULL;
}

/* The participant's member state, sector or kind; "unregistered" and "unknown" for the others. */
static const char *cs__attr(const cs_report_ed_t *ed, uint32_t org, int bd) {
	const cs__part_t *p = cs__part(ed, org);
	if (!p)
		return !strcmp(ed->s->orgs.v[org], CS_KEYS_ORG_UNREGISTERED) ? "unregistered" : "unknown";
	return bd == CS__B_STATE ? p->ms : bd == CS__B_SECTOR ? p->sector : p->kind;
}

static int cs__u64cmp(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and de-duplicates (key << 32 | org) pairs; returns the count left. */
static size_t cs__uniq(uint64_t *v, size_t n) {
	size_t k = 0;
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cs__u64cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

/* distinct (key, organization) pairs: an array, and a hash index so that each is added once */
typedef struct cs__pairs_s {
	uint64_t *v;
	size_t n, cap;
	uint32_t *slots; /* index + 1; 0 free */
	size_t size;
} cs__pairs_t;

static uint64_t cs__mix(uint64_t x) {
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int cs__pair(cs__pairs_t *p, uint32_t key, uint32_t org) {
	uint64_t v = (uint64_t)key << 32 | org;
	size_t j;
	if ((p->n + 1) * 2 > p->size) {
		size_t nsize = p->size ? p->size * 2 : 1024;
		uint32_t *ns = cs_calloc(nsize, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < p->n; i++) {
			for (j = cs__mix(p->v[i]) & (nsize - 1); ns[j]; j = (j + 1) & (nsize - 1))
				;
			ns[j] = (uint32_t)i + 1;
		}
		cs_free(p->slots);
		p->slots = ns;
		p->size = nsize;
	}
	for (j = cs__mix(v) & (p->size - 1); p->slots[j]; j = (j + 1) & (p->size - 1))
		if (p->v[p->slots[j] - 1] == v)
			return 0;
	if (cs_array_reserve(&p->v, &p->cap, p->n + 1, sizeof(*p->v)))
		return -1;
	p->v[p->n++] = v;
	p->slots[j] = (uint32_t)p->n;
	return 0;
}

/* Sorts the pairs (the index no longer applies: dropped). */
static void cs__pairs_sort(cs__pairs_t *p) {
	cs_free(p->slots);
	p->slots = NULL;
	p->size = 0;
	p->n = cs__uniq(p->v, p->n);
}

static void cs__pairs_free(cs__pairs_t *p) {
	cs_free(p->v);
	cs_free(p->slots);
	memset(p, 0, sizeof(*p));
}

/* ---- breakdowns ---- */

typedef struct cs__bdb_s { /* a breakdown being built */
	cs__intern_t keys;
	cs__cell_t *cells;
	size_t cap;
	cs__pairs_t cur, prev; /* (cell, org) of the period and the one before */
	int64_t *prev_parts;
	long *cell_of; /* organization (state, sector, kind) or value (category, severity) -> cell; -1 unknown */
} cs__bdb_t;

static long cs__bdb_cell(cs__bdb_t *b, const char *key) {
	long c = cs__intern(&b->keys, key, strlen(key));
	if (c < 0)
		return -1;
	if ((size_t)c >= b->cap) {
		size_t old = b->cap;
		if (cs_array_reserve(&b->cells, &b->cap, (size_t)c + 1, sizeof(*b->cells)))
			return -1;
		memset(b->cells + old, 0, (b->cap - old) * sizeof(*b->cells));
		for (size_t i = old; i < b->cap; i++)
			b->cells[i].events.tlp = b->cells[i].hits.tlp = b->cells[i].prev_hits.tlp = b->cells[i].tlp = -1;
	}
	return c;
}

static int cs__cell_cmp(const void *a, const void *b) {
	const cs__cell_t *x = a, *y = b;
	if (x->withheld != y->withheld)
		return x->withheld - y->withheld;
	if (x->hits.v != y->hits.v)
		return x->hits.v > y->hits.v ? -1 : 1;
	if (x->events.v != y->events.v)
		return x->events.v > y->events.v ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cs__u32cmp(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct organizations of the withheld cells (scratch: as many slots as pairs). */
static int64_t cs__withheld_orgs(const cs__bdb_t *b, uint32_t *scratch) {
	size_t m = 0, k = 0;
	for (size_t i = 0; i < b->cur.n; i++)
		if (b->cells[b->cur.v[i] >> 32].withheld)
			scratch[m++] = (uint32_t)b->cur.v[i];
	if (m)
		qsort(scratch, m, sizeof(*scratch), cs__u32cmp);
	for (size_t i = 0; i < m; i++)
		if (!i || scratch[i] != scratch[i - 1])
			k++;
	return (int64_t)k;
}

/* Finishes a breakdown: participants per cell, the k rule, order, totals. */
static int cs__bdb_finish(cs_report_ed_t *ed, cs__bdb_t *b, cs__breakdown_t *out) {
	size_t n = b->keys.cnt;
	uint32_t *scratch;
	cs__pairs_sort(&b->cur);
	cs__pairs_sort(&b->prev);
	if (!(b->prev_parts = cs_calloc(n + 1, sizeof(*b->prev_parts))) ||
	    !(scratch = cs_calloc(b->cur.n + 1, sizeof(*scratch))))
		return -1;
	for (size_t i = 0; i < b->cur.n; i++)
		b->cells[b->cur.v[i] >> 32].participants++;
	for (size_t i = 0; i < b->prev.n; i++)
		b->prev_parts[b->prev.v[i] >> 32]++;
	for (size_t c = 0; c < n; c++) {
		b->cells[c].key = b->keys.v[c];
		b->keys.v[c] = NULL; /* taken */
	}
	/* a cell with counts of the period before only is no cell of this period */
	for (size_t c = 0; c < n;) {
		if (b->cells[c].participants) {
			c++;
			continue;
		}
		cs_free(b->cells[c].key);
		b->cells[c] = b->cells[--n];
		b->prev_parts[c] = b->prev_parts[n];
		/* the pairs name cells by index: the moved cell's pairs follow it */
		for (size_t i = 0; i < b->cur.n; i++)
			if (b->cur.v[i] >> 32 == n)
				b->cur.v[i] = (uint64_t)c << 32 | (uint32_t)b->cur.v[i];
	}
	if (ed->o.audience <= CS_TLP_GREEN) {
		int64_t k = ed->o.k, w;
		for (size_t c = 0; c < n; c++) {
			if (b->cells[c].participants < k)
				b->cells[c].withheld = 1;
			if (b->prev_parts[c] < k) /* what it was before came from too few: not shown either */
				b->cells[c].prev_hits.withheld = 1;
		}
		/* no withheld group smaller than k that a total would reveal */
		while ((w = cs__withheld_orgs(b, scratch)) > 0 && w < k) {
			long pick = -1;
			for (size_t c = 0; c < n; c++)
				if (!b->cells[c].withheld &&
				    (pick < 0 || b->cells[c].participants < b->cells[pick].participants ||
				     (b->cells[c].participants == b->cells[pick].participants &&
				      b->cells[c].hits.v + b->cells[c].events.v < b->cells[pick].hits.v + b->cells[pick].events.v)))
					pick = (long)c;
			if (pick < 0)
				break;
			b->cells[pick].withheld = 1;
		}
	}
	cs_free(scratch);
	if (n)
		qsort(b->cells, n, sizeof(*b->cells), cs__cell_cmp);
	out->cells = b->cells;
	out->cnt = n;
	out->tlp = -1;
	b->cells = NULL;
	for (size_t c = 0; c < n; c++) {
		cs__cell_t *x = &out->cells[c];
		if (x->withheld) {
			ed->withheld_cells++;
			continue;
		}
		out->shown++;
		out->total_events += x->events.v;
		out->total_hits += x->hits.v;
		if (x->tlp > out->tlp)
			out->tlp = x->tlp;
	}
	return 0;
}

static void cs__bdb_free(cs__bdb_t *b) {
	cs__intern_free(&b->keys);
	cs_free(b->cells);
	cs__pairs_free(&b->cur);
	cs__pairs_free(&b->prev);
	cs_free(b->prev_parts);
	cs_free(b->cell_of);
}

int cs__nis_tlp(const cs__cell_t *c) {
	return !c->prev_hits.withheld && c->prev_hits.tlp > c->tlp ? c->prev_hits.tlp : c->tlp;
}

/* a > b + c, for any 64-bit values (b + c may leave the range: counts from Redis are not trusted) */
static int cs__gt_sum(int64_t a, int64_t b, int64_t c) {
	int64_t sum;
	if (__builtin_add_overflow(b, c, &sum))
		return c < 0; /* below the range: a is greater; above it: a is not */
	return a > sum;
}

const char *cs__nis_outlook(const cs__cell_t *c) {
	int64_t now = c->hits.v, before = c->prev_hits.v;
	if (c->prev_hits.withheld)
		return NULL;
	/* now > before + before / 4 and now - before >= 2 */
	if (cs__gt_sum(now, before, before / 4) && cs__gt_sum(now, before, 1))
		return "worsening";
	/* now < before - before / 5 and before - now >= 2 */
	if (cs__gt_sum(before, now, before / 5) && cs__gt_sum(before, now, 1))
		return "improving";
	return "stable";
}

/* red: from several member states and at least k participants; yellow: several participants or states; green: hits; white: none */
const char *cs__nis_impact(const cs_report_ed_t *ed, const cs__cell_t *c) {
	if (!c->hits.v)
		return "white";
	if (c->events.v >= 2 && c->participants >= ed->o.k) /* events.v holds the member states here */
		return "red";
	if (c->participants >= 2 || c->events.v >= 2)
		return "yellow";
	return "green";
}

/* ---- top indicators ---- */
static int cs__row_cmp(const void *a, const void *b) {
	const cs__row_t *x = a, *y = b;
	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	return strcmp(x->value, y->value);
}

static int cs__str_cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The comma-separated distinct member states of the registered organizations of pairs[lo..hi) (org in the low 32 bits). */
static char *cs__states(const cs_report_ed_t *ed, const uint64_t *pairs, size_t lo, size_t hi, int64_t *cnt) {
	const char **v = cs_calloc(hi - lo + 1, sizeof(*v));
	size_t n = 0, len = 1, k = 0;
	char *out, *o;
	if (!v)
		return NULL;
	for (size_t i = lo; i < hi; i++)
		if (cs__part(ed, (uint32_t)pairs[i])) /* unregistered senders are in no known member state */
			v[n++] = cs__attr(ed, (uint32_t)pairs[i], CS__B_STATE);
	qsort(v, n, sizeof(*v), cs__str_cmp);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if (!(out = o = cs_malloc(len))) {
		cs_free(v);
		return NULL;
	}
	*o = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		o += sprintf(o, "%s%s", k++ ? "," : "", v[i]);
	}
	*cnt = (int64_t)k;
	cs_free(v);
	return out;
}

/* An indicator source or a participant's name, lower-cased into buf (sources name participants in any case). */
static const char *cs__lower(const char *v, char *buf, size_t size) {
	size_t i = 0;
	for (; v[i] && i + 1 < size; i++)
		buf[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
	buf[i] = '\0';
	return buf;
}

/* The inventory: one pass over the counts, one over the indicators. -1 on out of memory. */
static int cs__inventory(cs_report_ed_t *ed) {
	const cs_report_sit_t *s = ed->s;
	const int64_t nb = s->nb;
	double days = (double)(s->to - s->from) / 86400.0;
	long *inv_of = cs_calloc(s->orgs.cnt + 1, sizeof(*inv_of));
	int64_t *shared = NULL;
	cs__intern_t srcs = {0};
	cs__pairs_t fmts = {0};
	char lb[512];
	int rc = -1;

	if (!inv_of || !(ed->inv = cs_calloc(s->part_cnt, sizeof(*ed->inv))))
		goto out;
	for (size_t i = 0; i < s->orgs.cnt; i++)
		inv_of[i] = -1;
	for (size_t i = 0; i < s->part_cnt; i++) {
		const cs__part_t *p = &s->parts[i];
		cs__inv_t *x;
		if (!cs__label_visible(ed, p->tlp) && !((long)p->org == ed->org_id && p->tlp <= ed->o.audience))
			continue;
		inv_of[p->org] = (long)ed->inv_cnt;
		x = &ed->inv[ed->inv_cnt++];
		x->p = p;
		x->id = s->orgs.v[p->org];
		x->tlp = p->tlp;
		x->silent = p->last_event < 0 || ed->o.now - p->last_event > ed->o.silent_s;
	}
	for (size_t j = 0; j < s->cnt; j++) {
		const cs__fact_t *f = &s->facts[j];
		cs__inv_t *x;
		if (!ed->vis[j] || f->b < nb || inv_of[f->org] < 0)
			continue;
		x = &ed->inv[inv_of[f->org]];
		if (f->what == CS__R_EV || f->what == CS__R_REJ)
			x->events += f->n;
		if (f->what == CS__R_FMT && cs__pair(&fmts, (uint32_t)inv_of[f->org], f->val))
			goto out;
		if (f->tlp > x->tlp)
			x->tlp = f->tlp;
	}
	/* formats seen: (row, format) pairs, sorted */
	cs__pairs_sort(&fmts);
	for (size_t lo = 0, hi; lo <= fmts.n; lo = hi) {
		size_t len = 1, row = lo < fmts.n ? (size_t)(fmts.v[lo] >> 32) : 0;
		char *o;
		for (hi = lo; hi < fmts.n && fmts.v[hi] >> 32 == fmts.v[lo] >> 32; hi++)
			len += strlen(s->vals.v[(uint32_t)fmts.v[hi]]) + 1;
		if (lo == fmts.n)
			break;
		if (!(o = ed->inv[row].formats = cs_calloc(len, 1)))
			goto out;
		for (size_t k = lo; k < hi; k++)
			o += sprintf(o, "%s%s", k > lo ? "," : "", s->vals.v[(uint32_t)fmts.v[k]]);
	}
	/* indicators shared: hit indicators whose source names the participant (id or name, any case) */
	if (!(shared = cs_calloc(s->ind_cnt + 1, sizeof(*shared))))
		goto out;
	for (size_t d = 0; d < s->ind_cnt; d++) {
		long k;
		if (!cs__label_visible(ed, s->inds[d].tlp) || !*s->inds[d].source)
			continue;
		cs__lower(s->inds[d].source, lb, sizeof(lb));
		if ((k = cs__intern(&srcs, lb, strlen(lb))) < 0)
			goto out;
		shared[k]++;
	}
	for (size_t i = 0; i < ed->inv_cnt; i++) {
		cs__inv_t *x = &ed->inv[i];
		long k = cs__intern_find(&srcs, cs__lower(x->id, lb, sizeof(lb)));
		long kn = *x->p->name ? cs__intern_find(&srcs, cs__lower(x->p->name, lb, sizeof(lb))) : -1;
		x->indicators_shared = (k >= 0 ? shared[k] : 0) + (kn >= 0 && kn != k ? shared[kn] : 0);
		x->per_day = days > 0 ? (double)x->events / days : 0;
		if (!x->formats && !(x->formats = cs_calloc(1, 1)))
			goto out;
	}
	rc = 0;
out:
	cs_free(inv_of);
	cs_free(shared);
	cs__pairs_free(&fmts);
	cs__intern_free(&srcs);
	return rc;
}

/* ---- the edition ---- */

cs_report_ed_t *cs_report_ed_new(const cs_report_sit_t *s, const cs_report_ed_opts_t *opts, char *errstr,
				 size_t errstr_size) {
	cs_report_ed_t *ed = cs_calloc(1, sizeof(*ed));
	const int64_t nb = s->nb;
	cs__bdb_t bdb[CS__B__CNT];
	cs__pairs_t active[2] = {{0}}, indorg = {0};
	int64_t *hits_of = NULL, *qsum[2] = {NULL, NULL}; /* per value: rejected by reason, suppressed by list */
	int *qtlp[2] = {NULL, NULL};
	long *top_of = NULL;
	uint32_t *seen_v = NULL;

	memset(bdb, 0, sizeof(bdb));
	if (!ed)
		goto nomem;
	ed->s = s;
	ed->o = *opts;
	if (!ed->o.hub || !*ed->o.hub)
		ed->o.hub = "hub";
	if (!ed->o.title || !*ed->o.title)
		ed->o.title = "Cyber Shield situation report";
	if (ed->o.k <= 0)
		ed->o.k = 3;
	if (ed->o.top <= 0)
		ed->o.top = 20;
	if (ed->o.silent_s <= 0)
		ed->o.silent_s = 86400;
	if (ed->o.audience >= CS_TLP_AMBER_STRICT && (!ed->o.org || !*ed->o.org)) {
		cs_errstr_set(errstr, errstr_size, "a %s edition is for one organization: name it (--org)",
			      cs__tlp_upper(ed->o.audience));
		cs_free(ed);
		return NULL;
	}
	if (ed->o.audience < CS_TLP_AMBER_STRICT)
		ed->o.org = NULL; /* an edition for everyone at that label */
	ed->is_hub = ed->o.org && !strcmp(ed->o.org, ed->o.hub);
	ed->org_id = ed->o.org ? cs__intern_find(&s->orgs, ed->o.org) : -1;
	ed->tl_tlp = -1;
	for (int h = 0; h < CS__H__CNT; h++)
		ed->head[h].tlp = ed->prev[h].tlp = -1;
	if (!(ed->part_of_org = cs_calloc(s->orgs.cnt + 1, sizeof(long))) ||
	    !(ed->ind_of_val = cs_calloc(s->vals.cnt + 1, sizeof(long))) || !(ed->vis = cs_calloc(s->cnt + 1, 1)) ||
	    !(ed->tl_hits = cs_calloc((size_t)nb + 1, sizeof(int64_t))) ||
	    !(ed->tl_events = cs_calloc((size_t)nb + 1, sizeof(int64_t))) ||
	    !(hits_of = cs_calloc(s->vals.cnt + 1, sizeof(*hits_of))) ||
	    !(qsum[0] = cs_calloc(s->vals.cnt + 1, sizeof(int64_t))) ||
	    !(qsum[1] = cs_calloc(s->vals.cnt + 1, sizeof(int64_t))) ||
	    !(qtlp[0] = cs_calloc(s->vals.cnt + 1, sizeof(int))) || !(qtlp[1] = cs_calloc(s->vals.cnt + 1, sizeof(int))) ||
	    !(top_of = cs_calloc(s->vals.cnt + 1, sizeof(*top_of))) ||
	    !(seen_v = cs_calloc(s->vals.cnt + 1, sizeof(*seen_v))))
		goto nomem;
	for (size_t i = 0; i < s->orgs.cnt; i++)
		ed->part_of_org[i] = -1;
	for (size_t i = 0; i < s->vals.cnt; i++)
		ed->ind_of_val[i] = top_of[i] = -1, qtlp[0][i] = qtlp[1][i] = -1;
	for (size_t i = 0; i < s->part_cnt; i++)
		ed->part_of_org[s->parts[i].org] = (long)i;
	for (size_t i = 0; i < s->ind_cnt; i++)
		ed->ind_of_val[s->inds[i].val] = (long)i;

	/* 1. what may be seen, and the sums */
	for (size_t i = 0; i < s->cnt; i++) {
		const cs__fact_t *f = &s->facts[i];
		int cur = f->b >= nb;
		cs__fig_t *H = cur ? ed->head : ed->prev;
		int unreg = !strcmp(s->orgs.v[f->org], CS_KEYS_ORG_UNREGISTERED);
		if (!(ed->vis[i] = (char)cs__visible(ed, f)))
			continue;
		switch (f->what) {
		case CS__R_EV:
		case CS__R_REJ:
			cs__fig(&H[CS__H_EVENTS], f->n, f->tlp);
			if (unreg)
				cs__fig(&H[CS__H_UNREGISTERED], f->n, f->tlp);
			if (cs__part(ed, f->org) && cs__pair(&active[cur], 0, f->org))
				goto nomem;
			if (f->what == CS__R_REJ) {
				cs__fig(&H[CS__H_REJECTED], f->n, f->tlp);
				if (cur) {
					qsum[0][f->val] += f->n;
					if (f->tlp > qtlp[0][f->val])
						qtlp[0][f->val] = f->tlp;
				}
			} else if (cur) {
				ed->tl_events[f->b - nb] += f->n;
				if (f->tlp > ed->tl_tlp)
					ed->tl_tlp = f->tlp;
			}
			break;
		case CS__R_LATE:
			cs__fig(&H[CS__H_LATE], f->n, f->tlp);
			break;
		case CS__R_SUP:
			cs__fig(&H[CS__H_SUPPRESSED], f->n, f->tlp);
			if (cur) {
				qsum[1][f->val] += f->n;
				if (f->tlp > qtlp[1][f->val])
					qtlp[1][f->val] = f->tlp;
			}
			break;
		case CS__R_IND:
			cs__fig(&H[CS__H_HITS], f->n, f->tlp);
			if (cs__part(ed, f->org) && cs__pair(&active[cur], 0, f->org))
				goto nomem;
			if (cur) {
				hits_of[f->val] += f->n;
				ed->tl_hits[f->b - nb] += f->n;
				if (f->tlp > ed->tl_tlp)
					ed->tl_tlp = f->tlp;
				if (cs__pair(&indorg, f->val, f->org))
					goto nomem;
			}
			/* distinct indicators, and those hit for the first time */
			if (!(seen_v[f->val] & (cur ? 1u : 2u))) {
				long d = ed->ind_of_val[f->val];
				int64_t first = -1;
				int ft = -1;
				seen_v[f->val] |= cur ? 1u : 2u;
				H[CS__H_INDICATORS].v++;
				if (d >= 0)
					for (int t = 0; t < CS_TLP__CNT; t++)
						if (cs__label_visible(ed, t) && s->inds[d].first[t] >= 0 &&
						    (first < 0 || s->inds[d].first[t] < first))
							first = s->inds[d].first[t], ft = t;
				if (first >= 0 && first >= (cur ? s->from : 2 * s->from - s->to)) {
					H[CS__H_NEW].v++;
					if (ft > H[CS__H_NEW].tlp)
						H[CS__H_NEW].tlp = ft;
				} else if (cur && first >= 0) {
					ed->recurring++;
				}
			}
			if (f->tlp > H[CS__H_INDICATORS].tlp)
				H[CS__H_INDICATORS].tlp = f->tlp;
			if (f->tlp > H[CS__H_NEW].tlp && H[CS__H_NEW].v)
				H[CS__H_NEW].tlp = f->tlp;
			break;
		default:
			break;
		}
	}
	/* participants and member states: distinct organizations with visible events or hits */
	for (int p = 0; p < 2; p++) {
		cs__fig_t *H = p ? ed->head : ed->prev;
		size_t n;
		cs__pairs_sort(&active[p]);
		n = active[p].n;
		const char **ms = cs_calloc(n + 1, sizeof(*ms));
		if (!ms)
			goto nomem;
		H[CS__H_PARTICIPANTS].v = (int64_t)n;
		for (size_t i = 0; i < n; i++)
			ms[i] = cs__part(ed, (uint32_t)active[p].v[i])->ms;
		if (n)
			qsort(ms, n, sizeof(*ms), cs__str_cmp);
		for (size_t i = 0; i < n; i++)
			if (!i || strcmp(ms[i], ms[i - 1]))
				H[CS__H_STATES].v++;
		cs_free(ms);
		/* computed from the events and hits counted */
		H[CS__H_PARTICIPANTS].tlp = H[CS__H_STATES].tlp =
			H[CS__H_EVENTS].tlp > H[CS__H_HITS].tlp ? H[CS__H_EVENTS].tlp : H[CS__H_HITS].tlp;
	}

	/* 2. breakdowns */
	for (int bd = 0; bd < CS__B__CNT; bd++) {
		size_t n = bd <= CS__B_KIND ? s->orgs.cnt : s->vals.cnt;
		if (!(bdb[bd].cell_of = cs_calloc(n + 1, sizeof(long))))
			goto nomem;
		for (size_t i = 0; i < n; i++)
			bdb[bd].cell_of[i] = -1;
	}
	for (size_t i = 0; i < s->cnt; i++) {
		const cs__fact_t *f = &s->facts[i];
		int cur = f->b >= nb;
		if (!ed->vis[i])
			continue;
		if (f->what == CS__R_EV || f->what == CS__R_REJ || f->what == CS__R_IND) {
			for (int bd = CS__B_STATE; bd <= CS__B_KIND; bd++) {
				long c = bdb[bd].cell_of[f->org];
				cs__cell_t *x;
				if (c < 0 && (c = bdb[bd].cell_of[f->org] = cs__bdb_cell(&bdb[bd], cs__attr(ed, f->org, bd))) < 0)
					goto nomem;
				x = &bdb[bd].cells[c];
				if (!cur) {
					if (f->what == CS__R_IND)
						cs__fig(&x->prev_hits, f->n, f->tlp);
					if (cs__pair(&bdb[bd].prev, (uint32_t)c, f->org))
						goto nomem;
					continue;
				}
				cs__fig(f->what == CS__R_IND ? &x->hits : &x->events, f->n, f->tlp);
				if (f->tlp > x->tlp)
					x->tlp = f->tlp;
				if (cs__pair(&bdb[bd].cur, (uint32_t)c, f->org))
					goto nomem;
			}
		} else if (f->what == CS__R_CAT || f->what == CS__R_SEV) {
			int bd = f->what == CS__R_CAT ? CS__B_CATEGORY : CS__B_SEVERITY;
			long c = bdb[bd].cell_of[f->val];
			cs__cell_t *x;
			if (c < 0 && (c = bdb[bd].cell_of[f->val] = cs__bdb_cell(&bdb[bd], s->vals.v[f->val])) < 0)
				goto nomem;
			x = &bdb[bd].cells[c];
			if (!cur) {
				cs__fig(&x->prev_hits, f->n, f->tlp);
				if (cs__pair(&bdb[bd].prev, (uint32_t)c, f->org))
					goto nomem;
				continue;
			}
			cs__fig(&x->hits, f->n, f->tlp);
			if (f->tlp > x->tlp)
				x->tlp = f->tlp;
			if (cs__pair(&bdb[bd].cur, (uint32_t)c, f->org))
				goto nomem;
		}
	}
	for (int bd = 0; bd < CS__B__CNT; bd++) {
		if (bd == CS__B_CATEGORY) {
			/* the nis impact needs member states per category: kept in events.v (categories count no events) */
			cs__pairs_t *p = &bdb[bd].cur;
			size_t n;
			cs__pairs_sort(p);
			n = p->n;
			for (size_t lo = 0; lo < n;) {
				size_t hi = lo;
				int64_t states = 0;
				char *st;
				while (hi < n && p->v[hi] >> 32 == p->v[lo] >> 32)
					hi++;
				if (!(st = cs__states(ed, p->v, lo, hi, &states)))
					goto nomem;
				cs_free(st);
				bdb[bd].cells[p->v[lo] >> 32].events.v = states;
				lo = hi;
			}
		}
		if (cs__bdb_finish(ed, &bdb[bd], &ed->bd[bd]))
			goto nomem;
	}

	/* 3. top indicators: rank by the hits the audience may see */
	{
		size_t cand = 0, n;
		cs__pairs_sort(&indorg);
		n = indorg.n;
		cs__row_t *rows;
		for (size_t v = 0; v < s->vals.cnt; v++)
			cand += hits_of[v] > 0;
		if (!(rows = cs_calloc(cand + 1, sizeof(*rows))))
			goto nomem;
		cand = 0;
		for (size_t v = 0; v < s->vals.cnt; v++) {
			if (hits_of[v] <= 0)
				continue;
			rows[cand].value = s->vals.v[v];
			rows[cand].hits = hits_of[v];
			rows[cand].participants = (int64_t)v; /* the value's index, for now */
			cand++;
		}
		if (cand)
			qsort(rows, cand, sizeof(*rows), cs__row_cmp);
		ed->top_cnt = cand < (size_t)ed->o.top ? cand : (size_t)ed->o.top;
		ed->top = rows;
		for (size_t r = cand; r-- > ed->top_cnt;)
			rows[r] = (cs__row_t){0};
		for (size_t r = 0; r < ed->top_cnt; r++) {
			cs__row_t *x = &rows[r];
			uint32_t v = (uint32_t)x->participants;
			long d = ed->ind_of_val[v];
			size_t lo = 0, hi;
			top_of[v] = (long)r;
			x->tlp = -1;
			x->first_seen = x->last_seen = -1;
			x->confidence = -1;
			if (!(x->spark = cs_calloc((size_t)nb + 1, sizeof(int64_t))))
				goto nomem;
			if (d >= 0) {
				const cs__ind_t *in = &s->inds[d];
				x->type = in->type;
				x->source = in->source;
				x->tags = in->tags;
				x->confidence = in->confidence;
				for (int t = 0; t < CS_TLP__CNT; t++) {
					if (!cs__label_visible(ed, t))
						continue;
					if (in->first[t] >= 0 && (x->first_seen < 0 || in->first[t] < x->first_seen))
						x->first_seen = in->first[t];
					if (in->last[t] > x->last_seen)
						x->last_seen = in->last[t];
				}
				x->isnew = x->first_seen >= s->from;
			}
			/* its organizations: pairs (value, org) sorted */
			{
				size_t a = 0, b = n;
				while (a < b) {
					size_t m = (a + b) / 2;
					if ((indorg.v[m] >> 32) < v)
						a = m + 1;
					else
						b = m;
				}
				lo = a;
			}
			for (hi = lo; hi < n && indorg.v[hi] >> 32 == v; hi++)
				;
			x->participants = (int64_t)(hi - lo);
			if (ed->o.audience <= CS_TLP_GREEN && x->participants < ed->o.k) {
				x->participants_withheld = 1;
			} else {
				int64_t st = 0;
				if (!(x->states = cs__states(ed, indorg.v, lo, hi, &st)))
					goto nomem;
			}
		}
		for (size_t i = 0; i < s->cnt; i++) {
			const cs__fact_t *f = &s->facts[i];
			cs__row_t *x;
			if (!ed->vis[i] || f->what != CS__R_IND || f->b < nb || top_of[f->val] < 0)
				continue;
			x = &rows[top_of[f->val]];
			x->spark[f->b - nb] += f->n;
			if (f->tlp > x->tlp)
				x->tlp = f->tlp;
		}
	}

	/* 4. data quality by reason and by warning list */
	for (int q = 0; q < 2; q++) {
		cs__named_t **arr = q ? &ed->lists : &ed->reasons;
		size_t *cnt = q ? &ed->list_cnt : &ed->reason_cnt;
		for (size_t v = 0; v < s->vals.cnt; v++) {
			cs__named_t *na;
			if (qtlp[q][v] < 0)
				continue;
			if (!(na = cs_realloc(*arr, (*cnt + 1) * sizeof(*na))))
				goto nomem;
			*arr = na;
			na[(*cnt)++] = (cs__named_t){s->vals.v[v], {qsum[q][v], qtlp[q][v], 0}};
		}
	}

	/* 5. the inventory of participants: names them, so never in CLEAR and GREEN editions */
	ed->inv_withheld = ed->o.audience <= CS_TLP_GREEN;
	if (!ed->inv_withheld && s->part_cnt && cs__inventory(ed))
		goto nomem;

	/* 6. the document's label: the strictest figure it holds */
	{
		int t = CS_TLP_CLEAR;
#define CS__MAXT(x) do { if ((x) > t) t = (x); } while (0)
		for (int h = 0; h < CS__H__CNT; h++) {
			CS__MAXT(ed->head[h].tlp);
			CS__MAXT(ed->prev[h].tlp);
		}
		CS__MAXT(ed->tl_tlp);
		for (size_t r = 0; r < ed->top_cnt; r++)
			CS__MAXT(ed->top[r].tlp);
		for (int bd = 0; bd < CS__B__CNT; bd++)
			for (size_t c = 0; c < ed->bd[bd].cnt; c++)
				if (!ed->bd[bd].cells[c].withheld) {
					CS__MAXT(ed->bd[bd].cells[c].tlp);
					if (bd == CS__B_CATEGORY) /* the nis outlook compares with the period before */
						CS__MAXT(cs__nis_tlp(&ed->bd[bd].cells[c]));
				}
		for (size_t r = 0; r < ed->reason_cnt; r++)
			CS__MAXT(ed->reasons[r].fig.tlp);
		for (size_t r = 0; r < ed->list_cnt; r++)
			CS__MAXT(ed->lists[r].fig.tlp);
		for (size_t r = 0; r < ed->inv_cnt; r++)
			CS__MAXT(ed->inv[r].tlp);
		if (cs__ed_escalations(ed))
			goto nomem;
		CS__MAXT(ed->esc_tlp);
#undef CS__MAXT
		ed->tlp = t;
	}
	if (0) {
nomem:
		cs_errstr_set(errstr, errstr_size, "out of memory");
		cs_report_ed_destroy(ed);
		ed = NULL;
	}
	for (int bd = 0; bd < CS__B__CNT; bd++)
		cs__bdb_free(&bdb[bd]);
	cs__pairs_free(&active[0]);
	cs__pairs_free(&active[1]);
	cs__pairs_free(&indorg);
	cs_free(hits_of);
	cs_free(qsum[0]);
	cs_free(qsum[1]);
	cs_free(qtlp[0]);
	cs_free(qtlp[1]);
	cs_free(top_of);
	cs_free(seen_v);
	return ed;
}

cs_tlp_t cs_report_ed_tlp(const cs_report_ed_t *ed) {
	return (cs_tlp_t)ed->tlp;
}

void cs_report_ed_destroy(cs_report_ed_t *ed) {
	if (!ed)
		return;
	for (int bd = 0; bd < CS__B__CNT; bd++) {
		for (size_t c = 0; c < ed->bd[bd].cnt; c++)
			cs_free(ed->bd[bd].cells[c].key);
		cs_free(ed->bd[bd].cells);
	}
	if (ed->top)
		for (size_t r = 0; r < ed->top_cnt; r++) {
			cs_free(ed->top[r].spark);
			cs_free(ed->top[r].states);
		}
	for (size_t r = 0; r < ed->inv_cnt; r++)
		cs_free(ed->inv[r].formats);
	cs_free(ed->inv);
	cs_free(ed->top);
	cs_free(ed->reasons);
	cs_free(ed->lists);
	cs_free(ed->tl_hits);
	cs_free(ed->tl_events);
	cs_free(ed->esc);
	cs_free(ed->esc_states_withheld);
	cs_free(ed->tl_esc);
	cs_free(ed->part_of_org);
	cs_free(ed->ind_of_val);
	cs_free(ed->vis);
	cs_free(ed);
}

char *cs_report_defang(const char *v, char *out, size_t size) {
	size_t o = 0;
	if (!size)
		return out;
	for (size_t i = 0; v[i] && o + 6 < size; i++) {
		if (!strncasecmp(v + i, "http", 4) && (v[i + 4] == ':' || ((v[i + 4] == 's' || v[i + 4] == 'S') && v[i + 5] == ':'))) {
			memcpy(out + o, "hxxp", 4);
			o += 4;
			i += 3;
		} else if (!strncasecmp(v + i, "ftp:", 4)) {
			memcpy(out + o, "fxp", 3);
			o += 3;
			i += 2;
		} else if (v[i] == '.') {
			memcpy(out + o, "[.]", 3);
			o += 3;
		} else if (v[i] == '@') {
			memcpy(out + o, "[@]", 3);
			o += 3;
		} else {
			out[o++] = v[i];
		}
	}
	out[o] = '\0';
	return out;
}
