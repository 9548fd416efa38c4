/*
 * cs_ingest_conf.c - cshield-ingest's property tables.
 * DESIGN: the only place ingest defaults live. "kafka.*" goes straight to
 * rd_kafka_conf_set(); "redis.*" names hiredis connection options, which have
 * no configuration API of their own, so they get a table of their own here.
 * Main thread, start-up only.
 */
#include <stddef.h>
#include <string.h>

#include "cs_ingest_int.h"

#define CS__OFF(f) offsetof(cs_ingest_conf_t, f)
#define CS__ROFF(f) offsetof(cs_ingest_redis_conf_t, f)

static const cs_conf_prop_t cs__ingest_props[] = {
	{"topics", CS_CONF_STR, CS__OFF(topics), 0, 0, NULL, CS_CONF_F_REQUIRED,
	 "Comma-separated Kafka topics carrying SOC events."},
	{"group.id", CS_CONF_STR, CS__OFF(group_id), 0, 0, "cshield-ingest", 0,
	 "Kafka consumer group; also names the offsets hash in Redis."},
	{"indicators.file", CS_CONF_STR, CS__OFF(indicators_file), 0, 0, NULL, CS_CONF_F_REQUIRED,
	 "Indicator files, comma-separated: plain lists, Zeek intel, CSV blocklists, MISP events, "
	 "STIX 2.x bundles (docs/FORMATS.md); the format is detected per file."},
	{"indicators.tlp", CS_CONF_STR, CS__OFF(indicators_tlp), 0, 0, "amber", 0,
	 "TLP of indicators their file does not mark (clear, green, amber, amber+strict, red): what "
	 "their hits may be shown to. Unmarked is never taken as public unless set here."},
	{"indicators.cache.dir", CS_CONF_STR, CS__OFF(indicators_cache_dir), 0, 0, "", 0,
	 "Directory where compiled Hyperscan databases are kept (zstd, named by a hash of the patterns and "
	 "the Hyperscan version and platform): a restart or reload with the same patterns does not compile "
	 "them again. Must exist and be writable. Empty: no cache."},
	{"indicators.topic", CS_CONF_STR, CS__OFF(indicators_topic), 0, 0, "", 0,
	 "Kafka topic of indicator changes (JSON: op add or revoke, type, value, id, source, tlp, "
	 "confidence, tags, valid_from, valid_until; docs/FORMATS.md), read from the beginning on every "
	 "start (compact it, keyed by type and value). Changes are layered over the files' set and "
	 "swapped in within a fraction of a second, without reloading the files. Empty: none."},
	{"indicators.reload.interval.ms", CS_CONF_INT, CS__OFF(reload_interval_ms), 0, 86400000, "10000", 0,
	 "How often the indicator files are checked for changes (size, modification time); a changed "
	 "set is loaded aside and swapped in without pausing consumption (SIGHUP loads at once). "
	 "A set that fails to load leaves the current one in place. 0: on SIGHUP only."},
	{"warninglists.dir", CS_CONF_STR, CS__OFF(warninglists_dir), 0, 0, "", 0,
	 "MISP warning lists (a misp-warninglists checkout or its lists/ folder): hits on indicators whose "
	 "value is listed are not counted, but counted per list in P:suppressed. Empty: none."},
	{"aggregate.key.prefix", CS_CONF_STR, CS__OFF(key_prefix), 0, 0, "cs", 0,
	 "Prefix of every Redis key written (see docs/REDIS.md)."},
	{"aggregate.window.s", CS_CONF_INT, CS__OFF(window_s), 1, 86400, "60", 0,
	 "Aggregation window in seconds, by event time."},
	{"aggregate.late.grace.s", CS_CONF_INT, CS__OFF(late_grace_s), 0, 10LL * 365 * 86400, "86400", 0,
	 "An event whose own time is more than this many seconds before its arrival in Kafka (the "
	 "message timestamp) is late: it and its hits are counted in the window of its arrival, not in "
	 "its own (already reported) window, and counted as late (P:stats late, P:dim "
	 "\"<tlp>|events|late:<day>\" with the UTC day of its own time). Replays classify alike. "
	 "0: every event counts in its own window, however old."},
	{"aggregate.future.grace.s", CS_CONF_INT, CS__OFF(future_grace_s), 0, 10LL * 365 * 86400, "3600", 0,
	 "An event whose own time is more than this many seconds after its arrival in Kafka (a sensor's "
	 "clock or time zone wrong, a forged time in the year 2100) is counted, with its hits, in the "
	 "window of its arrival, and counted in P:stats future (alerts say \"future\":true), as late ones "
	 "are: no window that no report will ever read. Replays classify alike. 0: no such check."},
	{"aggregate.ttl.s", CS_CONF_INT, CS__OFF(ttl_s), 0, 10LL * 365 * 86400, "2592000", 0,
	 "Expiry of window hashes in Redis, seconds after the last write; 0 = never."},
	{"aggregate.hour.ttl.s", CS_CONF_INT, CS__OFF(hour_ttl_s), 0, 10LL * 365 * 86400, "7776000", 0,
	 "Expiry of the hourly roll-ups (P:roll:3600:<start>, what situation reports read for periods "
	 "up to a few days), seconds after the last write; 0 = never. Default 90 days."},
	{"aggregate.day.ttl.s", CS_CONF_INT, CS__OFF(day_ttl_s), 0, 10LL * 365 * 86400, "34560000", 0,
	 "Expiry of the daily roll-ups (P:roll:86400:<start>, what situation reports read for long "
	 "periods), seconds after the last write; 0 = never. Default 400 days (a year and its comparison)."},
	{"flush.interval.ms", CS_CONF_INT, CS__OFF(flush_interval_ms), 10, 3600000, "1000", 0,
	 "Flush aggregates and offsets to Redis at least this often."},
	{"flush.max.events", CS_CONF_INT, CS__OFF(flush_max_events), 1, 100000000, "100000", 0,
	 "Flush after this many events, whichever comes first."},
	{"flush.max.bytes", CS_CONF_INT, CS__OFF(flush_max_bytes), 65536, 1LL << 40, "67108864", 0,
	 "Flush as soon as the pending aggregates and alerts of a worker hold about this many bytes. "
	 "While Redis cannot take a flush, the worker's partitions stay paused, so a worker holds at "
	 "most this much plus librdkafka's fetch queue (kafka.queued.max.messages.kbytes)."},
	{"workers", CS_CONF_INT, CS__OFF(workers), 0, 256, "0", 0,
	 "Worker threads, each a consumer of the group with its own decoder, scratch, aggregates "
	 "and Redis connection; 0 = one per CPU."},
	{"shutdown.timeout.ms", CS_CONF_INT, CS__OFF(shutdown_timeout_ms), 0, 3600000, "10000", 0,
	 "On SIGTERM, how long to keep retrying the final flush."},
	{"log.level", CS_CONF_STR, CS__OFF(log_level), 0, 0, "info", 0,
	 "error, warn, info or debug."},
	{"dlq.topic", CS_CONF_STR, CS__OFF(dlq_topic), 0, 0, "", 0,
	 "Dead-letter topic: every rejected event is produced there with its reason and source in "
	 "headers, before its offset is recorded. Empty: rejected events are only counted per reason."},
	{"alerts.topic", CS_CONF_STR, CS__OFF(alerts_topic), 0, 0, "", 0,
	 "Kafka topic of correlated alerts: one JSON message per (event, indicator), keyed by its "
	 "deterministic id, produced idempotently before the batch's offsets are recorded (a replay may "
	 "repeat an alert: subscribers de-duplicate on the id). Empty: none."},
	{"alerts.stream.maxlen", CS_CONF_INT, CS__OFF(alerts_stream_maxlen), 0, 1000000000, "1000000", 0,
	 "Alerts also go to the Redis stream P:alerts, in the same transaction as the aggregates and "
	 "offsets (exactly once), trimmed to about this many entries; 0: no stream."},
	{"alerts.max.delay.ms", CS_CONF_INT, CS__OFF(alerts_max_delay_ms), 0, 3600000, "100", 0,
	 "A batch holding an alert for the stream is flushed once its oldest alert waited this long, "
	 "before flush.interval.ms: analysts see an alert within about this delay plus one flush, and "
	 "it is still written with the offsets it covers (exactly once). 0: at flush.interval.ms only."},
	{"escalation.enable", CS_CONF_BOOL, CS__OFF(esc_enable), 0, 1, "true", 0,
	 "Decide escalations in the flush that records the hits (docs/ESCALATION.md): per indicator over "
	 "escalation.period.s, hits from escalation.member.states member states (cross-border) or from "
	 "escalation.participants registered participants (multi-organization campaign). Needs "
	 "participants.file (member states come from the registry)."},
	{"escalation.period.s", CS_CONF_INT, CS__OFF(esc_period_s), 60, 90LL * 86400, "86400", 0,
	 "The sliding period of the escalation rule: a participant counts while its last hit on the "
	 "indicator is less than this many seconds (event time, at window granularity) before the latest hit."},
	{"escalation.quiet.s", CS_CONF_INT, CS__OFF(esc_quiet_s), 0, 90LL * 86400, "43200", 0,
	 "An escalation is raised again only when it grows (a new member state, the participant count "
	 "doubled) or, while the rule still holds, once this many seconds (event time) passed since it was raised."},
	{"escalation.participants", CS_CONF_INT, CS__OFF(esc_participants), 2, 1000000, "3", 0,
	 "Participants (distinct registered organizations) hitting one indicator within the period that "
	 "make a multi-organization campaign."},
	{"escalation.member.states", CS_CONF_INT, CS__OFF(esc_member_states), 2, 1000, "2", 0,
	 "Member states (of the participants' registry entries) hitting one indicator within the period "
	 "that make it cross-border."},
	{"escalation.stream.maxlen", CS_CONF_INT, CS__OFF(esc_stream_maxlen), 1, 1000000000, "100000", 0,
	 "Entries kept (about) in each escalation stream P:escalations:<tlp>."},
	{"escalations.topic", CS_CONF_STR, CS__OFF(esc_topic), 0, 0, "", 0,
	 "Kafka topic the escalations are relayed to from their Redis streams (partition 0, keyed by "
	 "the escalation's id, each once: the relay resumes after the last one the topic holds). One "
	 "instance relays at a time (a lease in Redis). Empty: Redis streams only."},
	{"participants.file", CS_CONF_STR, CS__OFF(participants_file), 0, 0, "", 0,
	 "The participant registry (JSON, docs/FORMATS.md): organization id, name, kind (CSIRT, SOC, CERT, "
	 "private), member state, sector, the TLP of its events, and the keys, aliases and topics it "
	 "publishes under. Events are counted per organization, member state and sector; an event's TLP is "
	 "its participant's. Reloaded with the indicators (SIGHUP, file change). Empty: no registry."},
	{"participants.unregistered.tlp", CS_CONF_STR, CS__OFF(unregistered_tlp), 0, 0, "amber", 0,
	 "TLP of events no registered participant claims (they are counted under org \"unregistered\" "
	 "and processed all the same)."},
	{"metrics.listen", CS_CONF_STR, CS__OFF(metrics_listen), 0, 0, "", 0,
	 "HOST:PORT of the HTTP endpoint serving Prometheus text metrics (GET /metrics) and a health "
	 "check (GET /health: 200, or 503 with the reason when a worker is stuck or every partition is "
	 "paused). Port 0 picks a free port (logged). Empty: no endpoint."},
	{"metrics.connection.limit", CS_CONF_INT, CS__OFF(metrics_conn_limit), 1, 10000, "256", 0,
	 "Connections the metrics endpoint holds at once (idle ones included); beyond it new ones are "
	 "closed at once until others end or time out."},
	{"metrics.connection.timeout.s", CS_CONF_INT, CS__OFF(metrics_conn_timeout_s), 1, 3600, "10", 0,
	 "A metrics connection that sends or reads nothing for this long is closed."},
	{"offsets.out.of.range", CS_CONF_STR, CS__OFF(offsets_out_of_range), 0, 0, "hold", 0,
	 "What to do with a partition whose offset recorded in Redis lies beyond its log (the topic was "
	 "re-created, restored, or is another cluster's; the client then restarts at auto.offset.reset). "
	 "Either way it is logged as an error naming the partition and the Redis field. hold: the partition "
	 "is paused and not counted, /health answers 503, until the field is mended or deleted (nothing is "
	 "counted twice, nothing is skipped). reset: it is counted from where the client restarted and the "
	 "next flush records the new offset (cshield_offsets_reset_total)."},
	{"dlq.timeout.ms", CS_CONF_INT, CS__OFF(dlq_timeout_ms), 100, 600000, "10000", 0,
	 "How long a flush waits for the dead-letter and alert deliveries it covers."},
	{.name = NULL},
};

