/*
 * 0123-sentinel: Redis failed over by Sentinel mid-stream. A private primary,
 * a replica and three Sentinels (quorum 2) on loopback; cshield-ingest finds
 * the primary through the Sentinels (redis.sentinels, redis.master.name).
 * The primary is killed (SIGKILL) while events are being counted; the
 * Sentinels promote the replica; ingest's writes fail, it asks the Sentinels
 * again, reconnects to the new primary and goes on. Replication is
 * asynchronous: flushes the old primary took but had not passed on are lost,
 * their offsets with them, and are replayed (docs/REDIS.md). The counts and
 * the alert stream in the new primary equal the workload exactly. Twice: with
 * the replica in sync, and with a replica that never synced (every write the
 * primary took is lost: ingest sees that Redis has no offset where the group
 * committed one, says so, and counts from the start of the log).
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
#define EVENTS 40000

extern char **environ;

static pid_t pids[8];
static int npids;

static void kill_all(void) {
	for (int i = 0; i < npids; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	npids = 0;
}

static redisReply *ask(int port, const char *cmd) {
	return cs_svc_redis_ask("127.0.0.1", port, cmd);
}

/* redis-server with the configuration text conf (in dir/name.conf); its pid once it answers PING. */
static pid_t start(const char *dir, const char *name, int port, const char *conf, int sentinel) {
	char path[700], body[2048];
	pid_t pid;
	char *argv[] = {"redis-server", path, sentinel ? "--sentinel" : NULL, NULL};
	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	snprintf(body, sizeof(body), "bind 127.0.0.1\nport %d\ndir %s\nlogfile %s.log\nsave \"\"\nappendonly no\n%s", port,
		 dir, name, conf);
	if (cs_test_write_file(path, body) || posix_spawnp(&pid, "redis-server", NULL, NULL, argv, environ))
		return -1;
	pids[npids++] = pid;
	for (int i = 0; i < 100; i++) {
		redisReply *r = ask(port, "PING");
		int ok = r && r->type == REDIS_REPLY_STATUS;
		if (r)
			freeReplyObject(r);
		if (ok)
			return pid;
		cs_svc_sleep_ms(100);
	}
	return -1;
}

/* The primary's port the Sentinel on sport names, or -1. */
static int primary_of(int sport, const char *master) {
	char cmd[128];
	redisReply *r;
	snprintf(cmd, sizeof(cmd), "SENTINEL get-master-addr-by-name %s", master);
	r = ask(sport, cmd);
	int port = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? atoi(r->element[1]->str) : -1;
	if (r)
		freeReplyObject(r);
	return port;
}

/* A Sentinel's view is complete: the replica and the two other Sentinels known. */
static int sentinel_ready(int sport, const char *master) {
	return cs_svc_sentinel_ready("127.0.0.1", sport, master, 1, 2);
}

/*
 * One case: a primary, a replica, three Sentinels; ingest through them; the
 * primary killed once a quarter is recorded. synced: the replica is in sync
 * before the stream starts (the failover loses little or nothing); else it
 * cannot sync (the primary's diskless sync waits 60 s), so the failover loses
 * every write the primary took, offsets included, and the whole stream is
 * counted again from the start of the log.
 */
