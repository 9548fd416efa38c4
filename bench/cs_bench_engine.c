/*
 * cs_bench_engine.c - `cshield-bench engine` and `cshield-bench indicators`.
 *
 * engine: decode + match + pre-aggregate in memory, on 1..N threads over the
 * same in-memory EVE corpus (each thread with its own decoder, Hyperscan
 * scratch and counters; the indicator set shared), side by side with
 *  - limit: hs_scan of each event's raw bytes against an unanchored literal
 *    database of the same indicator values (no decoding: the Hyperscan ceiling);
 *  - naive: jansson parse + a lookup of every mapped field (and each parent
 *    domain) in a hash set, what a typical C implementation does.
 * indicators: load + compile time and RSS of indicator sets of several sizes.
 * DESIGN: measurement threads share only immutable data and an atomic start flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <hs.h>
#include <jansson.h>

#include "cs_common.h"
#include "cs_bench.h"
#include "cs_decode.h"
#include "cs_correlate.h"
#include "cs_bench_modes.h"
#include "cs_json.h"

typedef struct cs__ecorpus_s {
	char *buf;
	size_t len;
	size_t *starts, *lens; /* each event (line) */
	long events;
} cs__ecorpus_t;

static int64_t cs__rss_kb(void) {
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	int64_t kb = -1;
	while (fp && fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtoll(line + 6, NULL, 10);
	if (fp)
		fclose(fp);
	return kb;
}

static int cs__gen_files(size_t nind, long events, double hit_rate, char *ind_path, cs__ecorpus_t *c) {
	cs_bench_gen_opts_t o = {42, hit_rate, 1795900000, 3600, nind};
	cs_bench_gen_t *g = cs_bench_gen_new(&o);
	size_t cap = (size_t)events * 800 + 65536;
	int fd;
	FILE *fp;

	if (!g)
		return -1;
	strcpy(ind_path, "/tmp/cshield-bench-ind-XXXXXX");
	if ((fd = mkstemp(ind_path)) < 0 || !(fp = fdopen(fd, "w"))) {
		cs_bench_gen_destroy(g);
		return -1;
	}
	cs_bench_gen_write_indicators(g, fp);
	fclose(fp);
	if (c) {
		c->buf = cs_malloc(cap);
		c->starts = cs_calloc((size_t)events, sizeof(*c->starts));
		c->lens = cs_calloc((size_t)events, sizeof(*c->lens));
		if (!c->buf || !c->starts || !c->lens)
			return -1;
		c->len = 0;
		for (long i = 0; i < events; i++) {
			size_t n = cs_bench_gen_event(g, c->buf + c->len, cap - c->len - 1);
			c->starts[i] = c->len;
			c->lens[i] = n;
			c->len += n;
			c->buf[c->len++] = '\n';
		}
		c->events = events;
	}
	cs_bench_gen_destroy(g);
	return 0;
}

/* the largest set the limit baseline compiles */
#define CS__LIMIT_MAX 200000

/* ---- our engine, per thread ---- */

typedef struct cs__ework_s {
	const cs__ecorpus_t *c;
	const cs_corr_db_t *db;
	double min_s;
	long events, hits;
	double seconds;
	uint32_t *counts; /* per indicator: the in-memory pre-aggregation */
	uint32_t ev_hits[64];
	size_t ev_hit_cnt;
	int err;
} cs__ework_t;

static int cs__on_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs__ework_t *w = opaque;
	for (size_t i = 0; i < w->ev_hit_cnt; i++)
		if (w->ev_hits[i] == hit->ind->id)
			return 0;
	if (w->ev_hit_cnt < 64)
		w->ev_hits[w->ev_hit_cnt++] = hit->ind->id;
	return 0;
}

