/* 0005-decode: the decoder on escapes, edges, every rejection reason, CEF,
 * envelopes (NDJSON, concatenated objects, zstd, lz4, bombs) and real
 * records from ../shared/data. */
#include <zstd.h>
#include <lz4frame.h>

#include "cs_test.h"
#include "cs_decode.h"

static cs_decode_t *dec;
static cs_decode_event_t ev;

/* Asserts that ev holds exactly the "type|role|value" observables listed. */
static int expect(const char *what, const char *const *want, size_t n) {
	int bad = ev.obs_cnt != n;
	for (size_t i = 0; !bad && i < n; i++) {
		char got[2048];
		snprintf(got, sizeof(got), "%s|%s|%.*s", cs_obs_type2str(ev.obs[i].type), cs_obs_role2str(ev.obs[i].role),
			 (int)ev.obs[i].len, ev.obs[i].value);
		bad = strcmp(got, want[i]) != 0;
	}
	if (bad) {
		fprintf(stderr, "FAIL %s: got %zu observables:\n", what, ev.obs_cnt);
		for (size_t i = 0; i < ev.obs_cnt; i++)
			fprintf(stderr, "   %s|%s|%.*s\n", cs_obs_type2str(ev.obs[i].type), cs_obs_role2str(ev.obs[i].role),
				(int)ev.obs[i].len, ev.obs[i].value);
		fprintf(stderr, " expected %zu:\n", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "   %s\n", want[i]);
	}
	return bad;
}

static int decodef(cs_decode_fmt_t fmt, const char *s) {
	size_t used;
	return cs_decode_one(dec, fmt, s, strlen(s), &used, &ev);
}
static int decode(const char *s) {
	return decodef(CS_DECODE_FMT_AUTO, s);
}

#define EXPECT(what, ...)                                             \
	do {                                                          \
		static const char *const w_[] = {__VA_ARGS__};        \
		if (expect(what, w_, CS_ARRAY_SIZE(w_)))              \
			return 1;                                     \
	} while (0)

typedef struct {
	int n, rejected;
	cs_decode_reject_t last;
	size_t obs;
} count_t;