static int sentinel_case(const char *name, int synced, unsigned seed) {
	cs_svc_run_t run;
	char dir[600], conf[512], extra[1024], addr[64], master[32];
	int64_t total, t0, at, held;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int p1, p2, s[3], np = -1;
	redisContext *rc;
	pid_t pid, ppid;

	snprintf(master, sizeof(master), "cs-%s", name);
	snprintf(dir, sizeof(dir), "%s/%s", cs_test_tmpdir(), name);
	CS_TEST_EQ_INT(mkdir(dir, 0700), 0);
	CS_TEST_ASSERT((p1 = cs_svc_free_port()) > 0 && (p2 = cs_svc_free_port()) > 0, "ports");
	CS_TEST_ASSERT((ppid = start(dir, "primary", p1, synced ? "" : "repl-diskless-sync yes\nrepl-diskless-sync-delay 60\n",
				     0)) > 0,
		       "primary on %d", p1);
	snprintf(conf, sizeof(conf), "replicaof 127.0.0.1 %d\n", p1);
	CS_TEST_ASSERT(start(dir, "replica", p2, conf, 0) > 0, "replica on %d", p2);
	for (int i = 0; i < 3; i++) {
		char sname[16];
		CS_TEST_ASSERT((s[i] = cs_svc_free_port()) > 0, "port");
		snprintf(sname, sizeof(sname), "sentinel%d", i);
		snprintf(conf, sizeof(conf),
			 "sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 1000\n"
			 "sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
			 master, p1, master, master, master);
		CS_TEST_ASSERT(start(dir, sname, s[i], conf, 1) > 0, "sentinel on %d", s[i]);
	}
	for (int waited = 0; synced; waited += 200) { /* the replica in sync (a diskless sync waits 5 s for others) */
		redisReply *r = ask(p2, "INFO replication");
		int up = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "master_link_status:up");
		if (r)
			freeReplyObject(r);
		if (up)
			break;
		CS_TEST_ASSERT(waited < 30000, "the replica never synced");
		cs_svc_sleep_ms(200);
	}
	for (int waited = 0; !(sentinel_ready(s[0], master) && sentinel_ready(s[1], master) && sentinel_ready(s[2], master));
	     waited += 200) {
		CS_TEST_ASSERT(waited < 30000, "the Sentinels never saw the replica and each other");
		cs_svc_sleep_ms(200);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p1);
	setenv("CS_REDIS_ADDR", addr, 1); /* the helpers read the primary */
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=20\nflush.max.events=300\nworkers=2\nredis.command.timeout.ms=1000\n"
		 "redis.connect.timeout.ms=500\nredis.sentinels=127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d\n"
		 "redis.master.name=%s\n",
		 s[0], s[1], s[2], master);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, name, extra), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 6 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, seed, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) == EVENTS, "log end");

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	at = cs_svc_wait_offsets(rc, &run, PARTS, total / 4, 60000);
	kill(ppid, SIGKILL); /* the primary dies mid-stream */
	redisFree(rc);
	CS_TEST_SAY("%s: killed the primary (%d) at %lld of %lld events recorded", name, p1, (long long)at, (long long)total);
	CS_TEST_ASSERT(at > 0 && at < total, "the kill did not land mid-stream (%lld recorded): the test proved nothing",
		       (long long)at);
	for (int waited = 0; (np = primary_of(s[0], master)) == p1 || np < 0; waited += 200) {
		CS_TEST_ASSERT(waited < 60000, "no failover");
		cs_svc_sleep_ms(200);
	}
	CS_TEST_EQ_INT(np, p2);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", np);
	setenv("CS_REDIS_ADDR", addr, 1);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "the new primary");
	held = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	CS_TEST_SAY("%s: failed over to %d, which holds %lld recorded (%lld lost with the primary)", name, np,
		    (long long)held, (long long)(at - held));
	/* (unsynced: what it holds is what ingest counted again since; the log says what was lost) */
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), "lag never reached 0 on the new primary");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after the failover");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream after the failover");
	{
		char needle[128];
		snprintf(needle, sizeof(needle), "the primary of %s is now 127.0.0.1:%d", master, np);
		CS_TEST_ASSERT(cs_svc_log_count(run.logf, needle) >= 1, "no log line naming the new primary");
		/* everything lost: said, and counted again from the start */
		if (!synced)
			CS_TEST_ASSERT(cs_svc_log_count(run.logf, "Redis lost writes it had taken") >= 1,
				       "the lost writes were not reported");
	}
	if (synced) {
		/* the readers find the new primary through the Sentinels too */
		char cmd[2048], want[64];
		static char out[1 << 20];
		snprintf(cmd, sizeof(cmd),
			 "%s/report/cshield-report --sentinels 127.0.0.1:%d,127.0.0.1:%d --master-name %s --prefix %s --tlp red "
			 "| tail -1",
			 cs_test_bindir(), s[2], s[1], master, run.prefix);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		snprintf(want, sizeof(want), " %lld hits", (long long)cs_svc_counts_hits(&exp));
		CS_TEST_ASSERT(strstr(out, want), "cshield-report through the Sentinels: %s (want%s)", out, want);
		snprintf(cmd, sizeof(cmd),
			 "%s/alerts/cshield-alerts --sentinels 127.0.0.1:1,127.0.0.1:%d --master-name %s --prefix %s --tlp red "
			 "--group t --from-start --max 5 2>&1",
			 cs_test_bindir(), s[0], master, run.prefix);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		{
			int lines = 0; /* the alerts (JSON lines), not what it says on stderr */
			for (char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
				lines += *l == '{';
			CS_TEST_EQ_INT(lines, 5);
		}
		snprintf(cmd, sizeof(cmd), "%s/alerts/cshield-alerts --sentinels 127.0.0.1:%d --master-name nobody --group t --max 1 2>&1",
			 cs_test_bindir(), s[0]);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 1);
		CS_TEST_ASSERT(strstr(out, "knows no primary named nobody"), "%s", out);
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	kill_all();
	return 0;
}

int cs_test_0123(void) {
	int rc_check;
	if ((rc_check = cs_svc_check()))
		return rc_check;
	atexit(kill_all);
	if (sentinel_case("sentinel-synced", 1, 123) || sentinel_case("sentinel-lost", 0, 321))
		return 1;
	return 0;
}
