/*
 * cs_bench_decode.c - `cshield-bench decode`: the decoder alone, per format,
 * on a generated standard corpus, side by side with the naive baseline
 * (jansson parse + a lookup of every mapped path) and, where the build has
 * it, simdjson On-Demand reading the same paths (cs_bench_simdjson.cpp),
 * measured in the same run.
 * DESIGN: one thread; each measurement repeats whole passes over an
 * in-memory corpus for at least --seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cs_common.h"
#include "cs_json.h"
#include "cs_bench.h"
#include "cs_decode.h"
#include "cs_bench_modes.h"
#ifdef CS_BENCH_SIMDJSON
#include "cs_bench_simdjson.h"
#endif

typedef struct cs__corpus_s {
	char *buf;
	size_t len;
	long events;
} cs__corpus_t;

static int cs__corpus_make(cs__corpus_t *c, cs_bench_fmt_t fmt, long events, uint64_t seed) {
	cs_bench_gen_opts_t o = {seed, 0.001, 1795900000, 3600, 1000};
	cs_bench_gen_t *g = cs_bench_gen_new(&o);
	size_t cap = (size_t)events * 700 + 8192;
	if (!g || !(c->buf = cs_malloc(cap))) {
		cs_bench_gen_destroy(g);
		return -1;
	}
	c->len = 0;
	for (long i = 0; i < events; i++) {
		if (cap - c->len < 8192) {
			char *n = cs_realloc(c->buf, cap *= 2);
			if (!n)
				return -1;
			c->buf = n;
		}
		c->len += cs_bench_gen_event_fmt(g, fmt, c->buf + c->len, cap - c->len - 1);
		c->buf[c->len++] = '\n';
	}
	c->events = events;
	cs_bench_gen_destroy(g);
	return 0;
}

/* One pass of the streaming decoder over the corpus; returns observables seen. */
static long cs__pass_ours(cs_decode_t *dec, cs_decode_fmt_t fmt, const cs__corpus_t *c, long *rejected) {
	size_t pos = 0;
	long obs = 0;
	while (pos < c->len) {
		cs_decode_event_t ev;
		size_t used;
		if (cs_decode_one(dec, fmt, c->buf + pos, c->len - pos, &used, &ev) != CS_DECODE_OK)
			(*rejected)++;
		obs += (long)ev.obs_cnt;
		if (!used)
			break;
		pos += used;
	}
	return obs;
}

json_t *cs_bench_jget(json_t *o, const char *path) {
	json_t *v = json_object_get(o, path);
	const char *dot;
	char seg[128];
	if (v || !(dot = strchr(path, '.')) || (size_t)(dot - path) >= sizeof(seg))
		return v;
	memcpy(seg, path, (size_t)(dot - path));
	seg[dot - path] = '\0';
	v = json_object_get(o, seg);
	return json_is_object(v) ? cs_bench_jget(v, dot + 1) : NULL;
}

/* The naive baseline: jansson parses every line, then every mapped path is looked up. */
static long cs__pass_naive(cs_decode_fmt_t fmt, const cs__corpus_t *c) {
	const char *p = c->buf, *end = c->buf + c->len;
	long found = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_error_t err;
		json_t *doc = json_loadb(p, l, 0, &err);
		if (doc) {
			const char *path, *kind;
			cs_obs_role_t role;
			for (size_t i = 0; cs_decode_map_entry(fmt, i, &path, &kind, &role) == 0; i++)
				if (json_is_string(cs_bench_jget(doc, path)))
					found++;
			json_decref(doc);
		}
		p += l + 1;
	}
	return found;
}

typedef struct cs__res_s {
	double seconds, events_per_s, mb_per_s;
	long events;
} cs__res_t;

#define CS__MEASURE(res, min_s, events_per_pass, bytes_per_pass, body)                     \
	do {                                                                               \
		int64_t t0_ = cs_clock_ms(), el_;                                          \
		long passes_ = 0;                                                          \
		do {                                                                       \
			body;                                                              \
			passes_++;                                                         \
			el_ = cs_clock_ms() - t0_;                                         \
		} while (el_ < (int64_t)((min_s) * 1000));                                 \
		(res).seconds = (double)el_ / 1000.0;                                      \
		(res).events = passes_ * (events_per_pass);                                \
		(res).events_per_s = (double)(res).events / (res).seconds;                 \
		(res).mb_per_s = (double)passes_ * (double)(bytes_per_pass) / 1e6 / (res).seconds; \
	} while (0)

