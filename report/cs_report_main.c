/*
 * cs_report_main.c - the cshield-report program: per-window hit counts for an
 * audience, as a table or JSON lines. DESIGN: options (getopt_long), then one
 * cs_report_fetch(); option errors exit 2, Redis errors 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <getopt.h>

#include "cs_json.h"
#include "cs_report.h"

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-report [options]\n"
		"\n"
		"Prints the per-window hit counts per indicator that cshield-ingest wrote to Redis.\n"
		"\n"
		"  --from TIME        first window (ISO 8601 like 2026-11-29T03:00:00Z, a date like\n"
		"                     2026-11-29 (its midnight UTC), or epoch seconds; default: the beginning)\n"
		"  --to TIME          last window (a date: its whole day; default: the end); not before --from\n"
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

/*
 * A time: epoch seconds, ISO 8601 (2026-11-29T03:00:00Z, any offset), or a
 * plain date (2026-12-04: its first second, or with end_of_day its last, so
 * that --to 2026-12-04 takes that whole day in).
 */
static int cs__parse_time(const char *s, int end_of_day, int64_t *out) {
	char *end;
	int64_t ms;
	long long v;
	size_t n = strlen(s);

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!errno && end != s && !*end) {
		*out = v;
		return 0;
	}
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		char full[32];
		snprintf(full, sizeof(full), "%sT00:00:00Z", s);
		if (cs_time_parse_iso8601(full, strlen(full), &ms))
			return -1;
		*out = ms / 1000 + (end_of_day ? 86399 : 0);
		return 0;
	}
	if (cs_time_parse_iso8601(s, n, &ms))
		return -1;
	*out = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return 0;
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"redis", required_argument, NULL, 'r'}, {"prefix", required_argument, NULL, 'p'},
		{"window", required_argument, NULL, 'w'}, {"tlp", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},     {NULL, 0, NULL, 0}};
	cs_report_opts_t o = {"127.0.0.1", 6379, "cs", 60, INT64_MIN / 2, INT64_MAX / 2, CS_TLP_CLEAR};
	char hostbuf[256], errstr[512];
	const char *addr = getenv("CS_REDIS_ADDR");
	int json = 0, c, have_from = 0, have_to = 0;
	cs_report_t *rep;

	cs_proc_init("cshield-report");
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cs__usage(stdout);
			return cs_proc_stdout_status("cshield-report");
		case 'V':
			printf("cshield-report %s\n", CS_VERSION_STR);
			return cs_proc_stdout_status("cshield-report");
		case 'j':
			json = 1;
			break;
		case 'f':
		case 't':
			if (cs__parse_time(optarg, c == 't', c == 'f' ? &o.from : &o.to)) {
				fprintf(stderr, "cshield-report: --%s \"%s\": expected ISO 8601 (2026-11-29T03:00:00Z), a date "
						"(2026-11-29) or epoch seconds\n",
					c == 'f' ? "from" : "to", optarg);
				return 2;
			}
			if (c == 'f')
				have_from = 1;
			else
				have_to = 1;
			break;
		case 'l': {
			int t = cs_tlp_parse(optarg, strlen(optarg));
			if (t < 0) {
				fprintf(stderr, "cshield-report: --tlp \"%s\": expected clear, green, amber, amber+strict or red\n",
					optarg);
				return 2;
			}
			o.audience = (cs_tlp_t)t;
			break;
		}
		case 'r':
			addr = optarg;
			break;
		case 'p':
			o.key_prefix = optarg;
			break;
		case 'w': {
			char *end;
			errno = 0;
			o.window_s = strtoll(optarg, &end, 10);
			if (errno || *end || o.window_s <= 0) {
				fprintf(stderr, "cshield-report: --window must be a positive number of seconds\n");
				return 2;
			}
			break;
		}
		default:
			cs__usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cshield-report: unexpected argument \"%s\"\n\n", argv[optind]);
		cs__usage(stderr);
		return 2;
	}
	if (have_from && have_to && o.from > o.to) {
		fprintf(stderr, "cshield-report: --from is after --to: an empty period\n");
		return 2;
	}
	if (addr) {
		const char *colon = strrchr(addr, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (!colon || (size_t)(colon - addr) >= sizeof(hostbuf) || port <= 0 || port > 65535 || *end) {
			fprintf(stderr, "cshield-report: redis address \"%s\": expected HOST:PORT\n", addr);
			return 2;
		}
		memcpy(hostbuf, addr, (size_t)(colon - addr));
		hostbuf[colon - addr] = '\0';
		o.redis_host = hostbuf;
		o.redis_port = (int)port;
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
	return cs_proc_stdout_status("cshield-report");
}
