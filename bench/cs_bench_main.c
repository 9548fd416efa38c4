/*
 * cs_bench_main.c - the cshield-bench program.
 * First slice: the generator (gen-indicators, gen-events, produce), which the
 * quickstart uses to feed a topic. Measurement modes (decode, engine,
 * indicators, e2e) arrive with issue #6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>

#include "cs_common.h"
#include "cs_bench.h"
#include "cs_bench_modes.h"


static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-bench COMMAND [options]\n"
		"\n"
		"Commands:\n"
		"  gen-indicators        write the synthetic indicator set (one a line) to stdout\n"
		"  gen-participants      write the sample participant registry (participants.file) to stdout\n"
		"  gen-events            write synthetic Suricata EVE events (NDJSON) to stdout\n"
		"  produce               produce synthetic events to a Kafka topic, keyed by the sending\n"
		"                        participant (gen-participants)\n"
		"  decode                measure the decoder per format against jansson (naive)\n"
		"  engine                decode + match + pre-aggregate on 1..N threads, against\n"
		"                        the raw-scan limit and the naive jansson + hash set\n"
		"  indicators            load + compile time and RSS by indicator set size\n"
		"  e2e                   produce, then cshield-ingest to lag 0 on the real Kafka and\n"
		"                        Redis ($CS_KAFKA_BOOTSTRAP, $CS_REDIS_ADDR), against kcat\n"
		"  retro                 a retro-hunt (cshield-ingest --retro) over retained events on the\n"
		"                        real Kafka and Redis: events/s and per CPU second, against kcat\n"
		"  report                a 30-day situation report over 100,000 indicators hit and 500\n"
		"                        participants on the real Redis ($CS_REDIS_ADDR): day roll-ups\n"
		"                        against hour roll-ups, Redis memory per day per tier\n"
		"\n"
		"Options:\n"
		"  --seed N              PRNG seed (default 1); same seed, same bytes\n"
		"  --indicators N        size of the indicator set (default 1000)\n"
		"  --events N            number of events (default 100000)\n"
		"  --hit-rate R          share of events carrying an indicator (default 0.001)\n"
		"  --start EPOCH_S       first event time (default: now - span)\n"
		"  --span SECONDS        event times spread over this many seconds (default 600)\n"
		"  --brokers LIST        (produce) bootstrap servers (default $CS_KAFKA_BOOTSTRAP)\n"
		"  --topic T             (produce) topic (default cshield.events)\n"
		"  --compression C       (produce) none, lz4 or zstd (default lz4)\n"
		"  -X [kafka.]key=value  a Kafka client property (security.protocol, sasl.*, ssl.*...) for\n"
		"                        every client the bench makes, the cshield-ingest it runs and kcat\n"
		"  --format F            (gen-events, produce, decode) eve, ecs, zeek, ocsf or cef\n"
		"                        (default eve; decode: every format)\n"
		"  --seconds S           (decode) measure each side for at least S seconds (default 2)\n"
		"  --json                one JSON object instead of a table\n"
		"  --threads N           (engine) measure 1..N threads; (e2e) ingest workers\n"
		"                        (default: the cores)\n"
		"  --sizes A,B,...       (indicators) set sizes (default 10000,100000)\n"
		"  --plot FILE.svg       (engine, indicators) draw the figures\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version and exit\n");
}

static struct {
	char key[128], value[512];
} cs__kprops[32];
static int cs__nkprops;

int cs_bench_kafka_add(const char *kv) {
	const char *eq = strchr(kv, '=');
	if (!strncmp(kv, "kafka.", 6))
		kv += 6;
	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(cs__kprops[0].key) || strlen(eq + 1) >= sizeof(cs__kprops[0].value) ||
	    cs__nkprops == (int)(sizeof(cs__kprops) / sizeof(*cs__kprops)))
		return -1;
	snprintf(cs__kprops[cs__nkprops].key, sizeof(cs__kprops[0].key), "%.*s", (int)(eq - kv), kv);
	snprintf(cs__kprops[cs__nkprops].value, sizeof(cs__kprops[0].value), "%s", eq + 1);
	cs__nkprops++;
	return 0;
}

int cs_bench_kafka_apply(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size) {
	for (int i = 0; i < cs__nkprops; i++)
		if (rd_kafka_conf_set(conf, cs__kprops[i].key, cs__kprops[i].value, errstr, errstr_size) != RD_KAFKA_CONF_OK)
			return -1;
	return 0;
}

void cs_bench_kafka_conf_lines(FILE *fp) {
	for (int i = 0; i < cs__nkprops; i++)
		fprintf(fp, "kafka.%s=%s\n", cs__kprops[i].key, cs__kprops[i].value);
}

void cs_bench_kafka_kcat_args(char *buf, size_t size) {
	size_t len = strlen(buf);
	for (int i = 0; i < cs__nkprops && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, " -X '%s=%s'", cs__kprops[i].key, cs__kprops[i].value);
}

static void cs__dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	long *failed = opaque;
	if (m->err) {
		(*failed)++;
		if (*failed <= 5)
			fprintf(stderr, "cshield-bench: delivery failed: %s\n", rd_kafka_err2str(m->err));
	}
}

static int cs__produce(cs_bench_gen_t *gen, int fmt, long events, const char *brokers, const char *topic,
		       const char *compression) {
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	char errstr[512], buf[8192];
	long failed = 0;
	int64_t t0 = cs_clock_ms();

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "compression.codec", compression, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ||
	    cs_bench_kafka_apply(conf, errstr, sizeof(errstr))) {
		fprintf(stderr, "cshield-bench: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, cs__dr_cb);
	rd_kafka_conf_set_opaque(conf, &failed);
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-bench: %s\n", errstr);
		return 1;
	}
	for (long i = 0; i < events; i++) {
		size_t len = cs_bench_gen_event_fmt(gen, (cs_bench_fmt_t)fmt, buf, sizeof(buf));
		const char *key = cs_bench_gen_org(gen); /* the participant sending it */
		size_t klen = strlen(key);
		rd_kafka_resp_err_t err;
		while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, klen),
						RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 100);
		if (err) {
			fprintf(stderr, "cshield-bench: produce: %s\n", rd_kafka_err2str(err));
			rd_kafka_destroy(rk);
			return 1;
		}
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	if (rd_kafka_outq_len(rk) > 0)
		failed += rd_kafka_outq_len(rk);
	rd_kafka_destroy(rk);
	fprintf(stderr, "cshield-bench: produced %ld events to %s (%s) in %.2f s, %ld failed\n",
		events - failed, topic, compression, (double)(cs_clock_ms() - t0) / 1000.0, failed);
	return failed ? 1 : 0;
}

