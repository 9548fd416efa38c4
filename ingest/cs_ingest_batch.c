/*
 * cs_ingest_batch.c - the batch: flush, replay, commit.
 *
 * DESIGN: A worker's pending batch (aggregates, alerts, the offsets they cover) is
 * written to Redis in one script (cs_ingest_redis.c) after its dead letters
 * and alerts are in Kafka; then, for lag monitoring only, the offsets are
 * committed to Kafka. A batch that cannot be written is held (partitions
 * paused, retried with backoff); one that was already applied (STALE) or
 * whose deliveries failed is dropped and replayed from the Redis offsets.
 * Worker thread only.
 */
#include <string.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"

/* The next wait of an exponential backoff: first, then doubled up to cap. Returns it. */
int64_t cs__ingest_backoff(int64_t *ms, int64_t first, int64_t cap) {
	*ms = *ms ? *ms * 2 : first;
	if (*ms > cap)
		*ms = cap;
	return *ms;
}

/*
 * What the worker cannot get past on its own (a recorded offset that is not one,
 * a partition held, Redis refusing its flushes), for /health; NULL fmt: cleared.
 */
void cs__ingest_status(cs_ingest_worker_t *w, cs_ingest_problem_t kind, const char *fmt, ...) {
	va_list ap;
	pthread_mutex_lock(&w->problem_lock);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(w->problem[kind], sizeof(w->problem[kind]), fmt, ap);
		va_end(ap);
	} else {
		w->problem[kind][0] = '\0';
	}
	pthread_mutex_unlock(&w->problem_lock);
}

/* Notes participant pt (P:part: who it is, for the report's inventory) and its latest window (-1: none). */
static cs_err_t cs__part_seen(cs_ingest_worker_t *w, const cs_ingest_participant_t *pt, int64_t window) {
	char meta[1024];
	int n = snprintf(meta, sizeof(meta), "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f", pt->name ? pt->name : "", pt->kind,
			 pt->member_state, pt->sector, cs_tlp2str(pt->tlp));
	if (n < 0 || (size_t)n >= sizeof(meta))
		meta[0] = '\0'; /* names longer than a kilobyte: the id alone */
	return cs_ingest_agg_part(&w->agg, window, pt->id, meta);
}

void cs__ingest_note_participants(cs_ingest_worker_t *w) {
	if (!w->reg)
		return;
	for (size_t i = 0; i < w->reg->cnt; i++)
		if (cs__part_seen(w, &w->reg->v[i], -1)) {
			CS_LOG_W(CS__MOD, "worker %d: out of memory noting the participants", w->id);
			return;
		}
	w->dirty = 1; /* written with the next flush, even if no event comes */
}

/* Turns the per-participant event counts into their dimension counts (with the registry they were counted with). */
static cs_err_t cs__expand_events(cs_ingest_worker_t *w) {
	cs_ingest_agg_t *agg = &w->agg;
	cs_decode_event_t none;
	memset(&none, 0, sizeof(none));
	none.severity = -1;
	for (size_t i = 0; i < agg->evc_size; i++) {
		const struct cs_ingest_evc_s *e = &agg->evc[i];
		const cs_ingest_participant_t *pt = e->pidx >= 0 && w->reg && (size_t)e->pidx < w->reg->cnt ? &w->reg->v[e->pidx] : NULL;
		const char *fmt;
		cs_err_t err;
		if (!e->used)
			continue;
		if (w->reg && (err = cs__ingest_dims_n(w, e->window, (cs_tlp_t)e->tlp, "events", pt, &none, e->count)))
			return err;
		fmt = cs_decode_fmt2str((cs_decode_fmt_t)e->fmt);
		if ((err = cs__ingest_roll(w, e->window, (cs_tlp_t)e->tlp, -1, pt, CS_KEYS_ROLL_EVENTS, NULL, 0, e->count)) ||
		    (err = cs__ingest_roll(w, e->window, (cs_tlp_t)e->tlp, -1, pt, CS_KEYS_ROLL_FORMAT, fmt, strlen(fmt),
					   e->count)))
			return err;
		if (pt && (err = cs__part_seen(w, pt, e->window)))
			return err;
	}
	memset(agg->evc, 0, agg->evc_size * sizeof(*agg->evc));
	agg->evc_cnt = 0;
	return CS_ERR_OK;
}

/*
 * Writes aggregates and offsets to Redis. On success, commits the same
 * offsets to Kafka (async) and empties the aggregates.
 */