static const cs_conf_prop_t cs__redis_props[] = {
	{"host", CS_CONF_STR, CS__ROFF(host), 0, 0, "127.0.0.1", 0, "Redis server host."},
	{"port", CS_CONF_INT, CS__ROFF(port), 1, 65535, "6379", 0, "Redis server port."},
	{"sentinels", CS_CONF_STR, CS__ROFF(sentinels), 0, 0, "", 0,
	 "Redis Sentinels, HOST:PORT,HOST:PORT...: the primary of redis.master.name is asked of them at "
	 "each connection (the first that answers), and checked with ROLE; after a failover the next "
	 "connection finds the new primary (a write refused with READONLY drops the connection). Set, "
	 "redis.host and redis.port are not used. Empty: no Sentinel."},
	{"master.name", CS_CONF_STR, CS__ROFF(master_name), 0, 0, "", 0,
	 "The name the Sentinels monitor the primary under (required with redis.sentinels)."},
	{"unix.socket", CS_CONF_STR, CS__ROFF(unix_socket), 0, 0, "", 0,
	 "Unix socket path; overrides host and port when set."},
	{"password", CS_CONF_STR, CS__ROFF(password), 0, 0, "", 0,
	 "AUTH password, if any. Prefer redis.password.file or $CS_REDIS_PASSWORD: a secret in a "
	 "configuration file is easily shared by mistake. Never logged."},
	{"password.file", CS_CONF_STR, CS__ROFF(password_file), 0, 0, "", 0,
	 "A file holding the AUTH password (its first line), read at each connection, so a rotated "
	 "password needs no restart. Empty: redis.password, else $CS_REDIS_PASSWORD, else none."},
	{"user", CS_CONF_STR, CS__ROFF(user), 0, 0, "", 0,
	 "The Redis ACL user to AUTH as (with the password): give ingest a user of its own, limited to "
	 "its key prefix and the commands it needs (docs/REDIS.md). Empty: the default user."},
	{"db", CS_CONF_INT, CS__ROFF(db), 0, 1024, "0", 0, "Database number (SELECT)."},
	{"connect.timeout.ms", CS_CONF_INT, CS__ROFF(connect_timeout_ms), 1, 600000, "2000", 0,
	 "Connect timeout."},
	{"command.timeout.ms", CS_CONF_INT, CS__ROFF(command_timeout_ms), 1, 600000, "5000", 0,
	 "Timeout of each command (a flush is one command)."},
	{.name = NULL},
};