/* A whole unsigned decimal number; 0 or -1. */
static int cs__num_u64(const char *s, uint64_t *out) {
	char *end;
	unsigned long long v;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* A whole finite number; 0 or -1. */
static int cs__num_double(const char *s, double *out) {
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"seed", required_argument, NULL, 's'},     {"indicators", required_argument, NULL, 'i'},
		{"events", required_argument, NULL, 'n'},   {"format", required_argument, NULL, 'f'},
		{"threads", required_argument, NULL, 't'},  {"plot", required_argument, NULL, 'p'},
		{"sizes", required_argument, NULL, 'z'},    {"seconds", required_argument, NULL, 'S'},
		{"hit-rate", required_argument, NULL, 'H'}, {"start", required_argument, NULL, 'a'},
		{"span", required_argument, NULL, 'A'},     {"brokers", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 'T'},    {"compression", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},        {"set", required_argument, NULL, 'X'},
		{NULL, 0, NULL, 0}};
	int c, optidx = 0, bad = 0;
	cs_bench_gen_opts_t o = {1, 0.001, 0, 600, 1000};
	long events = 100000;
	const char *cmd = NULL, *brokers = getenv("CS_KAFKA_BOOTSTRAP"), *topic = "cshield.events";
	const char *compression = "lz4";
	int have_start = 0, rc = 0, json = 0, fmt = CS_BENCH_FMT_EVE, have_fmt = 0, have_events = 0;
	const char *fmt_name = "eve";
	double seconds = 2.0;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), have_ind = 0, have_hit = 0;
	const char *plot = NULL, *sizes_arg = "10000,100000";
	cs_bench_gen_t *gen;

	cs_proc_init("cshield-bench");
	while ((c = getopt_long(argc, argv, "hVX:", opts, &optidx)) != -1) {
		switch (c) {
		case 'X':
			if (cs_bench_kafka_add(optarg)) {
				fprintf(stderr, "cshield-bench: -X \"%s\": expected [kafka.]key=value\n", optarg);
				return 2;
			}
			break;
		case 'h':
			cs__usage(stdout);
			return cs_proc_stdout_status("cshield-bench");
		case 'V':
			printf("cshield-bench %s\n", CS_VERSION_STR);
			return cs_proc_stdout_status("cshield-bench");
		case 'j':
			json = 1;
			break;
		case 's':
			bad |= cs__num_u64(optarg, &o.seed);
			break;
		case 'i':
			bad |= cs__num_u64(optarg, &o.indicators);
			have_ind = 1;
			break;
		case 'n': {
			uint64_t n = 0;
			bad |= cs__num_u64(optarg, &n) || n > LONG_MAX;
			events = (long)n;
			have_events = 1;
			break;
		}
		case 'f':
			if ((fmt = cs_bench_fmt_parse(optarg)) < 0) {
				fprintf(stderr, "cshield-bench: unknown format \"%s\"\n", optarg);
				return 2;
			}
			fmt_name = optarg;
			have_fmt = 1;
			break;
		case 't': {
			uint64_t n = 0;
			bad |= cs__num_u64(optarg, &n) || n < 1 || n > 1024;
			threads = (int)n;
			break;
		}
		case 'p':
			plot = optarg;
			break;
		case 'z':
			sizes_arg = optarg;
			break;
		case 'S':
			bad |= cs__num_double(optarg, &seconds) || seconds <= 0;
			break;
		case 'H':
			bad |= cs__num_double(optarg, &o.hit_rate);
			have_hit = 1;
			break;
		case 'a': {
			uint64_t n = 0;
			bad |= cs__num_u64(optarg, &n) || n > INT64_MAX;
			o.ts_start_s = (int64_t)n;
			have_start = 1;
			break;
		}
		case 'A': {
			uint64_t n = 0;
			bad |= cs__num_u64(optarg, &n) || n > INT64_MAX;
			o.ts_span_s = (int64_t)n;
			break;
		}
		case 'b':
			brokers = optarg;
			break;
		case 'T':
			topic = optarg;
			break;
		case 'C':
			compression = optarg;
			break;
		default:
			cs__usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "cshield-bench: --%s \"%s\" is not a valid value\n", opts[optidx].name, optarg);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "cshield-bench: unexpected argument \"%s\"\n\n", argv[optind]);
		cs__usage(stderr);
		return 2;
	}
	if (!cmd) {
		cs__usage(stderr);
		return 2;
	}
	if (o.hit_rate < 0 || o.hit_rate > 1 || events < 0 || o.ts_span_s <= 0) {
		fprintf(stderr, "cshield-bench: --hit-rate must be in [0,1], --events >= 0, --span > 0\n");
		return 2;
	}
	if (!have_start)
		o.ts_start_s = (int64_t)time(NULL) - o.ts_span_s;
	if (!(gen = cs_bench_gen_new(&o))) {
		fprintf(stderr, "cshield-bench: out of memory\n");
		return 1;
	}
	if (!strcmp(cmd, "gen-indicators")) {
		cs_bench_gen_write_indicators(gen, stdout);
	} else if (!strcmp(cmd, "gen-participants")) {
		cs_bench_gen_write_participants(stdout);
	} else if (!strcmp(cmd, "gen-events")) {
		char buf[8192];
		for (long i = 0; i < events; i++) {
			size_t len = cs_bench_gen_event_fmt(gen, (cs_bench_fmt_t)fmt, buf, sizeof(buf));
			fwrite(buf, 1, len, stdout);
			fputc('\n', stdout);
		}
	} else if (!strcmp(cmd, "engine")) {
		rc = cs_bench_engine(have_events ? events : 50000, have_ind ? o.indicators : 10000, threads, seconds,
				     have_hit ? o.hit_rate : 0.001, json, plot);
	} else if (!strcmp(cmd, "report")) {
		rc = cs_bench_report(have_ind ? o.indicators : 100000, 500, 30, json);
	} else if (!strcmp(cmd, "retro")) {
		rc = cs_bench_retro(have_events ? events : 1000000, have_ind ? o.indicators : 10000, json);
	} else if (!strcmp(cmd, "e2e")) {
		rc = cs_bench_e2e(have_events ? events : 1000000, have_ind ? o.indicators : 10000, threads, json);
	} else if (!strcmp(cmd, "indicators")) {
		size_t sz[16];
		int n = 0;
		for (const char *p = sizes_arg; p && *p && n < 16; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
			sz[n++] = strtoull(p, NULL, 10);
		rc = cs_bench_indicators(sz, n, json, plot);
	} else if (!strcmp(cmd, "decode")) {
		rc = cs_bench_decode(have_fmt, fmt_name, have_events ? events : 50000, seconds, json);
	} else if (!strcmp(cmd, "produce")) {
		if (!brokers) {
			fprintf(stderr, "cshield-bench: produce needs --brokers or $CS_KAFKA_BOOTSTRAP\n");
			rc = 2;
		} else {
			rc = cs__produce(gen, fmt, events, brokers, topic, compression);
		}
	} else {
		fprintf(stderr, "cshield-bench: unknown command \"%s\"\n\n", cmd);
		cs__usage(stderr);
		rc = 2;
	}
	cs_bench_gen_destroy(gen);
	return rc ? rc : cs_proc_stdout_status("cshield-bench");
}
