/*
 * 0017-hostile-feeds: sloppy or hostile indicator files must not talk the
 * engine out of a TLP label or into a value it was not given.
 *
 * CSV is read as RFC 4180 reads it: a quoted field may hold a line break, so
 * a row whose TLP column comes after such a field keeps its label (it was
 * loaded under the default, TLP:CLEAR here, when rows were physical lines);
 * an unterminated quote, text after a closing quote, a NUL byte and a row
 * with fewer or more fields than the header are rejections with the line of
 * the row. MISP tags that almost name a label read as the label they name
 * ("tlp: red", "tlp:amber-strict"), or, when they name none ("tlp:rouge"),
 * reject the indicator: never the default. A plain list or Zeek intel line
 * with a NUL byte is rejected, not cut there. Patterns that match nearly
 * anything are refused like too-broad prefixes; IPv4-mapped IPv6 prefixes
 * become the IPv4 prefixes events carry, and the too-broad rule applies to
 * what they become.
 */
#include "cs_test.h"
#include "cs_correlate.h"

static const cs_corr_ind_t *find(const cs_corr_db_t *db, const char *value) {
	for (size_t i = 0; i < cs_corr_db_count(db); i++)
		if (!strcmp(cs_corr_db_indicator(db, (uint32_t)i)->value, value))
			return cs_corr_db_indicator(db, (uint32_t)i);
	return NULL;
}

/* The rejection whose text contains both needles, or NULL. */
static const char *rejected(const cs_corr_db_t *db, const char *a, const char *b) {
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++) {
		const char *r = cs_corr_db_reject(db, i);
		if (strstr(r, a) && (!b || strstr(r, b)))
			return r;
	}
	return NULL;
}

static int count_hit(void *opaque, const cs_corr_hit_t *hit) {
	(*(int *)opaque)++;
	return 0;
}

static void dump_rejects(const cs_corr_db_t *db) {
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		CS_TEST_SAY("rejected: %s", cs_corr_db_reject(db, i));
}

/* Writes len bytes (NULs included) to path. */
static int write_bytes(const char *path, const char *s, size_t len) {
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	fwrite(s, 1, len, fp);
	return fclose(fp);
}

static cs_corr_db_t *load(const char *path, cs_tlp_t def) {
	char errstr[512];
	cs_corr_load_opts_t opts = {NULL, def, NULL, NULL};
	cs_corr_db_t *db = cs_corr_db_load_opts(&path, 1, &opts, 1, errstr, sizeof(errstr));
	if (!db)
		CS_TEST_SAY("load %s: %s", path, errstr);
	return db;
}

