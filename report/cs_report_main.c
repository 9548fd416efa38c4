/*
 * cs_report_main.c - the cshield-report program: a situation report for an
 * audience (HTML, Markdown, JSON, STIX 2.1), or the per-window hit counts as
 * a table or JSON lines. DESIGN: options (getopt_long), then one fetch and one
 * edition; option errors exit 2, Redis errors 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <getopt.h>
#include <time.h>

#include "cs_json.h"
#include "cs_report.h"
#include "cs_report_sit.h"

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-report [options]\n"
		"\n"
		"Writes a situation report (--format html, md, json or stix) for one audience from the\n"
		"roll-ups cshield-ingest keeps in Redis, or prints the per-window hit counts per\n"
		"indicator (--format table, the default, or jsonl).\n"
		"\n"
		"  --format F         html, md, json, stix (situation reports), sightings (STIX 2.1) or\n"
		"                     misp-sightings (MISP /sightings/add, one a line), table or jsonl (windows)\n"
		"  --last SPAN        the period: the last 24h, 7d, 30d (any <n>h or <n>d); reports: default 24h\n"
		"  --from TIME        first second (ISO 8601 like 2026-11-29T03:00:00Z, a date like\n"
		"                     2026-11-29 (its midnight UTC), or epoch seconds; default: the beginning)\n"
		"  --to TIME          last second (a date: its whole day; default: the end); not before --from\n"
		"  --tlp LABEL        the audience: clear (the public, default), green, amber,\n"
		"                     amber+strict or red; nothing marked above it is shown or counted\n"
		"  --org ID           the organization an AMBER+STRICT or RED edition is for (required there)\n"
		"  --hub ID           the hub's own organization id (default hub): its strict editions see all\n"
		"  --k N              CLEAR and GREEN: participants a breakdown cell needs (default 3)\n"
		"  --top N            top indicators listed (default 20)\n"
		"  --silent SPAN      flag participants silent for longer (default 24h)\n"
		"  --title TEXT       the report's title\n"
		"  --early-warning    instead of the report, the draft early warnings of the escalations\n"
		"                     raised in the period that the audience may see (--format md, the\n"
		"                     default, or json: one object a line)\n"
		"  --settle SPAN      sightings: a bucket that ended this long ago is final (default 25h)\n"
		"  --misp-max N       misp-sightings: at most N per indicator, where and bucket (default 100)\n"
		"  --now TIME         the report's time (default: now): --last counts back from it\n"
		"  -o, --output FILE  write there (default: standard output)\n"
		"  --redis HOST:PORT  Redis server (default 127.0.0.1:6379, or $CS_REDIS_ADDR)\n"
		"  --sentinels LIST   Redis Sentinels HOST:PORT,...: read from the primary they name\n"
		"  --master-name N    the name the Sentinels monitor it under (with --sentinels)\n"
		"  --user NAME        the Redis ACL user (a read-only one will do)\n"
		"  --password-file F  the Redis password, from a file (or $CS_REDIS_PASSWORD); never printed\n"
		"  --prefix P         key prefix, as aggregate.key.prefix (default cs)\n"
		"  --window SECONDS   window length, as aggregate.window.s (default 60; table and jsonl)\n"
		"  --json             the same as --format jsonl\n"
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

/* "24h", "7d", "90m", "3600" (seconds): seconds, or -1. */
static int64_t cs__parse_span(const char *s) {
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || v > 3650LL * 86400)
		return -1;
	if (!*end)
		return v;
	if (end[1])
		return -1;
	switch (*end) {
	case 'd': return v > 3650 ? -1 : v * 86400;
	case 'h': return v > 3650 * 24 ? -1 : v * 3600;
	case 'm': return v * 60;
	default: return -1;
	}
}

