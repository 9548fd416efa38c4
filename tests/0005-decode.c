/* 0005-decode: the first-slice decoder on real Suricata EVE, Zeek and ECS
 * records (../shared/data) and on escapes and edge cases. */
#include "cs_test.h"
#include "cs_ingest_int.h"

static cs_ingest_event_t ev;

/* Asserts that ev holds exactly the "type|role|value" observables listed. */
static int expect(const char *what, const char *const *want, size_t n) {
	if (ev.obs_cnt != n) {
		fprintf(stderr, "FAIL %s: %zu observables, expected %zu:\n", what, ev.obs_cnt, n);
		for (size_t i = 0; i < ev.obs_cnt; i++)
			fprintf(stderr, "   %s|%s|%s\n", cs_obs_type2str(ev.obs[i].type),
				cs_obs_role2str(ev.obs[i].role), ev.obs[i].value);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char got[1024];
		snprintf(got, sizeof(got), "%s|%s|%s", cs_obs_type2str(ev.obs[i].type),
			 cs_obs_role2str(ev.obs[i].role), ev.obs[i].value);
		if (strcmp(got, want[i])) {
			fprintf(stderr, "FAIL %s: observable %zu = \"%s\", expected \"%s\"\n", what, i, got, want[i]);
			return 1;
		}
		if (strlen(ev.obs[i].value) != ev.obs[i].len) {
			fprintf(stderr, "FAIL %s: observable %zu length mismatch\n", what, i);
			return 1;
		}
	}
	return 0;
}

static int decode(const char *s) {
	return cs_ingest_decode(s, strlen(s), &ev);
}

/* Reads line `lineno` (1-based) of a file into buf. */
static int read_line(const char *path, int lineno, char *buf, size_t size) {
	FILE *fp = fopen(path, "r");
	int n = 0;
	if (!fp)
		return -1;
	while (fgets(buf, (int)size, fp))
		if (++n == lineno) {
			fclose(fp);
			return 0;
		}
	fclose(fp);
	return -1;
}

