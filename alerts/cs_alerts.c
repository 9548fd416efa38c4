/*
 * cs_alerts.c - an analyst team's subscription to the alert stream
 * (cs_alerts.h). DESIGN: one hiredis connection, one thread; the alert JSON
 * is read with jansson (alerts are few next to events: a cold path); an entry
 * is acknowledged once, after the callback took it.
 */
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <jansson.h>

#include "cs_alerts.h"
#include "cs_keys.h"

/* XGROUP CREATE at "0" (ENTRIESREAD 0) or "$" (ENTRIESREAD = entries added so far), atomically */
#define CS__CREATE                                                                                             \
	"local added = 0 "                                                                                     \
	"if redis.call('EXISTS', KEYS[1]) == 1 then "                                                          \
	"  local info = redis.call('XINFO', 'STREAM', KEYS[1]) "                                               \
	"  for i = 1, #info, 2 do if info[i] == 'entries-added' then added = info[i + 1] end end "              \
	"end "                                                                                                 \
	"if ARGV[2] == '0' then added = 0 end "                                                                \
	"return redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM', 'ENTRIESREAD', added)"

struct cs_alerts_s {
	cs_alerts_opts_t o;
	redisContext *rc;
	int nkeys;                      /* the streams read: the TLPs at or below the audience */
	char key[CS_TLP__CNT][128];
	int own_done;                   /* this reader's own pending entries were read again */
	char claim_cursor[CS_TLP__CNT][64];
	int64_t missed, missed_total;
	int64_t acked, passed, dropped, reclaimed, repeats;
	/* Kafka */
	rd_kafka_t *rk;
	uint64_t *seen;       /* open addressing: hashes of the ids passed on (0: free) */
	uint64_t *seen_fifo;  /* the same, in arrival order: the oldest is forgotten first */
	size_t seen_size, seen_cnt, seen_head;
};

static uint64_t cs__idhash(const void *p, size_t n) {
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static size_t cs__seen_find(const cs_alerts_t *a, uint64_t h) {
	size_t j = h & (a->seen_size - 1);
	while (a->seen[j] && a->seen[j] != h)
		j = (j + 1) & (a->seen_size - 1);
	return j;
}

/* Removes h (backward-shift deletion keeps the probe chains whole). */
static void cs__seen_del(cs_alerts_t *a, uint64_t h) {
	size_t m = a->seen_size - 1, i = cs__seen_find(a, h), j = i;
	if (!a->seen[i])
		return;
	for (;;) {
		size_t k;
		a->seen[i] = 0;
		do {
			j = (j + 1) & m;
			if (!a->seen[j])
				return;
			k = a->seen[j] & m;
		} while (i <= j ? (i < k && k <= j) : (i < k || k <= j));
		a->seen[i] = a->seen[j];
		i = j;
	}
}

/* 1 if the id was passed on already; else remembers it (forgetting the oldest when full). */
static int cs__seen(cs_alerts_t *a, const void *id, size_t n) {
	uint64_t h = cs__idhash(id, n);
	size_t j = cs__seen_find(a, h);
	size_t cap = a->o.dedup_ids;
	if (a->seen[j])
		return 1;
	if (a->seen_cnt == cap) {
		cs__seen_del(a, a->seen_fifo[a->seen_head]);
		a->seen_cnt--;
		j = cs__seen_find(a, h);
	}
	a->seen[j] = h;
	a->seen_fifo[a->seen_head] = h;
	a->seen_head = (a->seen_head + 1) % cap;
	a->seen_cnt++;
	return 0;
}

static int cs__kafka_new(cs_alerts_t *a, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l;
	char es[512];
	size_t sz = 1;
	if (!a->o.dedup_ids)
		a->o.dedup_ids = 1000000;
	while (sz < a->o.dedup_ids * 2)
		sz *= 2;
	a->seen_size = sz;
	if (!(a->seen = cs_calloc(sz, sizeof(*a->seen))) || !(a->seen_fifo = cs_calloc(a->o.dedup_ids, sizeof(uint64_t)))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	if (rd_kafka_conf_set(conf, "bootstrap.servers", a->o.kafka_brokers, es, sizeof(es)) ||
	    rd_kafka_conf_set(conf, "group.id", a->o.group, es, sizeof(es)) ||
	    rd_kafka_conf_set(conf, "client.id", a->o.consumer, es, sizeof(es)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", es, sizeof(es)) ||
	    rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", es, sizeof(es)) ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", a->o.from_start ? "earliest" : "latest", es, sizeof(es)) ||
	    !(a->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof(es)))) {
		cs_errstr_set(errstr, errstr_size, "kafka: %s", es);
		if (!a->rk)
			rd_kafka_conf_destroy(conf);
		return -1;
	}
	rd_kafka_poll_set_consumer(a->rk);
	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, a->o.kafka_topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(a->rk, l)) {
		cs_errstr_set(errstr, errstr_size, "kafka: cannot subscribe to %s", a->o.kafka_topic);
		rd_kafka_topic_partition_list_destroy(l);
		return -1;
	}
	rd_kafka_topic_partition_list_destroy(l);
	return 0;
}

