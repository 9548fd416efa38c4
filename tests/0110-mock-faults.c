/*
 * 0110-mock-faults: broker faults injected through librdkafka's mock cluster
 * (a Kafka stand-in inside this test process: this is fault injection, not a
 * real broker). cshield-ingest consumes from it while Fetch and OffsetCommit
 * requests fail, the connection drops (transport errors), and the broker is
 * down for 4 s; the counts in the real Redis must equal the workload exactly.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cs_test_svc.h"
#include <librdkafka/rdkafka_mock.h> /* after rdkafka.h */

#define PARTS 3
#define EVENTS 20000

int cs_test_0110(void) {
	cs_svc_run_t run;
	char errstr[256], boot[256];
	int64_t total, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check;
	redisContext *rc;
	rd_kafka_t *host;
	rd_kafka_conf_t *hc;
	rd_kafka_mock_cluster_t *mc;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	/* the mock cluster lives in a handle of this process */
	hc = rd_kafka_conf_new();
	CS_TEST_ASSERT((host = rd_kafka_new(RD_KAFKA_PRODUCER, hc, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((mc = rd_kafka_mock_cluster_new(host, 1)), "mock cluster");
	snprintf(boot, sizeof(boot), "%s", rd_kafka_mock_cluster_bootstraps(mc));
	setenv("CS_KAFKA_BOOTSTRAP", boot, 1); /* every helper below talks to the mock */
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "mock", "flush.interval.ms=50\nworkers=2\n"
						     "kafka.partition.assignment.strategy=range\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(rd_kafka_mock_topic_create(mc, run.topic, PARTS, 1), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 11 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 101, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, EVENTS, pid, 60000), "batch 1: lag never reached 0");

	/* request errors: fetches fail (retriable, then dropped connections), commits fail; the next
	 * batch is consumed through them */
	rd_kafka_mock_push_request_errors(mc, 1 /* Fetch */, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
					  RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
					  RD_KAFKA_RESP_ERR__TRANSPORT);
	rd_kafka_mock_push_request_errors(mc, 8 /* OffsetCommit */, 4, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
					  RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
					  RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 102, t0 + 3600, &exp, &malformed), 0);
	/* the broker down for 4 s mid-consumption, then a third batch */
	CS_TEST_SAY("broker down at %lld of %d events recorded",
		    (long long)cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL), 2 * EVENTS);
	CS_TEST_EQ_INT(rd_kafka_mock_broker_set_down(mc, 1), 0);
	cs_svc_sleep_ms(4000);
	CS_TEST_EQ_INT(rd_kafka_mock_broker_set_up(mc, 1), 0);
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 103, t0 + 7200, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, 3 * EVENTS);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), "lag never reached 0 after the faults");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after injected broker faults");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	return 0;
}
