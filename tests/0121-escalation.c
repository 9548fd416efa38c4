/*
 * 0121-escalation: cross-border and multi-organization escalations, decided
 * in the flush, on the real broker and Redis. Participants in DE, FR, LU, NL
 * and one without a member state; indicators from a STIX bundle (one expired,
 * one revoked, one warning-listed). Checks, against escalations the test
 * derives by hand from the rule:
 *   - thresholds at their edges: 2 participants of one member state (none),
 *     a third (multi-organization); 2 member states (cross-border); a
 *     participant without a member state counts as a participant only;
 *   - the sliding period's edge: hits a period less one window apart escalate,
 *     a period apart do not;
 *   - quiet period and re-raise: no raise for a third participant; a stricter
 *     participant raises at its level only; the participant count doubled;
 *     the quiet period over while the rule holds;
 *   - TLP: RED data escalates at RED only, with names; GREEN without names;
 *   - warning-listed, revoked and expired indicators never escalate;
 *   - deterministic ids (the documented derivation);
 *   - kill -9 while escalating flushes run (and the relay relays): after the
 *     restart each expected escalation is in its stream once, and in the
 *     escalations topic once, keyed by its id.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cs_test_svc.h"
#include "cs_keys.h"
#include "cs_sha1.h"

#define NK 40 /* indicators escalated around the kill */

static const char *const marking_clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

static int write_registry(const char *path) {
	static const char *reg =
		"{\"participants\": [\n"
		" {\"id\": \"de-1\", \"name\": \"DE One\", \"kind\": \"SOC\", \"member_state\": \"DE\", \"sector\": \"finance\", \"tlp\": \"green\"},\n"
		" {\"id\": \"de-2\", \"name\": \"DE Two\", \"kind\": \"SOC\", \"member_state\": \"DE\", \"sector\": \"energy\", \"tlp\": \"green\"},\n"
		" {\"id\": \"de-3\", \"name\": \"DE Three\", \"kind\": \"CSIRT\", \"member_state\": \"DE\", \"sector\": \"health\", \"tlp\": \"green\"},\n"
		" {\"id\": \"fr-1\", \"name\": \"FR One\", \"kind\": \"CSIRT\", \"member_state\": \"FR\", \"sector\": \"energy\", \"tlp\": \"green\"},\n"
		" {\"id\": \"lu-1\", \"name\": \"LU One\", \"kind\": \"CERT\", \"member_state\": \"LU\", \"sector\": \"government\", \"tlp\": \"amber\"},\n"
		" {\"id\": \"nl-1\", \"name\": \"NL One\", \"kind\": \"private\", \"member_state\": \"NL\", \"sector\": \"telecom\", \"tlp\": \"red\"},\n"
		" {\"id\": \"xx-1\", \"name\": \"Nowhere\", \"kind\": \"private\", \"sector\": \"retail\", \"tlp\": \"green\"}\n"
		"]}\n";
	return cs_test_write_file(path, reg);
}

/* A STIX 2.1 bundle: one indicator per domain, TLP:CLEAR, CERT-EU, confidence 80. */
static int write_indicators(const char *path) {
	FILE *fp = fopen(path, "w");
	int n = 0;
	static const char *const plain[] = {"a", "b", "c", "d", "e", "h", "i"};
	if (!fp)
		return -1;
	fprintf(fp, "{\"type\":\"bundle\",\"id\":\"bundle--6f2b0e4c-1111-4d2c-9c55-000000000001\",\"objects\":[\n"
		    "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--6f2b0e4c-2222-4d2c-9c55-000000000001\","
		    "\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"name\":\"CERT-EU\","
		    "\"identity_class\":\"organization\"}");
#define IND(value, extra)                                                                                              \
	fprintf(fp,                                                                                                    \
		",\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--6f2b0e4c-3333-4d2c-9c55-%012d\","     \
		"\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-01-01T00:00:00Z\",\"pattern_type\":\"stix\","        \
		"\"pattern\":\"[domain-name:value = '%s']\",\"valid_from\":\"2020-01-01T00:00:00Z\",\"confidence\":80,"       \
		"\"indicator_types\":[\"malicious-activity\"],\"labels\":[\"campaign-x\"],"                                   \
		"\"created_by_ref\":\"identity--6f2b0e4c-2222-4d2c-9c55-000000000001\",\"object_marking_refs\":[\"%s\"]%s}", \
		++n, value, marking_clear, extra)
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		char v[64];
		snprintf(v, sizeof(v), "%s.esc-test.eu", plain[i]);
		IND(v, "");
	}
	IND("f.esc-test.eu", ",\"valid_until\":\"2021-01-01T00:00:00Z\""); /* expired */
	IND("g.esc-test.eu", ",\"revoked\":true");
	for (int k = 0; k < NK; k++) {
		char v[64];
		snprintf(v, sizeof(v), "k%d.esc-test.eu", k);
		IND(v, "");
	}
