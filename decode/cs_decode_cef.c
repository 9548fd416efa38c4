/*
 * cs_decode_cef.c - ArcSight Common Event Format lines.
 *
 * DESIGN: "CEF:0|vendor|product|version|signature id|name|severity|ext"
 * (the caller has found "CEF:" at the start or behind a syslog header).
 * Header fields escape '|' and '\'; extension values escape '=', '\', and
 * write newlines as \n or \r. A value runs until the next " key=" (keys are
 * [A-Za-z0-9_.\[\]]+). Values that need unescaping are rewritten in a
 * scratch buffer; the rest point into the message. Thread of the decoder.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <time.h>

#include "cs_decode_int.h"

typedef struct cs__cef_key_s {
	const char *key;
	uint8_t klen;
	cs_dleaf_kind_t kind;
	cs_obs_role_t role;
} cs__cef_key_t;

#define CS__K(s) s, (uint8_t)(sizeof(s) - 1)
static const cs__cef_key_t cs__cef_keys[] = {
	{CS__K("src"), CS_DLEAF_IP, CS_OBS_ROLE_SRC},
	{CS__K("sourceAddress"), CS_DLEAF_IP, CS_OBS_ROLE_SRC},
	{CS__K("c6a2"), CS_DLEAF_IP, CS_OBS_ROLE_SRC},
	{CS__K("dst"), CS_DLEAF_IP, CS_OBS_ROLE_DST},
	{CS__K("destinationAddress"), CS_DLEAF_IP, CS_OBS_ROLE_DST},
	{CS__K("c6a3"), CS_DLEAF_IP, CS_OBS_ROLE_DST},
	{CS__K("shost"), CS_DLEAF_HOST, CS_OBS_ROLE_SRC},
	{CS__K("sourceHostName"), CS_DLEAF_HOST, CS_OBS_ROLE_SRC},
	{CS__K("dhost"), CS_DLEAF_HOST, CS_OBS_ROLE_DST},
	{CS__K("destinationHostName"), CS_DLEAF_HOST, CS_OBS_ROLE_DST},
	{CS__K("destinationDnsDomain"), CS_DLEAF_HOST, CS_OBS_ROLE_DNS_QUERY},
	{CS__K("request"), CS_DLEAF_URL, CS_OBS_ROLE_URL},
	{CS__K("requestUrl"), CS_DLEAF_URL, CS_OBS_ROLE_URL},
	{CS__K("requestClientApplication"), CS_DLEAF_TEXT, CS_OBS_ROLE_USER_AGENT},
	{CS__K("fileHash"), CS_DLEAF_HASH, CS_OBS_ROLE_FILE_HASH},
	{CS__K("oldFileHash"), CS_DLEAF_HASH, CS_OBS_ROLE_FILE_HASH},
	{CS__K("cat"), CS_DLEAF_CATEGORY, 0},
	{CS__K("deviceEventCategory"), CS_DLEAF_CATEGORY, 0},
	{CS__K("rt"), CS_DLEAF_TIME, 0},
	{CS__K("receiptTime"), CS_DLEAF_TIME, 0},
	{CS__K("end"), CS_DLEAF_TIME, 0},
};
#undef CS__K

/* The keys by a hash of (length, first, last byte): open addressing, entry index + 1; filled once before main(). */
static uint8_t cs__cef_slots[64];

static inline unsigned cs__cef_hash(const char *k, size_t kl) {
	return ((unsigned)kl * 31u + (unsigned char)k[0] * 7u + (unsigned char)k[kl - 1]) & 63u;
}

__attribute__((constructor)) static void cs__cef_init(void) {
	for (size_t i = 0; i < CS_ARRAY_SIZE(cs__cef_keys); i++) {
		unsigned j = cs__cef_hash(cs__cef_keys[i].key, cs__cef_keys[i].klen);
		while (cs__cef_slots[j])
			j = (j + 1) & 63u;
		cs__cef_slots[j] = (uint8_t)(i + 1);
	}
}

