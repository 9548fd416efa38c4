/* cs_test_svc.c - see cs_test_svc.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "cs_common.h"
#include "cs_test_svc.h"
#include "cs_keys.h"

extern char **environ;

void cs_svc_sleep_ms(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int cs_svc_check(void) {
	const char *k = getenv("CS_KAFKA_BOOTSTRAP"), *r = getenv("CS_REDIS_ADDR");
	const char *req = getenv("CS_REQUIRE_SERVICES");
	if (k && *k && r && *r)
		return 0;
	fprintf(stderr, "  CS_KAFKA_BOOTSTRAP / CS_REDIS_ADDR not set: start deploy/local/services.sh\n");
	return req && !strcmp(req, "1") ? 1 : CS_TEST_SKIP;
}

const char *cs_svc_kafka(void) {
	return getenv("CS_KAFKA_BOOTSTRAP");
}

redisContext *cs_svc_redis(void) {
	char host[256];
	const char *addr = getenv("CS_REDIS_ADDR"), *colon = strrchr(addr, ':');
	redisContext *rc;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	rc = redisConnect(host, atoi(colon + 1));
	if (!rc || rc->err) {
		fprintf(stderr, "  redis %s: %s\n", addr, rc ? rc->errstr : "alloc");
		if (rc)
			redisFree(rc);
		return NULL;
	}
	return rc;
}

static rd_kafka_t *cs__client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
	char errstr[512];
	rd_kafka_t *rk;
	if (rd_kafka_conf_set(conf, "bootstrap.servers", cs_svc_kafka(), errstr, sizeof(errstr))) {
		fprintf(stderr, "  %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if (!(rk = rd_kafka_new(type, conf, errstr, sizeof(errstr))))
		fprintf(stderr, "  rd_kafka_new: %s\n", errstr);
	return rk;
}

int cs_svc_topic_create(const char *topic, int partitions) {
	return cs_svc_topic_create_conf(topic, partitions, NULL, NULL);
}

/* Waits for an admin result event of the given type; 0 when it (and its one topic/resource) succeeded. */
static int cs__admin_wait(rd_kafka_queue_t *q, const char *what, const char *topic) {
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
	int rc = -1;
	if (ev && !rd_kafka_event_error(ev)) {
		size_t n = 0;
		if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
			const rd_kafka_topic_result_t **res =
				rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
			if (n == 1 && !rd_kafka_topic_result_error(res[0]))
				rc = 0;
			else
				fprintf(stderr, "  %s %s: %s\n", what, topic,
					n == 1 ? rd_kafka_topic_result_error_string(res[0]) : "no result");
		} else {
			const rd_kafka_ConfigResource_t **res =
				rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
			if (n == 1 && !rd_kafka_ConfigResource_error(res[0]))
				rc = 0;
			else
				fprintf(stderr, "  %s %s: %s\n", what, topic,
					n == 1 ? rd_kafka_ConfigResource_error_string(res[0]) : "no result");
		}
	} else {
		fprintf(stderr, "  %s %s: %s\n", what, topic, ev ? rd_kafka_event_error_string(ev) : "timeout");
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	return rc;
}

int cs_svc_topic_create_conf(const char *topic, int partitions, const char *key, const char *value) {
	rd_kafka_t *rk = cs__client(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	char errstr[256];
	int rc;

	if (!rk)
		return -1;
	/* replication 1 on the local broker; a multi-broker test sets CS_TEST_REPLICATION */
	nt = rd_kafka_NewTopic_new(topic, partitions,
				   getenv("CS_TEST_REPLICATION") ? atoi(getenv("CS_TEST_REPLICATION")) : 1, errstr,
				   sizeof(errstr));
	if (key)
		rd_kafka_NewTopic_set_config(nt, key, value);
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	rc = cs__admin_wait(q, "create topic", topic);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}

int cs_svc_topic_config(const char *topic, const char *key, const char *value) {
	rd_kafka_t *rk = cs__client(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
	rd_kafka_ConfigResource_t *cr;
	rd_kafka_queue_t *q;
	int rc;

	if (!rk)
		return -1;
	cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
	rd_kafka_ConfigResource_set_config(cr, key, value);
	q = rd_kafka_queue_new(rk);
	rd_kafka_AlterConfigs(rk, &cr, 1, NULL, q);
	rc = cs__admin_wait(q, "alter topic", topic);
	rd_kafka_ConfigResource_destroy(cr);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}

const char *cs_svc_header(const rd_kafka_message_t *m, const char *name, char *buf, size_t size) {
	rd_kafka_headers_t *h;
	const void *v;
	size_t vs;
	if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &vs) || vs >= size)
		return NULL;
	memcpy(buf, v, vs);
	buf[vs] = '\0';
	return buf;
}

