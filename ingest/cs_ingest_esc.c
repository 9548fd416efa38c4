/*
 * cs_ingest_esc.c - the escalation relay: the escalation streams of Redis
 * (P:escalations:<tlp>, written by the flush script) to escalations.topic.
 *
 * DESIGN: one thread per cshield-ingest, active while it holds the lease
 * P:escrelay (SET NX PX, renewed by a compare-and-expire script), so that one
 * instance of the consumer group relays at a time. The topic itself is the
 * relay's cursor: every message carries, in its header cs-cursor, the last
 * stream id relayed of each of the five streams, itself included; a relay
 * that takes the lease (or whose deliveries failed) reads the last message
 * of partition 0 and continues after those ids. Messages go to partition 0
 * with an idempotent producer, in order, and a batch is confirmed before the
 * cursor moves: an escalation reaches the topic once, after kill -9 too. Two
 * instances overlap only if a lease holder stalls past the lease (then an
 * entry may be sent twice, with the same key: readers de-duplicate on it).
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cs_ingest_int.h"

#define CS__MOD "relay"
#define CS__LEASE_MS 10000
#define CS__BATCH 200

struct cs_ingest_relay_s {
	const cs_ingest_conf_t *conf;
	atomic_int *stop;
	pthread_t thread;
	cs_ingest_redis_t redis;
	rd_kafka_t *prod, *cons;
	char lease_key[CS_KEYS_MAX], token[128];
	char streams[CS_TLP__CNT][CS_KEYS_MAX];
	char cursor[CS_TLP__CNT][48]; /* the last id relayed of each stream ("0-0": none) */
	int leader, cursor_known;
	atomic_int failed;            /* deliveries that failed in the current batch */
	atomic_llong relayed;
};

static void cs__relay_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	cs_ingest_relay_t *r = opaque;
	(void)rk;
	if (m->err && atomic_fetch_add(&r->failed, 1) == 0)
		CS_LOG_E(CS__MOD, "delivery to %s failed: %s", r->conf->esc_topic, rd_kafka_err2str(m->err));
}

/* The kafka.* connection settings (bootstrap, security) in a new configuration. */
rd_kafka_conf_t *cs__ingest_kafka_conn(const cs_ingest_conf_t *conf) {
	rd_kafka_conf_t *pc = rd_kafka_conf_new();
	size_t cnt;
	const char **kv = rd_kafka_conf_dump(conf->kconf, &cnt);
	char kerr[512], proto[64] = "plaintext";
	size_t psz = sizeof(proto);
	rd_kafka_conf_get(conf->kconf, "security.protocol", proto, &psz);
	for (size_t i = 0; i + 1 < cnt; i += 2) /* bootstrap.servers is dumped as metadata.broker.list */
		if (!strcmp(kv[i], "metadata.broker.list") || !strcmp(kv[i], "security.protocol") ||
		    !strcmp(kv[i], "broker.address.family") ||
		    (strcmp(proto, "plaintext") && (!strncmp(kv[i], "sasl.", 5) || !strncmp(kv[i], "ssl.", 4))))
			rd_kafka_conf_set(pc, kv[i], kv[i + 1], kerr, sizeof(kerr));
	rd_kafka_conf_dump_free(kv, cnt);
	return pc;
}

/* Takes or renews the lease; 1 when this instance holds it, 0 when another does, -1 on a Redis failure. */
static int cs__relay_lease(cs_ingest_relay_t *r) {
	static const char *renew = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
				   "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
	redisReply *rep;
	int held;
	if (cs_ingest_redis_connect(&r->redis))
		return -1;
	if (r->leader)
		rep = redisCommand(r->redis.rc, "EVAL %s 1 %s %s %d", renew, r->lease_key, r->token, CS__LEASE_MS);
	else
		rep = redisCommand(r->redis.rc, "SET %s %s NX PX %d", r->lease_key, r->token, CS__LEASE_MS);
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		CS_LOG_E(CS__MOD, "lease %s: %s", r->lease_key, rep ? rep->str : r->redis.rc->errstr);
		if (rep)
			freeReplyObject(rep);
		else
			cs_ingest_redis_close(&r->redis);
		return -1;
	}
	held = r->leader ? rep->type == REDIS_REPLY_INTEGER && rep->integer == 1 : rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	if (held && !r->leader)
		CS_LOG_I(CS__MOD, "relaying escalations to %s (lease %s)", r->conf->esc_topic, r->lease_key);
	else if (!held && r->leader)
		CS_LOG_W(CS__MOD, "lease %s lost: another instance relays", r->lease_key);
	if (!held)
		r->cursor_known = 0;
	r->leader = held;
	return held;
}

