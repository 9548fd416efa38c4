/*
 * cs_alerts.h - following correlated alerts: an analyst team's subscription
 * to the alert stream (P:alerts, docs/REDIS.md) through a Redis consumer group.
 *
 * Each team is a consumer group, each reader of the team a consumer: entries
 * are delivered once to the team, acknowledged (XACK) only after the caller
 * has taken them (so a reader killed mid-way gets its unacknowledged entries
 * again when it restarts), entries a crashed reader left pending are
 * reclaimed (XAUTOCLAIM) after min_idle_ms, and a team that fell behind the
 * stream's trimming (alerts.stream.maxlen) is told how many it missed.
 * Filters (audience TLP, organization, indicator type, source, confidence,
 * member state) choose what is passed on; entries filtered out are
 * acknowledged too (the team has seen and dropped them).
 *
 * The filter on TLP is the reader's choice, not enforcement: what Redis lets
 * a reader read is the production issue's per-TLP streams and ACLs.
 * @locality one thread per cs_alerts_t
 */
#ifndef CS_ALERTS_H
#define CS_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "cs_common.h"
#include "cs_obs.h"

typedef struct cs_alerts_filter_s {
	cs_tlp_t tlp;             /* the audience: alerts marked above it are dropped (default red: all) */
	const char *org;          /* NULL: any; else the alert's "org" */
	const char *type;         /* indicator type (domain, ipv4, ...) */
	const char *source;       /* indicator source */
	const char *member_state; /* the participant's member state */
	int min_confidence;       /* -1: any; else alerts without a confidence are dropped too */
} cs_alerts_filter_t;

typedef struct cs_alerts_opts_s {
	const char *redis_host;
	int redis_port;
	const char *redis_user, *redis_password; /* AUTH (an ACL user) when a password is set; never logged */
	const char *key_prefix; /* aggregate.key.prefix */
	const char *group;      /* the team */
	const char *consumer;   /* this reader */
	int from_start;         /* a new group starts at the stream's first entry (else: new alerts only) */
	int64_t min_idle_ms;    /* reclaim entries another reader left pending this long (default 60000) */
	int block_ms;           /* how long one poll waits for new entries (default 1000) */
	int count;              /* entries per read (default 100) */
	cs_alerts_filter_t filter;
	/* instead of Redis: the alerts topic (alerts.topic) through a Kafka consumer group named
	 * group, offsets committed after the alerts were taken, repeated ids (a replay after an
	 * ingest crash) passed on once (the last dedup_ids ids remembered) */
	const char *kafka_brokers, *kafka_topic;
	size_t dedup_ids; /* default 1,000,000 */
} cs_alerts_opts_t;

typedef struct cs_alerts_s cs_alerts_t;

/** An alert passed on: its stream entry id, its JSON. Return non-zero to stop (the entry is not acknowledged). */
typedef int(cs_alerts_cb_t)(void *opaque, const char *entry_id, const char *json, size_t len);

/** Connects and creates the group if needed. @returns NULL with errstr set. */
cs_alerts_t *cs_alerts_new(const cs_alerts_opts_t *opts, char *errstr, size_t errstr_size);
/**
 * One round: on the first call this reader's own pending entries (a restart),
 * then entries other readers left pending longer than min_idle_ms, then new
 * entries (waiting up to block_ms). Each entry that passes the filter goes to
 * cb; every entry cb took (or the filter dropped) is acknowledged.
 * @returns the entries passed on, or -1 with errstr set (Redis), or -2 when cb stopped.
 */
long cs_alerts_poll(cs_alerts_t *a, cs_alerts_cb_t *cb, void *opaque, char *errstr, size_t errstr_size);
/** Entries trimmed from the stream before the team read them, newly found by the last poll (0: none). */
int64_t cs_alerts_missed(const cs_alerts_t *a);
/** Totals: entries acknowledged (each once), passed on, dropped by the filter, reclaimed from other readers. */
void cs_alerts_stats(const cs_alerts_t *a, int64_t *acked, int64_t *passed, int64_t *dropped, int64_t *reclaimed);
/** From Kafka: alerts whose id was passed on already (not passed again). */
int64_t cs_alerts_repeats(const cs_alerts_t *a);
void cs_alerts_destroy(cs_alerts_t *a);

#endif /* CS_ALERTS_H */
