/*
 * 0120-redis-acl: least privilege on the real redis-server.
 *
 * cshield-ingest runs as an ACL user of its own, allowed only its key prefix
 * and the commands it and its flush script need, with the password from a
 * file: the counts are exact. A wrong password is refused with an error that
 * names the user and not the secret, and nothing is counted. The same user
 * cannot touch a key outside its prefix. cshield-report runs as a read-only
 * user: the report is written, and that user cannot write.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

/* the commands ingest sends and its flush script calls */
#define CS__INGEST_CMDS                                                                                        \
	"-@all +ping +select +script|load +evalsha +hget +hmget +type +getrange +xinfo +hincrby +zincrby +zadd " \
	"+pfadd +hset +xadd +expire +hgetall +set +eval +xrange"

static int acl(redisContext *rc, const char *user, const char *pw, const char *prefix, const char *cmds) {
	char pat[128];
	redisReply *r;
	snprintf(pat, sizeof(pat), "~%s:*", prefix);
	r = redisCommand(rc, "ACL SETUSER %s reset on >%s %s resetchannels", user, pw, pat);
	if (!r || r->type != REDIS_REPLY_STATUS) {
		CS_TEST_SAY("ACL SETUSER %s: %s", user, r && r->str ? r->str : "no reply");
		if (r)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	/* the command list as separate rules */
	{
		char buf[512], *save = NULL;
		snprintf(buf, sizeof(buf), "%s", cmds);
		for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			r = redisCommand(rc, "ACL SETUSER %s %s", user, t);
			if (!r || r->type != REDIS_REPLY_STATUS) {
				CS_TEST_SAY("ACL SETUSER %s %s: %s", user, t, r && r->str ? r->str : "no reply");
				if (r)
					freeReplyObject(r);
				return -1;
			}
			freeReplyObject(r);
		}
	}
	return 0;
}

/* A reply of user (AUTH user pw) to a command; its error text into err ("" when none). */
static void as_user(const char *user, const char *pw, const char *cmd, const char *key, char *err, size_t size) {
	redisContext *c = redisConnect("127.0.0.1", atoi(strrchr(getenv("CS_REDIS_ADDR"), ':') + 1));
	redisReply *r;
	err[0] = '\0';
	if (!c || c->err) {
		snprintf(err, size, "connect");
		return;
	}
	r = redisCommand(c, "AUTH %s %s", user, pw);
	if (r)
		freeReplyObject(r);
	r = redisCommand(c, cmd, key);
	if (r && r->type == REDIS_REPLY_ERROR)
		snprintf(err, size, "%s", r->str);
	if (r)
		freeReplyObject(r);
	redisFree(c);
}

