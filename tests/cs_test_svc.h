/*
 * cs_test_svc.h - helpers of the tests that need the real Kafka broker and
 * redis-server (label "services"): addresses from CS_KAFKA_BOOTSTRAP and
 * CS_REDIS_ADDR, topics, producing, spawning cshield-ingest, reading Redis.
 */
#ifndef CS_TEST_SVC_H
#define CS_TEST_SVC_H

#include <sys/types.h>
#include <librdkafka/rdkafka.h>
#include <hiredis/hiredis.h>

#include "cs_test.h"

/** 0 if both services are configured; CS_TEST_SKIP (or 1 if CS_REQUIRE_SERVICES=1) if not. */
int cs_svc_check(void);
const char *cs_svc_kafka(void);
redisContext *cs_svc_redis(void);

/** Creates a topic with n partitions. 0 or -1 (error printed). */
int cs_svc_topic_create(const char *topic, int partitions);
/** As cs_svc_topic_create(), with one topic config (key NULL: none). */
int cs_svc_topic_create_conf(const char *topic, int partitions, const char *key, const char *value);
/** Sets a topic config (AlterConfigs: the topic's other dynamic configs return to their defaults). 0 or -1. */
int cs_svc_topic_config(const char *topic, const char *key, const char *value);
/** A producer with the given compression codec (none, lz4, zstd), idempotent. */
rd_kafka_t *cs_svc_producer(const char *codec);
/** Produces one message to an explicit partition, with timestamp ts_ms (0 = now). */
int cs_svc_produce(rd_kafka_t *rk, const char *topic, int partition, const char *payload, size_t len,
		   int64_t ts_ms);
/** As cs_svc_produce(), with a message key (NULL: none). */
int cs_svc_produce_key(rd_kafka_t *rk, const char *topic, int partition, const char *key, const char *payload,
		       size_t len, int64_t ts_ms);
/** The last value of header `name` of m as a string in buf, or NULL (absent, or too long for buf). */
const char *cs_svc_header(const rd_kafka_message_t *m, const char *name, char *buf, size_t size);
/** Flushes and checks every delivery succeeded; destroys rk. 0 or -1. */
int cs_svc_producer_close(rd_kafka_t *rk);
/** High watermark of each partition 0..n-1 into hw[]. */
int cs_svc_watermarks(const char *topic, int partitions, int64_t *hw);
/** The sum of the high watermarks of partitions 0..n-1 (messages in the topic), or -1. */
int64_t cs_svc_log_end(const char *topic, int partitions);

/** Counts (window, indicator) -> hits. */
typedef struct cs_svc_count_s {
	int64_t window;
	char ind[256];
	int64_t hits;
} cs_svc_count_t;

typedef struct cs_svc_counts_s {
	cs_svc_count_t *v;
	size_t cnt, cap;
} cs_svc_counts_t;

void cs_svc_counts_add(cs_svc_counts_t *c, int64_t window, const char *ind, int64_t n);
void cs_svc_counts_free(cs_svc_counts_t *c);
/** The hits of every (window, indicator) in c. */
int64_t cs_svc_counts_hits(const cs_svc_counts_t *c);
/** Reads every window hash under prefix (aggregate.key.prefix) into c. */
int cs_svc_counts_from_redis(redisContext *rc, const char *prefix, int64_t window_s, cs_svc_counts_t *c);
/** Compares; prints every difference. 0 when equal. */
int cs_svc_counts_compare(const cs_svc_counts_t *expected, const cs_svc_counts_t *got);

/** Sum of the offsets recorded in Redis for topic's partitions, or -1. */
int64_t cs_svc_redis_offsets(redisContext *rc, const char *prefix, const char *group,
			     const char *topic, int partitions, int64_t *per_part);

/** Starts cshield-ingest -c conf, stdout+stderr appended to logfile. */
pid_t cs_svc_ingest_start(const char *conf, const char *logfile);
/** Waits up to timeout_ms for pid; returns its exit status, -2 if it was killed by a signal, -1 on timeout. */
int cs_svc_wait(pid_t pid, int timeout_ms);
/** Prints the last lines of a log file to stderr. */
void cs_svc_dump_log(const char *logfile);

/** Committed offsets of group for topic's partitions. 0 or -1. */
int cs_svc_committed(const char *group, const char *topic, int partitions, int64_t *off);

/** Sleeps ms milliseconds. */
void cs_svc_sleep_ms(int ms);



/* ---- the e2e workload: events whose hits the test knows by construction ---- */

/** Writes the workload's indicator list to path. */
int cs_svc_work_indicators(const char *path);

/**
 * Produces n events (the first half lz4-compressed, the second zstd) round-robin
 * over partitions, with times in [t0, t0 + 300 s); adds the hits each event
 * must give to exp (1-minute windows) and counts the malformed ones.
 */
int cs_svc_work_produce(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
			cs_svc_counts_t *exp, long *malformed);

/**
 * As cs_svc_work_produce(), every message with Kafka timestamp arrival_ms (0:
 * now); with grace_s > 0 an event older than arrival - grace_s is expected in
 * the window of its arrival and counted in *late (NULL: not counted).
 */
