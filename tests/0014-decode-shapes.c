/*
 * 0014-decode-shapes: an event read along a learned shape (decode.shape.nodes)
 * decodes exactly as the full scan decodes it. Two decoders read the same
 * bytes, one learning shapes, one with none: the rejection reason, the bytes
 * consumed and the whole event (format, time, severity, org, category, every
 * observable in order) must be equal for generated events of the four JSON
 * formats, for many mutants of each (bytes replaced, inserted, deleted,
 * truncated: most still valid, many of the same shape), and for chosen edges
 * (escapes, a value of another type, a duplicate key, truncation, bad UTF-8,
 * odd numbers, white space). It also checks that shapes are used (most events
 * walked), that a full trie learns no more and stays right, and that a stream
 * whose shapes never repeat pauses the walking; that unmapped values that
 * stay the same are folded into the segments around them, and events whose
 * values then differ decode the same. CEF lines likewise, with and
 * without learned key sequences: generated lines and mutants, then lines of
 * keys drawn at random (a trie that fills), long keys and '=' in values, and
 * folded values (the same ones, then others, escapes, '=', the last value). And
 * the hosts a decoder keeps once normalized: the same bytes at address and
 * host fields, hosts normalization changes, no hosts, long hosts, IPv6.
 */
#include "cs_test.h"
#include "cs_bench.h"
#include "cs_decode.h"

static cs_decode_conf_t *conf_with, *conf_none;
static cs_decode_t *with, *none;
static long compared, mismatches;

/* One decoded event as text: everything a consumer of the decoder can see. */
static void describe(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len, char *out, size_t size) {
	cs_decode_event_t ev;
	size_t used, o;
	cs_decode_reject_t r = cs_decode_one(dec, fmt, buf, len, &used, &ev);

	o = (size_t)snprintf(out, size, "%s used=%zu off=%zu raw=%ld fmt=%s ts=%lld sev=%d org=%.*s cat=%.*s len=%zu n=%zu",
			     cs_decode_reject2code(r), used, ev.offset, ev.raw ? (long)(ev.raw - buf) : -1L,
			     cs_decode_fmt2str(ev.fmt), (long long)ev.ts_ms,
			     ev.severity, ev.org ? (int)ev.org_len : 0, ev.org ? ev.org : "",
			     ev.category ? (int)ev.category_len : 0, ev.category ? ev.category : "", ev.length, ev.obs_cnt);
	for (size_t i = 0; i < ev.obs_cnt && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, " [%s|%s|%.*s]", cs_obs_type2str(ev.obs[i].type),
				      cs_obs_role2str(ev.obs[i].role), (int)ev.obs[i].len, ev.obs[i].value);
}

/* Decodes buf with both decoders; 1 if the shape decoder walked it. Counts a mismatch. */
static int both(cs_decode_fmt_t fmt, const char *buf, size_t len, const char *what) {
	static char a[16384], b[16384];
	cs_decode_shape_stats_t s0, s1;

	cs_decode_shape_stats(with, &s0);
	describe(with, fmt, buf, len, a, sizeof(a));
	cs_decode_shape_stats(with, &s1);
	describe(none, fmt, buf, len, b, sizeof(b));
	compared++;
	if (strcmp(a, b)) {
		if (mismatches++ < 5)
			CS_TEST_SAY("%s: %.*s\n  shapes:    %s\n  full scan: %s", what, (int)(len < 600 ? len : 600), buf, a, b);
	}
	return s1.walked > s0.walked;
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 11);
}

static const char json_bytes[] = "\"\\:,{}[] 0123456789-+.eEtfnaxZ/u\x80\xc3\xa9\x01\t";
static const char cef_bytes[] = " = \\|\n\rsrcdtA0.9_[]x";

/* A mutant of src (len bytes) into dst, with a byte of bytes; returns its length. */
static size_t mutate(const char *src, size_t len, char *dst, const char *bytes) {
	size_t at = rnd() % len, n = len;
	char c = bytes[rnd() % strlen(bytes)];

	memcpy(dst, src, len);
	switch (rnd() % 5) {
	case 0: /* replace */
	case 1:
		dst[at] = c;
		break;
	case 2: /* insert */
		memmove(dst + at + 1, dst + at, len - at);
		dst[at] = c;
		n++;
		break;
	case 3: /* delete */
		memmove(dst + at, dst + at + 1, len - at - 1);
		n--;
		break;
	default: /* truncate */
		n = at;
		break;
	}
	return n;
}