static int cs__delivery_failures;

static void cs__dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	if (m->err) {
		cs__delivery_failures++;
		fprintf(stderr, "  delivery failed: %s\n", rd_kafka_err2str(m->err));
	}
}

rd_kafka_t *cs_svc_producer(const char *codec) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	if (rd_kafka_conf_set(conf, "compression.codec", codec, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "linger.ms", "10", errstr, sizeof(errstr))) {
		fprintf(stderr, "  %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, cs__dr);
	return cs__client(RD_KAFKA_PRODUCER, conf);
}

int cs_svc_produce(rd_kafka_t *rk, const char *topic, int partition, const char *payload, size_t len,
		   int64_t ts_ms) {
	return cs_svc_produce_key(rk, topic, partition, NULL, payload, len, ts_ms);
}

int cs_svc_produce_key(rd_kafka_t *rk, const char *topic, int partition, const char *key, const char *payload,
		       size_t len, int64_t ts_ms) {
	rd_kafka_resp_err_t err;
	while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
					RD_KAFKA_V_VALUE((void *)payload, len),
					RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
					RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(rk, 50);
	if (err) {
		fprintf(stderr, "  produce: %s\n", rd_kafka_err2str(err));
		return -1;
	}
	rd_kafka_poll(rk, 0);
	return 0;
}

int cs_svc_producer_close(rd_kafka_t *rk) {
	int left;
	rd_kafka_flush(rk, 60000);
	left = rd_kafka_outq_len(rk);
	rd_kafka_destroy(rk);
	if (left || cs__delivery_failures) {
		fprintf(stderr, "  producer: %d undelivered, %d failed\n", left, cs__delivery_failures);
		return -1;
	}
	return 0;
}

int cs_svc_watermarks(const char *topic, int partitions, int64_t *hw) {
	rd_kafka_t *rk = cs__client(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
	int rc = 0;
	if (!rk)
		return -1;
	for (int p = 0; p < partitions; p++) {
		int64_t lo;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hw[p], 10000);
		if (err) {
			fprintf(stderr, "  watermarks %s [%d]: %s\n", topic, p, rd_kafka_err2str(err));
			rc = -1;
		}
	}
	rd_kafka_destroy(rk);
	return rc;
}

int64_t cs_svc_log_end(const char *topic, int partitions) {
	int64_t hw[256], sum = 0;
	if (partitions > 256 || cs_svc_watermarks(topic, partitions, hw))
		return -1;
	for (int p = 0; p < partitions; p++)
		sum += hw[p];
	return sum;
}

void cs_svc_counts_add(cs_svc_counts_t *c, int64_t window, const char *ind, int64_t n) {
	for (size_t i = 0; i < c->cnt; i++)
		if (c->v[i].window == window && !strcmp(c->v[i].ind, ind)) {
			c->v[i].hits += n;
			return;
		}
	if (c->cnt == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v)
			abort();
	}
	c->v[c->cnt].window = window;
	snprintf(c->v[c->cnt].ind, sizeof(c->v[c->cnt].ind), "%s", ind);
	c->v[c->cnt].hits = n;
	c->cnt++;
}

int64_t cs_svc_counts_hits(const cs_svc_counts_t *c) {
	int64_t n = 0;
	for (size_t i = 0; i < c->cnt; i++)
		n += c->v[i].hits;
	return n;
}

