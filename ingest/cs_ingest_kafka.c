/*
 * cs_ingest_kafka.c - the Kafka client builders.
 *
 * DESIGN: The consumer of a worker (group member, offsets managed by cshield) and its
 * producer of dead letters and alerts (idempotent), with the connection
 * settings of the kafka.* properties. Start-up, main thread; the delivery
 * callback runs on librdkafka's thread and only counts failures.
 */
#include <strings.h>
#include <string.h>
#include <stdlib.h>

#include "cs_ingest_int.h"

#define CS__MOD "ingest"

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
rd_kafka_t *cs__ingest_producer_new(cs_ingest_worker_t *w, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *pc = cs__ingest_kafka_conn(w->conf);
	char kerr[512];
	rd_kafka_t *rk;

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

/*
 * The worker's consumer: a member of group.id whose offsets cshield manages
 * (no auto commit, no auto store), its rebalance callback the worker's
 * (cs_ingest_parts.c), subscribed to the topics. Sets w->rk as soon as it
 * exists (the callback needs it); on failure the caller destroys it.
 */
cs_err_t cs__ingest_consumer_new(cs_ingest_worker_t *w, char *errstr, size_t errstr_size) {
	rd_kafka_conf_t *kconf = NULL;
	rd_kafka_topic_partition_list_t *topics = NULL;
	rd_kafka_resp_err_t kerr;
	cs_err_t err = CS_ERR_KAFKA;
	char kerrstr[512], *tdup = NULL, *tok, *save, cid[64];

	kconf = rd_kafka_conf_dup(w->conf->kconf);
	snprintf(cid, sizeof(cid), "cshield-ingest-w%d", w->id);
	if (rd_kafka_conf_set(kconf, "group.id", w->conf->group_id, kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.commit", "false", kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "enable.auto.offset.store", "false", kerrstr, sizeof(kerrstr)) ||
	    rd_kafka_conf_set(kconf, "client.id", cid, kerrstr, sizeof(kerrstr))) {
		cs_errstr_set(errstr, errstr_size, "Kafka configuration: %s", kerrstr);
		goto err;
	}
	rd_kafka_conf_set_rebalance_cb(kconf, cs__ingest_rebalance_cb);
	rd_kafka_conf_set_opaque(kconf, w);
	if (!(w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, kerrstr, sizeof(kerrstr)))) {
		cs_errstr_set(errstr, errstr_size, "Kafka consumer: %s", kerrstr);
		goto err;
	}
	kconf = NULL; /* owned by rk now */
	rd_kafka_poll_set_consumer(w->rk);

	topics = rd_kafka_topic_partition_list_new(4);
	if (!(tdup = cs_strdup(w->conf->topics))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
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
err:
	if (topics)
		rd_kafka_topic_partition_list_destroy(topics);
	if (kconf)
		rd_kafka_conf_destroy(kconf);
	cs_free(tdup);
	return err;
}


/* The first authentication or TLS error librdkafka reports while the check below runs. */
typedef struct cs__kcheck_s {
	pthread_mutex_t lock;
	rd_kafka_resp_err_t err;
	char reason[512];
} cs__kcheck_t;

static void cs__kcheck_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
	cs__kcheck_t *c = opaque;
	(void)rk;
	if (err != RD_KAFKA_RESP_ERR__AUTHENTICATION && err != RD_KAFKA_RESP_ERR__SSL &&
	    !(err == RD_KAFKA_RESP_ERR__TRANSPORT && reason && strstr(reason, "SSL")))
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->err) {
		c->err = (rd_kafka_resp_err_t)err;
		snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : rd_kafka_err2str((rd_kafka_resp_err_t)err));
	}
	pthread_mutex_unlock(&c->lock);
}

cs_err_t cs__ingest_kafka_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size) {
	char proto[64] = "plaintext", user[256] = "", kerr[512];
	size_t psz = sizeof(proto), usz = sizeof(user);
	rd_kafka_conf_t *kc;
	rd_kafka_t *rk;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	cs__kcheck_t c = {PTHREAD_MUTEX_INITIALIZER, RD_KAFKA_RESP_ERR_NO_ERROR, ""};
	int64_t deadline = cs_clock_ms() + 15000;

	rd_kafka_conf_get(conf->kconf, "security.protocol", proto, &psz);
	if (!strcasecmp(proto, "plaintext"))
		return CS_ERR_OK; /* nothing to refuse us early */
	rd_kafka_conf_get(conf->kconf, "sasl.username", user, &usz);
	kc = cs__ingest_kafka_conn(conf);
	rd_kafka_conf_set_error_cb(kc, cs__kcheck_error);
	rd_kafka_conf_set_opaque(kc, &c);
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, kerr, sizeof(kerr)))) {
		cs_errstr_set(errstr, errstr_size, "Kafka configuration (security.protocol %s): %s", proto, kerr);
		return CS_ERR_KAFKA;
	}
	/* a metadata request answers once authenticated; a refusal comes through the error callback */
	do {
		err = rd_kafka_metadata(rk, 0, NULL, &md, 2000);
		rd_kafka_poll(rk, 0); /* the error callback runs here */
		pthread_mutex_lock(&c.lock);
		if (c.err) {
			pthread_mutex_unlock(&c.lock);
			break;
		}
		pthread_mutex_unlock(&c.lock);
	} while (err && cs_clock_ms() < deadline);
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	if (c.err) {
		cs_errstr_set(errstr, errstr_size, "Kafka refused the connection (security.protocol %s%s%s): %s", proto,
			      *user ? ", sasl.username " : "", user, c.reason);
		return CS_ERR_KAFKA;
	}
	if (err)
		CS_LOG_W(CS__MOD, "Kafka did not answer within 15 s (security.protocol %s): %s; starting anyway", proto,
			 rd_kafka_err2str(err));
	else
		CS_LOG_I(CS__MOD, "Kafka: connected with security.protocol %s%s%s", proto, *user ? " as " : "", user);
	return CS_ERR_OK;
}
