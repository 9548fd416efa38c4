/*
 * 0018-report-tlp: situation report editions under TLP, against an
 * independent computation.
 *
 * 10,000 random situations (participants in random member states, sectors
 * and kinds under random TLPs, indicators under random TLPs, counts of every
 * kind in both periods), each rendered as JSON for all five audiences (the
 * strict ones for a random participant, or the hub). Each edition is read back
 * and checked against what this test computes on its own from the counts the
 * audience may see: every headline figure, both periods; the timeline; every
 * top indicator, its hits, participants and rank; every breakdown cell shown,
 * its totals; the inventory. And: no figure labelled above the audience, the
 * document labelled with its strictest figure, in CLEAR and GREEN editions no
 * cell under k participants and no withheld group under k that a total would
 * reveal, no withheld cell named. And the edition's sightings (STIX and MISP):
 * exactly one per indicator, bucket and place with the visible hits' sum and
 * strictest label, a participant named only at AMBER and above where the
 * edition may see it, everything else the hub's.
 */
#include <jansson.h>

#include "cs_test.h"
#include "cs_keys.h"
#include "cs_report_sit.h"

#define NB 6     /* buckets per period */
#define T0 1795910400LL /* a day's midnight */
#define TIER 3600
#define MAXF 120
#define MAXP 12

enum { W_EV, W_LATE, W_REJ, W_FMT, W_IND, W_CAT, W_SEV, W_SUP, W__CNT };
static const char *const wcode[W__CNT] = {"ev", "late", "rej", "fmt", "i", "cat", "sev", "sup"};
static const char *const vals[W__CNT][4] = {
	{NULL}, {NULL}, {"syntax", "truncated", "bad_utf8"}, {"eve", "ecs", "cef"},
	{"evil.example.eu", "198.51.100.7", "http://bad.example/x", "d41d8cd98f00b204e9800998ecf8427e"},
	{"Trojan", "Scan", "Phishing"}, {"1", "2", "3"}, {"alexa-top", "rfc1918"}};
static const char *const states[] = {"LU", "DE", "FR", "MT", "EE"};
static const char *const sectors[] = {"energy", "health", "finance"};
static const char *const kinds[] = {"CSIRT", "SOC", "private"};

typedef struct {
	int b, org, what, val, tlp, itlp;
	long long n;
} F;

typedef struct {
	int np;            /* registered participants: 0..np-1 (np-1 is the hub), then np: "unregistered" */
	char name[MAXP + 2][16];
	int ms[MAXP + 1], sector[MAXP + 1], kind[MAXP + 1], ptlp[MAXP + 1];
	int itlp[4];       /* the indicators' own TLP */
	F f[MAXF];
	int nf;
} S;

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static unsigned rnd(unsigned n) {
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int registered(const S *s, int org) {
	return org < s->np;
}

/* the audience's view, written apart from cs_report_ed.c */
static int vis(const F *f, int A, int org, int hub) {
	if (f->tlp > A)
		return 0;
	if (f->tlp <= CS_TLP_AMBER || hub)
		return 1;
	return f->org == org && f->itlp <= CS_TLP_AMBER;
}

static const char *attr(const S *s, int org, int bd) {
	if (!registered(s, org))
		return "unregistered";
	return bd == 0 ? states[s->ms[org]] : bd == 1 ? sectors[s->sector[org]] : kinds[s->kind[org]];
}

static int tlp_of(const char *t) {
	for (int i = 0; i < CS_TLP__CNT; i++)
		if (!strcmp(t, cs_tlp2str((cs_tlp_t)i)))
			return i;
	return 99;
}

/* every "tlp" in the document (but the top level's): the largest; any above A makes it fail */
static int max_tlp(json_t *j, int top) {
	int m = -1;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			int x;
			if (!strcmp(k, "tlp") && json_is_string(v) && !top)
				x = tlp_of(json_string_value(v));
			else
				x = max_tlp(v, 0);
			if (x > m)
				m = x;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			int x = max_tlp(v, 0);
			if (x > m)
				m = x;
		}
	}
	return m;
}

static long long jint(json_t *o, const char *path1, const char *path2) {
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -999;
}

