/*
 * cs_ingest.c - the workers of cshield-ingest.
 *
 * DESIGN: each worker thread owns its consumer, decoder, Hyperscan scratch,
 * aggregates, Redis context and dead-letter producer. It
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
#include <unistd.h>
#include <sys/stat.h>

#include "cs_ingest_int.h"
#include "cs_json.h"

#define CS__MOD "ingest"

cs_err_t cs__ingest_conf_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);

/* ---- the participant registry, swapped like the indicator set ---- */

static cs_ingest_reg_t *cs__reg_acquire(cs_ingest_t *ing, uint64_t *gen) {
	cs_ingest_reg_t *r;
	pthread_mutex_lock(&ing->reg_lock);
	if ((r = ing->reg))
		atomic_fetch_add(&r->refs, 1);
	*gen = atomic_load(&ing->reg_gen);
	pthread_mutex_unlock(&ing->reg_lock);
	return r;
}

static void cs__reg_release(cs_ingest_reg_t *r) {
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		cs_ingest_reg_destroy(r);
}

static void cs__reg_publish(cs_ingest_t *ing, cs_ingest_reg_t *r) {
	cs_ingest_reg_t *old;
	atomic_store(&r->refs, 1);
	pthread_mutex_lock(&ing->reg_lock);
	old = ing->reg;
	ing->reg = r;
	atomic_fetch_add(&ing->reg_gen, 1);
	pthread_mutex_unlock(&ing->reg_lock);
	cs__reg_release(old);
}

/* Loads participants.file (if set) and publishes it; a registry that fails leaves the current one. */
static cs_err_t cs__reg_reload(cs_ingest_t *ing, char *errstr, size_t errstr_size) {
	cs_ingest_reg_t *r;
	if (!*ing->conf->participants_file)
		return CS_ERR_OK;
	if (!(r = cs_ingest_reg_load(ing->conf->participants_file, errstr, errstr_size)))
		return CS_ERR_CONF_VALUE;
	CS_LOG_I(CS__MOD, "participant registry %s: %zu participants", ing->conf->participants_file, r->cnt);
	cs__reg_publish(ing, r);
	return CS_ERR_OK;
}


static void cs__parts_clear(cs_ingest_worker_t *w) {
	for (size_t i = 0; i < w->part_cnt; i++)
		cs_free(w->parts[i].topic);
	cs_free(w->parts);
	w->parts = NULL;
	w->part_cnt = 0;
}

static cs_ingest_part_t *cs__part_find(cs_ingest_worker_t *w, const char *topic, int32_t partition) {
	for (size_t i = 0; i < w->part_cnt; i++)
		if (w->parts[i].partition == partition && !strcmp(w->parts[i].topic, topic))
			return &w->parts[i];
	return NULL;
}

/* The assigned partitions (only_moved: those with consumed messages, at their next offset). */
static rd_kafka_topic_partition_list_t *cs__parts_list(const cs_ingest_worker_t *w, int only_moved) {
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)w->part_cnt);
	for (size_t i = 0; i < w->part_cnt; i++) {
		const cs_ingest_part_t *p = &w->parts[i];
		if (!p->assigned || (only_moved && p->next < 0))
			continue;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
	}
	return l;
}

/* The next wait of an exponential backoff: first, then doubled up to cap. Returns it. */
static int64_t cs__backoff(int64_t *ms, int64_t first, int64_t cap) {
	*ms = *ms ? *ms * 2 : first;
	if (*ms > cap)
		*ms = cap;
	return *ms;
}

/*
 * What the worker cannot get past on its own (a recorded offset that is not one,
 * a partition held, Redis refusing its flushes), for /health; NULL fmt: nothing.
 */
static void cs__status(cs_ingest_worker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cs__status(cs_ingest_worker_t *w, const char *fmt, ...) {
	va_list ap;
	pthread_mutex_lock(&w->problem_lock);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(w->problem, sizeof(w->problem), fmt, ap);
		va_end(ap);
	} else {
		w->problem[0] = '\0';
	}
	pthread_mutex_unlock(&w->problem_lock);
}

static void cs__pause_list(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *l, int pause) {
	rd_kafka_resp_err_t kerr;

	if (l->cnt == 0)
		return;
	kerr = pause ? rd_kafka_pause_partitions(w->rk, l) : rd_kafka_resume_partitions(w->rk, l);
	if (kerr)
		CS_LOG_E(CS__MOD, "worker %d: %s partitions: %s", w->id, pause ? "pause" : "resume", rd_kafka_err2str(kerr));
	else
		CS_LOG_I(CS__MOD, "worker %d: %s %d partitions", w->id, pause ? "paused" : "resumed", l->cnt);
}

static void cs__set_paused(cs_ingest_worker_t *w, int pause) {
	rd_kafka_topic_partition_list_t *l;

	if (w->paused == pause)
		return;
	l = cs__parts_list(w, 0);
	cs__pause_list(w, l, pause);
	rd_kafka_topic_partition_list_destroy(l);
	w->paused = pause;
}

/* Where a partition Redis knows nothing of starts: Kafka's committed offset, else auto.offset.reset. */
static void cs__fallback_offsets(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *l) {
	char reset[32] = "latest";
	size_t rsz = sizeof(reset);
	int64_t logical;
	rd_kafka_resp_err_t kerr;

	rd_kafka_conf_get(w->conf->kconf, "auto.offset.reset", reset, &rsz);
	logical = !strcmp(reset, "earliest") || !strcmp(reset, "smallest") || !strcmp(reset, "beginning")
			  ? RD_KAFKA_OFFSET_BEGINNING
			  : RD_KAFKA_OFFSET_END;
	if ((kerr = rd_kafka_committed(w->rk, l, 10000)))
		CS_LOG_W(CS__MOD, "worker %d: reading committed offsets: %s", w->id, rd_kafka_err2str(kerr));
	for (int i = 0; i < l->cnt; i++)
		if (kerr || l->elems[i].err || l->elems[i].offset < 0)
			l->elems[i].offset = logical;
}

/*
 * Makes every partition that is not ready ready: reads where Redis says it
 * stands (one HMGET), then assigns it there (new partitions) or seeks it
 * there (assigned partitions whose unflushed events were dropped). Called in
 * the rebalance callback and from the poll loop, never blocking on Redis for
 * more than one command: on failure the caller retries later, and the
 * partitions are meanwhile neither fetched (not assigned) nor counted.
 */
