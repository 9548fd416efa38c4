/*
 * 0124-kafka-sasl: cshield-ingest over SASL_SSL on the real broker (its
 * SASL_SSL listener: a certificate from a test CA, a SASL user, both made by
 * deploy/local/kafka.sh). The consumer, the dead-letter and alert producers,
 * the escalation relay and the change feed all go through it: counts exact, a
 * change from the feed counted, every malformed event dead-lettered, every
 * alert in the alerts topic. A wrong password and an untrusted certificate are
 * clear errors at start-up (exit 1 within seconds, the user named, the
 * password never printed).
 *
 * Twice: SASL/PLAIN over TLS on the local Kafka 4 broker, and SCRAM-SHA-512
 * on a Kafka 3.9 broker the test starts (deploy/local/kafka.sh scram-start):
 * SCRAM against Kafka 4 needs librdkafka 2.6.1 or later (librdkafka #4895: the
 * client-final nonce), and Debian 12 ships 2.0.2 (docs/OPERATIONS.md).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cs_test_svc.h"
#include "cs_keys.h"
#include "cs_common.h"

#define PARTS 2
#define EVENTS 4000

static long dl_count;

static void on_dl(void *opaque, const rd_kafka_message_t *m) {
	(void)opaque;
	(void)m;
	dl_count++;
}

/* The broker a case runs on: its SASL_SSL listener, mechanism, user, CA, a CA it does not use. */
typedef struct {
	const char *name, *sasl_bootstrap, *mechanism, *user, *password, *ca, *other_ca;
} sasl_target_t;

static char scram_dir[600];

static void scram_stop(void) {
	char cmd[1024];
	if (!*scram_dir)
		return;
	snprintf(cmd, sizeof(cmd), "%s/deploy/local/kafka.sh scram-stop %s >/dev/null 2>&1", getenv("CS_SOURCE_DIR"),
		 scram_dir);
	if (system(cmd)) {
		/* best effort */
	}
	*scram_dir = '\0';
}

/* The run's configuration with the SASL_SSL connection: password and CA as given. */
static int write_conf(const cs_svc_run_t *run, const sasl_target_t *t, const char *password, const char *ca,
		      const char *extra) {
	char buf[4096];
	snprintf(buf, sizeof(buf),
		 "topics=%s\ngroup.id=%s\nindicators.file=%s\naggregate.key.prefix=%s\n"
		 "kafka.bootstrap.servers=%s\nkafka.security.protocol=SASL_SSL\nkafka.sasl.mechanisms=%s\n"
		 "kafka.sasl.username=%s\nkafka.sasl.password=%s\nkafka.ssl.ca.location=%s\n"
		 "redis.host=127.0.0.1\nredis.port=%s\n%s",
		 run->topic, run->group, run->ind, run->prefix, t->sasl_bootstrap, t->mechanism, t->user, password, ca,
		 strrchr(getenv("CS_REDIS_ADDR"), ':') + 1, extra);
	return cs_test_write_file(run->conf, buf);
}

/* cshield-ingest that must refuse to start: exit 1 within 30 s, its stderr holding want and not secret. */
static int refused(const cs_svc_run_t *run, const char *want, const char *secret) {
	char cmd[1200], out[8192];
	int64_t t0 = cs_clock_ms();
	int rc;
	snprintf(cmd, sizeof(cmd), "timeout 60 %s/ingest/cshield-ingest -c %s 2>&1", cs_test_bindir(), run->conf);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 1, "exit %d, expected 1: %.2000s", rc, out);
	CS_TEST_ASSERT(cs_clock_ms() - t0 < 30000, "refused only after %lld ms", (long long)(cs_clock_ms() - t0));
	CS_TEST_ASSERT(strstr(out, want), "no \"%s\" in: %.2000s", want, out);
	CS_TEST_ASSERT(!strstr(out, secret), "the password is printed: %.2000s", out);
	CS_TEST_SAY("refused in %lld ms: %.300s", (long long)(cs_clock_ms() - t0), strstr(out, "Kafka refused"));
	return 0;
}