static void gen(S *s) {
	memset(s, 0, sizeof(*s));
	s->np = 3 + (int)rnd(MAXP - 2);
	for (int p = 0; p < s->np; p++) {
		snprintf(s->name[p], sizeof(s->name[p]), p == s->np - 1 ? "hub" : "p%02d", p);
		s->ms[p] = (int)rnd(5);
		s->sector[p] = (int)rnd(3);
		s->kind[p] = (int)rnd(3);
		s->ptlp[p] = (int)rnd(CS_TLP__CNT);
	}
	snprintf(s->name[s->np], sizeof(s->name[0]), "unregistered");
	s->ptlp[s->np] = (int)rnd(CS_TLP__CNT);
	for (int i = 0; i < 4; i++)
		s->itlp[i] = (int)rnd(CS_TLP__CNT);
	s->nf = 5 + (int)rnd(MAXF - 5);
	for (int i = 0; i < s->nf; i++) {
		F *f = &s->f[i];
		f->b = (int)rnd(2 * NB);
		f->org = (int)rnd((unsigned)s->np + 1);
		f->what = (int)rnd(W__CNT);
		f->val = vals[f->what][0] ? (int)rnd(f->what == W_IND ? 4 : f->what == W_SUP ? 2 : 3) : -1;
		f->n = 1 + rnd(rnd(4) ? 20 : 100000);
		if (f->what >= W_IND) {
			/* a hit: the stricter of the indicator's and the participant's (sometimes any stricter) */
			f->itlp = f->what == W_IND ? s->itlp[f->val] : (int)rnd(CS_TLP__CNT);
			f->tlp = f->itlp > s->ptlp[f->org] ? f->itlp : s->ptlp[f->org];
		} else {
			f->itlp = -1;
			f->tlp = rnd(8) ? s->ptlp[f->org] : (int)rnd(CS_TLP__CNT);
		}
	}
}

static cs_report_sit_t *build(const S *s) {
	cs_report_sit_t *r = cs_report_sit_new(T0, T0 + NB * TIER, TIER);
	char field[256], e[256];
	if (!r)
		return NULL;
	for (int i = 0; i < s->nf; i++) {
		const F *f = &s->f[i];
		const char *v = f->val >= 0 ? vals[f->what][f->val] : NULL;
		cs_keys_roll_field(field, sizeof(field), (cs_tlp_t)f->tlp, f->itlp, s->name[f->org], wcode[f->what], v,
				   v ? strlen(v) : 0);
		if (cs_report_sit_add(r, T0 - NB * TIER + (int64_t)f->b * TIER, field, f->n, e, sizeof(e))) {
			fprintf(stderr, "add %s: %s\n", field, e);
			cs_report_sit_destroy(r);
			return NULL;
		}
	}
	for (int p = 0; p < s->np; p++)
		cs_report_sit_add_part(r, s->name[p], "", kinds[s->kind[p]], states[s->ms[p]], sectors[s->sector[p]],
				       (cs_tlp_t)s->ptlp[p], T0 + NB * TIER - 60);
	for (int i = 0; i < 4; i++) {
		int64_t first[CS_TLP__CNT], last[CS_TLP__CNT];
		for (int t = 0; t < CS_TLP__CNT; t++)
			first[t] = last[t] = -1;
		first[s->itlp[i]] = T0 - (int64_t)rnd(3) * NB * TIER; /* before the previous period, or in it */
		last[s->itlp[i]] = T0 + NB * TIER - 60;
		cs_report_sit_add_ind(r, vals[W_IND][i], i == 1 ? "ipv4" : i == 2 ? "url" : i == 3 ? "md5" : "domain",
				      (cs_tlp_t)s->itlp[i], "feed", "apt-x,phishing", 80, first, last);
	}
	return r;
}