static int cs__err(char *errstr, size_t size, const char *what, redisContext *rc, redisReply *r) {
	cs_errstr_set(errstr, size, "redis %s: %s", what,
		      !r ? (rc->err ? rc->errstr : "no reply") : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r)
		freeReplyObject(r);
	return -1;
}

cs_alerts_t *cs_alerts_new(const cs_alerts_opts_t *opts, char *errstr, size_t errstr_size) {
	struct timeval tv = {5, 0};
	cs_alerts_t *a = cs_calloc(1, sizeof(*a));
	redisReply *r;
	if (!a) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	a->o = *opts;
	if (a->o.kafka_topic && *a->o.kafka_topic) {
		if (a->o.block_ms <= 0)
			a->o.block_ms = 1000;
		if (a->o.count <= 0)
			a->o.count = 100;
		if (cs__kafka_new(a, errstr, errstr_size)) {
			cs_alerts_destroy(a);
			return NULL;
		}
		return a;
	}
	if (a->o.min_idle_ms <= 0)
		a->o.min_idle_ms = 60000;
	if (a->o.block_ms <= 0)
		a->o.block_ms = 1000;
	if (a->o.count <= 0)
		a->o.count = 100;
	/* alerts are kept per TLP: the audience's streams only (with ACLs, Redis refuses the others) */
	a->nkeys = (int)a->o.filter.tlp + 1;
	for (int t = 0; t < a->nkeys; t++) {
		snprintf(a->claim_cursor[t], sizeof(a->claim_cursor[t]), "0-0");
		if (cs_keys_alerts(a->key[t], sizeof(a->key[t]), a->o.key_prefix, (cs_tlp_t)t) < 0) {
			cs_errstr_set(errstr, errstr_size, "key prefix too long");
			cs_alerts_destroy(a);
			return NULL;
		}
	}
	a->rc = redisConnectWithTimeout(a->o.redis_host, a->o.redis_port, tv);
	if (!a->rc || a->rc->err) {
		cs_errstr_set(errstr, errstr_size, "redis %s:%d: %s", a->o.redis_host, a->o.redis_port,
			      a->rc ? a->rc->errstr : "cannot allocate context");
		cs_alerts_destroy(a);
		return NULL;
	}
	if (a->o.redis_password && *a->o.redis_password) {
		r = a->o.redis_user && *a->o.redis_user
			    ? redisCommand(a->rc, "AUTH %s %s", a->o.redis_user, a->o.redis_password)
			    : redisCommand(a->rc, "AUTH %s", a->o.redis_password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			/* Redis's own message names no secret */
			cs__err(errstr, errstr_size, "AUTH", a->rc, r);
			cs_alerts_destroy(a);
			return NULL;
		}
		freeReplyObject(r);
	}
	/* the socket waits longer than a blocking read */
	tv.tv_sec = 5 + a->o.block_ms / 1000;
	redisSetTimeout(a->rc, tv);
	/* the team's group: new alerts only, or the whole stream; with the count of entries it has
	 * read set exactly (0, or all added so far), so that what the stream drops unread is counted */
	for (int t = 0; t < a->nkeys; t++) {
		r = redisCommand(a->rc, "EVAL %s 1 %s %s %s", CS__CREATE, a->key[t], a->o.group, a->o.from_start ? "0" : "$");
		if (r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "BUSYGROUP")) {
			freeReplyObject(r); /* the team exists: resume where it stopped */
		} else if (!r || r->type == REDIS_REPLY_ERROR) {
			cs__err(errstr, errstr_size, "XGROUP CREATE", a->rc, r);
			cs_alerts_destroy(a);
			return NULL;
		} else {
			freeReplyObject(r);
		}
	}
	return a;
}