static cs_err_t cs__settle(cs_ingest_worker_t *w, int in_callback) {
	cs_ingest_part_t *tmp = NULL;
	size_t n = 0, unassigned = 0, bad = 0;
	cs_err_t err = CS_ERR_OK;
	rd_kafka_topic_partition_list_t *add = NULL, *seek = NULL, *seek_nostart = NULL;

	for (size_t i = 0; i < w->part_cnt; i++)
		n += !w->parts[i].ready;
	if (n == 0)
		goto assign;
	if (!(tmp = cs_calloc(n, sizeof(*tmp)))) {
		snprintf(w->redis.errstr, sizeof(w->redis.errstr), "out of memory");
		err = CS_ERR_NOMEM;
		goto assign;
	}
	for (size_t i = 0, k = 0; i < w->part_cnt; i++)
		if (!w->parts[i].ready)
			tmp[k++] = w->parts[i]; /* shallow: topic stays owned by w->parts */
	if ((err = cs_ingest_redis_offsets_get(&w->redis, tmp, n)))
		goto assign;

	for (size_t i = 0; i < w->part_cnt; i++)
		unassigned += !w->parts[i].assigned;
	add = rd_kafka_topic_partition_list_new((int)w->part_cnt);
	seek = rd_kafka_topic_partition_list_new((int)n);
	seek_nostart = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0, k = 0; i < w->part_cnt; i++) {
		cs_ingest_part_t *p = &w->parts[i];
		/* an eager assign replaces the whole assignment: it lists every partition */
		int via_assign = !p->assigned || (!w->coop && unassigned);
		if (p->ready) {
			if (via_assign)
				rd_kafka_topic_partition_list_add(add, p->topic, p->partition)->offset =
					p->next >= 0 ? p->next : p->start >= 0 ? p->start : RD_KAFKA_OFFSET_INVALID;
			continue;
		}
		p->start = tmp[k++].start;
		p->next = -1;
		if (p->start == CS_INGEST_OFFSET_BAD) {
			/* what Redis holds is not an offset: this partition waits (not fetched, not
			 * counted) until someone mends it; the worker's other partitions go on */
			p->start = -1;
			bad++;
			continue;
		}
		if (via_assign)
			rd_kafka_topic_partition_list_add(add, p->topic, p->partition)->offset =
				p->start >= 0 ? p->start : RD_KAFKA_OFFSET_INVALID;
		else
			rd_kafka_topic_partition_list_add(p->start >= 0 ? seek : seek_nostart, p->topic,
							  p->partition)->offset = p->start;
		CS_LOG_I(CS__MOD, "worker %d %s %s [%d] at %s %lld", w->id, p->assigned ? "repositions" : "assigned",
			 p->topic, (int)p->partition,
			 p->start >= 0 ? "Redis offset" : "committed/reset, Redis has none", (long long)p->start);
		p->ready = 1;
		p->assigned = 1;
	}
	if (seek_nostart->cnt) {
		cs__fallback_offsets(w, seek_nostart);
		for (int i = 0; i < seek_nostart->cnt; i++)
			rd_kafka_topic_partition_list_add(seek, seek_nostart->elems[i].topic,
							  seek_nostart->elems[i].partition)->offset =
				seek_nostart->elems[i].offset;
	}
	if (seek->cnt) {
		rd_kafka_error_t *kerr = rd_kafka_seek_partitions(w->rk, seek, 5000);
		if (kerr) {
			CS_LOG_E(CS__MOD, "worker %d: seek to the Redis offsets: %s", w->id, rd_kafka_error_string(kerr));
			rd_kafka_error_destroy(kerr);
		}
	}

assign:
	/* In the callback an assign call is due even when nothing could be settled. */
	if ((add && add->cnt) || in_callback) {
		if (!add)
			add = rd_kafka_topic_partition_list_new(0);
		if (w->coop) {
			rd_kafka_error_t *kerr = rd_kafka_incremental_assign(w->rk, add);
			if (kerr) {
				CS_LOG_E(CS__MOD, "worker %d: incremental assign: %s", w->id, rd_kafka_error_string(kerr));
				rd_kafka_error_destroy(kerr);
			}
		} else {
			rd_kafka_resp_err_t kerr = rd_kafka_assign(w->rk, add);
			if (kerr)
				CS_LOG_E(CS__MOD, "worker %d: assign: %s", w->id, rd_kafka_err2str(kerr));
		}
		/* A flush is failing: new partitions wait too. Otherwise resume them
		 * explicitly: librdkafka 2.0.2 keeps an application pause across
		 * unassign and assign, so a partition paused before a rebalance would
		 * stay paused forever once it came back. */
		if (add->cnt)
			cs__pause_list(w, add, w->paused);
	}
	if (add)
		rd_kafka_topic_partition_list_destroy(add);
	if (seek)
		rd_kafka_topic_partition_list_destroy(seek);
	if (seek_nostart)
		rd_kafka_topic_partition_list_destroy(seek_nostart);
	cs_free(tmp);
	if (err) {
		w->settle_pending = 1;
		w->settle_retry_ms = cs_clock_ms() + cs__backoff(&w->settle_backoff_ms, 100, 5000);
		CS_LOG_E(CS__MOD, "worker %d: reading start offsets of %zu partitions: %s (not consuming them; retry in %lld ms)",
			 w->id, n, w->redis.errstr, (long long)w->settle_backoff_ms);
	} else if (bad) {
		w->settle_pending = 1;
		w->settle_retry_ms = cs_clock_ms() + cs__backoff(&w->settle_backoff_ms, 1000, 30000);
		CS_LOG_E(CS__MOD, "worker %d: %zu partition%s not consumed: %s; mend or delete the field (docs/REDIS.md), "
				  "read again in %lld ms",
			 w->id, bad, bad > 1 ? "s" : "", w->redis.errstr, (long long)w->settle_backoff_ms);
		cs__status(w, "%s", w->redis.errstr);
	} else {
		w->settle_pending = 0;
		w->settle_backoff_ms = 0;
		cs__status(w, NULL);
	}
	return err;
}

/*
 * Drops what was consumed since the last flush and repositions every
 * partition where Redis says it stands (now, or once Redis answers).
 */
/* Drops what was consumed since the last flush; every partition must be settled again. */
static void cs__drop_unflushed(cs_ingest_worker_t *w) {
	cs_ingest_agg_clear(&w->agg);
	w->pending_events = 0;
	w->dirty = 0;
	for (size_t i = 0; i < w->part_cnt; i++) {
		w->parts[i].ready = 0;
		w->parts[i].next = -1;
	}
}

static cs_err_t cs__resync(cs_ingest_worker_t *w) {
	cs__drop_unflushed(w);
	return cs__settle(w, 0);
}

static cs_err_t cs__dims_n(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
			   const cs_ingest_participant_t *pt, const cs_decode_event_t *ev, int64_t cnt);

