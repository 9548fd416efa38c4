/*
 * cs_ingest_parts.c - partition assignment and rebalancing.
 *
 * DESIGN: Each worker's rebalance callback runs inside its own rd_kafka_consumer_poll(),
 * on the worker's thread. Redis, not Kafka, says where a partition resumes:
 * on assignment the recorded offsets are read (one HMGET, never waited for
 * longer: a Redis that does not answer leaves the partitions unassigned, the
 * poll loop retries), and partitions whose unflushed counts were dropped are
 * repositioned the same way. Pauses (Redis down) are applied to partitions
 * that arrive while a flush fails, and lifted before partitions are handed
 * back (librdkafka 2.0.2 keeps a pause across unassign and assign).
 * Must never block on Redis inside the callback.
 */
#include <string.h>
#include <stdlib.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"

void cs__ingest_parts_clear(cs_ingest_worker_t *w) {
	for (size_t i = 0; i < w->part_cnt; i++)
		cs_free(w->parts[i].topic);
	cs_free(w->parts);
	w->parts = NULL;
	w->part_cnt = 0;
}

cs_ingest_part_t *cs__ingest_part_find(cs_ingest_worker_t *w, const char *topic, int32_t partition) {
	for (size_t i = 0; i < w->part_cnt; i++)
		if (w->parts[i].partition == partition && !strcmp(w->parts[i].topic, topic))
			return &w->parts[i];
	return NULL;
}

/* The assigned partitions (only_moved: those with consumed messages, at their next offset). */
rd_kafka_topic_partition_list_t *cs__ingest_parts_list(const cs_ingest_worker_t *w, int only_moved) {
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)w->part_cnt);
	for (size_t i = 0; i < w->part_cnt; i++) {
		const cs_ingest_part_t *p = &w->parts[i];
		if (!p->assigned || p->held || (only_moved && p->next < 0))
			continue;
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
	}
	return l;
}

void cs__ingest_pause_list(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *l, int pause) {
	rd_kafka_resp_err_t kerr;

	if (l->cnt == 0)
		return;
	kerr = pause ? rd_kafka_pause_partitions(w->rk, l) : rd_kafka_resume_partitions(w->rk, l);
	if (kerr)
		CS_LOG_E(CS__MOD, "worker %d: %s partitions: %s", w->id, pause ? "pause" : "resume", rd_kafka_err2str(kerr));
	else
		CS_LOG_I(CS__MOD, "worker %d: %s %d partitions", w->id, pause ? "paused" : "resumed", l->cnt);
}

void cs__ingest_set_paused(cs_ingest_worker_t *w, int pause) {
	rd_kafka_topic_partition_list_t *l;

	if (w->paused == pause)
		return;
	l = cs__ingest_parts_list(w, 0);
	cs__ingest_pause_list(w, l, pause);
	rd_kafka_topic_partition_list_destroy(l);
	w->paused = pause;
}

/*
 * Where a partition Redis knows nothing of starts: auto.offset.reset (cshield's
 * default: earliest). Nothing of it is counted in Redis (offsets and counts are
 * written together), so it is counted from there. Kafka's committed offset is
 * not a place to resume: cshield commits only what Redis recorded, so a
 * committed offset Redis does not have means Redis lost those writes (a
 * failover before they were replicated, a restore, a flush): said as an error,
 * and the partition is counted again from auto.offset.reset, never skipped.
 */
static void cs__fallback_offsets(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *l) {
	char reset[32] = "latest";
	size_t rsz = sizeof(reset);
	int64_t logical;
	rd_kafka_resp_err_t kerr;
	rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);

	rd_kafka_conf_get(w->conf->kconf, "auto.offset.reset", reset, &rsz);
	logical = !strcmp(reset, "earliest") || !strcmp(reset, "smallest") || !strcmp(reset, "beginning")
			  ? RD_KAFKA_OFFSET_BEGINNING
			  : RD_KAFKA_OFFSET_END;
	if ((kerr = rd_kafka_committed(w->rk, c, 10000)))
		CS_LOG_W(CS__MOD, "worker %d: reading committed offsets: %s", w->id, rd_kafka_err2str(kerr));
	for (int i = 0; i < l->cnt; i++) {
		if (!kerr && !c->elems[i].err && c->elems[i].offset > 0 && !w->ing->retro)
			CS_LOG_E(CS__MOD,
				 "worker %d: %s [%d]: Redis has no offset for it (%s), yet the group committed %lld: Redis "
				 "lost writes it had taken (a failover before they were replicated, a restore, a flush); "
				 "counting the partition again from auto.offset.reset=%s",
				 w->id, l->elems[i].topic, (int)l->elems[i].partition, w->redis.offsets_key,
				 (long long)c->elems[i].offset, reset);
		l->elems[i].offset = logical;
	}
	rd_kafka_topic_partition_list_destroy(c);
	if (w->ing->retro) /* a retro-hunt starts at its period, whatever was committed */
		for (int i = 0; i < l->cnt; i++) {
			int64_t from = cs__ingest_retro_from(w->ing, l->elems[i].topic, l->elems[i].partition);
			l->elems[i].offset = from >= 0 ? from : RD_KAFKA_OFFSET_END;
		}
}

