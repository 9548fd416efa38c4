/*
 * cs_ingest_event.c - one message: events, hits and dimension counts.
 *
 * DESIGN: Worker thread, once per message and event: decode, match, count. Nothing
 * here blocks except producing a dead letter into a full queue (librdkafka
 * then makes room). An event that cannot be counted (out of memory) makes
 * the worker drop its batch and replay it: never move past what was not
 * counted.
 */
#include <string.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"

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


/* Produces a rejected event to the dead-letter topic with its reason and source. */
static int cs__dead_letter(cs_ingest_msg_t *mc, const cs_decode_event_t *ev, cs_decode_reject_t r) {
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

/* The event's sender (cs__participant()) into *pt, and the TLP of what it shows: the
 * participant's, the unregistered default, or CLEAR without a registry (the indicators' TLP alone). */
static cs_tlp_t cs__sender(const cs_ingest_worker_t *w, const cs_decode_event_t *ev, const rd_kafka_message_t *m,
			   const cs_ingest_participant_t **pt) {
	*pt = cs__participant(w, ev, m);
	return *pt ? (*pt)->tlp : w->reg ? w->unregistered_tlp : CS_TLP_CLEAR;
}

/*
 * Matches every observable of the event against the worker's indicator set,
 * validity judged at the event's time ts (a replay matches alike): the hits
 * land in w->ev_hits[0..w->ev_hit_cnt).
 */
static void cs__match_event(cs_ingest_worker_t *w, const cs_decode_event_t *ev, int64_t ts) {
	w->ev_hit_cnt = 0;
	cs_corr_scratch_at(w->scr, ts);
	for (size_t i = 0; i < ev->obs_cnt; i++) {
		w->cur_obs = (uint32_t)i;
		if (cs_corr_match(w->db, w->scr, &ev->obs[i], cs__on_hit, w))
			CS_LOG_E(CS__MOD, "Hyperscan scan failed");
	}
}

/* Adds one dimension count (cs_keys_dim_field(): "<tlp>|<what>|<name>:<value>"). */
static cs_err_t cs__dim(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what, const char *name,
			const char *value, size_t len, int64_t cnt) {
	char f[256];
	if (cs_keys_dim_field(f, sizeof(f), tlp, what, name, value, len) < 0)
		return CS_ERR_INVAL; /* names are ours and short, values cut at CS_KEYS_DIM_VALUE_MAX */
	return cs_ingest_agg_dim(&w->agg, window, f, cnt);
}

/* The participant's id in the roll-ups: its id, "unregistered", or "-" without a registry. */
const char *cs__ingest_org(const cs_ingest_worker_t *w, const cs_ingest_participant_t *pt) {
	return pt ? pt->id : w->reg ? CS_KEYS_ORG_UNREGISTERED : CS_KEYS_ORG_NONE;
}

/* Adds one roll-up count (cs_keys_roll_field()) of the hour of window. itlp < 0: events. */
cs_err_t cs__ingest_roll(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, int itlp,
			 const cs_ingest_participant_t *pt, const char *what, const char *value, size_t len,
			 int64_t cnt) {
	char f[CS_KEYS_MAX];
	if (cs_keys_roll_field(f, sizeof(f), tlp, itlp, cs__ingest_org(w, pt), what, value, len) < 0)
		return CS_ERR_INVAL; /* bounded: values at 4096 bytes, the rest short */
	return cs_ingest_agg_roll(&w->agg, window, f, cnt);
}

/* The dimension counts of cnt events (what = "events") or of one hit ("hits"). */
cs_err_t cs__ingest_dims_n(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
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

/* The roll-up counts of one hit: the indicator by participant, the event's category and severity. */
static cs_err_t cs__hit_rolls(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const cs_corr_ind_t *ind,
			      const cs_ingest_participant_t *pt, const cs_decode_event_t *ev) {
	char sev[16];
	cs_err_t err;
	if ((err = cs__ingest_roll(w, window, tlp, (int)ind->tlp, pt, CS_KEYS_ROLL_IND, ind->value, strlen(ind->value), 1)))
		return err;
	if (ev->category && (err = cs__ingest_roll(w, window, tlp, (int)ind->tlp, pt, CS_KEYS_ROLL_CATEGORY, ev->category,
						   ev->category_len, 1)))
		return err;
	if (ev->severity >= 0) {
		snprintf(sev, sizeof(sev), "%d", ev->severity);
		err = cs__ingest_roll(w, window, tlp, (int)ind->tlp, pt, CS_KEYS_ROLL_SEVERITY, sev, strlen(sev), 1);
	}
	return err;
}

/* A hit for the escalation rule: the indicator, who (member state, sector) and under which TLP. */
static cs_err_t cs__esc_hit(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const cs_corr_ind_t *ind,
			    const cs_ingest_participant_t *pt) {
	char m[512];
	snprintf(m, sizeof(m), "%s|%d|%s|%s", pt->id, (int)tlp, pt->member_state, pt->sector);
	return cs_ingest_agg_esc(&w->agg, window, ind->value, m);
}

static cs_err_t cs__dims(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
			 const cs_ingest_participant_t *pt, const cs_decode_event_t *ev) {
	return cs__ingest_dims_n(w, window, tlp, what, pt, ev, 1);
}

/*
 * An event of a retro-hunt: counted live already (events, rejects, dimensions,
 * alerts), so only its hits on the hunt's indicators, in the window of its own
 * time, apart from the live windows, and for the escalation rule.
 */
static int cs__retro_event(cs_ingest_worker_t *w, cs_ingest_msg_t *mc, const cs_decode_event_t *ev,
			   cs_decode_reject_t r, int64_t arrival) {
	const cs_ingest_participant_t *pt;
	cs_tlp_t ev_tlp;
	int64_t ts, window;
	if (r != CS_DECODE_OK)
		return 0;
	ts = ev->ts_ms ? ev->ts_ms : arrival;
	window = cs__window(ts, w->conf->window_s);
	ev_tlp = cs__sender(w, ev, mc->m, &pt);
	cs__match_event(w, ev, ts);
	for (size_t i = 0; i < w->ev_hit_cnt; i++) {
		const cs_corr_ind_t *ind = cs_corr_db_indicator(w->db, w->ev_hits[i].ind);
		cs_tlp_t tlp = ind->tlp > ev_tlp ? ind->tlp : ev_tlp;
		if (ind->warninglist >= 0)
			continue; /* benign: never counted, never escalates */
		if (cs_ingest_agg_add(&w->agg, window, w->ev_hits[i].ind, tlp, 1) ||
		    (pt && w->conf->esc_enable && cs__esc_hit(w, window, tlp, ind, pt))) {
			mc->failed = 1;
			return 1;
		}
		w->agg.hits++;
	}
	return 0;
}

/* One decoded (or rejected) event of the current message. */
static int cs__on_event(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs_ingest_msg_t *mc = opaque;
	cs_ingest_worker_t *w = mc->w;
	const cs_ingest_participant_t *pt;
	cs_tlp_t ev_tlp;
	int64_t ts, window, arrival;
	int late;
	char day[32];

	w->agg.events++;
	arrival = mc->kafka_ts > 0 ? mc->kafka_ts : cs_wall_ms();
	if (w->conf->retro)
		return cs__retro_event(w, mc, ev, r, arrival);
	if (r != CS_DECODE_OK) {
		const char *code = cs_decode_reject2code(r);
		w->agg.rejects[r]++;
		/* counted in its arrival hour, under its sender's TLP */
		ev_tlp = cs__sender(w, ev, mc->m, &pt);
		if (cs__ingest_roll(w, cs__window(arrival, w->conf->window_s), ev_tlp, -1, pt, CS_KEYS_ROLL_REJECT, code,
				    strlen(code), 1)) {
			mc->failed = 1;
			return 1;
		}
		if (*w->conf->dlq_topic)
			cs__dead_letter(mc, ev, r);
		return 0;
	}
	ts = ev->ts_ms ? ev->ts_ms : arrival;
	/* late: counted when it arrived, so windows already reported stay as they were; far ahead
	 * of its arrival (a wrong clock, a forged time): counted when it arrived too */
	late = w->conf->late_grace_s > 0 && ts < arrival - w->conf->late_grace_s * 1000;
	mc->future = w->conf->future_grace_s > 0 && ts - arrival > w->conf->future_grace_s * 1000;
	window = cs__window(late || mc->future ? arrival : ts, w->conf->window_s);
	mc->late = late;
	w->agg.future += mc->future;
	ev_tlp = cs__sender(w, ev, mc->m, &pt); /* who sent it, and so the TLP of what it shows */
	if (late) {
		cs_time_format_iso8601(cs__window(ts, 1), day, sizeof(day)); /* YYYY-MM-DD... */
		w->agg.late++;
		if (cs__dim(w, window, ev_tlp, "events", "late", day, 10, 1) ||
		    cs__ingest_roll(w, window, ev_tlp, -1, pt, CS_KEYS_ROLL_LATE, NULL, 0, 1)) {
			mc->failed = 1;
			return 1;
		}
	}
	if (cs_ingest_agg_events(&w->agg, window, pt ? (int32_t)(pt - w->reg->v) : -1, ev_tlp, (int)ev->fmt, 1)) {
		mc->failed = 1;
		return 1;
	}
	cs__match_event(w, ev, ts);
	for (size_t i = 0; i < w->ev_hit_cnt; i++) {
		const cs_corr_ind_t *ind = cs_corr_db_indicator(w->db, w->ev_hits[i].ind);
		/* a hit is as restricted as the stricter of the indicator and the event */
		cs_tlp_t tlp = ind->tlp > ev_tlp ? ind->tlp : ev_tlp;
		if (ind->warninglist >= 0 && (size_t)ind->warninglist < w->agg.suppressed_cnt) {
			const char *list = cs_corr_db_warninglist(w->db, (size_t)ind->warninglist);
			w->agg.suppressed[ind->warninglist]++; /* a benign value: counted under its list */
			if (cs__ingest_roll(w, window, tlp, (int)ind->tlp, pt, CS_KEYS_ROLL_SUPPRESSED, list, strlen(list), 1)) {
				mc->failed = 1;
				return 1;
			}
			continue;
		}
		{
			if (cs_ingest_agg_add(&w->agg, window, w->ev_hits[i].ind, tlp, 1) ||
			    cs__dims(w, window, tlp, "hits", pt, ev) ||
			    cs__hit_rolls(w, window, tlp, ind, pt, ev) ||
			    (late && cs__dim(w, window, tlp, "hits", "late", day, 10, 1)) ||
			    (pt && cs_ingest_agg_src(&w->agg, window, ind->value, pt->id)) ||
			    (pt && w->conf->esc_enable && cs__esc_hit(w, window, tlp, ind, pt)) ||
			    ((*w->conf->alerts_topic || w->conf->alerts_stream_maxlen > 0) &&
			     cs__ingest_alert(mc, ev, ind, &ev->obs[w->ev_hits[i].obs], ts, tlp, pt))) {
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

void cs__ingest_handle(cs_ingest_worker_t *w, rd_kafka_message_t *m) {
	const char *topic = rd_kafka_topic_name(m->rkt);
	cs_ingest_part_t *p = cs__ingest_part_find(w, topic, m->partition);
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_timestamp_type_t tt;
	char encoding[32] = "";
	cs_ingest_msg_t mc = {w, m, rd_kafka_message_timestamp(m, &tt), 0, 0, 0};
	uint64_t skipped0, dropped0, skipped, dropped;

	if (!p || !p->ready || p->held) {
		/* not ours, fetched before the worker knew where Redis says it starts, or held */
		CS_LOG_D(CS__MOD, "message from %s %s [%d] ignored", p ? p->held ? "held" : "unsettled" : "unassigned",
			 topic, (int)m->partition);
		return;
	}
	if (p->start >= 0 && m->offset < p->start && !p->reset) {
		/* below the offset Redis holds: nothing cshield does reads there, so the client reset
		 * its position: the recorded offset lies beyond the partition's log */
		if (cs__ingest_out_of_range(w, p, m->offset))
			return; /* held */
	}
	if (m->offset < p->next)
		return; /* a duplicate delivery: already counted in this batch */
	if (p->stop_at && (p->stop_at < 0 || m->offset >= p->stop_at))
		return; /* a retro-hunt: past the end of its range */

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
	cs_decode_capped(w->dec, &skipped0, &dropped0);
	cs_decode_message(w->dec, cs__topic_fmt(w->conf, topic), encoding, m->payload ? m->payload : "",
			  m->len, cs__on_event, &mc);
	cs_decode_capped(w->dec, &skipped, &dropped);
	w->agg.strings_skipped += (int64_t)(skipped - skipped0);
	w->agg.obs_dropped += (int64_t)(dropped - dropped0);
	if (mc.failed) {
		/* cannot count it: do not move past it; drop the batch and replay */
		CS_LOG_E(CS__MOD, "out of memory aggregating; resyncing from Redis offsets");
		cs__ingest_resync(w);
		return;
	}
	p->next = m->offset + 1;
	w->dirty = 1;
	w->pending_events++;
	atomic_fetch_add_explicit(&w->m.messages, 1, memory_order_relaxed);
}