/* Does the alert pass the filter? */
static int cs__pass(const cs_alerts_filter_t *f, const char *json, size_t len) {
	json_t *j = json_loadb(json, len, 0, NULL), *ind;
	const char *s;
	int ok = 0, t;
	if (!j)
		return 0; /* not an alert cshield wrote */
	ind = json_object_get(j, "indicator");
	s = json_string_value(json_object_get(j, "tlp"));
	t = s ? cs_tlp_parse(s, strlen(s)) : -1;
	if (t < 0)
		t = CS_TLP_AMBER; /* unmarked is AMBER */
	if (t > (int)f->tlp)
		goto out;
	if (f->org && (!(s = json_string_value(json_object_get(j, "org"))) || strcmp(s, f->org)))
		goto out;
	if (f->type && (!(s = json_string_value(json_object_get(ind, "type"))) || strcmp(s, f->type)))
		goto out;
	if (f->source && (!(s = json_string_value(json_object_get(ind, "source"))) || strcmp(s, f->source)))
		goto out;
	if (f->member_state &&
	    (!(s = json_string_value(json_object_get(json_object_get(j, "participant"), "member_state"))) ||
	     strcmp(s, f->member_state)))
		goto out;
	if (f->min_confidence >= 0 && (!json_is_integer(json_object_get(ind, "confidence")) ||
				       json_integer_value(json_object_get(ind, "confidence")) < f->min_confidence))
		goto out;
	ok = 1;
out:
	json_decref(j);
	return ok;
}

/* Hands the entries of an XREADGROUP/XAUTOCLAIM array to cb and acknowledges them. */
static long cs__entries(cs_alerts_t *a, int t, const redisReply *entries, cs_alerts_cb_t *cb, void *opaque,
			int64_t *counter, char *errstr, size_t errstr_size) {
	long n = 0;
	for (size_t i = 0; i < entries->elements; i++) {
		const redisReply *e = entries->element[i], *fv;
		const char *json = NULL;
		size_t len = 0;
		redisReply *r;
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		fv = e->element[1];
		/* an entry deleted meanwhile comes back without fields: acknowledged, nothing to pass on */
		for (size_t k = 0; fv->type == REDIS_REPLY_ARRAY && k + 1 < fv->elements; k += 2)
			if (fv->element[k]->type == REDIS_REPLY_STRING && !strcmp(fv->element[k]->str, CS_KEYS_ALERT_JSON))
				json = fv->element[k + 1]->str, len = fv->element[k + 1]->len;
		if (json && cs__pass(&a->o.filter, json, len)) {
			if (cb(opaque, e->element[0]->str, json, len))
				return -2;
			a->passed++;
			n++;
		} else {
			a->dropped++;
		}
		if (counter)
			(*counter)++;
		r = redisCommand(a->rc, "XACK %s %s %s", a->key[t], a->o.group, e->element[0]->str);
		if (!r || r->type != REDIS_REPLY_INTEGER)
			return cs__err(errstr, errstr_size, "XACK", a->rc, r);
		a->acked += r->integer; /* 1 the first time, 0 if another reader already had */
		freeReplyObject(r);
	}
	return n;
}

