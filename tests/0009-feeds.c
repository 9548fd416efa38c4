/*
 * 0009-feeds: real threat-intelligence files from ../shared/data/indicators
 * load with the counts computed independently (Python over the raw files),
 * and real events that overlap real indicators give exactly the known hits
 * (SOURCES.md: zed-sample-data DNS answers x SANS intel = 32 root/TLD servers).
 */
#include "cs_test.h"
#include "cs_correlate.h"
#include "cs_decode.h"

static size_t count_type(const cs_corr_db_t *db, cs_obs_type_t t) {
	size_t n = 0;
	for (size_t i = 0; i < cs_corr_db_count(db); i++)
		n += cs_corr_db_indicator(db, (uint32_t)i)->type == t;
	return n;
}

static size_t count_rejects(const cs_corr_db_t *db, const char *needle) {
	size_t n = 0;
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		n += strstr(cs_corr_db_reject(db, i), needle) != NULL;
	return n;
}

static char hit_seen[200000];
static long hits_distinct;
static int on_hit(void *opaque, const cs_corr_hit_t *h) {
	if (h->ind->id < sizeof(hit_seen) && !hit_seen[h->ind->id]) {
		hit_seen[h->ind->id] = 1;
		hits_distinct++;
	}
	return 0;
}

int cs_test_0009(void) {
	const char *shared = getenv("CS_SHARED_DATA");
	char p[8][1024], errstr[512];
	const char *paths[8];
	cs_corr_db_t *db;

	if (!shared || !*shared) {
		CS_TEST_SAY("CS_SHARED_DATA not set: ../shared/data is needed");
		return CS_TEST_SKIP;
	}
	for (int i = 0; i < 8; i++)
		paths[i] = p[i];

	/* Zeek intel: sha1 file hashes */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/zeek-intelligence-feeds/abuse-ch-malware.intel", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 1, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_count(db), 828);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_SHA1), 828);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 0);
	cs_corr_db_destroy(db);

	/* Zeek intel + STIX 2.1 of the same investigation: merged and de-duplicated
	 * (1,407 + 1,438 domains, 1,406 shared; 17 + 29 e-mails, all 17 shared;
	 * 81 process:name and 1 file:name comparisons matched as patterns scoped to
	 * their roles, but for the process name "bh": 2 bytes, too broad) */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/zeek-intelligence-feeds/Amnesty_NSO_Domains.intel", shared);
	snprintf(p[1], sizeof(p[1]), "%s/indicators/amnesty-investigations/2021-07-18_nso/pegasus.stix2", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 2, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_DOMAIN), 1439);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_EMAIL), 29);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_TEXT), 81);
	CS_TEST_EQ_INT(cs_corr_db_count(db), 1549);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 1);
	CS_TEST_EQ_INT(count_rejects(db, "too broad (at least 4): \"^bh$\""), 1);
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 0), "pegasus.stix2:indicator--"), "origin is the STIX id: %s",
		       cs_corr_db_reject(db, 0));
	cs_corr_db_destroy(db);

	/* abuse.ch Feodo CSV with banner comments and a quoted header */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/abusech-c2feeds-snapshot/ipblocklist.csv", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 1, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_IPV4), 28);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 0);
	cs_corr_db_destroy(db);

	/* STIX 2.0 exported by MISP (Talos): network-traffic dst_ref type AND value pairs, hashes, URL */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/cisco-talos-iocs/2022/06/avoslocker-new-arsenal.json", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 1, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_IPV4), 2);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_URL), 1);
	CS_TEST_EQ_INT(count_type(db, CS_OBS_SHA256), 14);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 0);
	cs_corr_db_destroy(db);

	/* MISP, both layouts ({"Event"} and {"response":[...]}), Attribute[] and Object[].Attribute[],
	 * to_ids honoured; plus a file that is not MISP (rejected as a whole, the rest loads) */
	{
		FILE *fp;
		char cmd[1200], line[1024];
		size_t n = 0;
		static char listbuf[64][1024];
		const char *lp[64];
		snprintf(cmd, sizeof(cmd), "find '%s/indicators/eset-malware-ioc' -name '*.json' | sort", shared);
		CS_TEST_ASSERT((fp = popen(cmd, "r")), "find");
		while (n < 64 && fgets(line, sizeof(line), fp)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(listbuf[n], sizeof(listbuf[n]), "%s", line);
			lp[n] = listbuf[n];
			n++;
		}
		pclose(fp);
		CS_TEST_EQ_INT(n, 54);
		CS_TEST_ASSERT((db = cs_corr_db_load(lp, n, 1, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_EQ_INT(cs_corr_db_count(db), 975);
		CS_TEST_EQ_INT(count_type(db, CS_OBS_IPV4), 90);
		CS_TEST_EQ_INT(count_type(db, CS_OBS_DOMAIN), 316);
		CS_TEST_EQ_INT(count_type(db, CS_OBS_URL), 16);
		CS_TEST_EQ_INT(count_type(db, CS_OBS_MD5) + count_type(db, CS_OBS_SHA1) + count_type(db, CS_OBS_SHA256), 552);
		CS_TEST_EQ_INT(count_type(db, CS_OBS_EMAIL), 1);
		CS_TEST_EQ_INT(count_rejects(db, "neither a STIX bundle nor a MISP event"), 1);
		CS_TEST_ASSERT(count_rejects(db, "to_ids is false") > 2000, "to_ids");
		cs_corr_db_destroy(db);
	}

	/* MISP warning lists over real feeds (SOURCES.md): resolvers, loopback, top sites, suffix entries */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/zeek-intelligence-feeds/sans.intel", shared);
	snprintf(p[1], sizeof(p[1]), "%s/indicators/zeek-intelligence-feeds/cobaltstrike_ips.intel", shared);
	snprintf(p[2], sizeof(p[2]), "%s/indicators/zeek-intelligence-feeds/predict_intel.intel", shared);
	snprintf(p[3], sizeof(p[3]), "%s/warninglists", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load_ex(paths, 3, p[3], 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_warninglist_count(db), 23);
	{
		static const struct {
			const char *value, *list;
		} want[] = {
			{"8.8.8.8", "List of known IPv4 public DNS resolvers"},
			{"208.67.222.222", "List of known IPv4 public DNS resolvers"},
			{"127.0.0.1", "List of RFC 5735 CIDR blocks"},                 /* a feed error */
			{"www.bing.com", "Top 1000 websites from Cisco Umbrella"},      /* exact string entry */
			{"www.download.windowsupdate.com", "List of known Windows 10 connection endpoints"}, /* ".windowsupdate.com" */
			/* tranco10k is a hostname list: microsoft.com covers its subdomains, as MISP evaluates it */
			{"www.update.microsoft.com", "Top 10K most-used sites from Tranco"},
		};
		size_t found = 0;
		for (size_t i = 0; i < cs_corr_db_count(db); i++) {
			const cs_corr_ind_t *ind = cs_corr_db_indicator(db, (uint32_t)i);
			for (size_t k = 0; k < CS_ARRAY_SIZE(want); k++)
				if (!strcmp(ind->value, want[k].value)) {
					found++;
					CS_TEST_ASSERT(ind->warninglist >= 0, "%s is not flagged", ind->value);
					CS_TEST_EQ_STR(cs_corr_db_warninglist(db, (size_t)ind->warninglist), want[k].list);
				}
			/* a non-routable-looking but public C2 address stays a detection */
			if (!strcmp(ind->value, "185.159.198.150"))
				CS_TEST_ASSERT(ind->warninglist < 0, "185.159.198.150 flagged by %s",
					       cs_corr_db_warninglist(db, (size_t)ind->warninglist));
		}
		CS_TEST_EQ_INT(found, CS_ARRAY_SIZE(want));
	}
	cs_corr_db_destroy(db);

	/* real events x real indicators: Zeek DNS answers (WRCCDC 2018) hit 32 root/TLD servers in SANS intel */
	snprintf(p[0], sizeof(p[0]), "%s/indicators/zeek-intelligence-feeds/sans.intel", shared);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 1, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT(cs_corr_db_count(db) < sizeof(hit_seen), "set too large for the test");
	{
		cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
		cs_decode_conf_t *dc = cs_decode_conf_new();
		cs_decode_t *dec = cs_decode_new(dc, errstr, sizeof(errstr));
		char cmd[1200], *line = NULL;
		size_t cap = 0;
		ssize_t n;
		long events = 0;
		FILE *fp;
		CS_TEST_ASSERT(scr && dec, "%s", errstr);
		snprintf(cmd, sizeof(cmd), "zcat '%s/events/zed-sample-data/zeek-json/dns.json.gz'", shared);
		CS_TEST_ASSERT((fp = popen(cmd, "r")), "zcat");
		while ((n = getline(&line, &cap, fp)) > 0) {
			cs_decode_event_t ev;
			size_t used;
			CS_TEST_EQ_INT(cs_decode_one(dec, CS_DECODE_FMT_ZEEK, line, (size_t)n, &used, &ev), CS_DECODE_OK);
			events++;
			for (size_t i = 0; i < ev.obs_cnt; i++)
				CS_TEST_EQ_INT(cs_corr_match(db, scr, &ev.obs[i], on_hit, NULL), 0);
		}
		free(line);
		pclose(fp);
		CS_TEST_EQ_INT(events, 53615);
		CS_TEST_EQ_INT(hits_distinct, 32);
		cs_decode_destroy(dec);
		cs_decode_conf_destroy(dc);
		cs_corr_scratch_destroy(scr);
	}
	cs_corr_db_destroy(db);
	return 0;
}
