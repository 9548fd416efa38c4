/*
 * cs_decode_main.c - cshield-decode: prints what the decoder makes of events,
 * one JSON object per event per line. Operators use it to check a field map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cs_json.h"
#include "cs_decode.h"

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-decode [--format F] [--encoding E] [-X decode.key=value]... [FILE|-]\n"
		"\n"
		"Decodes SOC events (one message: NDJSON, concatenated JSON objects or CEF lines)\n"
		"and prints each event's metadata and observables as one JSON object per line;\n"
		"a rejected event prints its reason.\n"
		"\n"
		"  --format F     auto (default), ecs, eve, zeek, ocsf or cef\n"
		"  --encoding E   the input is one zstd or lz4 frame (as with a Kafka header\n"
		"                 content-encoding)\n"
		"  -X, --set key=value  a decoder property (decode.max.depth=32, decode.fields.eve=...)\n"
		"  --fields-md    print the built-in field maps as Markdown and exit\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version and exit\n");
}


typedef struct {
	long n, rejected;
} cs__stats_t;

static int cs__print(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs__stats_t *st = opaque;
	cs_jw_t jw;
	cs_jw_init(&jw, stdout);
	cs_jw_obj_begin(&jw);
	cs_jw_kint(&jw, "event", st->n++);
	cs_jw_kuint(&jw, "offset", ev->offset);
	if (r != CS_DECODE_OK) {
		st->rejected++;
		cs_jw_kstr(&jw, "rejected", cs_decode_reject2code(r));
		cs_jw_kstr(&jw, "reason", cs_decode_reject2str(r));
	} else {
		cs_jw_kstr(&jw, "format", cs_decode_fmt2str(ev->fmt));
		if (ev->ts_ms) {
			char ts[32];
			cs_time_format_iso8601(ev->ts_ms / 1000, ts, sizeof(ts));
			cs_jw_kint(&jw, "time_ms", ev->ts_ms);
			cs_jw_kstr(&jw, "time", ts);
		}
		if (ev->org)
			cs_jw_kstrn(&jw, "org", ev->org, ev->org_len);
		if (ev->severity >= 0)
			cs_jw_kint(&jw, "severity", ev->severity);
		if (ev->category)
			cs_jw_kstrn(&jw, "category", ev->category, ev->category_len);
		cs_jw_key(&jw, "observables");
		cs_jw_arr_begin(&jw);
		for (size_t i = 0; i < ev->obs_cnt; i++) {
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "type", cs_obs_type2str(ev->obs[i].type));
			cs_jw_kstrn(&jw, "value", ev->obs[i].value, ev->obs[i].len);
			cs_jw_kstr(&jw, "role", cs_obs_role2str(ev->obs[i].role));
			cs_jw_obj_end(&jw);
		}
		cs_jw_arr_end(&jw);
	}
	cs_jw_obj_end(&jw);
	putchar('\n');
	return 0;
}

static void cs__fields_md(void) {
	for (int f = CS_DECODE_FMT_ECS; f < CS_DECODE_FMT_CEF; f++) {
		const char *mpath, *kind;
		cs_obs_role_t role;
		printf("### %s\n\n| path | kind | role |\n|---|---|---|\n", cs_decode_fmt2str((cs_decode_fmt_t)f));
		for (size_t k = 0; cs_decode_map_entry((cs_decode_fmt_t)f, k, &mpath, &kind, &role) == 0; k++)
			printf("| `%s` | %s | %s |\n", mpath, kind,
			       strcmp(kind, "ip") && strcmp(kind, "host") && strcmp(kind, "url") && strcmp(kind, "url_host") &&
					       strcmp(kind, "url_path") && strcmp(kind, "hash") && strcmp(kind, "email") &&
					       strcmp(kind, "text")
				       ? ""
				       : cs_obs_role2str(role));
		printf("\n");
	}
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'}, {"encoding", required_argument, NULL, 'e'},
		{"set", required_argument, NULL, 'X'},    {"fields-md", no_argument, NULL, 'M'},
		{"rejections-md", no_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
	const char *path = NULL, *encoding = NULL;
	int fmt = CS_DECODE_FMT_AUTO;
	cs_decode_conf_t *conf = cs_decode_conf_new();
	cs_decode_t *dec;
	char errstr[512], *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *fp;
	cs__stats_t st = {0, 0};
	int rc = 0, c;

	cs_proc_init("cshield-decode");
	while ((c = getopt_long(argc, argv, "X:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cs__usage(stdout);
			rc = cs_proc_stdout_status("cshield-decode");
			goto out;
		case 'V':
			printf("cshield-decode %s\n", CS_VERSION_STR);
			rc = cs_proc_stdout_status("cshield-decode");
			goto out;
		case 'R':
			for (int r = 0; r < CS_DECODE_REJECT__CNT; r++)
				printf("| `%s` | %s |\n", cs_decode_reject2code((cs_decode_reject_t)r),
				       cs_decode_reject2str((cs_decode_reject_t)r));
			rc = cs_proc_stdout_status("cshield-decode");
			goto out;
		case 'M':
			cs__fields_md();
			rc = cs_proc_stdout_status("cshield-decode");
			goto out;
		case 'f':
			if ((fmt = cs_decode_fmt_parse(optarg)) < 0) {
				fprintf(stderr, "cshield-decode: unknown format \"%s\" (auto, ecs, eve, zeek, ocsf, cef)\n", optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'e':
			encoding = optarg;
			break;
		case 'X': {
			char *kv = strdup(optarg), *eq = kv ? strchr(kv, '=') : NULL;
			int bad = !eq || strncmp(kv, "decode.", 7);
			if (bad)
				fprintf(stderr, "cshield-decode: -X expects decode.key=value\n");
			else if ((*eq = '\0', cs_decode_conf_set(conf, kv + 7, eq + 1, errstr, sizeof(errstr)))) {
				fprintf(stderr, "cshield-decode: %s\n", errstr);
				bad = 1;
			}
			free(kv);
			if (bad) {
				rc = 2;
				goto out;
			}
			break;
		}
		default:
			cs__usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "cshield-decode: unexpected argument \"%s\"\n\n", argv[optind]);
		cs__usage(stderr);
		rc = 2;
		goto out;
	}
	if (!path || !strcmp(path, "-"))
		fp = stdin;
	else if (!(fp = fopen(path, "rb"))) {
		perror(path);
		rc = 1;
		goto out;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			char *nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "cshield-decode: out of memory\n");
				rc = 1;
				goto out;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (fp != stdin)
		fclose(fp);
	if (!(dec = cs_decode_new(conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-decode: %s\n", errstr);
		rc = 1;
		goto out;
	}
	cs_decode_message(dec, (cs_decode_fmt_t)fmt, encoding, buf, len, cs__print, &st);
	fprintf(stderr, "cshield-decode: %ld events, %ld rejected\n", st.n, st.rejected);
	cs_decode_destroy(dec);
	rc = cs_proc_stdout_status("cshield-decode");
out:
	cs_decode_conf_destroy(conf);
	free(buf);
	return rc;
}
