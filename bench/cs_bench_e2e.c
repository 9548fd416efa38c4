/*
 * cs_bench_e2e.c - `cshield-bench e2e`: the whole pipeline on the real broker
 * and redis-server (CS_KAFKA_BOOTSTRAP, CS_REDIS_ADDR): produce a corpus
 * (half lz4, half zstd) to a fresh topic, measure kcat's raw consume rate of
 * it (the baseline), then run cshield-ingest until the offsets it recorded in
 * Redis reach the log end: events/s, Redis commands per event, peak RSS.
 * DESIGN: a driver process; cshield-ingest runs as a child, as in production.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <unistd.h>
#include <libgen.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <librdkafka/rdkafka.h>
#include <hiredis/hiredis.h>

#include "cs_common.h"
#include "cs_bench.h"
#include "cs_bench_modes.h"
#include "cs_keys.h"
#include "cs_json.h"

extern char **environ;

static int cs__create_topic(const char *brokers, const char *topic, int parts) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256];
	rd_kafka_t *rk;
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	int rc = -1;
	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr));
	if (cs_bench_kafka_apply(conf, errstr, sizeof(errstr)) ||
	    !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		return -1;
	nt = rd_kafka_NewTopic_new(topic, parts, 1, errstr, sizeof(errstr));
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	if ((ev = rd_kafka_queue_poll(q, 30000))) {
		size_t n;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		rc = !rd_kafka_event_error(ev) && n == 1 && !rd_kafka_topic_result_error(res[0]) ? 0 : -1;
		rd_kafka_event_destroy(ev);
	}
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}

static long cs__produce_half(const char *brokers, const char *topic, cs_bench_gen_t *g, long n, const char *codec) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], buf[8192];
	rd_kafka_t *rk;
	rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "compression.codec", codec, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr));
	if (cs_bench_kafka_apply(conf, errstr, sizeof(errstr)) ||
	    !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		return -1;
	for (long i = 0; i < n; i++) {
		size_t len = cs_bench_gen_event(g, buf, sizeof(buf));
		const char *key = cs_bench_gen_org(g); /* the sending participant */
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(buf, len),
					 RD_KAFKA_V_KEY(key, strlen(key)),
					 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 50);
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	n = rd_kafka_outq_len(rk) ? -1 : n;
	rd_kafka_destroy(rk);
	return n;
}

/* Sum of calls of the given commandstats (NULL: all). */
static long long cs__redis_calls(redisContext *rc, const char *const *only) {
	redisReply *r = redisCommand(rc, "INFO commandstats");
	long long sum = 0;
	char *p;
	if (!r || r->type != REDIS_REPLY_STRING)
		return -1;
	for (p = strstr(r->str, "cmdstat_"); p; p = strstr(p + 1, "cmdstat_")) {
		char name[64];
		long long calls;
		int take = !only;
		if (sscanf(p, "cmdstat_%63[^:]:calls=%lld", name, &calls) != 2)
			continue;
		for (const char *const *o = only; o && *o; o++)
			take |= !strcmp(*o, name);
		if (take && strcmp(name, "info"))
			sum += calls;
	}
	freeReplyObject(r);
	return sum;
}

static long long cs__redis_offsets(redisContext *rc, const char *key) {
	redisReply *r = redisCommand(rc, "HVALS %s", key);
	long long sum = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i < r->elements; i++)
		sum += strtoll(r->element[i]->str, NULL, 10);
	freeReplyObject(r);
	return sum;
}