static void *cs__engine_thread(void *arg) {
	cs__ework_t *w = arg;
	cs_decode_conf_t *conf = cs_decode_conf_new();
	char errstr[256];
	cs_decode_t *dec = conf ? cs_decode_new(conf, errstr, sizeof(errstr)) : NULL;
	cs_corr_scratch_t *scr = cs_corr_scratch_new(w->db, errstr, sizeof(errstr));
	int64_t t0 = cs_clock_ms(), el;

	w->counts = cs_calloc(cs_corr_db_count(w->db), sizeof(*w->counts));
	if (!dec || !scr || !w->counts) {
		w->err = 1;
		goto out;
	}
	do {
		size_t pos = 0;
		while (pos < w->c->len) {
			cs_decode_event_t ev;
			size_t used;
			if (cs_decode_one(dec, CS_DECODE_FMT_EVE, w->c->buf + pos, w->c->len - pos, &used, &ev) ==
			    CS_DECODE_OK) {
				w->ev_hit_cnt = 0;
				for (size_t i = 0; i < ev.obs_cnt; i++)
					cs_corr_match(w->db, scr, &ev.obs[i], cs__on_hit, w);
				for (size_t i = 0; i < w->ev_hit_cnt; i++)
					w->counts[w->ev_hits[i]]++;
				w->hits += (long)w->ev_hit_cnt;
			}
			w->events++;
			if (!used)
				break;
			pos += used;
		}
		el = cs_clock_ms() - t0;
	} while (el < (int64_t)(w->min_s * 1000));
	w->seconds = (double)el / 1000.0;
out:
	cs_corr_scratch_destroy(scr);
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	cs_free(w->counts);
	return NULL;
}

static int cs__engine_run(const cs__ecorpus_t *c, const cs_corr_db_t *db, int threads, double min_s, double *eps,
			  long *hits_per_pass) {
	pthread_t tid[256];
	cs__ework_t w[256];
	double total = 0;
	for (int i = 0; i < threads; i++) {
		w[i] = (cs__ework_t){.c = c, .db = db, .min_s = min_s};
		if (pthread_create(&tid[i], NULL, cs__engine_thread, &w[i]))
			return -1;
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		if (w[i].err)
			return -1;
		total += (double)w[i].events / w[i].seconds;
	}
	*eps = total;
	*hits_per_pass = w[0].events ? (long)((double)w[0].hits * (double)c->events / (double)w[0].events + 0.5) : 0;
	return 0;
}

/* ---- match only: the corpus decoded once, its observables matched again and again ---- */

typedef struct cs__decoded_s {
	cs_obs_t *obs;     /* every event's observables, values copied (the decoder reuses its buffers) */
	size_t *first;     /* [events + 1]: event i has obs[first[i] .. first[i + 1]) */
	size_t nev, nobs;
} cs__decoded_t;

static int cs__decode_all(const cs__ecorpus_t *c, cs__decoded_t *d) {
	cs_decode_conf_t *conf = cs_decode_conf_new();
	char errstr[256];
	cs_decode_t *dec = conf ? cs_decode_new(conf, errstr, sizeof(errstr)) : NULL;
	size_t pos = 0, cap = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (!dec || !(d->first = cs_calloc((size_t)c->events + 1, sizeof(*d->first))))
		goto out;
	while (pos < c->len && d->nev < (size_t)c->events) {
		cs_decode_event_t ev;
		size_t used;
		d->first[d->nev] = d->nobs;
		if (cs_decode_one(dec, CS_DECODE_FMT_EVE, c->buf + pos, c->len - pos, &used, &ev) == CS_DECODE_OK) {
			if (cs_array_reserve(&d->obs, &cap, d->nobs + ev.obs_cnt, sizeof(*d->obs)))
				goto out;
			for (size_t i = 0; i < ev.obs_cnt; i++) {
				char *v = cs_malloc(ev.obs[i].len + 1);
				if (!v)
					goto out;
				memcpy(v, ev.obs[i].value, ev.obs[i].len);
				v[ev.obs[i].len] = '\0';
				d->obs[d->nobs] = ev.obs[i];
				d->obs[d->nobs++].value = v;
			}
		}
		d->nev++;
		if (!used)
			break;
		pos += used;
	}
	d->first[d->nev] = d->nobs;
	rc = 0;
out:
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	return rc;
}

static void cs__decoded_free(cs__decoded_t *d) {
	for (size_t i = 0; i < d->nobs; i++)
		cs_free((char *)d->obs[i].value);
	cs_free(d->obs);
	cs_free(d->first);
}

