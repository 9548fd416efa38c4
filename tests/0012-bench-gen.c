/*
 * 0012-bench-gen: the benchmark generator keeps its promises, so that the
 * figures in docs/PERFORMANCE.md mean what they say: in every format, an
 * event drawn as a hit carries an indicator the engine finds, an event drawn
 * as background hits nothing, and the same seed gives the same bytes.
 */
#include "cs_test.h"
#include "cs_bench.h"
#include "cs_correlate.h"
#include "cs_decode.h"

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	(void)hit;
	*(int *)opaque = 1;
	return 0;
}

/* Events (of n) with at least one hit, in format fmt at hit rate `rate`. */
static int hits(cs_bench_fmt_t fmt, double rate, int n, const char *ind_path, cs_corr_db_t *db, cs_corr_scratch_t *scr) {
	cs_bench_gen_opts_t o = {3, rate, 1795900000, 900, 5000};
	cs_bench_gen_t *g = cs_bench_gen_new(&o);
	cs_decode_conf_t *dc = cs_decode_conf_new();
	char errstr[256], buf[8192];
	cs_decode_t *dec = cs_decode_new(dc, errstr, sizeof(errstr));
	int with = 0;
	(void)ind_path;
	for (int i = 0; g && dec && i < n; i++) {
		size_t len = cs_bench_gen_event_fmt(g, fmt, buf, sizeof(buf)), used;
		cs_decode_event_t ev;
		int hit = 0;
		if (cs_decode_one(dec, CS_DECODE_FMT_AUTO, buf, len, &used, &ev) != CS_DECODE_OK) {
			CS_TEST_SAY("%s event %d rejected by the decoder: %.*s", cs_bench_fmt2str(fmt), i, (int)len, buf);
			with = -1000000;
			break;
		}
		for (size_t k = 0; k < ev.obs_cnt; k++)
			cs_corr_match(db, scr, &ev.obs[k], on_hit, &hit);
		with += hit;
	}
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(dc);
	cs_bench_gen_destroy(g);
	return with;
}

int cs_test_0012(void) {
	char path[512], errstr[512], a[8192], b[8192];
	cs_bench_gen_opts_t o = {3, 0.5, 1795900000, 900, 5000};
	cs_bench_gen_t *g;
	cs_corr_db_t *db;
	cs_corr_scratch_t *scr;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/bench-ind.txt", cs_test_tmpdir());
	CS_TEST_ASSERT((g = cs_bench_gen_new(&o)) && (fp = fopen(path, "w")), "generator");
	cs_bench_gen_write_indicators(g, fp);
	fclose(fp);
	cs_bench_gen_destroy(g);
	CS_TEST_ASSERT((db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
	for (int f = 0; f < CS_BENCH_FMT__CNT; f++) {
		int h1 = hits((cs_bench_fmt_t)f, 1.0, 400, path, db, scr), h0 = hits((cs_bench_fmt_t)f, 0.0, 400, path, db, scr);
		CS_TEST_SAY("%-5s hit rate 1: %d of 400 events hit; hit rate 0: %d", cs_bench_fmt2str((cs_bench_fmt_t)f), h1, h0);
		CS_TEST_EQ_INT(h1, 400);
		CS_TEST_EQ_INT(h0, 0);
	}
	/* deterministic for a seed */
	{
		cs_bench_gen_t *g1 = cs_bench_gen_new(&o), *g2 = cs_bench_gen_new(&o);
		for (int i = 0; i < 200; i++) {
			size_t l1 = cs_bench_gen_event_fmt(g1, (cs_bench_fmt_t)(i % CS_BENCH_FMT__CNT), a, sizeof(a));
			size_t l2 = cs_bench_gen_event_fmt(g2, (cs_bench_fmt_t)(i % CS_BENCH_FMT__CNT), b, sizeof(b));
			CS_TEST_ASSERT(l1 == l2 && !memcmp(a, b, l1), "event %d differs for the same seed", i);
			CS_TEST_EQ_STR(cs_bench_gen_org(g1), cs_bench_gen_org(g2));
		}
		cs_bench_gen_destroy(g1);
		cs_bench_gen_destroy(g2);
	}
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);
	return 0;
}
