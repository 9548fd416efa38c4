/*
 * cs_ingest.h - cshield-ingest: Kafka consumer group in, Redis aggregates out.
 *
 * Flow (docs/ARCHITECTURE.md): message -> cs_decode_message() -> observables ->
 * cs_corr_match() -> hits -> cs_ingest_agg (per window, per indicator) ->
 * cs_ingest_redis flush, which applies the deltas and the next offset of every
 * partition they cover in one Lua script that checks everything before it
 * writes, so a replay never counts twice and a refusal writes nothing.
 */
#ifndef CS_INGEST_H
#define CS_INGEST_H

#include <stdio.h>

#include "cs_common.h"
#include "cs_conf.h"

typedef struct cs_ingest_conf_s cs_ingest_conf_t;
typedef struct cs_ingest_s cs_ingest_t;

/** A configuration with every default applied. NULL on out of memory. */
cs_ingest_conf_t *cs_ingest_conf_new(void);
void cs_ingest_conf_destroy(cs_ingest_conf_t *conf);

/** Sets one property (own, "kafka.*" or "redis.*"). */
cs_err_t cs_ingest_conf_set(cs_ingest_conf_t *conf, const char *key, const char *value,
			    char *errstr, size_t errstr_size);
/** Reads a properties file; errors name file:line and the key. */
cs_err_t cs_ingest_conf_load(cs_ingest_conf_t *conf, const char *path, char *errstr,
			     size_t errstr_size);
/** "key=value" from the command line. */
cs_err_t cs_ingest_conf_set_kv(cs_ingest_conf_t *conf, const char *kv, char *errstr,
			       size_t errstr_size);
/**
 * Checks what each property alone cannot: required properties, labels,
 * log level, the key prefix, the metrics address. cs_ingest_new() checks it
 * too; call it first to tell a configuration error (exit 2) from a run-time one.
 */
cs_err_t cs_ingest_conf_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);

/**
 * Makes conf a retro-hunt (docs/ESCALATION.md): the indicators of file only,
 * looked for in the events the topics hold from since_ms (Kafka timestamps,
 * ms) to until_ms (0: each partition's end when the run starts), by a consumer
 * group of its own, "<group.id>-retro-<12 hex digits>" derived from the file's
 * contents and the period (the same hunt run again resumes, and counts
 * nothing twice); one worker, no alerts, dead letters, change feed, reloads,
 * relay or metrics endpoint. The run ends by itself once every partition is
 * read to its range's end. Hits go to P:retro, apart from the live windows,
 * and to the escalation rule. Call after the files and -X settings.
 */
cs_err_t cs_ingest_conf_retro(cs_ingest_conf_t *conf, const char *file, int64_t since_ms, int64_t until_ms,
			      char *errstr, size_t errstr_size);
/** Writes the property tables as Markdown (docs/CONFIGURATION.md). */
void cs_ingest_conf_doc_md(FILE *fp);

/**
 * Creates the runtime: loads the indicators, creates the consumer.
 * @remark takes ownership of conf, also on failure; the caller sets its pointer to NULL.
 * @returns NULL with errstr set on failure.
 */
cs_ingest_t *cs_ingest_new(cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);

/**
 * Consumes until cs_ingest_stop(), then flushes, commits and leaves the group.
 * @returns CS_ERR_OK on a clean stop; CS_ERR_REDIS if the final flush could not
 *          be written (those events are replayed on the next start, not lost).
 * @locality the calling thread runs the consumer
 */
cs_err_t cs_ingest_run(cs_ingest_t *ing);

/** Asks run() to stop. @locality any thread, async-signal-safe */
void cs_ingest_stop(cs_ingest_t *ing);
/**
 * Asks for the indicator files to be loaded again (the loader thread does it,
 * the workers move to the new set after their next flush).
 * @locality any thread; async-signal-safe (SIGHUP)
 */
void cs_ingest_reload(cs_ingest_t *ing);

void cs_ingest_destroy(cs_ingest_t *ing);

#endif /* CS_INGEST_H */