static long cs__hwm_kb(pid_t pid) {
	char path[64], line[256];
	long kb = -1;
	FILE *fp;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(fp = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

/* cshield-ingest next to this program (installed) or in ../ingest (build tree). */
static void cs__ingest_path(char *out, size_t size) {
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *dir;
	self[n > 0 ? n : 0] = '\0';
	dir = dirname(self);
	snprintf(out, size, "%s/cshield-ingest", dir);
	if (access(out, X_OK))
		snprintf(out, size, "%s/../ingest/cshield-ingest", dir);
}

/* ---- produce-to-alert latency ---- */

#define CS__LAT_N 200

typedef struct cs__lat_s {
	const char *brokers, *topic;
	cs_bench_gen_t *g; /* hit_rate 1: every event carries an indicator */
	int64_t sent_us[CS__LAT_N];
	int32_t part[CS__LAT_N];
	int64_t off[CS__LAT_N];
	int64_t got_us[CS__LAT_N];
	atomic_int delivered, done;
} cs__lat_t;

typedef struct cs__arrival_s {
	int32_t part;
	int64_t off, us;
} cs__arrival_t;

static int64_t cs__now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void cs__lat_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	cs__lat_t *l = opaque;
	size_t i = (size_t)(uintptr_t)m->_private;
	if (!m->err && i < CS__LAT_N) {
		l->part[i] = m->partition;
		l->off[i] = m->offset;
		atomic_fetch_add(&l->delivered, 1);
	}
}

/* Sends CS__LAT_N events carrying an indicator, 10 ms apart, each flushed at once. */
static void *cs__lat_producer(void *arg) {
	cs__lat_t *l = arg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], buf[8192];
	rd_kafka_t *rk;
	rd_kafka_conf_set(conf, "bootstrap.servers", l->brokers, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof(errstr));
	rd_kafka_conf_set_dr_msg_cb(conf, cs__lat_dr);
	rd_kafka_conf_set_opaque(conf, l);
	if (cs_bench_kafka_apply(conf, errstr, sizeof(errstr)) ||
	    !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
		return NULL;
	for (size_t i = 0; i < CS__LAT_N; i++) {
		size_t len = cs_bench_gen_event(l->g, buf, sizeof(buf));
		const char *key = cs_bench_gen_org(l->g);
		l->sent_us[i] = cs__now_us();
		rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(l->topic), RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_KEY(key, strlen(key)),
				  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i),
				  RD_KAFKA_V_END);
		rd_kafka_poll(rk, 0);
		usleep(10000);
	}
	rd_kafka_flush(rk, 30000);
	rd_kafka_destroy(rk);
	atomic_store(&l->done, 1);
	return NULL;
}

/* Background load during a latency measurement: events at rate per second, paced every 10 ms. */
typedef struct cs__load_s {
	const char *brokers, *topic;
	double rate;
	size_t nind;
	atomic_int stop;
	long sent;
} cs__load_t;

static void *cs__load_producer(void *arg) {
	cs__load_t *ld = arg;
	cs_bench_gen_opts_t o = {9, 0.001, cs_wall_ms() / 1000 - 60, 60, ld->nind};
	cs_bench_gen_t *g = cs_bench_gen_new(&o);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], buf[8192];
	rd_kafka_t *rk;
	int64_t t0 = cs__now_us();
	rd_kafka_conf_set(conf, "bootstrap.servers", ld->brokers, errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr));
	rd_kafka_conf_set(conf, "compression.codec", "lz4", errstr, sizeof(errstr));
	if (!g || cs_bench_kafka_apply(conf, errstr, sizeof(errstr)) ||
	    !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		cs_bench_gen_destroy(g);
		return NULL;
	}
	while (!atomic_load(&ld->stop)) {
		/* as many as the rate asks by now */
		long due = (long)(ld->rate * (double)(cs__now_us() - t0) / 1e6);
		for (; ld->sent < due; ld->sent++) {
			size_t len = cs_bench_gen_event(g, buf, sizeof(buf));
			const char *key = cs_bench_gen_org(g);
			if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(ld->topic), RD_KAFKA_V_VALUE(buf, len),
					      RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_END))
				break; /* queue full: behind the rate, try again next slice */
		}
		rd_kafka_poll(rk, 0);
		usleep(10000);
	}
	rd_kafka_flush(rk, 30000);
	rd_kafka_destroy(rk);
	cs_bench_gen_destroy(g);
	return NULL;
}

