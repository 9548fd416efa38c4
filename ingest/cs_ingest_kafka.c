/*
 * cs_ingest_kafka.c - the Kafka client builders.
 *
 * DESIGN: The consumer of a worker (group member, offsets managed by cshield) and its
 * producer of dead letters and alerts (idempotent), with the connection
 * settings of the kafka.* properties. Start-up, main thread; the delivery
 * callback runs on librdkafka's thread and only counts failures.
 */
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

