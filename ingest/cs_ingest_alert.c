/*
 * cs_ingest_alert.c - alerts.
 *
 * DESIGN: One alert per (event, indicator) hit that is counted: JSON (common/
 * cs_json.h) with a deterministic id, to the alerts topic and, in the flush,
 * to the Redis stream. Worker thread.
 */
#include <string.h>
#include <stdlib.h>

#include "cs_ingest_int.h"
#include "cs_json.h"

#define CS__MOD "ingest"

/*
 * One alert per (event, indicator): what the engine matched, where, and the
 * event's metadata, as JSON; its id is deterministic (source topic, partition,
 * offset, the event's offset in the message, indicator type and value), so a
 * replay writes the same id and subscribers de-duplicate on it.
 */
cs_err_t cs__ingest_alert(cs_ingest_msg_t *mc, const cs_decode_event_t *ev, const cs_corr_ind_t *ind,
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
	if (mc->future)
		cs_jw_kbool(&jw, "future", 1);
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
		return cs_ingest_agg_alert(&w->agg, id, json, tlp);
	free(id);
	free(json);
	return CS_ERR_OK;
}
