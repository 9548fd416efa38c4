/* 0003-norm: hosts, URLs, hashes and e-mail normalized so that equal things
 * compare equal (common/cs_norm.c), adversarial cases included. */
#include "cs_test.h"
#include "cs_common.h"
#include "cs_norm.h"
#include "cs_obs.h"

int cs_test_0003(void) {
	static const struct {
		const char *in, *out;
		int type;
	} hosts[] = {
		{"Evil.EU", "evil.eu", CS_OBS_DOMAIN},
		{"www.evil.eu.", "www.evil.eu", CS_OBS_DOMAIN},
		{"1.2.3.4", "1.2.3.4", CS_OBS_IPV4},
		{"::ffff:1.2.3.4", "1.2.3.4", CS_OBS_IPV4}, /* IPv4-mapped IPv6 is the IPv4 */
		{"::FFFF:0102:0304", "1.2.3.4", CS_OBS_IPV4},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1", CS_OBS_IPV6},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", CS_OBS_IPV6}, /* RFC 5952: first longest run */
		{"[2001:db8::1]", "2001:db8::1", CS_OBS_IPV6},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", CS_OBS_DOMAIN},
		{"B\xc3\xbc" "cher.example", "xn--bcher-kva.example", CS_OBS_DOMAIN}, /* IDN -> punycode */
		{"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de", CS_OBS_DOMAIN},
		{"\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95", "xn--fsqu00a.xn--0zwm56d", CS_OBS_DOMAIN},
		{"bad_domain_ok.example", "bad_domain_ok.example", CS_OBS_DOMAIN}, /* '_' is seen in DNS */
		{"localhost", NULL, -1}, /* a bare name is no domain */
		{"a..b", NULL, -1},
		{"-a.example", NULL, -1},
		{"a-.example", NULL, -1},
		{"evil.eu/x", NULL, -1},
		{"1.2.3.4:80", NULL, -1},
		{"", NULL, -1},
		{"bad\xff.example", NULL, -1}, /* not UTF-8 */
		{"1.2.3.256", NULL, -1},
		{"255.255.255.255", "255.255.255.255", CS_OBS_IPV4},
		{"0.0.0.0", "0.0.0.0", CS_OBS_IPV4},
		{"10.0.255.100", "10.0.255.100", CS_OBS_IPV4},
		{"01.2.3.4", NULL, -1}, /* a leading zero: octal to some, decimal to others */
		{"1.2.3", NULL, -1},
		{"1.2.3.4.5", NULL, -1},
		{"256.1.1.1", NULL, -1},
		{"1.2.3.4x", "1.2.3.4x", CS_OBS_DOMAIN}, /* no address: a name, its last label not all digits */
		{"1..2.3", NULL, -1},
		{"1.2.3.4.", "1.2.3.4", CS_OBS_IPV4}, /* the trailing dot of a name */
	};
	static const struct {
		const char *in, *out;
	} urls[] = {
		{"HTTP://Evil.EU/Path?q=A", "http://evil.eu/Path?q=A"},
		{"http://evil.eu:80/x", "http://evil.eu/x"},
		{"https://evil.eu:443", "https://evil.eu/"},
		{"https://evil.eu:8443/a", "https://evil.eu:8443/a"},
		{"http://evil.eu:/a", "http://evil.eu/a"},
		{"http://user@EVIL.eu/", "http://user@evil.eu/"},
		{"http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"},
		{"http://evil.eu?x=1", "http://evil.eu/?x=1"},
		{"http://evil.eu/a/./b/../c", "http://evil.eu/a/c"},
		{"http://evil.eu/a/b/..", "http://evil.eu/a/"},
		{"http://evil.eu/../../x", "http://evil.eu/x"},
		{"http://evil.eu/%7Euser/%61%62", "http://evil.eu/~user/ab"}, /* unreserved decoded */
		{"http://evil.eu/a%2fb%3f", "http://evil.eu/a%2Fb%3F"},        /* reserved kept, upper-cased */
		{"http://evil.eu/%%33x%", "http://evil.eu/%253x%25"}, /* a stray '%' as %25: normalizing twice changes nothing */
		{"http://evil.eu/100%", "http://evil.eu/100%25"},
		{"http://evil.eu/p#frag", "http://evil.eu/p"},
		{"http://evil%2Eeu/", "http://evil.eu/"},
		{"http://B\xc3\xbc" "cher.example/x", "http://xn--bcher-kva.example/x"},
		{"http://evil.eu/q?a=/./", "http://evil.eu/q?a=/./"}, /* dot segments only in the path */
		{"http://evil.eu/a b?q=\x01\xc3\xa9", "http://evil.eu/a%20b?q=%01%C3%A9"}, /* raw bytes encoded */
		{"evil.eu/path", NULL},
		{"http:///nohost", NULL},
		{"http://evil.eu:8x/", NULL},
		{"http://evil.eu:99999/", NULL},
		{"://evil.eu/", NULL},
	};
	static const struct {
		const char *in, *out;
		int type;
	} hashes[] = {
		{"D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", CS_OBS_MD5},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", CS_OBS_SHA1},
		{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
		 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", CS_OBS_SHA256},
		{"d41d8cd98f00b204e9800998ecf8427", NULL, -1},
		{"g41d8cd98f00b204e9800998ecf8427e", NULL, -1},
	};
	static const struct {
		const char *in, *out;
	} emails[] = {
		{"Alice <Alice@Example.COM>", "alice@example.com"},
		{" bob@evil.eu. ", "bob@evil.eu"},
		{"x@m\xc3\xbcnchen.de", "x@xn--mnchen-3ya.de"},
		{"no-at-sign", NULL},
		{"a@b@c.eu", NULL},
		{"a b@c.eu", NULL},
		{"@c.eu", NULL},
	};
	char buf[CS_NORM_CAP];

	for (size_t i = 0; i < CS_ARRAY_SIZE(hosts); i++) {
		size_t len = strlen(hosts[i].in);
		int t;
		memcpy(buf, hosts[i].in, len + 1);
		t = cs_norm_host(buf, &len, sizeof(buf));
		CS_TEST_ASSERT(t == hosts[i].type, "host \"%s\": type %d, expected %d", hosts[i].in, t, hosts[i].type);
		if (hosts[i].out) {
			CS_TEST_EQ_STR(buf, hosts[i].out);
			CS_TEST_EQ_INT(len, strlen(hosts[i].out));
		}
	}
	for (size_t i = 0; i < CS_ARRAY_SIZE(urls); i++) {
		size_t len = strlen(urls[i].in);
		int rc;
		memcpy(buf, urls[i].in, len + 1);
		rc = cs_norm_url(buf, &len, sizeof(buf));
		if (!urls[i].out) {
			CS_TEST_ASSERT(rc == -1, "url \"%s\" accepted as \"%s\"", urls[i].in, buf);
			continue;
		}
		CS_TEST_ASSERT(rc == 0, "url \"%s\" rejected", urls[i].in);
		CS_TEST_EQ_STR(buf, urls[i].out);
		CS_TEST_EQ_INT(len, strlen(urls[i].out));
		/* normalizing twice changes nothing */
		CS_TEST_EQ_INT(cs_norm_url(buf, &len, sizeof(buf)), 0);
		CS_TEST_EQ_STR(buf, urls[i].out);
	}
	for (size_t i = 0; i < CS_ARRAY_SIZE(hashes); i++) {
		size_t len = strlen(hashes[i].in);
		memcpy(buf, hashes[i].in, len + 1);
		CS_TEST_ASSERT(cs_norm_hash(buf, len) == hashes[i].type, "hash \"%s\"", hashes[i].in);
		if (hashes[i].out)
			CS_TEST_EQ_STR(buf, hashes[i].out);
	}
	for (size_t i = 0; i < CS_ARRAY_SIZE(emails); i++) {
		size_t len = strlen(emails[i].in);
		int rc;
		memcpy(buf, emails[i].in, len + 1);
		rc = cs_norm_email(buf, &len, sizeof(buf));
		if (!emails[i].out) {
			CS_TEST_ASSERT(rc == -1, "email \"%s\" accepted as \"%s\"", emails[i].in, buf);
			continue;
		}
		CS_TEST_ASSERT(rc == 0, "email \"%s\" rejected", emails[i].in);
		CS_TEST_EQ_STR(buf, emails[i].out);
		CS_TEST_EQ_INT(len, strlen(emails[i].out));
	}
	{
		/* Hosts of up to 64 bytes are decided by fast paths (a dotted quad, a vector
		 * pass): they agree with the byte-by-byte reference on every host of a million
		 * drawn from the bytes that matter; URLs likewise (300,000 built from pieces). */
		static const char alpha[] = "abcXYZ019.-_:[]\x80\xc3\xbc .";
		uint64_t x = 88172645463325252ULL;
		long domains = 0, ipv4 = 0, rejected = 0;
		for (int n = 0; n < 1000000; n++) {
			char a[256], b[256];
			size_t len, la, lb;
			int ta, tb;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			len = (size_t)(x % 67);
			if (n % 4 == 0) { /* a quad, maybe mangled */
				len = (size_t)snprintf(a, sizeof(a), "%u.%u.%u.%u", (unsigned)(x >> 8) % 300,
						       (unsigned)(x >> 17) % 256, (unsigned)(x >> 26) % 256,
						       (unsigned)(x >> 35) % 256);
				if (x & 1ULL << 50)
					a[(x >> 51) % len] = (char)alpha[(x >> 55) % (sizeof(alpha) - 1)];
			} else {
				for (size_t i = 0; i < len; i++) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					/* mostly letters and dots, so that many are domains */
					a[i] = (x & 3) ? "abcdefXYZ.o"[(x >> 2) % 11] : alpha[(x >> 2) % (sizeof(alpha) - 1)];
				}
			}
			a[len] = '\0';
			memcpy(b, a, len + 1);
			la = lb = len;
			ta = cs_norm_host(a, &la, sizeof(a));
			tb = cs_norm_host_bytewise(b, &lb, sizeof(b));
			CS_TEST_ASSERT(ta == tb, "host \"%s\": type %d, %d byte by byte", b, ta, tb);
			if (ta >= 0) {
				CS_TEST_EQ_INT(la, lb);
				CS_TEST_ASSERT(!memcmp(a, b, la + 1), "host: \"%s\", \"%s\" byte by byte", a, b);
			}
			domains += ta == CS_OBS_DOMAIN;
			ipv4 += ta == CS_OBS_IPV4;
			rejected += ta < 0;
		}
		/* the same for URLs: the plain-URL fast path against the byte-by-byte reference */
		{
			static const char *parts[] = {"http://", "https://", "HTTP://", "ftp://", "h2x://", "evil.eu",
						      "EVIL.eu", "1.2.3.4", "a..b", "/", "/a", "/./", "/../", "/.x", "?q=1",
						      "#f", "%2e", "%41", ":80", ":8080", "@", "user", "[::1]", " ", "\xc3\xa9",
						      "x", ".", "-", "//", "?", "\\"};
			long same = 0, plain = 0;
			for (int n = 0; n < 300000; n++) {
				char a[512], b[512];
				size_t len = 0, la, lb;
				int ra, rb, k;
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* mostly scheme + host + path pieces, so that many are plain */
				len = (size_t)snprintf(a, sizeof(a), "%s%s", parts[(x >> 3) % 5], parts[5 + (x >> 8) % 4]);
				for (k = (int)((x >> 12) % 6); k > 0; k--) {
					x ^= x << 13, x ^= x >> 7, x ^= x << 17;
					len += (size_t)snprintf(a + len, sizeof(a) - len, "%s",
								(x & 1) ? parts[9 + (x >> 1) % 2] : parts[(x >> 1) % CS_ARRAY_SIZE(parts)]);
				}
				memcpy(b, a, len + 1);
				la = lb = len;
				ra = cs_norm_url(a, &la, sizeof(a));
				rb = cs_norm_url_bytewise(b, &lb, sizeof(b));
				CS_TEST_ASSERT(ra == rb, "url \"%s\": %d, %d byte by byte", b, ra, rb);
				if (ra == 0) {
					CS_TEST_EQ_INT(la, lb);
					CS_TEST_ASSERT(!memcmp(a, b, la + 1), "url: \"%s\", \"%s\" byte by byte", a, b);
					plain += !strchr(a, '%') && !strchr(a, '#');
				}
				same++;
			}
			CS_TEST_ASSERT(same == 300000 && plain > 50000, "urls: %ld compared, %ld plain", same, plain);
		}
		/* the draw reaches every outcome often */
		CS_TEST_ASSERT(domains > 40000 && ipv4 > 100000 && rejected > 100000,
			       "domains %ld, ipv4 %ld, rejected %ld", domains, ipv4, rejected);
	}
	{
		/* cs_norm_url_host(): where the normalized URL's host is, when the fast path knows it */
		static const struct {
			const char *in, *out;
			size_t hoff, hlen;
			int htype;
		} uh[] = {
			{"http://Example.COM./a?b=1", "http://example.com/a?b=1", 7, 11, CS_OBS_DOMAIN},
			{"https://10.0.0.1/x", "https://10.0.0.1/x", 8, 8, CS_OBS_IPV4},
			{"ftp://a.example/", "ftp://a.example/", 6, 9, CS_OBS_DOMAIN},
			{"http://[::1]/x", "http://[::1]/x", 0, 0, -1},           /* not the fast path: not known */
			{"http://a.example:8080/x", "http://a.example:8080/x", 0, 0, -1},
			{"HTTP://a.example/x", "http://a.example/x", 0, 0, -1},
		};
		for (size_t i = 0; i < CS_ARRAY_SIZE(uh); i++) {
			char u[256];
			size_t len = strlen(uh[i].in), hoff = 99, hlen = 99;
			int htype = 99;
			memcpy(u, uh[i].in, len + 1);
			CS_TEST_EQ_INT(cs_norm_url_host(u, &len, sizeof(u), &hoff, &hlen, &htype), 0);
			CS_TEST_EQ_STR(u, uh[i].out);
			CS_TEST_ASSERT(htype == uh[i].htype, "url %s: host type %d", uh[i].in, htype);
			if (htype >= 0)
				CS_TEST_ASSERT(hoff == uh[i].hoff && hlen == uh[i].hlen, "url %s: host at %zu, %zu bytes",
					       uh[i].in, hoff, hlen);
		}
	}
	{
		/* The branch-free dotted-quad check (the decoder's) gives the byte-by-byte
		 * one's answer on 7 to 15 bytes, whatever follows them in the 16 it reads:
		 * quads of octets up to 299, mangled, and strings of digits and dots. */
		static const char alpha[] = "0123456789..0.x2 5";
		static const char *edges[] = {"0.0.0.0", "255.255.255.255", "256.1.1.1", "1.1.1.256", "01.1.1.1",
					      "1.1.1.01", "1.1.1.0", "100.200.250.255", "199.249.255.260", "1..1.1.1",
					      ".1.1.1.1", "1.1.1.1.", "1.1.1.1.1", "1.2.3.4x", "1234.1.1.1", "1.1.1.1234"};
		uint64_t x = 2463534242ULL;
		long yes = 0;
		for (size_t i = 0; i < CS_ARRAY_SIZE(edges); i++) {
			char b[16] = {0};
			size_t len = strlen(edges[i]);
			memcpy(b, edges[i], len);
			CS_TEST_ASSERT(cs_norm_ipv4_canonical16(b, len) == cs_norm_ipv4_canonical(b, len),
				       "quad \"%s\": %d, %d byte by byte", edges[i], cs_norm_ipv4_canonical16(b, len),
				       cs_norm_ipv4_canonical(b, len));
		}
		for (int n = 0; n < 2000000; n++) {
			char b[32];
			size_t len;
			int ra, rb;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (n % 2 == 0) {
				len = (size_t)snprintf(b, sizeof(b), "%u.%u.%u.%u", (unsigned)(x >> 8) % 300,
						       (unsigned)(x >> 17) % 300, (unsigned)(x >> 26) % 300,
						       (unsigned)(x >> 35) % 300);
				if (x & 1ULL << 50)
					b[(x >> 51) % len] = alpha[(x >> 55) % (sizeof(alpha) - 1)];
			} else {
				len = 7 + (size_t)(x % 9);
				for (size_t i = 0; i < len; i++)
					b[i] = alpha[(x >> (4 + i * 3)) % 12];
			}
			if (len < 7 || len > 15)
				continue;
			for (size_t i = len; i < 16; i++) /* what follows: digits and dots too */
				b[i] = alpha[(x >> (i * 2)) % (sizeof(alpha) - 1)];
			ra = cs_norm_ipv4_canonical16(b, len);
			rb = cs_norm_ipv4_canonical(b, len);
			CS_TEST_ASSERT(ra == rb, "quad \"%.*s\": %d, %d byte by byte", (int)len, b, ra, rb);
			yes += rb;
		}
		CS_TEST_ASSERT(yes > 300000, "only %ld canonical quads drawn", yes);
	}
	/* text compared as a whole: written as a pattern and read back */
	{
		static const char *const texts[] = {"powershell.exe -nop -enc SQBFAFgA", "a\\b$c^d(e)[f]{g}|h?i*j+k/l#m",
						    "caf\xc3\xa9 \x01\x7f", "%_ stays"};
		char re[512], lit[512];
		for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
			CS_TEST_EQ_INT(cs_norm_text_re("=", texts[i], re, sizeof(re)), 0);
			CS_TEST_ASSERT(cs_norm_text_literal(re, lit, sizeof(lit)) && !strcmp(lit, texts[i]), "\"%s\" -> %s -> %s",
				       texts[i], re, lit);
		}
		CS_TEST_EQ_INT(cs_norm_text_re("LIKE", "Urgent: %invoice_", re, sizeof(re)), 0);
		CS_TEST_EQ_STR(re, "^Urgent: .*invoice.$");
		CS_TEST_ASSERT(!cs_norm_text_literal(re, lit, sizeof(lit)), "LIKE read back as a literal");
		CS_TEST_EQ_INT(cs_norm_text_re("MATCHES", "certutil(\\.exe)?", re, sizeof(re)), 0);
		CS_TEST_EQ_STR(re, "certutil(\\.exe)?");
		CS_TEST_ASSERT(!cs_norm_text_literal("^a\\x2", lit, sizeof(lit)) && !cs_norm_text_literal("^ab", lit, sizeof(lit)),
			       "a broken escape or no anchor read as a literal");
		CS_TEST_EQ_INT(cs_norm_text_re("=", "abcdef", re, 6), -1);
	}
	return 0;
}