/* The mapped key k[0..kl), or NULL. */
static inline const cs__cef_key_t *cs__cef_key(const char *k, size_t kl) {
	for (unsigned j = cs__cef_hash(k, kl); cs__cef_slots[j]; j = (j + 1) & 63u) {
		const cs__cef_key_t *ck = &cs__cef_keys[cs__cef_slots[j] - 1];
		if (ck->klen == kl && ck->key[0] == k[0] && ck->key[kl - 1] == k[kl - 1]) {
			size_t i = 1; /* keys are short: compared here rather than by a call */
			while (i < kl - 1 && ck->key[i] == k[i])
				i++;
			if (i >= kl - 1)
				return ck;
		}
	}
	return NULL;
}

/* Key characters of the extension ([A-Za-z0-9_.\[\]]). */
static const uint8_t cs__cef_cls[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
	['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
	['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
	['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
	['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['_'] = 1, ['.'] = 1, ['['] = 1, [']'] = 1,
};

static int cs__month(const char *s) {
	static const char *m = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (!strncmp(s, m + i * 3, 3))
			return i;
	return -1;
}

/* rt: epoch milliseconds, "MMM dd yyyy HH:mm:ss[.SSS]" (UTC assumed) or RFC 3339. */
static int64_t cs__cef_time(const char *s, size_t len) {
	char buf[64];
	int64_t ms;
	if (len == 0 || len >= sizeof(buf))
		return 0;
	if (len >= 10 && !cs__dec_u64(s, len, &ms))
		return ms;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (isdigit((unsigned char)buf[0]) && len >= 10 && strspn(buf, "0123456789") == len)
		return strtoll(buf, NULL, 10); /* more than 18 digits */
	if (!cs_time_parse_iso8601(buf, len, &ms))
		return ms;
	{
		struct tm tm = {0};
		int mon = cs__month(buf), d, y, h, mi, sec, frac = 0;
		if (mon >= 0 && sscanf(buf + 3, " %d %d %d:%d:%d.%d", &d, &y, &h, &mi, &sec, &frac) >= 5) {
			tm.tm_year = y - 1900;
			tm.tm_mon = mon;
			tm.tm_mday = d;
			tm.tm_hour = h;
			tm.tm_min = mi;
			tm.tm_sec = sec;
			return (int64_t)timegm(&tm) * 1000 + frac % 1000;
		}
	}
	return 0;
}

static int cs__sev_word(const char *s, size_t len) {
	if (len == 3 && !strncasecmp(s, "low", 3))
		return 3;
	if (len == 6 && !strncasecmp(s, "medium", 6))
		return 6;
	if (len == 4 && !strncasecmp(s, "high", 4))
		return 8;
	if (len == 9 && !strncasecmp(s, "very-high", 9))
		return 10;
	if (len > 0 && len < 3 && isdigit((unsigned char)s[0]))
		/* what atoi() reads: the field ends at a '|' */
		return len == 2 && isdigit((unsigned char)s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
	return -1;
}

/* Unescapes a header field (\| and \\) in place. */
static size_t cs__hdr_unescape(char *s, size_t len) {
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '|' || s[i + 1] == '\\'))
			i++;
		s[o++] = s[i];
	}
	return o;
}

static inline int cs__is_keych(char c) {
	return cs__cef_cls[(unsigned char)c] == 1;
}

/*
 * 32-byte patterns: the key sequences' keys, the folded values and the kept
 * header are each compared as one (bytes, a bit for each byte that counts).
 */
static inline void cs__cef_pat_set(__m128i pat[2], const char b[32]) {
	pat[0] = _mm_loadu_si128((const __m128i *)(const void *)b);
	pat[1] = _mm_loadu_si128((const __m128i *)(const void *)(b + 16));
}

/* 1 if the 32 bytes at p have pat's bytes wherever mask has a bit. */
static inline __attribute__((always_inline)) int cs__cef_pat_eq(const __m128i pat[2], uint32_t mask, const char *p) {
	unsigned lo = (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), pat[0]));
	unsigned hi = (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), pat[1]));
	return ((lo | hi << 16) & mask) == mask;
}

/*
 * The key sequences seen (cs__cef_seq_t). A CEF source writes the same keys
 * in the same order, so the key after a value is first looked for among the
 * keys seen after the current one: the bytes " key" just before the '='
 * found (right-aligned, so that one compare also says the key begins after a
 * space), which is what the backtrack below finds there; its mapping is
 * remembered with it. A key found by the backtrack instead is added to the
 * trie; a full trie is emptied.
 */