int cs_svc_work_produce_arriving(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
				 int64_t arrival_ms, int64_t grace_s, cs_svc_counts_t *exp, long *malformed, long *late);

/** Reads partition 0 of topic from the beginning until n messages or timeout_ms; calls cb on each. Returns the count. */
long cs_svc_consume(const char *topic, long n, int timeout_ms, void (*cb)(void *opaque, const rd_kafka_message_t *m),
		    void *opaque);

#include "cs_obs.h"

/** Names and files of one service test's run. */
typedef struct cs_svc_run_s {
	char topic[128], group[160], prefix[64], ind[512], conf[512], logf[512];
	/* the run's keys that do not depend on a window (common/cs_keys.h) */
	char k_stats[128], k_rejects[128], k_suppressed[128], k_off[256];
	char k_alerts[CS_TLP__CNT][128]; /* the alert stream of each TLP */
} cs_svc_run_t;

/**
 * Names a run after `name` (topic, group, Redis key prefix unique to this
 * process), writes the workload's indicator list, and a cshield-ingest
 * configuration with the connection settings plus `extra` (key=value lines,
 * where {topic} and {tmp} stand for the topic name and the test's temp folder;
 * an indicators.file there replaces the workload's list, {tmp}/indicators.txt).
 * Returns 0 or -1.
 */
int cs_svc_run_init(cs_svc_run_t *r, const char *name, const char *extra);
/** Entries in the run's alert streams, all TLPs (XLEN summed), or -1. */
long long cs_svc_alerts_len(redisContext *rc, const cs_svc_run_t *run);

/**
 * Waits until the offsets cshield-ingest recorded in Redis for the run's topic
 * sum to total; on timeout prints the ingest log and kills pid. 0 or -1.
 */
int cs_svc_wait_lag0(redisContext *rc, const cs_svc_run_t *run, int partitions, int64_t total, pid_t pid,
		     int timeout_ms);
/**
 * Waits (up to timeout_ms) until the offsets cshield-ingest recorded in Redis
 * for the run's topic sum to at least at_least; returns the sum then (the last
 * reading on timeout: the caller checks it).
 */
int64_t cs_svc_wait_offsets(redisContext *rc, const cs_svc_run_t *run, int partitions, int64_t at_least,
			    int timeout_ms);
/** Reads the run's windows from Redis and compares them with exp; on a difference prints the log, kills pid (if > 0). */
int cs_svc_check_counts(redisContext *rc, const cs_svc_run_t *run, const cs_svc_counts_t *exp, pid_t pid);

/**
 * Reads the run's alert stream (P:alerts) whole: every alert exactly once, its
 * entry's id field equal to the alert's id, and the alerts counted per
 * (window of their time, indicator) equal exp. 0 when so.
 */
int cs_svc_check_alert_stream(redisContext *rc, const cs_svc_run_t *run, const cs_svc_counts_t *exp);
/**
 * Reads the alerts topic (partition 0): keys equal to the alerts' ids, and,
 * de-duplicated on the id, counts per (window, indicator) equal to exp;
 * no_repeats: no id may repeat (no replay happened). 0 when so.
 */
int cs_svc_check_alert_topic(const char *topic, const cs_svc_counts_t *exp, long expected, int no_repeats);

/** HGET key field as an integer, or -1 (absent, not a string, Redis down). */
long long cs_svc_hget(redisContext *rc, const char *key, const char *field);

/** One command to the Redis (or Sentinel) at host:port on a connection of its own (1 s timeout); the reply, or NULL. */
redisReply *cs_svc_redis_ask(const char *host, int port, const char *cmd);
/** Whether the Sentinel at host:port sees master with exactly `replicas` replicas and `others` other Sentinels. */
int cs_svc_sentinel_ready(const char *host, int port, const char *master, int replicas, int others);

/** A TCP port free on 127.0.0.1 now, or -1. */
int cs_svc_free_port(void);
/** The "export KEY=VALUE" (or KEY=VALUE) lines of a file into the environment. 0 or -1. */
int cs_svc_load_env(const char *path);

/** The port cshield-ingest logged for its metrics endpoint (the last one), or -1. */
int cs_svc_metrics_port(const char *logfile);
/** GET path from 127.0.0.1:port into buf (headers and body); the HTTP status, or -1. */
int cs_svc_http_get(int port, const char *path, char *buf, size_t size);
/** Sum of the samples of metric `name` (with `label` in their labels when not NULL). */
long long cs_svc_metric_sum(const char *text, const char *name, const char *label);

/** Lines of cshield-ingest's log that contain needle. */
int cs_svc_log_count(const char *logfile, const char *needle);
/** Waits until the log has count lines with needle; 0, or -1 on timeout (said, the log printed, pid killed if > 0). */
int cs_svc_wait_log(const char *logfile, const char *needle, int count, int timeout_ms, pid_t pid);
/**
 * As cs_svc_work_produce(), for an indicator set that lacks `without`: its
 * hits are not added to exp.
 */
int cs_svc_work_produce_without(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
				const char *without, cs_svc_counts_t *exp);

#endif /* CS_TEST_SVC_H */