/* Compares stream ids "<ms>-<seq>". */
static int cs__idcmp(const char *a, const char *b) {
	unsigned long long am = strtoull(a, NULL, 10), bm = strtoull(b, NULL, 10);
	const char *ad = strchr(a, '-'), *bd = strchr(b, '-');
	unsigned long long as = ad ? strtoull(ad + 1, NULL, 10) : 0, bs = bd ? strtoull(bd + 1, NULL, 10) : 0;
	return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

/*
 * Before reading new entries: has the stream dropped entries the team had not
 * read (its last delivered id is below the stream's first entry)? Then the
 * stream holds none of what it missed: missed = added - read - length.
 */
static int64_t cs__missed(cs_alerts_t *a, int t) {
	redisReply *g = redisCommand(a->rc, "XINFO GROUPS %s", a->key[t]), *st = NULL;
	long long added = -1, read = -1, len = -1;
	char last[64] = "", first[64] = "";
	int64_t missed = 0;
	if (!g || g->type != REDIS_REPLY_ARRAY)
		goto out;
	for (size_t i = 0; i < g->elements; i++) {
		const redisReply *x = g->element[i];
		int ours = 0;
		long long er = -1;
		char ld[64] = "";
		for (size_t k = 0; x->type == REDIS_REPLY_ARRAY && k + 1 < x->elements; k += 2) {
			const char *f = x->element[k]->str;
			const redisReply *v = x->element[k + 1];
			if (!f)
				continue;
			if (!strcmp(f, "name") && v->str && !strcmp(v->str, a->o.group))
				ours = 1;
			if (!strcmp(f, "entries-read") && v->type == REDIS_REPLY_INTEGER)
				er = v->integer;
			if (!strcmp(f, "last-delivered-id") && v->str)
				snprintf(ld, sizeof(ld), "%s", v->str);
		}
		if (ours) {
			read = er;
			snprintf(last, sizeof(last), "%s", ld);
		}
	}
	if (read < 0 || !*last || !(st = redisCommand(a->rc, "XINFO STREAM %s", a->key[t])) || st->type != REDIS_REPLY_ARRAY)
		goto out;
	for (size_t k = 0; k + 1 < st->elements; k += 2) {
		const char *f = st->element[k]->str;
		const redisReply *v = st->element[k + 1];
		if (!f)
			continue;
		if (!strcmp(f, "entries-added") && v->type == REDIS_REPLY_INTEGER)
			added = v->integer;
		if (!strcmp(f, "length") && v->type == REDIS_REPLY_INTEGER)
			len = v->integer;
		if (!strcmp(f, "first-entry") && v->type == REDIS_REPLY_ARRAY && v->elements && v->element[0]->str)
			snprintf(first, sizeof(first), "%s", v->element[0]->str);
	}
	if (added >= 0 && len > 0 && *first && cs__idcmp(last, first) < 0 && added - read > len)
		missed = added - read - len;
out:
	if (g)
		freeReplyObject(g);
	if (st)
		freeReplyObject(st);
	return missed;
}

/* XREADGROUP over the audience's streams from id ("0": this reader's pending, ">": new). */
static redisReply *cs__readgroup(cs_alerts_t *a, const char *id, int block) {
	const char *argv[10 + 2 * CS_TLP__CNT];
	char count[24], blk[24];
	int n = 0;
	snprintf(count, sizeof(count), "%d", a->o.count);
	snprintf(blk, sizeof(blk), "%d", a->o.block_ms);
	argv[n++] = "XREADGROUP";
	argv[n++] = "GROUP";
	argv[n++] = a->o.group;
	argv[n++] = a->o.consumer;
	argv[n++] = "COUNT";
	argv[n++] = count;
	if (block) {
		argv[n++] = "BLOCK";
		argv[n++] = blk;
	}
	argv[n++] = "STREAMS";
	for (int t = 0; t < a->nkeys; t++)
		argv[n++] = a->key[t];
	for (int t = 0; t < a->nkeys; t++)
		argv[n++] = id;
	return redisCommandArgv(a->rc, n, argv, NULL);
}

/* The entries of an XREADGROUP reply, stream by stream. Returns as cs__entries(); *any: some stream had entries. */
static long cs__streams(cs_alerts_t *a, const redisReply *r, cs_alerts_cb_t *cb, void *opaque, int *any, char *errstr,
			size_t errstr_size) {
	long n = 0, k;
	*any = 0;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *s = r->element[i];
		int t = 0;
		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 || s->element[0]->type != REDIS_REPLY_STRING)
			continue;
		while (t < a->nkeys && strcmp(a->key[t], s->element[0]->str))
			t++;
		if (t == a->nkeys)
			continue;
		if (s->element[1]->elements)
			*any = 1;
		if ((k = cs__entries(a, t, s->element[1], cb, opaque, NULL, errstr, errstr_size)) < 0)
			return k;
		n += k;
	}
	return n;
}