/* The sightings of one edition (STIX and MISP), against this test's own computation (docs/SHARING.md). */
static int check_sightings(const S *s, const cs_report_ed_t *ed, int A, int org, int hub, int iter) {
	/* expected: [val][bucket][where], where = a participant, or np + 1 for the hub */
	static long long want[4][NB][MAXP + 2];
	static int wtlp[4][NB][MAXP + 2], seen[4][NB][MAXP + 2];
	long long per[4][NB][MAXP + 1];
	int ptl[4][NB][MAXP + 1];
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp;
	json_t *j, *o, *byid;
	json_error_t je;
	const int HUB = MAXP + 1;

	memset(want, 0, sizeof(want));
	memset(seen, 0, sizeof(seen));
	memset(per, 0, sizeof(per));
	for (int v = 0; v < 4; v++)
		for (int b = 0; b < NB; b++)
			for (int w = 0; w < MAXP + 2; w++)
				wtlp[v][b][w] = -1;
	memset(ptl, -1, sizeof(ptl));
	for (int k = 0; k < s->nf; k++) {
		const F *f = &s->f[k];
		if (f->what != W_IND || f->b < NB || !vis(f, A, org, hub))
			continue;
		per[f->val][f->b - NB][f->org] += f->n;
		if (f->tlp > ptl[f->val][f->b - NB][f->org])
			ptl[f->val][f->b - NB][f->org] = f->tlp;
	}
	for (int v = 0; v < 4; v++)
		for (int b = 0; b < NB; b++)
			for (int p = 0; p <= s->np; p++) {
				int named, w;
				if (!per[v][b][p])
					continue;
				named = registered(s, p) && strcmp(s->name[p], "hub") && ptl[v][b][p] >= CS_TLP_AMBER &&
					s->ptlp[p] <= A && (s->ptlp[p] <= CS_TLP_AMBER || hub || p == org);
				w = named ? p : HUB;
				want[v][b][w] += per[v][b][p];
				if (ptl[v][b][p] > wtlp[v][b][w])
					wtlp[v][b][w] = ptl[v][b][p];
			}

	/* the STIX bundle */
	fp = open_memstream(&buf, &len);
	cs_report_ed_sightings(ed, fp, 3600, 0, 100);
	fclose(fp);
	j = json_loadb(buf, len, 0, &je);
	free(buf);
	CS_TEST_ASSERT(j, "iteration %d: sightings %d are not JSON: %s", iter, A, je.text);
	byid = json_object();
	json_array_foreach(json_object_get(j, "objects"), i, o)
		json_object_set(byid, json_string_value(json_object_get(o, "id")), o);
	json_array_foreach(json_object_get(j, "objects"), i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *mark = json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0));
		json_t *ind, *idn;
		const char *iname, *wname, *fs;
		int v = 0, w, b, t;
		int64_t ms;
		static const char *const tlpids[CS_TLP__CNT] = {
			"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
			"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
			"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
			"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
			"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
		for (t = 0; mark && t < CS_TLP__CNT && strcmp(mark, tlpids[t]); t++)
			;
		if (!strcmp(type, "marking-definition"))
			continue;
		CS_TEST_ASSERT(t <= A, "iteration %d: a %s labelled %d in sightings for %d", iter, type, t, A);
		if (!strcmp(type, "identity")) {
			const char *n = json_string_value(json_object_get(o, "name"));
			CS_TEST_ASSERT(!strcmp(n, "hub") || (A >= CS_TLP_AMBER && t >= CS_TLP_AMBER),
				       "iteration %d: participant %s named (label %d) in sightings for %d", iter, n, t, A);
			continue;
		}
		if (strcmp(type, "sighting"))
			continue;
		ind = json_object_get(byid, json_string_value(json_object_get(o, "sighting_of_ref")));
		idn = json_object_get(byid, json_string_value(json_array_get(json_object_get(o, "where_sighted_refs"), 0)));
		CS_TEST_ASSERT(ind && idn, "iteration %d: a sighting whose indicator or place is not in the bundle", iter);
		iname = json_string_value(json_object_get(ind, "name"));
		wname = json_string_value(json_object_get(idn, "name"));
		while (v < 4 && strcmp(vals[W_IND][v], iname))
			v++;
		for (w = 0; w <= s->np && strcmp(s->name[w], wname); w++)
			;
		if (!strcmp(wname, "hub"))
			w = HUB;
		fs = json_string_value(json_object_get(o, "first_seen"));
		CS_TEST_ASSERT(v < 4 && w <= HUB && fs && !cs_time_parse_iso8601(fs, strlen(fs), &ms),
			       "iteration %d: sighting of %s at %s", iter, iname, wname);
		b = (int)((ms / 1000 - T0) / TIER);
		CS_TEST_ASSERT(b >= 0 && b < NB && !seen[v][b][w]++, "iteration %d: sighting of %s at %s, bucket %d: twice or outside",
			       iter, iname, wname, b);
		CS_TEST_ASSERT(json_integer_value(json_object_get(o, "count")) == (want[v][b][w] > 999999999 ? 999999999 : want[v][b][w]) &&
				       t == wtlp[v][b][w],
			       "iteration %d, audience %d: %s at %s, bucket %d: count %lld label %d, expected %lld label %d", iter, A,
			       iname, wname, b, (long long)json_integer_value(json_object_get(o, "count")), t, want[v][b][w],
			       wtlp[v][b][w]);
	}
	for (int v = 0; v < 4; v++)
		for (int b = 0; b < NB; b++)
			for (int w = 0; w <= HUB; w++)
				CS_TEST_ASSERT(!want[v][b][w] || seen[v][b][w], "iteration %d, audience %d: no sighting of %s at %d, bucket %d",
					       iter, A, vals[W_IND][v], w, b);
	json_decref(byid);
	json_decref(j);

	/* MISP: min(count, 100) lines per sighting, the same places */
	{
		long long lines = 0, expect = 0;
		char *line, *save = NULL;
		fp = open_memstream(&buf, &len);
		cs_report_ed_sightings(ed, fp, 3600, 1, 100);
		fclose(fp);
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_t *l = json_loads(line, 0, NULL);
			const char *src = json_string_value(json_object_get(l, "source"));
			int w;
			for (w = 0; src && w <= s->np && strcmp(s->name[w], src); w++)
				;
			CS_TEST_ASSERT(l && src && (!strcmp(src, "hub") || (w < s->np && A >= CS_TLP_AMBER)),
				       "iteration %d: MISP line %s", iter, line);
			lines++;
			json_decref(l);
		}
		free(buf);
		for (int v = 0; v < 4; v++)
			for (int b = 0; b < NB; b++)
				for (int w = 0; w <= HUB; w++)
					expect += want[v][b][w] > 100 ? 100 : want[v][b][w];
		CS_TEST_ASSERT(lines == expect, "iteration %d: %lld MISP lines, expected %lld", iter, lines, expect);
	}
	return 0;
}