/* Events/s of match + per-event de-duplication + counting alone, one thread. */
static double cs__match_only(const cs__decoded_t *d, const cs_corr_db_t *db, double min_s, long *hits_per_pass) {
	char errstr[256];
	cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	cs__ework_t w = {.db = db};
	long events = 0;
	int64_t t0, el;

	w.counts = cs_calloc(cs_corr_db_count(db) + 1, sizeof(*w.counts));
	if (!scr || !w.counts || !d->nev) {
		cs_corr_scratch_destroy(scr);
		cs_free(w.counts);
		return 0;
	}
	t0 = cs_clock_ms();
	do {
		for (size_t e = 0; e < d->nev; e++) {
			w.ev_hit_cnt = 0;
			for (size_t i = d->first[e]; i < d->first[e + 1]; i++)
				cs_corr_match(db, scr, &d->obs[i], cs__on_hit, &w);
			for (size_t i = 0; i < w.ev_hit_cnt; i++)
				w.counts[w.ev_hits[i]]++;
			w.hits += (long)w.ev_hit_cnt;
		}
		events += (long)d->nev;
		el = cs_clock_ms() - t0;
	} while (el < (int64_t)(min_s * 1000));
	*hits_per_pass = (long)((double)w.hits * (double)d->nev / (double)events + 0.5);
	cs_corr_scratch_destroy(scr);
	cs_free(w.counts);
	return (double)events / ((double)(el > 0 ? el : 1) / 1000.0);
}

/* ---- limit: raw bytes against an unanchored literal database ---- */

static int cs__limit_cb(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx) {
	(*(long *)ctx)++;
	return 0;
}

static double cs__limit(const cs__ecorpus_t *c, const cs_corr_db_t *db, double min_s, long *matches) {
	size_t n = cs_corr_db_count(db);
	const char **exprs = cs_calloc(n, sizeof(*exprs));
	unsigned *flags = cs_calloc(n, sizeof(*flags)), *ids = cs_calloc(n, sizeof(*ids));
	size_t *lens = cs_calloc(n, sizeof(*lens));
	hs_database_t *hdb = NULL;
	hs_scratch_t *scr = NULL;
	hs_compile_error_t *cerr = NULL;
	long events = 0;
	int64_t t0, el;

	for (size_t i = 0; i < n; i++) {
		exprs[i] = cs_corr_db_indicator(db, (uint32_t)i)->value;
		lens[i] = strlen(exprs[i]);
		flags[i] = HS_FLAG_SINGLEMATCH;
		ids[i] = (unsigned)i;
	}
	if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)n, HS_MODE_BLOCK, NULL, &hdb, &cerr) != HS_SUCCESS ||
	    hs_alloc_scratch(hdb, &scr) != HS_SUCCESS) {
		fprintf(stderr, "cshield-bench: limit database: %s\n", cerr ? cerr->message : "scratch");
		return 0;
	}
	*matches = 0;
	t0 = cs_clock_ms();
	do {
		for (long i = 0; i < c->events; i++)
			hs_scan(hdb, c->buf + c->starts[i], (unsigned)c->lens[i], 0, scr, cs__limit_cb, matches);
		events += c->events;
		el = cs_clock_ms() - t0;
	} while (el < (int64_t)(min_s * 1000));
	*matches = *matches * c->events / events;
	hs_free_scratch(scr);
	hs_free_database(hdb);
	cs_free(exprs);
	cs_free(flags);
	cs_free(ids);
	cs_free(lens);
	return (double)events / ((double)el / 1000.0);
}

/* ---- naive: jansson + a hash set ---- */

typedef struct cs__hset_s {
	char **slots;
	size_t mask;
} cs__hset_t;