void cs_svc_counts_free(cs_svc_counts_t *c) {
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int cs_svc_counts_from_redis(redisContext *rc, const char *prefix, int64_t window_s, cs_svc_counts_t *c) {
	char key[CS_KEYS_MAX];
	redisReply *wins;
	cs_keys_wins(key, sizeof(key), prefix, window_s);
	wins = redisCommand(rc, "ZRANGE %s 0 -1", key);
	if (!wins || wins->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "  ZRANGE failed\n");
		return -1;
	}
	for (size_t i = 0; i < wins->elements; i++) {
		redisReply *h;
		cs_keys_win(key, sizeof(key), prefix, window_s, strtoll(wins->element[i]->str, NULL, 10));
		h = redisCommand(rc, "HGETALL %s", key);
		if (!h || h->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "  HGETALL failed\n");
			return -1;
		}
		for (size_t j = 0; j + 1 < h->elements; j += 2)
			cs_svc_counts_add(c, strtoll(wins->element[i]->str, NULL, 10), h->element[j]->str,
					  strtoll(h->element[j + 1]->str, NULL, 10));
		freeReplyObject(h);
	}
	freeReplyObject(wins);
	return 0;
}

int cs_svc_counts_compare(const cs_svc_counts_t *exp, const cs_svc_counts_t *got) {
	int diffs = 0;
	for (size_t i = 0; i < exp->cnt; i++) {
		int64_t g = 0;
		for (size_t j = 0; j < got->cnt; j++)
			if (got->v[j].window == exp->v[i].window && !strcmp(got->v[j].ind, exp->v[i].ind))
				g = got->v[j].hits;
		if (g != exp->v[i].hits && diffs++ < 20)
			fprintf(stderr, "  window %lld %s: Redis has %lld, expected %lld\n",
				(long long)exp->v[i].window, exp->v[i].ind, (long long)g, (long long)exp->v[i].hits);
	}
	for (size_t j = 0; j < got->cnt; j++) {
		int found = 0;
		for (size_t i = 0; i < exp->cnt && !found; i++)
			found = got->v[j].window == exp->v[i].window && !strcmp(got->v[j].ind, exp->v[i].ind);
		if (!found && diffs++ < 20)
			fprintf(stderr, "  window %lld %s: Redis has %lld, expected none\n",
				(long long)got->v[j].window, got->v[j].ind, (long long)got->v[j].hits);
	}
	fprintf(stderr, "  expected %lld hits in %zu aggregates; Redis has %lld hits in %zu aggregates\n",
		(long long)cs_svc_counts_hits(exp), exp->cnt, (long long)cs_svc_counts_hits(got), got->cnt);
	return diffs;
}

int64_t cs_svc_redis_offsets(redisContext *rc, const char *prefix, const char *group,
			     const char *topic, int partitions, int64_t *per_part) {
	int64_t sum = 0;
	for (int p = 0; p < partitions; p++) {
		char key[CS_KEYS_MAX], field[CS_KEYS_MAX];
		redisReply *r;
		int64_t v = 0;
		cs_keys_off(key, sizeof(key), prefix, group);
		cs_keys_off_field(field, sizeof(field), topic, p);
		r = redisCommand(rc, "HGET %s %s", key, field);
		if (!r)
			return -1;
		if (r->type == REDIS_REPLY_STRING)
			v = strtoll(r->str, NULL, 10);
		freeReplyObject(r);
		if (per_part)
			per_part[p] = v;
		sum += v;
	}
	return sum;
}

/* Every cshield-ingest a test started: killed when the runner exits, whatever the test did. */
static pid_t cs__children[64];
static int cs__child_cnt;

static void cs__kill_children(void) {
	for (int i = 0; i < cs__child_cnt; i++)
		if (kill(cs__children[i], 0) == 0)
			kill(cs__children[i], SIGKILL);
}

pid_t cs_svc_ingest_start(const char *conf, const char *logfile) {
	char bin[1024];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *argv[] = {bin, "-c", (char *)conf, NULL};
	int err;

	snprintf(bin, sizeof(bin), "%s/ingest/cshield-ingest", cs_test_bindir());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		fprintf(stderr, "  spawn %s: %s\n", bin, strerror(err));
		return -1;
	}
	if (cs__child_cnt == 0)
		atexit(cs__kill_children);
	if (cs__child_cnt < (int)(sizeof(cs__children) / sizeof(*cs__children)))
		cs__children[cs__child_cnt++] = pid;
	return pid;
}

