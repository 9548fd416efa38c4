/*
 * cs_sha1.c - SHA-1 and version-5 UUIDs (cs_sha1.h). DESIGN: the textbook
 * block function over 64-byte blocks; the message is hashed in one call.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "cs_sha1.h"

#define CS__ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void cs__block(uint32_t h[5], const uint8_t *p) {
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = CS__ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		t = CS__ROL(a, 5) + f + e + k + w[i];
		e = d, d = c, c = CS__ROL(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

void cs_sha1(const void *data, size_t len, uint8_t out[20]) {
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	const uint8_t *p = data;
	uint8_t tail[128];
	size_t full = len / 64 * 64, rest = len - full, tl;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i < full; i += 64)
		cs__block(h, p + i);
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tl = rest + 1 + 8 <= 64 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
	cs__block(h, tail);
	if (tl == 128)
		cs__block(h, tail + 64);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static int cs__hex(int c) {
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int cs_uuid5(const char *ns, const char *name, size_t name_len, char out[37]) {
	uint8_t buf[16 + 4096], *m = buf, d[20];
	size_t n = 0;
	int err = -1;
	if (name_len > sizeof(buf) - 16 && !(m = malloc(16 + name_len)))
		return -1;
	for (const char *s = ns; *s && n < 16; s++) {
		int hi, lo;
		if (*s == '-')
			continue;
		if ((hi = cs__hex(s[0])) < 0 || (lo = cs__hex(s[1])) < 0)
			goto out;
		m[n++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	if (n != 16 || strlen(ns) != 36)
		goto out;
	memcpy(m + 16, name, name_len);
	cs_sha1(m, 16 + name_len, d);
	d[6] = (uint8_t)((d[6] & 0x0F) | 0x50);
	d[8] = (uint8_t)((d[8] & 0x3F) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2], d[3],
		 d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
	err = 0;
out:
	if (m != buf)
		free(m);
	return err;
}
