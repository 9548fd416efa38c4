/*
 * 0105-reload: the indicator set changes under a running cshield-ingest.
 * Version 1 lacks one indicator (X); the file is rewritten with X and
 * without another (Y): the change is picked up (indicators.reload.interval.ms),
 * loaded aside and swapped in without a restart, and events produced after it
 * count X and no longer Y. A SIGHUP loads again. A file that breaks (its
 * contents no longer an indicator list) or vanishes (a feed sync that removes
 * it for a moment) is loaded from its last good contents, said at warn level
 * with the file named: the set never shrinks under a sync. Exact counts in
 * Redis for each phase, the second feed's indicator included.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_common.h"
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
	char feed2[512];
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
	/* a second feed: its own file, one indicator the workload never carries */
	snprintf(feed2, sizeof(feed2), "%s/feed2.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(feed2, "feed2-only.evil-test.eu\n"), 0);
	{ /* indicators.file names both */
		static char conf[8192], out[8192];
		char line[1200], *at;
		FILE *fp = fopen(run.conf, "r");
		size_t n = fp ? fread(conf, 1, sizeof(conf) - 1, fp) : 0;
		CS_TEST_ASSERT(fp && !fclose(fp), "conf");
		conf[n] = '\0';
		snprintf(line, sizeof(line), "indicators.file=%s\n", run.ind);
		CS_TEST_ASSERT((at = strstr(conf, line)), "no indicators.file line");
		snprintf(out, sizeof(out), "%.*sindicators.file=%s,%s\n%s", (int)(at - conf), conf, run.ind, feed2,
			 at + strlen(line));
		CS_TEST_EQ_INT(cs_test_write_file(run.conf, out), 0);
	}
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
	/* the first file breaks: loaded from its last good contents (version 4, version 3's indicators) */
	CS_TEST_EQ_INT(cs_test_write_file(run.ind, "{\"type\": \"bundle\", cut short"), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "its last good contents", 1, 20000, pid),
		       "a broken file was not loaded from its last good contents");
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "indicator file ") >= 1 && cs_svc_log_count(run.logf, "invalid JSON") >= 1,
		       "the warning does not name the file and why");
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 3 -> 4", 2, 20000, pid), "version 4");
	CS_TEST_EQ_INT(cs_svc_work_produce_without(run.topic, PARTS, BATCH, 63, t0 + 7200, Y, &exp), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 3 * BATCH, pid, 60000), "phase 3: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 3: counts after a broken file");

	/* the second feed vanishes for a while: its indicator still counts */
	CS_TEST_EQ_INT(unlink(feed2), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "indicator set version 4 -> 5", 2, 20000, pid), "version 5");
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "feed2.txt: No such file or directory; its last good contents") >= 1,
		       "the vanished feed was not said");
	{
		rd_kafka_t *rk = cs_svc_producer("none");
		char buf[300], ts[32];
		int len;
		cs_time_format_iso8601(t0 + 9000, ts, sizeof(ts));
		CS_TEST_ASSERT(rk, "producer");
		len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"dns\":{\"rrname\":\"www.feed2-only.evil-test.eu\"}}", ts);
		for (int i = 0; i < 7; i++)
			CS_TEST_EQ_INT(cs_svc_produce(rk, run.topic, i % PARTS, buf, (size_t)len, 0), 0);
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
		cs_svc_counts_add(&exp, (t0 + 9000) / 60 * 60, "feed2-only.evil-test.eu", 7);
	}
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, 3 * BATCH + 7, pid, 60000), "phase 4: lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "phase 4: counts while a feed file is gone");

	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
