/*
 * cs_ingest_main.c - the cshield-ingest program.
 * DESIGN: parses the command line, loads the configuration, installs the
 * signal handlers and runs the consumer on the main thread.
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

#include "cs_ingest.h"

static cs_ingest_t *volatile cs__ing;
static volatile sig_atomic_t cs__stopping;

static void cs__on_hup(int sig) {
	(void)sig;
	if (cs__ing)
		cs_ingest_reload(cs__ing); /* an atomic store: the loader thread does the work */
}

static void cs__on_signal(int sig) {
	cs__stopping = 1; /* also during start-up, before there is anything to stop */
	if (cs__ing)
		cs_ingest_stop(cs__ing);
}

/* A time in ms: epoch seconds, ISO 8601, or <n>h / <n>d before now. 0 or -1. */
static int cs__parse_time(const char *s, int64_t *out) {
	size_t n = strlen(s);
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && end != s && v >= 0 && (!strcmp(end, "h") || !strcmp(end, "d"))) {
		*out = cs_wall_ms() - v * (*end == 'h' ? 3600000LL : 86400000LL);
		return *out >= 0 ? 0 : -1;
	}
	if (!errno && end != s && !*end && v >= 0) {
		*out = v * 1000;
		return 0;
	}
	return cs_time_parse_iso8601(s, n, out) || *out < 0 ? -1 : 0;
}

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-ingest -c FILE [-X key=value]...\n"
		"       cshield-ingest --dump-config-md\n"
		"\n"
		"Consumes SOC events from Kafka, matches their observables against the\n"
		"configured indicators and writes per-window hit counts to Redis together\n"
		"with the Kafka offsets they cover (exactly once).\n"
		"\n"
		"  -c, --config FILE    properties file (key=value), see docs/CONFIGURATION.md;\n"
		"                       several are read in order\n"
		"  -X, --set key=value  set one property; every -X is applied after every file\n"
		"      --dump-config-md print every property as Markdown and exit\n"
		"      --retro FILE     a retro-hunt: look for the indicators of FILE (any indicator\n"
		"                       format) in the events the topics still hold, then exit\n"
		"      --since TIME     the hunt's start: ISO 8601, epoch seconds, or <n>h / <n>d ago\n"
		"                       (Kafka message times; required with --retro)\n"
		"      --until TIME     the hunt's end (default: each partition's end at start)\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version and exit\n"
		"\n"
		"SIGTERM or SIGINT: stop consuming, flush, commit, leave the group, exit 0.\n"
		"SIGHUP: load the indicator files again and swap the new set in without pausing\n"
		"(they are also reloaded when they change: indicators.reload.interval.ms).\n");
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 'X'},
		{"dump-config-md", no_argument, NULL, 'D'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},       {"retro", required_argument, NULL, 'R'},
		{"since", required_argument, NULL, 'S'},   {"until", required_argument, NULL, 'U'},
		{NULL, 0, NULL, 0}};
	const char *retro = NULL;
	int64_t since = -1, until = 0;
	cs_ingest_conf_t *conf;
	char errstr[1024];
	const char **files = NULL, **sets = NULL;
	int nfiles = 0, nsets = 0, c;
	cs_err_t err;
	struct sigaction sa;

	cs_proc_init("cshield-ingest");
	if (!(files = calloc((size_t)argc, sizeof(*files))) || !(sets = calloc((size_t)argc, sizeof(*sets)))) {
		fprintf(stderr, "cshield-ingest: out of memory\n");
		return 1;
	}
	while ((c = getopt_long(argc, argv, "c:X:hV", opts, NULL)) != -1) {
		int status = -1;
		switch (c) {
		case 'c':
			files[nfiles++] = optarg;
			break;
		case 'X':
			sets[nsets++] = optarg;
			break;
		case 'R':
			retro = optarg;
			break;
		case 'S':
		case 'U':
			if (cs__parse_time(optarg, c == 'S' ? &since : &until)) {
				fprintf(stderr, "cshield-ingest: --%s \"%s\": not ISO 8601, epoch seconds or <n>h / <n>d\n",
					c == 'S' ? "since" : "until", optarg);
				status = 2;
			}
			break;
		case 'D':
			cs_ingest_conf_doc_md(stdout);
			status = cs_proc_stdout_status("cshield-ingest");
			break;
		case 'h':
			cs__usage(stdout);
			status = cs_proc_stdout_status("cshield-ingest");
			break;
		case 'V':
			printf("cshield-ingest %s (librdkafka %s)\n", CS_VERSION_STR, rd_kafka_version_str());
			status = cs_proc_stdout_status("cshield-ingest");
			break;
		default:
			cs__usage(stderr);
			status = 2;
		}
		if (status >= 0) {
			free(files);
			free(sets);
			return status;
		}
	}
	if (optind < argc || nfiles + nsets == 0) {
		if (optind < argc)
			fprintf(stderr, "cshield-ingest: unexpected argument \"%s\"\n\n", argv[optind]);
		cs__usage(stderr);
		free(files);
		free(sets);
		return 2;
	}
	if (!(conf = cs_ingest_conf_new())) {
		fprintf(stderr, "cshield-ingest: out of memory\n");
		return 1;
	}
	/* the files first, in order, then every -X: the command line wins, whatever the order */
	for (int i = 0; i < nfiles; i++)
		if (cs_ingest_conf_load(conf, files[i], errstr, sizeof(errstr)))
			goto conf_err;
	for (int i = 0; i < nsets; i++)
		if (cs_ingest_conf_set_kv(conf, sets[i], errstr, sizeof(errstr)))
			goto conf_err;
	free(files);
	free(sets);
	files = sets = NULL;
	if ((retro != NULL) != (since >= 0) || (until && !retro)) {
		snprintf(errstr, sizeof(errstr), "--retro and --since go together (--until with them)");
		goto conf_err;
	}
	if (retro && cs_ingest_conf_retro(conf, retro, since, until, errstr, sizeof(errstr)))
		goto conf_err;
	if (cs_ingest_conf_check(conf, errstr, sizeof(errstr)))
		goto conf_err;

	/* SIGTERM/SIGINT handled from here on, start-up included: a clean stop, exit 0 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cs__on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = cs__on_hup;
	sigaction(SIGHUP, &sa, NULL);

	if (!(cs__ing = cs_ingest_new(conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-ingest: %s\n", errstr);
		return 1;
	}
	conf = NULL;
	if (cs__stopping)
		cs_ingest_stop(cs__ing);

	err = cs_ingest_run(cs__ing);
	{
		cs_ingest_t *ing = cs__ing;
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		cs__ing = NULL;
		cs_ingest_destroy(ing);
	}
	return err ? 3 : 0;

conf_err:
	fprintf(stderr, "cshield-ingest: %s\n", errstr);
	cs_ingest_conf_destroy(conf);
	free(files);
	free(sets);
	return 2;
}