/* Sets the cursors from the last message of partition 0 (none: from the start). 0, or -1 (retry later). */
static int cs__relay_cursor(cs_ingest_relay_t *r) {
	int64_t lo, hi;
	rd_kafka_resp_err_t kerr;
	rd_kafka_topic_partition_list_t *l;
	int64_t until = cs_clock_ms() + 10000;
	int found = 0;

	kerr = rd_kafka_query_watermark_offsets(r->cons, r->conf->esc_topic, 0, &lo, &hi, 5000);
	if (kerr) {
		CS_LOG_E(CS__MOD, "%s: cannot read its end offsets: %s", r->conf->esc_topic, rd_kafka_err2str(kerr));
		return -1;
	}
	for (int t = 0; t < CS_TLP__CNT; t++)
		snprintf(r->cursor[t], sizeof(r->cursor[t]), "0-0");
	if (hi <= lo) {
		r->cursor_known = 1;
		CS_LOG_I(CS__MOD, "%s is empty: relaying every escalation the streams hold", r->conf->esc_topic);
		return 0;
	}
	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, r->conf->esc_topic, 0)->offset = hi - 1;
	kerr = rd_kafka_assign(r->cons, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (kerr) {
		CS_LOG_E(CS__MOD, "%s: %s", r->conf->esc_topic, rd_kafka_err2str(kerr));
		return -1;
	}
	while (!found && cs_clock_ms() < until && !atomic_load(r->stop)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->cons, 200);
		rd_kafka_headers_t *hdrs;
		const void *v;
		size_t vs;
		if (!m)
			continue;
		if (!m->err && m->offset == hi - 1) {
			char buf[512];
			found = -1;
			if (!rd_kafka_message_headers(m, &hdrs) && !rd_kafka_header_get_last(hdrs, "cs-cursor", &v, &vs) && v &&
			    vs < sizeof(buf)) {
				char *tok, *save;
				int t = 0;
				memcpy(buf, v, vs);
				buf[vs] = '\0';
				for (tok = strtok_r(buf, ",", &save); tok && t < CS_TLP__CNT; tok = strtok_r(NULL, ",", &save), t++)
					snprintf(r->cursor[t], sizeof(r->cursor[t]), "%s", tok);
				if (t == CS_TLP__CNT)
					found = 1;
			}
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(r->cons, NULL);
	if (found != 1) {
		CS_LOG_E(CS__MOD, "%s: its last message (offset %lld) %s; not relaying until it can be read", r->conf->esc_topic,
			 (long long)(hi - 1), found ? "has no cs-cursor header: is the topic cshield's alone?" : "could not be read");
		return -1;
	}
	r->cursor_known = 1;
	CS_LOG_I(CS__MOD, "%s: resuming after %s,%s,%s,%s,%s", r->conf->esc_topic, r->cursor[0], r->cursor[1],
		 r->cursor[2], r->cursor[3], r->cursor[4]);
	return 0;
}

/* Relays up to CS__BATCH entries of each stream; the number relayed, or -1. */
static long cs__relay_batch(cs_ingest_relay_t *r) {
	char next[CS_TLP__CNT][48], cur[256];
	long sent = 0;
	memcpy(next, r->cursor, sizeof(next));
	atomic_store(&r->failed, 0);
	for (int t = 0; t < CS_TLP__CNT; t++) {
		char from[64];
		redisReply *rep;
		snprintf(from, sizeof(from), "(%s", r->cursor[t]);
		if (!(rep = redisCommand(r->redis.rc, "XRANGE %s %s + COUNT %d", r->streams[t], from, CS__BATCH))) {
			cs_ingest_redis_close(&r->redis);
			return -1;
		}
		if (rep->type != REDIS_REPLY_ARRAY) {
			CS_LOG_E(CS__MOD, "XRANGE %s: %s", r->streams[t], rep->type == REDIS_REPLY_ERROR ? rep->str : "not a list");
			freeReplyObject(rep);
			return -1;
		}
		for (size_t i = 0; i < rep->elements; i++) {
			redisReply *e = rep->element[i], *f;
			const char *id = NULL, *json = NULL;
			size_t json_len = 0;
			rd_kafka_resp_err_t kerr;
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || (f = e->element[1])->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t j = 0; j + 1 < f->elements; j += 2) {
				if (!strcmp(f->element[j]->str, CS_KEYS_ESC_ID))
					id = f->element[j + 1]->str;
				else if (!strcmp(f->element[j]->str, CS_KEYS_ESC_JSON))
					json = f->element[j + 1]->str, json_len = f->element[j + 1]->len;
			}
			snprintf(next[t], sizeof(next[t]), "%s", e->element[0]->str);
			if (!id || !json) {
				CS_LOG_W(CS__MOD, "%s entry %s is not an escalation: skipped", r->streams[t], e->element[0]->str);
				continue;
			}
			snprintf(cur, sizeof(cur), "%s,%s,%s,%s,%s", next[0], next[1], next[2], next[3], next[4]);
			while ((kerr = rd_kafka_producev(r->prod, RD_KAFKA_V_TOPIC(r->conf->esc_topic), RD_KAFKA_V_PARTITION(0),
							 RD_KAFKA_V_KEY(id, strlen(id)), RD_KAFKA_V_VALUE((void *)json, json_len),
							 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
							 RD_KAFKA_V_HEADER("cs-tlp", cs_tlp2str((cs_tlp_t)t), -1),
							 RD_KAFKA_V_HEADER("cs-stream-id", e->element[0]->str, -1),
							 RD_KAFKA_V_HEADER("cs-cursor", cur, -1), RD_KAFKA_V_END)) ==
			       RD_KAFKA_RESP_ERR__QUEUE_FULL)
				rd_kafka_poll(r->prod, 100);
			if (kerr) {
				CS_LOG_E(CS__MOD, "produce to %s: %s", r->conf->esc_topic, rd_kafka_err2str(kerr));
				atomic_fetch_add(&r->failed, 1);
				break;
			}
			sent++;
		}
		freeReplyObject(rep);
		if (atomic_load(&r->failed))
			break;
	}
	if (!sent)
		return 0;
	rd_kafka_flush(r->prod, 30000);
	if (rd_kafka_outq_len(r->prod) > 0 || atomic_load(&r->failed)) {
		CS_LOG_E(CS__MOD, "%s: %d deliveries failed, %d pending: reading back where the topic ends",
			 r->conf->esc_topic, atomic_load(&r->failed), rd_kafka_outq_len(r->prod));
		rd_kafka_purge(r->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(r->prod, 0);
		r->cursor_known = 0;
		return -1;
	}
	memcpy(r->cursor, next, sizeof(next));
	atomic_fetch_add(&r->relayed, sent);
	CS_LOG_I(CS__MOD, "%ld escalations relayed to %s", sent, r->conf->esc_topic);
	return sent;
}

static void cs__relay_sleep(cs_ingest_relay_t *r, int ms) {
	for (int i = 0; i < ms && !atomic_load(r->stop); i += 50) {
		struct timespec ts = {0, 50 * 1000000};
		nanosleep(&ts, NULL);
	}
}

static void *cs__relay_main(void *arg) {
	cs_ingest_relay_t *r = arg;
	int64_t renew_at = 0;
	while (!atomic_load(r->stop)) {
		long n;
		if (cs_clock_ms() >= renew_at || !r->leader) {
			int held = cs__relay_lease(r);
			if (held <= 0) {
				cs__relay_sleep(r, held < 0 ? 1000 : CS__LEASE_MS / 4);
				continue;
			}
			renew_at = cs_clock_ms() + CS__LEASE_MS / 3;
		}
		if (!r->cursor_known && cs__relay_cursor(r)) {
			cs__relay_sleep(r, 1000);
			continue;
		}
		n = cs__relay_batch(r);
		if (n < 0)
			cs__relay_sleep(r, 1000);
		else if (n == 0)
			cs__relay_sleep(r, 200);
	}
	if (r->leader && cs_ingest_redis_connect(&r->redis) == CS_ERR_OK) {
		/* hand over at once: give the lease back if it is still ours */
		redisReply *rep = redisCommand(r->redis.rc,
					       "EVAL %s 1 %s %s",
					       "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
					       "else return 0 end",
					       r->lease_key, r->token);
		if (rep)
			freeReplyObject(rep);
	}
	return NULL;
}

cs_ingest_relay_t *cs_ingest_relay_start(const cs_ingest_conf_t *conf, atomic_int *stop, char *errstr,
					 size_t errstr_size) {
	cs_ingest_relay_t *r = cs_calloc(1, sizeof(*r));
	rd_kafka_conf_t *pc = NULL, *cc = NULL;
	char kerr[512], host[64] = "";
	if (!r) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	r->conf = conf;
	r->stop = stop;
	cs_ingest_redis_init(&r->redis, conf);
	cs_keys_esc_relay(r->lease_key, sizeof(r->lease_key), conf->key_prefix);
	for (int t = 0; t < CS_TLP__CNT; t++)
		cs_keys_escalations(r->streams[t], sizeof(r->streams[t]), conf->key_prefix, (cs_tlp_t)t);
	gethostname(host, sizeof(host) - 1);
	snprintf(r->token, sizeof(r->token), "%s:%d:%lld", host, (int)getpid(), (long long)cs_wall_ms());
	pc = cs__ingest_kafka_conn(conf);
	if (rd_kafka_conf_set(pc, "enable.idempotence", "true", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(pc, "client.id", "cshield-escalation-relay", kerr, sizeof(kerr))) {
		cs_errstr_set(errstr, errstr_size, "escalation relay producer: %s", kerr);
		goto err;
	}
	rd_kafka_conf_set_dr_msg_cb(pc, cs__relay_dr);
	rd_kafka_conf_set_opaque(pc, r);
	if (!(r->prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "escalation relay producer: %s", kerr);
		goto err;
	}
	pc = NULL;
	cc = cs__ingest_kafka_conn(conf);
	/* reads one message by assignment: no group, nothing committed */
	if (rd_kafka_conf_set(cc, "group.id", "cshield-escalation-relay", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(cc, "enable.auto.commit", "false", kerr, sizeof(kerr)) ||
	    rd_kafka_conf_set(cc, "client.id", "cshield-escalation-relay", kerr, sizeof(kerr))) {
		cs_errstr_set(errstr, errstr_size, "escalation relay reader: %s", kerr);
		goto err;
	}
	if (!(r->cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "escalation relay reader: %s", kerr);
		goto err;
	}
	cc = NULL;
	if (pthread_create(&r->thread, NULL, cs__relay_main, r)) {
		cs_errstr_set(errstr, errstr_size, "cannot start the escalation relay thread");
		goto err;
	}
	return r;
err:
	if (pc)
		rd_kafka_conf_destroy(pc);
	if (cc)
		rd_kafka_conf_destroy(cc);
	if (r->prod)
		rd_kafka_destroy(r->prod);
	if (r->cons)
		rd_kafka_destroy(r->cons);
	cs_free(r);
	return NULL;
}

long long cs_ingest_relay_count(const cs_ingest_relay_t *r) {
	return r ? atomic_load(&((cs_ingest_relay_t *)r)->relayed) : 0;
}

void cs_ingest_relay_stop(cs_ingest_relay_t *r) {
	if (!r)
		return;
	pthread_join(r->thread, NULL);
	rd_kafka_flush(r->prod, 5000);
	rd_kafka_destroy(r->prod);
	rd_kafka_consumer_close(r->cons);
	rd_kafka_destroy(r->cons);
	cs_ingest_redis_close(&r->redis);
	cs_free(r);
}
