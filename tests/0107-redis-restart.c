/*
 * 0107-redis-restart: redis-server itself dies (SIGKILL) twice mid-stream and
 * comes back from its append-only file (appendfsync always) on the same
 * port. cshield-ingest pauses, retries, reconnects, reloads its flush script
 * (NOSCRIPT) and goes on: the counts and the alert stream equal the workload
 * exactly. A private redis-server in the test's temp folder, so the shared
 * one is never killed.
 */
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 3
#define EVENTS 30000

extern char **environ;

static pid_t redis_start(int port, const char *dir) {
	char p[16];
	pid_t pid;
	char *argv[] = {"redis-server", "--bind", "127.0.0.1", "--port", p, "--dir", (char *)dir, "--save", "",
			"--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile",
			"redis.log", NULL};
	snprintf(p, sizeof(p), "%d", port);
	if (posix_spawnp(&pid, "redis-server", NULL, NULL, argv, environ))
		return -1;
	for (int i = 0; i < 100; i++) { /* until it answers */
		struct timeval tv = {1, 0};
		redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
		redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
		int ok = r && r->type == REDIS_REPLY_STATUS;
		if (r)
			freeReplyObject(r);
		if (c)
			redisFree(c);
		if (ok)
			return pid;
		cs_svc_sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

int cs_test_0107(void) {
	cs_svc_run_t run;
	char dir[600], addr[64];
	int64_t total, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check, port, st;
	redisContext *rc;
	pid_t pid, rpid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	snprintf(dir, sizeof(dir), "%s/redis", cs_test_tmpdir());
	CS_TEST_EQ_INT(mkdir(dir, 0700), 0);
	CS_TEST_ASSERT((port = cs_svc_free_port()) > 0, "free port");
	CS_TEST_ASSERT((rpid = redis_start(port, dir)) > 0, "private redis-server on %d", port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	setenv("CS_REDIS_ADDR", addr, 1); /* every helper below talks to the private one */
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "redis-restart",
				       "flush.interval.ms=20\nflush.max.events=200\nworkers=2\n"
				       "redis.command.timeout.ms=1000\nredis.connect.timeout.ms=500\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 8 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 71, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, EVENTS);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	for (int round = 1; round <= 2; round++) {
		int64_t at = cs_svc_wait_offsets(rc, &run, PARTS, total * round / 4, 60000);
		kill(rpid, SIGKILL);
		waitpid(rpid, &st, 0);
		redisFree(rc);
		cs_svc_sleep_ms(3000); /* flushes fail meanwhile: partitions paused, retries with backoff */
		if ((rpid = redis_start(port, dir)) <= 0) {
			kill(pid, SIGKILL);
			CS_TEST_FAIL("redis-server did not come back");
		}
		CS_TEST_ASSERT((rc = cs_svc_redis()), "redis after the restart");
		CS_TEST_SAY("round %d: killed redis-server at %lld of %lld events recorded; after the restart it has %lld",
			    round, (long long)at, (long long)total,
			    (long long)cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL));
		CS_TEST_ASSERT(at < total, "consumption ended before the kill: the test proved nothing");
		if (waitpid(pid, &st, WNOHANG) == pid) {
			cs_svc_dump_log(run.logf);
			CS_TEST_FAIL("cshield-ingest exited while Redis was down");
		}
	}
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after two Redis restarts");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream after two Redis restarts");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	kill(rpid, SIGTERM);
	waitpid(rpid, &st, 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
