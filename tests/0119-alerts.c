/*
 * 0119-alerts: cshield-alerts, analyst teams following the alert stream on
 * the real broker and Redis.
 *
 * One team reads every alert in three goes: a reader that stops after 40
 * (it had 100 delivered: the other 60 stay pending for it), a reader of the
 * team that "crashed" holding 30 entries (read by the test and never
 * acknowledged), and the first reader restarted, which gets its own 60 back,
 * reclaims the crashed reader's 30 and reads the rest. Every alert is written
 * exactly once across the three outputs, none is missing, each is
 * acknowledged once. A second team filters (type, audience TLP, confidence):
 * exactly the alerts that match. Then a team that falls far behind a stream
 * trimmed to alerts.stream.maxlen: ingest's counts stay exact, the team gets
 * what is left and is told exactly how many it missed.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

typedef struct {
	char **ids;
	size_t n, cap;
} ids_t;

static void ids_add(ids_t *s, const char *id) {
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ids = realloc(s->ids, s->cap * sizeof(*s->ids));
	}
	s->ids[s->n++] = strdup(id);
}

static int cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ids_free(ids_t *s) {
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

/* Runs cshield-alerts; each JSON line's "id" into ids (when not NULL); its standard error in err. Returns the exit code. */
static int alerts(const cs_svc_run_t *run, const char *args, ids_t *ids, long *lines, char *err, size_t errsize) {
	char cmd[2048], errf[600];
	static char out[1 << 22];
	int rc;
	FILE *fp;
	snprintf(errf, sizeof(errf), "%s/alerts.err", cs_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "%s/alerts/cshield-alerts --redis %s --prefix %s %s 2>%s", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), run->prefix, args, errf);
	rc = cs_test_run(cmd, out, sizeof(out));
	*lines = 0;
	for (char *l = out, *nl; *l; l = nl + 1) {
		json_t *j;
		if (!(nl = strchr(l, '\n')))
			break;
		*nl = '\0';
		(*lines)++;
		if ((j = json_loads(l, 0, NULL))) {
			if (ids)
				ids_add(ids, json_string_value(json_object_get(j, "id")));
			json_decref(j);
		}
	}
	err[0] = '\0';
	if ((fp = fopen(errf, "r"))) {
		err[fread(err, 1, errsize - 1, fp)] = '\0';
		fclose(fp);
	}
	return rc;
}

/* Every alert of the stream: its id, and whether it passes --type domain --tlp amber --min-confidence 50. */
static long stream_ids(redisContext *rc, const char *key, ids_t *ids, long *match) {
	char last[64] = "-";
	*match = 0;
	for (;;) {
		redisReply *r = redisCommand(rc, "XRANGE %s %s + COUNT 1000", key, last);
		size_t n = r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
		for (size_t i = 0; i < n; i++) {
			redisReply *e = r->element[i];
			json_t *j = json_loads(e->element[1]->element[3]->str, 0, NULL), *ind = json_object_get(j, "indicator");
			const char *t = json_string_value(json_object_get(j, "tlp"));
			ids_add(ids, json_string_value(json_object_get(j, "id")));
			if (!strcmp(json_string_value(json_object_get(ind, "type")), "domain") && t &&
			    cs_tlp_parse(t, strlen(t)) <= CS_TLP_AMBER && json_is_integer(json_object_get(ind, "confidence")) &&
			    json_integer_value(json_object_get(ind, "confidence")) >= 50)
				(*match)++;
			json_decref(j);
			snprintf(last, sizeof(last), "(%s", e->element[0]->str);
		}
		if (r)
			freeReplyObject(r);
		if (n < 1000)
			break;
	}
	return (long)ids->n;
}

typedef struct {
	rd_kafka_t *rk;
	const char *topic;
	int n;
} dup_ctx_t;

/* Produces a message of the alerts topic again, same key and value: what a replay after an ingest crash does. */
static void reproduce(void *opaque, const rd_kafka_message_t *m) {
	dup_ctx_t *d = opaque;
	char key[1024];
	snprintf(key, sizeof(key), "%.*s", (int)m->key_len, (const char *)m->key);
	if (!cs_svc_produce_key(d->rk, d->topic, 0, key, m->payload, m->len, 0))
		d->n++;
}

