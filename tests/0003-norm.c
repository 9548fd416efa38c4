/* 0003-norm: hosts and URLs normalized so that equal things compare equal. */
#include "cs_test.h"
#include "cs_correlate.h"

int cs_test_0003(void) {
	static const struct {
		const char *in, *out;
		int type;
	} hosts[] = {
		{"Evil.EU", "evil.eu", CS_OBS_DOMAIN},
		{"www.evil.eu.", "www.evil.eu", CS_OBS_DOMAIN},
		{"1.2.3.4", "1.2.3.4", CS_OBS_IPV4},
		{"::ffff:1.2.3.4", "1.2.3.4", CS_OBS_IPV4}, /* IPv4-mapped IPv6 is the IPv4 */
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1", CS_OBS_IPV6},
		{"[2001:db8::1]", "2001:db8::1", CS_OBS_IPV6},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", CS_OBS_DOMAIN},
		{"localhost", NULL, -1},     /* a bare name is no domain indicator */
		{"a..b", NULL, -1},
		{"evil.eu/x", NULL, -1},
		{"1.2.3.4:80", NULL, -1},
		{"", NULL, -1},
		{"bad_domain_ok.example", "bad_domain_ok.example", CS_OBS_DOMAIN}, /* '_' is seen in DNS */
	};
	static const struct {
		const char *in, *out;
	} urls[] = {
		{"HTTP://Evil.EU/Path?q=A", "http://evil.eu/Path?q=A"},
		{"http://evil.eu:80/x", "http://evil.eu/x"},
		{"https://evil.eu:443", "https://evil.eu/"},
		{"https://evil.eu:8443/a", "https://evil.eu:8443/a"},
		{"http://user@EVIL.eu/", "http://user@evil.eu/"},
		{"http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"},
		{"evil.eu/path", NULL},
		{"http:///nohost", NULL},
		{"http://evil.eu:8x/", NULL},
	};
	char buf[512];

	for (size_t i = 0; i < CS_ARRAY_SIZE(hosts); i++) {
		size_t len = strlen(hosts[i].in);
		int t;
		memcpy(buf, hosts[i].in, len + 1);
		t = cs_corr_norm_host(buf, &len);
		CS_TEST_ASSERT(t == hosts[i].type, "\"%s\": type %d, expected %d", hosts[i].in, t, hosts[i].type);
		if (hosts[i].out) {
			CS_TEST_EQ_STR(buf, hosts[i].out);
			CS_TEST_EQ_INT(len, strlen(hosts[i].out));
		}
	}
	for (size_t i = 0; i < CS_ARRAY_SIZE(urls); i++) {
		size_t len = strlen(urls[i].in);
		int rc;
		memcpy(buf, urls[i].in, len + 1);
		rc = cs_corr_norm_url(buf, &len);
		if (!urls[i].out) {
			CS_TEST_ASSERT(rc == -1, "\"%s\" accepted as \"%s\"", urls[i].in, buf);
			continue;
		}
		CS_TEST_ASSERT(rc == 0, "\"%s\" rejected", urls[i].in);
		CS_TEST_EQ_STR(buf, urls[i].out);
		CS_TEST_EQ_INT(len, strlen(urls[i].out));
	}
	return 0;
}
