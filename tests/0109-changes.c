/*
 * 0109-changes: indicators changed through the change topic (indicators.topic)
 * under a running cshield-ingest. The files lack X and hold Y; the topic adds
 * X and revokes Y (plus a malformed message, skipped): within a fraction of a
 * second the workers match with the layered set, and events produced after it
 * count X and no longer Y. A restart reads the change log again and keeps
 * the same set. Exact counts in Redis for each phase.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 3
#define BATCH 6000
#define X "c2-1.evil-test.eu"
#define Y "203.0.113.10"

/* The workload's indicator list without X. */
static int write_files_set(const cs_svc_run_t *run) {
	char full[600], line[512];
	FILE *in, *out;
	snprintf(full, sizeof(full), "%s.full", run->ind);
	if (cs_svc_work_indicators(full) || !(in = fopen(full, "r")) || !(out = fopen(run->ind, "w")))
		return -1;
	while (fgets(line, sizeof(line), in))
		if (strncasecmp(line, X "\n", strlen(X) + 1))
			fputs(line, out);
	fclose(in);
	return fclose(out);
}

int cs_test_0109(void) {
	cs_svc_run_t run;
	char ctopic[200];
	cs_svc_counts_t exp = {0};
	int rc_check;
	redisContext *rc;
	int64_t t0, t_sent;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "changes",
				       "flush.interval.ms=50\nworkers=2\nindicators.topic={topic}-ind\n"
				       "indicators.reload.interval.ms=0\n"),
		       0);
	snprintf(ctopic, sizeof(ctopic), "%s-ind", run.topic);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(ctopic, 1), 0);
	CS_TEST_EQ_INT(write_files_set(&run), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 10 * 3600;

	/* phase 1: the files' set (no X) */
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 91, t0, X, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, BATCH, pid, 60000), "phase 1: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 1");

	/* the change topic: add X, revoke Y (in another spelling), and one message that is not a change */
	{
		rd_kafka_t *rk = cs_svc_producer("none");
		const char *msgs[][2] = {
			{"domain\t" X, "{\"op\":\"add\",\"type\":\"domain\",\"value\":\"C2-1.Evil-Test.EU\",\"id\":\"chg-x\","
				       "\"source\":\"CERT-XX\",\"tlp\":\"amber\"}"},
			{"not json", "this is not a change"},
			{"ipv4\t" Y, "{\"op\":\"revoke\",\"type\":\"ipv4\",\"value\":\"" Y "\",\"id\":\"chg-y\"}"},
		};
		CS_TEST_ASSERT(rk, "producer");
		t_sent = (int64_t)time(NULL);
		for (size_t i = 0; i < 3; i++)
			CS_TEST_EQ_INT(cs_svc_produce_key(rk, ctopic, 0, msgs[i][0], msgs[i][1], strlen(msgs[i][1]), 0), 0);
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
	}
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 1 -> 2", 2, 20000, pid),
		       "the workers did not move to the layered set");
	CS_TEST_SAY("changes visible to both workers within %lld s of producing them",
		    (long long)((int64_t)time(NULL) - t_sent));
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, "not an indicator change"), 1);
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, "+ 1 added + 1 revoked"), 1);

	/* phase 2: X counts, Y does not */
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 92, t0 + 3600, Y, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 2 * BATCH, pid, 60000), "phase 2: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 2: counts with the changes");

	/* a restart reads the change log again: same set */
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "respawn");
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 1 -> 2", 4, 20000, pid),
		       "the restart did not layer the changes");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 93, t0 + 7200, Y, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 3 * BATCH, pid, 60000), "phase 3: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 3: counts after a restart");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
