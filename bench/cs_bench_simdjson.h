/*
 * cs_bench_simdjson.h - the simdjson On-Demand baseline (cs_bench_simdjson.cpp),
 * present when CS_BENCH_SIMDJSON is defined. Bench only.
 */
#ifndef CS_BENCH_SIMDJSON_H
#define CS_BENCH_SIMDJSON_H

#include <stddef.h>

typedef struct cs_bench_sj_s cs_bench_sj_t;

/** A baseline over a copy of the NDJSON corpus buf[0..len) for format fmt (cs_decode_fmt_t). */
cs_bench_sj_t *cs_bench_sj_new(int fmt, const char *buf, size_t len);
/** One pass: the mapped values read; *docs the events. -1 if simdjson refused the corpus. */
long cs_bench_sj_pass(cs_bench_sj_t *sj, long *docs);
/** simdjson's kernel on this CPU ("icelake", "haswell", "westmere", "fallback"). */
const char *cs_bench_sj_impl(void);
void cs_bench_sj_destroy(cs_bench_sj_t *sj);

#endif /* CS_BENCH_SIMDJSON_H */
