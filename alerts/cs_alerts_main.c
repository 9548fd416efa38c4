/*
 * cs_alerts_main.c - the cshield-alerts program: an analyst team follows the
 * correlated alerts (JSON lines on standard output). DESIGN: options
 * (getopt_long), then cs_alerts_poll() until a signal, --max or --exit-idle;
 * option errors exit 2, Redis errors 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <getopt.h>

#include <time.h>
#include <jansson.h>

#include "cs_alerts.h"
#include "cs_report.h"

static volatile sig_atomic_t cs__stop;

static void cs__on_signal(int sig) {
	(void)sig;
	cs__stop = 1;
}

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-alerts --group TEAM [options]\n"
		"\n"
		"Follows the correlated alerts cshield-ingest writes to Redis (P:alerts) as one\n"
		"analyst team: one JSON object per line on standard output, each alert once per team,\n"
		"acknowledged once written; a reader that restarts gets what it had not acknowledged,\n"
		"what a crashed reader of the team left is reclaimed, and entries the stream dropped\n"
		"before the team read them are reported (standard error).\n"
		"\n"
		"  --group TEAM         the team (a Redis consumer group; created when new)\n"
		"  --consumer NAME      this reader (default: the host name); keep it across restarts\n"
		"  --from-start         a new team starts at the oldest alert kept (default: new alerts only)\n"
		"  --tlp LABEL          the audience: alerts marked above it are dropped (default red: all)\n"
		"  --org ID             only alerts of that participant\n"
		"  --type T             only indicators of that type (domain, ipv4, url, sha256, ...)\n"
		"  --source S           only indicators from that source\n"
		"  --member-state CC    only alerts from participants of that member state\n"
		"  --min-confidence N   only indicators with a confidence of at least N (0-100)\n"
		"  --reclaim-after MS   take over what another reader left pending that long (default 60000)\n"
		"  --view               a live terminal view (newest alerts, top indicators, rate) instead\n"
		"                       of JSON lines\n"
		"  --max N              stop after N alerts written\n"
		"  --exit-idle SECONDS  stop when no alert came for that long\n"
		"  --topic T            read the alerts topic (alerts.topic) instead of Redis: the team is a\n"
		"                       Kafka consumer group, offsets committed once written, an alert a\n"
		"                       replay repeated (same id) written once\n"
		"  --brokers LIST       Kafka bootstrap servers (default $CS_KAFKA_BOOTSTRAP)\n"
		"  --redis HOST:PORT    Redis server (default 127.0.0.1:6379, or $CS_REDIS_ADDR)\n"
		"  --sentinels LIST     Redis Sentinels HOST:PORT,...: read from the primary they name\n"
		"  --master-name N      the name the Sentinels monitor it under (with --sentinels)\n"
		"  --user NAME          the Redis ACL user (with a password)\n"
		"  --password-file F    the Redis password, from a file (or $CS_REDIS_PASSWORD); never printed\n"
		"  --prefix P           key prefix, as aggregate.key.prefix (default cs)\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version and exit\n");
}

#define CS__VIEW_ROWS 15
#define CS__VIEW_TOP 64

typedef struct cs__out_s {
	long written, max;
	int view; /* a live terminal view instead of JSON lines */
	char rows[CS__VIEW_ROWS][200];
	int row_next;
	struct {
		char value[96];
		long hits;
	} top[CS__VIEW_TOP];
	int64_t start_ms;
} cs__out_t;

