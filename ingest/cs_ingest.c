/*
 * cs_ingest.c - the consumer loop of cshield-ingest (first slice: one worker).
 *
 * DESIGN: the thread that calls cs_ingest_run() owns everything here: the
 * consumer, the Hyperscan scratch, the aggregates, the Redis context. It
 * polls message by message (librdkafka 2.0.2's batch API can skip offsets
 * around pause/resume) and flushes every flush.interval.ms or
 * flush.max.events. Redis, not Kafka, is the source of truth for where each
 * partition resumes: on assignment the start offsets are read from Redis,
 * Kafka commits only follow successful flushes (for lag monitoring). Because
 * aggregates and offsets move together, in-memory state may always be
 * dropped: it is replayed, never lost and never counted twice.
 * When Redis is down the assigned partitions are paused (memory stays
 * bounded) and the flush is retried with backoff; polling goes on so the
 * consumer stays in its group. Issue #5 grows this into N workers.
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"

cs_err_t cs__ingest_conf_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);

static void cs__parts_clear(cs_ingest_t *ing) {
	for (size_t i = 0; i < ing->part_cnt; i++)
		cs_free(ing->parts[i].topic);
	cs_free(ing->parts);
	ing->parts = NULL;
	ing->part_cnt = 0;
}

static cs_ingest_part_t *cs__part_find(cs_ingest_t *ing, const char *topic, int32_t partition) {
	for (size_t i = 0; i < ing->part_cnt; i++)
		if (ing->parts[i].partition == partition && !strcmp(ing->parts[i].topic, topic))
			return &ing->parts[i];
	return NULL;
}

static rd_kafka_topic_partition_list_t *cs__parts_list(const cs_ingest_t *ing, int only_moved) {
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)ing->part_cnt);
	for (size_t i = 0; i < ing->part_cnt; i++) {
		const cs_ingest_part_t *p = &ing->parts[i];
		if (only_moved && p->next < 0)
			continue;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
	}
	return l;
}

static void cs__set_paused(cs_ingest_t *ing, int pause) {
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t kerr;

	if (ing->paused == pause || ing->part_cnt == 0) {
		ing->paused = pause && ing->part_cnt;
		return;
	}
	l = cs__parts_list(ing, 0);
	kerr = pause ? rd_kafka_pause_partitions(ing->rk, l) : rd_kafka_resume_partitions(ing->rk, l);
	if (kerr)
		CS_LOG_E(CS__MOD, "%s partitions: %s", pause ? "pause" : "resume", rd_kafka_err2str(kerr));
	else
		CS_LOG_I(CS__MOD, "%s %zu partitions", pause ? "paused" : "resumed", ing->part_cnt);
	rd_kafka_topic_partition_list_destroy(l);
	ing->paused = pause;
}

/* Re-reads where Redis says each partition stands and seeks there. */
static cs_err_t cs__resync(cs_ingest_t *ing) {
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_error_t *kerr;
	cs_err_t err;

	cs_ingest_agg_clear(&ing->agg);
	ing->pending_events = 0;
	ing->dirty = 0;
	if ((err = cs_ingest_redis_offsets_get(&ing->redis, ing->parts, ing->part_cnt)))
		return err;
	l = rd_kafka_topic_partition_list_new((int)ing->part_cnt);
	for (size_t i = 0; i < ing->part_cnt; i++) {
		cs_ingest_part_t *p = &ing->parts[i];
		p->next = -1;
		if (p->start >= 0)
			rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->start;
	}
	if (l->cnt && (kerr = rd_kafka_seek_partitions(ing->rk, l, 5000))) {
		CS_LOG_E(CS__MOD, "seek after stale flush: %s", rd_kafka_error_string(kerr));
		rd_kafka_error_destroy(kerr);
	}
	rd_kafka_topic_partition_list_destroy(l);
	return CS_ERR_OK;
}

/*
 * Writes aggregates and offsets to Redis. On success, commits the same
 * offsets to Kafka (async) and empties the aggregates.
 */
