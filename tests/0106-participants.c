/*
 * 0106-participants: the participant registry. Events are attributed to a
 * participant by the organization they name (an alias), by the producer's
 * message key, or not at all (unregistered); each participant's TLP makes the
 * TLP of its events, and a hit's TLP is the stricter of the event's and the
 * indicator's. Checks the exact per-window dimension counts (organization,
 * member state, sector, kind, category, severity), the per-TLP hit counts,
 * the distinct-sources HyperLogLog, the daily top, the alert's participant,
 * the report per audience, and a registry reload (SIGHUP).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

static long long cmd_int(redisContext *rc, const char *fmt, const char *a, const char *b) {
	redisReply *r = b ? redisCommand(rc, fmt, a, b) : redisCommand(rc, fmt, a);
	long long v = !r ? -1 : r->type == REDIS_REPLY_INTEGER ? r->integer : r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
	if (r)
		freeReplyObject(r);
	return v;
}

static int write_registry(const char *path, const char *circl_tlp) {
	char buf[2048], tmp[600];
	snprintf(buf, sizeof(buf),
		 "{\"participants\": [\n"
		 " {\"id\": \"lu-circl\", \"name\": \"CIRCL\", \"kind\": \"CSIRT\", \"member_state\": \"LU\",\n"
		 "  \"sector\": \"government\", \"tlp\": \"%s\", \"keys\": [\"circl\"]},\n"
		 " {\"id\": \"de-bank-soc\", \"name\": \"Example Bank SOC\", \"kind\": \"soc\", \"member_state\": \"DE\",\n"
		 "  \"sector\": \"finance\", \"tlp\": \"red\", \"aliases\": [\"Example Bank\"]}\n"
		 "]}\n",
		 circl_tlp);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	return cs_test_write_file(tmp, buf) || rename(tmp, path) ? -1 : 0;
}

/* Produces n ECS events at ts: org (NULL: none), key (NULL: none), a destination IP or a DNS name. */
static int produce(const char *topic, int n, int64_t ts_ms, const char *org, const char *key, const char *ip,
		   const char *dns) {
	rd_kafka_t *rk = cs_svc_producer("lz4");
	char ev[1024], t[40], orgf[200] = "";
	time_t s = (time_t)(ts_ms / 1000);
	struct tm tm;
	if (!rk)
		return -1;
	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (org)
		snprintf(orgf, sizeof(orgf), ",\"organization\":{\"name\":\"%s\"}", org);
	for (int i = 0; i < n; i++) {
		int len = ip ? snprintf(ev, sizeof(ev),
					"{\"@timestamp\":\"%s\",\"source\":{\"ip\":\"10.9.0.%d\"},\"destination\":{\"ip\":\"%s\"},"
					"\"event\":{\"category\":\"malware\",\"severity\":3}%s}",
					t, i, ip, orgf)
			     : snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"dns\":{\"question\":{\"name\":\"%s\"}}%s}", t,
					dns, orgf);
		if (cs_svc_produce_key(rk, topic, 0, key, ev, (size_t)len, 0)) {
			cs_svc_producer_close(rk);
			return -1;
		}
	}
	return cs_svc_producer_close(rk);
}