/* The node of key k[0..kl) among the kids at *link (added if none), or -1 (the trie was emptied). */
static int cs__cef_seq_add(cs__cef_seq_t *seq, int16_t *link, const char *k, size_t kl, const cs__cef_key_t *ck,
			   int first) {
	uint64_t id = 0xcbf29ce484222325ULL ^ kl;
	char b[32];
	cs__cef_sk_t *sk;
	int i;

	for (size_t j = 0; j < kl; j++)
		id = (id ^ (unsigned char)k[j]) * 0x100000001b3ULL;
	for (i = *link; i >= 0; i = seq->k[i].next) {
		if (seq->k[i].id == id)
			return i;
		link = &seq->k[i].next;
	}
	if (seq->n == CS__CEF_NODES) { /* full: start again */
		seq->n = 0;
		seq->first = -1;
		return -1;
	}
	i = (int)seq->n++;
	sk = &seq->k[i];
	memset(sk, 0, sizeof(*sk));
	memset(&seq->lit[i], 0, sizeof(seq->lit[i]));
	sk->id = id;
	sk->ck = ck;
	sk->kid = sk->next = -1;
	memset(b, 0, sizeof(b));
	if (first && kl < 32) { /* "key=" from byte 0 */
		memcpy(b, k, kl);
		b[kl] = '=';
		sk->mask = kl == 31 ? ~0u : (2u << kl) - 1;
		sk->klen = (uint8_t)kl;
	} else if (!first && kl < 32) { /* " key" up to byte 31 */
		b[31 - kl] = ' ';
		memcpy(b + 32 - kl, k, kl);
		sk->mask = ~0u << (31 - kl);
		sk->klen = (uint8_t)kl;
	}
	cs__cef_pat_set(sk->pat, b);
	*link = (int16_t)i;
	return i;
}

/*
 * The node of the key that ends at the '=' at q, among the keys seen after
 * node cur, with the value begun at v: " key" as seen, right-aligned before
 * q, which is what the backtrack from q finds there. -1: none (or q too near
 * the line's start to load the 32 bytes before it).
 */
static inline __attribute__((always_inline)) int cs__cef_next(const cs__cef_seq_t *seq, int cur, const char *v,
							       const char *q, const char *buf) {
	if (q - buf < 32)
		return -1;
	for (int i = seq->k[cur].kid; i >= 0; i = seq->k[i].next) {
		const cs__cef_sk_t *sk = &seq->k[i];
		if (sk->klen && q - v > sk->klen && cs__cef_pat_eq(sk->pat, sk->mask, q - 32))
			return i;
	}
	return -1;
}

/*
 * Folded values. A CEF source repeats most of its unmapped values line after
 * line (a device's name and address, "RuleID", a fixed message). Once the
 * value after a key has been the same for CS__CEF_FOLD_SAME lines, with the
 * same key after it, the bytes "value key=" are kept with the key's node
 * (lit[], 32 bytes at most); when the trie has predicted that key on a later
 * line, the bytes after its '=' are first compared with them, and if they
 * are there the scan goes on from the next key's '=' at once: it is where
 * the scan would find it (the value has no '=' or '\\', the key is key
 * characters after a space, so the backtrack from that '=' stops at the
 * space), and an unmapped value is otherwise unused. A last value (no key
 * after it) is kept right-aligned and compared with the line's last bytes
 * when the rest of the line has its length. A value that changed
 * CS__CEF_FOLD_CHANGES times is no longer followed; a folded value missed 64
 * times with 16 hits or fewer is dropped. The JSON shapes fold their values
 * the same way (cs_decode_json.c).
 */
#define CS__CEF_FOLD_SAME 8
#define CS__CEF_FOLD_CHANGES 32
#define CS__CEF_FOLD_JUDGE 64

