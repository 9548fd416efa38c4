/*
 * 0108-broker-restart: the real Kafka broker is killed (SIGKILL) mid-stream
 * and started again on the same port and data (deploy/local/kafka.sh restart
 * kill). cshield-ingest rides it out: consumers and producers reconnect, the
 * group re-forms, consumption resumes from the offsets in Redis; the counts,
 * the dead letters and the alerts equal the workload exactly.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 3
#define EVENTS 30000

int cs_test_0108(void) {
	cs_svc_run_t run;
	char cmd[1024];
	int64_t total, t0, at, t_kill;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check, st;
	redisContext *rc;
	pid_t pid;
	const char *src = getenv("CS_SOURCE_DIR");

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_ASSERT(src, "CS_SOURCE_DIR");
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "broker-restart",
				       "flush.interval.ms=20\nflush.max.events=200\nworkers=2\n"
				       "kafka.session.timeout.ms=10000\nkafka.heartbeat.interval.ms=1000\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 9 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 81, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, EVENTS);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	at = cs_svc_wait_offsets(rc, &run, PARTS, total / 5, 60000);
	t_kill = (int64_t)time(NULL);
	snprintf(cmd, sizeof(cmd), "%s/deploy/local/kafka.sh restart kill >/dev/null", src);
	if (system(cmd)) {
		kill(pid, SIGKILL);
		CS_TEST_FAIL("the broker did not restart");
	}
	CS_TEST_SAY("broker killed at %lld of %lld events recorded, back after %lld s", (long long)at, (long long)total,
		    (long long)((int64_t)time(NULL) - t_kill));
	CS_TEST_ASSERT(at < total, "consumption ended before the kill: the test proved nothing");
	if (waitpid(pid, &st, WNOHANG) == pid) {
		cs_svc_dump_log(run.logf);
		CS_TEST_FAIL("cshield-ingest exited while the broker was down");
	}
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 180000), "lag never reached 0 after the restart");
	CS_TEST_SAY("lag 0 %lld s after the kill", (long long)((int64_t)time(NULL) - t_kill));
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after a broker restart");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream after a broker restart");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
