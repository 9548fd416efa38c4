/*
 * cs_ingest_retro.c - a retro-hunt: new indicators looked for in the events
 * the Kafka topics still hold, with Kafka as the store (docs/ESCALATION.md).
 *
 * DESIGN: the same runtime as a live run, set up differently by the command
 * line (cs_ingest_main.c): the indicator set is only the new indicators, the
 * consumer group is the hunt's own (derived from the indicators and the
 * period: the same hunt resumes, exactly once), one worker. At start, each
 * partition's range is fixed: from the first offset at or after --since
 * (rd_kafka_offsets_for_times) to the first at or after --until, or the end
 * of the partition then. A partition Redis has no offset for starts at its
 * range's start; the run stops once every partition's recorded offset has
 * reached its range's end. Hits are counted apart from the live windows
 * (P:retro), events are not counted again, and the escalation rule sees the
 * hits as it sees live ones (cs_ingest_event.c, cs_ingest_flush.c).
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "cs_ingest_int.h"
#include "cs_sha1.h"

#define CS__MOD "retro"

void cs__ingest_retro_free(cs_ingest_t *ing) {
	for (size_t i = 0; i < ing->retro_cnt; i++)
		cs_free(ing->retro[i].topic);
	cs_free(ing->retro);
	ing->retro = NULL;
	ing->retro_cnt = 0;
}

/* The offsets of time t (ms) in l's partitions; -1 (none at or after t) becomes the partition's end. */
static cs_err_t cs__times(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int64_t t, const int64_t *hi,
			  char *errstr, size_t errstr_size) {
	rd_kafka_resp_err_t kerr;
	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = t;
	if ((kerr = rd_kafka_offsets_for_times(rk, l, 15000))) {
		cs_errstr_set(errstr, errstr_size, "offsets for time %lld: %s", (long long)t, rd_kafka_err2str(kerr));
		return CS_ERR_KAFKA;
	}
	for (int i = 0; i < l->cnt; i++) {
		if (l->elems[i].err) {
			cs_errstr_set(errstr, errstr_size, "offsets for time of %s [%d]: %s", l->elems[i].topic,
				      (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
			return CS_ERR_KAFKA;
		}
		if (l->elems[i].offset < 0)
			l->elems[i].offset = hi[i];
	}
	return CS_ERR_OK;
}

cs_err_t cs__ingest_retro_ranges(cs_ingest_t *ing, char *errstr, size_t errstr_size) {
	const cs_ingest_conf_t *conf = ing->conf;
	rd_kafka_conf_t *kc = cs__ingest_kafka_conn(conf);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16), *u = NULL;
	char kerr[512], *tdup = cs_strdup(conf->topics), *tok, *save;
	int64_t *hi = NULL, events = 0;
	rd_kafka_t *rk = NULL;
	cs_err_t err = CS_ERR_KAFKA;

	if (!tdup) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		goto out;
	}
	if (rd_kafka_conf_set(kc, "group.id", conf->group_id, kerr, sizeof(kerr)) ||
	    !(rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "retro-hunt: Kafka client: %s", kerr);
		rd_kafka_conf_destroy(kc);
		goto out;
	}
	for (tok = strtok_r(tdup, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, tok, NULL);
		rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
		rd_kafka_topic_destroy(rkt);
		if (e || md->topic_cnt != 1 || md->topics[0].err) {
			cs_errstr_set(errstr, errstr_size, "retro-hunt: topic %s: %s", tok,
				      rd_kafka_err2str(e ? e : md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
			if (md)
				rd_kafka_metadata_destroy(md);
			goto out;
		}
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(l, tok, md->topics[0].partitions[p].id);
		rd_kafka_metadata_destroy(md);
	}
	if (!(hi = cs_calloc((size_t)l->cnt + 1, sizeof(*hi)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		err = CS_ERR_NOMEM;
		goto out;
	}
	for (int i = 0; i < l->cnt; i++) {
		int64_t lo;
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, l->elems[i].topic, l->elems[i].partition, &lo,
									  &hi[i], 15000);
		if (e) {
			cs_errstr_set(errstr, errstr_size, "retro-hunt: end of %s [%d]: %s", l->elems[i].topic,
				      (int)l->elems[i].partition, rd_kafka_err2str(e));
			goto out;
		}
	}
	u = rd_kafka_topic_partition_list_copy(l);
	if (cs__times(rk, l, conf->retro_since_ms, hi, errstr, errstr_size))
		goto out;
	if (conf->retro_until_ms > 0) {
		if (cs__times(rk, u, conf->retro_until_ms, hi, errstr, errstr_size))
			goto out;
	} else {
		for (int i = 0; i < u->cnt; i++)
			u->elems[i].offset = hi[i];
	}
	if (!(ing->retro = cs_calloc((size_t)l->cnt + 1, sizeof(*ing->retro)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		err = CS_ERR_NOMEM;
		goto out;
	}
	for (int i = 0; i < l->cnt; i++) {
		cs_ingest_retro_t *r = &ing->retro[ing->retro_cnt];
		if (!(r->topic = cs_strdup(l->elems[i].topic))) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			err = CS_ERR_NOMEM;
			goto out;
		}
		r->partition = l->elems[i].partition;
		r->from = l->elems[i].offset;
		r->end = u->elems[i].offset > r->from ? u->elems[i].offset : r->from;
		events += r->end - r->from;
		ing->retro_cnt++;
		CS_LOG_I(CS__MOD, "%s [%d]: offsets %lld to %lld", r->topic, (int)r->partition, (long long)r->from,
			 (long long)r->end);
	}
	CS_LOG_I(CS__MOD, "retro-hunt %s: %zu partitions, %lld messages to read", conf->group_id, ing->retro_cnt,
		 (long long)events);
	err = CS_ERR_OK;
out:
	if (l)
		rd_kafka_topic_partition_list_destroy(l);
	if (u)
		rd_kafka_topic_partition_list_destroy(u);
	if (rk)
		rd_kafka_destroy(rk);
	cs_free(hi);
	cs_free(tdup);
	return err;
}

int64_t cs__ingest_retro_from(const cs_ingest_t *ing, const char *topic, int32_t partition) {
	for (size_t i = 0; i < ing->retro_cnt; i++)
		if (ing->retro[i].partition == partition && !strcmp(ing->retro[i].topic, topic))
			return ing->retro[i].from;
	return -1;
}

int64_t cs__ingest_retro_end(const cs_ingest_t *ing, const char *topic, int32_t partition) {
	for (size_t i = 0; i < ing->retro_cnt; i++)
		if (ing->retro[i].partition == partition && !strcmp(ing->retro[i].topic, topic))
			return ing->retro[i].end;
	return 0;
}

int cs__ingest_retro_done(cs_ingest_worker_t *w) {
	const cs_ingest_t *ing = w->ing;
	if (w->dirty)
		return 0;
	for (size_t i = 0; i < ing->retro_cnt; i++) {
		const cs_ingest_retro_t *r = &ing->retro[i];
		const cs_ingest_part_t *p;
		if (r->from >= r->end)
			continue; /* nothing in the period */
		if (!(p = cs__ingest_part_find(w, r->topic, r->partition)) || !p->ready || p->start < r->end)
			return 0;
	}
	return 1;
}

cs_err_t cs_ingest_conf_retro(cs_ingest_conf_t *conf, const char *file, int64_t since_ms, int64_t until_ms,
			      char *errstr, size_t errstr_size) {
	static const char *const off[][2] = {{"indicators.topic", ""}, {"indicators.reload.interval.ms", "0"},
					     {"workers", "1"},          {"alerts.topic", ""},
					     {"alerts.stream.maxlen", "0"}, {"dlq.topic", ""},
					     {"escalations.topic", ""},  {"metrics.listen", ""}};
	FILE *fp = fopen(file, "rb");
	char buf[65536], group[320], hex[41], tail[64];
	uint8_t d[20];
	size_t n, len = 0, cap = 0;
	char *all = NULL;
	cs_err_t err;

	if (!fp) {
		cs_errstr_set(errstr, errstr_size, "--retro %s: %s", file, strerror(errno));
		return CS_ERR_CONF_VALUE;
	}
	if (until_ms > 0 && until_ms <= since_ms) {
		fclose(fp);
		cs_errstr_set(errstr, errstr_size, "--until is not after --since");
		return CS_ERR_CONF_VALUE;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (cs_array_reserve(&all, &cap, len + n + 64, 1)) {
			fclose(fp);
			cs_free(all);
			cs_errstr_set(errstr, errstr_size, "out of memory");
			return CS_ERR_NOMEM;
		}
		memcpy(all + len, buf, n);
		len += n;
	}
	fclose(fp);
	if (cs_array_reserve(&all, &cap, len + 64, 1)) {
		cs_free(all);
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return CS_ERR_NOMEM;
	}
	len += (size_t)snprintf(all + len, 64, "|%lld|%lld", (long long)since_ms, (long long)until_ms);
	cs_sha1(all, len, d);
	cs_free(all);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	snprintf(tail, sizeof(tail), "-retro-%.12s", hex);
	snprintf(group, sizeof(group), "%.*s%s", (int)(255 - strlen(tail)), conf->group_id, tail);
	if ((err = cs_ingest_conf_set(conf, "indicators.file", file, errstr, errstr_size)) ||
	    (err = cs_ingest_conf_set(conf, "group.id", group, errstr, errstr_size)))
		return err;
	for (size_t i = 0; i < sizeof(off) / sizeof(*off); i++)
		if ((err = cs_ingest_conf_set(conf, off[i][0], off[i][1], errstr, errstr_size)))
			return err;
	conf->retro = 1;
	conf->retro_since_ms = since_ms;
	conf->retro_until_ms = until_ms;
	return CS_ERR_OK;
}
