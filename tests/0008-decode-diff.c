/*
 * 0008-decode-diff: differential test of the streaming decoder against an
 * independent reference built on jansson (tests/cs_test_refdec.c), on every
 * real JSON sample in ../shared/data/events and on generated variants of each
 * (re-serialized compact; pretty-printed with \uXXXX and \/ escapes and sorted
 * keys). The set of (type, value) observables must be equal for every event.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <jansson.h>

#include "cs_test.h"
#include "cs_decode.h"

/* tests/cs_test_refdec.c */
size_t cs_refdec(json_t *doc, char ***out);
void cs_refdec_free(char **v, size_t n);

static cs_decode_t *dec;
static long docs, variants, mismatches;
#define MAX_DOCS_PER_FILE 1500

static int cmpstr(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Decodes text with the streaming decoder; returns the sorted, unique "type|value" list. */
static size_t ours(const char *text, size_t len, char ***out, int *rej) {
	cs_decode_event_t ev;
	size_t used, n = 0;
	char **v;
	*rej = cs_decode_one(dec, CS_DECODE_FMT_AUTO, text, len, &used, &ev);
	v = calloc(ev.obs_cnt + 1, sizeof(*v));
	for (size_t i = 0; i < ev.obs_cnt; i++) {
		size_t l = strlen(cs_obs_type2str(ev.obs[i].type)) + ev.obs[i].len + 2;
		v[n] = malloc(l);
		snprintf(v[n], l, "%s|%.*s", cs_obs_type2str(ev.obs[i].type), (int)ev.obs[i].len, ev.obs[i].value);
		n++;
	}
	qsort(v, n, sizeof(*v), cmpstr);
	*out = v;
	return n;
}

static int compare_doc(const char *file, long idx, json_t *doc, const char *orig, size_t orig_len) {
	char **ref, *texts[3];
	size_t nref = cs_refdec(doc, &ref), lens[3];
	int nv = 0, bad = 0;

	texts[nv] = json_dumps(doc, JSON_COMPACT);
	lens[nv] = strlen(texts[nv]);
	nv++;
	texts[nv] = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH | JSON_SORT_KEYS);
	lens[nv] = strlen(texts[nv]);
	nv++;
	if (orig) {
		texts[nv] = strndup(orig, orig_len);
		lens[nv] = orig_len;
		nv++;
	}
	for (int k = 0; k < nv; k++) {
		char **got;
		int rej;
		size_t n = ours(texts[k], lens[k], &got, &rej);
		variants++;
		if (rej != CS_DECODE_OK || n != nref) {
			bad = 1;
		} else {
			for (size_t i = 0; i < n && !bad; i++)
				bad = strcmp(got[i], ref[i]) != 0;
		}
		if (bad && mismatches++ < 5) {
			fprintf(stderr, "  MISMATCH %s doc %ld variant %d (%s):\n", file, idx, k,
				rej != CS_DECODE_OK ? cs_decode_reject2code((cs_decode_reject_t)rej) : "accepted");
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, "    ours: %s\n", got[i]);
			for (size_t i = 0; i < nref; i++)
				fprintf(stderr, "    ref:  %s\n", ref[i]);
			fprintf(stderr, "    text: %.300s\n", texts[k]);
		}
		cs_refdec_free(got, n);
		if (bad)
			break;
	}
	for (int k = 0; k < nv; k++)
		free(texts[k]);
	cs_refdec_free(ref, nref);
	return bad;
}

static char *slurp(const char *path, size_t *len) {
	char cmd[8192], *buf = NULL;
	size_t cap = 0, n = 0, r;
	int gz = strlen(path) > 3 && !strcmp(path + strlen(path) - 3, ".gz");
	FILE *fp;
	if (gz) {
		snprintf(cmd, sizeof(cmd), "zcat '%s'", path);
		fp = popen(cmd, "r");
	} else {
		fp = fopen(path, "rb");
	}
	if (!fp)
		return NULL;
	do {
		if (n == cap)
			buf = realloc(buf, (cap = cap ? cap * 2 : 1 << 16) + 1);
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	gz ? pclose(fp) : fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void do_file(const char *path) {
	size_t len, pos = 0;
	char *buf = slurp(path, &len);
	long ndoc = 0;
	if (!buf)
		return;
	while (pos < len && ndoc < MAX_DOCS_PER_FILE) {
		json_error_t err;
		json_t *doc;
		while (pos < len && (buf[pos] == ' ' || buf[pos] == '\n' || buf[pos] == '\r' || buf[pos] == '\t'))
			pos++;
		if (pos >= len)
			break;
		doc = json_loadb(buf + pos, len - pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &err);
		if (!doc) { /* a comment line, a CEF line, a Splunk wrapper...: skip the line */
			char *nl = memchr(buf + pos, '\n', len - pos);
			pos = nl ? (size_t)(nl - buf) + 1 : len;
			continue;
		}
		if (json_is_object(doc)) {
			compare_doc(path, ndoc++, doc, buf + pos, (size_t)err.position);
			docs++;
		} else if (json_is_array(doc)) {
			size_t i;
			json_t *el;
			json_array_foreach(doc, i, el) if (json_is_object(el)) {
				compare_doc(path, ndoc++, el, NULL, 0);
				docs++;
			}
		}
		json_decref(doc);
		pos += (size_t)err.position;
	}
	free(buf);
}

static void walk(const char *dir) {
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[4096];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			walk(p);
		else if (strstr(de->d_name, ".json") || strstr(de->d_name, ".log") || strstr(de->d_name, ".ocsf"))
			do_file(p);
	}
	if (d)
		closedir(d);
}

int cs_test_0008(void) {
	const char *shared = getenv("CS_SHARED_DATA");
	char errstr[256], dir[1024];
	cs_decode_conf_t *conf;

	if (!shared || !*shared) {
		CS_TEST_SAY("CS_SHARED_DATA not set: ../shared/data is needed");
		return CS_TEST_SKIP;
	}
	conf = cs_decode_conf_new();
	CS_TEST_ASSERT((dec = cs_decode_new(conf, errstr, sizeof(errstr))), "%s", errstr);
	snprintf(dir, sizeof(dir), "%s/events", shared);
	walk(dir);
	CS_TEST_SAY("%ld real events, %ld decoded texts, %ld mismatches", docs, variants, mismatches);
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	CS_TEST_ASSERT(docs > 5000, "only %ld events found under %s", docs, dir);
	CS_TEST_EQ_INT(mismatches, 0);
	return 0;
}