static int cs__parse_int(const char *s, int lo, int hi, int *out) {
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

enum { CS__F_TABLE, CS__F_JSONL, CS__F_JSON, CS__F_MD, CS__F_HTML, CS__F_STIX, CS__F_SIGHT, CS__F_MISP, CS__F_EW_JSON,
       CS__F_EW_MD };

static int64_t cs__settle_s = 90000; /* sightings: a bucket this old is settled (late grace 24 h + 1 h) */
static int cs__misp_max = 100;       /* MISP sightings per (indicator, where, bucket) */

/* The situation report: fetch, edition, render. Returns the exit status. */
static int cs__situation(const cs_report_opts_t *o, const cs_report_ed_opts_t *eo, int fmt, const char *out) {
	cs_report_sit_fetch_opts_t fo = {o->redis_host, o->redis_port, o->key_prefix, o->from, o->to + 1, 0,
					 o->redis_user, o->redis_password};
	char errstr[512];
	cs_report_sit_t *s;
	cs_report_ed_t *ed;
	FILE *fp = stdout;
	int rc;

	if (!(s = cs_report_sit_fetch(&fo, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-report: %s\n", errstr);
		return 1;
	}
	if (!(ed = cs_report_ed_new(s, eo, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-report: %s\n", errstr);
		cs_report_sit_destroy(s);
		return 2;
	}
	if (out && !(fp = fopen(out, "w"))) {
		fprintf(stderr, "cshield-report: %s: %s\n", out, strerror(errno));
		cs_report_ed_destroy(ed);
		cs_report_sit_destroy(s);
		return 1;
	}
	switch (fmt) {
	case CS__F_JSON: cs_report_ed_json(ed, fp); break;
	case CS__F_MD: cs_report_ed_md(ed, fp); break;
	case CS__F_HTML: cs_report_ed_html(ed, fp); break;
	case CS__F_EW_JSON: cs_report_ed_early_warnings(ed, fp, 0); break;
	case CS__F_EW_MD: cs_report_ed_early_warnings(ed, fp, 1); break;
	case CS__F_SIGHT: cs_report_ed_sightings(ed, fp, cs__settle_s, 0, cs__misp_max); break;
	case CS__F_MISP: cs_report_ed_sightings(ed, fp, cs__settle_s, 1, cs__misp_max); break;
	default: cs_report_ed_stix(ed, fp); break;
	}
	if (out) {
		rc = ferror(fp) | fclose(fp);
		if (rc)
			fprintf(stderr, "cshield-report: %s: could not write it all\n", out);
		else
			fprintf(stderr, "cshield-report: wrote %s (%s edition, labelled %s)\n", out,
				cs_tlp2str(eo->audience), cs_tlp2str(cs_report_ed_tlp(ed)));
		rc = rc ? 1 : 0;
	} else {
		rc = cs_proc_stdout_status("cshield-report");
	}
	cs_report_ed_destroy(ed);
	cs_report_sit_destroy(s);
	return rc;
}

int main(int argc, char **argv) {
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"redis", required_argument, NULL, 'r'}, {"prefix", required_argument, NULL, 'p'},
		{"window", required_argument, NULL, 'w'}, {"tlp", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},     {"format", required_argument, NULL, 'F'},
		{"last", required_argument, NULL, 'L'},  {"org", required_argument, NULL, 'O'},
		{"hub", required_argument, NULL, 'H'},   {"k", required_argument, NULL, 'k'},
		{"top", required_argument, NULL, 'T'},   {"silent", required_argument, NULL, 'S'},
		{"title", required_argument, NULL, 'n'}, {"now", required_argument, NULL, 'N'},
		{"output", required_argument, NULL, 'o'}, {"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'P'}, {"early-warning", no_argument, NULL, 'E'},
		{"sentinels", required_argument, NULL, 's'}, {"master-name", required_argument, NULL, 'm'},
		{"settle", required_argument, NULL, 'D'}, {"misp-max", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0}};
	static char password[1024];
	cs_report_ed_opts_t eo = {CS_TLP_CLEAR, NULL, "hub", NULL, 3, 20, 86400, 0};
	const char *out = NULL;
	int64_t last = 0;
	int fmt = CS__F_TABLE;
	cs_report_opts_t o = {"127.0.0.1", 6379, "cs", 60, INT64_MIN / 2, INT64_MAX / 2, CS_TLP_CLEAR, NULL, NULL};
	char hostbuf[256], errstr[512];
	const char *addr = getenv("CS_REDIS_ADDR");
	int json = 0, c, have_from = 0, have_to = 0, early = 0;
	const char *sentinels = NULL, *master = NULL;
	cs_report_t *rep;

	cs_proc_init("cshield-report");
	eo.now = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "hVo:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cs__usage(stdout);
			return cs_proc_stdout_status("cshield-report");
		case 'V':
			printf("cshield-report %s\n", CS_VERSION_STR);
			return cs_proc_stdout_status("cshield-report");
		case 'E':
			early = 1;
			break;
		case 's':
			sentinels = optarg;
			break;
		case 'm':
			master = optarg;
			break;
		case 'j':
			json = 1;
			fmt = CS__F_JSONL;
			break;
		case 'F': {
			static const char *const names[] = {"table", "jsonl", "json", "md", "html", "stix", "sightings", "misp-sightings"};
			fmt = -1;
			for (int i = 0; i < 8; i++)
				if (!strcmp(optarg, names[i]))
					fmt = i;
			if (fmt < 0) {
				fprintf(stderr, "cshield-report: --format \"%s\": expected html, md, json, stix, sightings, misp-sightings, table or jsonl\n",
					optarg);
				return 2;
			}
			json = fmt == CS__F_JSONL;
			break;
		}
		case 'L':
		case 'S':
		case 'D': {
			int64_t v = cs__parse_span(optarg);
			if (v < 0) {
				fprintf(stderr, "cshield-report: --%s \"%s\": expected a span like 24h, 7d or 30d\n",
					c == 'L' ? "last" : c == 'S' ? "silent" : "settle", optarg);
				return 2;
			}
			if (c == 'L')
				last = v;
			else if (c == 'S')
				eo.silent_s = v;
			else
				cs__settle_s = v;
			break;
		}
		case 'O':
			eo.org = optarg;
			break;
		case 'H':
			eo.hub = optarg;
			break;
		case 'n':
			eo.title = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'u':
			o.redis_user = optarg;
			break;
		case 'P':
			if (cs_secret_read(optarg, password, sizeof(password), errstr, sizeof(errstr))) {
				fprintf(stderr, "cshield-report: --password-file %s\n", errstr);
				return 2;
			}
			o.redis_password = password;
			break;
		case 'M':
			if (cs__parse_int(optarg, 1, 1000000, &cs__misp_max)) {
				fprintf(stderr, "cshield-report: --misp-max \"%s\": expected a number from 1 to 1000000\n", optarg);
				return 2;
			}
			break;
		case 'k':
		case 'T':
			if (cs__parse_int(optarg, 1, c == 'k' ? 1000 : 100000, c == 'k' ? &eo.k : &eo.top)) {
				fprintf(stderr, "cshield-report: --%s \"%s\": expected a number from 1 to %d\n",
					c == 'k' ? "k" : "top", optarg, c == 'k' ? 1000 : 100000);
				return 2;
			}
			break;
		case 'N':
			if (cs__parse_time(optarg, 0, &eo.now)) {
				fprintf(stderr, "cshield-report: --now \"%s\": expected ISO 8601, a date or epoch seconds\n", optarg);
				return 2;
			}
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
			o.audience = eo.audience = (cs_tlp_t)t;
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
	if (!o.redis_password && getenv("CS_REDIS_PASSWORD"))
		o.redis_password = getenv("CS_REDIS_PASSWORD");
	if (early) {
		if (fmt != CS__F_TABLE && fmt != CS__F_JSON && fmt != CS__F_JSONL && fmt != CS__F_MD) {
			fprintf(stderr, "cshield-report: --early-warning is written as md or json\n");
			return 2;
		}
		fmt = fmt == CS__F_JSON || fmt == CS__F_JSONL ? CS__F_EW_JSON : CS__F_EW_MD;
	}
	if (last && (have_from || have_to)) {
		fprintf(stderr, "cshield-report: --last or --from/--to, not both\n");
		return 2;
	}
	if (fmt >= CS__F_JSON) {
		/* a situation report covers a period: by default the last 24 hours */
		if (!have_from && !have_to && !last)
			last = 86400;
		if (last) {
			o.to = eo.now - 1;
			o.from = eo.now - last;
		} else if (!have_from || !have_to) {
			fprintf(stderr, "cshield-report: a report's period needs both --from and --to (or --last)\n");
			return 2;
		}
		if (eo.audience >= CS_TLP_AMBER_STRICT && !eo.org) {
			fprintf(stderr, "cshield-report: a TLP:%s edition is for one organization: name it with --org\n",
				eo.audience == CS_TLP_RED ? "RED" : "AMBER+STRICT");
			return 2;
		}
	} else if (last) {
		o.to = eo.now;
		o.from = eo.now - last;
	}
	if (have_from && have_to && o.from > o.to) {
		fprintf(stderr, "cshield-report: --from is after --to: an empty period\n");
		return 2;
	}
	{
		int rc = cs_report_redis_target(addr, sentinels, master, hostbuf, sizeof(hostbuf), &o.redis_port, errstr,
						sizeof(errstr));
		if (rc) {
			fprintf(stderr, "cshield-report: %s\n", errstr);
			return rc;
		}
		if (addr || sentinels)
			o.redis_host = hostbuf;
	}
	if (fmt >= CS__F_JSON)
		return cs__situation(&o, &eo, fmt, out);
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
