/*
 * cs_ingest_changes.c - the indicator change feed (indicators.topic).
 *
 * DESIGN: the loader thread owns everything here. A consumer without a group
 * reads every partition of the topic from the beginning (the topic is the log
 * of changes: compacted or long-retained, keyed by type and value), so a
 * restart rebuilds the same overlay. The latest change of each (type, value)
 * is kept; a batch of changes becomes a layer over the set loaded from the
 * files (cs_corr_db_overlay), published like any new set: milliseconds for a
 * thousand changes over a million indicators, where reloading the files takes
 * seconds. Messages are JSON (docs/FORMATS.md); one that does not parse is
 * logged with its partition and offset and skipped.
 */
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "cs_ingest_int.h"

#define CS__MOD "changes"

typedef struct cs__rec_s {
	char *key; /* "<type>\t<value>" as received; owned */
	cs_corr_change_t c; /* strings owned */
} cs__rec_t;

struct cs_ingest_changes_s {
	rd_kafka_t *rk;
	char *topic;
	int assigned;
	char last_warn[256]; /* the last assignment problem logged (logged again only when it changes) */
	cs__rec_t *v;
	size_t cnt, cap;
	int64_t dirty_since_ms, last_msg_ms, first_unapplied_ms;
	long pending; /* changes received since the last layer */
	long rejected;
};

static void cs__rec_free(cs__rec_t *r) {
	cs_free(r->key);
	cs_free((char *)r->c.type);
	cs_free((char *)r->c.value);
	cs_free((char *)r->c.id);
	cs_free((char *)r->c.source);
	cs_free((char *)r->c.tags);
}

