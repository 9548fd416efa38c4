/*
 * 0118-situation: situation reports end to end, real broker and Redis.
 *
 * Five participants (CLEAR, GREEN, AMBER, AMBER+STRICT; one of them the hub)
 * and an unregistered sender publish ECS events, this period and the one
 * before; cshield-ingest writes the hour and day roll-ups in its flush. Then
 * cshield-report, for every audience: the JSON edition's headline figures
 * exactly as the workload makes them (both periods), the top indicator, the
 * cells shown and withheld; the roll-ups' TTLs; Markdown defanged; the STIX
 * bundle valid for OASIS stix2-validator; the HTML edition rendered by headless
 * Chromium (a screenshot kept in the build folder): no network request (a
 * proxy that must see no connection), the TLP label in the header and footer
 * of every printed page, charts of non-zero size. Bad input: an empty period,
 * a period in the future, Redis down, a roll-up of the wrong type, a field
 * that is not one.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

static int produce(const char *topic, int n, int64_t ts_s, const char *key, const char *ip, const char *dns,
		   const char *cat, int sev) {
	rd_kafka_t *rk = cs_svc_producer("none");
	char ev[1024], t[40], extra[200] = "";
	time_t s = (time_t)ts_s;
	struct tm tm;
	if (!rk)
		return -1;
	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (cat)
		snprintf(extra, sizeof(extra), ",\"event\":{\"category\":\"%s\",\"severity\":%d}", cat, sev);
	for (int i = 0; i < n; i++) {
		int len = ip ? snprintf(ev, sizeof(ev),
					"{\"@timestamp\":\"%s\",\"source\":{\"ip\":\"10.9.0.%d\"},\"destination\":{\"ip\":\"%s\"}%s}",
					t, i, ip, extra)
			     : snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"dns\":{\"question\":{\"name\":\"%s\"}}%s}", t,
					dns, extra);
		if (cs_svc_produce_key(rk, topic, 0, key, ev, (size_t)len, 0)) {
			cs_svc_producer_close(rk);
			return -1;
		}
	}
	return cs_svc_producer_close(rk);
}

/* Runs cshield-report with args; its output in out, its exit code returned. */
static int report(const cs_svc_run_t *run, const char *args, char *out, size_t size) {
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s %s 2>&1", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), run->prefix, args);
	return cs_test_run(cmd, out, size);
}

/* The edition against docs/situation.schema.json (jsonschema, in deploy/local/pytools.sh's venv). 0 when valid. */
static int schema_check(const char *json, const char *what) {
	const char *py = getenv("CS_PYTOOLS_PYTHON");
	char path[600], cmd[2048], out[8192];
	int rc;
	if (!py || !*py) {
		CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
			       "CS_PYTOOLS_PYTHON unset (deploy/local/pytools.sh)");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/edition.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, json), 0);
	snprintf(cmd, sizeof(cmd),
		 "%s -c 'import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[2])))"
		 ".validate(json.load(open(sys.argv[1])))' %s %s/docs/situation.schema.json 2>&1",
		 py, path, getenv("CS_SOURCE_DIR"));
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "%s: the JSON edition does not follow docs/situation.schema.json: %.4000s", what, out);
	return 0;
}