/* Turns the per-participant event counts into their dimension counts (with the registry they were counted with). */
static cs_err_t cs__expand_events(cs_ingest_worker_t *w) {
	cs_ingest_agg_t *agg = &w->agg;
	cs_decode_event_t none;
	memset(&none, 0, sizeof(none));
	none.severity = -1;
	for (size_t i = 0; i < agg->evc_size; i++) {
		const struct cs_ingest_evc_s *e = &agg->evc[i];
		const cs_ingest_participant_t *pt = e->pidx >= 0 && w->reg && (size_t)e->pidx < w->reg->cnt ? &w->reg->v[e->pidx] : NULL;
		cs_err_t err;
		if (!e->used)
			continue;
		if ((err = cs__dims_n(w, e->window, (cs_tlp_t)e->tlp, "events", pt, &none, e->count)))
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
static cs_err_t cs__flush(cs_ingest_worker_t *w) {
	rd_kafka_topic_partition_list_t *l;
	int64_t t0 = cs_clock_ms();
	cs_err_t err;

	w->last_flush_ms = t0;
	if (w->agg.evc_cnt && cs__expand_events(w)) {
		snprintf(w->redis.errstr, sizeof(w->redis.errstr), "out of memory expanding event counts");
		cs__resync(w);
		return CS_ERR_NOMEM;
	}
	if (!w->dirty) {
		cs__set_paused(w, 0); /* nothing left to write: consume again */
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
			 * partitions are not counted meanwhile (cs__settle), the offsets do not move */
			cs__drop_unflushed(w);
			w->settle_pending = 1;
			w->settle_retry_ms = cs_clock_ms() + cs__backoff(&w->prod_backoff_ms, 250, 10000);
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
		if (cs__resync(w))
			CS_LOG_E(CS__MOD, "resync: %s", w->redis.errstr);
		else
			cs__set_paused(w, 0); /* Redis answers again: consume from where it says */
		return err;
	}
	if (err) {
		atomic_fetch_add_explicit(&w->m.flush_failures, 1, memory_order_relaxed);
		if (err == CS_ERR_REFUSED) /* not a passing fault: someone must mend what Redis holds */
			cs__status(w, "flushes refused: %s", w->redis.errstr);
		w->redis.next_retry_ms = cs_clock_ms() + cs__backoff(&w->redis.backoff_ms, 100, 5000);
		CS_LOG_E(CS__MOD, "flush of %lld events failed: %s (retry in %lld ms)",
			 (long long)w->pending_events, w->redis.errstr,
			 (long long)w->redis.backoff_ms);
		cs__set_paused(w, 1);
		return err;
	}
	w->redis.backoff_ms = 0;
	if (w->problem[0] && !strncmp(w->problem, "flushes refused", 15))
		cs__status(w, NULL);
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
		atomic_fetch_add_explicit(&m->alerts, (long long)w->agg.alert_cnt, memory_order_relaxed);
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
			w->parts[i].start = w->parts[i].next;
	l = cs__parts_list(w, 1);
	if (l->cnt) {
		rd_kafka_resp_err_t kerr = rd_kafka_commit(w->rk, l, 1 /*async*/);
		if (kerr)
			CS_LOG_W(CS__MOD, "Kafka commit (lag monitoring only): %s", rd_kafka_err2str(kerr));
	}
	rd_kafka_topic_partition_list_destroy(l);
	cs_ingest_agg_clear(&w->agg);
	w->pending_events = 0;
	w->dirty = 0;
	cs__set_paused(w, 0);
	return CS_ERR_OK;
}

static void cs__on_assign(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *list) {
	size_t have = w->part_cnt;
	cs_ingest_part_t *n;

	if (!w->coop)
		cs__parts_clear(w), have = 0;
	n = cs_reallocarray(w->parts, have + (size_t)list->cnt + 1, sizeof(*n));
	if (!n) {
		CS_LOG_E(CS__MOD, "worker %d: out of memory on assignment", w->id);
		abort(); /* cannot honour the assignment nor refuse it */
	}
	w->parts = n;
	for (int i = 0; i < list->cnt; i++) {
		cs_ingest_part_t *p;
		if (cs__part_find(w, list->elems[i].topic, list->elems[i].partition))
			continue;
		p = &w->parts[w->part_cnt];
		memset(p, 0, sizeof(*p));
		if (!(p->topic = cs_strdup(list->elems[i].topic))) {
			CS_LOG_E(CS__MOD, "worker %d: out of memory on assignment", w->id);
			abort();
		}
		p->partition = list->elems[i].partition;
		p->start = p->next = -1;
		w->part_cnt++;
	}
	/* Without Redis we cannot know where to resume: those partitions wait (not
	 * assigned, so not fetched) and the poll loop retries; the callback never blocks
	 * on a Redis that does not answer. */
	w->settle_backoff_ms = 0;
	cs__settle(w, 1);
}

/* Revoked (or lost) partitions: flush what we have while we still own them. */
static void cs__on_revoke(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *list) {
	rd_kafka_topic_partition_list_t *un;
	size_t keep = 0;

	if (cs__flush(w)) {
		/* the new owner replays the revoked partitions; ours lost their unflushed counts too */
		CS_LOG_W(CS__MOD, "worker %d: flush on revoke failed; %lld events are replayed", w->id,
			 (long long)w->pending_events);
		cs__drop_unflushed(w);
		w->settle_pending = 1; /* settled from the poll loop, not in this callback */
	}
	if (w->paused) { /* do not hand paused partitions back (see cs__settle) */
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(list->cnt);
		for (size_t i = 0; i < w->part_cnt; i++)
			if (w->parts[i].assigned &&
			    rd_kafka_topic_partition_list_find(list, w->parts[i].topic, w->parts[i].partition))
				rd_kafka_topic_partition_list_add(l, w->parts[i].topic, w->parts[i].partition);
		cs__pause_list(w, l, 0);
		rd_kafka_topic_partition_list_destroy(l);
	}
	if (!w->coop) {
		cs__parts_clear(w);
		w->paused = 0;
		w->settle_pending = 0;
		rd_kafka_assign(w->rk, NULL);
		return;
	}
	un = rd_kafka_topic_partition_list_new(list->cnt);
	for (size_t i = 0; i < w->part_cnt; i++) {
		cs_ingest_part_t *p = &w->parts[i];
		if (rd_kafka_topic_partition_list_find(list, p->topic, p->partition)) {
			if (p->assigned)
				rd_kafka_topic_partition_list_add(un, p->topic, p->partition);
			cs_free(p->topic);
			continue;
		}
		w->parts[keep++] = *p;
	}
	w->part_cnt = keep;
	{
		rd_kafka_error_t *kerr = rd_kafka_incremental_unassign(w->rk, un);
		if (kerr) {
			CS_LOG_E(CS__MOD, "worker %d: incremental unassign: %s", w->id, rd_kafka_error_string(kerr));
			rd_kafka_error_destroy(kerr);
		}
	}
	rd_kafka_topic_partition_list_destroy(un);
	if (w->part_cnt == 0)
		w->paused = 0, w->settle_pending = 0;
}

static void cs__rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			     rd_kafka_topic_partition_list_t *list, void *opaque) {
	cs_ingest_worker_t *w = opaque;

	w->coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
		w->assigned_once = 1;
	CS_LOG_I(CS__MOD, "worker %d: %s rebalance: %d partitions %s", w->id, w->coop ? "cooperative" : "eager",
		 list->cnt, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned" : "revoked");
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
		cs__on_assign(w, list);
	else
		cs__on_revoke(w, list);
}

static int cs__on_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs_ingest_worker_t *w = opaque;

	for (size_t i = 0; i < w->ev_hit_cnt; i++)
		if (w->ev_hits[i].ind == hit->ind->id)
			return 0;
	if (cs_array_reserve(&w->ev_hits, &w->ev_hit_cap, w->ev_hit_cnt + 1, sizeof(*w->ev_hits)))
		return 1;
	w->ev_hits[w->ev_hit_cnt].ind = hit->ind->id;
	w->ev_hits[w->ev_hit_cnt++].obs = w->cur_obs;
	return 0;
}

static int64_t cs__window(int64_t ts_ms, int64_t window_s) {
	int64_t s = ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);
	int64_t w = s >= 0 ? s / window_s : -((-s + window_s - 1) / window_s);
	return w * window_s;
}

typedef struct cs__msg_ctx_s {
	cs_ingest_worker_t *w;
	const rd_kafka_message_t *m;
	int64_t kafka_ts;
	int failed;
	int late; /* the current event is late (aggregate.late.grace.s) */
} cs__msg_ctx_t;

/* Produces a rejected event to the dead-letter topic with its reason and source. */
static int cs__dead_letter(cs__msg_ctx_t *mc, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs_ingest_worker_t *w = mc->w;
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
			w->prod, RD_KAFKA_V_TOPIC(w->conf->dlq_topic), RD_KAFKA_V_VALUE((void *)val, vlen),
			RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_HEADER("cs-reason", reason, -1),
			RD_KAFKA_V_HEADER("cs-reason-text", cs_decode_reject2str(r), -1),
			RD_KAFKA_V_HEADER("cs-source-topic", topic, -1), RD_KAFKA_V_HEADER("cs-source-partition", part, -1),
			RD_KAFKA_V_HEADER("cs-source-offset", off, -1), RD_KAFKA_V_HEADER("cs-event-offset", evoff, -1),
			RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(w->prod, 100);
	if (kerr) {
		atomic_fetch_add(&w->prod_failed, 1);
		return -1;
	}
	w->prod_pending++;
	return 0;
}

/*
 * One alert per (event, indicator): what the engine matched, where, and the
 * event's metadata, as JSON; its id is deterministic (source topic, partition,
 * offset, the event's offset in the message, indicator type and value), so a
 * replay writes the same id and subscribers de-duplicate on it.
 */