static uint64_t cs__fnv(const char *s, size_t n) {
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int cs__hset_has(const cs__hset_t *hs, const char *s, size_t n) {
	for (size_t j = cs__fnv(s, n) & hs->mask; hs->slots[j]; j = (j + 1) & hs->mask)
		if (strlen(hs->slots[j]) == n && !memcmp(hs->slots[j], s, n))
			return 1;
	return 0;
}

static double cs__naive(const cs__ecorpus_t *c, const cs_corr_db_t *db, double min_s, long *hits) {
	cs__hset_t hs;
	size_t n = cs_corr_db_count(db), size = 16;
	long events = 0;
	int64_t t0, el;

	while (size < n * 2)
		size *= 2;
	hs.slots = cs_calloc(size, sizeof(*hs.slots));
	hs.mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		const char *v = cs_corr_db_indicator(db, (uint32_t)i)->value;
		size_t j = cs__fnv(v, strlen(v)) & hs.mask;
		while (hs.slots[j])
			j = (j + 1) & hs.mask;
		hs.slots[j] = (char *)v;
	}
	*hits = 0;
	t0 = cs_clock_ms();
	do {
		for (long i = 0; i < c->events; i++) {
			json_error_t err;
			json_t *doc = json_loadb(c->buf + c->starts[i], c->lens[i], 0, &err);
			const char *path, *kind;
			cs_obs_role_t role;
			if (!doc)
				continue;
			for (size_t k = 0; cs_decode_map_entry(CS_DECODE_FMT_EVE, k, &path, &kind, &role) == 0; k++) {
				json_t *v = cs_bench_jget(doc, path);
				char low[512];
				size_t l;
				if (!json_is_string(v) || (l = json_string_length(v)) >= sizeof(low))
					continue;
				for (size_t q = 0; q < l; q++)
					low[q] = (char)((json_string_value(v)[q] >= 'A' && json_string_value(v)[q] <= 'Z')
								? json_string_value(v)[q] + 32
								: json_string_value(v)[q]);
				low[l] = '\0';
				/* the value, then each parent domain */
				for (const char *p = low; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
					if (cs__hset_has(&hs, p, strlen(p)))
						(*hits)++;
			}
			json_decref(doc);
		}
		events += c->events;
		el = cs_clock_ms() - t0;
	} while (el < (int64_t)(min_s * 1000));
	*hits = *hits * c->events / events;
	cs_free(hs.slots);
	return (double)events / ((double)el / 1000.0);
}

int cs_bench_engine(long events, size_t nind, int max_threads, double min_s, double hit_rate, int json,
		    const char *plot) {
	cs__ecorpus_t c = {0};
	char ind[64], errstr[512];
	cs_corr_db_t *db;
	double eps[64], thr[64], limit, naive, match, ind_x[3], ind_y[3];
	long hits = 0, lhits = 0, nhits = 0, mhits = 0;
	cs__decoded_t dd;
	int64_t t0;
	double load_s;
	size_t nx = 0;

	if (max_threads < 1 || max_threads > 64)
		max_threads = 1;
	if (cs__gen_files(nind, events, hit_rate, ind, &c)) {
		fprintf(stderr, "cshield-bench: cannot generate the corpus\n");
		return 1;
	}
	fprintf(stderr, "cshield-bench: engine: %ld EVE events (%.1f MB), %zu indicators, hit rate %.4f\n", c.events,
		(double)c.len / 1e6, nind, hit_rate);
	t0 = cs_clock_ms();
	if (!(db = cs_corr_db_load_list(ind, 1, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-bench: %s\n", errstr);
		return 1;
	}
	load_s = (double)(cs_clock_ms() - t0) / 1000.0;
	unlink(ind);
	for (int t = 1; t <= max_threads; t++) {
		fprintf(stderr, "cshield-bench: engine on %d thread%s...\n", t, t > 1 ? "s" : "");
		if (cs__engine_run(&c, db, t, min_s, &eps[t - 1], &hits)) {
			fprintf(stderr, "cshield-bench: engine run failed\n");
			return 1;
		}
		thr[t - 1] = t;
	}
	fprintf(stderr, "cshield-bench: match only (decoded once)...\n");
	if (cs__decode_all(&c, &dd)) {
		fprintf(stderr, "cshield-bench: cannot decode the corpus\n");
		return 1;
	}
	match = cs__match_only(&dd, db, min_s, &mhits);
	fprintf(stderr, "cshield-bench: baselines...\n");
	/* Hyperscan takes minutes and gigabytes to compile a million literals (measured: 57 s,
	 * 2.4 GB): above CS__LIMIT_MAX the limit baseline is not built, and said so */
	limit = nind <= CS__LIMIT_MAX ? cs__limit(&c, db, min_s, &lhits) : 0;
	naive = cs__naive(&c, db, min_s, &nhits);

	if (plot) { /* throughput against indicator count, single thread: 1k, 10k and the set */
		size_t sizes[3] = {1000, 10000, nind};
		for (int k = 0; k < 3; k++) {
			cs_corr_db_t *d2;
			cs__ecorpus_t c2 = {0};
			char ind2[64];
			long h2;
			if (k < 2 && sizes[k] >= nind)
				continue;
			if (k == 2) {
				ind_x[nx] = (double)nind;
				ind_y[nx++] = eps[0];
				continue;
			}
			if (cs__gen_files(sizes[k], events, hit_rate, ind2, &c2) ||
			    !(d2 = cs_corr_db_load_list(ind2, 1, errstr, sizeof(errstr))))
				continue;
			unlink(ind2);
			if (!cs__engine_run(&c2, d2, 1, min_s, &ind_y[nx], &h2))
				ind_x[nx++] = (double)sizes[k];
			cs_corr_db_destroy(d2);
			cs_free(c2.buf);
			cs_free(c2.starts);
			cs_free(c2.lens);
		}
	}

	if (json) {
		cs_jw_t jw;
		cs_jw_init(&jw, stdout);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "mode", "engine");
		cs_jw_kint(&jw, "threads", 1);
		cs_jw_kint(&jw, "events", c.events);
		cs_jw_kfixed(&jw, "seconds", min_s, 3);
		cs_jw_kfixed(&jw, "events_per_s", eps[0], 0);
		cs_jw_kfixed(&jw, "mb_per_s", eps[0] * (double)c.len / (double)c.events / 1e6, 1);
		cs_jw_kuint(&jw, "indicators", nind);
		cs_jw_kfixed(&jw, "indicator_load_s", load_s, 3);
		cs_jw_kint(&jw, "hits_per_pass", hits);
		cs_jw_kfixed(&jw, "match_only_events_per_s", match, 0);
		cs_jw_kfixed(&jw, "match_only_observables_per_event", dd.nev ? (double)dd.nobs / (double)dd.nev : 0.0, 2);
		cs_jw_kfixed(&jw, "limit_events_per_s", limit, 0);
		cs_jw_kfixed(&jw, "vs_limit", limit > 0 ? eps[0] / limit : 0.0, 3);
		cs_jw_kfixed(&jw, "naive_events_per_s", naive, 0);
		cs_jw_kfixed(&jw, "vs_naive", eps[0] / naive, 2);
		cs_jw_key(&jw, "scaling");
		cs_jw_arr_begin(&jw);
		for (int t = 0; t < max_threads; t++) {
			cs_jw_obj_begin(&jw);
			cs_jw_kint(&jw, "threads", t + 1);
			cs_jw_kfixed(&jw, "events_per_s", eps[t], 0);
			cs_jw_kfixed(&jw, "vs_1_thread", eps[t] / eps[0], 2);
			cs_jw_obj_end(&jw);
		}
		cs_jw_arr_end(&jw);
		cs_jw_obj_end(&jw);
		putchar('\n');
	} else {
		printf("engine: decode + match + pre-aggregate, %ld EVE events of %.0f bytes, %zu indicators (loaded in %.2f s)\n",
		       c.events, (double)c.len / (double)c.events, nind, load_s);
		printf("%-28s %14s %10s %10s\n", "", "events/s", "MB/s", "ratio");
		for (int t = 0; t < max_threads; t++)
			printf("cshield, %2d thread%s %*s %14.0f %10.1f %9.2fx (vs 1 thread)\n", t + 1, t ? "s" : " ", 8, "",
			       eps[t], eps[t] * (double)c.len / (double)c.events / 1e6, eps[t] / eps[0]);
		printf("%-28s %14.0f %10s %10s (decoded once: %.2f observables per event, %ld hits per pass)\n",
		       "match only, 1 thread", match, "-", "", dd.nev ? (double)dd.nobs / (double)dd.nev : 0.0, mhits);
		if (limit > 0)
			printf("%-28s %14.0f %10.1f %9.3fx (cshield 1 thread / limit)\n", "limit: raw hs_scan, 1 thread", limit,
			       limit * (double)c.len / (double)c.events / 1e6, eps[0] / limit);
		else
			printf("%-28s %14s (not built above %d indicators: Hyperscan needs minutes and GBs for them)\n",
			       "limit: raw hs_scan, 1 thread", "-", CS__LIMIT_MAX);
		printf("%-28s %14.0f %10.1f %9.2fx (cshield 1 thread / naive)\n", "naive: jansson + hash set", naive,
		       naive * (double)c.len / (double)c.events / 1e6, eps[0] / naive);
		printf("hits per pass over the corpus: cshield %ld, naive %ld (substring and parent lookups), limit %ld (raw substrings)\n",
		       hits, nhits, lhits);
	}
	if (plot) {
		cs_bench_series_t a = {"engine: events/s by threads", "threads", "events/s", thr, eps, (size_t)max_threads};
		cs_bench_series_t b = {"engine: events/s by indicators (1 thread)", "indicators", "events/s", ind_x, ind_y, nx};
		if (cs_bench_plot_svg(plot, &a, nx ? &b : NULL))
			fprintf(stderr, "cshield-bench: cannot write %s\n", plot);
	}
	cs__decoded_free(&dd);
	cs_corr_db_destroy(db);
	cs_free(c.buf);
	cs_free(c.starts);
	cs_free(c.lens);
	return 0;
}

/* A reader for the swap figure: matches without pause, moving to a new set when published. */
typedef struct cs__swap_reader_s {
	cs_corr_live_t *live;
	atomic_int *stop;
	atomic_llong moved_ms; /* when it moved to the newest set */
	uint64_t want_gen;
	atomic_int *phase;     /* 0 steady, 1 around the swap, 2 done */
	uint32_t lat[2][65536]; /* match latencies in ns, steady and around the swap */
	size_t nlat[2];
} cs__swap_reader_t;

static int cs__swap_hit(void *opaque, const cs_corr_hit_t *hit) {
	(void)opaque;
	(void)hit;
	return 0;
}

static void *cs__swap_reader(void *arg) {
	cs__swap_reader_t *r = arg;
	char errstr[256];
	uint64_t gen;
	const cs_corr_db_t *db = cs_corr_live_acquire(r->live, &gen);
	cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	cs_obs_t obs = {CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "www.example-bench.eu", 20};
	while (scr && !atomic_load(r->stop)) {
		if (cs_corr_live_generation(r->live) != gen) {
			const cs_corr_db_t *n = cs_corr_live_acquire(r->live, &gen);
			if (cs_corr_scratch_update(scr, n, errstr, sizeof(errstr)))
				break;
			cs_corr_live_release(r->live, db); /* cheap: the publisher frees the old set */
			db = n;
			atomic_store(&r->moved_ms, cs_clock_ms());
		}
		{
			struct timespec a, b;
			int ph = atomic_load(r->phase);
			clock_gettime(CLOCK_MONOTONIC, &a);
			cs_corr_match(db, scr, &obs, cs__swap_hit, NULL);
			clock_gettime(CLOCK_MONOTONIC, &b);
			if (ph < 2 && r->nlat[ph] < 65536)
				r->lat[ph][r->nlat[ph]++] =
					(uint32_t)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
		}
	}
	cs_corr_scratch_destroy(scr);
	cs_corr_live_release(r->live, db);
	return NULL;
}

/*
 * Time from publishing a new set to the moment every reader matches with it
 * (readers move between events; the ingest workers also flush first, which
 * adds at most one Redis round trip).
 */
static int cs__cmp_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double cs__p99_us(cs__swap_reader_t *r, int ph) {
	static uint32_t all[2 * 65536];
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		memcpy(all + n, r[i].lat[ph], r[i].nlat[ph] * sizeof(*all));
		n += r[i].nlat[ph];
	}
	if (!n)
		return -1;
	qsort(all, n, sizeof(*all), cs__cmp_u32);
	return all[n * 99 / 100] / 1000.0;
}

/* Also the p99 match latency, steady and in the 50 ms around the swap, into p99[0] and p99[1] (us). */
static double cs__swap_ms(cs_corr_db_t *first, cs_corr_db_t *second, double *p99) {
	cs_corr_live_t *live = cs_corr_live_new(first);
	cs__swap_reader_t *r = cs_calloc(2, sizeof(*r));
	pthread_t th[2];
	atomic_int stop = 0, phase = 0;
	int64_t t0, last = 0;
	if (!live || !r)
		return -1;
	for (int i = 0; i < 2; i++) {
		r[i].live = live;
		r[i].stop = &stop;
		r[i].phase = &phase;
		atomic_store(&r[i].moved_ms, 0);
		pthread_create(&th[i], NULL, cs__swap_reader, &r[i]);
	}
	usleep(50000);
	atomic_store(&phase, 1);
	t0 = cs_clock_ms();
	cs_corr_live_publish(live, second);
	for (int waited = 0; waited < 10000; waited++) {
		if (atomic_load(&r[0].moved_ms) && atomic_load(&r[1].moved_ms))
			break;
		usleep(100);
	}
	cs_corr_live_collect(live); /* the loader's job: free the first set */
	usleep(50000);
	atomic_store(&phase, 2);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		if (atomic_load(&r[i].moved_ms) > last)
			last = atomic_load(&r[i].moved_ms);
	}
	cs_corr_live_destroy(live);
	p99[0] = cs__p99_us(r, 0);
	p99[1] = cs__p99_us(r, 1);
	cs_free(r);
	return last ? (double)(last - t0) : -1;
}