static json_t *edition(const cs_svc_run_t *run, const char *args) {
	static char out[1 << 20];
	char a[512];
	json_error_t je;
	json_t *j;
	int rc;
	snprintf(a, sizeof(a), "--format json --last 24h %s", args);
	if ((rc = report(run, a, out, sizeof(out)))) {
		fprintf(stderr, "cshield-report %s: exit %d: %.2000s\n", a, rc, out);
		return NULL;
	}
	if (!(j = json_loads(out, 0, &je))) {
		fprintf(stderr, "cshield-report %s: not JSON (%s): %.2000s\n", a, je.text, out);
		return NULL;
	}
	if (schema_check(out, a)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static long long head(json_t *j, const char *fig, const char *which) {
	json_t *v = json_object_get(json_object_get(json_object_get(j, "headline"), fig), which);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static const char *str(json_t *j, const char *k) {
	const char *s = json_string_value(json_object_get(j, k));
	return s ? s : "";
}

/* The expected headline of an edition: events, hits, participants, member states, indicators, unregistered. */
typedef struct {
	const char *args, *tlp;
	long long ev, hits, parts, states, inds, unreg, prev_ev, prev_hits;
} want_t;

static int check_edition(const cs_svc_run_t *run, const want_t *w) {
	json_t *j = edition(run, w->args);
	CS_TEST_ASSERT(j, "edition %s", w->args);
	CS_TEST_EQ_STR(str(j, "tlp"), w->tlp);
	CS_TEST_ASSERT(head(j, "events", "value") == w->ev && head(j, "hits", "value") == w->hits &&
			       head(j, "participants", "value") == w->parts && head(j, "member_states", "value") == w->states &&
			       head(j, "indicators", "value") == w->inds && head(j, "unregistered_events", "value") == w->unreg &&
			       head(j, "events", "previous") == w->prev_ev && head(j, "hits", "previous") == w->prev_hits &&
			       head(j, "rejected", "value") == 1,
		       "%s: events %lld/%lld, hits %lld/%lld, participants %lld, states %lld, indicators %lld, unregistered "
		       "%lld, rejected %lld; expected %lld/%lld, %lld/%lld, %lld, %lld, %lld, %lld, 1",
		       w->args, head(j, "events", "value"), head(j, "events", "previous"), head(j, "hits", "value"),
		       head(j, "hits", "previous"), head(j, "participants", "value"), head(j, "member_states", "value"),
		       head(j, "indicators", "value"), head(j, "unregistered_events", "value"), head(j, "rejected", "value"),
		       w->ev, w->prev_ev, w->hits, w->prev_hits, w->parts, w->states, w->inds, w->unreg);
	json_decref(j);
	return 0;
}

/* A listening socket on loopback (the proxy Chromium must not use); its port in *port. */
static int proxy_listen(int *port) {
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &al))
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	*port = ntohs(a.sin_port);
	return fd;
}

static int proxy_connections(int fd) {
	int n = 0, c;
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		n++;
		close(c);
	}
	return n;
}

static const char *chromium(void) {
	static const char *const c[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"};
	const char *e = getenv("CS_CHROMIUM");
	if (e && *e)
		return e;
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++)
		if (!access(c[i], X_OK))
			return c[i];
	return NULL;
}

/* The HTML edition in a real browser. */
static int check_html(const char *html, const char *label) {
	const char *chr = chromium();
	char cmd[4096], out[1 << 16], udd[600], art[600], pdf[600], probe[600];
	int port, fd, rc;
	if (!chr) {
		CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
			       "no chromium (deploy/install-deps.sh installs Debian's)");
		CS_TEST_SAY("no chromium: the HTML edition is not rendered");
		return 0;
	}
	CS_TEST_ASSERT((fd = proxy_listen(&port)) >= 0, "proxy socket");
	snprintf(udd, sizeof(udd), "%s/chromium", cs_test_tmpdir());
	snprintf(art, sizeof(art), "%s/artifacts", cs_test_bindir());
	mkdir(art, 0755);
	snprintf(art, sizeof(art), "%s/artifacts/situation-report.png", cs_test_bindir());
	snprintf(pdf, sizeof(pdf), "%s/report.pdf", cs_test_tmpdir());