static const cs_conf_schema_t cs__redis_schema = {"redis.* (hiredis connection)",
						  cs__redis_props, NULL, "redis."};

static cs_err_t cs__kafka_passthru(void *opaque, const char *key, const char *value, char *errstr,
				   size_t errstr_size) {
	cs_ingest_conf_t *conf = opaque;
	char kerr[256];

	if (!strcmp(key, "group.id") || !strcmp(key, "enable.auto.commit") ||
	    !strcmp(key, "enable.auto.offset.store")) {
		cs_errstr_set(errstr, errstr_size,
			      "\"kafka.%s\" is managed by cshield-ingest%s", key,
			      !strcmp(key, "group.id") ? " (set group.id)" : "");
		return CS_ERR_CONF_VALUE;
	}
	if (rd_kafka_conf_set(conf->kconf, key, value, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
		cs_errstr_set(errstr, errstr_size, "kafka.%s: %s", key, kerr);
		return CS_ERR_CONF_UNKNOWN;
	}
	return CS_ERR_OK;
}

static cs_err_t cs__redis_passthru(void *opaque, const char *key, const char *value, char *errstr,
				   size_t errstr_size) {
	cs_ingest_conf_t *conf = opaque;
	return cs_conf_set(&cs__redis_schema, &conf->redis, key, value, errstr, errstr_size); /* errors name redis.<key> */
}

static cs_err_t cs__decode_passthru(void *opaque, const char *key, const char *value, char *errstr,
				    size_t errstr_size) {
	cs_ingest_conf_t *conf = opaque;
	return cs_decode_conf_set(conf->dconf, key, value, errstr, errstr_size);
}

/* topic.<name>.format = auto|ecs|eve|zeek|ocsf|cef */
static cs_err_t cs__topic_passthru(void *opaque, const char *key, const char *value, char *errstr,
				   size_t errstr_size) {
	cs_ingest_conf_t *conf = opaque;
	size_t kl = strlen(key);
	int fmt;
	char **nn;
	int *nf;

	if (kl <= 7 || strcmp(key + kl - 7, ".format")) {
		cs_errstr_set(errstr, errstr_size, "unknown property \"topic.%s\" (expected topic.<name>.format)", key);
		return CS_ERR_CONF_UNKNOWN;
	}
	if ((fmt = cs_decode_fmt_parse(value)) < 0) {
		cs_errstr_set(errstr, errstr_size, "topic.%s: \"%s\" is not auto, ecs, eve, zeek, ocsf or cef", key, value);
		return CS_ERR_CONF_VALUE;
	}
	for (size_t i = 0; i < conf->topic_cnt; i++)
		if (strlen(conf->topic_names[i]) == kl - 7 && !strncmp(conf->topic_names[i], key, kl - 7)) {
			conf->topic_fmts[i] = fmt;
			return CS_ERR_OK;
		}
	if (!(nn = cs_reallocarray(conf->topic_names, conf->topic_cnt + 1, sizeof(*nn))))
		return CS_ERR_NOMEM;
	conf->topic_names = nn;
	if (!(nf = cs_reallocarray(conf->topic_fmts, conf->topic_cnt + 1, sizeof(*nf))))
		return CS_ERR_NOMEM;
	conf->topic_fmts = nf;
	if (!(conf->topic_names[conf->topic_cnt] = cs_strndup(key, kl - 7)))
		return CS_ERR_NOMEM;
	conf->topic_fmts[conf->topic_cnt++] = fmt;
	return CS_ERR_OK;
}

static void cs__ingest_schema(cs_conf_schema_t *schema, cs_conf_passthru_t pt[5],
			      cs_ingest_conf_t *conf) {
	pt[0] = (cs_conf_passthru_t){"kafka.", cs__kafka_passthru, conf,
				     "Any librdkafka consumer property, e.g. "
				     "`kafka.bootstrap.servers`, `kafka.fetch.wait.max.ms`. cshield sets "
				     "`auto.offset.reset=earliest`, `partition.assignment.strategy=cooperative-sticky`, "
				     "`queued.min.messages=1000000` and `queued.max.messages.kbytes=131072` (each worker's "
				     "fetch queue: up to 128 MB of events, about a second of work; librdkafka's 64 MB "
				     "stalled the fetch for a second each time it filled); any of them may be set here."};
	pt[1] = (cs_conf_passthru_t){"redis.", cs__redis_passthru, conf,
				     "hiredis connection options, see the table below."};
	pt[2] = (cs_conf_passthru_t){"decode.", cs__decode_passthru, conf,
				     "Event decoding limits and extra field maps, see the table below."};
	pt[3] = (cs_conf_passthru_t){"topic.", cs__topic_passthru, conf,
				     "`topic.<name>.format`: auto, ecs, eve, zeek, ocsf or cef: the format of a topic "
				     "(default auto: detected per message)."};
	pt[4] = (cs_conf_passthru_t){.prefix = NULL};
	*schema = (cs_conf_schema_t){"cshield-ingest", cs__ingest_props, pt, NULL};
}

cs_ingest_conf_t *cs_ingest_conf_new(void) {
	cs_ingest_conf_t *conf = cs_calloc(1, sizeof(*conf));
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	char errstr[256];

	if (!conf)
		return NULL;
	if (!(conf->kconf = rd_kafka_conf_new()) || !(conf->dconf = cs_decode_conf_new()))
		goto err;
	cs__ingest_schema(&schema, pt, conf);
	if (cs_conf_defaults(&schema, conf, errstr, sizeof(errstr)) ||
	    cs_conf_defaults(&cs__redis_schema, &conf->redis, errstr, sizeof(errstr)))
		goto err;
	/* cshield's own defaults for the consumer; the user may override them */
	if (rd_kafka_conf_set(conf->kconf, "auto.offset.reset", "earliest", errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    /* incremental rebalancing: a member joining or leaving moves only the partitions
	     * that change owner, the others keep consuming (docs/ARCHITECTURE.md) */
	    rd_kafka_conf_set(conf->kconf, "partition.assignment.strategy", "cooperative-sticky", errstr,
			      sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    /* a fetch queue deep enough for a second of work: librdkafka before 2.2 stops fetching
	     * for a whole second (no fetch.queue.backoff.ms) once the queue holds queued.min.messages
	     * (100000) or queued.max.messages.kbytes (64 MB); a worker that drains that in 0.3 s then
	     * idles 0.7 s (docs/PERFORMANCE.md: 376k -> 765k events/s, one worker, 150 -> 294 MB) */
	    rd_kafka_conf_set(conf->kconf, "queued.min.messages", "1000000", errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf->kconf, "queued.max.messages.kbytes", "131072", errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK)
		goto err;
	return conf;
err:
	cs_ingest_conf_destroy(conf);
	return NULL;
}

void cs_ingest_conf_destroy(cs_ingest_conf_t *conf) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];

	if (!conf)
		return;
	cs__ingest_schema(&schema, pt, conf);
	cs_conf_free(&schema, conf);
	cs_conf_free(&cs__redis_schema, &conf->redis);
	if (conf->kconf)
		rd_kafka_conf_destroy(conf->kconf);
	cs_decode_conf_destroy(conf->dconf);
	for (size_t i = 0; i < conf->topic_cnt; i++)
		cs_free(conf->topic_names[i]);
	cs_free(conf->topic_names);
	cs_free(conf->topic_fmts);
	cs_free(conf);
}

cs_err_t cs_ingest_conf_set(cs_ingest_conf_t *conf, const char *key, const char *value,
			    char *errstr, size_t errstr_size) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	cs__ingest_schema(&schema, pt, conf);
	return cs_conf_set(&schema, conf, key, value, errstr, errstr_size);
}

cs_err_t cs_ingest_conf_load(cs_ingest_conf_t *conf, const char *path, char *errstr,
			     size_t errstr_size) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	cs__ingest_schema(&schema, pt, conf);
	return cs_conf_load_file(&schema, conf, path, errstr, errstr_size);
}

