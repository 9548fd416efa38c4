/*
 * cs_bench.h - synthetic SOC events and indicator sets, deterministic for a seed.
 *
 * Events look like Suricata EVE (dns, tls, http, flow, alert records with the
 * field sizes of ../shared/data/events); observables are drawn Zipf-like from
 * a pool of benign hosts, and with probability hit_rate from the indicator set.
 */
#ifndef CS_BENCH_H
#define CS_BENCH_H

#include <stdio.h>
#include <stdint.h>
#include <stddef.h>

typedef struct cs_bench_gen_s cs_bench_gen_t;

typedef struct cs_bench_gen_opts_s {
	uint64_t seed;
	double hit_rate;     /* share of events carrying an indicator, 0..1 */
	int64_t ts_start_s;  /* event times are spread over [start, start + span) */
	int64_t ts_span_s;
	size_t indicators;   /* size of the indicator set made by cs_bench_gen_new() */
} cs_bench_gen_opts_t;

/** NULL on out of memory. */
cs_bench_gen_t *cs_bench_gen_new(const cs_bench_gen_opts_t *opts);
void cs_bench_gen_destroy(cs_bench_gen_t *gen);

/** Writes the indicator set, one a line, with a comment header. */
void cs_bench_gen_write_indicators(const cs_bench_gen_t *gen, FILE *fp);

typedef enum cs_bench_fmt_e {
	CS_BENCH_FMT_EVE,
	CS_BENCH_FMT_ECS,
	CS_BENCH_FMT_ZEEK,
	CS_BENCH_FMT_OCSF,
	CS_BENCH_FMT_CEF,
	CS_BENCH_FMT__CNT
} cs_bench_fmt_t;

/** "eve", "ecs", "zeek", "ocsf", "cef". */
const char *cs_bench_fmt2str(cs_bench_fmt_t fmt);
int cs_bench_fmt_parse(const char *s);

/** Writes the next Suricata EVE event (one JSON line, no newline) into buf; returns its length. */
size_t cs_bench_gen_event(cs_bench_gen_t *gen, char *buf, size_t size);

/**
 * Writes the next event in the given format (one line, no newline): the same
 * logical event (time, addresses, host, kind, hit or not) the EVE generator
 * makes, written as that format's tools write it.
 */
size_t cs_bench_gen_event_fmt(cs_bench_gen_t *gen, cs_bench_fmt_t fmt, char *buf, size_t size);

/** One series of a chart: n points (x[i], y[i]). */
typedef struct cs_bench_series_s {
	const char *title, *xlabel, *ylabel;
	const double *x, *y;
	size_t n;
} cs_bench_series_t;

/*
 * The sample participant registry: CSIRTs, CERTs, SOCs and private operators
 * of twelve member states. Events are attributed to them Zipf-like (a few
 * large national teams send most of the traffic) through the Kafka message
 * key, as a producer per participant would.
 */
/** Writes the sample registry as a participants.file (JSON). */
void cs_bench_gen_write_participants(FILE *fp);
/** The key (participant) of the next event; deterministic for the seed. */
const char *cs_bench_gen_org(cs_bench_gen_t *gen);

/** Writes an SVG with one or two line charts side by side (b may be NULL). 0 or -1. */
int cs_bench_plot_svg(const char *path, const cs_bench_series_t *a, const cs_bench_series_t *b);

#endif /* CS_BENCH_H */