/* A hash of the n bytes before e (e - 16 is in the line). */
static inline uint32_t cs__cef_span_hash(const char *e, size_t n) {
	uint64_t a, b;
	memcpy(&a, e - 8, 8);
	memcpy(&b, e - 16, 8);
	if (n < 16) {
		b = n > 8 ? b & (~0ULL << (8 * (16 - n))) : 0;
		if (n < 8)
			a &= ~0ULL << (8 * (8 - n));
	} else if (n > 16) {
		uint64_t c;
		memcpy(&c, e - n, 8);
		b ^= c * 0x9E3779B97F4A7C15ULL;
	}
	return (uint32_t)(((a * 0xC2B2AE3D27D4EB4FULL) ^ (b * 0x165667B19E3779F9ULL) ^ n) >> 32);
}

/*
 * Follows the unmapped value at v of node cur: up to and with the next key's
 * '=' (e just after it, next: that key's node), or to the line's end (e,
 * next -1). Folds it when it has stayed the same.
 */
static void cs__cef_follow(cs__cef_seq_t *seq, int cur, const char *v, const char *e, int next, const char *lo) {
	cs__cef_lit_t *l = &seq->lit[cur];
	size_t n = (size_t)(e - v);
	uint32_t h;

	if (e - lo < 16 || n > 32 || n == 0 || seq->k[cur].ck)
		return; /* a node folds only for a key it knows as unmapped (not one that shares its id) */
	h = cs__cef_span_hash(e, n);
	if (h != l->h || (int)l->next != next) {
		l->h = h;
		l->next = (int16_t)next;
		l->same = 0;
		l->changes++;
		return;
	}
	if (++l->same < CS__CEF_FOLD_SAME)
		return;
	l->same = 0;
	{
		char b[32];
		for (size_t i = 0; i < n - (next >= 0); i++)
			if (v[i] == '=' || v[i] == '\\')
				return;
		memset(b, 0, sizeof(b));
		if (next >= 0) { /* "value key=" from byte 0, compared where the value begins */
			memcpy(b, v, n);
			l->mask = n == 32 ? ~0u : (1u << n) - 1;
		} else { /* the last value, right-aligned: compared with the line's last 32 bytes */
			memcpy(b + 32 - n, v, n);
			l->mask = n == 32 ? ~0u : ~0u << (32 - n);
		}
		cs__cef_pat_set(l->b, b);
		l->len = (uint8_t)n;
		l->hits = l->misses = 0;
		seq->k[cur].folded = 1;
		seq->folded++;
	}
}

/* 1 if the unmapped values of node cur are followed: not folded yet, not seen to vary. */
static inline int cs__cef_following(const cs__cef_seq_t *seq, int cur) {
	return seq->lit[cur].changes < CS__CEF_FOLD_CHANGES && !seq->k[cur].folded;
}

/*
 * p at the '=' of node *curp's key: the folded values from there passed (p
 * then at the '=' of the key after them, or at the line's last byte when the
 * last value was folded), *curp and *ckp moved on with them.
 */
static inline __attribute__((always_inline)) const char *cs__cef_skip(cs__cef_seq_t *seq, int *curp,
								      const cs__cef_key_t **ckp, const char *p,
								      const char *lo, const char *end) {
	int cur = *curp;
	while (seq->k[cur].folded) {
		cs__cef_lit_t *l = &seq->lit[cur];
		if (l->next >= 0) {
			if (end - p > 32 && cs__cef_pat_eq(l->b, l->mask, p + 1)) {
				if (l->hits < 0xffff)
					l->hits++;
				p += l->len;
				cur = l->next;
				seq->predicted++;
				continue;
			}
		} else if (end - (p + 1) == l->len && end - lo >= 32 && cs__cef_pat_eq(l->b, l->mask, end - 32)) {
			if (l->hits < 0xffff)
				l->hits++;
			p = end - 1; /* the value ran to the end: nothing left */
			break;
		}
		if (++l->misses == CS__CEF_FOLD_JUDGE) {
			if (l->hits <= CS__CEF_FOLD_JUDGE / 4)
				l->len = seq->k[cur].folded = 0;
			l->hits = l->misses = 0;
		}
		break;
	}
	*curp = cur;
	*ckp = seq->k[cur].ck;
	return p;
}

/*
 * The header's first four fields (version, vendor, product, device version)
 * are a source's own: the last line's are kept, and a line that begins with
 * the same bytes (no backslash among them) has its first four '|' where
 * that line had them - where the split would find them. Keeps those of the
 * header split at f (32 bytes at most, no backslash).
 */
