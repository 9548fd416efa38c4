/*
 * cs_decode_main.c - cshield-decode: prints what the decoder makes of events,
 * one JSON object per event per line. Operators use it to check a field map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		"  -X key=value   a decoder property (decode.max.depth=32, decode.fields.eve=...)\n"
		"  --fields-md    print the built-in field maps as Markdown and exit\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version and exit\n");
}


typedef struct {
	long n, rejected;
} cs__stats_t;

static int cs__print(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	cs__stats_t *st = opaque;
	printf("{\"event\":%ld,\"offset\":%zu", st->n++, ev->offset);
	if (r != CS_DECODE_OK) {
		st->rejected++;
		printf(",\"rejected\":\"%s\",\"reason\":\"%s\"}\n", cs_decode_reject2code(r), cs_decode_reject2str(r));
		return 0;
	}
	printf(",\"format\":\"%s\"", cs_decode_fmt2str(ev->fmt));
	if (ev->ts_ms) {
		char ts[32];
		cs_time_format_iso8601(ev->ts_ms / 1000, ts, sizeof(ts));
		printf(",\"time_ms\":%lld,\"time\":\"%s\"", (long long)ev->ts_ms, ts);
	}
	if (ev->org) {
		printf(",\"org\":");
		cs_json_write_str(stdout, ev->org, ev->org_len);
	}
	if (ev->severity >= 0)
		printf(",\"severity\":%d", ev->severity);
	if (ev->category) {
		printf(",\"category\":");
		cs_json_write_str(stdout, ev->category, ev->category_len);
	}
	printf(",\"observables\":[");
	for (size_t i = 0; i < ev->obs_cnt; i++) {
		printf("%s{\"type\":\"%s\",\"value\":", i ? "," : "", cs_obs_type2str(ev->obs[i].type));
		cs_json_write_str(stdout, ev->obs[i].value, ev->obs[i].len);
		printf(",\"role\":\"%s\"}", cs_obs_role2str(ev->obs[i].role));
	}
	printf("]}\n");
	return 0;
}

int main(int argc, char **argv) {
	const char *path = NULL, *encoding = NULL;
	int fmt = CS_DECODE_FMT_AUTO;
	cs_decode_conf_t *conf = cs_decode_conf_new();
	cs_decode_t *dec;
	char errstr[512], *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *fp;
	cs__stats_t st = {0, 0};
	int rc = 0;

	cs_proc_init("cshield-decode");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cs__usage(stdout);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("cshield-decode %s\n", CS_VERSION_STR);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--rejections-md")) {
			for (int r = 0; r < CS_DECODE_REJECT__CNT; r++)
				printf("| `%s` | %s |\n", cs_decode_reject2code((cs_decode_reject_t)r),
				       cs_decode_reject2str((cs_decode_reject_t)r));
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--fields-md")) {
			for (int f = CS_DECODE_FMT_ECS; f < CS_DECODE_FMT_CEF; f++) {
				const char *mpath, *kind;
				cs_obs_role_t role;
				printf("### %s\n\n| path | kind | role |\n|---|---|---|\n", cs_decode_fmt2str((cs_decode_fmt_t)f));
				for (size_t k = 0; cs_decode_map_entry((cs_decode_fmt_t)f, k, &mpath, &kind, &role) == 0; k++)
					printf("| `%s` | %s | %s |\n", mpath, kind,
					       strcmp(kind, "ip") && strcmp(kind, "host") && strcmp(kind, "url") &&
							       strcmp(kind, "url_host") && strcmp(kind, "url_path") &&
							       strcmp(kind, "hash") && strcmp(kind, "email") && strcmp(kind, "text")
						       ? ""
						       : cs_obs_role2str(role));
				printf("\n");
			}
			rc = 0;
			goto out;
		} else if (v && !strcmp(a, "--format")) {
			if ((fmt = cs_decode_fmt_parse(v)) < 0) {
				fprintf(stderr, "cshield-decode: unknown format \"%s\" (auto, ecs, eve, zeek, ocsf, cef)\n", v);
				rc = 2;
				goto out;
			}
			i++;
		} else if (v && !strcmp(a, "--encoding")) {
			encoding = v;
			i++;
		} else if (v && !strcmp(a, "-X")) {
			char *kv = strdup(v), *eq = kv ? strchr(kv, '=') : NULL;
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
			i++;
		} else if (!path && (a[0] != '-' || !strcmp(a, "-"))) {
			path = a;
		} else {
			fprintf(stderr, "cshield-decode: unknown argument \"%s\"\n\n", a);
			cs__usage(stderr);
			rc = 2;
			goto out;
		}
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
out:
	cs_decode_conf_destroy(conf);
	free(buf);
	return rc;
}