cs_ingest_changes_t *cs_ingest_changes_new(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_ingest_changes_t *c = cs_calloc(1, sizeof(*c));
	rd_kafka_conf_t *kc;
	char kerr[512], gid[300];

	if (!c || !(c->topic = cs_strdup(conf->indicators_topic))) {
		cs_free(c);
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	kc = rd_kafka_conf_dup(conf->kconf);
	/* no group membership (assign, never subscribe) and no commits: every partition from the
	 * beginning, on every start; librdkafka 2.0.2 wants a group.id for assign all the same */
	snprintf(gid, sizeof(gid), "%s.indicator-changes", conf->group_id);
	if (rd_kafka_conf_set(kc, "enable.auto.commit", "false", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(kc, "group.id", gid, kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(kc, "client.id", "cshield-ingest-changes", kerr, sizeof(kerr)) ||
	    !(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "indicators.topic consumer: %s", kerr);
		cs_free(c->topic);
		cs_free(c);
		return NULL;
	}
	rd_kafka_poll_set_consumer(c->rk);
	return c;
}

void cs_ingest_changes_destroy(cs_ingest_changes_t *c) {
	if (!c)
		return;
	if (c->rk) {
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	for (size_t i = 0; i < c->cnt; i++)
		cs__rec_free(&c->v[i]);
	cs_free(c->v);
	cs_free(c->topic);
	cs_free(c);
}

/* Assigns every partition of the topic from the beginning, once its metadata is known. */
static void cs__assign(cs_ingest_changes_t *c) {
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, c->topic, NULL);
	rd_kafka_resp_err_t err;

	if (!rkt)
		return;
	err = rd_kafka_metadata(c->rk, 0, rkt, &md, 2000);
	if (!err && md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(l, c->topic, md->topics[0].partitions[p].id)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
		if (!(err = rd_kafka_assign(c->rk, l))) {
			c->assigned = 1;
			CS_LOG_I(CS__MOD, "reading indicator changes from %s (%d partitions, from the beginning)", c->topic,
				 md->topics[0].partition_cnt);
		} else if (strcmp(c->last_warn, rd_kafka_err2str(err))) {
			snprintf(c->last_warn, sizeof(c->last_warn), "%s", rd_kafka_err2str(err));
			CS_LOG_W(CS__MOD, "indicator change topic %s: assign: %s", c->topic, c->last_warn);
		}
		rd_kafka_topic_partition_list_destroy(l);
	} else {
		const char *why = err ? rd_kafka_err2str(err)
				      : md && md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
										     : "no partitions";
		if (strcmp(c->last_warn, why)) { /* once per problem, not every 100 ms */
			snprintf(c->last_warn, sizeof(c->last_warn), "%s", why);
			CS_LOG_W(CS__MOD, "indicator change topic %s: %s (retrying)", c->topic, why);
		}
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
}

static char *cs__jstr(json_t *o, const char *k) {
	const char *v = json_string_value(json_object_get(o, k));
	return v ? cs_strdup(v) : NULL;
}

/* Keeps the latest change of each (type, value). 0, or -1 when the message is not a change. */
static int cs__take(cs_ingest_changes_t *c, const rd_kafka_message_t *m) {
	json_error_t jerr;
	json_t *o = json_loadb(m->payload ? m->payload : "", m->len, 0, &jerr);
	const char *op = json_string_value(json_object_get(o, "op"));
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *value = json_string_value(json_object_get(o, "value"));
	const char *tlp = json_string_value(json_object_get(o, "tlp"));
	const char *from = json_string_value(json_object_get(o, "valid_from"));
	const char *until = json_string_value(json_object_get(o, "valid_until"));
	json_t *conf = json_object_get(o, "confidence");
	cs__rec_t r;
	char key[8300];
	int64_t ms;
	int t = -1;

	memset(&r, 0, sizeof(r));
	if (!o || !op || (strcmp(op, "add") && strcmp(op, "revoke")) || !value || !*value || strlen(value) > 8000 ||
	    (tlp && (t = cs_tlp_parse(tlp, strlen(tlp))) < 0)) {
		CS_LOG_W(CS__MOD, "%s [%d] offset %lld: not an indicator change (%s)", c->topic, (int)m->partition,
			 (long long)m->offset,
			 !o ? jerr.text : !op || (strcmp(op, "add") && strcmp(op, "revoke")) ? "\"op\" must be add or revoke"
			 : !value || !*value ? "no \"value\"" : strlen(value) > 8000 ? "value too long" : "unknown \"tlp\"");
		json_decref(o);
		c->rejected++;
		return -1;
	}
	snprintf(key, sizeof(key), "%s\t%s", type ? type : "auto", value);
	r.c.revoke = !strcmp(op, "revoke");
	r.c.tlp = t;
	r.c.confidence = json_is_integer(conf) ? (int)json_integer_value(conf) : -1;
	if (from && !cs_time_parse_iso8601(from, strlen(from), &ms))
		r.c.valid_from_ms = ms;
	if (until && !cs_time_parse_iso8601(until, strlen(until), &ms))
		r.c.valid_until_ms = ms;
	r.key = cs_strdup(key);
	r.c.type = type ? cs_strdup(type) : NULL;
	r.c.value = cs_strdup(value);
	r.c.id = cs__jstr(o, "id");
	r.c.source = cs__jstr(o, "source");
	r.c.tags = cs__jstr(o, "tags");
	json_decref(o);
	if (!r.key || !r.c.value) {
		cs__rec_free(&r);
		return -1;
	}
	if (!r.c.id) { /* the change's place in the log identifies it */
		char id[300];
		snprintf(id, sizeof(id), "%.200s/%d/%lld", c->topic, (int)m->partition, (long long)m->offset);
		r.c.id = cs_strdup(id);
	}
	for (size_t i = 0; i < c->cnt; i++) /* a few thousand changes: linear is fine on this thread */
		if (!strcmp(c->v[i].key, r.key)) {
			cs__rec_free(&c->v[i]);
			c->v[i] = r;
			return 0;
		}
	if (cs_array_reserve(&c->v, &c->cap, c->cnt + 1, sizeof(*c->v))) {
		cs__rec_free(&r);
		return -1;
	}
	c->v[c->cnt++] = r;
	return 0;
}

int cs_ingest_changes_poll(cs_ingest_changes_t *c, int timeout_ms) {
	int64_t now = cs_clock_ms();
	rd_kafka_message_t *m;

	if (!c->assigned) {
		cs__assign(c);
		if (!c->assigned) {
			struct timespec ts = {0, (long)timeout_ms * 1000000L};
			nanosleep(&ts, NULL);
			return 0;
		}
	}
	/* everything available now, up to 10,000 messages */
	for (int n = 0; n < 10000 && (m = rd_kafka_consumer_poll(c->rk, n ? 0 : timeout_ms)); n++) {
		if (!m->err && !cs__take(c, m)) {
			if (!c->pending++)
				c->first_unapplied_ms = cs_clock_ms();
			c->last_msg_ms = cs_clock_ms();
		} else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			CS_LOG_W(CS__MOD, "%s: %s", c->topic, rd_kafka_message_errstr(m));
		}
		rd_kafka_message_destroy(m);
	}
	(void)now;
	/* apply when the burst is over (50 ms quiet) or after at most 300 ms of it */
	return c->pending && (cs_clock_ms() - c->last_msg_ms >= 50 || cs_clock_ms() - c->first_unapplied_ms >= 300);
}

size_t cs_ingest_changes_count(const cs_ingest_changes_t *c) {
	return c ? c->cnt : 0;
}

cs_corr_db_t *cs_ingest_changes_layer(cs_ingest_changes_t *c, const cs_corr_db_t *base, const cs_corr_load_opts_t *opts,
				      uint64_t version, char *errstr, size_t errstr_size) {
	cs_corr_change_t *ch = cs_calloc(c->cnt + 1, sizeof(*ch));
	cs_corr_db_t *db;
	size_t adds = 0;
	int64_t t0 = cs_clock_ms();
	if (!ch) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < c->cnt; i++) {
		ch[i] = c->v[i].c;
		adds += !ch[i].revoke;
	}
	db = cs_corr_db_overlay(base, ch, c->cnt, opts, version, errstr, errstr_size);
	cs_free(ch);
	if (db) {
		for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
			CS_LOG_W(CS__MOD, "indicator change rejected: %s", cs_corr_db_reject(db, i));
		CS_LOG_I(CS__MOD, "indicator changes: version %llu = the files' set + %zu added + %zu revoked (%ld new changes, "
				  "%lld ms after the first of them, layered in %lld ms)",
			 (unsigned long long)version, adds, c->cnt - adds, c->pending,
			 (long long)(cs_clock_ms() - c->first_unapplied_ms), (long long)(cs_clock_ms() - t0));
	}
	c->pending = 0;
	return db;
}
