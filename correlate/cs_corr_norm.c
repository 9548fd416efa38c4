/*
 * cs_corr_norm.c - normalization of hosts and URLs so that equal things
 * compare equal. Used by the indicator loader and by the decoder.
 * DESIGN: pure functions on caller buffers; any thread; no allocation.
 */
#include <string.h>
#include <ctype.h>
#include <arpa/inet.h>

#include "cs_correlate.h"

static int cs__valid_domain(const char *s, size_t len) {
	size_t label = 0;
	int dots = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && dots > 0;
}

int cs_corr_norm_host(char *buf, size_t *lenp) {
	size_t len = *lenp;
	unsigned char addr[16];
	char tmp[64];

	if (len >= 2 && buf[0] == '[' && buf[len - 1] == ']') {
		memmove(buf, buf + 1, len - 2);
		len -= 2;
		buf[len] = '\0';
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	if (len > 0 && buf[len - 1] == '.')
		buf[--len] = '\0';
	if (len == 0 || len >= sizeof(tmp) + 200)
		return -1;

	if (len < sizeof(tmp)) {
		memcpy(tmp, buf, len);
		tmp[len] = '\0';
		if (inet_pton(AF_INET, tmp, addr) == 1) {
			inet_ntop(AF_INET, addr, buf, 64);
			*lenp = strlen(buf);
			return CS_OBS_IPV4;
		}
		if (inet_pton(AF_INET6, tmp, addr) == 1) {
			static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			if (!memcmp(addr, mapped, 12)) {
				inet_ntop(AF_INET, addr + 12, buf, 64);
				*lenp = strlen(buf);
				return CS_OBS_IPV4;
			}
			inet_ntop(AF_INET6, addr, buf, 64);
			*lenp = strlen(buf);
			return CS_OBS_IPV6;
		}
	}
	if (!cs__valid_domain(buf, len))
		return -1;
	*lenp = len;
	return CS_OBS_DOMAIN;
}

int cs_corr_norm_url(char *buf, size_t *lenp) {
	size_t len = *lenp, i, hs, he, pe;
	const char *sep = strstr(buf, "://");
	int dport = 0;

	if (!sep || sep == buf)
		return -1;
	hs = (size_t)(sep - buf);
	for (i = 0; i < hs; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (!isalpha(c) && !(i > 0 && (isdigit(c) || c == '+' || c == '-' || c == '.')))
			return -1;
		buf[i] = (char)tolower(c);
	}
	if (hs == 4 && !memcmp(buf, "http", 4))
		dport = 80;
	else if (hs == 5 && !memcmp(buf, "https", 5))
		dport = 443;
	else if (hs == 3 && !memcmp(buf, "ftp", 3))
		dport = 21;
	hs += 3;
	/* authority: [userinfo@]host[:port] up to '/', '?' or '#' */
	for (he = hs; he < len && buf[he] != '/' && buf[he] != '?' && buf[he] != '#'; he++)
		;
	pe = he;
	for (i = hs; i < pe; i++)
		if (buf[i] == '@')
			hs = i + 1;
	if (hs == pe)
		return -1;
	/* port (not inside an IPv6 literal) */
	for (i = pe; i > hs; i--) {
		if (buf[i - 1] == ']')
			break;
		if (buf[i - 1] == ':') {
			long port = 0;
			size_t p;
			for (p = i; p < pe && isdigit((unsigned char)buf[p]); p++)
				port = port * 10 + (buf[p] - '0');
			if (p != pe)
				return -1;
			he = i - 1;
			if (port == dport || p == i) { /* default or empty port: drop it */
				memmove(buf + he, buf + pe, len - pe + 1);
				len -= pe - he;
				pe = he;
			}
			break;
		}
	}
	for (i = hs; i < he; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	if (he == hs)
		return -1;
	/* an empty path is "/" */
	if (pe == len) {
		buf[len++] = '/';
		buf[len] = '\0';
	}
	*lenp = len;
	return 0;
}