int cs_test_0005(void) {
	const char *shared = getenv("CS_SHARED_DATA");
	static char line[65536];
	char path[1024];

	/* escapes: \/ and \u002e decode before normalization; case and trailing dot fold */
	CS_TEST_EQ_INT(decode("{\"timestamp\":\"2026-11-29T03:14:20.250+0000\",\"src_ip\":\"::ffff:10.0.0.1\","
			      "\"dest_ip\":\"2001:DB8::1\",\"dns\":{\"rrname\":\"WWW.Evil\\u002eEU.\"}}"), -1);
	{
		static const char *const want[] = {"ipv4|source|10.0.0.1", "ipv6|destination|2001:db8::1",
						   "domain|dns query|www.evil.eu"};
		if (expect("escapes", want, 3))
			return 1;
	}
	CS_TEST_EQ_INT(ev.ts_ms, 1795922060250LL);
	CS_TEST_EQ_INT(decode("{\"http\":{\"hostname\":\"Evil.EU\",\"url\":\"\\/gate.php?id=1\"}}"), -1);
	{
		static const char *const want[] = {"domain|http host|evil.eu", "url|url|http://evil.eu/gate.php?id=1"};
		if (expect("http", want, 2))
			return 1;
	}
	CS_TEST_EQ_INT(decode("{\"url\":{\"full\":\"HTTPS://Login.Example.COM:443/x\"}}"), -1);
	{
		static const char *const want[] = {"url|url|https://login.example.com/x",
						   "domain|url host|login.example.com"};
		if (expect("ecs url", want, 2))
			return 1;
	}
	/* the same value twice in one event is one observable */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"1.2.3.4\",\"dest_ip\":\"1.2.3.4\"}"), -1);
	CS_TEST_EQ_INT(ev.obs_cnt, 1);
	/* rejections, each with its reason */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"1.2.3.4\""), CS_INGEST_REJECT_NOT_JSON);
	CS_TEST_EQ_INT(decode("[1,2]"), CS_INGEST_REJECT_NOT_OBJECT);
	CS_TEST_EQ_INT(decode("\n"), CS_INGEST_REJECT_EMPTY);
	CS_TEST_EQ_INT(decode("{\"a\":1,\"a\":2}"), CS_INGEST_REJECT_NOT_JSON); /* duplicate keys */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"\xff\xfe\"}"), CS_INGEST_REJECT_NOT_JSON); /* bad UTF-8 */
	CS_TEST_EQ_STR(cs_ingest_reject2code(CS_INGEST_REJECT_TOO_LARGE), "too_large");
	/* non-observables are skipped, not errors */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"not-an-ip\",\"dns\":{\"rrname\":\"localhost\"}}"), -1);
	CS_TEST_EQ_INT(ev.obs_cnt, 0);

	if (!shared || !*shared) {
		CS_TEST_SAY("CS_SHARED_DATA not set: real-sample part not run");
		return 0;
	}
	/* Suricata EVE, Elastic's test-eve-small.log: alert with TLS SNI l2.io */
	snprintf(path, sizeof(path), "%s/events/elastic-integrations/packages/suricata/data_stream/eve/_dev/test/pipeline/test-eve-small.log", shared);
	CS_TEST_EQ_INT(read_line(path, 2, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), -1);
	{
		static const char *const want[] = {"ipv4|source|192.168.86.85", "ipv4|destination|192.168.156.70",
						   "domain|tls sni|l2.io"};
		if (expect("eve alert+tls", want, 3))
			return 1;
	}
	CS_TEST_EQ_INT(ev.ts_ms, 1530817640910LL); /* 2018-07-05T15:07:20.910626-0400 */
	/* EVE http: hostname is an IP literal, url a path */
	CS_TEST_EQ_INT(read_line(path, 3, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), -1);
	{
		static const char *const want[] = {"ipv4|source|192.168.86.85", "ipv4|destination|192.168.86.28",
						   "url|url|http://192.168.86.28/dd.xml"};
		/* http.hostname and the URL's host are 192.168.86.28, the dest_ip:
		 * the same value is one observable (its first role) */
		if (expect("eve http", want, 3))
			return 1;
	}
	/* Zeek DNS JSON with flat "id.orig_h" keys and an epoch "ts" */
	snprintf(path, sizeof(path), "%s/events/elastic-integrations/packages/zeek/data_stream/dns/_dev/test/pipeline/test-dns.log", shared);
	CS_TEST_EQ_INT(read_line(path, 1, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), -1);
	{
		static const char *const want[] = {"ipv4|source|192.168.86.167", "ipv4|destination|192.168.86.1",
						   "domain|dns query|dd625ffb4fc54735b281862aa1cd6cd4.us-west1.gcp.cloud.es.io"};
		if (expect("zeek dns", want, 3))
			return 1;
	}
	CS_TEST_EQ_INT(ev.ts_ms, 1547188415857LL);
	/* every line of the Zeus lab capture decodes (6,814 EVE records) */
	{
		FILE *fp;
		long n = 0, obs = 0;
		snprintf(path, sizeof(path), "%s/events/zeus-analysis-suricata/eve.json", shared);
		CS_TEST_ASSERT((fp = fopen(path, "r")), "%s", path);
		while (fgets(line, sizeof(line), fp)) {
			int rc = decode(line);
			CS_TEST_ASSERT(rc == -1, "eve.json line %ld rejected: %s", n + 1,
				       cs_ingest_reject2code((cs_ingest_reject_t)rc));
			n++;
			obs += (long)ev.obs_cnt;
		}
		fclose(fp);
		CS_TEST_EQ_INT(n, 6814);
		CS_TEST_SAY("zeus eve.json: %ld events, %ld observables", n, obs);
		CS_TEST_ASSERT(obs > 2 * 6814 - 10, "too few observables: %ld", obs);
	}
	return 0;
}