/* one edition, checked */
static int check(const S *s, cs_report_sit_t *r, int A, int org, int k, int top, int iter) {
	cs_report_ed_opts_t o = {(cs_tlp_t)A, org >= 0 ? s->name[org] : NULL, "hub", NULL, k, top, 3600, T0 + NB * TIER};
	int hub = org >= 0 && !strcmp(s->name[org], "hub");
	char errstr[256], *buf = NULL;
	size_t len = 0;
	FILE *fp;
	cs_report_ed_t *ed = cs_report_ed_new(r, &o, errstr, sizeof(errstr));
	json_t *j, *h, *a;
	json_error_t je;
	int pub = A <= CS_TLP_GREEN;

	if (A < CS_TLP_AMBER_STRICT)
		org = -1, hub = 0;
	CS_TEST_ASSERT(ed, "edition: %s", errstr);
	if (check_sightings(s, ed, A, org, hub, iter)) {
		cs_report_ed_destroy(ed);
		return 1;
	}
	fp = open_memstream(&buf, &len);
	cs_report_ed_json(ed, fp);
	fclose(fp);
	cs_report_ed_destroy(ed);
	j = json_loadb(buf, len, 0, &je);
	CS_TEST_ASSERT(j, "iteration %d: edition %d is not JSON: %s", iter, A, je.text);
	free(buf);

	/* labels */
	{
		int m = max_tlp(j, 1), doc = tlp_of(json_string_value(json_object_get(j, "tlp")));
		CS_TEST_ASSERT(m <= A, "iteration %d: a figure labelled %d in a %d edition", iter, m, A);
		CS_TEST_ASSERT(doc == (m < 0 ? 0 : m), "iteration %d: document labelled %d, its strictest figure %d", iter,
			       doc, m);
	}
	/* headline, both periods */
	h = json_object_get(j, "headline");
	for (int p = 0; p < 2; p++) {
		long long ev = 0, hits = 0, rej = 0, late = 0, sup = 0, unreg = 0;
		int active[MAXP + 1] = {0}, msx[5] = {0}, indx[4] = {0};
		long long parts = 0, msn = 0, inds = 0;
		const char *key = p ? "value" : "previous";
		for (int i = 0; i < s->nf; i++) {
			const F *f = &s->f[i];
			if ((f->b >= NB) != p || !vis(f, A, org, hub))
				continue;
			if (f->what == W_EV || f->what == W_REJ) {
				ev += f->n;
				if (!registered(s, f->org))
					unreg += f->n;
				else
					active[f->org] = 1;
				if (f->what == W_REJ)
					rej += f->n;
			}
			if (f->what == W_IND) {
				hits += f->n;
				indx[f->val] = 1;
				if (registered(s, f->org))
					active[f->org] = 1;
			}
			late += f->what == W_LATE ? f->n : 0;
			sup += f->what == W_SUP ? f->n : 0;
		}
		for (int q = 0; q < s->np; q++)
			if (active[q]) {
				parts++;
				if (!msx[s->ms[q]]++)
					msn++;
			}
		for (int q = 0; q < 4; q++)
			inds += indx[q];
		CS_TEST_EQ_INT(jint(h, "events", key), ev);
		CS_TEST_EQ_INT(jint(h, "hits", key), hits);
		CS_TEST_EQ_INT(jint(h, "rejected", key), rej);
		CS_TEST_EQ_INT(jint(h, "late", key), late);
		CS_TEST_EQ_INT(jint(h, "suppressed", key), sup);
		CS_TEST_EQ_INT(jint(h, "unregistered_events", key), unreg);
		CS_TEST_EQ_INT(jint(h, "participants", key), parts);
		CS_TEST_EQ_INT(jint(h, "member_states", key), msn);
		CS_TEST_EQ_INT(jint(h, "indicators", key), inds);
	}
	/* timeline */
	a = json_object_get(json_object_get(j, "timeline"), "points");
	CS_TEST_EQ_INT(json_array_size(a), NB);
	for (int b = 0; b < NB; b++) {
		long long hits = 0, ev = 0;
		for (int i = 0; i < s->nf; i++) {
			const F *f = &s->f[i];
			if (f->b != NB + b || !vis(f, A, org, hub))
				continue;
			hits += f->what == W_IND ? f->n : 0;
			ev += f->what == W_EV ? f->n : 0;
		}
		CS_TEST_EQ_INT(jint(json_array_get(a, (size_t)b), "hits", NULL), hits);
		CS_TEST_EQ_INT(jint(json_array_get(a, (size_t)b), "events", NULL), ev);
	}
	/* top indicators: hits, rank, participants */
	{
		long long hits[4] = {0};
		int orgs[4][MAXP + 1] = {{0}}, listed = 0, want = 0;
		a = json_object_get(j, "top_indicators");
		for (int i = 0; i < s->nf; i++) {
			const F *f = &s->f[i];
			if (f->b < NB || f->what != W_IND || !vis(f, A, org, hub))
				continue;
			hits[f->val] += f->n;
			orgs[f->val][f->org] = 1;
		}
		for (int q = 0; q < 4; q++)
			want += hits[q] > 0;
		listed = (int)json_array_size(a);
		CS_TEST_EQ_INT(listed, want < top ? want : top);
		for (int r2 = 0; r2 < listed; r2++) {
			json_t *row = json_array_get(a, (size_t)r2), *pp = json_object_get(row, "participants");
			const char *v = json_string_value(json_object_get(row, "value"));
			int q = 0, np = 0;
			while (q < 4 && strcmp(vals[W_IND][q], v))
				q++;
			CS_TEST_ASSERT(q < 4, "unknown indicator %s", v);
			CS_TEST_EQ_INT(jint(row, "hits", NULL), hits[q]);
			for (int p = 0; p <= s->np; p++)
				np += orgs[q][p];
			if (pub && np < k)
				CS_TEST_ASSERT(json_is_null(pp) && json_is_null(json_object_get(row, "member_states")),
					       "iteration %d: %s has %d participants, shown in a public edition", iter, v, np);
			else {
				/* the member states: those of its registered participants, each once, sorted */
				char wms[64] = "", got[64] = "";
				json_t *ms = json_object_get(row, "member_states");
				CS_TEST_EQ_INT(json_integer_value(pp), np);
				for (int m = 0; m < 5; m++) {
					static const int order[5] = {1, 4, 2, 0, 3}; /* DE EE FR LU MT */
					int any = 0;
					for (int p = 0; p < s->np; p++)
						any |= orgs[q][p] && s->ms[p] == order[m];
					if (any)
						snprintf(wms + strlen(wms), sizeof(wms) - strlen(wms), "%s,", states[order[m]]);
				}
				for (size_t m = 0; m < json_array_size(ms); m++)
					snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s,", json_string_value(json_array_get(ms, m)));
				CS_TEST_ASSERT(!strcmp(wms, got), "iteration %d: %s: member states %s, expected %s", iter, v, got, wms);
			}
			/* nothing unlisted above it */
			for (int u = 0; u < 4; u++) {
				int in = 0;
				for (int r3 = 0; r3 < listed; r3++)
					in |= !strcmp(json_string_value(json_object_get(json_array_get(a, (size_t)r3), "value")),
						      vals[W_IND][u]);
				CS_TEST_ASSERT(in || hits[u] <= hits[q], "iteration %d: %s (%lld) unlisted above %s", iter,
					       vals[W_IND][u], hits[u], v);
			}
		}
	}
	/* breakdowns */
	{
		static const char *const names[] = {"member_state", "sector", "participant_kind", "category", "severity"};
		json_t *bds = json_object_get(j, "breakdowns");
		for (int bd = 0; bd < 5; bd++) {
			json_t *B = json_object_get(bds, names[bd]), *cells = json_object_get(B, "cells");
			char keys[16][32];
			long long ev[16] = {0}, hi[16] = {0};
			int orgs[16][MAXP + 1], nk = 0, shown[16] = {0};
			long long te = 0, th = 0;
			memset(orgs, 0, sizeof(orgs));
			for (int i = 0; i < s->nf; i++) {
				const F *f = &s->f[i];
				const char *key;
				int c;
				if (f->b < NB || !vis(f, A, org, hub))
					continue;
				if (bd < 3 && (f->what == W_EV || f->what == W_REJ || f->what == W_IND))
					key = attr(s, f->org, bd);
				else if ((bd == 3 && f->what == W_CAT) || (bd == 4 && f->what == W_SEV))
					key = vals[f->what][f->val];
				else
					continue;
				for (c = 0; c < nk && strcmp(keys[c], key); c++)
					;
				if (c == nk)
					snprintf(keys[nk++], sizeof(keys[0]), "%s", key);
				*(f->what == W_EV || f->what == W_REJ ? &ev[c] : &hi[c]) += f->n;
				orgs[c][f->org] = 1;
			}
			for (size_t x = 0; x < json_array_size(cells); x++) {
				json_t *cell = json_array_get(cells, x);
				const char *key = json_string_value(json_object_get(cell, "key"));
				int c, np = 0;
				for (c = 0; c < nk && strcmp(keys[c], key); c++)
					;
				CS_TEST_ASSERT(c < nk, "iteration %d: %s cell %s from nothing visible", iter, names[bd], key);
				CS_TEST_ASSERT(!shown[c], "cell %s twice", key);
				shown[c] = 1;
				for (int p = 0; p <= s->np; p++)
					np += orgs[c][p];
				if (bd < 3)
					CS_TEST_EQ_INT(jint(cell, "events", NULL), ev[c]);
				CS_TEST_EQ_INT(jint(cell, "hits", NULL), hi[c]);
				CS_TEST_EQ_INT(jint(cell, "participants", NULL), np);
				CS_TEST_ASSERT(!pub || np >= k, "iteration %d: %s cell %s from %d participants in a public edition",
					       iter, names[bd], key, np);
				te += ev[c];
				th += hi[c];
			}
			if (bd < 3)
				CS_TEST_EQ_INT(jint(B, "total_events", NULL), te);
			CS_TEST_EQ_INT(jint(B, "total_hits", NULL), th);
			{
				int wo[MAXP + 1] = {0}, nw = 0, wc = 0;
				for (int c = 0; c < nk; c++)
					if (!shown[c]) {
						wc++;
						for (int p = 0; p <= s->np; p++)
							wo[p] |= orgs[c][p];
					}
				for (int p = 0; p <= s->np; p++)
					nw += wo[p];
				CS_TEST_EQ_INT(jint(B, "withheld_cells", NULL), wc);
				/* all withheld: no cell shown, no total to subtract from but the headline, which names no cell */
				CS_TEST_ASSERT(!pub ? wc == 0 : nw == 0 || nw >= k || wc == nk,
					       "iteration %d: %s: %d withheld cells from %d participants (k %d, edition %d)", iter,
					       names[bd], wc, nw, k, A);
			}
		}
	}
	/* inventory */
	{
		json_t *P = json_object_get(j, "participants"), *rows = json_object_get(P, "rows");
		if (pub) {
			CS_TEST_ASSERT(json_is_true(json_object_get(P, "withheld")) && json_array_size(rows) == 0,
				       "iteration %d: an inventory in a public edition", iter);
		} else {
			for (size_t x = 0; x < json_array_size(rows); x++) {
				json_t *row = json_array_get(rows, x);
				const char *id = json_string_value(json_object_get(row, "id"));
				long long ev = 0;
				int p = 0;
				while (p < s->np && strcmp(s->name[p], id))
					p++;
				CS_TEST_ASSERT(p < s->np, "unknown participant %s", id);
				CS_TEST_ASSERT(s->ptlp[p] <= A && (s->ptlp[p] <= CS_TLP_AMBER || hub || p == org),
					       "iteration %d: participant %s (TLP %d) in edition %d", iter, id, s->ptlp[p], A);
				for (int i = 0; i < s->nf; i++) {
					const F *f = &s->f[i];
					if (f->b >= NB && f->org == p && (f->what == W_EV || f->what == W_REJ) && vis(f, A, org, hub))
						ev += f->n;
				}
				CS_TEST_EQ_INT(jint(row, "events", NULL), ev);
			}
		}
	}
	json_decref(j);
	return 0;
}