cs_err_t cs_ingest_conf_set_kv(cs_ingest_conf_t *conf, const char *kv, char *errstr,
			       size_t errstr_size) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	cs__ingest_schema(&schema, pt, conf);
	return cs_conf_set_kv(&schema, conf, kv, errstr, errstr_size);
}

cs_err_t cs_ingest_conf_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	cs__ingest_schema(&schema, pt, (cs_ingest_conf_t *)conf);
	if (cs_log_level_parse(conf->log_level) < 0) {
		cs_errstr_set(errstr, errstr_size,
			      "property \"log.level\": \"%s\" is not error, warn, info or debug",
			      conf->log_level);
		return CS_ERR_CONF_VALUE;
	}
	if (cs_tlp_parse(conf->unregistered_tlp, strlen(conf->unregistered_tlp)) < 0) {
		cs_errstr_set(errstr, errstr_size,
			      "property \"participants.unregistered.tlp\": \"%s\" is not clear, green, amber, amber+strict or red",
			      conf->unregistered_tlp);
		return CS_ERR_CONF_VALUE;
	}
	{
		/* every key cshield writes starts with it: a name of its own in a shared Redis */
		size_t n = strlen(conf->key_prefix);
		if (n == 0 || n > 64 || strspn(conf->key_prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
								  "0123456789._-") != n) {
			cs_errstr_set(errstr, errstr_size,
				      "property \"aggregate.key.prefix\": \"%s\" is not 1 to 64 letters, digits, '.', '_' or '-'",
				      conf->key_prefix);
			return CS_ERR_CONF_VALUE;
		}
	}
	if (!*conf->group_id || strlen(conf->group_id) > 255) {
		/* it names the offsets hash in Redis too (P:off:<group.id>) */
		cs_errstr_set(errstr, errstr_size, "property \"group.id\": 1 to 255 characters");
		return CS_ERR_CONF_VALUE;
	}
	if (*conf->redis.sentinels && !*conf->redis.master_name) {
		cs_errstr_set(errstr, errstr_size, "property \"redis.sentinels\" needs \"redis.master.name\"");
		return CS_ERR_CONF_VALUE;
	}
	if (*conf->metrics_listen && cs_ingest_metrics_addr(conf->metrics_listen, NULL, errstr, errstr_size))
		return CS_ERR_CONF_VALUE;
	if (strcmp(conf->offsets_out_of_range, "hold") && strcmp(conf->offsets_out_of_range, "reset")) {
		cs_errstr_set(errstr, errstr_size, "property \"offsets.out.of.range\": \"%s\" is not hold or reset",
			      conf->offsets_out_of_range);
		return CS_ERR_CONF_VALUE;
	}
	if (cs_tlp_parse(conf->indicators_tlp, strlen(conf->indicators_tlp)) < 0) {
		cs_errstr_set(errstr, errstr_size,
			      "property \"indicators.tlp\": \"%s\" is not clear, green, amber, amber+strict or red",
			      conf->indicators_tlp);
		return CS_ERR_CONF_VALUE;
	}
	return cs_conf_check(&schema, conf, errstr, errstr_size);
}

void cs_ingest_conf_doc_md(FILE *fp) {
	cs_conf_schema_t schema;
	cs_conf_passthru_t pt[5];
	cs__ingest_schema(&schema, pt, NULL);
	cs_conf_doc_md(&schema, fp);
	cs_conf_doc_md(&cs__redis_schema, fp);
	cs_decode_conf_doc_md(fp);
}