int cs_svc_wait(pid_t pid, int timeout_ms) {
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
		cs_svc_sleep_ms(20);
	}
	return -1;
}

void cs_svc_dump_log(const char *logfile) {
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "tail -n 40 '%s' >&2", logfile);
	fprintf(stderr, "  --- last lines of %s ---\n", logfile);
	if (system(cmd) != 0)
		fprintf(stderr, "  (no log)\n");
}

int cs_svc_committed(const char *group, const char *topic, int partitions, int64_t *off) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;
	char errstr[256];
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
	if (!(rk = cs__client(RD_KAFKA_CONSUMER, conf)))
		return -1;
	l = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++)
		rd_kafka_topic_partition_list_add(l, topic, p);
	err = rd_kafka_committed(rk, l, 15000);
	for (int p = 0; p < partitions && !err; p++)
		off[p] = l->elems[p].offset;
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
	if (err)
		fprintf(stderr, "  committed: %s\n", rd_kafka_err2str(err));
	return err ? -1 : 0;
}

long cs_svc_consume(const char *topic, long n, int timeout_ms, void (*cb)(void *opaque, const rd_kafka_message_t *m),
		    void *opaque) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l;
	char errstr[256];
	rd_kafka_t *rk;
	long got = 0;
	int64_t deadline;

	rd_kafka_conf_set(conf, "group.id", "cs-test-reader", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
	if (!(rk = cs__client(RD_KAFKA_CONSUMER, conf)))
		return -1;
	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	deadline = (int64_t)time(NULL) * 1000 + timeout_ms;
	while (got < n && (int64_t)time(NULL) * 1000 < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		if (!m->err) {
			cb(opaque, m);
			got++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return got;
}

/* Copies extra into out with {topic} and {tmp} replaced. */
static void cs__expand(const char *extra, const cs_svc_run_t *r, char *out, size_t size) {
	size_t o = 0;
	for (const char *p = extra; *p && o + 1 < size; p++) {
		const char *rep = !strncmp(p, "{topic}", 7) ? r->topic : !strncmp(p, "{tmp}", 5) ? cs_test_tmpdir() : NULL;
		if (rep) {
			o += (size_t)snprintf(out + o, size - o, "%s", rep);
			p += !strncmp(p, "{topic}", 7) ? 6 : 4;
			if (o >= size)
				o = size - 1;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

int cs_svc_run_init(cs_svc_run_t *r, const char *name, const char *extra) {
	char buf[4096], ex[2048], ind[600];
	const char *ra = getenv("CS_REDIS_ADDR");
	snprintf(r->topic, sizeof(r->topic), "cs-%s-%d-%ld", name, (int)getpid(), (long)time(NULL));
	snprintf(r->group, sizeof(r->group), "%s-g", r->topic);
	snprintf(r->prefix, sizeof(r->prefix), "%s%d", name, (int)getpid());
	snprintf(r->ind, sizeof(r->ind), "%s/indicators.txt", cs_test_tmpdir());
	snprintf(r->conf, sizeof(r->conf), "%s/ingest-%s.conf", cs_test_tmpdir(), name);
	snprintf(r->logf, sizeof(r->logf), "%s/ingest-%s.log", cs_test_tmpdir(), name);
	cs_keys_stats(r->k_stats, sizeof(r->k_stats), r->prefix);
	cs_keys_rejects(r->k_rejects, sizeof(r->k_rejects), r->prefix);
	for (int t = 0; t < CS_TLP__CNT; t++)
		cs_keys_alerts(r->k_alerts[t], sizeof(r->k_alerts[t]), r->prefix, (cs_tlp_t)t);
	cs_keys_suppressed(r->k_suppressed, sizeof(r->k_suppressed), r->prefix);
	cs_keys_off(r->k_off, sizeof(r->k_off), r->prefix, r->group);
	if (cs_svc_work_indicators(r->ind))
		return -1;
	cs__expand(extra, r, ex, sizeof(ex));
	/* extra's own indicators.file, when it has one, stands instead of the workload's list alone */
	snprintf(ind, sizeof(ind), "indicators.file=%s\n", r->ind);
	snprintf(buf, sizeof(buf),
		 "topics=%s\ngroup.id=%s\n%saggregate.key.prefix=%s\n"
		 "kafka.bootstrap.servers=%s\nredis.host=127.0.0.1\nredis.port=%s\n%s",
		 r->topic, r->group, !strncmp(ex, "indicators.file=", 16) || strstr(ex, "\nindicators.file=") ? "" : ind,
		 r->prefix, cs_svc_kafka(), strrchr(ra, ':') + 1, ex);
	return cs_test_write_file(r->conf, buf);
}

int cs_svc_wait_lag0(redisContext *rc, const cs_svc_run_t *run, int partitions, int64_t total, pid_t pid,
		     int timeout_ms) {
	for (int waited = 0;; waited += 100) {
		int64_t sum = cs_svc_redis_offsets(rc, run->prefix, run->group, run->topic, partitions, NULL);
		if (sum == total)
			return 0;
		if (waited > timeout_ms) {
			cs_svc_dump_log(run->logf);
			kill(pid, SIGKILL);
			fprintf(stderr, "  Redis offsets at %lld of %lld after %d ms\n", (long long)sum, (long long)total,
				waited);
			return -1;
		}
		cs_svc_sleep_ms(100);
	}
}

int64_t cs_svc_wait_offsets(redisContext *rc, const cs_svc_run_t *run, int partitions, int64_t at_least,
			    int timeout_ms) {
	for (int waited = 0; waited < timeout_ms; waited += 2) {
		if (cs_svc_redis_offsets(rc, run->prefix, run->group, run->topic, partitions, NULL) >= at_least)
			break;
		cs_svc_sleep_ms(2);
	}
	return cs_svc_redis_offsets(rc, run->prefix, run->group, run->topic, partitions, NULL);
}

/* The hits of every (bucket, indicator) in the roll-ups of tier (P:roll:T, every participant and TLP summed). */
static int cs__rolls_from_redis(redisContext *rc, const char *prefix, int64_t tier, cs_svc_counts_t *c) {
	char key[CS_KEYS_MAX];
	redisReply *wins;
	cs_keys_wins(key, sizeof(key), prefix, tier);
	wins = redisCommand(rc, "ZRANGE %s 0 -1", key);
	if (!wins || wins->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "  ZRANGE %s failed\n", key);
		return -1;
	}
	for (size_t i = 0; i < wins->elements; i++) {
		int64_t b = strtoll(wins->element[i]->str, NULL, 10);
		redisReply *h;
		cs_keys_roll(key, sizeof(key), prefix, tier, b);
		h = redisCommand(rc, "HGETALL %s", key);
		if (!h || h->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "  HGETALL %s failed\n", key);
			return -1;
		}
		for (size_t j = 0; j + 1 < h->elements; j += 2) {
			cs_keys_roll_t r;
			if (cs_keys_roll_parse(h->element[j]->str, &r)) {
				fprintf(stderr, "  %s: field %s is not a roll-up field\n", key, h->element[j]->str);
				return -1;
			}
			if (r.what_len == 1 && *r.what == 'i')
				cs_svc_counts_add(c, b, r.value, strtoll(h->element[j + 1]->str, NULL, 10));
		}
		freeReplyObject(h);
	}
	freeReplyObject(wins);
	return 0;
}

int cs_svc_check_counts(redisContext *rc, const cs_svc_run_t *run, const cs_svc_counts_t *exp, pid_t pid) {
	cs_svc_counts_t got = {0};
	int rc_cmp = cs_svc_counts_from_redis(rc, run->prefix, 60, &got) ? -1 : cs_svc_counts_compare(exp, &got);
	cs_svc_counts_free(&got);
	/* the hour and day roll-ups, written by the same flush, hold the same hits */
	for (int t = 0; t < 2 && !rc_cmp; t++) {
		int64_t T = t ? CS_KEYS_TIER_DAY : CS_KEYS_TIER_HOUR;
		cs_svc_counts_t want = {0};
		for (size_t i = 0; i < exp->cnt; i++)
			cs_svc_counts_add(&want, exp->v[i].window / T * T, exp->v[i].ind, exp->v[i].hits);
		rc_cmp = cs__rolls_from_redis(rc, run->prefix, T, &got) ? -1 : cs_svc_counts_compare(&want, &got);
		if (rc_cmp)
			fprintf(stderr, "  the %s roll-ups differ from the workload\n", t ? "day" : "hour");
		cs_svc_counts_free(&want);
		cs_svc_counts_free(&got);
	}
	if (rc_cmp) {
		cs_svc_dump_log(run->logf);
		if (pid > 0)
			kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

/* ---- alerts ---- */

static int cs__cmp_str(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds one alert (JSON) to counts by (1-minute window of its time, indicator value); keeps its id. */
static int cs__alert_count(const char *json, size_t len, cs_svc_counts_t *c, char **id_out) {
	json_error_t jerr;
	json_t *a = json_loadb(json, len, 0, &jerr);
	const char *t = json_string_value(json_object_get(a, "time"));
	const char *v = json_string_value(json_object_get(json_object_get(a, "indicator"), "value"));
	const char *id = json_string_value(json_object_get(a, "id"));
	int64_t ms;
	if (!a || !t || !v || !id || cs_time_parse_iso8601(t, strlen(t), &ms)) {
		CS_TEST_SAY("alert without time, indicator value or id: %.*s", (int)len, json);
		json_decref(a);
		return -1;
	}
	cs_svc_counts_add(c, ms / 1000 / 60 * 60, v, 1);
	*id_out = strdup(id);
	json_decref(a);
	return *id_out ? 0 : -1;
}

/* Sorts ids; returns how many repeat an earlier one. */
static long cs__dups(char **ids, size_t n) {
	long d = 0;
	qsort(ids, n, sizeof(*ids), cs__cmp_str);
	for (size_t i = 1; i < n; i++)
		d += !strcmp(ids[i], ids[i - 1]);
	return d;
}

long long cs_svc_alerts_len(redisContext *rc, const cs_svc_run_t *run) {
	long long n = 0;
	for (int t = 0; t < CS_TLP__CNT; t++) {
		redisReply *r = redisCommand(rc, "XLEN %s", run->k_alerts[t]);
		if (!r || r->type != REDIS_REPLY_INTEGER) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		n += r->integer;
		freeReplyObject(r);
	}
	return n;
}

int cs_svc_check_alert_stream(redisContext *rc, const cs_svc_run_t *run, const cs_svc_counts_t *exp) {
	cs_svc_counts_t got = {0};
	char **ids = NULL, last[64];
	size_t n = 0, cap = 0;
	long dups;
	int rc_ = -1;

	for (int t = 0; t < CS_TLP__CNT; t++) {
		char want[40];
		snprintf(last, sizeof(last), "-");
		snprintf(want, sizeof(want), "\"tlp\":\"%s\"", cs_tlp2str((cs_tlp_t)t));
		for (;;) {
			redisReply *r = redisCommand(rc, "XRANGE %s %s + COUNT 1000", run->k_alerts[t], last);
			size_t first = strcmp(last, "-") ? 1 : 0; /* the range includes the last id read */
			if (!r || r->type != REDIS_REPLY_ARRAY) {
				CS_TEST_SAY("XRANGE %s failed", run->k_alerts[t]);
				freeReplyObject(r);
				goto out;
			}
			if (r->elements <= first) {
				freeReplyObject(r);
				break;
			}
			for (size_t i = first; i < r->elements; i++) {
				redisReply *e = r->element[i], *f = e->element[1];
				snprintf(last, sizeof(last), "%s", e->element[0]->str);
				if (n == cap && !(ids = realloc(ids, (cap = cap ? cap * 2 : 1024) * sizeof(*ids))))
					abort();
				if (f->elements != 4 || strcmp(f->element[2]->str, "alert") ||
				    cs__alert_count(f->element[3]->str, f->element[3]->len, &got, &ids[n])) {
					freeReplyObject(r);
					goto out;
				}
				if (strcmp(ids[n], f->element[1]->str)) {
					CS_TEST_SAY("stream entry id field %s differs from the alert's id %s", f->element[1]->str, ids[n]);
					n++;
					freeReplyObject(r);
					goto out;
				}
				n++;
				/* a stream holds the alerts of its TLP only */
				if (!strstr(f->element[3]->str, want)) {
					CS_TEST_SAY("%s holds an alert of another TLP: %.300s", run->k_alerts[t], f->element[3]->str);
					freeReplyObject(r);
					goto out;
				}
			}
			freeReplyObject(r);
		}
	}
	dups = cs__dups(ids, n);
	CS_TEST_SAY("alert stream: %zu alerts, %ld repeated ids", n, dups);
	if (dups) {
		CS_TEST_SAY("the Redis stream must hold every alert exactly once");
		goto out;
	}
	if (cs_svc_counts_compare(exp, &got)) {
		CS_TEST_SAY("alerts in the stream, counted per window and indicator, differ from the workload");
		goto out;
	}
	rc_ = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	cs_svc_counts_free(&got);
	return rc_;
}

typedef struct cs__alert_rec_s {
	char *id;
	int64_t window;
	char value[256];
} cs__alert_rec_t;

typedef struct cs__alert_topic_s {
	cs__alert_rec_t *v;
	size_t n, cap;
	int bad;
} cs__alert_topic_t;

static void cs__on_alert_msg(void *opaque, const rd_kafka_message_t *m) {
	cs__alert_topic_t *t = opaque;
	cs_svc_counts_t one = {0};
	cs__alert_rec_t *r;
	if (t->n == t->cap && !(t->v = realloc(t->v, (t->cap = t->cap ? t->cap * 2 : 1024) * sizeof(*t->v))))
		abort();
	r = &t->v[t->n];
	if (cs__alert_count(m->payload, m->len, &one, &r->id)) {
		t->bad++;
		return;
	}
	r->window = one.v[0].window;
	snprintf(r->value, sizeof(r->value), "%s", one.v[0].ind);
	cs_svc_counts_free(&one);
	t->n++;
	if (m->key_len != strlen(r->id) || memcmp(m->key, r->id, m->key_len))
		t->bad++; /* the key must be the alert id */
}

static int cs__cmp_rec(const void *a, const void *b) {
	return strcmp(((const cs__alert_rec_t *)a)->id, ((const cs__alert_rec_t *)b)->id);
}

int cs_svc_check_alert_topic(const char *topic, const cs_svc_counts_t *exp, long expected, int no_repeats) {
	cs__alert_topic_t t = {0};
	cs_svc_counts_t got = {0};
	long msgs, dups = 0;
	int rc_ = -1;

	/* every alert, and a little time for any extra (repeated) one to show */
	msgs = cs_svc_consume(topic, no_repeats ? expected + 1 : expected * 2 + 1, 10000, cs__on_alert_msg, &t);
	if (t.bad) {
		CS_TEST_SAY("alerts topic: %d malformed alerts or keys", t.bad);
		goto out;
	}
	qsort(t.v, t.n, sizeof(*t.v), cs__cmp_rec);
	/* de-duplicated on the id, as subscribers do, the alerts must equal the workload */
	for (size_t i = 0; i < t.n; i++) {
		if (i && !strcmp(t.v[i].id, t.v[i - 1].id)) {
			dups++;
			continue;
		}
		cs_svc_counts_add(&got, t.v[i].window, t.v[i].value, 1);
	}
	CS_TEST_SAY("alerts topic: %ld messages, %ld repeated ids (de-duplicated: %ld, expected %ld)", msgs, dups,
		    msgs - dups, expected);
	if (no_repeats && dups) {
		CS_TEST_SAY("no replay happened, so no alert may repeat");
		goto out;
	}
	if (cs_svc_counts_compare(exp, &got))
		goto out;
	rc_ = 0;
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].id);
	free(t.v);
	cs_svc_counts_free(&got);
	return rc_;
}

/* ---- the metrics endpoint ---- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int cs_svc_metrics_port(const char *logfile) {
	FILE *fp = fopen(logfile, "r");
	char line[4096];
	int port = -1;
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		const char *p = strstr(line, "metrics on http://127.0.0.1:");
		if (p)
			port = atoi(p + strlen("metrics on http://127.0.0.1:"));
	}
	fclose(fp);
	return port;
}

int cs_svc_http_get(int port, const char *path, char *buf, size_t size) {
	struct sockaddr_in sa;
	char req[256];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == size - 1)
			break;
	}
	buf[got] = '\0';
	close(fd);
	if (!strncmp(buf, "HTTP/1.", 7) && buf[8] == ' ')
		status = atoi(buf + 9);
	return status;
}

long long cs_svc_metric_sum(const char *text, const char *name, const char *label) {
	long long sum = 0;
	size_t nl = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *sp;
		if (strncmp(p, name, nl) || (p[nl] != ' ' && p[nl] != '{'))
			continue;
		sp = strchr(p, ' ');
		if (label) {
			const char *eol = strchr(p, '\n');
			const char *l = strstr(p, label);
			if (!l || (eol && l > eol))
				continue;
		}
		if (sp)
			sum += strtoll(sp + 1, NULL, 10);
	}
	return sum;
}

/* ---- cshield-ingest's log ---- */

int cs_svc_log_count(const char *logfile, const char *needle) {
	FILE *fp = fopen(logfile, "r");
	char line[8192];
	int n = 0;
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

int cs_svc_wait_log(const char *logfile, const char *needle, int count, int timeout_ms, pid_t pid) {
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (cs_svc_log_count(logfile, needle) >= count)
			return 0;
		cs_svc_sleep_ms(20);
	}
	if (cs_svc_log_count(logfile, needle) >= count)
		return 0;
	CS_TEST_SAY("log never showed %d x \"%s\"", count, needle);
	cs_svc_dump_log(logfile);
	if (pid > 0)
		kill(pid, SIGKILL);
	return -1;
}

int cs_svc_work_produce_without(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
				const char *without, cs_svc_counts_t *exp) {
	cs_svc_counts_t phase = {0};
	long malformed = 0;
	size_t k = 0;
	if (cs_svc_work_produce(topic, partitions, n, seed, t0, &phase, &malformed))
		return -1;
	for (size_t i = 0; i < phase.cnt; i++)
		if (strcmp(phase.v[i].ind, without))
			phase.v[k++] = phase.v[i];
	phase.cnt = k;
	for (size_t i = 0; i < phase.cnt; i++)
		cs_svc_counts_add(exp, phase.v[i].window, phase.v[i].ind, phase.v[i].hits);
	cs_svc_counts_free(&phase);
	return 0;
}

int cs_svc_free_port(void) {
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int cs_svc_load_env(const char *path) {
	FILE *fp = fopen(path, "r");
	char line[1024];
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *k = strncmp(line, "export ", 7) ? line : line + 7, *eq = strchr(k, '=');
		if (!eq)
			continue;
		*eq = '\0';
		eq[strcspn(eq + 1, "\n") + 1] = '\0';
		setenv(k, eq + 1, 1);
	}
	fclose(fp);
	return 0;
}

long long cs_svc_hget(redisContext *rc, const char *key, const char *field) {
	redisReply *r = redisCommand(rc, "HGET %s %s", key, field);
	long long v = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
	if (r)
		freeReplyObject(r);
	return v;
}

redisReply *cs_svc_redis_ask(const char *host, int port, const char *cmd) {
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout(host, port, tv);
	redisReply *r = c && !c->err ? redisCommand(c, cmd) : NULL;
	if (c)
		redisFree(c);
	return r;
}

int cs_svc_sentinel_ready(const char *host, int port, const char *master, int replicas, int others) {
	char cmd[160];
	redisReply *r;
	int rep = -1, oth = -1;
	snprintf(cmd, sizeof(cmd), "SENTINEL master %s", master);
	r = cs_svc_redis_ask(host, port, cmd);
	for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		if (!strcmp(r->element[i]->str, "num-slaves"))
			rep = atoi(r->element[i + 1]->str);
		if (!strcmp(r->element[i]->str, "num-other-sentinels"))
			oth = atoi(r->element[i + 1]->str);
	}
	if (r)
		freeReplyObject(r);
	return rep == replicas && oth == others;
}