static int cs__cmp_ll(const void *a, const void *b) {
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/*
 * From produce() to the alert in the Redis stream, for events carrying an
 * indicator, while cshield-ingest runs with its defaults. p50 and p99 in ms
 * into *p50 and *p99; the number measured is returned.
 */
static int cs__latency(redisContext *rc, const char *prefix, const char *brokers, const char *topic, size_t nind,
		       double *p50, double *p99) {
	cs_bench_gen_opts_t o = {7, 1.0, cs_wall_ms() / 1000 - 60, 60, nind};
	cs__lat_t *l = cs_calloc(1, sizeof(*l));
	char last[CS_TLP__CNT][64], key[CS_TLP__CNT][128];
	long long lat[CS__LAT_N];
	int n = 0, got = 0;
	pthread_t th;
	int64_t deadline;

	if (!l || !(l->g = cs_bench_gen_new(&o))) {
		cs_free(l);
		return 0;
	}
	l->brokers = brokers;
	l->topic = topic;
	for (size_t i = 0; i < CS__LAT_N; i++)
		l->off[i] = -1;
	for (int t = 0; t < CS_TLP__CNT; t++) { /* every TLP's stream, after the last alert already there */
		redisReply *r;
		cs_keys_alerts(key[t], sizeof(key[t]), prefix, (cs_tlp_t)t);
		snprintf(last[t], sizeof(last[t]), "0-0");
		r = redisCommand(rc, "XREVRANGE %s + - COUNT 1", key[t]);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
			snprintf(last[t], sizeof(last[t]), "%s", r->element[0]->element[0]->str);
		if (r)
			freeReplyObject(r);
	}
	pthread_create(&th, NULL, cs__lat_producer, l);
	/* every alert's arrival; matched to the sends once all delivery reports are in (an alert
	 * can be read before its event's delivery report was served) */
	deadline = cs_clock_ms() + 60000;
	{
		cs__arrival_t *arr = NULL;
		size_t na = 0, cap = 0;
		int64_t quiet_since = cs_clock_ms(), done_at = 0;
		/* until the stream is quiet after the last send, or 5 s after it (other alerts may keep coming) */
		while (cs_clock_ms() < deadline &&
		       !(atomic_load(&l->done) && (cs_clock_ms() - quiet_since > 3000 || (done_at && cs_clock_ms() - done_at > 5000)))) {
			if (!done_at && atomic_load(&l->done))
				done_at = cs_clock_ms();
			const char *argv[6 + 2 * CS_TLP__CNT] = {"XREAD", "COUNT", "500", "BLOCK", "500", "STREAMS"};
			redisReply *r;
			int64_t now;
			for (int t = 0; t < CS_TLP__CNT; t++)
				argv[6 + t] = key[t], argv[6 + CS_TLP__CNT + t] = last[t];
			r = redisCommandArgv(rc, 6 + 2 * CS_TLP__CNT, argv, NULL);
			now = cs__now_us();
			for (size_t si = 0; r && r->type == REDIS_REPLY_ARRAY && si < r->elements; si++) {
				redisReply *entries = r->element[si]->element[1];
				int t = 0;
				while (t < CS_TLP__CNT && strcmp(key[t], r->element[si]->element[0]->str))
					t++;
				if (t == CS_TLP__CNT)
					continue;
				quiet_since = cs_clock_ms();
				for (size_t e = 0; e < entries->elements; e++) {
					redisReply *fields = entries->element[e]->element[1];
					const char *a = fields->elements == 4 ? fields->element[3]->str : "";
					const char *pp = strstr(a, "\"partition\":"), *po = strstr(a, "\"offset\":");
					snprintf(last[t], sizeof(last[t]), "%s", entries->element[e]->element[0]->str);
					if (!pp || !po || cs_array_reserve(&arr, &cap, na + 1, sizeof(*arr)))
						continue;
					arr[na].part = atoi(pp + 12);
					arr[na].off = strtoll(po + 9, NULL, 10);
					arr[na++].us = now;
				}
			}
			if (r)
				freeReplyObject(r);
		}
		pthread_join(th, NULL);
		for (size_t i = 0; i < CS__LAT_N; i++)
			for (size_t k = 0; k < na && !l->got_us[i]; k++)
				if (arr[k].part == l->part[i] && arr[k].off == l->off[i])
					l->got_us[i] = arr[k].us; /* the first alert of the event */
		cs_free(arr);
	}
	(void)got;
	for (size_t i = 0; i < CS__LAT_N; i++)
		if (l->got_us[i])
			lat[n++] = (l->got_us[i] - l->sent_us[i]) / 1000;
	qsort(lat, (size_t)n, sizeof(*lat), cs__cmp_ll);
	*p50 = n ? (double)lat[n / 2] : -1;
	*p99 = n ? (double)lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : -1;
	cs_bench_gen_destroy(l->g);
	cs_free(l);
	return n;
}

/* What e2e and retro set up alike: Redis, a fresh topic of 4 partitions holding the
 * generator's events (half lz4, half zstd), the indicator file, the cshield-ingest to run. */
typedef struct cs__setup_s {
	const char *brokers, *raddr;
	char topic[128], prefix[64], ind[64], host[128], ingest[4200];
	redisContext *rc;
} cs__setup_t;

/* 0, or the exit status (said on stderr). mode names the topic and the messages ("e2e", "retro"). */
static int cs__setup(cs__setup_t *s, const char *mode, const char *prefix, long events, size_t nind) {
	cs_bench_gen_opts_t o = {7, 0.001, 0, 900, nind};
	cs_bench_gen_t *g;
	FILE *fp;
	int fd;
	s->brokers = getenv("CS_KAFKA_BOOTSTRAP");
	s->raddr = getenv("CS_REDIS_ADDR");
	if (!s->brokers || !s->raddr || !strchr(s->raddr, ':')) {
		fprintf(stderr, "cshield-bench: %s needs CS_KAFKA_BOOTSTRAP and CS_REDIS_ADDR "
				"(deploy/local/services.sh start; . $CS_LOCAL_DIR/env)\n", mode);
		return 2;
	}
	snprintf(s->host, sizeof(s->host), "%.*s", (int)(strrchr(s->raddr, ':') - s->raddr), s->raddr);
	if (!(s->rc = redisConnect(s->host, atoi(strrchr(s->raddr, ':') + 1))) || s->rc->err) {
		fprintf(stderr, "cshield-bench: redis %s unreachable\n", s->raddr);
		return 1;
	}
	snprintf(s->topic, sizeof(s->topic), "cs-bench-%s-%d-%lld", mode, (int)getpid(), (long long)cs_wall_ms());
	snprintf(s->prefix, sizeof(s->prefix), "%s%d", prefix, (int)getpid());
	if (cs__create_topic(s->brokers, s->topic, 4)) {
		fprintf(stderr, "cshield-bench: cannot create topic %s\n", s->topic);
		return 1;
	}
	o.ts_start_s = cs_wall_ms() / 1000 - 900;
	if (!(g = cs_bench_gen_new(&o)))
		return 1;
	strcpy(s->ind, "/tmp/cshield-bench-ind-XXXXXX");
	if ((fd = mkstemp(s->ind)) < 0 || !(fp = fdopen(fd, "w"))) {
		cs_bench_gen_destroy(g);
		return 1;
	}
	cs_bench_gen_write_indicators(g, fp);
	fclose(fp);
	fprintf(stderr, "cshield-bench: %s: producing %ld events to %s (4 partitions, lz4 then zstd)\n", mode, events,
		s->topic);
	if (cs__produce_half(s->brokers, s->topic, g, events / 2, "lz4") < 0 ||
	    cs__produce_half(s->brokers, s->topic, g, events - events / 2, "zstd") < 0) {
		fprintf(stderr, "cshield-bench: produce failed\n");
		cs_bench_gen_destroy(g);
		return 1;
	}
	cs_bench_gen_destroy(g);
	cs__ingest_path(s->ingest, sizeof(s->ingest));
	return 0;
}

/* The baseline: kcat's raw consume of the whole topic to /dev/null, in seconds. */
static double cs__kcat_seconds(const char *brokers, const char *topic) {
	char cmd[1024];
	int64_t t0;
	snprintf(cmd, sizeof(cmd), "kcat -C -b %s -t %s -o beginning -e -q -X enable.partition.eof=true", brokers, topic);
	cs_bench_kafka_kcat_args(cmd, sizeof(cmd) - 32);
	strcat(cmd, " > /dev/null 2>&1");
	t0 = cs_clock_ms();
	if (system(cmd) != 0)
		fprintf(stderr, "cshield-bench: kcat failed (is it installed?)\n");
	return (double)(cs_clock_ms() - t0) / 1000.0;
}

/* The ingest configuration both modes share, then extra lines (key=value\n...). 0 or -1. */
static int cs__write_conf(const cs__setup_t *s, const char *conf, const char *group, const char *log_level,
			  const char *extra) {
	FILE *fp = fopen(conf, "w");
	if (!fp)
		return -1;
	fprintf(fp, "topics=%s\ngroup.id=%s\nindicators.file=%s\naggregate.key.prefix=%s\nkafka.bootstrap.servers=%s\n"
		    "redis.host=%s\nredis.port=%s\nlog.level=%s\n%s",
		s->topic, group, s->ind, s->prefix, s->brokers, s->host, strrchr(s->raddr, ':') + 1, log_level, extra);
	cs_bench_kafka_conf_lines(fp);
	return fclose(fp) ? -1 : 0;
}

/* cshield-ingest with argv, its stderr to logf (truncated). The pid, or -1 (said). */
static pid_t cs__spawn_ingest(char *const argv[], const char *logf) {
	posix_spawn_file_actions_t fa;
	pid_t pid;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) {
		fprintf(stderr, "cshield-bench: cannot run %s\n", argv[0]);
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

int cs_bench_e2e(long events, size_t nind, int workers, int json) {
	/* what the client sends (one EVALSHA a flush); HMGET is left out: the flush script calls it too
	 * (its checks), and the offsets read at assignment are a handful */
	static const char *const client_cmds[] = {"evalsha", "script", "select", "auth", NULL};
	char group[160], conf[128], logf[128], cmd[1024], extra[200];
	const char *brokers, *topic, *prefix;
	cs__setup_t su;
	redisContext *rc;
	long long c0, c0_client, c1, c1_client;
	double kcat_s, ours_s;
	int64_t t0, t_first = 0;
	long long off_first = 0;
	double start_s;
	long total = events, hwm = -1;
	double p50 = -1, p99 = -1, lp50 = -1, lp99 = -1;
	int lat_n = 0, lat_load_n = 0;
	cs__load_t load;
	char parts[64];
	pid_t pid;
	int st, fd;
	FILE *fp;

	if ((st = cs__setup(&su, "e2e", "bench", events, nind)))
		return st;
	brokers = su.brokers, topic = su.topic, prefix = su.prefix, rc = su.rc;
	snprintf(group, sizeof(group), "%s-g", topic);
	strcpy(parts, "/tmp/cshield-bench-parts-XXXXXX");
	if ((fd = mkstemp(parts)) < 0 || !(fp = fdopen(fd, "w")))
		return 1;
	cs_bench_gen_write_participants(fp);
	fclose(fp);
	kcat_s = cs__kcat_seconds(brokers, topic); /* the baseline */

	snprintf(conf, sizeof(conf), "/tmp/cshield-bench-%d.conf", (int)getpid());
	snprintf(logf, sizeof(logf), "/tmp/cshield-bench-%d.log", (int)getpid());
	snprintf(extra, sizeof(extra), "workers=%d\nparticipants.file=%s\n", workers, parts);
	if (cs__write_conf(&su, conf, group, "warn", extra))
		return 1;
	c0 = cs__redis_calls(rc, NULL);
	c0_client = cs__redis_calls(rc, client_cmds);
	{
		char *argv[] = {su.ingest, "-c", conf, NULL};
		t0 = cs_clock_ms();
		if ((pid = cs__spawn_ingest(argv, logf)) < 0)
			return 1;
	}
	for (;;) {
		long long off = cs__redis_offsets(rc, (cs_keys_off(cmd, sizeof(cmd), prefix, group), cmd));
		long h = cs__hwm_kb(pid);
		if (h > hwm)
			hwm = h;
		if (off > 0 && !t_first) { /* the first flush: indicators loaded, group joined */
			t_first = cs_clock_ms();
			off_first = off;
		}
		if (off >= events)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid || cs_clock_ms() - t0 > 600000) {
			fprintf(stderr, "cshield-bench: cshield-ingest stopped or stalled at %lld of %ld (log: %s)\n", off,
				events, logf);
			return 1;
		}
		usleep(5000);
	}
	ours_s = (double)(cs_clock_ms() - t_first) / 1000.0;
	c1 = cs__redis_calls(rc, NULL);
	c1_client = cs__redis_calls(rc, client_cmds);
	fprintf(stderr, "cshield-bench: e2e: produce-to-alert latency, %d events carrying an indicator, 10 ms apart\n",
		CS__LAT_N);
	lat_n = cs__latency(rc, prefix, brokers, topic, nind, &p50, &p99);
	{
		/* again while events arrive at half the throughput just measured */
		pthread_t th;
		memset(&load, 0, sizeof(load));
		load.brokers = brokers;
		load.topic = topic;
		load.nind = nind;
		load.rate = (double)(events - (long)off_first) / (ours_s > 0 ? ours_s : 1) / 2.0;
		fprintf(stderr, "cshield-bench: e2e: the same under a load of %.0f events/s (half the throughput)\n", load.rate);
		pthread_create(&th, NULL, cs__load_producer, &load);
		lat_load_n = cs__latency(rc, prefix, brokers, topic, nind, &lp50, &lp99);
		atomic_store(&load.stop, 1);
		pthread_join(th, NULL);
	}
	start_s = (double)(t_first - t0) / 1000.0;
	if (ours_s <= 0)
		ours_s = 0.001;
	events -= (long)off_first; /* measured: from the first flush to lag 0 */
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	unlink(su.ind);
	unlink(conf);
	unlink(parts);
	if (json) {
		cs_jw_t jw;
		cs_jw_init(&jw, stdout);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "mode", "e2e");
		cs_jw_kint(&jw, "threads", workers);
		cs_jw_kint(&jw, "events", events);
		cs_jw_kfixed(&jw, "seconds", ours_s, 3);
		cs_jw_kfixed(&jw, "events_per_s", events / ours_s, 0);
		cs_jw_kfixed(&jw, "kcat_events_per_s", total / kcat_s, 0);
		cs_jw_kfixed(&jw, "vs_kcat", (events / ours_s) / (total / kcat_s), 3);
		cs_jw_kfixed(&jw, "startup_s", start_s, 3);
		cs_jw_kfixed(&jw, "redis_commands_per_event", (double)(c1_client - c0_client) / total, 5);
		cs_jw_kfixed(&jw, "redis_calls_per_event_incl_script", (double)(c1 - c0) / total, 5);
		cs_jw_kfixed(&jw, "peak_rss_mb", hwm / 1024.0, 1);
		cs_jw_kint(&jw, "latency_samples", lat_n);
		cs_jw_kfixed(&jw, "latency_p50_ms", p50, 0);
		cs_jw_kfixed(&jw, "latency_p99_ms", p99, 0);
		cs_jw_kfixed(&jw, "load_events_per_s", load.rate, 0);
		cs_jw_kint(&jw, "latency_loaded_samples", lat_load_n);
		cs_jw_kfixed(&jw, "latency_loaded_p50_ms", lp50, 0);
		cs_jw_kfixed(&jw, "latency_loaded_p99_ms", lp99, 0);
		cs_jw_kint(&jw, "exit_status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		cs_jw_obj_end(&jw);
		putchar('\n');
	} else {
		printf("e2e: %ld EVE events, 4 partitions, lz4 + zstd, %zu indicators, 13 participants (keys), real Kafka and Redis\n",
		       total, nind);
		printf("%-40s %12.2f s (load and compile indicators, join the group, first flush)\n", "cshield-ingest start-up",
		       start_s);
		char label[64];
		snprintf(label, sizeof(label), "cshield-ingest (%d worker%s)", workers, workers > 1 ? "s" : "");
		printf("%-40s %12.0f events/s (%ld events in %.2f s, first flush to lag 0)\n", label, events / ours_s,
		       events, ours_s);
		printf("%-40s %12.0f events/s (%.2f s)\n", "kcat raw consume to /dev/null", total / kcat_s, kcat_s);
		printf("%-40s %12.3fx\n", "vs_kcat", (events / ours_s) / (total / kcat_s));
		printf("%-40s %12.5f (EVALSHA, SCRIPT LOAD; %.5f with the script's own calls)\n", "Redis commands per event",
		       (double)(c1_client - c0_client) / total, (double)(c1 - c0) / total);
		printf("%-40s %12.1f MB\n", "cshield-ingest peak RSS", hwm / 1024.0);
		printf("%-40s %5.0f / %.0f ms (%d events with an indicator, 10 ms apart; the defaults: "
		       "flush.interval.ms=1000, alerts.max.delay.ms=100)\n",
		       "produce-to-alert latency p50 / p99", p50, p99, lat_n);
		printf("%-40s %5.0f / %.0f ms (the same, %d measured, while %ld events arrive at %.0f events/s: half the throughput)\n",
		       "  under load p50 / p99", lp50, lp99, lat_load_n, load.sent, load.rate);
	}
	redisFree(rc);
	return 0;
}

/*
 * `cshield-bench retro`: a retro-hunt over retained events. The same corpus
 * as e2e in a fresh topic, kcat's raw consume of it (the baseline), then
 * `cshield-ingest --retro` with 100 of the live indicators as the new ones,
 * from the start of the topic to its end: events/s of wall time (first flush
 * to exit) and per CPU second of the process (user + system: "per core"),
 * against the target of 1M events/s per core.
 */
int cs_bench_retro(long events, size_t nind, int json) {
	char newind[64], conf[128], logf[128], group[160], key[256];
	const char *topic;
	cs__setup_t su;
	redisContext *rc;
	double kcat_s, wall_s, cpu_s;
	int64_t t0, t_first = 0, since_s;
	long long first_events = 0, read_again = 0, retro_hits = 0;
	struct rusage ru;
	char cmd[1024];
	pid_t pid;
	int st, fd;
	FILE *fp, *in;

	since_s = cs_wall_ms() / 1000 - 60;
	if ((st = cs__setup(&su, "retro", "benchretro", events, nind)))
		return st;
	topic = su.topic, rc = su.rc;
	/* the new indicators: 100 of the set (the first lines but the header) */
	strcpy(newind, "/tmp/cshield-bench-new-XXXXXX");
	if ((fd = mkstemp(newind)) < 0 || !(fp = fdopen(fd, "w")) || !(in = fopen(su.ind, "r")))
		return 1;
	for (int n = 0; n < 101 && fgets(cmd, sizeof(cmd), in); n++)
		if (n)
			fputs(cmd, fp);
	fclose(in);
	fclose(fp);
	kcat_s = cs__kcat_seconds(su.brokers, topic);

	snprintf(conf, sizeof(conf), "/tmp/cshield-bench-retro-%d.conf", (int)getpid());
	snprintf(logf, sizeof(logf), "/tmp/cshield-bench-retro-%d.log", (int)getpid());
	snprintf(group, sizeof(group), "%s-g", topic);
	if (cs__write_conf(&su, conf, group, "info", ""))
		return 1;
	cs_keys_stats(key, sizeof(key), su.prefix);
	{
		char since[32];
		char *argv[] = {su.ingest, "-c", conf, "--retro", newind, "--since", since, NULL};
		snprintf(since, sizeof(since), "%lld", (long long)since_s);
		t0 = cs_clock_ms();
		if ((pid = cs__spawn_ingest(argv, logf)) < 0)
			return 1;
	}
	for (;;) {
		redisReply *r;
		if (wait4(pid, &st, WNOHANG, &ru) == pid)
			break;
		r = redisCommand(rc, "HGET %s %s", key, CS_KEYS_STAT_RETRO_EVENTS);
		if (r && r->type == REDIS_REPLY_STRING && !t_first) {
			t_first = cs_clock_ms(); /* the first flush: indicators loaded, group joined */
			first_events = strtoll(r->str, NULL, 10);
		}
		if (r)
			freeReplyObject(r);
		if (cs_clock_ms() - t0 > 600000) {
			kill(pid, SIGKILL);
			fprintf(stderr, "cshield-bench: the retro-hunt stalled (log: %s)\n", logf);
			return 1;
		}
		usleep(2000);
	}
	wall_s = (double)(cs_clock_ms() - (t_first ? t_first : t0)) / 1000.0;
	cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	{
		redisReply *r = redisCommand(rc, "HMGET %s %s %s", key, CS_KEYS_STAT_RETRO_EVENTS, CS_KEYS_STAT_RETRO_HITS);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
			read_again = r->element[0]->str ? strtoll(r->element[0]->str, NULL, 10) : 0;
			retro_hits = r->element[1]->str ? strtoll(r->element[1]->str, NULL, 10) : 0;
		}
		if (r)
			freeReplyObject(r);
	}
	unlink(su.ind);
	unlink(newind);
	unlink(conf);
	if (!WIFEXITED(st) || WEXITSTATUS(st) || read_again != events) {
		fprintf(stderr, "cshield-bench: the retro-hunt read %lld of %ld events, exit %d (log: %s)\n", read_again, events,
			WIFEXITED(st) ? WEXITSTATUS(st) : -1, logf);
		return 1;
	}
	{
		double measured = (double)(read_again - first_events), per_s = measured / (wall_s > 0 ? wall_s : 0.001),
		       per_core = (double)read_again / (cpu_s > 0 ? cpu_s : 0.001), kcat = (double)events / kcat_s;
		if (json) {
			cs_jw_t jw;
			cs_jw_init(&jw, stdout);
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "mode", "retro");
			cs_jw_kint(&jw, "events", events);
			cs_jw_kint(&jw, "new_indicators", 100);
			cs_jw_kint(&jw, "retro_hits", retro_hits);
			cs_jw_kfixed(&jw, "events_per_s", per_s, 0);
			cs_jw_kfixed(&jw, "events_per_cpu_s", per_core, 0);
			cs_jw_kfixed(&jw, "cpu_s", cpu_s, 3);
			cs_jw_kfixed(&jw, "kcat_events_per_s", kcat, 0);
			cs_jw_kfixed(&jw, "vs_kcat", per_s / kcat, 3);
			cs_jw_kfixed(&jw, "vs_target_1m_per_core", per_core / 1e6, 3);
			cs_jw_obj_end(&jw);
			putchar('\n');
		} else {
			printf("retro: %ld retained EVE events, 4 partitions, lz4 + zstd; 100 new indicators of %zu; real Kafka and Redis\n",
			       events, nind);
			printf("%-40s %12.0f events/s (%.0f events, first flush to the end)\n", "cshield-ingest --retro", per_s,
			       measured);
			printf("%-40s %12.0f events/s (%.2f CPU s for all %ld: user + system)\n", "  per core", per_core, cpu_s,
			       events);
			printf("%-40s %12.0f events/s (%.2f s)\n", "kcat raw consume to /dev/null", kcat, kcat_s);
			printf("%-40s %12.3fx\n", "vs_kcat", per_s / kcat);
			printf("%-40s %12.3fx (target: 1M events/s per core)\n", "per core vs target", per_core / 1e6);
			printf("%-40s %12lld\n", "retro hits found", retro_hits);
		}
	}
	redisFree(rc);
	return 0;
}