static cs_err_t cs__alert(cs__msg_ctx_t *mc, const cs_decode_event_t *ev, const cs_corr_ind_t *ind,
			  const cs_obs_t *obs, int64_t ts, cs_tlp_t tlp, const cs_ingest_participant_t *pt) {
	cs_ingest_worker_t *w = mc->w;
	const rd_kafka_message_t *m = mc->m;
	const char *topic = rd_kafka_topic_name(m->rkt), *type = ind->pattern ? "pattern" : cs_obs_type2str(ind->type);
	char *id = NULL, *json = NULL, tbuf[32];
	size_t idlen = 0, jlen = 0;
	FILE *fp;
	cs_jw_t jw;
	rd_kafka_resp_err_t kerr;

	if (!(fp = open_memstream(&id, &idlen)))
		return CS_ERR_NOMEM;
	fprintf(fp, "%s/%d/%lld/%zu/%s:%s", topic, (int)m->partition, (long long)m->offset, ev->offset, type, ind->value);
	fclose(fp);
	if (!(fp = open_memstream(&json, &jlen))) {
		free(id);
		return CS_ERR_NOMEM;
	}
	cs_time_format_iso8601(ts >= 0 ? ts / 1000 : -((-ts + 999) / 1000), tbuf, sizeof(tbuf));
	cs_jw_init(&jw, fp);
	cs_jw_obj_begin(&jw);
	cs_jw_kstrn(&jw, "id", id, idlen);
	cs_jw_kstr(&jw, "time", tbuf);
	cs_jw_kstr(&jw, "tlp", cs_tlp2str(tlp));
	cs_jw_key(&jw, "indicator");
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "id", ind->origin);
	cs_jw_kstr(&jw, "type", type);
	cs_jw_kstr(&jw, "value", ind->value);
	cs_jw_kstr(&jw, "source", ind->source);
	if (ind->confidence >= 0)
		cs_jw_kint(&jw, "confidence", ind->confidence);
	if (*ind->tags)
		cs_jw_kstr(&jw, "tags", ind->tags);
	cs_jw_kstr(&jw, "tlp", cs_tlp2str(ind->tlp));
	cs_jw_kuint(&jw, "set_version", cs_corr_db_version(w->db));
	cs_jw_obj_end(&jw);
	cs_jw_kstrn(&jw, "observable", obs->value, obs->len);
	cs_jw_kstr(&jw, "observable_type", cs_obs_type2str(obs->type));
	cs_jw_kstr(&jw, "role", cs_obs_role2str(obs->role));
	if (pt) { /* a registered participant */
		cs_jw_kstr(&jw, "org", pt->id);
		cs_jw_key(&jw, "participant");
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "name", pt->name);
		cs_jw_kstr(&jw, "kind", pt->kind);
		cs_jw_kstr(&jw, "member_state", pt->member_state);
		cs_jw_kstr(&jw, "sector", pt->sector);
		cs_jw_obj_end(&jw);
	} else if (ev->org) {
		cs_jw_kstrn(&jw, "org", ev->org, ev->org_len);
	} else if (m->key_len && m->key_len < 256) {
		cs_jw_kstrn(&jw, "org", m->key, m->key_len); /* the producer's key names the reporting organization */
	}
	if (mc->late)
		cs_jw_kbool(&jw, "late", 1);
	if (ev->severity >= 0)
		cs_jw_kint(&jw, "severity", ev->severity);
	if (ev->category)
		cs_jw_kstrn(&jw, "category", ev->category, ev->category_len);
	cs_jw_kstr(&jw, "format", cs_decode_fmt2str(ev->fmt));
	cs_jw_key(&jw, "source");
	cs_jw_obj_begin(&jw);
	cs_jw_kstr(&jw, "topic", topic);
	cs_jw_kint(&jw, "partition", m->partition);
	cs_jw_kint(&jw, "offset", m->offset);
	cs_jw_kuint(&jw, "event_offset", ev->offset);
	cs_jw_obj_end(&jw);
	cs_jw_obj_end(&jw);
	fclose(fp);
	if (*w->conf->alerts_topic) {
		while ((kerr = rd_kafka_producev(w->prod, RD_KAFKA_V_TOPIC(w->conf->alerts_topic),
						 RD_KAFKA_V_VALUE(json, jlen), RD_KAFKA_V_KEY(id, idlen),
						 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
		       RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(w->prod, 100);
		if (kerr)
			atomic_fetch_add(&w->prod_failed, 1); /* the flush then replays the batch */
		else
			w->prod_pending++;
	}
	if (w->conf->alerts_stream_maxlen > 0)
		return cs_ingest_agg_alert(&w->agg, id, json);
	free(id);
	free(json);
	return CS_ERR_OK;
}

/* One decoded (or rejected) event of the current message. */
/*
 * The participant an event comes from: the organization the event names, else
 * the producer's message key, else the topic it was published on; NULL when
 * unregistered (or no registry).
 */
static const cs_ingest_participant_t *cs__participant(const cs_ingest_worker_t *w, const cs_decode_event_t *ev,
						      const rd_kafka_message_t *m) {
	int i = -1;
	if (!w->reg)
		return NULL;
	if (ev->org)
		i = cs_ingest_reg_find(w->reg, ev->org, ev->org_len);
	if (i < 0 && m->key_len)
		i = cs_ingest_reg_find(w->reg, m->key, m->key_len);
	if (i < 0)
		i = cs_ingest_reg_topic(w->reg, rd_kafka_topic_name(m->rkt));
	return i >= 0 ? &w->reg->v[i] : NULL;
}

/* Adds one dimension count (cs_keys_dim_field(): "<tlp>|<what>|<name>:<value>"). */
static cs_err_t cs__dim(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what, const char *name,
			const char *value, size_t len, int64_t cnt) {
	char f[256];
	if (cs_keys_dim_field(f, sizeof(f), tlp, what, name, value, len) < 0)
		return CS_ERR_INVAL; /* names are ours and short, values cut at CS_KEYS_DIM_VALUE_MAX */
	return cs_ingest_agg_dim(&w->agg, window, f, cnt);
}

/* The dimension counts of cnt events (what = "events") or of one hit ("hits"). */
static cs_err_t cs__dims_n(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
			   const cs_ingest_participant_t *pt, const cs_decode_event_t *ev, int64_t cnt) {
	char sev[16];
	cs_err_t err = CS_ERR_OK;
	if (w->reg) {
		const char *org = pt ? pt->id : "unregistered";
		if ((err = cs__dim(w, window, tlp, what, "org", org, strlen(org), cnt)))
			return err;
		if (pt && ((err = cs__dim(w, window, tlp, what, "ms", pt->member_state, strlen(pt->member_state), cnt)) ||
			   (err = cs__dim(w, window, tlp, what, "sector", pt->sector, strlen(pt->sector), cnt)) ||
			   (err = cs__dim(w, window, tlp, what, "kind", pt->kind, strlen(pt->kind), cnt))))
			return err;
	}
	if (what[0] == 'e')
		return err; /* per event: who sent it; per hit also what it was */
	if (ev->category && (err = cs__dim(w, window, tlp, what, "category", ev->category, ev->category_len, cnt)))
		return err;
	if (ev->severity >= 0) {
		snprintf(sev, sizeof(sev), "%d", ev->severity);
		err = cs__dim(w, window, tlp, what, "severity", sev, strlen(sev), cnt);
	}
	return err;
}

static cs_err_t cs__dims(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
			 const cs_ingest_participant_t *pt, const cs_decode_event_t *ev) {
	return cs__dims_n(w, window, tlp, what, pt, ev, 1);
}

static int cs__on_event(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs__msg_ctx_t *mc = opaque;
	cs_ingest_worker_t *w = mc->w;
	const cs_ingest_participant_t *pt;
	cs_tlp_t ev_tlp;
	int64_t ts, window, arrival;
	int late;
	char day[32];

	w->agg.events++;
	if (r != CS_DECODE_OK) {
		w->agg.rejects[r]++;
		if (*w->conf->dlq_topic)
			cs__dead_letter(mc, ev, r);
		return 0;
	}
	arrival = mc->kafka_ts > 0 ? mc->kafka_ts : cs_wall_ms();
	ts = ev->ts_ms ? ev->ts_ms : arrival;
	/* late: counted when it arrived, so windows already reported stay as they were */
	late = w->conf->late_grace_s > 0 && ts < arrival - w->conf->late_grace_s * 1000;
	window = cs__window(late ? arrival : ts, w->conf->window_s);
	mc->late = late;
	/* who sent it, and so the TLP of what it shows (no registry: the indicators' TLP alone) */
	pt = cs__participant(w, ev, mc->m);
	ev_tlp = pt ? pt->tlp : w->reg ? w->unregistered_tlp : CS_TLP_CLEAR;
	if (late) {
		cs_time_format_iso8601(cs__window(ts, 1), day, sizeof(day)); /* YYYY-MM-DD... */
		w->agg.late++;
		if (cs__dim(w, window, ev_tlp, "events", "late", day, 10, 1)) {
			mc->failed = 1;
			return 1;
		}
	}
	if (w->reg && cs_ingest_agg_events(&w->agg, window, pt ? (int32_t)(pt - w->reg->v) : -1, ev_tlp, 1)) {
		mc->failed = 1;
		return 1;
	}
	w->ev_hit_cnt = 0;
	cs_corr_scratch_at(w->scr, ts); /* indicator validity against the event's time: replays match alike */
	for (size_t i = 0; i < ev->obs_cnt; i++) {
		w->cur_obs = (uint32_t)i;
		if (cs_corr_match(w->db, w->scr, &ev->obs[i], cs__on_hit, w))
			CS_LOG_E(CS__MOD, "Hyperscan scan failed");
	}
	for (size_t i = 0; i < w->ev_hit_cnt; i++) {
		const cs_corr_ind_t *ind = cs_corr_db_indicator(w->db, w->ev_hits[i].ind);
		if (ind->warninglist >= 0 && (size_t)ind->warninglist < w->agg.suppressed_cnt) {
			w->agg.suppressed[ind->warninglist]++; /* a benign value: counted under its list */
			continue;
		}
		{
			/* a hit is as restricted as the stricter of the indicator and the event */
			cs_tlp_t tlp = ind->tlp > ev_tlp ? ind->tlp : ev_tlp;
			if (cs_ingest_agg_add(&w->agg, window, w->ev_hits[i].ind, tlp, 1) ||
			    cs__dims(w, window, tlp, "hits", pt, ev) ||
			    (late && cs__dim(w, window, tlp, "hits", "late", day, 10, 1)) ||
			    (pt && cs_ingest_agg_src(&w->agg, window, ind->value, pt->id)) ||
			    ((*w->conf->alerts_topic || w->conf->alerts_stream_maxlen > 0) &&
			     cs__alert(mc, ev, ind, &ev->obs[w->ev_hits[i].obs], ts, tlp, pt))) {
				mc->failed = 1;
				return 1;
			}
		}
		w->agg.hits++;
	}
	return 0;
}

static cs_decode_fmt_t cs__topic_fmt(const cs_ingest_conf_t *conf, const char *topic) {
	for (size_t i = 0; i < conf->topic_cnt; i++)
		if (!strcmp(conf->topic_names[i], topic))
			return (cs_decode_fmt_t)conf->topic_fmts[i];
	return CS_DECODE_FMT_AUTO;
}

static void cs__handle(cs_ingest_worker_t *w, rd_kafka_message_t *m) {
	const char *topic = rd_kafka_topic_name(m->rkt);
	cs_ingest_part_t *p = cs__part_find(w, topic, m->partition);
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_timestamp_type_t tt;
	char encoding[32] = "";
	cs__msg_ctx_t mc = {w, m, rd_kafka_message_timestamp(m, &tt), 0, 0};

	if (!p || !p->ready) {
		/* not ours, or fetched before the worker knew where Redis says it starts */
		CS_LOG_D(CS__MOD, "message from %s %s [%d] ignored", p ? "unsettled" : "unassigned", topic,
			 (int)m->partition);
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
	cs_decode_message(w->dec, cs__topic_fmt(w->conf, topic), encoding, m->payload ? m->payload : "",
			  m->len, cs__on_event, &mc);
	if (mc.failed) {
		/* cannot count it: do not move past it; drop the batch and replay */
		CS_LOG_E(CS__MOD, "out of memory aggregating; resyncing from Redis offsets");
		cs__resync(w);
		return;
	}
	p->next = m->offset + 1;
	w->dirty = 1;
	w->pending_events++;
	atomic_fetch_add_explicit(&w->m.messages, 1, memory_order_relaxed);
}

static void cs__dlq_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	cs_ingest_worker_t *w = opaque;
	if (m->err && atomic_fetch_add(&w->prod_failed, 1) == 0) /* the first of a batch is logged, the rest counted */
		CS_LOG_E(CS__MOD, "worker %d: delivery to %s failed: %s", w->id, rd_kafka_topic_name(m->rkt),
			 rd_kafka_err2str(m->err));
}

/*
 * The dead-letter producer: idempotent, acks=all, with the connection
 * properties (bootstrap, security) of the consumer's kafka.* settings.
 */
static rd_kafka_t *cs__dlq_new(cs_ingest_worker_t *w, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *pc = rd_kafka_conf_new();
	size_t cnt;
	const char **kv = rd_kafka_conf_dump(w->conf->kconf, &cnt);
	char kerr[512], proto[64] = "plaintext";
	size_t psz = sizeof(proto);
	rd_kafka_t *rk;

	rd_kafka_conf_get(w->conf->kconf, "security.protocol", proto, &psz);
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
	rd_kafka_conf_set_opaque(pc, w);
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "dead-letter producer: %s", kerr);
		return NULL;
	}
	return rk;
}