int cs_test_0014(void) {
	static const cs_bench_fmt_t bf[] = {CS_BENCH_FMT_EVE, CS_BENCH_FMT_ECS, CS_BENCH_FMT_ZEEK, CS_BENCH_FMT_OCSF};
	static const cs_decode_fmt_t df[] = {CS_DECODE_FMT_EVE, CS_DECODE_FMT_ECS, CS_DECODE_FMT_ZEEK, CS_DECODE_FMT_OCSF};
	char errstr[256], buf[8192], mut[8200];
	cs_decode_shape_stats_t st;
	long walked = 0, events = 0, mwalked = 0, mutants = 0;

	CS_TEST_ASSERT((conf_with = cs_decode_conf_new()) && (conf_none = cs_decode_conf_new()), "conf");
	CS_TEST_EQ_INT(cs_decode_conf_set(conf_none, "shape.nodes", "0", errstr, sizeof(errstr)), CS_ERR_OK);
	CS_TEST_ASSERT(cs_decode_conf_set(conf_with, "shape.nodes", "-1", errstr, sizeof(errstr)) != CS_ERR_OK,
		       "a negative shape.nodes is refused");
	CS_TEST_ASSERT((with = cs_decode_new(conf_with, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((none = cs_decode_new(conf_none, errstr, sizeof(errstr))), "%s", errstr);
	cs_decode_shape_stats(none, &st);
	CS_TEST_EQ_INT(st.nodes, 0);

	/* generated events of each JSON format, per format and detected, and mutants of each */
	for (size_t f = 0; f < sizeof(bf) / sizeof(*bf); f++) {
		cs_bench_gen_opts_t o = {7 + f, 0.2, 1795900000, 86400, 2000};
		cs_bench_gen_t *g = cs_bench_gen_new(&o);
		CS_TEST_ASSERT(g, "generator");
		for (int i = 0; i < 2000; i++) {
			size_t len = cs_bench_gen_event_fmt(g, bf[f], buf, sizeof(buf));
			cs_decode_fmt_t fmt = i % 2 ? df[f] : CS_DECODE_FMT_AUTO;
			walked += both(fmt, buf, len, "generated");
			events++;
			for (int m = 0; m < 3; m++) {
				size_t ml = mutate(buf, len, mut, json_bytes);
				mwalked += both(fmt, mut, ml, "mutant");
				mutants++;
				/* the original again, so that the mutants' misses do not pause the walking */
				both(fmt, buf, len, "generated again");
			}
		}
		cs_bench_gen_destroy(g);
	}
	CS_TEST_SAY("generated: %ld events, %ld walked; %ld mutants, %ld walked", events, walked, mutants, mwalked);
	CS_TEST_EQ_INT(mismatches, 0);
	CS_TEST_ASSERT(walked > events * 9 / 10, "shapes used: %ld of %ld events walked", walked, events);
	cs_decode_shape_stats(with, &st);
	CS_TEST_EQ_INT(st.paused, 0);
	/* a byte changed inside a string or a number keeps the shape: many mutants are walked */
	CS_TEST_ASSERT(mwalked > mutants / 5, "%ld of %ld mutants walked", mwalked, mutants);

	/* chosen edges behind a learned shape */
	{
		static const char *learn = "{\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"10.0.0.2\",\"dest_port\":53,"
					   "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}";
		static const struct {
			const char *json;
			int walk; /* 1: must be walked, 0: must not, -1: either */
		} cases[] = {
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":5353,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"B.Example.EU.\",\"id\":-7}}", 1},
			/* escapes in values: \/, \u002e, a surrogate pair, \" */
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10\\u002e0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"d\\\"ns\",\"dns\":{\"rrname\":\"x\\ud83d\\ude00.example.eu\",\"id\":7}}", 1},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\\/b.example.eu\",\"id\":7.5e3}}", 1},
			/* a value of another type where the shape has a number or a string */
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":\"53\","
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":10,\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":null,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":{\"a\":1},"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			/* a duplicate mapped key, a key renamed, a key added */
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"rrname\":\"b.example.eu\"}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrnamf\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7},\"x\":1}", 0},
			/* rejections: bad UTF-8, a control byte, a bad escape, numbers */
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\xc3(.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\x01.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a\\x.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":053,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53.,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":-,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":1"
			 "11111111111111111111111111111111111111111111111111111111111111111,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			/* truncated in a segment, in a string, in a number, before the last brace */
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_po", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.exam", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}", 0},
			/* white space where the shape has none; trailing white space and another event */
			{"{\"src_ip\": \"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}", 0},
			{"{\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"10.0.0.8\",\"dest_port\":53,"
			 "\"event_type\":\"dns\",\"dns\":{\"rrname\":\"a.example.eu\",\"id\":7}}  \n{\"a\":1}", 1},
		};
		/* a shape is learned when it is seen the second time */
		CS_TEST_EQ_INT(both(CS_DECODE_FMT_EVE, learn, strlen(learn), "learn"), 0);
		CS_TEST_EQ_INT(both(CS_DECODE_FMT_EVE, learn, strlen(learn), "learn"), 0);
		CS_TEST_EQ_INT(both(CS_DECODE_FMT_EVE, learn, strlen(learn), "learn"), 1);
		for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
			int w = both(CS_DECODE_FMT_EVE, cases[i].json, strlen(cases[i].json), "edge");
			if (cases[i].walk >= 0)
				CS_TEST_ASSERT(w == cases[i].walk, "edge case %zu: walked %d, expected %d", i, w, cases[i].walk);
			/* the same bytes twice more: walked the second time if accepted (the edge's shape then learned) */
			both(CS_DECODE_FMT_EVE, cases[i].json, strlen(cases[i].json), "edge again");
			both(CS_DECODE_FMT_EVE, cases[i].json, strlen(cases[i].json), "edge again");
		}
		CS_TEST_EQ_INT(mismatches, 0);
	}

	/* hosts kept once normalized (the same decoders: with them, without): the same bytes at an address and
	 * at a host field, hosts that normalization changes, no hosts, 8 to 48 bytes and beyond, hosts that
	 * differ only in their last bytes or length, IPv6 */
	{
		static const char *hosts[] = {
			"example.com", "EXAMPLE.com", "example.com.", "localhost", "a.b", "abcdefgh.eu",
			"0123456789abcdef0123456789abcdef0123456789ab.eu", "0123456789abcdef0123456789abcdef0123456789ab.eV",
			"0123456789abcdef0123456789abcdef0123456789abc.eu", "0123456789abcdef0123456789abcdef0123456789a.eu",
			"2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:10.0.0.1", "10.0.0.1.example", "bücher.example",
			"exa mple.com", "-bad.example", "x.example.com", "x.example.co", "y.example.com",
			/* the same length, first and last 8 bytes (one slot): a host, no host (an empty label at byte 36) */
			"abcdefgh.0123456789012345678901234567.ijklmnop", "abcdefgh.012345678901234567890123456..ijklmnop",
			"abcdefgh.0123456789012345678901234567.ijklmnop", "abcdefgh.01234567890.2345678901234567.ijklmnop"};
		long before = compared;
		for (int round = 0; round < 3; round++)
			for (size_t i = 0; i < CS_ARRAY_SIZE(hosts); i++)
				for (size_t j = 0; j < CS_ARRAY_SIZE(hosts); j += 7) {
					int n = snprintf(buf, sizeof(buf),
							 "{\"src_ip\":\"%s\",\"event_type\":\"dns\",\"dns\":{\"rrname\":\"%s\"},"
							 "\"tls\":{\"sni\":\"%s\"}}",
							 hosts[i], hosts[i], hosts[(i + j) % CS_ARRAY_SIZE(hosts)]);
					both(CS_DECODE_FMT_EVE, buf, (size_t)n, "hosts");
				}
		CS_TEST_SAY("hosts: %ld events compared", compared - before);
		CS_TEST_EQ_INT(mismatches, 0);
	}

	/* CEF: the learned key sequences against the backtrack alone, line by line */
	{
		static const char *keys[] = {"src", "dst", "dhost", "shost", "request", "rt", "cat", "fileHash", "spt",
					     "act", "msg", "cs1Label", "cs1", "deviceCustomFloatingPoint1Label",
					     "deviceCustomFloatingPoint1Labels", "x234567890123456789012345678901234567890",
					     "sourceAddress", "destinationHostName", "k[1]", "a.b", "K_1"};
		static const char *vals[] = {"10.0.0.7", "a b c", "Evil.Example.COM.", "http://x.example/a?b=c d=e",
					     "1795950389722", "\\=x", "q\\\\", "", " ", "d41d8cd98f00b204e9800998ecf8427e",
					     "=x", "a =b", "010.1.1.1", "x=y z"};
		cs_bench_gen_opts_t o = {13, 0.2, 1795900000, 86400, 2000};
		cs_bench_gen_t *g = cs_bench_gen_new(&o);
		cs_decode_shape_stats_t c0, c1, c2;
		long lines = 0;

		CS_TEST_ASSERT(g, "generator");
		cs_decode_shape_stats(with, &c0);
		for (int i = 0; i < 3000; i++) {
			size_t len = cs_bench_gen_event_fmt(g, CS_BENCH_FMT_CEF, buf, sizeof(buf));
			while (len && buf[len - 1] == '\n')
				len--;
			both(i % 2 ? CS_DECODE_FMT_CEF : CS_DECODE_FMT_AUTO, buf, len, "cef");
			for (int m = 0; m < 3; m++) {
				size_t ml = mutate(buf, len, mut, cef_bytes);
				both(CS_DECODE_FMT_CEF, mut, ml, "cef mutant");
			}
			lines += 4;
		}
		cs_bench_gen_destroy(g);
		cs_decode_shape_stats(with, &c1);
		CS_TEST_SAY("cef: %ld lines, keys predicted %llu, found by the backtrack %llu", lines,
			    (unsigned long long)(c1.cef_predicted - c0.cef_predicted),
			    (unsigned long long)(c1.cef_found - c0.cef_found));
		/* 13 to 15 keys a line, three orders of them: most predicted (the mutants break some) */
		CS_TEST_ASSERT(c1.cef_predicted - c0.cef_predicted > 5 * (c1.cef_found - c0.cef_found),
			       "keys predicted %llu, found %llu", (unsigned long long)(c1.cef_predicted - c0.cef_predicted),
			       (unsigned long long)(c1.cef_found - c0.cef_found));
		/* keys drawn at random (the trie fills and is emptied), long keys, '=' in values, a syslog header */
		for (int i = 0; i < 4000; i++) {
			int n = snprintf(buf, sizeof(buf), "%sCEF:0|V|P|1|2|Na\\|me|5|", i % 3 ? "" : "<134>Nov 29 11:06:29 fw ");
			int nk = 1 + (int)(rnd() % 24);
			for (int k = 0; k < nk && n < 4000; k++) {
				uint32_t r = rnd();
				const char *key = r % 4 ? keys[r / 4 % CS_ARRAY_SIZE(keys)] : NULL;
				if (key)
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%s=%s", k ? " " : "", key,
						      vals[r / 128 % CS_ARRAY_SIZE(vals)]);
				else
					n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%sk%u=%s", k ? " " : "", r / 4 % 400,
						      vals[r / 128 % CS_ARRAY_SIZE(vals)]);
			}
			both(i % 2 ? CS_DECODE_FMT_CEF : CS_DECODE_FMT_AUTO, buf, (size_t)n, "cef keys");
			both(CS_DECODE_FMT_CEF, buf, (size_t)n, "cef keys again");
		}
		cs_decode_shape_stats(with, &c2);
		CS_TEST_SAY("cef random keys: predicted %llu, found %llu", (unsigned long long)(c2.cef_predicted - c1.cef_predicted),
			    (unsigned long long)(c2.cef_found - c1.cef_found));
		CS_TEST_ASSERT(c2.cef_predicted - c1.cef_predicted > 20000, "predicted %llu",
			       (unsigned long long)(c2.cef_predicted - c1.cef_predicted));
		CS_TEST_EQ_INT(mismatches, 0);
		cs_decode_shape_stats(none, &c2);
		CS_TEST_EQ_INT(c2.cef_predicted + c2.cef_found + c2.cef_folded, 0);

		/* folded CEF values: unmapped values that stay the same (the last one too), then change for good,
		 * alternate, take an '=' or an escape, come with trailing spaces, empty, too long to fold, with a
		 * key after the last value; mapped values right after folded ones; mutants */
		{
			static const char *msgs[] = {"allowed by policy", "allowed by rule 7", "allowed by policy  ",
						     "", "a message far too long to be folded as one", "x=y", "a\\=b"};
			long flines = 0;
			cs_decode_shape_stats(with, &c1);
			for (int i = 0; i < 3000; i++) {
				int phase = i / 500, n;
				const char *dev = phase < 2 ? "FW node 1" : phase == 2 ? "FW node 2"
						: phase == 3 ? (i % 2 ? "FW node 1" : "FW node 2")
						: phase == 4 ? "FW=node" : i % 3 ? "FW node 1" : "FW\\=node";
				/* a folded last value's bytes at the end of a longer one, a mapped key (cat) before them */
				const char *msg = phase < 2 ? msgs[0]
						: phase == 2 ? (i % 50 == 25 ? "x cat=evil allowed by rule 7" : msgs[1])
						: msgs[rnd() % CS_ARRAY_SIZE(msgs)];
				n = snprintf(buf, sizeof(buf),
					     "<134>Nov 29 11:06:%02d fw-01 CEF:0|Forcepoint|NGFW|6.10.1|70018|Connection_Allowed|0|"
					     "deviceExternalId=%s dvc=10.1.1.40 dvchost=fw-01 src=10.0.%d.%d spt=%d dst=10.9.%d.%d "
					     "dpt=53 proto=17 act=%s dhost=h%d.example.eu rt=%lld cs1Label=RuleID msg=%s%s",
					     i % 60, dev, i / 256 % 256, i % 256, 1024 + i % 5000, i % 7, i % 250,
					     i % 10 ? "Allow" : "Discard", i % 40, 1795950389722LL + i, msg,
					     i % 13 == 0 ? " dhost=tail.example.eu" : "");
				both(i % 2 ? CS_DECODE_FMT_CEF : CS_DECODE_FMT_AUTO, buf, (size_t)n, "cef fold");
				flines++;
				if (i % 4 == 0) {
					size_t ml = mutate(buf, (size_t)n, mut, cef_bytes);
					both(CS_DECODE_FMT_CEF, mut, ml, "cef fold mutant");
					flines++;
				}
			}
			cs_decode_shape_stats(with, &c2);
			/* the header's first four fields kept from the last line: other vendors in turn, an escaped '|'
			 * or '\' in them, more than 32 bytes of them, a short line, the same bytes with another field
			 * count */
			{
				static const char *hdrs[] = {
					"CEF:0|Forcepoint|NGFW|6.10.1|", "CEF:0|Fortinet|FortiGate|7.2|",
					"CEF:0|Vendor\\|X|FW|1.0|", "CEF:0|Vendor\\\\|FW|1.0|",
					"CEF:0|A very long vendor name here|Product|12.3.4|", "CEF:1|Forcepoint|NGFW|6.10.1|",
					"CEF:0|Forcepoint|NGFW||", "CEF:0|Forcepoint|NGFW|6.10.1\\|"};
				for (int i = 0; i < 1200; i++) {
					const char *h = hdrs[i < 400 ? (size_t)(i / 100 % 2) : rnd() % CS_ARRAY_SIZE(hdrs)];
					int n = i % 17 == 0 ? snprintf(buf, sizeof(buf), "%s1|N|5|x=1", h)
							    : snprintf(buf, sizeof(buf), "%s%d|Name %d|%d|src=10.0.0.%d dst=10.1.0.%d "
								       "cat=c%d msg=allowed", h, 100 + i % 3, i % 3, i % 11, i % 250,
								       i % 7, i % 5);
					both(i % 2 ? CS_DECODE_FMT_CEF : CS_DECODE_FMT_AUTO, buf, (size_t)n, "cef header");
					flines++;
				}
			}
			CS_TEST_SAY("cef folding: %ld lines, values folded %llu", flines,
				    (unsigned long long)(c2.cef_folded - c1.cef_folded));
			CS_TEST_ASSERT(c2.cef_folded - c1.cef_folded >= 5, "folded %llu",
				       (unsigned long long)(c2.cef_folded - c1.cef_folded));
			CS_TEST_EQ_INT(mismatches, 0);
		}
	}
	cs_decode_destroy(with);
	cs_decode_conf_destroy(conf_with);

	/* a trie too small for any shape: nothing learned, nothing walked, the same results */
	CS_TEST_ASSERT((conf_with = cs_decode_conf_new()), "conf");
	CS_TEST_EQ_INT(cs_decode_conf_set(conf_with, "shape.nodes", "8", errstr, sizeof(errstr)), CS_ERR_OK);
	CS_TEST_ASSERT((with = cs_decode_new(conf_with, errstr, sizeof(errstr))), "%s", errstr);
	{
		cs_bench_gen_opts_t o = {11, 0.2, 1795900000, 86400, 2000};
		cs_bench_gen_t *g = cs_bench_gen_new(&o);
		for (int i = 0; g && i < 500; i++) {
			size_t len = cs_bench_gen_event_fmt(g, CS_BENCH_FMT_EVE, buf, sizeof(buf));
			both(CS_DECODE_FMT_EVE, buf, len, "small trie");
		}
		cs_bench_gen_destroy(g);
	}
	cs_decode_shape_stats(with, &st);
	CS_TEST_EQ_INT(st.walked, 0);
	CS_TEST_EQ_INT(st.nodes, 0);
	CS_TEST_EQ_INT(mismatches, 0);
	cs_decode_destroy(with);
	cs_decode_conf_destroy(conf_with);

	/* folding: unmapped values that stay the same (strings, numbers, the last one before the end) are
	 * folded into the segments around them; then they change for good, alternate, change type, come
	 * escaped (the same string, other bytes) or badly escaped, and mutants hit the folded bytes */
	CS_TEST_ASSERT((conf_with = cs_decode_conf_new()), "conf");
	CS_TEST_ASSERT((with = cs_decode_new(conf_with, errstr, sizeof(errstr))), "%s", errstr);
	{
		long fwalked = 0, fevents = 0;
		uint64_t folded0 = 0, folded2 = 0;
		for (int i = 0; i < 3000; i++) {
			int phase = i / 500, n;
			const char *iface = phase < 2 ? "eth0" : phase == 2 ? "eth1" : phase == 3 ? (i % 10 ? "eth0" : "eth1")
					  : phase == 4 ? (i % 2 ? "eth0" : "eth1")
					  : i % 11 == 0 ? "eth\\q" : i % 3 == 0 ? "eth\\u0030" : "eth0";
			char flow[16], proto[16];
			snprintf(flow, sizeof(flow), "%d", phase < 3 ? 7 : i % 3);
			snprintf(proto, sizeof(proto), "%s", phase == 4 && i % 7 == 0 ? "17" : "\"UDP\"");
			n = snprintf(buf, sizeof(buf),
				     "{\"timestamp\":\"2026-11-29T11:%02d:%02d.000000+0000\",\"flow_id\":%s,\"in_iface\":\"%s\","
				     "\"event_type\":\"dns\",\"src_ip\":\"10.0.%d.%d\",\"src_port\":%d,\"dest_ip\":\"10.1.%d.%d\","
				     "\"dest_port\":53,\"proto\":%s,\"dns\":{\"rrname\":\"h%d.example.eu\",\"type\":\"query\"},"
				     "\"app_proto\":\"%s\"}",
				     i / 60 % 60, i % 60, flow, iface, i / 256 % 256, i % 256, 1024 + i * 7 % 60000, i % 7,
				     i % 250, proto, i % 40, phase == 2 ? "dns2" : "dns");
			fwalked += both(i % 2 ? CS_DECODE_FMT_EVE : CS_DECODE_FMT_AUTO, buf, (size_t)n, "fold");
			fevents++;
			if (i % 5 == 0) {
				size_t ml = mutate(buf, (size_t)n, mut, json_bytes);
				both(CS_DECODE_FMT_EVE, mut, ml, "fold mutant");
			}
			if (i == 499 || i == 1499) {
				cs_decode_shape_stats(with, &st);
				if (i == 499)
					folded0 = st.folded;
				else
					folded2 = st.folded;
			}
		}
		cs_decode_shape_stats(with, &st);
		CS_TEST_SAY("folding: %ld events, %ld walked; nodes folded: %llu after the constant phase, %llu after "
			    "the second, %llu in all; %u nodes",
			    fevents, fwalked, (unsigned long long)folded0, (unsigned long long)folded2,
			    (unsigned long long)st.folded, st.nodes);
		CS_TEST_EQ_INT(mismatches, 0);
		/* flow_id, in_iface, event_type, src_port's neighbours, proto, type, app_proto: several folds */
		CS_TEST_ASSERT(folded0 >= 3, "folded %llu", (unsigned long long)folded0);
		CS_TEST_ASSERT(folded2 > folded0, "new constants folded again: %llu, %llu", (unsigned long long)folded2,
			       (unsigned long long)folded0);
		CS_TEST_ASSERT(fwalked > fevents * 8 / 10, "walked %ld of %ld", fwalked, fevents);
		/* a value that stays long enough to be folded, then takes one of 8 values at random: its fold
		 * misses far more often than not and is unlinked; results stay equal */
		{
			uint64_t unfolded0 = st.unfolded;
			for (int i = 0; i < 2000; i++) {
				int n = snprintf(buf, sizeof(buf),
						 "{\"timestamp\":\"2026-11-29T12:00:%02d.000000+0000\",\"in_iface\":\"eth%u\","
						 "\"event_type\":\"dns\",\"src_ip\":\"10.2.%d.%d\",\"dns\":{\"rrname\":\"h%d.example.eu\"}}",
						 i % 60, i < 100 ? 0 : rnd() % 8, i / 256 % 256, i % 256, i % 40);
				fwalked += both(CS_DECODE_FMT_EVE, buf, (size_t)n, "unfold");
				fevents++;
			}
			cs_decode_shape_stats(with, &st);
			CS_TEST_SAY("a folded value that then varies: %llu folded nodes unlinked",
				    (unsigned long long)(st.unfolded - unfolded0));
			CS_TEST_ASSERT(st.unfolded > unfolded0, "unfolded %llu", (unsigned long long)st.unfolded);
			CS_TEST_EQ_INT(mismatches, 0);
		}
		cs_decode_shape_stats(none, &st);
		CS_TEST_EQ_INT(st.folded + st.unfolded, 0);
	}
	cs_decode_destroy(with);
	cs_decode_conf_destroy(conf_with);

	/* shapes that never repeat (a new key in every event): walking pauses, results stay equal */
	CS_TEST_ASSERT((conf_with = cs_decode_conf_new()), "conf");
	CS_TEST_ASSERT((with = cs_decode_new(conf_with, errstr, sizeof(errstr))), "%s", errstr);
	for (int i = 0; i < 1500; i++) {
		int len = snprintf(buf, sizeof(buf), "{\"src_ip\":\"10.0.%d.%d\",\"k%d\":%d}", i / 256, i % 256, i, i);
		both(CS_DECODE_FMT_EVE, buf, (size_t)len, "unique shapes");
	}
	cs_decode_shape_stats(with, &st);
	CS_TEST_SAY("unique shapes: walked %llu, missed %llu, nodes %u, paused %d", (unsigned long long)st.walked,
		    (unsigned long long)st.missed, st.nodes, st.paused);
	CS_TEST_EQ_INT(st.walked, 0);
	CS_TEST_EQ_INT(st.paused, 1);
	CS_TEST_ASSERT(st.missed >= 1024 && st.missed < 1500, "missed %llu", (unsigned long long)st.missed);
	CS_TEST_EQ_INT(mismatches, 0);
	CS_TEST_SAY("%ld events compared", compared);

	cs_decode_destroy(with);
	cs_decode_destroy(none);
	cs_decode_conf_destroy(conf_with);
	cs_decode_conf_destroy(conf_none);
	return 0;
}
