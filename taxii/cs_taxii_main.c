/*
 * cs_taxii_main.c - cshield-taxii: indicators in from a TAXII 2.1 collection,
 * sightings (any STIX bundle) out to one.
 *
 *   cshield-taxii pull --collection URL --out FILE [--follow] ...
 *       every object added since the last pull, merged into the bundle FILE
 *       (ingest's indicators.files takes it like any STIX file and reloads it
 *       when it changes); the point reached is kept in FILE.state.
 *   cshield-taxii push --collection URL BUNDLE...
 *       the bundles' objects added to the collection.
 *
 * DESIGN: the bundle file is the only hand-over to ingest, so a TAXII server
 * that is down, refuses us or answers garbage changes nothing that is loaded:
 * the file is replaced only after a whole pull (every page) succeeded. With
 * --follow the pull repeats every --interval seconds, and after a failure
 * again after 1, 2, 4... seconds (at most --interval), each failure logged
 * with its reason.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cs_common.h"
#include "cs_taxii.h"

static volatile sig_atomic_t cs__stop;
static void cs__on_signal(int sig) {
	(void)sig;
	cs__stop = 1;
}

static void cs__usage(FILE *fp) {
	fprintf(fp,
		"Usage: cshield-taxii pull --collection URL --out FILE [options]\n"
		"       cshield-taxii push --collection URL [options] BUNDLE...\n"
		"       cshield-taxii --version\n"
		"\n"
		"pull: every object added to a TAXII 2.1 collection since the last pull, merged into the\n"
		"      STIX 2.1 bundle FILE (give it to cshield-ingest's indicators.files); the point\n"
		"      reached is kept in FILE.state. A failed pull leaves FILE as it was.\n"
		"push: the objects of the STIX bundles (cshield-report --format sightings) added to the\n"
		"      collection; objects it already holds are reported, not an error.\n"
		"\n"
		"  --collection URL     the collection, https://host/api-root/collections/<id>/\n"
		"  --user U             HTTP basic authentication; the password from --password-file,\n"
		"  --password-file F    or the environment variable CS_TAXII_PASSWORD\n"
		"  --cacert F           PEM file of the CAs to trust (default: the system's)\n"
		"  --timeout S          per request (default 30)\n"
		"  --limit N            objects per page asked for (default 500)\n"
		"  --max-bytes N        largest response taken (default 67108864)\n"
		"  --follow             pull: keep pulling every --interval seconds\n"
		"  --interval S         pull --follow: seconds between pulls (default 300)\n"
		"  --log-level L        error, warn, info (default), debug\n"
		"Exit: 0 done, 1 the server or a file failed (said on stderr), 2 usage.\n");
}

typedef struct cs__state_s {
	char added_after[64];
} cs__state_t;

/* FILE.state: {"collection": URL, "added_after": T}; a state of another collection is not ours. */
static void cs__state_read(const char *out, const char *url, cs__state_t *st) {
	char path[4096];
	json_t *j;
	const char *c, *a;
	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s.state", out);
	if (!(j = json_load_file(path, 0, NULL)))
		return;
	c = json_string_value(json_object_get(j, "collection"));
	a = json_string_value(json_object_get(j, "added_after"));
	if (c && a && !strcmp(c, url) && strlen(a) < sizeof(st->added_after))
		snprintf(st->added_after, sizeof(st->added_after), "%s", a);
	json_decref(j);
}

static int cs__state_write(const char *out, const char *url, const char *added_after, char *errstr, size_t size) {
	char path[4096], tmp[4200];
	json_t *j = json_pack("{s:s,s:s}", "collection", url, "added_after", added_after);
	int bad;
	snprintf(path, sizeof(path), "%s.state", out);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	bad = !j || json_dump_file(j, tmp, JSON_COMPACT) || rename(tmp, path);
	json_decref(j);
	if (bad)
		cs_errstr_set(errstr, size, "%.300s: %s", path, strerror(errno));
	return bad ? -1 : 0;
}