/* From Kafka: up to count messages (the first waited for up to block_ms), then their offsets committed. */
static long cs__kafka_poll(cs_alerts_t *a, cs_alerts_cb_t *cb, void *opaque, char *errstr, size_t errstr_size) {
	long n = 0;
	int taken = 0;
	for (int i = 0; i < a->o.count; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(a->rk, i ? 0 : a->o.block_ms);
		if (!m)
			break;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "cshield-alerts: kafka: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->key && cs__seen(a, m->key, m->key_len)) {
			a->repeats++; /* the same alert again (a replay after an ingest crash): once is enough */
		} else if (m->payload && cs__pass(&a->o.filter, m->payload, m->len)) {
			if (cb(opaque, m->key ? (const char *)m->key : "", m->payload, m->len)) {
				rd_kafka_message_destroy(m);
				/* not taken: read again from the last commit when restarted */
				if (taken)
					rd_kafka_commit(a->rk, NULL, 0);
				return -2;
			}
			a->passed++;
			n++;
		} else {
			a->dropped++;
		}
		{
			rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
			rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset = m->offset + 1;
			rd_kafka_offsets_store(a->rk, l);
			rd_kafka_topic_partition_list_destroy(l);
		}
		a->acked++;
		taken = 1;
		rd_kafka_message_destroy(m);
	}
	if (taken) {
		rd_kafka_resp_err_t err = rd_kafka_commit(a->rk, NULL, 0); /* synchronous: what was written is committed */
		if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
			cs_errstr_set(errstr, errstr_size, "kafka commit: %s", rd_kafka_err2str(err));
			return -1;
		}
	}
	return n;
}

long cs_alerts_poll(cs_alerts_t *a, cs_alerts_cb_t *cb, void *opaque, char *errstr, size_t errstr_size) {
	redisReply *r;
	long n = 0, k;
	int any;

	if (a->rk)
		return cs__kafka_poll(a, cb, opaque, errstr, errstr_size);

	/* 1. a restart: this reader's own entries, delivered before it stopped but never acknowledged */
	while (!a->own_done) {
		if (!(r = cs__readgroup(a, "0", 0)) || r->type != REDIS_REPLY_ARRAY)
			return cs__err(errstr, errstr_size, "XREADGROUP", a->rc, r);
		k = cs__streams(a, r, cb, opaque, &any, errstr, errstr_size);
		freeReplyObject(r);
		if (k < 0)
			return k;
		n += k;
		a->own_done = !any;
	}
	/* 2. what other readers of the team left pending (crashed) */
	for (int t = 0; t < a->nkeys; t++) {
		r = redisCommand(a->rc, "XAUTOCLAIM %s %s %s %lld %s COUNT %d", a->key[t], a->o.group, a->o.consumer,
				 (long long)a->o.min_idle_ms, a->claim_cursor[t], a->o.count);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->element[0]->type != REDIS_REPLY_STRING)
			return cs__err(errstr, errstr_size, "XAUTOCLAIM", a->rc, r);
		snprintf(a->claim_cursor[t], sizeof(a->claim_cursor[t]), "%s", r->element[0]->str);
		k = cs__entries(a, t, r->element[1], cb, opaque, &a->reclaimed, errstr, errstr_size);
		freeReplyObject(r);
		if (k < 0)
			return k;
		n += k;
	}
	/* 3. new entries, after saying what the streams dropped before the team read it */
	a->missed = 0;
	for (int t = 0; t < a->nkeys; t++)
		a->missed += cs__missed(a, t);
	a->missed_total += a->missed;
	r = cs__readgroup(a, ">", 1);
	if (!r || (r->type != REDIS_REPLY_ARRAY && r->type != REDIS_REPLY_NIL))
		return cs__err(errstr, errstr_size, "XREADGROUP", a->rc, r);
	k = cs__streams(a, r, cb, opaque, &any, errstr, errstr_size);
	freeReplyObject(r);
	return k < 0 ? k : n + k;
}

int64_t cs_alerts_missed(const cs_alerts_t *a) {
	return a->missed;
}

void cs_alerts_stats(const cs_alerts_t *a, int64_t *acked, int64_t *passed, int64_t *dropped, int64_t *reclaimed) {
	*acked = a->acked;
	*passed = a->passed;
	*dropped = a->dropped;
	*reclaimed = a->reclaimed;
}

int64_t cs_alerts_repeats(const cs_alerts_t *a) {
	return a->repeats;
}

void cs_alerts_destroy(cs_alerts_t *a) {
	if (!a)
		return;
	if (a->rk) {
		rd_kafka_consumer_close(a->rk);
		rd_kafka_destroy(a->rk);
	}
	cs_free(a->seen);
	cs_free(a->seen_fifo);
	if (a->rc)
		redisFree(a->rc);
	cs_free(a);
}