int cs_test_0018(void) {
	const char *it = getenv("CS_TEST_ITERATIONS");
	int iters = it ? atoi(it) : 10000;
	long long editions = 0;
	char errstr[256];
	S s;

	/* the rules' edges, by hand: a strict edition needs an organization; unknown fields are errors */
	{
		cs_report_sit_t *r = cs_report_sit_new(T0, T0 + NB * TIER, TIER);
		cs_report_ed_opts_t o = {CS_TLP_RED, NULL, "hub", NULL, 3, 20, 3600, T0};
		CS_TEST_ASSERT(r, "sit");
		CS_TEST_ASSERT(!cs_report_ed_new(r, &o, errstr, sizeof(errstr)), "a RED edition for nobody");
		CS_TEST_ASSERT(strstr(errstr, "--org"), "%s", errstr);
		CS_TEST_EQ_INT(cs_report_sit_add(r, T0, "green|-|p1|ev|x", 1, errstr, sizeof(errstr)), -1);
		CS_TEST_EQ_INT(cs_report_sit_add(r, T0, "green|-|p1|i|x", 1, errstr, sizeof(errstr)), -1);
		CS_TEST_EQ_INT(cs_report_sit_add(r, T0, "green|green|p1|zz|x", 1, errstr, sizeof(errstr)), -1);
		CS_TEST_EQ_INT(cs_report_sit_add(r, T0, "green|-|p1|ev", -1, errstr, sizeof(errstr)), -1);
		CS_TEST_EQ_INT(cs_report_sit_add(r, T0, "green|-|p1|ev", 5, errstr, sizeof(errstr)), 0);
		CS_TEST_EQ_INT(cs_report_sit_counts(r), 1);
		cs_report_sit_destroy(r);
	}
	{
		char d[256];
		CS_TEST_EQ_STR(cs_report_defang("evil.example.eu", d, sizeof(d)), "evil[.]example[.]eu");
		CS_TEST_EQ_STR(cs_report_defang("http://bad.example/x", d, sizeof(d)), "hxxp://bad[.]example/x");
		CS_TEST_EQ_STR(cs_report_defang("HTTPS://a.b", d, sizeof(d)), "hxxpS://a[.]b");
		CS_TEST_EQ_STR(cs_report_defang("x@mail.eu", d, sizeof(d)), "x[@]mail[.]eu");
	}
	for (int iter = 0; iter < iters; iter++) {
		cs_report_sit_t *r;
		int k = 2 + (int)rnd(3), top = 1 + (int)rnd(4);
		gen(&s);
		CS_TEST_ASSERT((r = build(&s)), "build");
		for (int A = 0; A < CS_TLP__CNT; A++) {
			int org = A >= CS_TLP_AMBER_STRICT ? (int)rnd((unsigned)s.np) : -1;
			if (check(&s, r, A, org, k, top, iter)) {
				cs_report_sit_destroy(r);
				return 1;
			}
			editions++;
		}
		cs_report_sit_destroy(r);
	}
	CS_TEST_SAY("%d random situations, %lld editions checked", iters, editions);
	return 0;
}
