/*
 * 0105-reload: the indicator set changes under a running cshield-ingest.
 * Version 1 lacks one indicator (X); the file is rewritten with X and
 * without another (Y): the change is picked up (indicators.reload.interval.ms),
 * loaded aside and swapped in without a restart, and events produced after it
 * count X and no longer Y. A SIGHUP loads again; a broken file leaves the
 * current set in use. Exact counts in Redis for each phase.
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

/* Rewrites the run's indicator file from the workload's list: without `drop`, plus `add` lines. */
static int write_set(const cs_svc_run_t *run, const char *drop, const char *add) {
	char tmp[600], line[512];
	FILE *in, *out;
	snprintf(tmp, sizeof(tmp), "%s.full", run->ind);
	if (access(tmp, F_OK) && cs_svc_work_indicators(tmp))
		return -1;
	if (!(in = fopen(tmp, "r")))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.new", run->ind);
	if (!(out = fopen(tmp, "w"))) {
		fclose(in);
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		size_t l = strlen(line);
		char low[512];
		for (size_t i = 0; i <= l; i++)
			low[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
		if (drop && !strncmp(low, drop, strlen(drop)) && low[strlen(drop)] == '\n')
			continue;
		fputs(line, out);
	}
	if (add)
		fputs(add, out);
	fclose(in);
	fclose(out);
	return rename(tmp, run->ind); /* atomic: the loader never sees half a file */
}

int cs_test_0105(void) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0};
	int rc_check;
	redisContext *rc;
	int64_t t0;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "reload",
				       "flush.interval.ms=50\nworkers=2\nindicators.reload.interval.ms=200\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 6 * 3600;

	/* version 1: without X */
	CS_TEST_EQ_INT(write_set(&run, X, NULL), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 61, t0, X, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, BATCH, pid, 60000), "phase 1: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 1: counts with version 1");

	/* version 2: X in, Y out; picked up from the file change, every worker moves to it */
	CS_TEST_EQ_INT(write_set(&run, Y, X "\n"), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 1 -> 2", 2, 20000, pid),
		       "the workers did not move to version 2");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 62, t0 + 3600, Y, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 2 * BATCH, pid, 60000), "phase 2: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 2: counts with version 2");

	/* SIGHUP loads again (version 3, same content); a broken file then leaves version 3 in use */
	CS_TEST_EQ_INT(kill(pid, SIGHUP), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 2 -> 3", 2, 20000, pid),
		       "SIGHUP did not load version 3");
	CS_TEST_EQ_INT(cs_test_write_file(run.ind, "# nothing valid\nnot an indicator\n"), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "new indicator set not loaded, version 3 stays in use", 1, 20000, pid),
		       "a broken file was not refused");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 63, t0 + 7200, Y, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 3 * BATCH, pid, 60000), "phase 3: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 3: counts with version 3 after a broken file");

	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
