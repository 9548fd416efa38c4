/*
 * cs_ingest.c - the runtime of cshield-ingest: its workers and their run loop.
 *
 * DESIGN: each worker thread owns its consumer, decoder, Hyperscan scratch,
 * aggregates, Redis context and producer (shared-nothing); worker 0 runs on
 * the caller's thread. A worker polls message by message (librdkafka 2.0.2's
 * batch API can skip offsets around pause/resume), hands each to
 * cs_ingest_event.c, and flushes (cs_ingest_batch.c) every
 * flush.interval.ms, flush.max.events or flush.max.bytes. Redis, not Kafka,
 * is the source of truth for where each partition resumes
 * (cs_ingest_parts.c). Because aggregates and offsets move together,
 * in-memory state may always be dropped: it is replayed, never lost and never
 * counted twice. The run loop owns the shutdown: on stop each worker drains,
 * flushes and leaves the group, and a watchdog bounds how long leaving may
 * take. Where the rest lives: cs_ingest_loader.c (indicator sets, registry),
 * cs_ingest_kafka.c (client builders), cs_ingest_alert.c,
 * cs_ingest_metrics.c (HTTP endpoint).
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"


/* Sets up worker w: decoder, scratch, Redis, dead-letter producer, consumer. */
static cs_err_t cs__worker_init(cs_ingest_worker_t *w, cs_ingest_t *ing, int id, char *errstr, size_t errstr_size) {
	cs_err_t err;

	pthread_mutex_init(&w->problem_lock, NULL);
	w->id = id;
	w->conf = ing->conf;
	w->live = ing->live;
	w->final_failed = &ing->final_failed;
	w->ing = ing;
	w->reg = cs__ingest_reg_acquire(ing, &w->reg_gen);
	if (id == 0)
		cs__ingest_note_participants(w);
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
	if ((*w->conf->dlq_topic || *w->conf->alerts_topic) && !(w->prod = cs__ingest_producer_new(w, errstr, errstr_size)))
		goto err;

	if ((err = cs__ingest_consumer_new(w, errstr, errstr_size)))
		return err;
	w->last_flush_ms = cs_clock_ms();
	return CS_ERR_OK;
err:
	return CS_ERR_INVAL;
}

static void cs__worker_fini(cs_ingest_worker_t *w) {
	static rd_kafka_t *abandoned[256]; /* kept reachable until exit: see cs__ingest_await_first_assignment() */
	static size_t abandoned_cnt;
	if (w->rk && w->abandon_rk && abandoned_cnt < CS_ARRAY_SIZE(abandoned))
		abandoned[abandoned_cnt++] = w->rk;
	else if (w->rk)
		rd_kafka_destroy(w->rk);
	if (w->prod) {
		rd_kafka_flush(w->prod, 5000);
		rd_kafka_destroy(w->prod);
	}
	cs__ingest_parts_clear(w);
	cs_ingest_redis_close(&w->redis);
	cs_ingest_agg_destroy(&w->agg);
	cs_corr_scratch_destroy(w->scr);
	cs_decode_destroy(w->dec);
	cs_free(w->ev_hits);
	if (w->db)
		cs_corr_live_release(w->live, w->db);
	w->db = NULL;
	cs__ingest_reg_release(w->reg);
	w->reg = NULL;
	pthread_mutex_destroy(&w->problem_lock);
}