/* The view: the newest alerts, the indicators hit most since the start, the rate. */
static void cs__view_draw(const cs__out_t *o, const char *team) {
	double min = (double)(cs_clock_ms() - o->start_ms) / 60000.0;
	int order[CS__VIEW_TOP], n = 0;
	printf("\033[H\033[2Jcshield-alerts: team %s, %ld alerts, %.1f a minute\n\nnewest alerts\n", team, o->written,
	       min > 0 ? (double)o->written / min : 0.0);
	for (int i = 0; i < CS__VIEW_ROWS; i++) {
		const char *r = o->rows[(o->row_next - 1 - i + 2 * CS__VIEW_ROWS) % CS__VIEW_ROWS];
		if (*r)
			printf("  %s\n", r);
	}
	for (int i = 0; i < CS__VIEW_TOP; i++)
		if (o->top[i].hits)
			order[n++] = i;
	for (int i = 1; i < n; i++) /* by hits, a few dozen at most */
		for (int j = i; j > 0 && o->top[order[j]].hits > o->top[order[j - 1]].hits; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	printf("\ntop indicators\n");
	for (int i = 0; i < n && i < 10; i++)
		printf("  %8ld  %s\n", o->top[order[i]].hits, o->top[order[i]].value);
	fflush(stdout);
}

static void cs__view_add(cs__out_t *o, const char *json, size_t len) {
	json_t *j = json_loadb(json, len, 0, NULL), *ind = json_object_get(j, "indicator");
	const char *v = json_string_value(json_object_get(ind, "value"));
	int slot = -1;
	snprintf(o->rows[o->row_next], sizeof(o->rows[0]), "%-20.20s %-12.12s %-40.40s %-16.16s %.60s",
		 json_string_value(json_object_get(j, "time")) ? json_string_value(json_object_get(j, "time")) : "",
		 json_string_value(json_object_get(j, "tlp")) ? json_string_value(json_object_get(j, "tlp")) : "",
		 v ? v : "", json_string_value(json_object_get(j, "org")) ? json_string_value(json_object_get(j, "org")) : "-",
		 json_string_value(json_object_get(j, "observable")) ? json_string_value(json_object_get(j, "observable")) : "");
	o->row_next = (o->row_next + 1) % CS__VIEW_ROWS;
	for (int i = 0; v && i < CS__VIEW_TOP; i++) {
		if (o->top[i].hits && !strncmp(o->top[i].value, v, sizeof(o->top[i].value) - 1)) {
			slot = i;
			break;
		}
		if (slot < 0 && !o->top[i].hits)
			slot = i;
	}
	if (v && slot < 0) { /* full: the least hit makes room */
		slot = 0;
		for (int i = 1; i < CS__VIEW_TOP; i++)
			if (o->top[i].hits < o->top[slot].hits)
				slot = i;
		o->top[slot].hits = 0;
	}
	if (v) {
		if (!o->top[slot].hits)
			snprintf(o->top[slot].value, sizeof(o->top[slot].value), "%s", v);
		o->top[slot].hits++;
	}
	json_decref(j);
}

static int cs__write(void *opaque, const char *id, const char *json, size_t len) {
	cs__out_t *o = opaque;
	(void)id;
	if (o->max && o->written >= o->max)
		return 1; /* not taken: stays pending for this reader */
	if (o->view) {
		cs__view_add(o, json, len);
	} else if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF || fflush(stdout)) {
		return 1; /* standard output gone: not acknowledged */
	}
	o->written++;
	return 0;
}