#undef IND
	fprintf(fp, "\n]}\n");
	return fclose(fp);
}

static int produce_ev(rd_kafka_t *rk, const char *topic, int64_t ts, const char *org, const char *dom) {
	char ev[512], t[40];
	time_t s = (time_t)ts;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	int len = snprintf(ev, sizeof(ev),
			   "{\"@timestamp\":\"%s\",\"organization\":{\"name\":\"%s\"},\"event\":{\"category\":\"network\"},"
			   "\"dns\":{\"question\":{\"name\":\"%s\"}}}",
			   t, org, dom);
	return cs_svc_produce_key(rk, topic, 0, NULL, ev, (size_t)len, 0);
}

/* One expected escalation: "<tlp>|<indicator>|<seq>|<reason>|<rules>|<member states>|<participants>". */
typedef struct {
	char **v;
	size_t n;
} strs_t;

static void strs_add(strs_t *s, const char *v) {
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = strdup(v);
}

static int strs_cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strs_sort(strs_t *s) {
	if (s->n) /* qsort wants a pointer even for nothing */
		qsort(s->v, s->n, sizeof(*s->v), strs_cmp);
}

static void strs_free(strs_t *s) {
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void join_strings(json_t *a, char *out, size_t size) {
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", json_string_value(json_array_get(a, i)));
}

/* The escalation id the documented derivation gives (docs/ESCALATION.md). */
static void expected_id(const char *prefix, const char *value, int level, int seq, char *out, size_t size) {
	char in[512], h[41];
	uint8_t d[20];
	snprintf(in, sizeof(in), "%s:esc:%s|%d|%d", prefix, value, level, seq);
	cs_sha1(in, strlen(in), d);
	for (int i = 0; i < 20; i++)
		snprintf(h + 2 * i, 3, "%02x", d[i]);
	snprintf(out, size, "escalation--%.8s-%.4s-5%.3s-%c%.3s-%.12s", h, h + 8, h + 13, "89ab"[strtol((char[]){h[16], 0}, NULL, 16) % 4],
		 h + 17, h + 20);
}

/*
 * Reads every escalation stream: a line per escalation into got, its id into ids;
 * each entry checked (id field = JSON id, tlp field = JSON tlp = the stream's). 0 or -1.
 */
static int read_streams(redisContext *rc, const char *prefix, strs_t *got, strs_t *ids, json_t **keep_d_amber) {
	for (int t = 0; t < CS_TLP__CNT; t++) {
		char key[256];
		redisReply *r;
		cs_keys_escalations(key, sizeof(key), prefix, (cs_tlp_t)t);
		if (!(r = redisCommand(rc, "XRANGE %s - +", key)) || r->type != REDIS_REPLY_ARRAY)
			return -1;
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *f = r->element[i]->element[1];
			json_t *j;
			char line[1024], ms[256], rules[128];
			if (f->elements != 6 || strcmp(f->element[0]->str, CS_KEYS_ESC_ID) ||
			    strcmp(f->element[2]->str, CS_KEYS_ESC_TLP) || strcmp(f->element[4]->str, CS_KEYS_ESC_JSON) ||
			    !(j = json_loads(f->element[5]->str, 0, NULL))) {
				CS_TEST_SAY("%s: entry %zu is not an escalation", key, i);
				freeReplyObject(r);
				return -1;
			}
			if (strcmp(json_string_value(json_object_get(j, "id")), f->element[1]->str) ||
			    strcmp(json_string_value(json_object_get(j, "tlp")), cs_tlp2str((cs_tlp_t)t)) ||
			    strcmp(f->element[3]->str, cs_tlp2str((cs_tlp_t)t))) {
				CS_TEST_SAY("%s: %s: id or TLP differ", key, f->element[5]->str);
				return -1;
			}
			/* names only where the TLP allows: AMBER and above */
			if ((t >= CS_TLP_AMBER) != (json_object_get(json_object_get(j, "participants"), "names") != NULL)) {
				CS_TEST_SAY("%s: names %s at %s", key, t >= CS_TLP_AMBER ? "missing" : "given", cs_tlp2str((cs_tlp_t)t));
				return -1;
			}
			join_strings(json_object_get(j, "member_states"), ms, sizeof(ms));
			join_strings(json_object_get(j, "rules"), rules, sizeof(rules));
			snprintf(line, sizeof(line), "%s|%s|%lld|%s|%s|%s|%lld", cs_tlp2str((cs_tlp_t)t),
				 json_string_value(json_object_get(json_object_get(j, "indicator"), "value")),
				 json_integer_value(json_object_get(j, "seq")), json_string_value(json_object_get(j, "reason")),
				 rules, ms, json_integer_value(json_object_get(json_object_get(j, "participants"), "count")));
			strs_add(got, line);
			strs_add(ids, f->element[1]->str);
			if (keep_d_amber && t == CS_TLP_AMBER &&
			    !strcmp(json_string_value(json_object_get(json_object_get(j, "indicator"), "value")), "d.esc-test.eu") &&
			    json_integer_value(json_object_get(j, "seq")) == 1)
				*keep_d_amber = json_incref(j);
			json_decref(j);
		}
		freeReplyObject(r);
	}
	strs_sort(got);
	strs_sort(ids);
	return 0;
}