int cs_test_0017(void) {
	char path[512];
	cs_corr_db_t *db;
	const cs_corr_ind_t *ind;

	/* ---- CSV ---- */
	snprintf(path, sizeof(path), "%s/feed.csv", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path,
					  "ioc_value,tags,tlp\n"
					  "red.example.eu,\"line one\nline two\",red\n"           /* 2-3: a newline in a quoted field */
					  "green.example.eu,\"a \"\"quoted\"\" tag\",green\r\n"   /* 4: CRLF, doubled quotes */
					  "short.example.eu,red\n"                                /* 5: a field short */
					  "long.example.eu,x,red,extra\n"                         /* 6: a field too many */
					  "after.example.eu,\"tag\"junk,red\n"                    /* 7: text after a closing quote */
					  "\"multi\nline.example.eu\",x,amber\n"                  /* 8-9: a line break in the value */
					  "last-good.example.eu,,amber+strict\n"                  /* 10 */
					  "open.example.eu,\"never closed,red\n"                  /* 11: unterminated */
					  "swallowed.example.eu,x,clear\n"),
		       0);
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "csv");
	CS_TEST_ASSERT((ind = find(db, "red.example.eu")) && ind->tlp == CS_TLP_RED, "the red row is %s",
		       ind ? cs_tlp2str(ind->tlp) : "missing");
	CS_TEST_EQ_STR(ind->tags, "line one\nline two");
	CS_TEST_ASSERT((ind = find(db, "green.example.eu")) && ind->tlp == CS_TLP_GREEN, "green row");
	CS_TEST_EQ_STR(ind->tags, "a \"quoted\" tag");
	CS_TEST_ASSERT((ind = find(db, "last-good.example.eu")) && ind->tlp == CS_TLP_AMBER_STRICT, "row after a multi-line value");
	CS_TEST_ASSERT(ind && !strcmp(ind->origin + strlen(ind->origin) - 3, ":10"), "origin %s", ind ? ind->origin : "");
	CS_TEST_ASSERT(!find(db, "short.example.eu") && rejected(db, ":5", "2 fields where the header has 3"), "short row");
	CS_TEST_ASSERT(!find(db, "long.example.eu") && rejected(db, ":6", "4 fields where the header has 3"), "long row");
	CS_TEST_ASSERT(!find(db, "after.example.eu") && rejected(db, ":7", "text after a closing quote"), "after quote");
	CS_TEST_ASSERT(!find(db, "line.example.eu") && !find(db, "multi"), "a value with a line break loaded");
	CS_TEST_ASSERT(rejected(db, ":8", NULL), "the value with a line break is not rejected");
	CS_TEST_ASSERT(!find(db, "open.example.eu") && !find(db, "swallowed.example.eu") &&
			       rejected(db, ":11", "never closed"),
		       "unterminated quote");
	if (cs_corr_db_count(db) != 3) {
		dump_rejects(db);
		CS_TEST_FAIL("%zu indicators loaded, expected 3", cs_corr_db_count(db));
	}
	cs_corr_db_destroy(db);
	/* a NUL byte in a CSV field */
	CS_TEST_EQ_INT(write_bytes(path, "ioc_value,tlp\nsafe.example.eu\0evil,red\nok.example.eu,red\n", 56), 0);
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "csv nul");
	CS_TEST_ASSERT(!find(db, "safe.example.eu") && rejected(db, ":2", "NUL"), "NUL in CSV");
	CS_TEST_ASSERT(find(db, "ok.example.eu"), "the next row");
	cs_corr_db_destroy(db);

	/* ---- MISP tags that almost name a label ---- */
	snprintf(path, sizeof(path), "%s/event.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path,
					  "{\"Event\":{\"Orgc\":{\"name\":\"CERT-XX\"},\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":["
					  "{\"type\":\"domain\",\"value\":\"spaced.example.eu\",\"uuid\":\"a1\",\"Tag\":[{\"name\":\"tlp: red\"}]},"
					  "{\"type\":\"domain\",\"value\":\"strict.example.eu\",\"uuid\":\"a2\",\"Tag\":[{\"name\":\"tlp:amber-strict\"}]},"
					  "{\"type\":\"domain\",\"value\":\"upper.example.eu\",\"uuid\":\"a3\",\"Tag\":[{\"name\":\" TLP:AMBER \"}]},"
					  "{\"type\":\"domain\",\"value\":\"rouge.example.eu\",\"uuid\":\"a4\",\"Tag\":[{\"name\":\"tlp:rouge\"}]},"
					  "{\"type\":\"domain\",\"value\":\"chr.example.eu\",\"uuid\":\"a5\",\"Tag\":[{\"name\":\"tlp:ex:chr\"}]},"
					  "{\"type\":\"domain\",\"value\":\"plain.example.eu\",\"uuid\":\"a6\"}]}}\n"),
		       0);
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "misp");
	CS_TEST_ASSERT((ind = find(db, "spaced.example.eu")) && ind->tlp == CS_TLP_RED, "\"tlp: red\" read as %s",
		       ind ? cs_tlp2str(ind->tlp) : "missing");
	CS_TEST_ASSERT((ind = find(db, "strict.example.eu")) && ind->tlp == CS_TLP_AMBER_STRICT, "amber-strict read as %s",
		       ind ? cs_tlp2str(ind->tlp) : "missing");
	CS_TEST_ASSERT((ind = find(db, "upper.example.eu")) && ind->tlp == CS_TLP_AMBER, "\" TLP:AMBER \"");
	CS_TEST_ASSERT(!find(db, "rouge.example.eu") && rejected(db, "misp:a4", "tlp:rouge"), "tlp:rouge loaded");
	CS_TEST_ASSERT((ind = find(db, "chr.example.eu")) && ind->tlp == CS_TLP_GREEN && strstr(ind->tags, "tlp:ex:chr"),
		       "tlp:ex:chr is an extension, not a label");
	CS_TEST_ASSERT((ind = find(db, "plain.example.eu")) && ind->tlp == CS_TLP_GREEN, "the event's label");
	cs_corr_db_destroy(db);
	/* an event-level tag that names no label rejects every attribute */
	CS_TEST_EQ_INT(cs_test_write_file(path,
					  "{\"Event\":{\"Tag\":[{\"name\":\"tlp:amber+\"}],\"Attribute\":["
					  "{\"type\":\"domain\",\"value\":\"one.example.eu\",\"uuid\":\"b1\"},"
					  "{\"type\":\"ip-dst\",\"value\":\"198.51.100.9\",\"uuid\":\"b2\"}]}}\n"),
		       0);
	{
		char errstr[512];
		const char *p1 = path;
		cs_corr_load_opts_t opts = {NULL, CS_TLP_CLEAR, NULL, NULL};
		CS_TEST_ASSERT(!(db = cs_corr_db_load_opts(&p1, 1, &opts, 1, errstr, sizeof(errstr))), "loaded");
		CS_TEST_ASSERT(strstr(errstr, "2 rejected") && strstr(errstr, "tlp:amber+"), "%s", errstr);
	}

	/* ---- a NUL byte in a plain list and a Zeek intel file ---- */
	snprintf(path, sizeof(path), "%s/list.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(write_bytes(path, "safe.example.com\0evil\nother.example.com\n", 40), 0);
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "list");
	CS_TEST_ASSERT(!find(db, "safe.example.com") && rejected(db, ":1", "NUL"), "a list line cut at its NUL");
	CS_TEST_ASSERT(find(db, "other.example.com") && cs_corr_db_count(db) == 1, "the next line");
	cs_corr_db_destroy(db);
	snprintf(path, sizeof(path), "%s/intel.intel", cs_test_tmpdir());
	{
		static const char z[] = "#fields\tindicator\tindicator_type\tmeta.source\n"
					"safe.example.com\0evil\tIntel::DOMAIN\tx\n"
					"other.example.com\tIntel::DOMAIN\tx\n";
		CS_TEST_EQ_INT(write_bytes(path, z, sizeof(z) - 1), 0);
	}
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "zeek");
	CS_TEST_ASSERT(!find(db, "safe.example.com") && rejected(db, ":2", "NUL"), "a Zeek line cut at its NUL");
	CS_TEST_ASSERT(find(db, "other.example.com") && cs_corr_db_count(db) == 1, "the next Zeek line");
	cs_corr_db_destroy(db);

	/* ---- patterns that match nearly anything; IPv4-mapped IPv6 prefixes ---- */
	snprintf(path, sizeof(path), "%s/broad.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "re:.\n"                      /* 1 */
						"re:[\\s\\S]\n"           /* 2 */
						"lit:/\n"                   /* 3 */
						"re:[a-z]{4}\n"             /* 4: four letters: most text */
						"re:.{6}\n"                 /* 5 */
						"lit:/wp-content/plugins/revslider\n" /* 6: specific */
						"re/i:evil-[0-9]+\\.example\n"       /* 7: specific */
						"::ffff:10.0.0.0/104\n"     /* 8: 10.0.0.0/8 */
						"::ffff:192.0.2.0/120\n"    /* 9: 192.0.2.0/24 */
						"::ffff:0.0.0.0/96\n"       /* 10: 0.0.0.0/0 once mapped: too broad */
						"2001:db8::/32\n"),         /* 11: a real IPv6 prefix stays one */
		       0);
	CS_TEST_ASSERT((db = load(path, CS_TLP_CLEAR)), "patterns");
	for (int l = 1; l <= 5; l++) {
		char at[16];
		snprintf(at, sizeof(at), ":%d:", l);
		CS_TEST_ASSERT(rejected(db, at, "too broad"), "line %d not refused as too broad", l);
	}
	CS_TEST_ASSERT(rejected(db, ":4:", "ordinary strings") && rejected(db, ":1:", "1 byte"), "the reasons");
	CS_TEST_ASSERT(rejected(db, ":10:", "too broad") && !find(db, "0.0.0.0/0"), "::ffff:0.0.0.0/96");
	CS_TEST_ASSERT((ind = find(db, "10.0.0.0/8")) && ind->cidr == 8, "::ffff:10.0.0.0/104 is not 10.0.0.0/8");
	CS_TEST_ASSERT((ind = find(db, "192.0.2.0/24")) && ind->cidr == 24, "::ffff:192.0.2.0/120");
	CS_TEST_ASSERT(find(db, "2001:db8::/32"), "2001:db8::/32");
	if (cs_corr_db_count(db) != 5) {
		dump_rejects(db);
		CS_TEST_FAIL("%zu indicators, expected 5", cs_corr_db_count(db));
	}
	{
		/* the mapped prefix matches what events carry: the IPv4 address */
		char errstr[256];
		cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
		cs_obs_t obs = {CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.20.30.40", 11};
		int n = 0;
		CS_TEST_ASSERT(scr, "%s", errstr);
		CS_TEST_EQ_INT(cs_corr_match(db, scr, &obs, count_hit, &n), 0);
		CS_TEST_EQ_INT(n, 1);
		cs_corr_scratch_destroy(scr);
	}
	cs_corr_db_destroy(db);
	return 0;
}