static int cs__num(const char *s, long long lo, long long hi, long long *out) {
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out < lo || *out > hi ? -1 : 0;
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},        {"consumer", required_argument, NULL, 'c'},
		{"from-start", no_argument, NULL, 'F'},         {"tlp", required_argument, NULL, 'l'},
		{"org", required_argument, NULL, 'o'},          {"type", required_argument, NULL, 't'},
		{"source", required_argument, NULL, 's'},       {"member-state", required_argument, NULL, 'm'},
		{"min-confidence", required_argument, NULL, 'C'}, {"reclaim-after", required_argument, NULL, 'R'},
		{"max", required_argument, NULL, 'x'},          {"exit-idle", required_argument, NULL, 'e'},
		{"redis", required_argument, NULL, 'r'},        {"prefix", required_argument, NULL, 'p'},
		{"topic", required_argument, NULL, 'T'},        {"brokers", required_argument, NULL, 'b'},
		{"view", no_argument, NULL, 'v'},
		{"sentinels", required_argument, NULL, 'S'},    {"master-name", required_argument, NULL, 'M'},
		{"user", required_argument, NULL, 'u'},         {"password-file", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},               {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	cs_alerts_opts_t o = {.redis_host = "127.0.0.1", .redis_port = 6379, .key_prefix = "cs", .min_idle_ms = 60000,
			      .block_ms = 500, .count = 100, .filter = {CS_TLP_RED, NULL, NULL, NULL, NULL, -1}};
	const char *addr = getenv("CS_REDIS_ADDR"), *sentinels = NULL, *master = NULL;
	char host[256], errstr[512], me[256];
	long long v, exit_idle = 0, idle_ms = 0;
	static cs__out_t out;
	static char password[1024];
	int c, rc = 0;
	cs_alerts_t *a;

	cs_proc_init("cshield-alerts");
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cs__usage(stdout);
			return cs_proc_stdout_status("cshield-alerts");
		case 'V':
			printf("cshield-alerts %s\n", CS_VERSION_STR);
			return cs_proc_stdout_status("cshield-alerts");
		case 'g': o.group = optarg; break;
		case 'c': o.consumer = optarg; break;
		case 'F': o.from_start = 1; break;
		case 'o': o.filter.org = optarg; break;
		case 't': o.filter.type = optarg; break;
		case 's': o.filter.source = optarg; break;
		case 'm': o.filter.member_state = optarg; break;
		case 'r': addr = optarg; break;
		case 'S': sentinels = optarg; break;
		case 'M': master = optarg; break;
		case 'p': o.key_prefix = optarg; break;
		case 'T': o.kafka_topic = optarg; break;
		case 'v': out.view = 1; break;
		case 'u': o.redis_user = optarg; break;
		case 'P':
			if (cs_secret_read(optarg, password, sizeof(password), errstr, sizeof(errstr))) {
				fprintf(stderr, "cshield-alerts: --password-file %s\n", errstr);
				return 2;
			}
			o.redis_password = password;
			break;
		case 'b': o.kafka_brokers = optarg; break;
		case 'l': {
			int t = cs_tlp_parse(optarg, strlen(optarg));
			if (t < 0) {
				fprintf(stderr, "cshield-alerts: --tlp \"%s\": expected clear, green, amber, amber+strict or red\n", optarg);
				return 2;
			}
			o.filter.tlp = (cs_tlp_t)t;
			break;
		}
		case 'C':
		case 'R':
		case 'x':
		case 'e': {
			static const long long hi[] = {100, 86400000, 1000000000, 86400};
			int i = c == 'C' ? 0 : c == 'R' ? 1 : c == 'x' ? 2 : 3;
			if (cs__num(optarg, c == 'C' ? 0 : 1, hi[i], &v)) {
				fprintf(stderr, "cshield-alerts: --%s \"%s\": expected a number from %d to %lld\n",
					opts[c == 'C' ? 8 : c == 'R' ? 9 : c == 'x' ? 10 : 11].name, optarg, c == 'C' ? 0 : 1, hi[i]);
				return 2;
			}
			if (c == 'C')
				o.filter.min_confidence = (int)v;
			else if (c == 'R')
				o.min_idle_ms = v;
			else if (c == 'x')
				out.max = (long)v;
			else
				exit_idle = v;
			break;
		}
		default:
			cs__usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cshield-alerts: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!o.group || !*o.group) {
		fprintf(stderr, "cshield-alerts: --group names the team (a consumer group)\n");
		return 2;
	}
	if (o.kafka_topic && !o.kafka_brokers && !(o.kafka_brokers = getenv("CS_KAFKA_BOOTSTRAP"))) {
		fprintf(stderr, "cshield-alerts: --topic needs --brokers (or $CS_KAFKA_BOOTSTRAP)\n");
		return 2;
	}
	if (o.kafka_topic && (o.filter.tlp < CS_TLP_RED))
		fprintf(stderr, "cshield-alerts: note: the alerts topic holds every TLP; --tlp filters here, "
				"Redis's per-TLP streams (with ACLs) are where the audience is enforced\n");
	if (!o.consumer) {
		if (gethostname(me, sizeof(me)))
			snprintf(me, sizeof(me), "reader");
		me[sizeof(me) - 1] = '\0';
		o.consumer = me;
	}
	if (!o.redis_password && getenv("CS_REDIS_PASSWORD"))
		o.redis_password = getenv("CS_REDIS_PASSWORD");
	if ((rc = cs_report_redis_target(addr, sentinels, master, host, sizeof(host), &o.redis_port, errstr,
					 sizeof(errstr)))) {
		fprintf(stderr, "cshield-alerts: %s\n", errstr);
		return rc;
	}
	if (addr || sentinels)
		o.redis_host = host;
	signal(SIGINT, cs__on_signal);
	signal(SIGTERM, cs__on_signal);
	if (!(a = cs_alerts_new(&o, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-alerts: %s\n", errstr);
		return 1;
	}
	out.start_ms = cs_clock_ms();
	while (!cs__stop && (!out.max || out.written < out.max)) {
		long n = cs_alerts_poll(a, cs__write, &out, errstr, sizeof(errstr));
		if (n == -1) {
			fprintf(stderr, "cshield-alerts: %s\n", errstr);
			rc = 1;
			break;
		}
		if (n == -2 && (!out.max || out.written < out.max)) {
			fprintf(stderr, "cshield-alerts: standard output closed\n");
			rc = 1;
			break;
		}
		if (cs_alerts_missed(a) > 0)
			fprintf(stderr, "cshield-alerts: MISSED %lld alerts: the stream dropped them (alerts.stream.maxlen) "
					"before team %s read them\n",
				(long long)cs_alerts_missed(a), o.group);
		if (out.view)
			cs__view_draw(&out, o.group);
		idle_ms = n > 0 ? 0 : idle_ms + o.block_ms;
		if (exit_idle && idle_ms >= exit_idle * 1000)
			break;
	}
	{
		int64_t acked, passed, dropped, reclaimed;
		cs_alerts_stats(a, &acked, &passed, &dropped, &reclaimed);
		fprintf(stderr, "cshield-alerts: team %s, reader %s: %lld written, %lld filtered out, %lld acknowledged, "
				"%lld reclaimed from other readers, %lld repeated ids not written again\n",
			o.group, o.consumer, (long long)passed, (long long)dropped, (long long)acked, (long long)reclaimed,
			(long long)cs_alerts_repeats(a));
	}
	cs_alerts_destroy(a);
	return rc;
}