/* The number before `what` in cshield-alerts' closing line ("..., 40 acknowledged, ..."), or -1. */
static long long summary(const char *err, const char *what) {
	const char *p = strstr(err, what);
	if (!p || p - err < 2 || p[-1] != ' ')
		return -1;
	p--;
	while (p > err && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return atoll(p);
}

int cs_test_0119(void) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0};
	char err[8192], ind[600], atopic[200];
	ids_t all = {0}, got = {0};
	long malformed = 0, lines, match;
	long long acked = 0;
	int rc_check;
	redisContext *rc;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	/* indicators with a confidence, some of them domains */
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "alerts",
				       "flush.interval.ms=100\nworkers=1\nindicators.tlp=green\nalerts.topic={topic}-alerts\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	/* the workload's indicators as a CSV with a confidence each (domains 0, 10, ... 90; IPs 90; the URL none) */
	{
		char csv[4096], conf[8192], *at;
		size_t o = (size_t)snprintf(csv, sizeof(csv), "indicator,confidence\n");
		FILE *fp;
		for (int k = 0; k < 10; k++)
			o += (size_t)snprintf(csv + o, sizeof(csv) - o, "c2-%d.evil-test.eu,%d\n203.0.113.%d,90\n", k, k * 10, 10 + k);
		snprintf(csv + o, sizeof(csv) - o, "http://dl.bad-test.org/payload.bin,\n");
		snprintf(ind, sizeof(ind), "%s/alerts-indicators.csv", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(ind, csv), 0);
		CS_TEST_ASSERT((fp = fopen(run.conf, "r")), "conf");
		conf[fread(conf, 1, sizeof(conf) - 1, fp)] = '\0';
		fclose(fp);
		CS_TEST_ASSERT((at = strstr(conf, run.ind)), "indicators.file in the conf");
		{
			char rest[8192];
			snprintf(rest, sizeof(rest), "%s", at + strlen(run.ind));
			snprintf(at, sizeof(conf) - (size_t)(at - conf), "%s%s", ind, rest);
		}
		CS_TEST_EQ_INT(cs_test_write_file(run.conf, conf), 0);
	}
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 2), 0);
	snprintf(atopic, sizeof(atopic), "%s-alerts", run.topic);
	CS_TEST_EQ_INT(cs_svc_topic_create(atopic, 1), 0);
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, 2, 3000, 11, (int64_t)time(NULL) / 60 * 60 - 3600, &exp, &malformed), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 2, 3000, pid, 60000), "lag never reached 0");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, -1), "counts");
	/* indicators.tlp=green, no registry: every alert is in the GREEN stream */
	CS_TEST_EQ_INT(cs_svc_alerts_len(rc, &run), cs_svc_counts_hits(&exp));
	CS_TEST_EQ_INT(stream_ids(rc, run.k_alerts[CS_TLP_GREEN], &all, &match), cs_svc_counts_hits(&exp));
	CS_TEST_ASSERT(all.n > 300, "%zu alerts: too few for the test", all.n);
	CS_TEST_ASSERT(match > 20 && match < (long)all.n / 2, "%ld of %zu alerts match the filter: not a test of it", match, all.n);

	/* team 1, reader a: stops after 40 written (100 were delivered to it) */
	CS_TEST_EQ_INT(alerts(&run, "--group t1 --consumer a --from-start --max 40", &got, &lines, err, sizeof(err)), 0);
	CS_TEST_EQ_INT(lines, 40);
	acked += summary(err, "acknowledged");
	CS_TEST_EQ_INT(summary(err, "acknowledged"), 40);
	/* reader "crashed": 30 entries delivered to it, never acknowledged */
	{
		redisReply *r = redisCommand(rc, "XREADGROUP GROUP t1 crashed COUNT 30 STREAMS %s >", run.k_alerts[CS_TLP_GREEN]);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->element[1]->elements == 30, "crashed reader");
		freeReplyObject(r);
	}
	cs_test_sleep_ms(300);
	/* reader a again: its own 60, the crashed reader's 30 (idle > 200 ms), the rest */
	CS_TEST_EQ_INT(alerts(&run, "--group t1 --consumer a --reclaim-after 200 --exit-idle 1", &got, &lines, err, sizeof(err)),
		       0);
	acked += summary(err, "acknowledged");
	CS_TEST_EQ_INT(summary(err, "reclaimed"), 30);
	CS_TEST_EQ_INT(got.n, all.n);
	qsort(got.ids, got.n, sizeof(*got.ids), cmp);
	qsort(all.ids, all.n, sizeof(*all.ids), cmp);
	for (size_t i = 0; i < all.n; i++)
		CS_TEST_ASSERT(!strcmp(got.ids[i], all.ids[i]), "alert %zu: got %s, the stream has %s", i, got.ids[i], all.ids[i]);
	CS_TEST_EQ_INT(acked, (long long)all.n); /* each acknowledged once */
	{
		redisReply *r = redisCommand(rc, "XPENDING %s t1", run.k_alerts[CS_TLP_GREEN]);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 0, "entries left pending");
		freeReplyObject(r);
	}
	/* and nothing more: a restart reads nothing again */
	CS_TEST_EQ_INT(alerts(&run, "--group t1 --consumer a --exit-idle 1", NULL, &lines, err, sizeof(err)), 0);
	CS_TEST_EQ_INT(lines, 0);

	/* team 2: filters */
	CS_TEST_EQ_INT(alerts(&run, "--group t2 --from-start --type domain --tlp amber --min-confidence 50 --exit-idle 1", NULL,
			      &lines, err, sizeof(err)),
		       0);
	CS_TEST_EQ_INT(lines, match);
	CS_TEST_EQ_INT(summary(err, "filtered out"), (long long)all.n - match);
	/* the live view: the newest alerts, the top indicators, the rate */
	{
		static char view[1 << 16];
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "%s/alerts/cshield-alerts --redis %s --prefix %s --group tv --from-start --view "
					   "--exit-idle 1 2>/dev/null | tail -c 4000",
			 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run.prefix);
		CS_TEST_EQ_INT(cs_test_run(cmd, view, sizeof(view)), 0);
		snprintf(ind, sizeof(ind), "team tv, %zu alerts", all.n);
		CS_TEST_ASSERT(strstr(view, ind) && strstr(view, "newest alerts") && strstr(view, "top indicators") &&
				       strstr(view, "evil-test.eu"),
			       "view: %s", view);
	}
	CS_TEST_EQ_INT(alerts(&run, "--group t3 --from-start --tlp clear --exit-idle 1", NULL, &lines, err, sizeof(err)), 0);
	CS_TEST_EQ_INT(lines, 0); /* indicators.tlp=green: none is CLEAR */
	/* Redis itself refuses another audience's stream: an ACL user for a GREEN team */
	{
		char user[64], pwf[600], args[900];
		const char *pw = "s3cret-green-pw";
		redisReply *r;
		redisContext *rg;
		snprintf(user, sizeof(user), "team-green-%d", (int)getpid());
		r = redisCommand(rc,
				 "ACL SETUSER %s reset on >%s ~%s ~%s resetchannels -@all +xreadgroup +xack +xautoclaim +xinfo "
				 "+xgroup +eval +exists +ping",
				 user, pw, run.k_alerts[CS_TLP_CLEAR], run.k_alerts[CS_TLP_GREEN]);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STATUS, "ACL SETUSER: %s", r && r->str ? r->str : "?");
		freeReplyObject(r);
		snprintf(pwf, sizeof(pwf), "%s/green.pw", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(pwf, "s3cret-green-pw\n"), 0);
		snprintf(args, sizeof(args), "--group tg --from-start --user %s --password-file %s --tlp green --exit-idle 1", user, pwf);
		CS_TEST_EQ_INT(alerts(&run, args, NULL, &lines, err, sizeof(err)), 0);
		CS_TEST_EQ_INT(lines, (long)all.n); /* every alert here is GREEN */
		snprintf(args, sizeof(args), "--group tg2 --from-start --user %s --password-file %s --tlp amber --exit-idle 1", user, pwf);
		CS_TEST_EQ_INT(alerts(&run, args, NULL, &lines, err, sizeof(err)), 1);
		CS_TEST_ASSERT(strstr(err, "NOPERM") && !strstr(err, pw), "an AMBER read as the GREEN team: %s", err);
		/* and directly: the AMBER stream is not the GREEN team's to read */
		rg = redisConnect("127.0.0.1", atoi(strrchr(getenv("CS_REDIS_ADDR"), ':') + 1));
		CS_TEST_ASSERT(rg && !rg->err, "connect");
		r = redisCommand(rg, "AUTH %s %s", user, pw);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STATUS, "AUTH");
		freeReplyObject(r);
		r = redisCommand(rg, "XINFO STREAM %s", run.k_alerts[CS_TLP_AMBER]);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "NOPERM"), "the GREEN team read the AMBER stream");
		freeReplyObject(r);
		redisFree(rg);
		r = redisCommand(rc, "ACL DELUSER %s", user);
		freeReplyObject(r);
	}
	CS_TEST_EQ_INT(alerts(&run, "--group t4 --min-confidence 101", NULL, &lines, err, sizeof(err)), 2);
	CS_TEST_EQ_INT(alerts(&run, "--tlp amber", NULL, &lines, err, sizeof(err)), 2);
	CS_TEST_ASSERT(strstr(err, "--group"), "%s", err);
	/* from the alerts topic: a replay's repeats (the first 25 alerts produced again) written once */
	{
		rd_kafka_t *rk = cs_svc_producer("none");
		dup_ctx_t d = {rk, atopic, 0};
		char args[600];
		CS_TEST_ASSERT(rk, "producer");
		CS_TEST_EQ_INT(cs_svc_consume(atopic, 25, 20000, reproduce, &d), 25);
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
		CS_TEST_EQ_INT(d.n, 25);
		snprintf(args, sizeof(args), "--topic %s --brokers %s --group k1 --from-start --exit-idle 4", atopic,
			 cs_svc_kafka());
		CS_TEST_EQ_INT(alerts(&run, args, NULL, &lines, err, sizeof(err)), 0);
		CS_TEST_EQ_INT(lines, (long)all.n);
		CS_TEST_EQ_INT(summary(err, "repeated ids"), 25);
		/* committed: the team's next reader starts after them */
		CS_TEST_EQ_INT(alerts(&run, args, NULL, &lines, err, sizeof(err)), 0);
		CS_TEST_EQ_INT(lines, 0);
	}
	ids_free(&all);
	ids_free(&got);
	cs_svc_counts_free(&exp);

	/* a team far behind a stream trimmed to 100 entries: told what it missed; ingest unaffected */
	{
		cs_svc_run_t run2;
		cs_svc_counts_t exp2 = {0};
		long long added = -1, len = -1;
		redisReply *r;
		CS_TEST_EQ_INT(cs_svc_run_init(&run2, "alerts-slow",
					       "flush.interval.ms=100\nworkers=1\nindicators.tlp=green\nalerts.stream.maxlen=100\n"),
			       0);
		CS_TEST_EQ_INT(cs_svc_topic_create(run2.topic, 1), 0);
		/* the team exists before any alert: it reads nothing yet */
		CS_TEST_EQ_INT(alerts(&run2, "--group slow --exit-idle 1", NULL, &lines, err, sizeof(err)), 0);
		CS_TEST_EQ_INT(lines, 0);
		CS_TEST_EQ_INT(cs_svc_work_produce(run2.topic, 1, 3000, 12, (int64_t)time(NULL) / 60 * 60 - 3600, &exp2, &malformed), 0);
		CS_TEST_ASSERT((pid = cs_svc_ingest_start(run2.conf, run2.logf)) > 0, "spawn");
		CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run2, 1, 3000, pid, 60000), "lag never reached 0");
		kill(pid, SIGTERM);
		CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
		CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run2, &exp2, -1), "counts with a trimmed stream");
		r = redisCommand(rc, "XINFO STREAM %s", run2.k_alerts[CS_TLP_GREEN]);
		for (size_t k = 0; r && r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2) {
			if (!strcmp(r->element[k]->str, "entries-added"))
				added = r->element[k + 1]->integer;
			if (!strcmp(r->element[k]->str, "length"))
				len = r->element[k + 1]->integer;
		}
		if (r)
			freeReplyObject(r);
		CS_TEST_EQ_INT(added, cs_svc_counts_hits(&exp2));
		CS_TEST_ASSERT(len >= 100 && len < added, "stream length %lld of %lld", len, added);
		CS_TEST_EQ_INT(alerts(&run2, "--group slow --exit-idle 1", NULL, &lines, err, sizeof(err)), 0);
		CS_TEST_EQ_INT(lines, len);
		{
			char want[200];
			snprintf(want, sizeof(want), "MISSED %lld alerts", added - len);
			CS_TEST_ASSERT(strstr(err, want), "expected \"%s\": %s", want, err);
		}
		cs_svc_counts_free(&exp2);
	}
	redisFree(rc);
	return 0;
}
