/*
 * cs_bench_modes.h - the measurement modes of the cshield-bench program
 * (cs_bench_decode.c, cs_bench_engine.c, cs_bench_e2e.c) and what they share.
 * Not a library API: these files make up the program with cs_bench_main.c.
 */
#ifndef CS_BENCH_MODES_H
#define CS_BENCH_MODES_H

#include <stddef.h>
#include <jansson.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>

int cs_bench_decode(int argc_fmt, const char *only_fmt, long events, double min_s, int json);
int cs_bench_engine(long events, size_t nind, int max_threads, double min_s, double hit_rate, int json,
		    const char *plot);
int cs_bench_indicators(const size_t *sizes, int nsizes, int json, const char *plot);
int cs_bench_e2e(long events, size_t nind, int workers, int json);
int cs_bench_report(size_t nind, int participants, int days, int json);
int cs_bench_retro(long events, size_t nind, int json);

/*
 * Kafka client properties from -X key=value (a "kafka." prefix is allowed):
 * applied to every Kafka client the bench makes, written into the
 * configuration of the cshield-ingest it runs, and passed to kcat, so that the
 * bench runs against a broker that needs TLS or SASL too.
 */
int cs_bench_kafka_add(const char *kv);
/** Applies them to conf; 0, or -1 with errstr set. */
int cs_bench_kafka_apply(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);
/** Writes them as "kafka.<key>=<value>" lines (a cshield-ingest configuration). */
void cs_bench_kafka_conf_lines(FILE *fp);
/** Appends " -X '<key>=<value>'" for each to buf (a kcat command line). */
void cs_bench_kafka_kcat_args(char *buf, size_t size);

/** The naive baselines' lookup: a dotted path nested, or as one flat key (Zeek). */
json_t *cs_bench_jget(json_t *o, const char *path);

#endif /* CS_BENCH_MODES_H */