#define CS__CHR "%s --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking " \
		"--user-data-dir=%s --proxy-server=http://127.0.0.1:%d --proxy-bypass-list='<-loopback>' "       \
		"--host-resolver-rules='MAP * ~NOTFOUND' --virtual-time-budget=2000 --enable-logging=stderr --log-level=3"
	/* 1. a screenshot, through a proxy that must see nothing */
	snprintf(cmd, sizeof(cmd), CS__CHR " --window-size=1280,2400 --screenshot=%s file://%s 2>&1", chr, udd, port, art, html);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "chromium exit %d: %.3000s", rc, out);
	{
		struct stat st;
		CS_TEST_ASSERT(!stat(art, &st) && st.st_size > 10000, "no screenshot at %s", art);
		CS_TEST_SAY("screenshot: %s (%lld bytes)", art, (long long)st.st_size);
	}
	/* 2. printed: the label in the header and the footer of every page */
	snprintf(cmd, sizeof(cmd), CS__CHR " --no-pdf-header-footer --print-to-pdf=%s file://%s 2>&1", chr, udd, port, pdf, html);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "chromium --print-to-pdf exit %d: %.3000s", rc, out);
	snprintf(cmd, sizeof(cmd), "pdftotext -layout %s -", pdf);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "pdftotext exit %d", rc);
	{
		int pages = 0;
		for (char *p = out, *ff; p && *p; p = ff ? ff + 1 : NULL) {
			int n = 0;
			ff = strchr(p, '\f');
			if (ff)
				*ff = '\0';
			if (!*p)
				continue;
			for (char *q = strstr(p, label); q; q = strstr(q + 1, label))
				n++;
			pages++;
			CS_TEST_ASSERT(n >= 2, "printed page %d shows %s %d times (header and footer: 2)", pages, label, n);
		}
		CS_TEST_ASSERT(pages >= 2, "%d printed pages", pages);
		CS_TEST_SAY("%d printed pages, each with %s at the top and the bottom", pages, label);
	}
	/* 3. the layout, measured by a script added to a copy (the report's own policy forbids scripts) */
	{
		FILE *in = fopen(html, "r"), *o;
		char line[1 << 16];
		snprintf(probe, sizeof(probe), "%s/probe.html", cs_test_tmpdir());
		CS_TEST_ASSERT(in && (o = fopen(probe, "w")), "probe copy");
		while (fgets(line, sizeof(line), in)) {
			if (strstr(line, "Content-Security-Policy"))
				continue;
			if (strstr(line, "</body>"))
				fputs("<script>var c=document.querySelectorAll('svg.chart,svg.spark'),z=0;"
				      "c.forEach(function(s){var r=s.getBoundingClientRect();if(!(r.width>0&&r.height>0))z++;});"
				      "var h=document.getElementById('tlp-header').getBoundingClientRect(),"
				      "f=document.getElementById('tlp-footer').getBoundingClientRect(),"
				      "st=getComputedStyle(document.getElementById('tlp-header'));"
				      "document.body.setAttribute('data-probe','charts='+c.length+' zero='+z+' header='+"
				      "(h.width>0&&h.height>0&&h.top>=0&&h.bottom<=innerHeight&&st.visibility=='visible'?'visible':'hidden')+"
				      "' footer='+(f.width>0&&f.height>0&&f.bottom<=innerHeight?'visible':'hidden')+"
				      "' text='+document.getElementById('tlp-header').textContent);</script>\n",
				      o);
			fputs(line, o);
		}
		fclose(in);
		fclose(o);
	}
	snprintf(cmd, sizeof(cmd), CS__CHR " --window-size=1280,900 --dump-dom file://%s 2>/dev/null", chr, udd, port, probe);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "chromium --dump-dom exit %d", rc);
	{
		char *p = strstr(out, "data-probe=\""), want[200];
		int charts = 0, zero = -1;
		CS_TEST_ASSERT(p, "no probe result: %.2000s", out);
		CS_TEST_ASSERT(sscanf(p, "data-probe=\"charts=%d zero=%d", &charts, &zero) == 2, "%.200s", p);
		CS_TEST_ASSERT(charts >= 3 && zero == 0, "%d charts, %d of zero size", charts, zero);
		snprintf(want, sizeof(want), "header=visible footer=visible text=%s\"", label);
		CS_TEST_ASSERT(strstr(p, want), "the label: %.200s", p);
		CS_TEST_SAY("%d charts, none of zero size; %s visible in the header and the footer", charts, label);
	}