int cs_bench_decode(int argc_fmt, const char *only_fmt, long events, double min_s, int json) {
	cs_decode_conf_t *conf = cs_decode_conf_new();
	cs_decode_t *dec;
	char errstr[256];
	double tot_bytes = 0, tot_sec = 0, tot_ev = 0, nv_bytes = 0, nv_sec = 0, nv_ev = 0;
	double sj_bytes = 0, sj_sec = 0, js_bytes = 0, js_sec = 0; /* simdjson, and ours on the same formats */
	cs_jw_t jw; /* --json */

	if (!conf || !(dec = cs_decode_new(conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-bench: decoder: %s\n", conf ? errstr : "out of memory");
		return 1;
	}
	if (!json) {
#ifdef CS_BENCH_SIMDJSON
		printf("simdjson On-Demand baseline: kernel %s, reads the mapped paths only (no normalization; "
		       "validates only what it reads)\n",
		       cs_bench_sj_impl());
#endif
		printf("%-6s %9s %9s | %10s %12s | %10s %12s | %8s | %13s %11s\n", "format", "events", "MB", "ours MB/s",
		       "ours ev/s", "naive MB/s", "naive ev/s", "vs_naive", "simdjson MB/s", "vs_simdjson");
	}
	else {
		cs_jw_init(&jw, stdout);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "mode", "decode");
		cs_jw_kint(&jw, "threads", 1);
		cs_jw_key(&jw, "formats");
		cs_jw_arr_begin(&jw);
	}
	for (int f = 0; f < CS_BENCH_FMT__CNT; f++) {
		cs__corpus_t c = {0};
		cs__res_t ours, naive = {0}, sj = {0};
		cs_decode_fmt_t dfmt = (cs_decode_fmt_t)cs_decode_fmt_parse(cs_bench_fmt2str((cs_bench_fmt_t)f));
		long rejected = 0, obs = 0;
		if (argc_fmt && strcmp(only_fmt, cs_bench_fmt2str((cs_bench_fmt_t)f)))
			continue;
		if (cs__corpus_make(&c, (cs_bench_fmt_t)f, events, 1)) {
			fprintf(stderr, "cshield-bench: out of memory\n");
			return 1;
		}
		CS__MEASURE(ours, min_s, c.events, c.len, obs = cs__pass_ours(dec, dfmt, &c, &rejected));
		if (rejected) {
			fprintf(stderr, "cshield-bench: %ld %s events rejected by the decoder: the corpus is broken\n",
				rejected, cs_bench_fmt2str((cs_bench_fmt_t)f));
			return 1;
		}
		if (dfmt != CS_DECODE_FMT_CEF)
			CS__MEASURE(naive, min_s, c.events, c.len, cs__pass_naive(dfmt, &c));
#ifdef CS_BENCH_SIMDJSON
		if (dfmt != CS_DECODE_FMT_CEF) {
			cs_bench_sj_t *b = cs_bench_sj_new((int)dfmt, c.buf, c.len);
			long docs = 0;
			if (!b || cs_bench_sj_pass(b, &docs) < 0 || docs != c.events) {
				fprintf(stderr, "cshield-bench: simdjson read %ld of %ld %s events\n", docs, c.events,
					cs_bench_fmt2str((cs_bench_fmt_t)f));
				return 1;
			}
			CS__MEASURE(sj, min_s, c.events, c.len, cs_bench_sj_pass(b, &docs));
			cs_bench_sj_destroy(b);
			sj_bytes += sj.mb_per_s * sj.seconds;
			sj_sec += sj.seconds;
			js_bytes += ours.mb_per_s * ours.seconds;
			js_sec += ours.seconds;
		}
#endif
		tot_bytes += ours.mb_per_s * ours.seconds;
		tot_sec += ours.seconds;
		tot_ev += (double)ours.events;
		if (naive.seconds > 0) {
			nv_bytes += naive.mb_per_s * naive.seconds;
			nv_sec += naive.seconds;
			nv_ev += (double)naive.events;
		}
		if (!json) {
			printf("%-6s %9ld %9.1f | %10.1f %12.0f | ", cs_bench_fmt2str((cs_bench_fmt_t)f), c.events,
			       (double)c.len / 1e6, ours.mb_per_s, ours.events_per_s);
			if (naive.seconds > 0)
				printf("%10.1f %12.0f | %7.1fx | ", naive.mb_per_s, naive.events_per_s,
				       ours.events_per_s / naive.events_per_s);
			else
				printf("%10s %12s | %8s | ", "n/a", "n/a", "n/a");
			if (sj.seconds > 0)
				printf("%13.1f %10.2fx\n", sj.mb_per_s, ours.mb_per_s / sj.mb_per_s);
			else
				printf("%13s %11s\n", "n/a", "n/a");
		} else {
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "format", cs_bench_fmt2str((cs_bench_fmt_t)f));
			cs_jw_kint(&jw, "events", ours.events);
			cs_jw_kuint(&jw, "bytes", c.len);
			cs_jw_kfixed(&jw, "observables_per_event", (double)obs / (double)c.events, 2);
			cs_jw_kfixed(&jw, "seconds", ours.seconds, 3);
			cs_jw_kfixed(&jw, "events_per_s", ours.events_per_s, 0);
			cs_jw_kfixed(&jw, "mb_per_s", ours.mb_per_s, 1);
			if (naive.seconds > 0) {
				cs_jw_kfixed(&jw, "naive_events_per_s", naive.events_per_s, 0);
				cs_jw_kfixed(&jw, "naive_mb_per_s", naive.mb_per_s, 1);
				cs_jw_kfixed(&jw, "vs_naive", ours.events_per_s / naive.events_per_s, 2);
			}
			if (sj.seconds > 0) {
				cs_jw_kfixed(&jw, "simdjson_events_per_s", sj.events_per_s, 0);
				cs_jw_kfixed(&jw, "simdjson_mb_per_s", sj.mb_per_s, 1);
				cs_jw_kfixed(&jw, "vs_simdjson", ours.mb_per_s / sj.mb_per_s, 3);
			}
			cs_jw_obj_end(&jw);
		}
		cs_free(c.buf);
	}
	if (json) {
		cs_jw_arr_end(&jw);
		cs_jw_kfixed(&jw, "events", tot_ev, 0);
		cs_jw_kfixed(&jw, "seconds", tot_sec, 3);
		cs_jw_kfixed(&jw, "events_per_s", tot_ev / tot_sec, 0);
		cs_jw_kfixed(&jw, "mb_per_s", tot_bytes / tot_sec, 1);
		cs_jw_kfixed(&jw, "naive_events_per_s", nv_sec > 0 ? nv_ev / nv_sec : 0, 0);
		cs_jw_kfixed(&jw, "vs_naive", nv_sec > 0 ? (tot_ev / tot_sec) / (nv_ev / nv_sec) : 0, 2);
		if (sj_sec > 0) {
			cs_jw_kfixed(&jw, "simdjson_mb_per_s", sj_bytes / sj_sec, 1);
			cs_jw_kfixed(&jw, "vs_simdjson", (js_bytes / js_sec) / (sj_bytes / sj_sec), 3);
		}
		cs_jw_obj_end(&jw);
		putchar('\n');
	} else {
		printf("all    %9.0f events in %.1f s: %.1f MB/s, %.0f events/s per core (naive, JSON formats: %.1f MB/s)\n",
		       tot_ev, tot_sec, tot_bytes / tot_sec, tot_ev / tot_sec, nv_sec > 0 ? nv_bytes / nv_sec : 0);
		if (sj_sec > 0)
			printf("JSON formats: ours %.1f MB/s, simdjson On-Demand %.1f MB/s: %.2fx\n", js_bytes / js_sec,
			       sj_bytes / sj_sec, (js_bytes / js_sec) / (sj_bytes / sj_sec));
	}
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	return 0;
}