static cs_err_t cs__flush(cs_ingest_t *ing) {
	rd_kafka_topic_partition_list_t *l;
	int64_t t0 = cs_clock_ms();
	cs_err_t err;

	ing->last_flush_ms = t0;
	if (!ing->dirty)
		return CS_ERR_OK;
	if (ing->dlq && ing->dlq_pending) {
		/* the dead letters of this batch must be in Kafka before its offsets move */
		rd_kafka_flush(ing->dlq, (int)ing->conf->dlq_timeout_ms);
		if (rd_kafka_outq_len(ing->dlq) > 0 || atomic_load(&ing->dlq_failed) > 0) {
			CS_LOG_E(CS__MOD, "dead-letter topic %s: %ld deliveries failed, %d pending; replaying the batch",
				 ing->conf->dlq_topic, (long)atomic_load(&ing->dlq_failed), rd_kafka_outq_len(ing->dlq));
			rd_kafka_purge(ing->dlq, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			rd_kafka_poll(ing->dlq, 0);
			atomic_store(&ing->dlq_failed, 0);
			ing->dlq_pending = 0;
			if (cs__resync(ing))
				CS_LOG_E(CS__MOD, "resync: %s", ing->redis.errstr);
			return CS_ERR_KAFKA;
		}
		ing->dlq_pending = 0;
	}
	err = cs_ingest_redis_flush(&ing->redis, &ing->agg, ing->db, ing->parts, ing->part_cnt);
	if (err == CS_ERR_STALE) {
		CS_LOG_W(CS__MOD, "%s; dropping %lld unflushed events and resuming from Redis offsets",
			 ing->redis.errstr, (long long)ing->pending_events);
		if (cs__resync(ing))
			CS_LOG_E(CS__MOD, "resync: %s", ing->redis.errstr);
		return err;
	}
	if (err) {
		ing->redis.backoff_ms = ing->redis.backoff_ms ? ing->redis.backoff_ms * 2 : 100;
		if (ing->redis.backoff_ms > 5000)
			ing->redis.backoff_ms = 5000;
		ing->redis.next_retry_ms = cs_clock_ms() + ing->redis.backoff_ms;
		CS_LOG_E(CS__MOD, "flush of %lld events failed: %s (retry in %lld ms)",
			 (long long)ing->pending_events, ing->redis.errstr,
			 (long long)ing->redis.backoff_ms);
		cs__set_paused(ing, 1);
		return err;
	}
	ing->redis.backoff_ms = 0;
	CS_LOG_D(CS__MOD, "flushed %lld events, %lld hits, %zu aggregates in %lld ms",
		 (long long)ing->agg.events, (long long)ing->agg.hits, ing->agg.cnt,
		 (long long)(cs_clock_ms() - t0));
	for (size_t i = 0; i < ing->part_cnt; i++)
		if (ing->parts[i].next >= 0)
			ing->parts[i].start = ing->parts[i].next;
	l = cs__parts_list(ing, 1);
	if (l->cnt) {
		rd_kafka_resp_err_t kerr = rd_kafka_commit(ing->rk, l, 1 /*async*/);
		if (kerr)
			CS_LOG_W(CS__MOD, "Kafka commit (lag monitoring only): %s", rd_kafka_err2str(kerr));
	}
	rd_kafka_topic_partition_list_destroy(l);
	cs_ingest_agg_clear(&ing->agg);
	ing->pending_events = 0;
	ing->dirty = 0;
	cs__set_paused(ing, 0);
	return CS_ERR_OK;
}

static void cs__on_assign(cs_ingest_t *ing, rd_kafka_topic_partition_list_t *list) {
	cs_err_t err;
	int64_t backoff = 100;

	cs__parts_clear(ing);
	ing->parts = cs_calloc((size_t)list->cnt, sizeof(*ing->parts));
	for (int i = 0; ing->parts && i < list->cnt; i++) {
		ing->parts[i].topic = cs_strdup(list->elems[i].topic);
		ing->parts[i].partition = list->elems[i].partition;
		ing->parts[i].start = ing->parts[i].next = -1;
		ing->part_cnt++;
	}
	/* Without Redis we cannot know where to resume: wait for it. */
	while ((err = cs_ingest_redis_offsets_get(&ing->redis, ing->parts, ing->part_cnt))) {
		if (atomic_load(&ing->stop)) {
			CS_LOG_W(CS__MOD, "stopping while Redis is unreachable: not consuming");
			cs__parts_clear(ing);
			rd_kafka_assign(ing->rk, NULL);
			return;
		}
		CS_LOG_E(CS__MOD, "reading start offsets: %s (retry in %lld ms)", ing->redis.errstr,
			 (long long)backoff);
		struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
		nanosleep(&ts, NULL);
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	for (size_t i = 0; i < ing->part_cnt; i++) {
		list->elems[i].offset = ing->parts[i].start >= 0 ? ing->parts[i].start
								   : RD_KAFKA_OFFSET_INVALID;
		CS_LOG_I(CS__MOD, "assigned %s [%d] from %s %lld", ing->parts[i].topic,
			 (int)ing->parts[i].partition,
			 ing->parts[i].start >= 0 ? "Redis offset" : "committed/reset, Redis has none",
			 (long long)ing->parts[i].start);
	}
	ing->paused = 0;
	rd_kafka_assign(ing->rk, list);
}

static void cs__rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			     rd_kafka_topic_partition_list_t *list, void *opaque) {
	cs_ingest_t *ing = opaque;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		cs__on_assign(ing, list);
		return;
	}
	/* revoked (or lost): flush what we have while we still own it; if that
	 * fails the new owner replays it from the Redis offsets. */
	if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && cs__flush(ing))
		CS_LOG_W(CS__MOD, "flush on revoke failed; the next owner replays %lld events",
			 (long long)ing->pending_events);
	cs_ingest_agg_clear(&ing->agg);
	ing->pending_events = 0;
	ing->dirty = 0;
	cs__parts_clear(ing);
	ing->paused = 0;
	rd_kafka_assign(rk, NULL);
}

