/*
 * cs_report.h - reading the hit aggregates back from Redis.
 *
 * First slice: per-window hit counts per indicator for a time range, as a
 * table or JSON lines. Issue-tracked work replaces the output with the
 * TLP-filtered situation reports (HTML, Markdown, JSON).
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>
#include <stdint.h>

#include "cs_common.h"

typedef struct cs_report_row_s {
	int64_t window; /* window start, epoch seconds */
	char *indicator;
	int64_t hits;
} cs_report_row_t;

typedef struct cs_report_s cs_report_t;

typedef struct cs_report_opts_s {
	const char *redis_host;
	int redis_port;
	const char *key_prefix; /* "cs" */
	int64_t window_s;       /* 60 */
	int64_t from, to;       /* epoch seconds, inclusive window starts */
} cs_report_opts_t;

/**
 * Reads every (window, indicator, hits) in [from, to], ordered by window,
 * then hits (descending), then indicator.
 * @returns NULL with errstr set on a Redis error.
 */
cs_report_t *cs_report_fetch(const cs_report_opts_t *opts, char *errstr, size_t errstr_size);
size_t cs_report_row_count(const cs_report_t *rep);
const cs_report_row_t *cs_report_row(const cs_report_t *rep, size_t i);
/** Totals recorded by ingest: events seen and hits counted (all time). */
int64_t cs_report_total(const cs_report_t *rep, const char *field);
void cs_report_print_table(const cs_report_t *rep, FILE *fp);
void cs_report_print_jsonl(const cs_report_t *rep, FILE *fp);
void cs_report_destroy(cs_report_t *rep);

#endif /* CS_REPORT_H */