cs_err_t cs__ingest_flush(cs_ingest_worker_t *w) {
	rd_kafka_topic_partition_list_t *l;
	int64_t t0 = cs_clock_ms();
	cs_err_t err;

	w->last_flush_ms = t0;
	if (w->agg.evc_cnt && cs__expand_events(w)) {
		snprintf(w->redis.errstr, sizeof(w->redis.errstr), "out of memory expanding event counts");
		cs__ingest_resync(w);
		return CS_ERR_NOMEM;
	}
	if (!w->dirty) {
		cs__ingest_set_paused(w, 0); /* nothing left to write: consume again */
		return CS_ERR_OK;
	}
	if (w->prod && w->prod_pending) {
		/* the dead letters of this batch must be in Kafka before its offsets move */
		rd_kafka_flush(w->prod, (int)w->conf->dlq_timeout_ms);
		if (rd_kafka_outq_len(w->prod) > 0 || atomic_load(&w->prod_failed) > 0) {
			CS_LOG_E(CS__MOD, "dead-letter/alerts topic: %ld deliveries failed, %d pending; replaying the batch",
				 (long)atomic_load(&w->prod_failed), rd_kafka_outq_len(w->prod));
			rd_kafka_purge(w->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			rd_kafka_poll(w->prod, 0);
			atomic_store(&w->prod_failed, 0);
			w->prod_pending = 0;
			/* replay from the Redis offsets, after a pause growing with each failure: the
			 * partitions are not counted meanwhile (cs__ingest_settle), the offsets do not move */
			cs__ingest_drop_unflushed(w);
			w->settle_pending = 1;
			w->settle_retry_ms = cs_clock_ms() + cs__ingest_backoff(&w->prod_backoff_ms, 250, 10000);
			atomic_fetch_add_explicit(&w->m.produce_failures, 1, memory_order_relaxed);
			CS_LOG_W(CS__MOD, "worker %d: replaying from the Redis offsets in %lld ms", w->id,
				 (long long)w->prod_backoff_ms);
			return CS_ERR_KAFKA;
		}
		w->prod_pending = 0;
		w->prod_backoff_ms = 0;
	}
	err = cs_ingest_redis_flush(&w->redis, &w->agg, w->db, w->parts, w->part_cnt);
	if (err == CS_ERR_STALE) {
		atomic_fetch_add_explicit(&w->m.flush_stale, 1, memory_order_relaxed);
		CS_LOG_W(CS__MOD, "%s; dropping %lld unflushed events and resuming from Redis offsets",
			 w->redis.errstr, (long long)w->pending_events);
		if (cs__ingest_resync(w))
			CS_LOG_E(CS__MOD, "resync: %s", w->redis.errstr);
		else
			cs__ingest_set_paused(w, 0); /* Redis answers again: consume from where it says */
		return err;
	}
	if (err) {
		atomic_fetch_add_explicit(&w->m.flush_failures, 1, memory_order_relaxed);
		if (err == CS_ERR_REFUSED) /* not a passing fault: someone must mend what Redis holds */
			cs__ingest_status(w, CS_INGEST_PROBLEM_FLUSH, "flushes refused: %s", w->redis.errstr);
		w->redis.next_retry_ms = cs_clock_ms() + cs__ingest_backoff(&w->redis.backoff_ms, 100, 5000);
		CS_LOG_E(CS__MOD, "flush of %lld events failed: %s (retry in %lld ms)",
			 (long long)w->pending_events, w->redis.errstr,
			 (long long)w->redis.backoff_ms);
		cs__ingest_set_paused(w, 1);
		return err;
	}
	w->redis.backoff_ms = 0;
	if (w->problem[CS_INGEST_PROBLEM_FLUSH][0])
		cs__ingest_status(w, CS_INGEST_PROBLEM_FLUSH, NULL);
	{
		int64_t ms = cs_clock_ms() - t0;
		int b = 0;
		cs_ingest_metrics_t *m = &w->m;
		size_t sup = 0;
		while (b < 7 && ms > (int64_t[]){5, 10, 25, 50, 100, 250, 1000}[b])
			b++;
		atomic_fetch_add_explicit(&m->flush_ms_buckets[b], 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->flush_ms_sum, ms, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->flushes, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->events, w->agg.events, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->hits, w->agg.hits, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->late, w->agg.late, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->future, w->agg.future, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->strings_skipped, w->agg.strings_skipped, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->obs_dropped, w->agg.obs_dropped, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->alerts, (long long)w->agg.alert_cnt, memory_order_relaxed);
		if (w->redis.escalated) {
			atomic_fetch_add_explicit(&m->escalations, w->redis.escalated, memory_order_relaxed);
			CS_LOG_I(CS__MOD, "worker %d: %lld escalations raised", w->id, w->redis.escalated);
		}
		for (size_t k = 0; k < w->agg.suppressed_cnt; k++)
			sup += (size_t)w->agg.suppressed[k];
		atomic_fetch_add_explicit(&m->suppressed, (long long)sup, memory_order_relaxed);
		for (int k = 0; k < CS_DECODE_REJECT__CNT; k++)
			if (w->agg.rejects[k])
				atomic_fetch_add_explicit(&m->rejects[k], w->agg.rejects[k], memory_order_relaxed);
	}
	CS_LOG_D(CS__MOD, "flushed %lld events, %lld hits, %zu aggregates in %lld ms",
		 (long long)w->agg.events, (long long)w->agg.hits, w->agg.cnt,
		 (long long)(cs_clock_ms() - t0));
	for (size_t i = 0; i < w->part_cnt; i++)
		if (w->parts[i].next >= 0)
			w->parts[i].start = w->parts[i].next, w->parts[i].reset = 0;
	l = cs__ingest_parts_list(w, 1);
	if (l->cnt) {
		rd_kafka_resp_err_t kerr = rd_kafka_commit(w->rk, l, 1 /*async*/);
		if (kerr)
			CS_LOG_W(CS__MOD, "Kafka commit (lag monitoring only): %s", rd_kafka_err2str(kerr));
	}
	rd_kafka_topic_partition_list_destroy(l);
	cs_ingest_agg_clear(&w->agg);
	w->pending_events = 0;
	w->dirty = 0;
	cs__ingest_set_paused(w, 0);
	return CS_ERR_OK;
}