static int cs__on_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs_ingest_t *ing = opaque;

	for (size_t i = 0; i < ing->ev_hit_cnt; i++)
		if (ing->ev_hits[i] == hit->ind->id)
			return 0;
	if (ing->ev_hit_cnt == ing->ev_hit_cap) {
		size_t ncap = ing->ev_hit_cap ? ing->ev_hit_cap * 2 : 16;
		uint32_t *n = cs_reallocarray(ing->ev_hits, ncap, sizeof(*n));
		if (!n)
			return 1;
		ing->ev_hits = n;
		ing->ev_hit_cap = ncap;
	}
	ing->ev_hits[ing->ev_hit_cnt++] = hit->ind->id;
	return 0;
}

static int64_t cs__window(int64_t ts_ms, int64_t window_s) {
	int64_t s = ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);
	int64_t w = s >= 0 ? s / window_s : -((-s + window_s - 1) / window_s);
	return w * window_s;
}

typedef struct cs__msg_ctx_s {
	cs_ingest_t *ing;
	const rd_kafka_message_t *m;
	int64_t kafka_ts;
	int failed;
} cs__msg_ctx_t;

/* Produces a rejected event to the dead-letter topic with its reason and source. */
static int cs__dead_letter(cs__msg_ctx_t *mc, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs_ingest_t *ing = mc->ing;
	const rd_kafka_message_t *m = mc->m;
	char part[16], off[24], evoff[24];
	const char *reason = cs_decode_reject2code(r), *topic = rd_kafka_topic_name(m->rkt);
	/* a message that did not decompress is dead-lettered whole, as it came */
	const char *val = ev->raw ? ev->raw : (const char *)m->payload;
	size_t vlen = ev->raw ? ev->length : m->len;
	rd_kafka_resp_err_t kerr;

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	snprintf(evoff, sizeof(evoff), "%zu", ev->offset);
	while ((kerr = rd_kafka_producev(
			ing->dlq, RD_KAFKA_V_TOPIC(ing->conf->dlq_topic), RD_KAFKA_V_VALUE((void *)val, vlen),
			RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADER("cs-reason", reason, -1),
			RD_KAFKA_V_HEADER("cs-reason-text", cs_decode_reject2str(r), -1),
			RD_KAFKA_V_HEADER("cs-source-topic", topic, -1), RD_KAFKA_V_HEADER("cs-source-partition", part, -1),
			RD_KAFKA_V_HEADER("cs-source-offset", off, -1), RD_KAFKA_V_HEADER("cs-event-offset", evoff, -1),
			RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(ing->dlq, 100);
	if (kerr) {
		atomic_fetch_add(&ing->dlq_failed, 1);
		return -1;
	}
	ing->dlq_pending++;
	return 0;
}

/* One decoded (or rejected) event of the current message. */
static int cs__on_event(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs__msg_ctx_t *mc = opaque;
	cs_ingest_t *ing = mc->ing;
	int64_t ts, window;

	ing->agg.events++;
	if (r != CS_DECODE_OK) {
		ing->agg.rejects[r]++;
		if (ing->dlq)
			cs__dead_letter(mc, ev, r);
		return 0;
	}
	ts = ev->ts_ms ? ev->ts_ms : mc->kafka_ts > 0 ? mc->kafka_ts : cs_wall_ms();
	window = cs__window(ts, ing->conf->window_s);
	ing->ev_hit_cnt = 0;
	for (size_t i = 0; i < ev->obs_cnt; i++)
		if (cs_corr_match(ing->db, ing->scr, &ev->obs[i], cs__on_hit, ing))
			CS_LOG_E(CS__MOD, "Hyperscan scan failed");
	for (size_t i = 0; i < ing->ev_hit_cnt; i++)
		if (cs_ingest_agg_add(&ing->agg, window, ing->ev_hits[i], 1)) {
			mc->failed = 1;
			return 1;
		}
	ing->agg.hits += (int64_t)ing->ev_hit_cnt;
	return 0;
}

static cs_decode_fmt_t cs__topic_fmt(const cs_ingest_conf_t *conf, const char *topic) {
	for (size_t i = 0; i < conf->topic_cnt; i++)
		if (!strcmp(conf->topic_names[i], topic))
			return (cs_decode_fmt_t)conf->topic_fmts[i];
	return CS_DECODE_FMT_AUTO;
}

static void cs__handle(cs_ingest_t *ing, rd_kafka_message_t *m) {
	const char *topic = rd_kafka_topic_name(m->rkt);
	cs_ingest_part_t *p = cs__part_find(ing, topic, m->partition);
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_timestamp_type_t tt;
	char encoding[32] = "";
	cs__msg_ctx_t mc = {ing, m, rd_kafka_message_timestamp(m, &tt), 0};

	if (!p) {
		CS_LOG_D(CS__MOD, "message from unassigned %s [%d] ignored", topic, (int)m->partition);
		return;
	}
	if (m->offset < p->next || (p->start >= 0 && m->offset < p->start))
		return; /* a duplicate delivery: already counted in this batch or in Redis */

	if (!rd_kafka_message_headers(m, &hdrs)) {
		const void *v;
		size_t vs;
		if (!rd_kafka_header_get_last(hdrs, "content-encoding", &v, &vs) && v) {
			if (vs >= sizeof(encoding))
				vs = sizeof(encoding) - 1; /* unknown anyway: rejected as such */
			memcpy(encoding, v, vs);
			encoding[vs] = '\0';
		}
	}
	cs_decode_message(ing->dec, cs__topic_fmt(ing->conf, topic), encoding, m->payload ? m->payload : "",
			  m->len, cs__on_event, &mc);
	if (mc.failed) {
		/* cannot count it: do not move past it; drop the batch and replay */
		CS_LOG_E(CS__MOD, "out of memory aggregating; resyncing from Redis offsets");
		cs__resync(ing);
		return;
	}
	p->next = m->offset + 1;
	ing->dirty = 1;
	ing->pending_events++;
}

static void cs__dlq_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	cs_ingest_t *ing = opaque;
	if (m->err) {
		atomic_fetch_add(&ing->dlq_failed, 1);
		CS_LOG_E(CS__MOD, "dead letter not delivered: %s", rd_kafka_err2str(m->err));
	}
}

/*
 * The dead-letter producer: idempotent, acks=all, with the connection
 * properties (bootstrap, security) of the consumer's kafka.* settings.
 */
static rd_kafka_t *cs__dlq_new(cs_ingest_t *ing, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *pc = rd_kafka_conf_new();
	size_t cnt;
	const char **kv = rd_kafka_conf_dump(ing->conf->kconf, &cnt);
	char kerr[512], proto[64] = "plaintext";
	size_t psz = sizeof(proto);
	rd_kafka_t *rk;

	rd_kafka_conf_get(ing->conf->kconf, "security.protocol", proto, &psz);
	for (size_t i = 0; i + 1 < cnt; i += 2) /* bootstrap.servers is dumped as metadata.broker.list */
		if (!strcmp(kv[i], "metadata.broker.list") || !strcmp(kv[i], "security.protocol") ||
		    !strcmp(kv[i], "broker.address.family") ||
		    (strcmp(proto, "plaintext") && (!strncmp(kv[i], "sasl.", 5) || !strncmp(kv[i], "ssl.", 4))))
			rd_kafka_conf_set(pc, kv[i], kv[i + 1], kerr, sizeof(kerr));
	rd_kafka_conf_dump_free(kv, cnt);
	if (rd_kafka_conf_set(pc, "enable.idempotence", "true", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(pc, "linger.ms", "5", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(pc, "compression.codec", "zstd", kerr, sizeof(kerr))) {
		cs_errstr_set(errstr, errstr_size, "dead-letter producer: %s", kerr);
		rd_kafka_conf_destroy(pc);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(pc, cs__dlq_dr);
	rd_kafka_conf_set_opaque(pc, ing);
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "dead-letter producer: %s", kerr);
		return NULL;
	}
	return rk;
}

cs_ingest_t *cs_ingest_new(cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_ingest_t *ing = NULL;
	rd_kafka_conf_t *kconf = NULL;
	rd_kafka_topic_partition_list_t *topics = NULL;
	rd_kafka_resp_err_t kerr;
	char kerrstr[512], *tdup = NULL, *tok, *save;

	if (cs__ingest_conf_check(conf, errstr, errstr_size))
		goto err;
	cs_log_set_level((cs_log_level_t)cs_log_level_parse(conf->log_level));
	if (!(ing = cs_calloc(1, sizeof(*ing)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto err;
	}
	ing->conf = conf;
	conf = NULL;
	cs_ingest_redis_init(&ing->redis, ing->conf);

	if (!(ing->db = cs_corr_db_load_list(ing->conf->indicators_file, 1, errstr, errstr_size)))
		goto err;
	for (size_t i = 0; i < cs_corr_db_reject_count(ing->db); i++)
		CS_LOG_W("correlate", "indicator rejected: %s", cs_corr_db_reject(ing->db, i));
	CS_LOG_I("correlate", "loaded %zu indicators from %s (%zu rejected)",
		 cs_corr_db_count(ing->db), ing->conf->indicators_file,
		 cs_corr_db_reject_count(ing->db));
	if (!(ing->scr = cs_corr_scratch_new(ing->db, errstr, errstr_size)))
		goto err;
	if (!(ing->dec = cs_decode_new(ing->conf->dconf, errstr, errstr_size)))
		goto err;
	if (*ing->conf->dlq_topic && !(ing->dlq = cs__dlq_new(ing, errstr, errstr_size)))
		goto err;

	kconf = rd_kafka_conf_dup(ing->conf->kconf);
	if (rd_kafka_conf_set(kconf, "group.id", ing->conf->group_id, kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.commit", "false", kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.offset.store", "false", kerrstr,
			      sizeof(kerrstr))) {
		cs_errstr_set(errstr, errstr_size, "Kafka configuration: %s", kerrstr);
		goto err;
	}
	rd_kafka_conf_set_rebalance_cb(kconf, cs__rebalance_cb);
	rd_kafka_conf_set_opaque(kconf, ing);
	if (!(ing->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, kerrstr, sizeof(kerrstr)))) {
		cs_errstr_set(errstr, errstr_size, "Kafka consumer: %s", kerrstr);
		goto err;
	}
	kconf = NULL; /* owned by rk now */
	rd_kafka_poll_set_consumer(ing->rk);

	topics = rd_kafka_topic_partition_list_new(4);
	if (!(tdup = cs_strdup(ing->conf->topics)))
		goto err;
	for (tok = strtok_r(tdup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		rd_kafka_topic_partition_list_add(topics, tok, RD_KAFKA_PARTITION_UA);
	if (topics->cnt == 0) {
		cs_errstr_set(errstr, errstr_size, "property \"topics\": no topic named");
		goto err;
	}
	if ((kerr = rd_kafka_subscribe(ing->rk, topics))) {
		cs_errstr_set(errstr, errstr_size, "subscribe to %s: %s", ing->conf->topics,
			      rd_kafka_err2str(kerr));
		goto err;
	}
	rd_kafka_topic_partition_list_destroy(topics);
	cs_free(tdup);
	ing->last_flush_ms = cs_clock_ms();
	return ing;

err:
	if (topics)
		rd_kafka_topic_partition_list_destroy(topics);
	if (kconf)
		rd_kafka_conf_destroy(kconf);
	cs_free(tdup);
	cs_ingest_conf_destroy(conf);
	cs_ingest_destroy(ing);
	return NULL;
}

void cs_ingest_stop(cs_ingest_t *ing) {
	atomic_store(&ing->stop, 1);
}

cs_err_t cs_ingest_run(cs_ingest_t *ing) {
	cs_err_t err = CS_ERR_OK;
	rd_kafka_resp_err_t kerr;
	int64_t deadline;

	while (!atomic_load(&ing->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(ing->rk, 100);
		int64_t now;

		if (m) {
			if (!m->err)
				cs__handle(ing, m);
			else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				CS_LOG_W(CS__MOD, "consumer: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
		}
		if (ing->dlq)
			rd_kafka_poll(ing->dlq, 0);
		now = cs_clock_ms();
		if (ing->paused) {
			if (now >= ing->redis.next_retry_ms)
				cs__flush(ing);
		} else if (ing->pending_events >= ing->conf->flush_max_events ||
			   (ing->dirty && now - ing->last_flush_ms >= ing->conf->flush_interval_ms)) {
			cs__flush(ing);
		}
	}

	/* Drain: the final flush, retried until shutdown.timeout.ms. */
	CS_LOG_I(CS__MOD, "stopping: final flush of %lld events", (long long)ing->pending_events);
	deadline = cs_clock_ms() + ing->conf->shutdown_timeout_ms;
	while ((err = cs__flush(ing)) == CS_ERR_REDIS && cs_clock_ms() < deadline) {
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (err == CS_ERR_OK) {
		rd_kafka_topic_partition_list_t *l = cs__parts_list(ing, 1);
		if (l->cnt && (kerr = rd_kafka_commit(ing->rk, l, 0 /*sync*/)))
			CS_LOG_W(CS__MOD, "final Kafka commit: %s", rd_kafka_err2str(kerr));
		rd_kafka_topic_partition_list_destroy(l);
	} else {
		CS_LOG_E(CS__MOD, "final flush failed: %s; %lld events will be replayed on restart",
			 ing->redis.errstr, (long long)ing->pending_events);
	}
	if ((kerr = rd_kafka_consumer_close(ing->rk)))
		CS_LOG_W(CS__MOD, "leaving the group: %s", rd_kafka_err2str(kerr));
	return err == CS_ERR_STALE ? CS_ERR_OK : err;
}

void cs_ingest_destroy(cs_ingest_t *ing) {
	if (!ing)
		return;
	if (ing->rk)
		rd_kafka_destroy(ing->rk);
	if (ing->dlq) {
		rd_kafka_flush(ing->dlq, 5000);
		rd_kafka_destroy(ing->dlq);
	}
	cs__parts_clear(ing);
	cs_ingest_redis_close(&ing->redis);
	cs_ingest_agg_destroy(&ing->agg);
	cs_corr_scratch_destroy(ing->scr);
	cs_decode_destroy(ing->dec);
	cs_corr_db_destroy(ing->db);
	cs_free(ing->ev_hits);
	cs_ingest_conf_destroy(ing->conf);
	cs_free(ing);
}