/* Sets up worker w: decoder, scratch, Redis, dead-letter producer, consumer. */
static cs_err_t cs__worker_init(cs_ingest_worker_t *w, cs_ingest_t *ing, int id, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *kconf = NULL;
	rd_kafka_topic_partition_list_t *topics = NULL;
	rd_kafka_resp_err_t kerr;
	char kerrstr[512], *tdup = NULL, *tok, *save, cid[64];
	cs_err_t err = CS_ERR_INVAL;

	pthread_mutex_init(&w->problem_lock, NULL);
	w->id = id;
	w->conf = ing->conf;
	w->live = ing->live;
	w->final_failed = &ing->final_failed;
	w->ing = ing;
	w->reg = cs__reg_acquire(ing, &w->reg_gen);
	w->unregistered_tlp = (cs_tlp_t)cs_tlp_parse(w->conf->unregistered_tlp, strlen(w->conf->unregistered_tlp));
	w->db = cs_corr_live_acquire(ing->live, &w->gen);
	w->stop = &ing->stop;
	cs_ingest_redis_init(&w->redis, w->conf);
	if ((w->agg.suppressed_cnt = cs_corr_db_warninglist_count(w->db)) &&
	    !(w->agg.suppressed = cs_calloc(w->agg.suppressed_cnt, sizeof(*w->agg.suppressed)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return CS_ERR_NOMEM;
	}
	if (!(w->scr = cs_corr_scratch_new(w->db, errstr, errstr_size)) ||
	    !(w->dec = cs_decode_new(w->conf->dconf, errstr, errstr_size)))
		goto err;
	if ((*w->conf->dlq_topic || *w->conf->alerts_topic) && !(w->prod = cs__dlq_new(w, errstr, errstr_size)))
		goto err;

	kconf = rd_kafka_conf_dup(w->conf->kconf);
	snprintf(cid, sizeof(cid), "cshield-ingest-w%d", id);
	if (rd_kafka_conf_set(kconf, "group.id", w->conf->group_id, kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.commit", "false", kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.offset.store", "false", kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "client.id", cid, kerrstr, sizeof(kerrstr))) {
		cs_errstr_set(errstr, errstr_size, "Kafka configuration: %s", kerrstr);
		goto err;
	}
	rd_kafka_conf_set_rebalance_cb(kconf, cs__rebalance_cb);
	rd_kafka_conf_set_opaque(kconf, w);
	if (!(w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, kerrstr, sizeof(kerrstr)))) {
		cs_errstr_set(errstr, errstr_size, "Kafka consumer: %s", kerrstr);
		goto err;
	}
	kconf = NULL; /* owned by rk now */
	rd_kafka_poll_set_consumer(w->rk);

	topics = rd_kafka_topic_partition_list_new(4);
	if (!(tdup = cs_strdup(w->conf->topics))) {
		err = CS_ERR_NOMEM;
		goto err;
	}
	for (tok = strtok_r(tdup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		rd_kafka_topic_partition_list_add(topics, tok, RD_KAFKA_PARTITION_UA);
	if (topics->cnt == 0) {
		cs_errstr_set(errstr, errstr_size, "property \"topics\": no topic named");
		goto err;
	}
	if ((kerr = rd_kafka_subscribe(w->rk, topics))) {
		cs_errstr_set(errstr, errstr_size, "subscribe to %s: %s", w->conf->topics, rd_kafka_err2str(kerr));
		goto err;
	}
	err = CS_ERR_OK;
	w->last_flush_ms = cs_clock_ms();
err:
	if (topics)
		rd_kafka_topic_partition_list_destroy(topics);
	if (kconf)
		rd_kafka_conf_destroy(kconf);
	cs_free(tdup);
	return err;
}

static void cs__worker_fini(cs_ingest_worker_t *w) {
	static rd_kafka_t *abandoned[256]; /* kept reachable until exit: see cs__await_first_assignment() */
	static size_t abandoned_cnt;
	if (w->rk && w->abandon_rk && abandoned_cnt < CS_ARRAY_SIZE(abandoned))
		abandoned[abandoned_cnt++] = w->rk;
	else if (w->rk)
		rd_kafka_destroy(w->rk);
	if (w->prod) {
		rd_kafka_flush(w->prod, 5000);
		rd_kafka_destroy(w->prod);
	}
	cs__parts_clear(w);
	cs_ingest_redis_close(&w->redis);
	cs_ingest_agg_destroy(&w->agg);
	cs_corr_scratch_destroy(w->scr);
	cs_decode_destroy(w->dec);
	cs_free(w->ev_hits);
	if (w->db)
		cs_corr_live_release(w->live, w->db);
	w->db = NULL;
	cs__reg_release(w->reg);
	w->reg = NULL;
	pthread_mutex_destroy(&w->problem_lock);
}

/* indicators.file: one or more files, comma-separated, into paths (pointing into *dup). */
static size_t cs__indicator_paths(const cs_ingest_conf_t *conf, char **dup, const char **paths, size_t max) {
	char *save = NULL, *tok;
	size_t np = 0;
	if (!(*dup = cs_strdup(conf->indicators_file)))
		return 0;
	for (tok = strtok_r(*dup, ",", &save); tok && np < max; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok)
			paths[np++] = tok;
	}
	return np;
}

/* Loads the indicator files as set `version`, logging its rejections and size. */
static cs_corr_db_t *cs__load_set(cs_ingest_t *ing, uint64_t version, char *errstr, size_t errstr_size) {
	char *dup = NULL;
	const char *paths[64];
	size_t np = cs__indicator_paths(ing->conf, &dup, paths, CS_ARRAY_SIZE(paths));
	cs_corr_load_opts_t opts = {ing->conf->warninglists_dir,
				    (cs_tlp_t)cs_tlp_parse(ing->conf->indicators_tlp, strlen(ing->conf->indicators_tlp)),
				    ing->conf->indicators_cache_dir};
	int64_t t0 = cs_clock_ms();
	cs_corr_db_t *db;

	if (!dup) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	db = cs_corr_db_load_opts(paths, np, &opts, version, errstr, errstr_size);
	cs_free(dup);
	if (!db)
		return NULL;
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		CS_LOG_W("correlate", "indicator rejected: %s", cs_corr_db_reject(db, i));
	CS_LOG_I("correlate", "indicator set version %llu: %zu indicators from %s (%zu rejected, %zu on %zu warning lists; %s) in %lld ms",
		 (unsigned long long)version, cs_corr_db_count(db), ing->conf->indicators_file, cs_corr_db_reject_count(db),
		 cs_corr_db_warned_count(db), cs_corr_db_warninglist_count(db), cs_corr_db_patterns_note(db),
		 (long long)(cs_clock_ms() - t0));
	return db;
}

/* A signature of the indicator files (size and modification time of each); 0 if none can be read. */
static uint64_t cs__files_sig(const cs_ingest_conf_t *conf) {
	char *dup = NULL;
	const char *paths[64];
	size_t np = cs__indicator_paths(conf, &dup, paths, CS_ARRAY_SIZE(paths));
	uint64_t sig = 1469598103934665603ULL;
	for (size_t i = 0; i < np; i++) {
		struct stat st;
		if (stat(paths[i], &st))
			continue;
		sig = (sig ^ (uint64_t)st.st_size) * 1099511628211ULL;
		sig = (sig ^ (uint64_t)st.st_mtim.tv_sec) * 1099511628211ULL;
		sig = (sig ^ (uint64_t)st.st_mtim.tv_nsec) * 1099511628211ULL;
	}
	cs_free(dup);
	if (*conf->participants_file) {
		struct stat st;
		if (!stat(conf->participants_file, &st)) {
			sig = (sig ^ (uint64_t)st.st_size) * 1099511628211ULL;
			sig = (sig ^ (uint64_t)st.st_mtim.tv_nsec) * 1099511628211ULL ^ (uint64_t)st.st_mtim.tv_sec;
		}
	}
	return sig;
}

/*
 * Publishes what the workers match with: the files' set (newbase, taken over,
 * when they were loaded again; NULL: the current one) with the change layer
 * over it when there are changes. A layer that fails leaves the current set,
 * or publishes the new files' set alone.
 */
static void cs__publish(cs_ingest_t *ing, cs_corr_db_t *newbase) {
	if (newbase) {
		cs_corr_db_destroy(ing->base);
		ing->base = newbase;
	}
	if (ing->changes && cs_ingest_changes_count(ing->changes)) {
		char errstr[1024];
		cs_corr_load_opts_t opts = {ing->conf->warninglists_dir,
					    (cs_tlp_t)cs_tlp_parse(ing->conf->indicators_tlp, strlen(ing->conf->indicators_tlp)),
					    ing->conf->indicators_cache_dir};
		cs_corr_db_t *top = cs_ingest_changes_layer(ing->changes, ing->base, &opts, ing->version + 1, errstr,
							    sizeof(errstr));
		if (top) {
			ing->version++;
			cs_corr_live_publish(ing->live, top);
			return;
		}
		atomic_fetch_add(&ing->reloads_failed, 1);
		CS_LOG_E("correlate", "indicator changes not applied: %s", errstr);
	}
	if (newbase)
		cs_corr_live_publish(ing->live, cs_corr_db_ref(newbase));
}

/*
 * The loader thread: on SIGHUP, or when the files changed, loads a new set
 * aside and publishes it; the workers move to it after their next flush. A
 * set that does not load leaves the current one in place.
 */
static void *cs__loader_main(void *arg) {
	cs_ingest_t *ing = arg;
	uint64_t sig = cs__files_sig(ing->conf);
	int64_t next_check = cs_clock_ms() + ing->conf->reload_interval_ms;

	while (!atomic_load(&ing->stop)) {
		struct timespec ts = {0, 100 * 1000000};
		int64_t now;
		int why = 0; /* 1: SIGHUP, 2: files changed */
		if (ing->changes) {
			if (cs_ingest_changes_poll(ing->changes, 100))
				cs__publish(ing, NULL); /* a batch of changes: a new layer over the files' set */
		} else {
			nanosleep(&ts, NULL);
		}
		now = cs_clock_ms();
		cs_corr_live_collect(ing->live); /* sets the workers left behind */
		if (atomic_exchange(&ing->reload, 0))
			why = 1;
		else if (ing->conf->reload_interval_ms > 0 && now >= next_check) {
			uint64_t nsig = cs__files_sig(ing->conf);
			next_check = now + ing->conf->reload_interval_ms;
			if (nsig != sig)
				why = 2;
		}
		if (why) {
			char errstr[1024];
			cs_corr_db_t *db;
			uint64_t nsig = cs__files_sig(ing->conf);
			CS_LOG_I("correlate", "reloading the indicator files (%s)", why == 1 ? "SIGHUP" : "they changed");
			if (!(db = cs__load_set(ing, ing->version + 1, errstr, sizeof(errstr)))) {
				atomic_fetch_add(&ing->reloads_failed, 1);
				CS_LOG_E("correlate", "new indicator set not loaded, version %llu stays in use: %s",
					 (unsigned long long)ing->version, errstr);
			} else {
				ing->version++;
				cs__publish(ing, db);
			}
			if (cs__reg_reload(ing, errstr, sizeof(errstr))) {
				atomic_fetch_add(&ing->reloads_failed, 1);
				CS_LOG_E(CS__MOD, "participant registry not reloaded, the current one stays in use: %s", errstr);
			}
			sig = nsig;
		}
	}
	/*
	 * Shutdown watchdog: the workers flush (bounded by shutdown.timeout.ms) and
	 * leave the group, which librdkafka may hold up behind a pending rebalance
	 * for a session timeout or more. Past the bound, with every flush done,
	 * leaving without a goodbye loses nothing: the group notices the member is
	 * gone, and Redis has the offsets.
	 */
	{
		int64_t deadline = cs_clock_ms() + ing->conf->shutdown_timeout_ms + 15000;
		while (!atomic_load(&ing->workers_done) && cs_clock_ms() < deadline) {
			struct timespec ts = {0, 100 * 1000000};
			nanosleep(&ts, NULL);
		}
		if (!atomic_load(&ing->workers_done)) {
			int failed = atomic_load(&ing->final_failed);
			CS_LOG_E(CS__MOD, "leaving the consumer group takes longer than shutdown.timeout.ms + 15 s; exiting "
					  "without it (%s)",
				 failed ? "a final flush failed: those events are replayed" : "every final flush succeeded");
			_exit(failed ? 3 : 0);
		}
	}
	return NULL;
}

void cs_ingest_reload(cs_ingest_t *ing) {
	atomic_store(&ing->reload, 1);
}

/*
 * Moves the worker to a newly published indicator set. Aggregates hold
 * indicator ids of the set they were counted with, so the move happens only
 * when there is nothing unflushed: a pending batch is flushed first (if Redis
 * does not answer, the worker stays on its set and tries again later).
 */
static void cs__maybe_swap(cs_ingest_worker_t *w) {
	char errstr[512];
	const cs_corr_db_t *ndb;
	uint64_t gen;
	int64_t *sup = NULL;
	size_t sup_cnt;

	if (atomic_load_explicit(&w->ing->reg_gen, memory_order_acquire) != w->reg_gen && w->agg.evc_cnt == 0) {
		/* pending event counts hold participant indexes: the registry changes only once
		 * they were expanded (a flush); dimension counts copy the names they use */
		cs_ingest_reg_t *old = w->reg;
		w->reg = cs__reg_acquire(w->ing, &w->reg_gen);
		cs__reg_release(old);
	}
	if (cs_corr_live_generation(w->live) == w->gen)
		return;
	if (w->dirty && (cs__flush(w) || w->dirty))
		return;
	ndb = cs_corr_live_acquire(w->live, &gen);
	sup_cnt = cs_corr_db_warninglist_count(ndb);
	if (cs_corr_scratch_update(w->scr, ndb, errstr, sizeof(errstr)) ||
	    (sup_cnt && !(sup = cs_calloc(sup_cnt, sizeof(*sup))))) {
		CS_LOG_E(CS__MOD, "worker %d: staying on indicator set version %llu: %s", w->id,
			 (unsigned long long)cs_corr_db_version(w->db), sup_cnt && !sup ? "out of memory" : errstr);
		cs_corr_live_release(w->live, ndb);
		w->gen = gen; /* not again for this set */
		return;
	}
	cs_free(w->agg.suppressed);
	w->agg.suppressed = sup;
	w->agg.suppressed_cnt = sup_cnt;
	CS_LOG_I(CS__MOD, "worker %d: indicator set version %llu -> %llu", w->id,
		 (unsigned long long)cs_corr_db_version(w->db), (unsigned long long)cs_corr_db_version(ndb));
	cs_corr_live_release(w->live, w->db); /* the last to leave it hands it to the loader to free */
	w->db = ndb;
	w->gen = gen;
}

cs_ingest_t *cs_ingest_new(cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_ingest_t *ing = NULL;
	long n;

	if (cs__ingest_conf_check(conf, errstr, errstr_size))
		goto err;
	cs_log_set_level((cs_log_level_t)cs_log_level_parse(conf->log_level));
	if (!(ing = cs_calloc(1, sizeof(*ing)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto err;
	}
	ing->conf = conf;
	ing->metrics_fd = -1;
	pthread_mutex_init(&ing->reg_lock, NULL);
	ing->started_ms = cs_clock_ms();
	conf = NULL;

	{
		cs_corr_db_t *db = cs__load_set(ing, ++ing->version, errstr, errstr_size);
		if (!db)
			goto err;
		ing->base = db; /* the loader keeps the files' set, for the change layer */
		if (!(ing->live = cs_corr_live_new(cs_corr_db_ref(db)))) {
			cs_corr_db_destroy(db);
			cs_errstr_set(errstr, errstr_size, "out of memory");
			goto err;
		}
	}
	if (*ing->conf->indicators_topic && !(ing->changes = cs_ingest_changes_new(ing->conf, errstr, errstr_size)))
		goto err;

	if (cs__reg_reload(ing, errstr, errstr_size))
		goto err;
	n = ing->conf->workers ? (long)ing->conf->workers : sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (!(ing->workers = cs_calloc((size_t)n, sizeof(*ing->workers)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto err;
	}
	for (int i = 0; i < n; i++) {
		ing->worker_cnt++;
		if (cs__worker_init(&ing->workers[i], ing, i, errstr, errstr_size))
			goto err;
	}
	if (cs_ingest_metrics_listen(ing, errstr, errstr_size))
		goto err;
	CS_LOG_I(CS__MOD, "%d worker%s in group %s", ing->worker_cnt, ing->worker_cnt > 1 ? "s" : "",
		 ing->conf->group_id);
	return ing;

err:
	cs_ingest_conf_destroy(conf);
	cs_ingest_destroy(ing);
	return NULL;
}

void cs_ingest_stop(cs_ingest_t *ing) {
	atomic_store(&ing->stop, 1);
}

/*
 * librdkafka 2.0.2 aborts in rd_kafka_sticky_assignor_state_destroy() when a
 * cooperative-sticky consumer is destroyed after it joined the group but
 * before its first assignment (librdkafka#4312, fixed in 2.3.0). A member
 * stopped that early (a SIGTERM right after start) therefore waits, polling,
 * for its first assignment, for 2 s at most (or shutdown.timeout.ms). Messages
 * polled meanwhile are not counted: their offsets never move. If none came
 * (the group was still waiting for a dead member's session to expire), the
 * consumer leaves the group but is not destroyed: it stays reachable until
 * the process exits, which is cleaner than the abort.
 */
static void cs__await_first_assignment(cs_ingest_worker_t *w, int64_t deadline) {
	char *mid;
	int joined;

	if (w->assigned_once)
		return;
	mid = rd_kafka_memberid(w->rk);
	joined = mid && *mid;
	if (mid)
		rd_kafka_mem_free(w->rk, mid);
	if (!joined)
		return; /* never joined: no assignor state, nothing to wait for */
	CS_LOG_I(CS__MOD, "worker %d: waiting for the group's first assignment before leaving", w->id);
	while (!w->assigned_once && cs_clock_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, 100);
		if (m)
			rd_kafka_message_destroy(m);
	}
	if (!w->assigned_once) {
		CS_LOG_W(CS__MOD, "worker %d: no assignment before the shutdown deadline; leaving the group without "
				  "destroying the consumer (librdkafka 2.0.2 would abort)", w->id);
		w->abandon_rk = 1;
	}
}

/* The worker's gauges for the metrics endpoint; lag at most once a second. */
static void cs__gauges(cs_ingest_worker_t *w, int64_t now) {
	long long unsettled = 0, lag = 0;
	cs_decode_shape_stats_t st;
	cs_decode_shape_stats(w->dec, &st);
	atomic_store_explicit(&w->m.shape_walked, (long long)st.walked, memory_order_relaxed);
	atomic_store_explicit(&w->m.shape_missed, (long long)st.missed, memory_order_relaxed);
	atomic_store_explicit(&w->m.last_poll_ms, now, memory_order_relaxed);
	atomic_store_explicit(&w->m.set_version, (long long)cs_corr_db_version(w->db), memory_order_relaxed);
	atomic_store_explicit(&w->m.pending_bytes, (long long)w->agg.bytes, memory_order_relaxed);
	if (now - w->lag_at_ms < 1000)
		return;
	w->lag_at_ms = now;
	for (size_t i = 0; i < w->part_cnt; i++) {
		const cs_ingest_part_t *p = &w->parts[i];
		int64_t lo, hi, pos = p->next >= 0 ? p->next : p->start;
		unsettled += !p->ready;
		/* the log end as the last fetch saw it: no request to the broker */
		if (p->ready && pos >= 0 && !rd_kafka_get_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi) &&
		    hi > pos)
			lag += hi - pos;
	}
	atomic_store_explicit(&w->m.lag, lag, memory_order_relaxed);
	atomic_store_explicit(&w->m.partitions, (long long)w->part_cnt, memory_order_relaxed);
	atomic_store_explicit(&w->m.paused, w->paused ? (long long)w->part_cnt : 0, memory_order_relaxed);
	atomic_store_explicit(&w->m.unsettled, unsettled, memory_order_relaxed);
}

/* A worker's life: consume until stop, then drain, flush, commit, leave the group. */
static cs_err_t cs__worker_run(cs_ingest_worker_t *w) {
	cs_err_t err = CS_ERR_OK;
	rd_kafka_resp_err_t kerr;
	int64_t deadline;

	unsigned since_clock = 0;

	while (!atomic_load(w->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, 100);
		int64_t now;

		/* the clock is read when idle or every 64 messages, not per message */
		if (m && ++since_clock < 64 && w->pending_events < w->conf->flush_max_events &&
		    w->agg.bytes < (size_t)w->conf->flush_max_bytes) {
			if (!m->err)
				cs__handle(w, m);
			else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				CS_LOG_W(CS__MOD, "worker %d: consumer: %s", w->id, rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		since_clock = 0;
		if (m) {
			if (!m->err)
				cs__handle(w, m);
			else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				CS_LOG_W(CS__MOD, "worker %d: consumer: %s", w->id, rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
		}
		if (w->prod)
			rd_kafka_poll(w->prod, 0);
		now = cs_clock_ms();
		cs__maybe_swap(w);
		cs__gauges(w, now);
		if (w->settle_pending && now >= w->settle_retry_ms)
			cs__settle(w, 0);
		if (w->paused) {
			if (now >= w->redis.next_retry_ms)
				cs__flush(w);
		} else if (w->pending_events >= w->conf->flush_max_events ||
			   w->agg.bytes >= (size_t)w->conf->flush_max_bytes ||
			   (w->dirty && now - w->last_flush_ms >= w->conf->flush_interval_ms)) {
			cs__flush(w);
		}
	}

	/* Drain: the final flush, retried until shutdown.timeout.ms. */
	CS_LOG_I(CS__MOD, "worker %d stopping: final flush of %lld events", w->id, (long long)w->pending_events);
	deadline = cs_clock_ms() + w->conf->shutdown_timeout_ms;
	/* not long: a member with nothing assigned gets no callback at all (librdkafka 2.0.2 calls
	 * none for an empty incremental assignment), and while it waits the group's rebalance
	 * waits for it too (0102 saw the other members without partitions for half a minute) */
	cs__await_first_assignment(w, cs_clock_ms() + (w->conf->shutdown_timeout_ms < 2000 ? w->conf->shutdown_timeout_ms : 2000));
	while ((err = cs__flush(w)) == CS_ERR_REDIS && cs_clock_ms() < deadline) {
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (err == CS_ERR_OK) {
		/* The Kafka commit is for lag monitoring only (Redis holds the offsets): wait for it
		 * a little, never for long. During a rebalance the coordinator holds it behind the
		 * pending JoinGroup, up to the session timeout; a synchronous commit then kept
		 * SIGTERM waiting 45 s (CI, 0105). */
		rd_kafka_topic_partition_list_t *l = cs__parts_list(w, 1);
		rd_kafka_queue_t *q = rd_kafka_queue_new(w->rk);
		if (l->cnt && q && !(kerr = rd_kafka_commit_queue(w->rk, l, q, NULL, NULL))) {
			rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 3000);
			if (!ev)
				CS_LOG_W(CS__MOD, "worker %d: final Kafka commit not confirmed within 3 s (a rebalance is "
						  "under way?); Redis has the offsets", w->id);
			else if (rd_kafka_event_error(ev))
				CS_LOG_W(CS__MOD, "worker %d: final Kafka commit: %s", w->id, rd_kafka_event_error_string(ev));
			if (ev)
				rd_kafka_event_destroy(ev);
		} else if (l->cnt) {
			CS_LOG_W(CS__MOD, "worker %d: final Kafka commit: %s", w->id, q ? rd_kafka_err2str(kerr) : "no queue");
		}
		if (q)
			rd_kafka_queue_destroy(q);
		rd_kafka_topic_partition_list_destroy(l);
	} else {
		atomic_store(w->final_failed, 1);
		CS_LOG_E(CS__MOD, "worker %d: final flush failed: %s; %lld events will be replayed on restart", w->id,
			 w->redis.errstr, (long long)w->pending_events);
	}
	if ((kerr = rd_kafka_consumer_close(w->rk)))
		CS_LOG_W(CS__MOD, "worker %d: leaving the group: %s", w->id, rd_kafka_err2str(kerr));
	return err == CS_ERR_STALE ? CS_ERR_OK : err;
}

static void *cs__worker_main(void *arg) {
	cs_ingest_worker_t *w = arg;
	w->result = cs__worker_run(w);
	return NULL;
}

cs_err_t cs_ingest_run(cs_ingest_t *ing) {
	cs_err_t err = CS_ERR_OK;
	int started = 1;

	cs_ingest_metrics_start(ing);
	if (!pthread_create(&ing->loader, NULL, cs__loader_main, ing))
		ing->loader_started = 1;
	else
		CS_LOG_E(CS__MOD, "cannot start the indicator loader thread: indicator files will not be reloaded");
	/* worker 0 runs on the calling thread, the others on threads of their own */
	for (int i = 1; i < ing->worker_cnt; i++, started++)
		if (pthread_create(&ing->workers[i].thread, NULL, cs__worker_main, &ing->workers[i])) {
			CS_LOG_E(CS__MOD, "cannot start worker %d: running with %d", i, started);
			break;
		}
	ing->workers[0].result = cs__worker_run(&ing->workers[0]);
	for (int i = 1; i < started; i++)
		pthread_join(ing->workers[i].thread, NULL);
	atomic_store(&ing->workers_done, 1);
	atomic_store(&ing->stop, 1); /* the loader too, when a worker ended on its own */
	if (ing->loader_started) {
		pthread_join(ing->loader, NULL);
		ing->loader_started = 0;
	}
	cs_ingest_metrics_stop(ing);
	for (int i = 0; i < started; i++)
		if (ing->workers[i].result && !err)
			err = ing->workers[i].result;
	return err;
}

void cs_ingest_destroy(cs_ingest_t *ing) {
	if (!ing)
		return;
	cs_ingest_metrics_stop(ing);
	for (int i = 0; i < ing->worker_cnt; i++)
		cs__worker_fini(&ing->workers[i]);
	cs_free(ing->workers);
	cs_corr_live_destroy(ing->live);
	cs_corr_db_destroy(ing->base);
	cs_ingest_changes_destroy(ing->changes);
	cs__reg_release(ing->reg);
	pthread_mutex_destroy(&ing->reg_lock);
	cs_ingest_conf_destroy(ing->conf);
	cs_free(ing);
}
