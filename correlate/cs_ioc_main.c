/*
 * cs_ioc_main.c - cshield-ioc: check an indicator set, describe it, and
 * match archived events against it offline (retro-hunting).
 * DESIGN: one thread; the same loaders, decoder and engine as cshield-ingest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/resource.h>

#include "cs_json.h"
#include "cs_correlate.h"
#include "cs_decode.h"

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-ioc validate PATH...\n"
		"       cshield-ioc describe PATH...\n"
		"       cshield-ioc match --indicators PATH... --events PATH [--format F]\n"
		"  (each also takes --tlp LABEL: the TLP of unmarked indicators, default amber;\n"
		"   --cache DIR: keep compiled Hyperscan databases there, zstd, by content hash)\n"
		"\n"
		"  validate   load the indicator files; list every rejection with its origin and\n"
		"             reason; exit 1 if nothing loads\n"
		"  describe   counts by type, rejections, memory and build time, as JSON\n"
		"  match      run the engine over an events file (one event a line, or a stream of\n"
		"             JSON objects): one JSON object per hit per line with event (0-based\n"
		"             line number), indicator (its origin: file:line, MISP uuid, STIX id),\n"
		"             type, value, observable, role, tlp, source, confidence, tags,\n"
		"             set_version; an indicator matches only within its validity (at the\n"
		"             event's time) and its scope (roles)\n"
		"  --format F auto (default), ecs, eve, zeek, ocsf or cef\n"
		"  --all-prefixes  (match) an address hits every CIDR prefix containing it, not\n"
		"             only the longest\n"
		"  -h, --help, -V, --version\n");
}


static long cs__maxrss_kb(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

typedef struct {
	long event;
} cs__mctx_t;

static int cs__on_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs__mctx_t *mc = opaque;
	const cs_corr_ind_t *ind = hit->ind;
	cs_jw_t jw;
	cs_jw_init(&jw, stdout);
	cs_jw_obj_begin(&jw);
	cs_jw_kint(&jw, "event", mc->event);
	cs_jw_kstr(&jw, "indicator", ind->origin);
	cs_jw_kstr(&jw, "type", ind->pattern ? "pattern" : cs_obs_type2str(ind->type));
	cs_jw_kstr(&jw, "value", ind->value);
	cs_jw_kstrn(&jw, "observable", hit->obs->value, hit->obs->len);
	cs_jw_kstr(&jw, "observable_type", cs_obs_type2str(hit->obs->type));
	cs_jw_kstr(&jw, "role", cs_obs_role2str(hit->obs->role));
	cs_jw_kstr(&jw, "tlp", cs_tlp2str(ind->tlp));
	cs_jw_kstr(&jw, "source", ind->source);
	if (ind->confidence >= 0)
		cs_jw_kint(&jw, "confidence", ind->confidence);
	if (*ind->tags)
		cs_jw_kstr(&jw, "tags", ind->tags);
	cs_jw_kuint(&jw, "set_version", hit->db_version);
	cs_jw_obj_end(&jw);
	putchar('\n');
	return 0;
}

static int cs__match(cs_corr_db_t *db, const char *events, int fmt, int all_prefixes) {
	char errstr[512], *line = NULL;
	cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	cs_decode_conf_t *dc = cs_decode_conf_new();
	cs_decode_t *dec = dc ? cs_decode_new(dc, errstr, sizeof(errstr)) : NULL;
	FILE *fp = strcmp(events, "-") ? fopen(events, "r") : stdin;
	size_t cap = 0;
	ssize_t n;
	cs__mctx_t mc = {-1};
	long rejected = 0;
	int rc = 0;

	if (!scr || !dec || !fp) {
		fprintf(stderr, "cshield-ioc: %s\n", !fp ? events : errstr);
		rc = 1;
		goto out;
	}
	cs_corr_scratch_all_prefixes(scr, all_prefixes);
	/* one event a line: the line number is the event number */
	while ((n = getline(&line, &cap, fp)) != -1) {
		cs_decode_event_t ev;
		size_t used;
		mc.event++;
		if (cs_decode_one(dec, (cs_decode_fmt_t)fmt, line, (size_t)n, &used, &ev) != CS_DECODE_OK) {
			rejected++;
			continue;
		}
		cs_corr_scratch_at(scr, ev.ts_ms); /* validity against the event's own time */
		for (size_t i = 0; i < ev.obs_cnt; i++)
			cs_corr_match(db, scr, &ev.obs[i], cs__on_hit, &mc);
	}
	fprintf(stderr, "cshield-ioc: %ld lines, %ld rejected by the decoder\n", mc.event + 1, rejected);