static void on_topic(void *opaque, const rd_kafka_message_t *m) {
	char key[256];
	snprintf(key, sizeof(key), "%.*s", m->key ? (int)m->key_len : 8, m->key ? (const char *)m->key : "(no key)");
	strs_add(opaque, key);
}

/* cshield-report over the run's prefix and the scenario's period; its output in out (NUL-ended); the exit status. */
static int report(const cs_svc_run_t *run, int64_t from, int64_t to, const char *args, char *out, size_t size) {
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s --from %lld --to %lld %s 2>&1",
		 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run->prefix, (long long)from, (long long)to, args);
	return cs_test_run(cmd, out, size);
}

/* The ids of an edition's escalations (sorted), and the edition checked against docs/situation.schema.json. */
static int edition_escalations(const cs_svc_run_t *run, int64_t from, int64_t to, const char *args, strs_t *ids,
			       strs_t *withheld) {
	static char out[1 << 21];
	char a[256], path[600], cmd[2048], chk[8192];
	const char *py = getenv("CS_PYTOOLS_PYTHON");
	json_t *j, *items, *it;
	size_t i;
	snprintf(a, sizeof(a), "--format json %s", args);
	if (report(run, from, to, a, out, sizeof(out))) {
		CS_TEST_SAY("cshield-report %s: %.2000s", a, out);
		return -1;
	}
	if (!(j = json_loads(out, 0, NULL)) || !(items = json_object_get(json_object_get(j, "escalations"), "items"))) {
		CS_TEST_SAY("cshield-report %s: no escalations in %.2000s", a, out);
		return -1;
	}
	json_array_foreach(items, i, it) {
		strs_add(ids, json_string_value(json_object_get(it, "id")));
		if (json_is_null(json_object_get(it, "member_states")))
			strs_add(withheld, json_string_value(json_object_get(it, "indicator")));
	}
	if ((size_t)json_integer_value(json_object_get(json_object_get(j, "escalations"), "count")) != ids->n) {
		CS_TEST_SAY("count differs from the items");
		return -1;
	}
	json_decref(j);
	strs_sort(ids);
	if (py && *py) {
		snprintf(path, sizeof(path), "%s/esc-edition.json", cs_test_tmpdir());
		if (cs_test_write_file(path, out))
			return -1;
		snprintf(cmd, sizeof(cmd),
			 "%s -c 'import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[2])))"
			 ".validate(json.load(open(sys.argv[1])))' %s %s/docs/situation.schema.json 2>&1",
			 py, path, getenv("CS_SOURCE_DIR"));
		if (cs_test_run(cmd, chk, sizeof(chk))) {
			CS_TEST_SAY("%s: not valid for docs/situation.schema.json: %.4000s", a, chk);
			return -1;
		}
	}
	return 0;
}