int cs_test_0120(void) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0};
	char extra[2048], pwf[600], badf[600], user[64], ruser[64], err[1024], cmd[1024], out[1 << 16];
	const char *pw = "ingest-Secret-7q", *rpw = "reader-Secret-3z";
	long malformed = 0;
	int rc_check;
	redisContext *rc;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	snprintf(user, sizeof(user), "cs-ingest-%d", (int)getpid());
	snprintf(ruser, sizeof(ruser), "cs-report-%d", (int)getpid());
	snprintf(pwf, sizeof(pwf), "%s/ingest.pw", cs_test_tmpdir());
	snprintf(badf, sizeof(badf), "%s/wrong.pw", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(pwf, "ingest-Secret-7q\n"), 0);
	CS_TEST_EQ_INT(cs_test_write_file(badf, "not-the-password\n"), 0);

	/* a wrong password first: refused, said with the user's name, not the secret; nothing counted */
	snprintf(extra, sizeof(extra), "flush.interval.ms=100\nworkers=1\nredis.user=%s\nredis.password.file=%s\n", user, badf);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "acl", extra), 0);
	CS_TEST_EQ_INT(acl(rc, user, pw, run.prefix, CS__INGEST_CMDS), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 2), 0);
	{
		char esc[200];
		snprintf(esc, sizeof(esc), "%s-esc", run.topic);
		CS_TEST_EQ_INT(cs_svc_topic_create(esc, 1), 0);
	}
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, 2, 2000, 5, (int64_t)time(NULL) / 60 * 60 - 3600, &exp, &malformed), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "WRONGPASS", 1, 20000, pid), "no WRONGPASS in the log");
	{
		char needle[128];
		snprintf(needle, sizeof(needle), "redis AUTH as %s", user);
		CS_TEST_ASSERT(cs_svc_log_count(run.logf, needle) >= 1, "the refusal does not name the user");
		CS_TEST_EQ_INT(cs_svc_log_count(run.logf, "not-the-password"), 0);
		CS_TEST_EQ_INT(cs_svc_log_count(run.logf, pw), 0);
	}
	CS_TEST_EQ_INT(cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, 2, NULL), 0);
	kill(pid, SIGKILL);
	cs_svc_wait(pid, 10000);

	/* the right password: ingest as its own user, counts exact (a group of its own: the killed
	 * member of the first stays in its group until the session times out) */
	{
		size_t n = strlen(run.group);
		CS_TEST_ASSERT(n + 3 < sizeof(run.group), "group name");
		memcpy(run.group + n, "-2", 3);
	}
	/* with a participant registry (the escalation rule reads its state) and the escalation relay
	 * (its lease, the streams), both within the same commands */
	{
		char reg[300], body[800];
		snprintf(reg, sizeof(reg), "%s/acl-participants.json", cs_test_tmpdir());
		snprintf(body, sizeof(body),
			 "{\"participants\": [{\"id\": \"lu-soc\", \"name\": \"LU SOC\", \"kind\": \"SOC\", "
			 "\"member_state\": \"LU\", \"sector\": \"finance\", \"tlp\": \"clear\", \"topics\": [\"%s\"]}]}\n",
			 run.topic);
		CS_TEST_EQ_INT(cs_test_write_file(reg, body), 0);
		snprintf(extra, sizeof(extra),
			 "flush.interval.ms=100\nworkers=1\nredis.user=%s\nredis.password.file=%s\nparticipants.file=%s\n"
			 "escalations.topic=%s-esc\n",
			 user, pwf, reg, run.topic);
	}
	{
		/* the run's names stay (same prefix, topic, group): rewrite its configuration */
		char buf[4096];
		snprintf(buf, sizeof(buf),
			 "topics=%s\ngroup.id=%s\nindicators.file=%s\naggregate.key.prefix=%s\nkafka.bootstrap.servers=%s\n"
			 "redis.host=127.0.0.1\nredis.port=%s\n%s",
			 run.topic, run.group, run.ind, run.prefix, cs_svc_kafka(), strrchr(getenv("CS_REDIS_ADDR"), ':') + 1, extra);
		CS_TEST_EQ_INT(cs_test_write_file(run.conf, buf), 0);
	}
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 2, 2000, pid, 60000), "lag never reached 0 as the ACL user");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, -1), "counts as the ACL user");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alerts as the ACL user");
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, pw), 0);
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, "NOPERM"), 0);
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "is empty: relaying every escalation") >= 1, "the relay did not start");
	/* the user's reach ends at its prefix */
	as_user(user, pw, "HSET %s f 1", "someone-else:key", err, sizeof(err));
	CS_TEST_ASSERT(strstr(err, "NOPERM"), "ingest's user wrote outside its prefix: %s", err);
	as_user(user, pw, "FLUSHALL", NULL, err, sizeof(err));
	CS_TEST_ASSERT(strstr(err, "NOPERM"), "ingest's user may FLUSHALL: %s", err);

	/* the report as a read-only user */
	CS_TEST_EQ_INT(acl(rc, ruser, rpw, run.prefix, "-@all +@read +ping"), 0);
	snprintf(pwf, sizeof(pwf), "%s/report.pw", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(pwf, "reader-Secret-3z\n"), 0);
	snprintf(cmd, sizeof(cmd),
		 "%s/report/cshield-report --redis %s --prefix %s --user %s --password-file %s --format json --last 24h 2>&1",
		 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run.prefix, ruser, pwf);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
	CS_TEST_ASSERT(strstr(out, "\"schema\":\"cshield-situation/1\""), "%.500s", out);
	snprintf(cmd, sizeof(cmd),
		 "%s/report/cshield-report --redis %s --prefix %s --user %s --password-file %s --format json 2>&1",
		 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run.prefix, ruser, badf);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 1);
	CS_TEST_ASSERT(strstr(out, "WRONGPASS") && strstr(out, ruser) && !strstr(out, "not-the-password"), "%s", out);
	as_user(ruser, rpw, "HSET %s f 1", run.k_stats, err, sizeof(err));
	CS_TEST_ASSERT(strstr(err, "NOPERM"), "the report's user could write: %s", err);

	{
		redisReply *r = redisCommand(rc, "ACL DELUSER %s %s", user, ruser);
		if (r)
			freeReplyObject(r);
	}
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
