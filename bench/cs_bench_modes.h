/*
 * cs_bench_modes.h - the measurement modes of the cshield-bench program
 * (cs_bench_decode.c, cs_bench_engine.c, cs_bench_e2e.c) and what they share.
 * Not a library API: these files make up the program with cs_bench_main.c.
 */
#ifndef CS_BENCH_MODES_H
#define CS_BENCH_MODES_H

#include <stddef.h>
#include <jansson.h>

int cs_bench_decode(int argc_fmt, const char *only_fmt, long events, double min_s, int json);
int cs_bench_engine(long events, size_t nind, int max_threads, double min_s, double hit_rate, int json,
		    const char *plot);
int cs_bench_indicators(const size_t *sizes, int nsizes, int json, const char *plot);
int cs_bench_e2e(long events, size_t nind, int workers, int json);
int cs_bench_report(size_t nind, int participants, int days, int json);
int cs_bench_retro(long events, size_t nind, int json);

/** The naive baselines' lookup: a dotted path nested, or as one flat key (Zeek). */
json_t *cs_bench_jget(json_t *o, const char *path);

#endif /* CS_BENCH_MODES_H */