#undef CS__CHR
	rc = proxy_connections(fd);
	close(fd);
	CS_TEST_ASSERT(rc == 0, "the page made %d network connections", rc);
	return 0;
}

int cs_test_0118(void) {
	cs_svc_run_t run;
	char reg[600], extra[1024], out[1 << 16], path[600], args[1024], key[256];
	int rc_check;
	redisContext *rc;
	int64_t now = (int64_t)time(NULL), cur, prev;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	snprintf(reg, sizeof(reg), "%s/participants.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(
			       reg, "{\"participants\": [\n"
				    " {\"id\": \"lu-circl\", \"name\": \"CIRCL\", \"kind\": \"CSIRT\", \"member_state\": \"LU\","
				    "  \"sector\": \"government\", \"tlp\": \"clear\", \"keys\": [\"circl\"]},\n"
				    " {\"id\": \"fr-energy-soc\", \"name\": \"Energy SOC\", \"kind\": \"SOC\", \"member_state\": \"FR\","
				    "  \"sector\": \"energy\", \"tlp\": \"green\", \"keys\": [\"fren\"]},\n"
				    " {\"id\": \"de-bank-soc\", \"name\": \"Bank SOC\", \"kind\": \"SOC\", \"member_state\": \"DE\","
				    "  \"sector\": \"finance\", \"tlp\": \"amber\", \"keys\": [\"bank\"]},\n"
				    " {\"id\": \"mt-hospital\", \"name\": \"Hospital\", \"kind\": \"private\", \"member_state\": \"MT\","
				    "  \"sector\": \"health\", \"tlp\": \"amber+strict\", \"keys\": [\"mthosp\"]},\n"
				    " {\"id\": \"hub\", \"name\": \"Cyber Hub\", \"kind\": \"CERT\", \"member_state\": \"BE\","
				    "  \"sector\": \"government\", \"tlp\": \"amber\", \"keys\": [\"hubkey\"]}\n"
				    "]}\n"),
		       0);
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nworkers=1\nindicators.tlp=clear\nparticipants.file=%s\n"
		 "participants.unregistered.tlp=amber\nindicators.reload.interval.ms=0\n"
		 "aggregate.late.grace.s=172800\n", /* the events of 30 hours ago count in their own hour */
		 reg);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "situation", extra), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);

	/* this period (an hour ago) and the one before (30 hours ago) */
	cur = now - 3600;
	prev = now - 30 * 3600;
	CS_TEST_EQ_INT(produce(run.topic, 4, cur, "circl", "203.0.113.10", NULL, "malware", 3), 0);
	CS_TEST_EQ_INT(produce(run.topic, 3, cur, "circl", "192.0.2.99", NULL, NULL, 0), 0); /* no hit */
	CS_TEST_EQ_INT(produce(run.topic, 3, cur, "fren", "203.0.113.10", NULL, "malware", 2), 0);
	CS_TEST_EQ_INT(produce(run.topic, 6, cur, "bank", "203.0.113.10", NULL, "malware", 3), 0);
	CS_TEST_EQ_INT(produce(run.topic, 2, cur, "mthosp", NULL, "c2-1.evil-test.eu", NULL, 0), 0);
	CS_TEST_EQ_INT(produce(run.topic, 2, cur, NULL, NULL, "c2-0.evil-test.eu", NULL, 0), 0); /* unregistered */
	CS_TEST_EQ_INT(produce(run.topic, 2, prev, "circl", "203.0.113.10", NULL, "malware", 3), 0);
	{
		rd_kafka_t *rk = cs_svc_producer("none");
		CS_TEST_ASSERT(rk && !cs_svc_produce_key(rk, run.topic, 0, "circl", "{\"@timestamp\":", 14, 0) &&
				       !cs_svc_producer_close(rk),
			       "produce a broken event");
	}
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, 23, pid, 60000), "lag never reached 0");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);

	/* the roll-ups and their own TTLs */
	{
		redisReply *r;
		cs_keys_roll(key, sizeof(key), run.prefix, CS_KEYS_TIER_HOUR, cur / 3600 * 3600);
		r = redisCommand(rc, "TTL %s", key);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_INTEGER && r->integer > 7776000 - 120 && r->integer <= 7776000,
			       "TTL %s = %lld", key, r ? r->integer : -9);
		freeReplyObject(r);
		r = redisCommand(rc, "HGET %s %s", key, "amber|clear|de-bank-soc|i|203.0.113.10");
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "6"), "bank's hits in %s", key);
		freeReplyObject(r);
		cs_keys_roll(key, sizeof(key), run.prefix, CS_KEYS_TIER_DAY, cur / 86400 * 86400);
		r = redisCommand(rc, "TTL %s", key);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_INTEGER && r->integer > 34560000 - 120 && r->integer <= 34560000,
			       "TTL %s = %lld", key, r ? r->integer : -9);
		freeReplyObject(r);
		cs_keys_part(key, sizeof(key), run.prefix, "mt-hospital");
		r = redisCommand(rc, "HGET %s %s", key, CS_KEYS_PART_TLP);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "amber+strict"), "%s tlp", key);
		freeReplyObject(r);
	}

	/* every audience: figures from what it may see (8 = CIRCL's 4 + 3 + the broken one) */
	{
		const want_t w[] = {
			{"--tlp clear", "clear", 8, 4, 1, 1, 1, 0, 2, 2},
			{"--tlp green", "green", 11, 7, 2, 2, 1, 0, 2, 2},
			{"--tlp amber", "amber", 19, 15, 3, 3, 2, 2, 2, 2},
			{"--tlp amber+strict --org de-bank-soc", "amber", 19, 15, 3, 3, 2, 2, 2, 2},
			{"--tlp amber+strict --org mt-hospital", "amber+strict", 21, 17, 4, 4, 3, 2, 2, 2},
			{"--tlp red --org hub", "amber+strict", 21, 17, 4, 4, 3, 2, 2, 2},
		};
		for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++)
			if (check_edition(&run, &w[i]))
				return 1;
	}
	/* GREEN, k = 2: the malware category (CIRCL, Energy SOC) shown, each member state withheld */
	{
		json_t *j = edition(&run, "--tlp green --k 2"), *bd, *top;
		CS_TEST_ASSERT(j, "green edition");
		bd = json_object_get(json_object_get(j, "breakdowns"), "category");
		CS_TEST_EQ_INT(json_array_size(json_object_get(bd, "cells")), 1);
		CS_TEST_EQ_STR(str(json_array_get(json_object_get(bd, "cells"), 0), "key"), "malware");
		CS_TEST_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(bd, "cells"), 0), "hits")), 7);
		bd = json_object_get(json_object_get(j, "breakdowns"), "member_state");
		CS_TEST_EQ_INT(json_array_size(json_object_get(bd, "cells")), 0);
		CS_TEST_EQ_INT(json_integer_value(json_object_get(bd, "withheld_cells")), 2);
		CS_TEST_EQ_INT(json_integer_value(json_object_get(bd, "total_events")), 0);
		top = json_array_get(json_object_get(j, "top_indicators"), 0);
		CS_TEST_EQ_STR(str(top, "value"), "203.0.113.10");
		CS_TEST_EQ_INT(json_integer_value(json_object_get(top, "hits")), 7);
		CS_TEST_EQ_INT(json_integer_value(json_object_get(top, "participants")), 2);
		CS_TEST_ASSERT(json_is_true(json_object_get(json_object_get(j, "participants"), "withheld")), "inventory in GREEN");
		{
			char *all = json_dumps(j, 0);
			int leak = !all || strstr(all, "mt-hospital") || strstr(all, "\"MT\"");
			free(all);
			CS_TEST_ASSERT(!leak, "the hospital shows in a GREEN edition");
		}
		json_decref(j);
	}
	/* AMBER: the inventory, the hospital (AMBER+STRICT) not in it, nobody silent */
	{
		json_t *j = edition(&run, "--tlp amber"), *rows;
		CS_TEST_ASSERT(j, "amber edition");
		{
			json_t *top = json_object_get(j, "top_indicators"), *a = json_array_get(top, 0), *b = json_array_get(top, 1);
			char *ms = json_dumps(json_object_get(a, "member_states"), JSON_COMPACT);
			CS_TEST_EQ_INT(json_array_size(top), 2);
			CS_TEST_ASSERT(!strcmp(str(a, "value"), "203.0.113.10") && json_integer_value(json_object_get(a, "hits")) == 13 &&
					       json_integer_value(json_object_get(a, "participants")) == 3 && !strcmp(ms, "[\"DE\",\"FR\",\"LU\"]"),
				       "top 1: %s %s", str(a, "value"), ms);
			free(ms);
			/* the unregistered sender: a participant, in no known member state */
			CS_TEST_ASSERT(!strcmp(str(b, "value"), "c2-0.evil-test.eu") && json_integer_value(json_object_get(b, "hits")) == 2 &&
					       json_integer_value(json_object_get(b, "participants")) == 1 &&
					       json_array_size(json_object_get(b, "member_states")) == 0,
				       "top 2: %s", str(b, "value"));
		}
		rows = json_object_get(json_object_get(j, "participants"), "rows");
		CS_TEST_EQ_INT(json_array_size(rows), 4); /* CIRCL, Energy SOC, Bank SOC, the hub (which sent nothing) */
		{
			int silent_hub = 0;
			for (size_t i = 0; i < json_array_size(rows); i++)
				silent_hub |= !strcmp(str(json_array_get(rows, i), "id"), "hub") &&
					      json_is_true(json_object_get(json_array_get(rows, i), "silent")) &&
					      json_is_null(json_object_get(json_array_get(rows, i), "last_event"));
			CS_TEST_ASSERT(silent_hub, "the hub, which never sent an event, is not flagged silent");
		}
		for (size_t i = 0; i < json_array_size(rows); i++) {
			json_t *r = json_array_get(rows, i);
			CS_TEST_ASSERT(strcmp(str(r, "id"), "mt-hospital"), "the hospital in an AMBER inventory");
			if (!strcmp(str(r, "id"), "de-bank-soc"))
				CS_TEST_ASSERT(json_integer_value(json_object_get(r, "events")) == 6 &&
						       json_is_false(json_object_get(r, "silent")) && !strcmp(
							       json_string_value(json_array_get(json_object_get(r, "formats"), 0)), "ecs"),
					       "bank row");
		}
		json_decref(j);
	}

	/* Markdown: defanged */
	CS_TEST_EQ_INT(report(&run, "--format md --last 24h --tlp amber", out, sizeof(out)), 0);
	CS_TEST_ASSERT(strstr(out, "**TLP:AMBER**") && strstr(out, "c2-0[.]evil-test[.]eu") && strstr(out, "203[.]0[.]113[.]10") &&
			       !strstr(out, "evil-test.eu"),
		       "%.3000s", out);

	/* STIX: valid for OASIS's validator */
	snprintf(path, sizeof(path), "%s/report.stix.json", cs_test_tmpdir());
	snprintf(args, sizeof(args), "--format stix --last 24h --tlp amber -o %s", path);
	CS_TEST_EQ_INT(report(&run, args, out, sizeof(out)), 0);
	{
		const char *v = getenv("CS_STIX2_VALIDATOR");
		json_error_t je;
		json_t *b = json_load_file(path, 0, &je), *objs;
		size_t sightings = 0;
		CS_TEST_ASSERT(b, "%s: %s", path, je.text);
		objs = json_object_get(b, "objects");
		for (size_t i = 0; i < json_array_size(objs); i++)
			if (!strcmp(str(json_array_get(objs, i), "type"), "sighting")) {
				sightings++;
				if (strstr(str(json_array_get(objs, i), "sighting_of_ref"), "indicator--"))
					CS_TEST_ASSERT(json_integer_value(json_object_get(json_array_get(objs, i), "count")) > 0, "count");
			}
		CS_TEST_EQ_INT(sightings, 2); /* 203.0.113.10 (13 hits), c2-0.evil-test.eu (2) */
		json_decref(b);
		if (v && *v) {
			char cmd[1200];
			int rc2;
			snprintf(cmd, sizeof(cmd), "%s --strict-types %s", v, path);
			rc2 = cs_test_run(cmd, out, sizeof(out));
			CS_TEST_ASSERT(rc2 == 0 && strstr(out, "[+] STIX JSON: Valid"), "stix2_validator exit %d: %.4000s", rc2,
				       out);
			CS_TEST_SAY("stix2-validator: the bundle is valid");
		} else {
			CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
				       "CS_STIX2_VALIDATOR unset (deploy/local/pytools.sh)");
			CS_TEST_SAY("CS_STIX2_VALIDATOR unset: the bundle is not validated");
		}
	}

	/* HTML: in a real browser */
	snprintf(path, sizeof(path), "%s/report.html", cs_test_tmpdir());
	snprintf(args, sizeof(args), "--format html --last 7d --tlp amber --title 'Situation <test> & \"report\"' -o %s", path);
	CS_TEST_EQ_INT(report(&run, args, out, sizeof(out)), 0);
	CS_TEST_ASSERT(strstr(out, "wrote ") && strstr(out, "labelled amber"), "%s", out);
	if (check_html(path, "TLP:AMBER"))
		return 1;

	/* bad input: an empty period and a future one are empty valid reports; errors name the key */
	{
		json_t *j;
		CS_TEST_EQ_INT(report(&run, "--format json --from 2020-01-01 --to 2020-01-02", out, sizeof(out)), 0);
		CS_TEST_ASSERT((j = json_loads(out, 0, NULL)) && head(j, "events", "value") == 0 && !strcmp(str(j, "tlp"), "clear"),
			       "%.500s", out);
		json_decref(j);
		CS_TEST_EQ_INT(report(&run, "--format html --from 2099-01-01 --to 2099-01-31", out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "</html>"), "future period");
		CS_TEST_EQ_INT(report(&run, "--format json --tlp red", out, sizeof(out)), 2);
		CS_TEST_ASSERT(strstr(out, "--org"), "%s", out);
	}
	{
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis 127.0.0.1:1 --format json 2>&1", cs_test_bindir());
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 1);
		CS_TEST_ASSERT(strstr(out, "redis 127.0.0.1:1"), "%s", out);
	}
	{
		redisReply *r;
		cs_keys_roll(key, sizeof(key), run.prefix, CS_KEYS_TIER_HOUR, cur / 3600 * 3600);
		r = redisCommand(rc, "HSET %s %s %s", key, "not-a-roll-up-field", "1");
		freeReplyObject(r);
		CS_TEST_EQ_INT(report(&run, "--format json", out, sizeof(out)), 1);
		CS_TEST_ASSERT(strstr(out, key) && strstr(out, "not-a-roll-up-field"), "%s", out);
		r = redisCommand(rc, "HDEL %s %s", key, "not-a-roll-up-field");
		freeReplyObject(r);
		r = redisCommand(rc, "HSET %s %s %s", key, "green|-|lu-circl|ev", "many");
		freeReplyObject(r);
		CS_TEST_EQ_INT(report(&run, "--format json", out, sizeof(out)), 1);
		CS_TEST_ASSERT(strstr(out, key) && strstr(out, "not a count"), "%s", out);
		r = redisCommand(rc, "DEL %s", key);
		freeReplyObject(r);
		r = redisCommand(rc, "SET %s %s", key, "garbage");
		freeReplyObject(r);
		CS_TEST_EQ_INT(report(&run, "--format json", out, sizeof(out)), 1);
		CS_TEST_ASSERT(strstr(out, key) && strstr(out, "WRONGTYPE"), "%s", out);
	}
	redisFree(rc);
	return 0;
}