out:
	if (fp && fp != stdin)
		fclose(fp);
	free(line);
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(dc);
	cs_corr_scratch_destroy(scr);
	return rc;
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"events", required_argument, NULL, 'e'}, {"format", required_argument, NULL, 'f'},
		{"tlp", required_argument, NULL, 't'},    {"all-prefixes", no_argument, NULL, 'a'},
		{"cache", required_argument, NULL, 'c'},  {"indicators", no_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	const char *cmd, *events = NULL, **paths;
	char errstr[1024];
	size_t np = 0;
	int fmt = CS_DECODE_FMT_AUTO, rc = 0;
	int64_t t0;
	long rss0;
	cs_corr_db_t *db;
	cs_corr_load_opts_t opts_load = {NULL, CS_TLP_AMBER, NULL, NULL};
	int all_prefixes = 0, c;

	cs_proc_init("cshield-ioc");
	if (!(paths = calloc((size_t)argc, sizeof(*paths))))
		return 1;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cs__usage(stdout);
			free(paths);
			return cs_proc_stdout_status("cshield-ioc");
		case 'V':
			printf("cshield-ioc %s\n", CS_VERSION_STR);
			free(paths);
			return cs_proc_stdout_status("cshield-ioc");
		case 'e':
			events = optarg;
			break;
		case 'f':
			if ((fmt = cs_decode_fmt_parse(optarg)) < 0) {
				fprintf(stderr, "cshield-ioc: unknown format \"%s\"\n", optarg);
				free(paths);
				return 2;
			}
			break;
		case 't': {
			int t = cs_tlp_parse(optarg, strlen(optarg));
			if (t < 0) {
				fprintf(stderr, "cshield-ioc: unknown TLP label \"%s\" (clear, green, amber, amber+strict, red)\n",
					optarg);
				free(paths);
				return 2;
			}
			opts_load.default_tlp = (cs_tlp_t)t;
			break;
		}
		case 'a':
			all_prefixes = 1;
			break;
		case 'c':
			opts_load.cache_dir = optarg;
			break;
		case 'i': /* --indicators: the paths that follow (a marker, as before) */
			break;
		default:
			cs__usage(stderr);
			free(paths);
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind++] : NULL;
	while (optind < argc)
		paths[np++] = argv[optind++];
	if (!cmd || !np || (strcmp(cmd, "validate") && strcmp(cmd, "describe") && strcmp(cmd, "match")) ||
	    (!strcmp(cmd, "match") && !events)) {
		cs__usage(stderr);
		free(paths);
		return 2;
	}
	rss0 = cs__maxrss_kb();
	t0 = cs_clock_ms();
	db = cs_corr_db_load_opts(paths, np, &opts_load, 1, errstr, sizeof(errstr));
	if (!db) {
		fprintf(stderr, "cshield-ioc: %s\n", errstr);
		free(paths);
		return 1;
	}
	if (!strcmp(cmd, "validate")) {
		for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
			printf("%s\n", cs_corr_db_reject(db, i));
		printf("%zu indicators loaded, %zu rejected\n", cs_corr_db_count(db), cs_corr_db_reject_count(db));
	} else if (!strcmp(cmd, "describe")) {
		size_t by[CS_OBS__TYPE_CNT] = {0}, patterns = 0, tlp[CS_TLP__CNT] = {0}, scoped = 0, bounded = 0;
		for (size_t i = 0; i < cs_corr_db_count(db); i++) {
			const cs_corr_ind_t *ind = cs_corr_db_indicator(db, (uint32_t)i);
			tlp[ind->tlp]++;
			scoped += ind->scope != 0;
			bounded += ind->valid_from_ms || ind->valid_until_ms;
			if (ind->pattern)
				patterns++;
			else
				by[ind->type]++;
		}
		{
			cs_jw_t jw;
			cs_jw_init(&jw, stdout);
			cs_jw_obj_begin(&jw);
			cs_jw_kuint(&jw, "indicators", cs_corr_db_count(db));
			cs_jw_kuint(&jw, "rejected", cs_corr_db_reject_count(db));
			cs_jw_kint(&jw, "build_ms", cs_clock_ms() - t0);
			cs_jw_kint(&jw, "max_rss_growth_kb", cs__maxrss_kb() - rss0);
			cs_jw_key(&jw, "by_type");
			cs_jw_obj_begin(&jw);
			for (int t = 0; t < CS_OBS__TYPE_CNT; t++)
				if (by[t] && t != CS_OBS_TEXT)
					cs_jw_kuint(&jw, cs_obs_type2str((cs_obs_type_t)t), by[t]);
			cs_jw_kuint(&jw, "pattern", patterns);
			cs_jw_obj_end(&jw);
			cs_jw_key(&jw, "by_tlp");
			cs_jw_obj_begin(&jw);
			for (int t = 0; t < CS_TLP__CNT; t++)
				cs_jw_kuint(&jw, cs_tlp2str((cs_tlp_t)t), tlp[t]);
			cs_jw_obj_end(&jw);
			cs_jw_kuint(&jw, "scoped", scoped);
			cs_jw_kuint(&jw, "time_bounded", bounded);
			cs_jw_kstr(&jw, "patterns", cs_corr_db_patterns_note(db));
			cs_jw_obj_end(&jw);
			putchar('\n');
		}
	} else {
		rc = cs__match(db, events, fmt, all_prefixes);
	}
	cs_corr_db_destroy(db);
	free(paths);
	return rc ? rc : cs_proc_stdout_status("cshield-ioc");
}
