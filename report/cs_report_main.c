/*
 * cs_report_main.c - the cshield-report program (first slice: a table of
 * per-window hit counts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "cs_json.h"
#include "cs_report.h"

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-report [options]\n"
		"\n"
		"Prints the per-window hit counts per indicator that cshield-ingest wrote to Redis.\n"
		"\n"
		"  --from TIME        first window (ISO 8601 like 2026-11-29T03:00:00Z, or epoch seconds;\n"
		"                     default: the beginning)\n"
		"  --to TIME          last window (default: the end)\n"
		"  --redis HOST:PORT  Redis server (default 127.0.0.1:6379, or $CS_REDIS_ADDR)\n"
		"  --prefix P         key prefix, as aggregate.key.prefix (default cs)\n"
		"  --window SECONDS   window length, as aggregate.window.s (default 60)\n"
		"  --tlp LABEL        the audience: clear (the public, default), green, amber,\n"
		"                     amber+strict or red; rows whose indicator is marked above it,\n"
		"                     or not marked, are withheld (and counted)\n"
		"  --json             one JSON object per line instead of a table\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version and exit\n");
}

static int cs__parse_time(const char *s, int64_t *out) {
	char *end;
	int64_t ms;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && end != s && !*end) {
		*out = v;
		return 0;
	}
	if (cs_time_parse_iso8601(s, strlen(s), &ms))
		return -1;
	*out = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return 0;
}

int main(int argc, char **argv) {
	cs_report_opts_t o = {"127.0.0.1", 6379, "cs", 60, INT64_MIN / 2, INT64_MAX / 2, CS_TLP_CLEAR};
	char hostbuf[256], errstr[512];
	const char *addr = getenv("CS_REDIS_ADDR");
	int json = 0;
	cs_report_t *rep;

	cs_proc_init("cshield-report");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cs__usage(stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("cshield-report %s\n", CS_VERSION_STR);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (v && !strcmp(a, "--from")) {
			if (cs__parse_time(v, &o.from))
				goto bad_time;
			i++;
		} else if (v && !strcmp(a, "--to")) {
			if (cs__parse_time(v, &o.to))
				goto bad_time;
			i++;
		} else if (v && !strcmp(a, "--tlp")) {
			int t = cs_tlp_parse(v, strlen(v));
			if (t < 0) {
				fprintf(stderr, "cshield-report: --tlp \"%s\": expected clear, green, amber, amber+strict or red\n", v);
				return 2;
			}
			o.audience = (cs_tlp_t)t;
			i++;
		} else if (v && !strcmp(a, "--redis")) {
			addr = v;
			i++;
		} else if (v && !strcmp(a, "--prefix")) {
			o.key_prefix = v;
			i++;
		} else if (v && !strcmp(a, "--window")) {
			o.window_s = strtoll(v, NULL, 10);
			if (o.window_s <= 0) {
				fprintf(stderr, "cshield-report: --window must be a positive number of seconds\n");
				return 2;
			}
			i++;
		} else {
			fprintf(stderr, "cshield-report: unknown argument \"%s\"\n\n", a);
			cs__usage(stderr);
			return 2;
		}
		continue;
bad_time:
		fprintf(stderr, "cshield-report: %s \"%s\": expected ISO 8601 or epoch seconds\n", a, v);
		return 2;
	}
	if (addr) {
		const char *colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(hostbuf) || atoi(colon + 1) <= 0) {
			fprintf(stderr, "cshield-report: redis address \"%s\": expected HOST:PORT\n", addr);
			return 2;
		}
		memcpy(hostbuf, addr, (size_t)(colon - addr));
		hostbuf[colon - addr] = '\0';
		o.redis_host = hostbuf;
		o.redis_port = atoi(colon + 1);
	}
	if (!(rep = cs_report_fetch(&o, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-report: %s\n", errstr);
		return 1;
	}
	if (json)
		cs_report_print_jsonl(rep, stdout);
	else
		cs_report_print_table(rep, stdout);
	cs_report_destroy(rep);
	return 0;
}
