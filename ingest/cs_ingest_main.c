/*
 * cs_ingest_main.c - the cshield-ingest program.
 * DESIGN: parses the command line, loads the configuration, installs the
 * signal handlers and runs the consumer on the main thread.
 */
#include <stdio.h>
#include <string.h>
#include <signal.h>
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

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-ingest -c FILE [-X key=value]...\n"
		"       cshield-ingest --dump-config-md\n"
		"\n"
		"Consumes SOC events from Kafka, matches their observables against the\n"
		"configured indicators and writes per-window hit counts to Redis together\n"
		"with the Kafka offsets they cover (exactly once).\n"
		"\n"
		"  -c, --config FILE    properties file (key=value), see docs/CONFIGURATION.md\n"
		"  -X key=value         set one property (after the file)\n"
		"      --dump-config-md print every property as Markdown and exit\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version and exit\n"
		"\n"
		"SIGTERM or SIGINT: stop consuming, flush, commit, leave the group, exit 0.\n"
		"SIGHUP: load the indicator files again and swap the new set in without pausing\n"
		"(they are also reloaded when they change: indicators.reload.interval.ms).\n");
}

int main(int argc, char **argv) {
	cs_ingest_conf_t *conf;
	char errstr[1024];
	int have_config = 0;
	cs_err_t err;
	struct sigaction sa;

	cs_proc_init("cshield-ingest");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cs__usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("cshield-ingest %s (librdkafka %s)\n", CS_VERSION_STR,
			       rd_kafka_version_str());
			return 0;
		}
		if (!strcmp(argv[i], "--dump-config-md")) {
			cs_ingest_conf_doc_md(stdout);
			return 0;
		}
	}
	if (!(conf = cs_ingest_conf_new())) {
		fprintf(stderr, "cshield-ingest: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			if (cs_ingest_conf_load(conf, argv[++i], errstr, sizeof(errstr)))
				goto conf_err;
			have_config = 1;
		} else if (!strcmp(argv[i], "-X") && i + 1 < argc) {
			if (cs_ingest_conf_set_kv(conf, argv[++i], errstr, sizeof(errstr)))
				goto conf_err;
			have_config = 1;
		} else {
			fprintf(stderr, "cshield-ingest: unknown argument \"%s\"\n\n", argv[i]);
			cs__usage(stderr);
			cs_ingest_conf_destroy(conf);
			return 2;
		}
	}
	if (!have_config) {
		cs__usage(stderr);
		cs_ingest_conf_destroy(conf);
		return 2;
	}

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
	return 2;
}