/*
 * Makes every partition that is not ready ready: reads where Redis says it
 * stands (one HMGET), then assigns it there (new partitions) or seeks it
 * there (assigned partitions whose unflushed events were dropped). Called in
 * the rebalance callback and from the poll loop, never blocking on Redis for
 * more than one command: on failure the caller retries later, and the
 * partitions are meanwhile neither fetched (not assigned) nor counted.
 */
cs_err_t cs__ingest_settle(cs_ingest_worker_t *w, int in_callback) {
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
				p->start >= 0 ? p->start
				: w->ing->retro ? (p->stop_at > 0 ? cs__ingest_retro_from(w->ing, p->topic, p->partition)
								  : RD_KAFKA_OFFSET_END)
						: RD_KAFKA_OFFSET_INVALID;
		else
			rd_kafka_topic_partition_list_add(p->start >= 0 ? seek : seek_nostart, p->topic,
							  p->partition)->offset = p->start;
		CS_LOG_I(CS__MOD, "worker %d %s %s [%d] at %s %lld", w->id, p->assigned ? "repositions" : "assigned",
			 p->topic, (int)p->partition,
			 p->start >= 0 ? "Redis offset" : w->ing->retro ? "the hunt's start, Redis has none"
			 : "auto.offset.reset, Redis has none", (long long)p->start);
		p->ready = 1;
		p->assigned = 1;
	}
	{
		/* partitions assigned that Redis has no offset for: where cs__fallback_offsets() says */
		rd_kafka_topic_partition_list_t *nostart = rd_kafka_topic_partition_list_new(add->cnt + 1);
		for (int i = 0; i < add->cnt; i++)
			if (add->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
				rd_kafka_topic_partition_list_add(nostart, add->elems[i].topic, add->elems[i].partition);
		if (nostart->cnt) {
			cs__fallback_offsets(w, nostart);
			for (int i = 0, j = 0; i < add->cnt && j < nostart->cnt; i++)
				if (add->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
					add->elems[i].offset = nostart->elems[j++].offset;
		}
		rd_kafka_topic_partition_list_destroy(nostart);
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
			cs__ingest_pause_list(w, add, w->paused);
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
		w->settle_retry_ms = cs_clock_ms() + cs__ingest_backoff(&w->settle_backoff_ms, 100, 5000);
		CS_LOG_E(CS__MOD, "worker %d: reading start offsets of %zu partitions: %s (not consuming them; retry in %lld ms)",
			 w->id, n, w->redis.errstr, (long long)w->settle_backoff_ms);
	} else if (bad) {
		w->settle_pending = 1;
		w->settle_retry_ms = cs_clock_ms() + cs__ingest_backoff(&w->settle_backoff_ms, 1000, 30000);
		/* before the log line: what it says is true by then */
		cs__ingest_status(w, CS_INGEST_PROBLEM_OFFSET, "%s", w->redis.errstr);
		CS_LOG_E(CS__MOD, "worker %d: %zu partition%s not consumed: %s; mend or delete the field (docs/REDIS.md), "
				  "read again in %lld ms",
			 w->id, bad, bad > 1 ? "s" : "", w->redis.errstr, (long long)w->settle_backoff_ms);
	} else {
		w->settle_pending = 0;
		w->settle_backoff_ms = 0;
		cs__ingest_status(w, CS_INGEST_PROBLEM_OFFSET, NULL);
	}
	return err;
}

/*
 * Drops what was consumed since the last flush and repositions every
 * partition where Redis says it stands (now, or once Redis answers).
 */
/* Drops what was consumed since the last flush; every partition must be settled again. */
void cs__ingest_drop_unflushed(cs_ingest_worker_t *w) {
	cs_ingest_agg_clear(&w->agg);
	w->pending_events = 0;
	w->dirty = 0;
	for (size_t i = 0; i < w->part_cnt; i++) {
		if (w->parts[i].held)
			continue; /* nothing of it is pending, and it stays where it is */
		w->parts[i].ready = 0;
		w->parts[i].reset = 0;
		w->parts[i].next = -1;
	}
}

cs_err_t cs__ingest_resync(cs_ingest_worker_t *w) {
	cs__ingest_drop_unflushed(w);
	return cs__ingest_settle(w, 0);
}

static void cs__on_assign(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *list) {
	size_t have = w->part_cnt;
	cs_ingest_part_t *n;

	if (!w->coop)
		cs__ingest_parts_clear(w), have = 0;
	n = cs_reallocarray(w->parts, have + (size_t)list->cnt + 1, sizeof(*n));
	if (!n) {
		CS_LOG_E(CS__MOD, "worker %d: out of memory on assignment", w->id);
		abort(); /* cannot honour the assignment nor refuse it */
	}
	w->parts = n;
	for (int i = 0; i < list->cnt; i++) {
		cs_ingest_part_t *p;
		if (cs__ingest_part_find(w, list->elems[i].topic, list->elems[i].partition))
			continue;
		p = &w->parts[w->part_cnt];
		memset(p, 0, sizeof(*p));
		if (!(p->topic = cs_strdup(list->elems[i].topic))) {
			CS_LOG_E(CS__MOD, "worker %d: out of memory on assignment", w->id);
			abort();
		}
		p->partition = list->elems[i].partition;
		p->start = p->next = -1;
		if (w->ing->retro) {
			p->stop_at = cs__ingest_retro_end(w->ing, p->topic, p->partition);
			if (!p->stop_at)
				p->stop_at = -1; /* created after the hunt began: nothing of it is read */
		}
		w->part_cnt++;
	}
	/* Without Redis we cannot know where to resume: those partitions wait (not
	 * assigned, so not fetched) and the poll loop retries; the callback never blocks
	 * on a Redis that does not answer. */
	w->settle_backoff_ms = 0;
	cs__ingest_settle(w, 1);
}

/* Revoked (or lost) partitions: flush what we have while we still own them. */
static void cs__on_revoke(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *list) {
	rd_kafka_topic_partition_list_t *un;
	size_t keep = 0;

	if (cs__ingest_flush(w)) {
		/* the new owner replays the revoked partitions; ours lost their unflushed counts too */
		CS_LOG_W(CS__MOD, "worker %d: flush on revoke failed; %lld events are replayed", w->id,
			 (long long)w->pending_events);
		cs__ingest_drop_unflushed(w);
		w->settle_pending = 1; /* settled from the poll loop, not in this callback */
	}
	{ /* do not hand paused or held partitions back paused (see cs__ingest_settle) */
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(list->cnt);
		for (size_t i = 0; i < w->part_cnt; i++)
			if (w->parts[i].assigned && (w->paused || w->parts[i].held) &&
			    rd_kafka_topic_partition_list_find(list, w->parts[i].topic, w->parts[i].partition))
				rd_kafka_topic_partition_list_add(l, w->parts[i].topic, w->parts[i].partition);
		cs__ingest_pause_list(w, l, 0);
		rd_kafka_topic_partition_list_destroy(l);
	}
	if (!w->coop) {
		cs__ingest_parts_clear(w);
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

void cs__ingest_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
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
void cs__ingest_await_first_assignment(cs_ingest_worker_t *w, int64_t deadline) {
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

int cs__ingest_out_of_range(cs_ingest_worker_t *w, cs_ingest_part_t *p, int64_t offset) {
	int64_t lo = -1, hi = -1;
	int hold = strcmp(w->conf->offsets_out_of_range, "reset") != 0;
	char field[CS_KEYS_MAX];

	rd_kafka_get_watermark_offsets(w->rk, p->topic, p->partition, &lo, &hi);
	cs_keys_off_field(field, sizeof(field), p->topic, p->partition);
	if (hold) /* before the log line: what it says is true by then */
		cs__ingest_status(w, CS_INGEST_PROBLEM_HELD,
				  "%s [%d] held: the recorded offset %lld (%s field \"%s\") lies beyond the partition's log "
				  "(%lld..%lld); mend or delete the field, or set offsets.out.of.range=reset",
				  p->topic, (int)p->partition, (long long)p->start, w->redis.offsets_key, field, (long long)lo,
				  (long long)hi);
	CS_LOG_E(CS__MOD,
		 "worker %d: %s [%d]: the offset recorded in Redis (%s field \"%s\": %lld) lies beyond the partition's "
		 "log (%lld..%lld as last fetched): the topic was re-created, restored or is another cluster's, and the "
		 "client restarted at %lld. %s",
		 w->id, p->topic, (int)p->partition, w->redis.offsets_key, field, (long long)p->start, (long long)lo,
		 (long long)hi, (long long)offset,
		 hold ? "Holding the partition (offsets.out.of.range=hold): nothing of it is counted until the field is "
			"mended or deleted, or offsets.out.of.range=reset is set (docs/REDIS.md)"
		      : "Counting it from there (offsets.out.of.range=reset); the next flush records the new offset");
	if (!hold) {
		atomic_fetch_add_explicit(&w->m.offsets_reset, 1, memory_order_relaxed);
		p->next = -1; /* what came before in this batch was another log's: the duplicate check starts over */
		p->reset = 1; /* start stays what Redis holds, for the flush's check; said once */
		return 0;
	}
	p->held = 1;
	{
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
		cs__ingest_pause_list(w, l, 1);
		rd_kafka_topic_partition_list_destroy(l);
	}
	return 1;
}