cs_ingest_t *cs_ingest_new(cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_ingest_t *ing = NULL;
	long n;

	if (cs_ingest_conf_check(conf, errstr, errstr_size))
		goto err;
	cs_log_set_level((cs_log_level_t)cs_log_level_parse(conf->log_level));
	/* refused by Kafka (a wrong password, an untrusted certificate): said now, before anything starts */
	if (cs__ingest_kafka_check(conf, errstr, errstr_size))
		goto err;
	if (!(ing = cs_calloc(1, sizeof(*ing)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto err;
	}
	ing->conf = conf;
	ing->metrics_fd = -1;
	pthread_mutex_init(&ing->reg_lock, NULL);
	ing->started_ms = cs_clock_ms();
	conf = NULL;
	if (!(ing->store = cs_corr_store_new())) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto err;
	}

	{
		cs_corr_db_t *db = cs__ingest_load_set(ing, ++ing->version, errstr, errstr_size);
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

	if (ing->conf->retro && cs__ingest_retro_ranges(ing, errstr, errstr_size))
		goto err;
	if (cs__ingest_reg_reload(ing, errstr, errstr_size))
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

/* The worker's gauges for the metrics endpoint; lag at most once a second. */
static void cs__gauges(cs_ingest_worker_t *w, int64_t now) {
	long long unsettled = 0, lag = 0, held = 0;
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
		held += p->held;
		/* the log end as the last fetch saw it: no request to the broker */
		if (p->ready && pos >= 0 && !rd_kafka_get_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi) &&
		    hi > pos)
			lag += hi - pos;
	}
	atomic_store_explicit(&w->m.lag, lag, memory_order_relaxed);
	atomic_store_explicit(&w->m.partitions, (long long)w->part_cnt, memory_order_relaxed);
	atomic_store_explicit(&w->m.paused, w->paused ? (long long)w->part_cnt : 0, memory_order_relaxed);
	atomic_store_explicit(&w->m.unsettled, unsettled, memory_order_relaxed);
	atomic_store_explicit(&w->m.held, held, memory_order_relaxed);
	if (!held && w->problem[CS_INGEST_PROBLEM_HELD][0])
		cs__ingest_status(w, CS_INGEST_PROBLEM_HELD, NULL); /* the held partitions went elsewhere */
}

/* One message or consumer event; destroys it. */
static void cs__consume(cs_ingest_worker_t *w, rd_kafka_message_t *m) {
	if (!m->err)
		cs__ingest_handle(w, m);
	else if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE || m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
		CS_LOG_E(CS__MOD, "worker %d: consumer: %s (see offsets.out.of.range)", w->id, rd_kafka_message_errstr(m));
	else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
		CS_LOG_W(CS__MOD, "worker %d: consumer: %s", w->id, rd_kafka_message_errstr(m));
	rd_kafka_message_destroy(m);
}

/* messages taken from the consumer queue at once (flush.max.events may be passed by up to this many) */
#define CS__BATCH 256

/* A worker's life: consume until stop, then drain, flush, commit, leave the group. */
static cs_err_t cs__worker_run(cs_ingest_worker_t *w) {
	cs_err_t err = CS_ERR_OK;
	rd_kafka_resp_err_t kerr;
	int64_t deadline;

	int idle = 0;
	/* messages are taken in batches from the consumer queue (the rebalance callbacks are served
	 * there too): one queue lock and one clock reading per batch, not per message */
	rd_kafka_queue_t *cq = rd_kafka_queue_get_consumer(w->rk);
	rd_kafka_message_t *batch[CS__BATCH];

	while (!atomic_load(w->stop)) {
		/* idle: wait for messages no longer than the oldest pending alert may wait (when messages
		 * flow, the call returns at once and the clock below decides) */
		int wait_ms = 100;
		ssize_t n;
		int64_t now;
		if (idle && w->agg.alert_cnt && w->conf->alerts_max_delay_ms > 0) {
			int64_t left = w->agg.first_alert_ms + w->conf->alerts_max_delay_ms - cs_clock_ms();
			wait_ms = left < 0 ? 0 : left < 100 ? (int)left : 100;
		}
		n = cq ? rd_kafka_consume_batch_queue(cq, wait_ms, batch, CS__BATCH) : -1;
		if (n < 0) { /* no consumer queue (not reached): one message at a time */
			rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, wait_ms);
			n = 0;
			if (m)
				batch[n++] = m;
		}
		idle = n == 0;
		for (ssize_t i = 0; i < n; i++) {
			cs__consume(w, batch[i]);
			/* the batch limits hold per message, as they did one message at a time */
			if (!w->paused && (w->pending_events >= w->conf->flush_max_events ||
					   w->agg.bytes >= (size_t)w->conf->flush_max_bytes))
				cs__ingest_flush(w);
		}
		if (w->prod)
			rd_kafka_poll(w->prod, 0);
		now = cs_clock_ms();
		cs__ingest_maybe_swap(w);
		cs__gauges(w, now);
		if (w->settle_pending && now >= w->settle_retry_ms)
			cs__ingest_settle(w, 0);
		if (w->ing->retro && idle && cs__ingest_retro_done(w)) {
			CS_LOG_I(CS__MOD, "retro-hunt %s: every partition read to the end of its range", w->conf->group_id);
			atomic_store(w->stop, 1);
		}
		if (w->paused) {
			if (now >= w->redis.next_retry_ms)
				cs__ingest_flush(w);
		} else if (w->pending_events >= w->conf->flush_max_events ||
			   w->agg.bytes >= (size_t)w->conf->flush_max_bytes ||
			   (w->dirty && now - w->last_flush_ms >= w->conf->flush_interval_ms) ||
			   (w->agg.alert_cnt && w->conf->alerts_max_delay_ms > 0 &&
			    now - w->agg.first_alert_ms >= w->conf->alerts_max_delay_ms)) {
			cs__ingest_flush(w);
		}
	}

	if (cq)
		rd_kafka_queue_destroy(cq);
	/* Drain: the final flush, retried until shutdown.timeout.ms. */
	CS_LOG_I(CS__MOD, "worker %d stopping: final flush of %lld events", w->id, (long long)w->pending_events);
	deadline = cs_clock_ms() + w->conf->shutdown_timeout_ms;
	/* not long: a member with nothing assigned gets no callback at all (librdkafka 2.0.2 calls
	 * none for an empty incremental assignment), and while it waits the group's rebalance
	 * waits for it too (0102 saw the other members without partitions for half a minute) */
	cs__ingest_await_first_assignment(w, cs_clock_ms() + (w->conf->shutdown_timeout_ms < 2000 ? w->conf->shutdown_timeout_ms : 2000));
	while ((err = cs__ingest_flush(w)) == CS_ERR_REDIS && cs_clock_ms() < deadline) {
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (err == CS_ERR_OK) {
		/* The Kafka commit is for lag monitoring only (Redis holds the offsets): wait for it
		 * a little, never for long. During a rebalance the coordinator holds it behind the
		 * pending JoinGroup, up to the session timeout; a synchronous commit then kept
		 * SIGTERM waiting 45 s (CI, 0105). */
		rd_kafka_topic_partition_list_t *l = cs__ingest_parts_list(w, 1);
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

/*
 * The shutdown watchdog, started by the run loop: once stop is asked, the
 * workers flush (bounded by shutdown.timeout.ms) and leave the group, which
 * librdkafka may hold up behind a pending rebalance for a session timeout or
 * more. Past the bound, with every flush done, leaving without a goodbye
 * loses nothing: the group notices the member is gone, and Redis has the
 * offsets.
 */
static void *cs__watchdog_main(void *arg) {
	cs_ingest_t *ing = arg;
	int64_t deadline;
	while (!atomic_load(&ing->stop)) {
		struct timespec ts = {0, 100 * 1000000};
		nanosleep(&ts, NULL);
	}
	deadline = cs_clock_ms() + ing->conf->shutdown_timeout_ms + 15000;
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
	return NULL;
}

static void *cs__worker_main(void *arg) {
	cs_ingest_worker_t *w = arg;
	w->result = cs__worker_run(w);
	return NULL;
}

cs_err_t cs_ingest_run(cs_ingest_t *ing) {
	cs_err_t err = CS_ERR_OK;
	int started = 1, watchdog_started = 0;
	pthread_t watchdog;

	cs_ingest_metrics_start(ing);
	if (pthread_create(&watchdog, NULL, cs__watchdog_main, ing))
		CS_LOG_E(CS__MOD, "cannot start the shutdown watchdog: leaving the group at shutdown is not bounded");
	else
		watchdog_started = 1;
	if (!pthread_create(&ing->loader, NULL, cs__ingest_loader_main, ing))
		ing->loader_started = 1;
	else
		CS_LOG_E(CS__MOD, "cannot start the indicator loader thread: indicator files will not be reloaded");
	if (*ing->conf->esc_topic) {
		char errstr[512];
		if (!(ing->relay = cs_ingest_relay_start(ing->conf, &ing->stop, errstr, sizeof(errstr))))
			CS_LOG_E(CS__MOD, "%s: escalations stay in Redis until a restart relays them", errstr);
	}
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
	if (watchdog_started)
		pthread_join(watchdog, NULL);
	cs_ingest_relay_stop(ing->relay);
	ing->relay = NULL;
	cs_ingest_metrics_stop(ing);
	for (int i = 0; i < started; i++)
		if (ing->workers[i].result && !err)
			err = ing->workers[i].result;
	if (ing->conf->retro) {
		long long ev = 0, hits = 0, esc = 0;
		for (int i = 0; i < ing->worker_cnt; i++) {
			ev += atomic_load(&ing->workers[i].m.events);
			hits += atomic_load(&ing->workers[i].m.hits);
			esc += atomic_load(&ing->workers[i].m.escalations);
		}
		CS_LOG_I(CS__MOD, "retro-hunt %s %s: %lld events read again, %lld retro hits, %lld escalations raised",
			 ing->conf->group_id, err ? "stopped" : "done", ev, hits, esc);
	}
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
	cs__ingest_retro_free(ing);
	cs_corr_store_destroy(ing->store);
	cs__ingest_reg_release(ing->reg);
	pthread_mutex_destroy(&ing->reg_lock);
	cs_ingest_conf_destroy(ing->conf);
	cs_free(ing);
}