static void cs__cef_hdr_keep(cs__cef_seq_t *seq, const char *const *f) {
	size_t l = (size_t)(f[4] - f[0]);
	char b[32];
	memset(b, 0, sizeof(b));
	memcpy(b, f[0], l);
	cs__cef_pat_set(seq->hdr, b);
	seq->hmask = l == 32 ? ~0u : (1u << l) - 1;
	seq->hlen = (uint8_t)l;
	for (int i = 0; i < 4; i++)
		seq->hpipe[i] = (uint8_t)(f[i + 1] - 1 - f[0]);
}

cs_decode_reject_t cs__decode_cef(cs_decode_t *dec, const char *buf, size_t len) {
	const char *f[8], *p = buf + 4, *end = buf + len, *k;
	size_t fl[8];
	int n = 0;
	cs__cef_seq_t *seq = dec->cef_seq;
	int cur = -1; /* the current key's node in the trie, -1: none */
	const cs__cef_key_t *ck; /* the current key's mapping, NULL: not mapped */
	unsigned hbs = 0; /* bit n: a backslash in header field n */
	int hkept = 0;    /* the first four fields were the last line's */
	cs_decode_reject_t r;

	/* version: digits */
	if (p >= end || !isdigit((unsigned char)*p))
		return CS_DECODE_REJECT_BAD_CEF;
	/* split the 7 header fields (version included) on unescaped '|'; the first four as the last line's */
	f[0] = p;
	if (seq && seq->hlen && end - p >= 32 && cs__cef_pat_eq(seq->hdr, seq->hmask, p)) {
		hkept = 1;
		for (; n < 4; n++) {
			f[n + 1] = f[0] + seq->hpipe[n] + 1;
			fl[n] = (size_t)(f[n + 1] - 1 - f[n]);
		}
		p = f[4];
	}
	while (n < 7 && (p = cs__find2(p, end, '|', '\\')) < end) {
		if (*p == '\\') {
			hbs |= 1u << n;
			p += p + 1 < end ? 2 : 1;
			continue;
		}
		fl[n] = (size_t)(p - f[n]);
		n++;
		f[n] = ++p;
	}
	if (n < 7)
		return CS_DECODE_REJECT_BAD_CEF;
	if (seq && !hkept && !(hbs & 0xfu) && (size_t)(f[4] - f[0]) <= 32)
		cs__cef_hdr_keep(seq, f);
	/* Name (field 5) is the rule name; Severity (6) */
	{
		const char *name = f[5];
		size_t nl = fl[5];
		if (nl > 0 && nl < 4096 && dec->arena_size - dec->arena_used > nl + 1) {
			if (hbs & (1u << 5)) {
				char *u = dec->arena + dec->arena_used;
				memcpy(u, f[5], nl);
				nl = cs__hdr_unescape(u, nl);
				u[nl] = '\0';
				dec->arena_used += nl + 1;
				name = u;
			}
			if ((r = cs__decode_text(dec, CS_OBS_ROLE_RULE_NAME, name, nl, 0)) != CS_DECODE_OK)
				return r; /* in the line, or unescaped into the arena and kept there */
		}
		dec->ev.severity = cs__sev_word(f[6], fl[6]);
	}
	/* extension: the first key */
	p = f[7];
	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return CS_DECODE_OK;
	k = p;
	if (seq && end - p >= 32)
		for (int i = seq->first; i >= 0; i = seq->k[i].next)
			if (seq->k[i].klen && cs__cef_pat_eq(seq->k[i].pat, seq->k[i].mask, p)) {
				cur = i;
				break;
			}
	if (cur >= 0) {
		seq->predicted++;
		p = cs__cef_skip(seq, &cur, &ck, p + seq->k[cur].klen, buf, end);
	} else {
		while (p < end && cs__is_keych(*p))
			p++;
		if (p >= end || *p != '=' || p == k)
			return CS_DECODE_REJECT_BAD_CEF;
		ck = cs__cef_key(k, (size_t)(p - k));
		if (seq) {
			seq->found++;
			cur = cs__cef_seq_add(seq, &seq->first, k, (size_t)(p - k), ck, 1);
		}
	}
	/* each value, p at the '=' before it; it ends before " key=" */
	for (;;) {
		const char *v = p + 1, *ve = end, *q, *next_k = NULL, *next_eq = NULL;
		int bs = 0, next_node = -1; /* a backslash in the value: unescape it; the next key's node */

		for (q = cs__find2(v, end, '=', '\\'); q < end; q = cs__find2(q + 1, end, '=', '\\')) {
			const char *s;
			int i;
			if (*q == '\\') {
				if (q + 1 < end) {
					bs = 1;
					q++;
				}
				continue;
			}
			/* '=': first the keys seen after this one (the common case), else the backtrack */
			if (cur >= 0 && (i = cs__cef_next(seq, cur, v, q, buf)) >= 0) {
				ve = q - seq->k[i].klen - 1;
				next_k = ve + 1;
				next_eq = q;
				next_node = i;
				break;
			}
			s = q;
			while (s > v && cs__is_keych(s[-1]))
				s--;
			if (s > v && s[-1] == ' ' && s < q) {
				ve = s - 1;
				next_k = s;
				next_eq = q;
				break;
			}
			if (s == q && q > v && q[-1] == ' ')
				return CS_DECODE_REJECT_BAD_CEF; /* " =value": a key is missing */
			/* an unescaped '=' inside a value (common in URLs): part of it */
		}
		while (ve > v && ve[-1] == ' ')
			ve--; /* trailing white space */
		if (ck && (size_t)(ve - v) <= CS_NORM_MAX_IN && dec->arena_size - dec->arena_used >= (size_t)(ve - v) + 1) {
			const char *val;
			size_t vl = 0;
			if (!bs) { /* as it is in the line: the emitter copies what it keeps */
				val = v;
				vl = (size_t)(ve - v);
			} else {
				char *u = dec->arena + dec->arena_used;
				for (const char *c = v; c < ve; c++) { /* unescape \= \\ \n \r */
					if (*c == '\\' && c + 1 < ve) {
						c++;
						u[vl++] = *c == 'n' ? '\n' : *c == 'r' ? '\r' : *c;
					} else {
						u[vl++] = *c;
					}
				}
				u[vl] = '\0';
				dec->arena_used += vl + 1;
				val = u;
			}
			if (ck->kind == CS_DLEAF_TIME) {
				if (!dec->ev.ts_ms)
					dec->ev.ts_ms = cs__cef_time(val, vl);
			} else if (ck->kind == CS_DLEAF_CATEGORY) {
				if (!dec->ev.category) {
					dec->ev.category = val;
					dec->ev.category_len = vl;
				}
			} else if ((r = ck->kind == CS_DLEAF_TEXT ? cs__decode_text(dec, ck->role, val, vl, 0)
								 : cs__decode_obs(dec, ck->kind, ck->role, val, vl)) != CS_DECODE_OK) {
				return r; /* a text is kept where it is: in the line, or unescaped into the arena */
			}
		}
		if (!next_k) { /* the value ran to the end of the line */
			if (!ck && !bs && cur >= 0 && seq->lit[cur].changes < CS__CEF_FOLD_CHANGES && !seq->k[cur].folded)
				cs__cef_follow(seq, cur, v, end, -1, buf);
			break;
		}
		k = next_k;
		p = next_eq;
		if (next_node >= 0) { /* predicted: mapped as recorded */
			if (!ck && !bs && seq->lit[cur].changes < CS__CEF_FOLD_CHANGES && !seq->k[cur].folded && end - v >= 32)
				cs__cef_follow(seq, cur, v, next_eq + 1, next_node, buf); /* an unmapped value: as before? */
			cur = next_node;
			seq->predicted++;
			p = cs__cef_skip(seq, &cur, &ck, p, buf, end);
		} else {
			ck = cs__cef_key(k, (size_t)(p - k));
			if (seq)
				seq->found++;
			cur = cur >= 0 ? cs__cef_seq_add(seq, &seq->k[cur].kid, k, (size_t)(p - k), ck, 0) : -1;
		}
	}
	return CS_DECODE_OK;
}