/* The stream ids of TLPs at or below max (and, with red, RED too), sorted. */
static void ids_upto(redisContext *rc, const char *prefix, cs_tlp_t max, strs_t *out) {
	for (int t = 0; t <= (int)max; t++) {
		char key[256];
		redisReply *r;
		cs_keys_escalations(key, sizeof(key), prefix, (cs_tlp_t)t);
		r = redisCommand(rc, "XRANGE %s - +", key);
		for (size_t i = 0; r && i < r->elements; i++)
			strs_add(out, r->element[i]->element[1]->element[1]->str);
		if (r)
			freeReplyObject(r);
	}
	strs_sort(out);
}

static int same(const strs_t *a, const strs_t *b) {
	if (a->n != b->n) {
		CS_TEST_SAY("%zu ids, expected %zu", a->n, b->n);
		return 0;
	}
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return 0;
	return 1;
}

int cs_test_0121(void) {
	cs_svc_run_t run;
	char reg[600], extra[1400], wl[700], esc_topic[200];
	strs_t want = {0}, got = {0}, ids = {0}, topic_ids = {0};
	json_t *d_amber = NULL;
	redisContext *rc;
	rd_kafka_t *rk;
	int64_t T, T2;
	long produced = 0;
	pid_t pid;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	snprintf(reg, sizeof(reg), "%s/esc-participants.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(write_registry(reg), 0);
	snprintf(wl, sizeof(wl), "mkdir -p %s/esc-wl/lists/benign", cs_test_tmpdir());
	CS_TEST_EQ_INT(system(wl), 0);
	snprintf(wl, sizeof(wl), "%s/esc-wl/lists/benign/list.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(wl, "{\"name\":\"test benign\",\"type\":\"hostname\",\"list\":"
					      "[\"e.esc-test.eu\"],\"matching_attributes\":[\"domain\",\"hostname\"]}"),
		       0);
	/* event times as given (no late or future rule): the scenario spans two days */
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nflush.max.events=200\nworkers=1\nparticipants.file=%s\n"
		 "aggregate.late.grace.s=0\naggregate.future.grace.s=0\nindicators.reload.interval.ms=0\n"
		 "warninglists.dir={tmp}/esc-wl\nescalations.topic={topic}-esc\n",
		 reg);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "escalation", extra), 0);
	CS_TEST_EQ_INT(write_indicators(run.ind), 0);
	snprintf(esc_topic, sizeof(esc_topic), "%s-esc", run.topic);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(esc_topic, 1), 0);
	T = ((int64_t)time(NULL) - 4 * 86400) / 3600 * 3600;
	T2 = T + 2 * 86400;

	CS_TEST_ASSERT((rk = cs_svc_producer("lz4")), "producer");
	/* in time order, as one partition delivers them */
	{
		static const struct {
			int64_t dt;
			const char *org, *ind;
			int n;
		} evs[] = {
			{0, "de-1", "a", 3}, {0, "de-2", "a", 1},      /* one member state, two participants: none */
			{0, "de-1", "b", 1}, {0, "de-1", "c", 1},      /* b, c: the period's edge below */
			{0, "de-1", "d", 2}, {0, "fr-1", "d", 1},      /* d: cross-border at once (GREEN #1) */
			{0, "de-1", "e", 1}, {0, "fr-1", "e", 1}, {0, "lu-1", "e", 1}, /* warning-listed */
			{0, "de-1", "f", 1}, {0, "fr-1", "f", 1},      /* expired */
			{0, "de-1", "g", 1}, {0, "fr-1", "g", 1}, {0, "lu-1", "g", 1}, /* revoked */
			{0, "nl-1", "h", 1}, {0, "de-1", "h", 1},      /* RED with GREEN: cross-border at RED only */
			{0, "xx-1", "i", 1}, {0, "de-1", "i", 1},      /* no member state: one member state, 2 < 3 */
			{60, "de-3", "a", 1},                          /* a: a third participant (GREEN #1) */
			{3600, "de-2", "d", 1},                        /* d: a third, no new state, 3 < 2 x 2: quiet */
			{7200, "lu-1", "d", 1},                        /* d: AMBER sees one more: AMBER #1 (names) */
			{7260, "de-3", "d", 1},                        /* d: GREEN 4 = 2 x 2 (GREEN #2); AMBER 5 < 8 */
			{50460, "de-1", "d", 1},                       /* d: quiet period over: GREEN #3, AMBER #2 */
			{86340, "fr-1", "b", 1},                       /* b: a period less one window: GREEN #1 */
			{86400, "fr-1", "c", 1},                       /* c: a period apart: none */
		};
		for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
			for (int k = 0; k < evs[i].n; k++) {
				char dom[64];
				snprintf(dom, sizeof(dom), "%s.esc-test.eu", evs[i].ind);
				CS_TEST_EQ_INT(produce_ev(rk, run.topic, T + evs[i].dt + k, evs[i].org, dom), 0);
				produced++;
			}
	}
	strs_add(&want, "green|a.esc-test.eu|1|first|multi-organization|DE|3");
	strs_add(&want, "green|b.esc-test.eu|1|first|cross-border|DE,FR|2");
	strs_add(&want, "green|d.esc-test.eu|1|first|cross-border|DE,FR|2");
	strs_add(&want, "amber|d.esc-test.eu|1|first|cross-border,multi-organization|DE,FR,LU|4");
	strs_add(&want, "green|d.esc-test.eu|2|participants-doubled|cross-border,multi-organization|DE,FR|4");
	strs_add(&want, "green|d.esc-test.eu|3|still-active|cross-border,multi-organization|DE,FR|4");
	strs_add(&want, "amber|d.esc-test.eu|2|still-active|cross-border,multi-organization|DE,FR,LU|5");
	strs_add(&want, "red|h.esc-test.eu|1|first|cross-border|DE,NL|2");

	CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, produced, pid, 60000), "lag never reached 0");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);

	/* the kill -9 part: NK indicators escalating one after the other among 60,000 events */
	CS_TEST_ASSERT((rk = cs_svc_producer("lz4")), "producer");
	for (int k = 0; k < NK; k++) {
		char dom[64];
		for (int f = 0; f < 1500; f++) {
			char benign[64];
			snprintf(benign, sizeof(benign), "host-%d.benign-test.eu", f);
			CS_TEST_EQ_INT(produce_ev(rk, run.topic, T2 + k * 60, f % 2 ? "de-1" : "fr-1", benign), 0);
		}
		snprintf(dom, sizeof(dom), "k%d.esc-test.eu", k);
		CS_TEST_EQ_INT(produce_ev(rk, run.topic, T2 + k * 60 + 1, "de-1", dom), 0);
		CS_TEST_EQ_INT(produce_ev(rk, run.topic, T2 + k * 60 + 2, "fr-1", dom), 0);
		snprintf(dom, sizeof(dom), "green|k%d.esc-test.eu|1|first|cross-border|DE,FR|2", k);
		strs_add(&want, dom);
	}
	CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
	/* kill -9 once about a fifth is recorded (flushes of 200 events: escalations among them) */
	{
		int64_t base = produced, at = 0;
		produced += NK * 1502;
		CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
		for (int waited = 0; waited < 60000000 && at < base + 12000; waited += 2000) {
			at = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, 1, NULL);
			usleep(2000);
		}
		kill(pid, SIGKILL);
		cs_svc_wait(pid, 10000);
		at = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, 1, NULL);
		CS_TEST_SAY("killed at offset %lld of %ld", (long long)at, produced);
		CS_TEST_ASSERT(at > base && at < produced, "the kill did not land mid-stream (offset %lld)", (long long)at);
	}
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "respawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, produced, pid, 120000), "lag never reached 0 after the restart");

	CS_TEST_EQ_INT(read_streams(rc, run.prefix, &got, &ids, &d_amber), 0);
	strs_sort(&want);
	if (got.n != want.n)
		CS_TEST_SAY("%zu escalations, expected %zu", got.n, want.n);
	for (size_t i = 0, j = 0; i < got.n || j < want.n;) {
		int c = i == got.n ? 1 : j == want.n ? -1 : strcmp(got.v[i], want.v[j]);
		if (c)
			CS_TEST_SAY("%s %s", c < 0 ? "unexpected:" : "missing:   ", c < 0 ? got.v[i] : want.v[j]);
		i += c <= 0;
		j += c >= 0;
	}
	CS_TEST_ASSERT(got.n == want.n, "escalations differ");
	for (size_t i = 0; i < got.n; i++)
		CS_TEST_EQ_STR(got.v[i], want.v[i]);
	for (size_t i = 1; i < ids.n; i++)
		CS_TEST_ASSERT(strcmp(ids.v[i - 1], ids.v[i]), "id %s twice", ids.v[i]);

	/* what an escalation says: d's AMBER one, with names, hits, times, the indicator's metadata */
	{
		char id[128], first[40], last[40];
		time_t s = (time_t)T;
		struct tm tm;
		json_t *ind = json_object_get(d_amber, "indicator"), *names;
		CS_TEST_ASSERT(d_amber, "no AMBER escalation of d");
		expected_id(run.prefix, "d.esc-test.eu", CS_TLP_AMBER, 1, id, sizeof(id));
		CS_TEST_EQ_STR(json_string_value(json_object_get(d_amber, "id")), id);
		gmtime_r(&s, &tm);
		strftime(first, sizeof(first), "%Y-%m-%dT%H:%M:%SZ", &tm);
		s = (time_t)(T + 7200);
		gmtime_r(&s, &tm);
		strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", &tm);
		CS_TEST_EQ_STR(json_string_value(json_object_get(d_amber, "first_seen")), first);
		CS_TEST_EQ_STR(json_string_value(json_object_get(d_amber, "last_seen")), last);
		CS_TEST_EQ_INT(json_integer_value(json_object_get(d_amber, "hits")), 2 + 1 + 1 + 1); /* de-1 x2, fr-1, de-2, lu-1 */
		CS_TEST_EQ_STR(json_string_value(json_object_get(ind, "source")), "CERT-EU");
		CS_TEST_EQ_STR(json_string_value(json_object_get(ind, "type")), "domain");
		CS_TEST_EQ_INT(json_integer_value(json_object_get(ind, "confidence")), 80);
		CS_TEST_EQ_STR(json_string_value(json_object_get(ind, "id")) + strlen(json_string_value(json_object_get(ind, "id"))) - 47,
			       "indicator--6f2b0e4c-3333-4d2c-9c55-000000000004");
		names = json_object_get(json_object_get(d_amber, "participants"), "names");
		CS_TEST_EQ_INT((long long)json_array_size(names), 4);
		CS_TEST_EQ_STR(json_string_value(json_object_get(json_array_get(names, 2), "id")), "fr-1");
		CS_TEST_EQ_STR(json_string_value(json_object_get(json_array_get(names, 3), "tlp")), "amber");
		CS_TEST_ASSERT(json_is_null(json_object_get(d_amber, "previous")), "previous is not null");
		json_decref(d_amber);
	}

	/* the escalations topic: each escalation once, keyed by its id (the relay resumed after the kill) */
	{
		long n = 0;
		for (int waited = 0; waited < 60000; waited += 500) {
			strs_free(&topic_ids);
			n = cs_svc_consume(esc_topic, (long)ids.n + 1, 3000, on_topic, &topic_ids);
			if (n >= (long)ids.n)
				break;
		}
		strs_sort(&topic_ids);
		CS_TEST_EQ_INT(n, (long long)ids.n);
		for (size_t i = 0; i < ids.n; i++)
			CS_TEST_EQ_STR(topic_ids.v[i], ids.v[i]);
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);

	/* situation reports: each audience sees the escalations of its TLP and below (strict
	 * editions: AMBER and below, all for the hub); CLEAR and GREEN do not name the member
	 * states of an escalation from fewer than k participants */
	{
		int64_t from = T - 3600, to = T2 + NK * 60 + 3600;
		strs_t e = {0}, w = {0}, x = {0}, wh = {0};
		static char out[1 << 20];
		CS_TEST_EQ_INT(edition_escalations(&run, from, to, "--tlp clear", &e, &wh), 0);
		CS_TEST_EQ_INT((long long)e.n, 0);
		strs_free(&e);
		CS_TEST_EQ_INT(edition_escalations(&run, from, to, "--tlp green", &e, &wh), 0);
		ids_upto(rc, run.prefix, CS_TLP_GREEN, &x);
		CS_TEST_EQ_INT((long long)x.n, 5 + NK);
		CS_TEST_ASSERT(same(&e, &x), "GREEN edition's escalations");
		/* b, d's first and every k: 2 participants < k = 3 */
		CS_TEST_EQ_INT((long long)wh.n, 2 + NK);
		strs_free(&e), strs_free(&x), strs_free(&wh);
		CS_TEST_EQ_INT(edition_escalations(&run, from, to, "--tlp amber", &e, &wh), 0);
		ids_upto(rc, run.prefix, CS_TLP_AMBER, &x);
		CS_TEST_EQ_INT((long long)x.n, 7 + NK);
		CS_TEST_ASSERT(same(&e, &x), "AMBER edition's escalations");
		CS_TEST_EQ_INT((long long)wh.n, 0);
		strs_free(&e), strs_free(&x);
		CS_TEST_EQ_INT(edition_escalations(&run, from, to, "--tlp red --org de-1", &e, &wh), 0);
		ids_upto(rc, run.prefix, CS_TLP_AMBER, &x);
		CS_TEST_ASSERT(same(&e, &x), "a participant's RED edition: AMBER and below");
		strs_free(&e), strs_free(&x);
		CS_TEST_EQ_INT(edition_escalations(&run, from, to, "--tlp red --org hub", &e, &wh), 0);
		ids_upto(rc, run.prefix, CS_TLP_RED, &x);
		CS_TEST_EQ_INT((long long)x.n, 8 + NK);
		CS_TEST_ASSERT(same(&e, &x), "the hub's RED edition: all");
		strs_free(&e), strs_free(&x);
		/* a period that holds only the first day: a, d (GREEN #1, #2 and AMBER #1), h */
		CS_TEST_EQ_INT(edition_escalations(&run, T, T + 7200 + 3599, "--tlp red --org hub", &e, &wh), 0);
		CS_TEST_EQ_INT((long long)e.n, 5);
		strs_free(&e);
		/* the HTML edition: the escalations' chart and table, a RED one only where RED is read */
		CS_TEST_EQ_INT(report(&run, from, to, "--format html --tlp amber", out, sizeof(out)), 0);
		{
			char *t = strstr(out, "<table id=\"escalations\">"), *te = t ? strstr(t, "</table>") : NULL;
			long rows = 0;
			CS_TEST_ASSERT(strstr(out, "id=\"escalation-timeline\"") && t && te && strstr(out, "<b>47</b>Escalations"),
				       "HTML edition");
			*te = '\0';
			for (char *r = strstr(t, "<tr><td>"); r; r = strstr(r + 1, "<tr><td>"))
				rows++;
			CS_TEST_EQ_INT(rows, 47);
			CS_TEST_ASSERT(strstr(t, "d[.]esc-test[.]eu") && !strstr(t, "h[.]esc-test[.]eu"), "HTML escalations");
		}
		CS_TEST_EQ_INT(report(&run, from, to, "--format html --tlp red --org hub", out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "<b>48</b>Escalations") && strstr(out, "h[.]esc-test[.]eu"), "the hub's HTML");
		/* the draft early warnings */
		CS_TEST_EQ_INT(report(&run, from, to, "--early-warning --tlp amber", out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "# DRAFT early warning: potential large-scale incident (TLP:AMBER)") &&
				       strstr(out, "| indicator | `d[.]esc-test[.]eu` (domain) from CERT-EU, confidence 80 |") &&
				       strstr(out, "| member states affected | DE,FR,LU |") &&
				       strstr(out, "| participants | 4: de-1,de-2,fr-1,lu-1 |") &&
				       strstr(out, "| cross-border impact | yes") && !strstr(out, "h[.]esc-test") &&
				       !strstr(out, "d.esc-test.eu"),
			       "%.3000s", out);
		CS_TEST_EQ_INT(report(&run, from, to, "--early-warning --format json --tlp green", out, sizeof(out)), 0);
		{
			long lines = 0, nulls = 0;
			for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
				json_t *j = json_loads(l, 0, NULL);
				CS_TEST_ASSERT(j, "not JSON: %.200s", l);
				CS_TEST_EQ_STR(json_string_value(json_object_get(j, "schema")), "cshield-early-warning/1");
				CS_TEST_EQ_STR(json_string_value(json_object_get(j, "tlp")), "green");
				CS_TEST_ASSERT(json_is_null(json_object_get(j, "participant_ids")), "names at GREEN");
				nulls += json_is_null(json_object_get(j, "member_states"));
				lines++;
				json_decref(j);
			}
			CS_TEST_EQ_INT(lines, 5 + NK);
			CS_TEST_EQ_INT(nulls, 2 + NK);
		}
		strs_free(&w);
	}
	strs_free(&want);
	strs_free(&got);
	strs_free(&ids);
	strs_free(&topic_ids);
	redisFree(rc);
	return 0;
}