int cs_bench_indicators(const size_t *sizes, int nsizes, int json, const char *plot) {
	double xs[16], ys[16], yc[16], chg_ms[16];
	cs_jw_t jw; /* --json */
	char cache[] = "/tmp/cshield-bench-cache-XXXXXX";
	if (!mkdtemp(cache)) {
		fprintf(stderr, "cshield-bench: cannot create a cache directory in /tmp\n");
		return 1;
	}
	if (!json)
		printf("%12s %10s %10s %8s %10s %10s %8s %8s %8s %8s %8s\n", "indicators", "loaded", "rejected", "patterns",
		       "cold s", "cached s", "RSS MB", "1k chg ms", "swap ms", "p99 us", "swap p99");
	else {
		cs_jw_init(&jw, stdout);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "mode", "indicators");
		cs_jw_kint(&jw, "threads", 1);
		cs_jw_key(&jw, "sets");
		cs_jw_arr_begin(&jw);
	}
	for (int k = 0; k < nsizes && k < 16; k++) {
		char ind[64], errstr[512];
		const char *ip = ind;
		cs_corr_load_opts_t opts = {NULL, CS_TLP_AMBER, cache, NULL};
		int64_t rss0, t0;
		double secs, csecs, rss, swap, p99[2] = {-1, -1};
		cs_corr_db_t *db, *db2;
		uint32_t npat = 0;
		if (cs__gen_files(sizes[k], 0, 0, ind, NULL))
			return 1;
		rss0 = cs__rss_kb();
		t0 = cs_clock_ms();
		if (!(db = cs_corr_db_load_opts(&ip, 1, &opts, 1, errstr, sizeof(errstr)))) {
			fprintf(stderr, "cshield-bench: %s\n", errstr);
			return 1;
		}
		secs = (double)(cs_clock_ms() - t0) / 1000.0;
		rss = (double)(cs__rss_kb() - rss0) / 1024.0;
		t0 = cs_clock_ms(); /* the same files again: the patterns come from the cache */
		if (!(db2 = cs_corr_db_load_opts(&ip, 1, &opts, 2, errstr, sizeof(errstr)))) {
			fprintf(stderr, "cshield-bench: %s\n", errstr);
			return 1;
		}
		csecs = (double)(cs_clock_ms() - t0) / 1000.0;
		if (!strstr(cs_corr_db_patterns_note(db2), "from the cache"))
			fprintf(stderr, "cshield-bench: second load did not use the cache: %s\n", cs_corr_db_patterns_note(db2));
		unlink(ind);
		for (size_t i = 0; i < cs_corr_db_count(db); i++)
			npat += cs_corr_db_indicator(db, (uint32_t)i)->pattern;
		xs[k] = (double)sizes[k];
		ys[k] = secs;
		yc[k] = csecs;
		if (json) {
			cs_jw_obj_begin(&jw);
			cs_jw_kuint(&jw, "indicators", sizes[k]);
			cs_jw_kuint(&jw, "loaded", cs_corr_db_count(db));
			cs_jw_kuint(&jw, "rejected", cs_corr_db_reject_count(db));
			cs_jw_kuint(&jw, "patterns", npat);
			cs_jw_kfixed(&jw, "seconds", secs, 3);
			cs_jw_kfixed(&jw, "cached_seconds", csecs, 3);
			cs_jw_kfixed(&jw, "rss_mb", rss, 1);
		} else
			printf("%12zu %10zu %10zu %8u %10.2f %10.2f %8.1f", sizes[k], cs_corr_db_count(db),
			       cs_corr_db_reject_count(db), npat, secs, csecs, rss);
		{ /* 1,000 changes (500 new domains, 500 revocations of loaded values) layered over db2 */
			cs_corr_change_t ch[1000];
			char vals[500][64];
			cs_corr_db_t *top;
			int64_t tc = cs_clock_ms();
			for (int i = 0; i < 1000; i++) {
				memset(&ch[i], 0, sizeof(ch[i]));
				ch[i].tlp = ch[i].confidence = -1;
				if (i < 500) {
					snprintf(vals[i], sizeof(vals[i]), "new-%d.changes-bench.eu", i);
					ch[i].type = "domain";
					ch[i].value = vals[i];
				} else {
					ch[i].revoke = 1;
					ch[i].value = cs_corr_db_indicator(db2, (uint32_t)((size_t)(i - 500) * 7 % cs_corr_db_count(db2)))->value;
					ch[i].type = cs_corr_db_indicator(db2, (uint32_t)((size_t)(i - 500) * 7 % cs_corr_db_count(db2)))->pattern ? "pattern" : NULL;
				}
			}
			top = cs_corr_db_overlay(db2, ch, 1000, &opts, 3, errstr, sizeof(errstr));
			chg_ms[k] = (double)(cs_clock_ms() - tc);
			if (!top)
				fprintf(stderr, "cshield-bench: changes: %s\n", errstr);
			cs_corr_db_destroy(top);
		}
		if (json)
			cs_jw_kfixed(&jw, "changes_1k_ms", chg_ms[k], 1);
		else
			printf(" %8.1f", chg_ms[k]);
		swap = cs__swap_ms(db, db2, p99); /* takes both over */
		if (json) {
			cs_jw_kfixed(&jw, "swap_ms", swap, 1);
			cs_jw_kfixed(&jw, "match_p99_us_steady", p99[0], 2);
			cs_jw_kfixed(&jw, "match_p99_us_swap", p99[1], 2);
			cs_jw_obj_end(&jw);
		} else
			printf(" %8.1f %8.2f %8.2f\n", swap, p99[0], p99[1]);
		fflush(stdout);
	}
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", cache);
		if (system(cmd))
			fprintf(stderr, "cshield-bench: could not remove %s\n", cache);
	}
	if (json) {
		cs_jw_arr_end(&jw);
		cs_jw_obj_end(&jw);
		putchar('\n');
	} else
		printf("(cold: parse, index, compile the patterns and write them to the cache; cached: the same files "
		       "with the compiled patterns read back; 1k chg: 1,000 changes (500 additions, 500 revocations) "
		       "layered over the loaded set; swap: from publishing a set to both matching threads using it; p99: "
		       "match latency of those threads, steady and in the 50 ms around the swap)\n");
	if (plot) {
		cs_bench_series_t a = {"indicator set: load, cold", "indicators", "seconds", xs, ys, (size_t)nsizes};
		cs_bench_series_t b = {"indicator set: load, patterns from the cache", "indicators", "seconds", xs, yc,
				       (size_t)nsizes};
		if (cs_bench_plot_svg(plot, &a, &b))
			fprintf(stderr, "cshield-bench: cannot write %s\n", plot);
	}
	return 0;
}