static int sasl_case(const sasl_target_t *t) {
	cs_svc_run_t run;
	char extra[1024], dlq[200], alerts[200], ctopic[200], esc[200];
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int64_t t0, total;
	redisContext *rc;
	pid_t pid;

	CS_TEST_EQ_INT(cs_svc_run_init(&run, t->name, ""), 0);
	snprintf(dlq, sizeof(dlq), "%s-dlq", run.topic);
	snprintf(alerts, sizeof(alerts), "%s-alerts", run.topic);
	snprintf(ctopic, sizeof(ctopic), "%s-ind", run.topic);
	snprintf(esc, sizeof(esc), "%s-esc", run.topic);
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nworkers=2\ndlq.topic=%s\nalerts.topic=%s\nindicators.topic=%s\n"
		 "escalations.topic=%s\nindicators.reload.interval.ms=0\n",
		 dlq, alerts, ctopic, esc);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(dlq, 1), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(alerts, 1), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(ctopic, 1), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(esc, 1), 0);

	/* refused at once: a wrong password, then a certificate from a CA not trusted */
	CS_TEST_EQ_INT(write_conf(&run, t, "not-the-password-0124", t->ca, extra), 0);
	CS_TEST_EQ_INT(refused(&run, "Kafka refused the connection (security.protocol sasl_ssl, sasl.username", "not-the-password-0124"), 0);
	CS_TEST_EQ_INT(write_conf(&run, t, t->password, t->other_ca, extra), 0);
	CS_TEST_EQ_INT(refused(&run, "certificate verify failed", t->password), 0);

	/* the right ones: everything over SASL_SSL */
	CS_TEST_EQ_INT(write_conf(&run, t, t->password, t->ca, extra), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 5 * 3600;
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "Kafka: connected with security.protocol sasl_ssl as", 1, 30000, pid),
		       "no SASL_SSL connection logged");
	{
		/* a change on the feed: a new indicator, then events that hit it */
		rd_kafka_t *rk = cs_svc_producer("none");
		const char *chg = "{\"op\":\"add\",\"type\":\"domain\",\"value\":\"sasl-added.evil-test.eu\",\"id\":\"chg-sasl\"}";
		CS_TEST_ASSERT(rk, "producer");
		CS_TEST_EQ_INT(cs_svc_produce_key(rk, ctopic, 0, "domain\tsasl-added.evil-test.eu", chg, strlen(chg), 0), 0);
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
	}
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 1 -> 2", 2, 30000, pid),
		       "the change feed's set never reached the workers");
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 124, t0, &exp, &malformed), 0);
	{
		rd_kafka_t *rk = cs_svc_producer("lz4");
		char ev[512], ts[40];
		time_t s = (time_t)t0;
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		CS_TEST_ASSERT(rk, "producer");
		for (int i = 0; i < 7; i++) {
			int len = snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"dns\":{\"question\":{\"name\":\"sasl-added.evil-test.eu\"}}}", ts);
			CS_TEST_EQ_INT(cs_svc_produce_key(rk, run.topic, i % PARTS, NULL, ev, (size_t)len, 0), 0);
		}
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
		cs_svc_counts_add(&exp, t0, "sasl-added.evil-test.eu", 7);
	}
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) == EVENTS + 7, "log end %lld", (long long)total);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 60000), "lag never reached 0 over SASL_SSL");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "counts over SASL_SSL");
	CS_TEST_ASSERT(!cs_svc_check_alert_topic(alerts, &exp, (long)cs_svc_counts_hits(&exp), 1),
		       "the alerts topic over SASL_SSL");
	CS_TEST_EQ_INT(cs_svc_consume(dlq, malformed + 1, 5000, on_dl, NULL), malformed);
	CS_TEST_ASSERT(malformed > 0, "the workload has no malformed event");
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, t->password), 0);
	{
		/* the bench over the same connection: -X passes it to every client it makes */
		char btopic[200], cmd[2048], out[4096];
		snprintf(btopic, sizeof(btopic), "%s-bench", run.topic);
		CS_TEST_EQ_INT(cs_svc_topic_create(btopic, 1), 0);
		snprintf(cmd, sizeof(cmd),
			 "%s/bench/cshield-bench produce --events 500 --topic %s --brokers %s -X kafka.security.protocol=SASL_SSL "
			 "-X sasl.mechanisms=%s -X sasl.username=%s -X sasl.password=%s -X ssl.ca.location=%s 2>&1",
			 cs_test_bindir(), btopic, t->sasl_bootstrap, t->mechanism, t->user, t->password, t->ca);
		CS_TEST_ASSERT(!cs_test_run(cmd, out, sizeof(out)), "cshield-bench produce over SASL_SSL: %.2000s", out);
		CS_TEST_EQ_INT(cs_svc_log_end(btopic, 1), 500);
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}

int cs_test_0124(void) {
	char cmd[1200], env[700], plain_kafka[256];
	sasl_target_t plain, scram;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	if (!getenv("CS_KAFKA_SASL_BOOTSTRAP") || !getenv("CS_KAFKA_CA")) {
		CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
			       "CS_KAFKA_SASL_BOOTSTRAP unset (deploy/local/services.sh start writes it)");
		return CS_TEST_SKIP;
	}
	/* SASL/PLAIN over TLS on the local Kafka 4 broker */
	plain = (sasl_target_t){"sasl-plain", getenv("CS_KAFKA_SASL_BOOTSTRAP"), "PLAIN", getenv("CS_KAFKA_SASL_USER"),
				getenv("CS_KAFKA_SASL_PASSWORD"), getenv("CS_KAFKA_CA"), getenv("CS_KAFKA_OTHER_CA")};
	if (sasl_case(&plain))
		return 1;
	/* SCRAM-SHA-512 on a Kafka 3.9 broker of the test's own */
	atexit(scram_stop);
	snprintf(scram_dir, sizeof(scram_dir), "%s/kafka-scram", cs_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s/deploy/local/kafka.sh scram-start %s >%s/scram.log 2>&1", getenv("CS_SOURCE_DIR"),
		 scram_dir, cs_test_tmpdir());
	CS_TEST_ASSERT(!system(cmd), "kafka.sh scram-start (log: %s/scram.log)", cs_test_tmpdir());
	snprintf(env, sizeof(env), "%s/env", scram_dir);
	CS_TEST_EQ_INT(cs_svc_load_env(env), 0);
	/* the test's own clients (topics, workload, reading back) use the broker's PLAINTEXT listener */
	snprintf(plain_kafka, sizeof(plain_kafka), "%s", getenv("CS_KAFKA_BOOTSTRAP"));
	setenv("CS_KAFKA_BOOTSTRAP", getenv("CS_SCRAM_BOOTSTRAP"), 1);
	scram = (sasl_target_t){"sasl-scram", getenv("CS_SCRAM_SASL_BOOTSTRAP"), "SCRAM-SHA-512", getenv("CS_SCRAM_USER"),
				getenv("CS_SCRAM_PASSWORD"), getenv("CS_SCRAM_CA"), getenv("CS_KAFKA_CA")};
	rc_check = sasl_case(&scram);
	setenv("CS_KAFKA_BOOTSTRAP", plain_kafka, 1);
	scram_stop();
	return rc_check;
}
