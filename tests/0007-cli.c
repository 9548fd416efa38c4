/* 0007-cli: the programs answer --help and --version, and configuration
 * errors name the key and the line, with exit code 2. */
#include <sys/wait.h>
#include "cs_test.h"

int cs_test_0007(void) {
	static const char *progs[] = {"ingest/cshield-ingest", "report/cshield-report", "bench/cshield-bench",
				      "decode/cshield-decode", "correlate/cshield-ioc", "alerts/cshield-alerts",
				      "taxii/cshield-taxii"};
	char cmd[2048], out[8192], path[512];

	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s --help 2>&1", cs_test_bindir(), progs[i]);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "Usage:"), "%s --help: %s", progs[i], out);
		snprintf(cmd, sizeof(cmd), "%s/%s --version 2>&1", cs_test_bindir(), progs[i]);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "cshield-") && strstr(out, "0."), "%s --version: %s", progs[i], out);
	}
	snprintf(path, sizeof(path), "%s/typo.conf", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=t\nindicators.file=/dev/null\nkafka.bootstrap.servers=127.0.0.1:1\n"
						"redis.prot=6379\n"), 0);
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s 2>&1", cs_test_bindir(), path);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
	CS_TEST_ASSERT(strstr(out, "typo.conf:4:") && strstr(out, "prot"), "%s", out);

	/* a missing required property, a bad value only the whole can judge: configuration errors, 2 */
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=t\n"), 0);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
	CS_TEST_ASSERT(strstr(out, "\"indicators.file\""), "%s", out);
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=t\nindicators.file=/dev/null\naggregate.key.prefix=\n"), 0);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
	CS_TEST_ASSERT(strstr(out, "aggregate.key.prefix"), "%s", out);
	/* the command line wins over the file, whatever the order: -X before -c */
	CS_TEST_EQ_INT(cs_test_write_file(path, "topics=t\nindicators.file=/dev/null\nlog.level=loud\n"), 0);
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -X log.level=warn -c %s 2>&1", cs_test_bindir(), path);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 1); /* past the configuration: no indicator in /dev/null */
	CS_TEST_ASSERT(!strstr(out, "log.level") && strstr(out, "indicator"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s --set log.level=louder 2>&1", cs_test_bindir(), path);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
	CS_TEST_ASSERT(strstr(out, "\"louder\""), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s extra 2>&1", cs_test_bindir(), path);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s 2>&1", cs_test_bindir(), path);

	/* docs/CONFIGURATION.md carries the tables as the code generates them */
	if (getenv("CS_SOURCE_DIR")) {
		static char gen[65536], doc[262144];
		FILE *fp;
		size_t n;
		snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest --dump-config-md", cs_test_bindir());
		CS_TEST_EQ_INT(cs_test_run(cmd, gen, sizeof(gen)), 0);
		snprintf(path, sizeof(path), "%s/docs/CONFIGURATION.md", getenv("CS_SOURCE_DIR"));
		CS_TEST_ASSERT((fp = fopen(path, "r")), "%s", path);
		n = fread(doc, 1, sizeof(doc) - 1, fp);
		doc[n] = '\0';
		fclose(fp);
		CS_TEST_ASSERT(strstr(doc, gen), "docs/CONFIGURATION.md is out of date: run deploy/gen-docs.sh");
		snprintf(cmd, sizeof(cmd), "%s/decode/cshield-decode --fields-md", cs_test_bindir());
		CS_TEST_EQ_INT(cs_test_run(cmd, gen, sizeof(gen)), 0);
		snprintf(path, sizeof(path), "%s/docs/FORMATS.md", getenv("CS_SOURCE_DIR"));
		CS_TEST_ASSERT((fp = fopen(path, "r")), "%s", path);
		n = fread(doc, 1, sizeof(doc) - 1, fp);
		doc[n] = '\0';
		fclose(fp);
		CS_TEST_ASSERT(strstr(doc, gen), "docs/FORMATS.md is out of date: run deploy/gen-docs.sh");
	}

	/* cshield-decode prints one JSON object per event, rejected ones with their reason */
	snprintf(path, sizeof(path), "%s/events.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "{\"event_type\":\"tls\",\"src_ip\":\"10.0.0.1\",\"tls\":{\"sni\":\"L2.IO.\"}}\n"
						"{\"src_ip\":\"10.0.0.1\"\n"
						"CEF:0|V|P|1|2|Port scan|5|src=10.0.0.9 dhost=evil.eu\n"), 0);
	snprintf(cmd, sizeof(cmd), "%s/decode/cshield-decode %s 2>&1", cs_test_bindir(), path);
	CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
	CS_TEST_ASSERT(strstr(out, "{\"event\":0,\"offset\":0,\"format\":\"eve\",\"observables\":["
				   "{\"type\":\"ipv4\",\"value\":\"10.0.0.1\",\"role\":\"source\"},"
				   "{\"type\":\"domain\",\"value\":\"l2.io\",\"role\":\"tls sni\"}]}"), "%s", out);
	CS_TEST_ASSERT(strstr(out, "\"event\":1,") && strstr(out, "\"rejected\":\"syntax\""), "%s", out);
	CS_TEST_ASSERT(strstr(out, "\"event\":2,") && strstr(out, "\"format\":\"cef\"") &&
			       strstr(out, "\"value\":\"evil.eu\",\"role\":\"destination\""), "%s", out);
	CS_TEST_ASSERT(strstr(out, "3 events, 1 rejected"), "%s", out);

	/* cshield-ioc match: one JSON object per hit, event = 0-based line */
	{
		char ipath[512], epath[512];
		snprintf(ipath, sizeof(ipath), "%s/ioc.txt", cs_test_tmpdir());
		snprintf(epath, sizeof(epath), "%s/ioc-events.json", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(ipath, "l2.io\nre:powershell\\s+-enc\ncom\n"), 0);
		CS_TEST_EQ_INT(cs_test_write_file(epath, "{\"src_ip\":\"10.0.0.1\"}\n"
							 "{\"tls\":{\"sni\":\"api.L2.io\"}}\n"
							 "not json\n"
							 "{\"process\":{\"command_line\":\"powershell  -enc AAA\"}}\n"), 0);
		snprintf(cmd, sizeof(cmd), "%s/correlate/cshield-ioc match --indicators %s --events %s 2>&1",
			 cs_test_bindir(), ipath, epath);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "{\"event\":1,\"indicator\":\"") && strstr(out, "ioc.txt:1\",\"type\":\"domain\","
			       "\"value\":\"l2.io\",\"observable\":\"api.l2.io\",\"observable_type\":\"domain\",\"role\":\"tls sni\","
			       "\"tlp\":\"amber\",\"source\":\"ioc.txt\",\"set_version\":1}"),
			       "%s", out);
		CS_TEST_ASSERT(strstr(out, "{\"event\":3,") && strstr(out, "ioc.txt:2\",\"type\":\"pattern\"") &&
				       strstr(out, "\"role\":\"command line\""),
			       "%s", out);
		CS_TEST_ASSERT(strstr(out, "4 lines, 1 rejected"), "%s", out);
		snprintf(cmd, sizeof(cmd), "%s/correlate/cshield-ioc validate %s 2>&1", cs_test_bindir(), ipath);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		CS_TEST_ASSERT(strstr(out, "ioc.txt:3: a bare name or top-level domain is too broad") &&
				       strstr(out, "2 indicators loaded, 1 rejected"),
			       "%s", out);
	}

	/* the generator is deterministic for a seed */
	{
		char a[8192];
		snprintf(cmd, sizeof(cmd), "%s/bench/cshield-bench gen-events --events 20 --seed 42 --start 1795922040 --hit-rate 0.5 --indicators 10 | md5sum",
			 cs_test_bindir());
		CS_TEST_EQ_INT(cs_test_run(cmd, a, sizeof(a)), 0);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 0);
		CS_TEST_EQ_STR(a, out);
	}
	return 0;
}