/* One pull into out. 0 or -1 with errstr set. */
static int cs__pull_once(cs_taxii_t *t, const char *url, const char *out, char *errstr, size_t size) {
	cs__state_t st;
	char last[64];
	json_t *objs;
	long changed;
	size_t n;
	cs__state_read(out, url, &st);
	if (cs_taxii_pull(t, st.added_after, &objs, last, sizeof(last), errstr, size))
		return -1;
	n = json_array_size(objs);
	changed = cs_taxii_bundle_merge(out, objs, errstr, size);
	json_decref(objs);
	if (changed < 0)
		return -1;
	if (last[0] && strcmp(last, st.added_after) && cs__state_write(out, url, last, errstr, size))
		return -1;
	CS_LOG_I("taxii", "pulled %zu object%s added after %s: %ld new or newer in %s%s%s", n, n == 1 ? "" : "s",
		 st.added_after[0] ? st.added_after : "the start", changed, out, last[0] ? "; next pull after " : "",
		 last);
	return 0;
}

/* Sleeps s seconds unless stopped; 1 when stopped. */
static int cs__nap(long s) {
	for (long i = 0; i < s * 10 && !cs__stop; i++) {
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
	}
	return cs__stop != 0;
}

static int cs__push(cs_taxii_t *t, char **files, int nfiles, char *errstr, size_t size) {
	for (int i = 0; i < nfiles; i++) {
		json_error_t jerr;
		json_t *b = json_load_file(files[i], JSON_REJECT_DUPLICATES, &jerr), *objs;
		cs_taxii_status_t st;
		if (!b) {
			cs_errstr_set(errstr, size, "%.300s: not JSON (%s at line %d)", files[i], jerr.text, jerr.line);
			return -1;
		}
		objs = json_object_get(b, "objects");
		if (!json_is_array(objs) || !json_is_string(json_object_get(b, "type")) ||
		    strcmp(json_string_value(json_object_get(b, "type")), "bundle")) {
			cs_errstr_set(errstr, size, "%.300s: not a STIX bundle (\"type\": \"bundle\" and an \"objects\" list)", files[i]);
			json_decref(b);
			return -1;
		}
		if (cs_taxii_push(t, objs, &st, errstr, size)) {
			json_decref(b);
			return -1;
		}
		printf("{\"file\":\"%s\",\"objects\":%zu,\"total\":%lld,\"success\":%lld,\"failure\":%lld,\"pending\":%lld}\n",
		       files[i], json_array_size(objs), (long long)st.total, (long long)st.success, (long long)st.failure,
		       (long long)st.pending);
		CS_LOG_I("taxii", "%s: %zu objects pushed: %lld added, %lld refused (already held: same id and modified), %lld pending",
			 files[i], json_array_size(objs), (long long)st.success, (long long)st.failure, (long long)st.pending);
		json_decref(b);
	}
	return 0;
}