int cs_test_0106(void) {
	cs_svc_run_t run;
	char reg[600], extra[1024], dim[256], wtlp[256], key[512], cmd[1024], buf[4096];
	int rc_check;
	redisContext *rc;
	int64_t w, w2;
	pid_t pid;
	FILE *p;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	snprintf(reg, sizeof(reg), "%s/participants.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(write_registry(reg, "green"), 0);
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nworkers=1\nindicators.tlp=clear\nparticipants.file=%s\n"
		 "participants.unregistered.tlp=amber\nindicators.reload.interval.ms=0\n",
		 reg);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "participants", extra), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);
	w = (int64_t)time(NULL) / 60 * 60 - 7200;
	w2 = w + 600;

	CS_TEST_EQ_INT(produce(run.topic, 10, w * 1000 + 5000, "Example Bank", NULL, "203.0.113.10", NULL), 0);
	CS_TEST_EQ_INT(produce(run.topic, 5, w * 1000 + 6000, NULL, "circl", NULL, "c2-0.evil-test.eu"), 0);
	CS_TEST_EQ_INT(produce(run.topic, 3, w * 1000 + 7000, NULL, NULL, NULL, "c2-1.evil-test.eu"), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, 18, pid, 60000), "lag never reached 0");

	cs_keys_dim(dim, sizeof(dim), run.prefix, 60, w);
	{
		static const struct {
			const char *field;
			long long n;
		} want[] = {
			/* an alias of the organization the event names: the bank, TLP:RED */
			{"red|events|org:de-bank-soc", 10}, {"red|events|ms:DE", 10}, {"red|events|sector:finance", 10},
			{"red|events|kind:SOC", 10}, {"red|hits|org:de-bank-soc", 10}, {"red|hits|ms:DE", 10},
			{"red|hits|category:malware", 10}, {"red|hits|severity:3", 10},
			/* the producer's key: CIRCL, TLP:GREEN */
			{"green|events|org:lu-circl", 5}, {"green|hits|org:lu-circl", 5}, {"green|hits|ms:LU", 5},
			{"green|hits|sector:government", 5}, {"green|hits|kind:CSIRT", 5},
			/* nobody: unregistered, participants.unregistered.tlp */
			{"amber|events|org:unregistered", 3}, {"amber|hits|org:unregistered", 3},
			/* never written */
			{"clear|hits|org:lu-circl", -1}, {"amber|events|ms:XX", -1},
		};
		for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
			CS_TEST_ASSERT(cs_svc_hget(rc, dim, want[i].field) == want[i].n, "%s %s = %lld, expected %lld", dim,
				       want[i].field, cs_svc_hget(rc, dim, want[i].field), want[i].n);
	}
	/* hits per TLP: the stricter of event and indicator (indicators are TLP:CLEAR here) */
	cs_keys_wtlp(wtlp, sizeof(wtlp), run.prefix, 60, w);
	CS_TEST_EQ_INT(cs_svc_hget(rc, wtlp, "red|203.0.113.10"), 10);
	CS_TEST_EQ_INT(cs_svc_hget(rc, wtlp, "green|c2-0.evil-test.eu"), 5);
	CS_TEST_EQ_INT(cs_svc_hget(rc, wtlp, "amber|c2-1.evil-test.eu"), 3);
	/* distinct reporting organizations per indicator (HyperLogLog), daily top per TLP */
	cs_keys_src(key, sizeof(key), run.prefix, 60, w, "203.0.113.10");
	CS_TEST_EQ_INT(cmd_int(rc, "PFCOUNT %s", key, NULL), 1);
	cs_keys_top(key, sizeof(key), run.prefix, w, CS_TLP_RED);
	CS_TEST_EQ_INT(cmd_int(rc, "ZSCORE %s %s", key, "203.0.113.10"), 10);
	/* the alert names the participant */
	{
		redisReply *r = redisCommand(rc, "XRANGE %s - + COUNT 1", run.k_alerts[CS_TLP_RED]); /* the bank's */
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1, "alert stream");
		CS_TEST_ASSERT(strstr(r->element[0]->element[1]->element[3]->str,
				      "\"org\":\"de-bank-soc\",\"participant\":{\"name\":\"Example Bank SOC\",\"kind\":\"SOC\","
				      "\"member_state\":\"DE\",\"sector\":\"finance\"}") &&
				       strstr(r->element[0]->element[1]->element[3]->str, "\"tlp\":\"red\""),
			       "%s", r->element[0]->element[1]->element[3]->str);
		freeReplyObject(r);
	}
	/* reports per audience: GREEN sees CIRCL's row only; RED sees all three */
	snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s --tlp green", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), run.prefix);
	CS_TEST_ASSERT((p = popen(cmd, "r")), "popen");
	buf[fread(buf, 1, sizeof(buf) - 1, p)] = '\0';
	pclose(p);
	CS_TEST_ASSERT(strstr(buf, "TLP:GREEN report: 2 rows (13 hits) marked above TLP:GREEN withheld") &&
			       strstr(buf, "c2-0.evil-test.eu") && !strstr(buf, "203.0.113.10") && strstr(buf, "1 rows, 5 hits"),
		       "%s", buf);
	snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s --tlp red | tail -1", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), run.prefix);
	CS_TEST_ASSERT((p = popen(cmd, "r")), "popen");
	buf[fread(buf, 1, sizeof(buf) - 1, p)] = '\0';
	pclose(p);
	CS_TEST_ASSERT(strstr(buf, "3 rows, 18 hits"), "%s", buf);

	/* CIRCL's events become TLP:CLEAR: reload the registry (SIGHUP), then new events */
	CS_TEST_EQ_INT(write_registry(reg, "clear"), 0);
	CS_TEST_EQ_INT(kill(pid, SIGHUP), 0);
	CS_TEST_ASSERT(!cs_svc_wait_log(run.logf, "participant registry", 2, 20000, pid), "registry not reloaded");
	cs_svc_sleep_ms(300); /* the worker picks it up between events */
	CS_TEST_EQ_INT(produce(run.topic, 2, w2 * 1000 + 1000, NULL, "circl", NULL, "c2-0.evil-test.eu"), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, 20, pid, 60000), "lag never reached 0 after the reload");
	cs_keys_dim(dim, sizeof(dim), run.prefix, 60, w2);
	CS_TEST_EQ_INT(cs_svc_hget(rc, dim, "clear|events|org:lu-circl"), 2);
	CS_TEST_EQ_INT(cs_svc_hget(rc, dim, "clear|hits|org:lu-circl"), 2);
	CS_TEST_EQ_INT(cs_svc_hget(rc, dim, "green|events|org:lu-circl"), -1);

	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	redisFree(rc);
	return 0;
}