static int count_cb(void *opaque, const cs_decode_event_t *e, cs_decode_reject_t r) {
	count_t *c = opaque;
	c->n++;
	if (r != CS_DECODE_OK) {
		c->rejected++;
		c->last = r;
	}
	c->obs += e->obs_cnt;
	return 0;
}

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
	static char line[1 << 16], big[1 << 20], path[1024];
	char errstr[256];
	cs_decode_conf_t *conf = cs_decode_conf_new();

	CS_TEST_ASSERT(conf, "conf");
	CS_TEST_EQ_INT(cs_decode_conf_set(conf, "max.depth", "8", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_decode_conf_set(conf, "max.decompressed.bytes", "100000", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_decode_conf_set(conf, "fields.eve", "custom.c2=host/destination,custom.cmd=text/command line",
					  errstr, sizeof(errstr)), 0);
	CS_TEST_ASSERT(cs_decode_conf_set(conf, "max.dept", "8", errstr, sizeof(errstr)), "unknown key accepted");
	CS_TEST_ASSERT(strstr(errstr, "decode.") && strstr(errstr, "max.dept"), "%s", errstr);
	CS_TEST_ASSERT((dec = cs_decode_new(conf, errstr, sizeof(errstr))), "%s", errstr);

	/* escapes: \/ and \u002e decode before normalization; case, trailing dot, mapped IPv6 fold */
	CS_TEST_EQ_INT(decode("{\"timestamp\":\"2026-11-29T03:14:20.250+0000\",\"event_type\":\"dns\",\"src_ip\":\"::ffff:10.0.0.1\","
			      "\"dest_ip\":\"2001:DB8::1\",\"dns\":{\"rrname\":\"WWW.Evil\\u002eEU.\"}}"), CS_DECODE_OK);
	EXPECT("escapes", "ipv4|source|10.0.0.1", "ipv6|destination|2001:db8::1", "domain|dns query|www.evil.eu");
	CS_TEST_EQ_INT(ev.ts_ms, 1795922060250LL);
	CS_TEST_EQ_INT(ev.fmt, CS_DECODE_FMT_EVE);
	/* EVE http: host + path make a URL; the path is free text too; surrogate pair in the UA */
	CS_TEST_EQ_INT(decode("{\"event_type\":\"http\",\"http\":{\"hostname\":\"Evil.EU\",\"url\":\"\\/a\\/..\\/gate.php?id=1\","
			      "\"http_user_agent\":\"Mozilla \\ud83d\\ude00\"}}"), CS_DECODE_OK);
	EXPECT("eve http", "domain|http host|evil.eu", "text|user agent|Mozilla \xf0\x9f\x98\x80",
	       "url|url|http://evil.eu/gate.php?id=1", "text|url path|/a/../gate.php?id=1");
	/* ECS, nested and flattened; hashes; e-mail; metadata */
	CS_TEST_EQ_INT(decode("{\"@timestamp\":\"2026-11-29T03:14:20Z\",\"url\":{\"full\":\"HTTPS://Login.Example.COM:443/x\"},"
			      "\"file.hash.sha256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
			      "\"email\":{\"from\":{\"address\":\"CEO <ceo@Example.com>\"}},\"event\":{\"severity\":7,\"category\":[\"network\"]},"
			      "\"organization\":{\"id\":\"CERT-XX\"}}"), CS_DECODE_OK);
	EXPECT("ecs", "url|url|https://login.example.com/x", "domain|url host|login.example.com",
	       "sha256|file hash|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "email|mail sender|ceo@example.com");
	CS_TEST_EQ_INT(ev.severity, 7);
	CS_TEST_ASSERT(ev.org && ev.org_len == 7 && !memcmp(ev.org, "CERT-XX", 7), "org");
	CS_TEST_ASSERT(ev.category && ev.category_len == 7, "category");
	CS_TEST_EQ_INT(ev.fmt, CS_DECODE_FMT_ECS);
	/* OCSF: epoch milliseconds */
	CS_TEST_EQ_INT(decode("{\"class_uid\":4003,\"time\":1795922060123,\"src_endpoint\":{\"ip\":\"10.1.2.3\"},"
			      "\"query\":{\"hostname\":\"c2.evil.eu\"},\"severity_id\":3}"), CS_DECODE_OK);
	EXPECT("ocsf", "ipv4|source|10.1.2.3", "domain|dns query|c2.evil.eu");
	CS_TEST_EQ_INT(ev.ts_ms, 1795922060123LL);
	CS_TEST_EQ_INT(ev.fmt, CS_DECODE_FMT_OCSF);
	CS_TEST_EQ_INT(ev.severity, 3);
	{
		/* epoch times as Zeek (seconds, fraction) and OCSF (milliseconds) write them, read in
		 * decimal: seconds to the nearest millisecond, half up; exponents through strtod */
		static const struct {
			const char *ts;
			int64_t ms;
		} epochs[] = {
			{"1547188415.857456", 1547188415857LL}, {"1547188415.8575", 1547188415858LL},
			{"1547188415.85749999", 1547188415857LL}, {"1547188415.9996", 1547188416000LL},
			{"1547188415", 1547188415000LL},          {"1795922060123", 1795922060123LL},
			{"1795922060123.9", 1795922060123LL},     {"1.5471884158e9", 1547188415800LL},
			{"0", 0},                                 {"-5", 0},
			{"100000000000", 0},                      {"123456789012345678", 0},
			/* 8 digits and more are read 8 at a time */
			{"12345678.5", 12345678500LL},            {"123456789.0001", 123456789000LL},
			{"99999999999999", 99999999999999LL},     {"100000000000000", 0},
			{"1547188415.00005", 1547188415000LL},    {"1547188415.99950001", 1547188416000LL},
			/* a fraction of fewer than four digits, of four read at once, with an exponent */
			{"1547188415.85", 1547188415850LL},       {"1547188415.8", 1547188415800LL},
			{"1547188415.0005", 1547188415001LL},     {"1547188415.00050", 1547188415001LL},
			{"1547188415.0000001", 1547188415000LL},  {"1547188415.857e0", 1547188415857LL},
			{"1547188415.85e0", 1547188415850LL},
		};
		for (size_t i = 0; i < CS_ARRAY_SIZE(epochs); i++) {
			char js[128];
			snprintf(js, sizeof(js), "{\"ts\":%s,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\"}", epochs[i].ts);
			CS_TEST_EQ_INT(decode(js), CS_DECODE_OK);
			CS_TEST_ASSERT(ev.ts_ms == epochs[i].ms, "ts %s: %lld, expected %lld", epochs[i].ts,
				       (long long)ev.ts_ms, (long long)epochs[i].ms);
		}
	}
	{
		/* CEF rt as epoch milliseconds of 10 to 18 digits (8 read at a time, then the rest from the 8
		 * bytes that end there), against strtoll */
		uint64_t r = 0x2545F4914F6CDD1DULL;
		for (int t = 0; t < 2000; t++) {
			char cline[160], digits[24];
			size_t nd;
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			nd = 10 + (size_t)(r % 9);
			digits[0] = (char)('1' + (r >> 8) % 9);
			for (size_t i = 1; i < nd; i++)
				digits[i] = (char)('0' + (r >> (i * 3 % 60)) % 10);
			digits[nd] = '\0';
			snprintf(cline, sizeof(cline), "CEF:0|V|P|1|2|N|5|src=10.0.0.1 rt=%s msg=x", digits);
			CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_CEF, cline), CS_DECODE_OK);
			CS_TEST_ASSERT(ev.ts_ms == strtoll(digits, NULL, 10), "rt=%s: %lld", digits, (long long)ev.ts_ms);
		}
	}
	/* custom field map entries from configuration */
	CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_EVE, "{\"custom\":{\"c2\":\"X.Evil.EU\",\"cmd\":\"powershell -enc AAA\"}}"), CS_DECODE_OK);
	EXPECT("custom", "domain|destination|x.evil.eu", "text|command line|powershell -enc AAA");
	{
		/* keys the slot hash cannot tell apart (same length, same first 16 bytes): their
		 * node ("coll", and the root, by the flat keys "coll.abcdefghijklmnop1" and
		 * "...2") has no perfect-hash table and searches its kids one by one */
		cs_decode_conf_t *c2 = cs_decode_conf_new();
		cs_decode_t *keep = dec;
		CS_TEST_EQ_INT(cs_decode_conf_set(c2, "fields.eve",
						  "coll.abcdefghijklmnop1=host/destination,"
						  "coll.abcdefghijklmnop2=text/command line",
						  errstr, sizeof(errstr)),
			       0);
		CS_TEST_ASSERT((dec = cs_decode_new(c2, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_EVE, "{\"coll\":{\"abcdefghijklmnop2\":\"cmd /c\","
						      "\"abcdefghijklmnop1\":\"Evil.EU\",\"abcdefghijklmnop3\":\"x.eu\"},"
						      "\"src_ip\":\"1.2.3.4\",\"dest_ip\":\"5.6.7.8\"}"),
			       CS_DECODE_OK);
		EXPECT("keys alike", "text|command line|cmd /c", "domain|destination|evil.eu", "ipv4|source|1.2.3.4",
		       "ipv4|destination|5.6.7.8");
		CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_EVE, "{\"coll.abcdefghijklmnop1\":\"b.example\","
						      "\"coll\":{\"abcdefghijklmnop0\":\"c.example\"}}"),
			       CS_DECODE_OK);
		EXPECT("keys alike, flat", "domain|destination|b.example");
		CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_EVE,
				       "{\"coll\":{\"abcdefghijklmnop1\":\"a.eu\",\"abcdefghijklmnop1\":\"b.eu\"}}"),
			       CS_DECODE_REJECT_DUP_KEY);
		CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_EVE, "{\"src_ip\":\"1.2.3.4\",\"src_ip\":\"1.2.3.4\"}"),
			       CS_DECODE_REJECT_DUP_KEY);
		cs_decode_destroy(dec);
		cs_decode_conf_destroy(c2);
		dec = keep;
	}
	/* an explicit format ignores the others' fields */
	CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_ZEEK, "{\"src_ip\":\"1.2.3.4\",\"id.orig_h\":\"5.6.7.8\"}"), CS_DECODE_OK);
	EXPECT("zeek only", "ipv4|source|5.6.7.8");
	/* the same value twice in one event is one observable */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"1.2.3.4\",\"dest_ip\":\"1.2.3.4\"}"), CS_DECODE_OK);
	CS_TEST_EQ_INT(ev.obs_cnt, 1);
	/* the same URL twice (its host once too), a host that normalization shortens, an IP host */
	CS_TEST_EQ_INT(decodef(CS_DECODE_FMT_ECS, "{\"url\":{\"full\":[\"http://A.Example./x?q=1\",\"http://a.example/x?q=1\","
					       "\"http://10.0.0.1/y\"]},\"source\":{\"domain\":\"a.example\"}}"),
		       CS_DECODE_OK);
	EXPECT("urls", "url|url|http://a.example/x?q=1", "domain|url host|a.example", "url|url|http://10.0.0.1/y",
	       "ipv4|url host|10.0.0.1");
	/* non-observables are skipped, not errors */
	CS_TEST_EQ_INT(decode("{\"src_ip\":\"not-an-ip\",\"dns\":{\"rrname\":\"localhost\"},\"fileinfo\":{\"md5\":\"xyz\"}}"), CS_DECODE_OK);
	CS_TEST_EQ_INT(ev.obs_cnt, 0);

	/* every rejection reason */
	{
		static const struct {
			const char *in;
			cs_decode_reject_t r;
		} rej[] = {
			{"", CS_DECODE_REJECT_EMPTY},
			{"   \n", CS_DECODE_REJECT_EMPTY},
			{"[1,2]", CS_DECODE_REJECT_NOT_EVENT},
			{"hello world", CS_DECODE_REJECT_NOT_EVENT},
			{"{\"src_ip\":\"1.2.3.4\"", CS_DECODE_REJECT_TRUNCATED},
			{"{\"src_ip\":\"1.2.", CS_DECODE_REJECT_TRUNCATED},
			{"{\"a\":tru", CS_DECODE_REJECT_TRUNCATED},
			{"{\"a\" 1}", CS_DECODE_REJECT_SYNTAX},
			{"{\"a\":1,}", CS_DECODE_REJECT_SYNTAX},
			{"{\"a\":[1 2]}", CS_DECODE_REJECT_SYNTAX},
			{"{\"a\":\"x\ty\"}", CS_DECODE_REJECT_SYNTAX}, /* raw control character */
			{"{\"a\":nul}", CS_DECODE_REJECT_SYNTAX},
			{"{\"a\":\"\\x\"}", CS_DECODE_REJECT_BAD_ESCAPE},
			{"{\"a\":\"\\u12G4\"}", CS_DECODE_REJECT_BAD_ESCAPE},
			{"{\"a\":\"\\ud800x\"}", CS_DECODE_REJECT_BAD_ESCAPE}, /* unpaired high surrogate */
			{"{\"a\":\"\\udc00\"}", CS_DECODE_REJECT_BAD_ESCAPE},  /* lone low surrogate */
			{"{\"a\":\"\xff\"}", CS_DECODE_REJECT_BAD_UTF8},
			{"{\"a\":\"\xc0\xaf\"}", CS_DECODE_REJECT_BAD_UTF8},   /* overlong '/' */
			{"{\"a\":\"\xed\xa0\x80\"}", CS_DECODE_REJECT_BAD_UTF8}, /* UTF-8 surrogate */
			{"{\"src_ip\":\"1.2.3.4\",\"src_ip\":\"5.6.7.8\"}", CS_DECODE_REJECT_DUP_KEY},
			{"{\"a\":01}", CS_DECODE_REJECT_SYNTAX},
			{"{\"a\":1.}", CS_DECODE_REJECT_NUMBER},
			{"{\"a\":-}", CS_DECODE_REJECT_NUMBER},
			{"{\"a\":12345678901234567890123456789012345678901234567890123456789012345}", CS_DECODE_REJECT_NUMBER},
			{"{\"a\":[[[[[[[[[[1]]]]]]]]]]}", CS_DECODE_REJECT_DEPTH},
			{"CEF:0|only|three", CS_DECODE_REJECT_BAD_CEF},
			{"CEF:0|V|P|1|2|N|5|src=1.2.3.4 =x", CS_DECODE_REJECT_BAD_CEF},
		};
		for (size_t i = 0; i < CS_ARRAY_SIZE(rej); i++) {
			int r = decode(rej[i].in);
			CS_TEST_ASSERT(r == (int)rej[i].r, "\"%s\": %s, expected %s", rej[i].in,
				       cs_decode_reject2code((cs_decode_reject_t)r), cs_decode_reject2code(rej[i].r));
		}
		/* unmapped duplicates are not an error (only mapped paths are checked) */
		CS_TEST_EQ_INT(decode("{\"x\":1,\"x\":2}"), CS_DECODE_OK);
	}

	/* CEF behind a syslog header, escapes, an '=' inside a URL value */
	CS_TEST_EQ_INT(decode("<134>Nov 29 03:14:20 fw01 CEF:0|Vendor\\|X|FW|1.0|100|Blocked C2|High|src=10.0.0.5 "
			      "dst=203.0.113.9 dhost=C2.Evil.EU request=http://c2.evil.eu/g.php?id\\=7&x=1 "
			      "fileHash=D41D8CD98F00B204E9800998ECF8427E msg=two words here rt=1795922060000"), CS_DECODE_OK);
	EXPECT("cef", "text|rule name|Blocked C2", "ipv4|source|10.0.0.5", "ipv4|destination|203.0.113.9",
	       "domain|destination|c2.evil.eu", "url|url|http://c2.evil.eu/g.php?id=7&x=1",
	       "md5|file hash|d41d8cd98f00b204e9800998ecf8427e");
	CS_TEST_EQ_INT(ev.severity, 8);
	CS_TEST_EQ_INT(ev.ts_ms, 1795922060000LL);
	CS_TEST_EQ_INT(ev.fmt, CS_DECODE_FMT_CEF);
	/* a Name with escapes (unescaped only when it has a backslash); numeric severities */
	CS_TEST_EQ_INT(decode("CEF:0|V|P|1|2|Block\\|ed \\\\ C2|10|src=10.0.0.6"), CS_DECODE_OK);
	EXPECT("cef name", "text|rule name|Block|ed \\ C2", "ipv4|source|10.0.0.6");
	CS_TEST_EQ_INT(ev.severity, 10);
	CS_TEST_EQ_INT(decode("CEF:0|V|P|1|2|Plain name|7|src=10.0.0.7"), CS_DECODE_OK);
	EXPECT("cef plain name", "text|rule name|Plain name", "ipv4|source|10.0.0.7");
	CS_TEST_EQ_INT(ev.severity, 7);
	CS_TEST_EQ_INT(decode("CEF:0|V|P|1|2|N|7x|src=10.0.0.7"), CS_DECODE_OK);
	CS_TEST_EQ_INT(ev.severity, 7);
	CS_TEST_EQ_INT(decode("CEF:0|V|P|1|2|N|x7|src=10.0.0.7"), CS_DECODE_OK);
	CS_TEST_EQ_INT(ev.severity, -1);
	CS_TEST_EQ_INT(decode("CEF:0|V|P|1|2|N|100|src=10.0.0.7"), CS_DECODE_OK);
	CS_TEST_EQ_INT(ev.severity, -1);

	/* envelope: NDJSON with a bad line in the middle, and pretty-printed concatenated objects */
	{
		const char *nd = "{\"src_ip\":\"1.1.1.1\"}\n{\"src_ip\":\"2.2.2.2\"\n{\"src_ip\":\"3.3.3.3\"}\n\n";
		const char *pp = "{\n  \"src_ip\": \"1.1.1.1\",\n  \"dest_ip\": \"9.9.9.9\"\n}\n{\n  \"src_ip\": \"4.4.4.4\"\n}";
		count_t c = {0};
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, NULL, nd, strlen(nd), count_cb, &c), 3);
		CS_TEST_EQ_INT(c.n, 3);
		CS_TEST_EQ_INT(c.rejected, 1);
		CS_TEST_EQ_INT(c.last, CS_DECODE_REJECT_SYNTAX); /* the next line's "{" where "," or "}" must be */
		CS_TEST_EQ_INT(c.obs, 2);
		memset(&c, 0, sizeof(c));
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, NULL, pp, strlen(pp), count_cb, &c), 2);
		CS_TEST_EQ_INT(c.rejected, 0);
		CS_TEST_EQ_INT(c.obs, 3);
	}
	/* compressed payloads, and bombs rejected by the cap */
	{
		static char comp[2 << 20]; /* > LZ4F_compressFrameBound(1 MiB) */
		size_t n = 0, clen;
		count_t c = {0};
		for (int i = 0; i < 100; i++)
			n += (size_t)sprintf(big + n, "{\"src_ip\":\"10.0.%d.%d\"}\n", i / 200, i % 200 + 1);
		clen = ZSTD_compress(comp, sizeof(comp), big, n, 3);
		CS_TEST_ASSERT(!ZSTD_isError(clen), "zstd");
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "zstd", comp, clen, count_cb, &c), 100);
		CS_TEST_EQ_INT(c.rejected, 0);
		CS_TEST_EQ_INT(c.obs, 100);
		memset(&c, 0, sizeof(c));
		clen = LZ4F_compressFrame(comp, sizeof(comp), big, n, NULL);
		CS_TEST_ASSERT(!LZ4F_isError(clen), "lz4");
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "lz4", comp, clen, count_cb, &c), 100);
		CS_TEST_EQ_INT(c.obs, 100);
		/* a 1 MiB bomb of spaces against a 100,000-byte cap: rejected, with and without a declared size */
		memset(big, ' ', sizeof(big));
		clen = ZSTD_compress(comp, sizeof(comp), big, sizeof(big), 3);
		memset(&c, 0, sizeof(c));
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "zstd", comp, clen, count_cb, &c), 1);
		CS_TEST_EQ_INT(c.last, CS_DECODE_REJECT_BOMB);
		{
			LZ4F_preferences_t prefs = {0};
			prefs.frameInfo.contentSize = 0; /* size not declared: caught while decompressing */
			clen = LZ4F_compressFrame(comp, sizeof(comp), big, sizeof(big), &prefs);
		}
		memset(&c, 0, sizeof(c));
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "lz4", comp, clen, count_cb, &c), 1);
		CS_TEST_EQ_INT(c.last, CS_DECODE_REJECT_BOMB);
		memset(&c, 0, sizeof(c));
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "zstd", "not zstd", 8, count_cb, &c), 1);
		CS_TEST_EQ_INT(c.last, CS_DECODE_REJECT_DECOMPRESS);
		memset(&c, 0, sizeof(c));
		CS_TEST_EQ_INT(cs_decode_message(dec, CS_DECODE_FMT_AUTO, "gzip", "x", 1, count_cb, &c), 1);
		CS_TEST_EQ_INT(c.last, CS_DECODE_REJECT_ENCODING);
	}

	if (!shared || !*shared) {
		CS_TEST_SAY("CS_SHARED_DATA not set: real-sample part not run");
		goto done;
	}
	/* Suricata EVE, Elastic's test-eve-small.log: alert with TLS SNI l2.io */
	snprintf(path, sizeof(path), "%s/events/elastic-integrations/packages/suricata/data_stream/eve/_dev/test/pipeline/test-eve-small.log", shared);
	CS_TEST_EQ_INT(read_line(path, 2, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), CS_DECODE_OK);
	EXPECT("eve alert+tls", "ipv4|source|192.168.86.85", "ipv4|destination|192.168.156.70",
	       "text|rule name|ET POLICY Observed IP Lookup Domain (l2 .io in TLS SNI)", "domain|tls sni|l2.io");
	CS_TEST_EQ_INT(ev.ts_ms, 1530817640910LL); /* 2018-07-05T15:07:20.910626-0400 */
	CS_TEST_EQ_INT(ev.severity, 1);
	/* Zeek DNS JSON with flat "id.orig_h" keys, an epoch "ts", answers */
	snprintf(path, sizeof(path), "%s/events/elastic-integrations/packages/zeek/data_stream/dns/_dev/test/pipeline/test-dns.log", shared);
	CS_TEST_EQ_INT(read_line(path, 1, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), CS_DECODE_OK);
	EXPECT("zeek dns", "ipv4|source|192.168.86.167", "ipv4|destination|192.168.86.1",
	       "domain|dns query|dd625ffb4fc54735b281862aa1cd6cd4.us-west1.gcp.cloud.es.io",
	       "domain|dns answer|proxy-production-us-west1.gcp.cloud.es.io",
	       "domain|dns answer|proxy-production-us-west1-v1-009.gcp.cloud.es.io", "ipv4|dns answer|89.160.20.156");
	CS_TEST_EQ_INT(ev.ts_ms, 1547188415857LL);
	CS_TEST_EQ_INT(ev.fmt, CS_DECODE_FMT_ZEEK);
	/* CEF (Elastic test-cef.log line 2): fileHash and oldFileHash */
	snprintf(path, sizeof(path), "%s/events/elastic-integrations/packages/cef/data_stream/log/_dev/test/pipeline/test-cef.log", shared);
	CS_TEST_EQ_INT(read_line(path, 2, line, sizeof(line)), 0);
	CS_TEST_EQ_INT(decode(line), CS_DECODE_OK);
	EXPECT("cef real", "text|rule name|Authentication", "ipv4|source|89.160.20.156",
	       "md5|file hash|bc8bbe52f041fd17318f08a0f73762ce", "md5|file hash|a9796280592f86b74b27e370662d41eb");
	CS_TEST_EQ_INT(ev.severity, 3);
done:
	cs_decode_destroy(dec);
	cs_decode_conf_destroy(conf);
	return 0;
}