int main(int argc, char **argv) {
	static const struct option longopts[] = {
		{"collection", required_argument, NULL, 'c'}, {"out", required_argument, NULL, 'o'},
		{"user", required_argument, NULL, 'u'},       {"password-file", required_argument, NULL, 'p'},
		{"cacert", required_argument, NULL, 'a'},     {"timeout", required_argument, NULL, 't'},
		{"limit", required_argument, NULL, 'l'},      {"max-bytes", required_argument, NULL, 'm'},
		{"follow", no_argument, NULL, 'f'},           {"interval", required_argument, NULL, 'i'},
		{"log-level", required_argument, NULL, 'L'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	cs_taxii_opts_t o = {0};
	const char *cmd, *out = NULL, *pwfile = NULL;
	char password[1024] = "", errstr[1024];
	long interval = 300;
	int follow = 0, c, rc = 0;
	cs_taxii_t *t;

	cs_proc_init("cshield-taxii");
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cs__usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : cs_proc_stdout_status("cshield-taxii");
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("cshield-taxii %s\n", CS_VERSION_STR);
		return cs_proc_stdout_status("cshield-taxii");
	}
	cmd = argv[1];
	if (strcmp(cmd, "pull") && strcmp(cmd, "push")) {
		fprintf(stderr, "cshield-taxii: unknown command \"%s\": pull or push (--help)\n", cmd);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'c': o.collection_url = optarg; break;
		case 'o': out = optarg; break;
		case 'u': o.user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'a': o.cacert = optarg; break;
		case 'f': follow = 1; break;
		case 't':
		case 'l':
		case 'm':
		case 'i':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || (c != 'm' && v > 86400 * 7)) {
				fprintf(stderr, "cshield-taxii: --%s \"%s\": expected a positive integer%s\n",
					c == 't' ? "timeout" : c == 'l' ? "limit" : c == 'm' ? "max-bytes" : "interval", optarg,
					c == 'm' ? "" : " up to 604800");
				return 2;
			}
			if (c == 't')
				o.timeout_s = v;
			else if (c == 'l')
				o.page_limit = (int)v;
			else if (c == 'm')
				o.max_bytes = (size_t)v;
			else
				interval = v;
			break;
		case 'L':
			if (cs_log_level_parse(optarg) < 0) {
				fprintf(stderr, "cshield-taxii: --log-level \"%s\": error, warn, info or debug\n", optarg);
				return 2;
			}
			cs_log_set_level((cs_log_level_t)cs_log_level_parse(optarg));
			break;
		case 'h': cs__usage(stdout); return 0;
		default: return 2;
		}
	}
	if (!o.collection_url) {
		fprintf(stderr, "cshield-taxii %s: --collection URL is required\n", cmd);
		return 2;
	}
	if (!strcmp(cmd, "pull") && (!out || optind != argc)) {
		fprintf(stderr, "cshield-taxii pull: %s\n", out ? "takes no file arguments" : "--out FILE is required");
		return 2;
	}
	if (!strcmp(cmd, "push") && (optind == argc || follow || out)) {
		fprintf(stderr, "cshield-taxii push: %s\n",
			optind == argc ? "give the bundles to push" : "--out and --follow are for pull");
		return 2;
	}
	if (pwfile) {
		if (cs_secret_read(pwfile, password, sizeof(password), errstr, sizeof(errstr))) {
			fprintf(stderr, "cshield-taxii: %s\n", errstr);
			return 2;
		}
	} else if (getenv("CS_TAXII_PASSWORD")) {
		snprintf(password, sizeof(password), "%s", getenv("CS_TAXII_PASSWORD"));
	}
	if (o.user)
		o.password = password;
	else if (password[0]) {
		fprintf(stderr, "cshield-taxii: a password without --user\n");
		return 2;
	}
	if (!(t = cs_taxii_new(&o, errstr, sizeof(errstr)))) {
		fprintf(stderr, "cshield-taxii: %s\n", errstr);
		return 2;
	}
	memset(password, 0, sizeof(password));
	signal(SIGINT, cs__on_signal);
	signal(SIGTERM, cs__on_signal);

	if (!strcmp(cmd, "push")) {
		if (cs__push(t, argv + optind, argc - optind, errstr, sizeof(errstr))) {
			CS_LOG_E("taxii", "push failed: %s", errstr);
			rc = 1;
		}
	} else if (!follow) {
		if (cs__pull_once(t, o.collection_url, out, errstr, sizeof(errstr))) {
			CS_LOG_E("taxii", "pull failed, %s left as it was: %s", out, errstr);
			rc = 1;
		}
	} else {
		long backoff = 1;
		while (!cs__stop) {
			if (cs__pull_once(t, o.collection_url, out, errstr, sizeof(errstr))) {
				CS_LOG_W("taxii", "pull failed, %s left as it was; next try in %ld s: %s", out, backoff, errstr);
				if (cs__nap(backoff))
					break;
				backoff = backoff * 2 > interval ? interval : backoff * 2;
				continue;
			}
			backoff = 1;
			if (cs__nap(interval))
				break;
		}
	}
	cs_taxii_destroy(t);
	if (cs_proc_stdout_status("cshield-taxii"))
		rc = 1;
	return rc;
}
