/*
 * cs_corr_db.c - loading a plain indicator list into an exact-value index and
 * a Hyperscan pattern database; matching observables against them.
 *
 * DESIGN: a cs_corr_db_t is built on one thread, then never written again:
 * any number of workers match against it at once, each with its own scratch.
 * Exact values are not compiled into Hyperscan (a million literals take a
 * minute and gigabytes there); they sit in an open-addressing hash table,
 * and a domain observable is looked up with each of its parent domains.
 * Matching never allocates and never blocks. Invalid lines are rejected
 * one by one with file:line and the reason; duplicates are folded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <zstd.h>

#include "cs_corr_int.h"

/* ---- a small open-addressing set of (type, value) for duplicate folding ---- */

static uint64_t cs__hash(int type, const char *s) {
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)type;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int cs__strset_grow(cs_corr_exact_t *set, const cs_corr_ind_t *inds, size_t cnt) {
	size_t nsize = set->size ? set->size * 2 : 1024;
	uint64_t *ns = cs_calloc(nsize, sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < cnt; i++) {
		uint64_t h = cs__hash(inds[i].type, inds[i].value);
		size_t j = h & (nsize - 1);
		while (ns[j])
			j = (j + 1) & (nsize - 1);
		ns[j] = CS__SLOT_TAG(h) | ((uint64_t)i + 1);
	}
	cs_free(set->slots);
	set->slots = ns;
	set->size = nsize;
	return 0;
}

/* Returns the index of an equal indicator, or -1. */
static long cs__strset_find(const cs_corr_exact_t *set, const cs_corr_ind_t *inds, int type,
			    const char *value) {
	uint64_t h = cs__hash(type, value);
	size_t j = h & (set->size - 1);
	for (; set->slots[j]; j = (j + 1) & (set->size - 1)) {
		const cs_corr_ind_t *ind;
		if ((set->slots[j] ^ h) >> 32)
			continue; /* another value's tag */
		ind = &inds[CS__SLOT_IDX(set->slots[j]) - 1];
		if ((int)ind->type == type && !strcmp(ind->value, value))
			return (long)CS__SLOT_IDX(set->slots[j]) - 1;
	}
	return -1;
}

/* The word and the three bits of a tag in the Bloom filter. */
static inline uint64_t cs__bloom_mix(uint64_t h) {
	return ((h >> 32) | 1) * 0x9E3779B97F4A7C15ULL;
}

static inline uint64_t cs__bloom_bits(uint64_t g) {
	return (1ULL << (g & 63)) | (1ULL << ((g >> 6) & 63)) | (1ULL << ((g >> 12) & 63));
}

/* Builds the Bloom filter of an exact index from its slots' tags. */
static int cs__bloom_build(cs_corr_exact_t *set, size_t cnt) {
	size_t words = 64;
	unsigned lg = 6;
	while (words * 64 < cnt * 8)
		words *= 2, lg++;
	if (!(set->bloom = cs_calloc(words, sizeof(*set->bloom))))
		return -1;
	set->bloom_shift = 64 - lg;
	for (size_t j = 0; j < set->size; j++)
		if (set->slots[j]) {
			uint64_t g = cs__bloom_mix(set->slots[j]);
			set->bloom[g >> set->bloom_shift] |= cs__bloom_bits(g);
		}
	return 0;
}

static void cs__strset_add(cs_corr_exact_t *set, const cs_corr_ind_t *inds, size_t idx) {
	uint64_t h = cs__hash(inds[idx].type, inds[idx].value);
	size_t j = h & (set->size - 1);
	while (set->slots[j])
		j = (j + 1) & (set->size - 1);
	set->slots[j] = CS__SLOT_TAG(h) | ((uint64_t)idx + 1);
}

/* ---- Hyperscan: pattern indicators ---- */

#define CS__PAT_FLAGS (HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL)

/* Ordinary text no indicator pattern should match most of: URLs, user agents, paths, names. */
static const char *const cs__probes[] = {
	"http://www.example.org/index.html",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
	"www.google.com",
	"192.168.1.10",
	"GET /favicon.ico HTTP/1.1",
	"C:\\Windows\\System32\\svchost.exe -k netsvcs",
	"smtp.mail.example.net",
	"/usr/bin/python3 -m pip install requests",
	"q7Zk2Lm9Xw4Rt8Yp",
	"d41d8cd98f00b204e9800998ecf8427e",
};

#define CS__PAT_MIN_WIDTH 4 /* a pattern that matches fewer bytes matches too much text */

static int cs__probe_hit(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
			 void *ctx) {
	(*(int *)ctx)++;
	return 1; /* one match tells */
}

/*
 * Checks one pattern with Hyperscan: it must compile, never match the empty
 * string or fewer than CS__PAT_MIN_WIDTH bytes, and match at most 2 of the
 * ordinary strings above ("re:.", "re:[\\s\\S]", "lit:/", "re:[a-z]{4}" do
 * not pass, as prefixes shorter than /8 do not). Returns NULL if it is fine,
 * else why not (in buf).
 */
static const char *cs__pattern_check(const char *re, char *buf, size_t size) {
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *db = NULL;
	hs_scratch_t *scr = NULL;
	int hits = 0;
	unsigned minw;
	if (hs_expression_info(re, CS__PAT_FLAGS, &info, &cerr) != HS_SUCCESS) {
		snprintf(buf, size, "pattern rejected by Hyperscan: %s", cerr ? cerr->message : "?");
		hs_free_compile_error(cerr);
		return buf;
	}
	minw = info->min_width;
	free(info);
	if (minw == 0)
		return "pattern matches the empty string: too broad";
	if (minw < CS__PAT_MIN_WIDTH) {
		snprintf(buf, size, "pattern matches text of %u byte%s: too broad (at least %d)", minw, minw > 1 ? "s" : "",
			 CS__PAT_MIN_WIDTH);
		return buf;
	}
	if (hs_compile(re, CS__PAT_FLAGS, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		snprintf(buf, size, "pattern rejected by Hyperscan: %s", cerr ? cerr->message : "?");
		hs_free_compile_error(cerr);
		return buf;
	}
	if (hs_alloc_scratch(db, &scr) == HS_SUCCESS)
		for (size_t i = 0; i < CS_ARRAY_SIZE(cs__probes); i++) {
			int hit = 0;
			hs_scan(db, cs__probes[i], (unsigned)strlen(cs__probes[i]), 0, scr, cs__probe_hit, &hit);
			hits += hit != 0;
		}
	hs_free_scratch(scr);
	hs_free_database(db);
	if (hits > 2) {
		snprintf(buf, size, "pattern matches %d of %zu ordinary strings (a URL, a user agent, a host name...): "
			 "too broad", hits, CS_ARRAY_SIZE(cs__probes));
		return buf;
	}
	return NULL;
}

/* ---- patterns Hyperscan accepted before: a memo in the cache directory ---- */

#define CS__OK_MAGIC "CSHSOK02" /* 02: checked for breadth too; 01 memos are not read */
#define CS__OK_MAX (1u << 22) /* entries kept; beyond, the memo starts again */

static uint64_t cs__ok_hash(const char *re) {
	uint64_t h = 0x84222325CBF29CE4ULL ^ (uint64_t)CS__PAT_FLAGS;
	for (const char *p = hs_version(); *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (const unsigned char *p = (const unsigned char *)re; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= h >> 29;
	return h | 1; /* 0: an empty slot */
}

static int cs__ok_has(const cs_corr_builder_t *b, uint64_t h) {
	if (!b->ok_size)
		return 0;
	for (size_t j = h & (b->ok_size - 1); b->ok[j]; j = (j + 1) & (b->ok_size - 1))
		if (b->ok[j] == h)
			return 1;
	return 0;
}

static void cs__ok_put(cs_corr_builder_t *b, uint64_t h) {
	size_t j;
	if (b->ok_cnt >= CS__OK_MAX || cs__ok_has(b, h))
		return;
	if ((b->ok_cnt + 1) * 2 > b->ok_size) {
		size_t nsize = b->ok_size ? b->ok_size * 2 : 4096;
		uint64_t *n = cs_calloc(nsize, sizeof(*n));
		if (!n)
			return; /* a memo, not a need */
		for (size_t i = 0; i < b->ok_size; i++)
			if (b->ok[i]) {
				for (j = b->ok[i] & (nsize - 1); n[j]; j = (j + 1) & (nsize - 1))
					;
				n[j] = b->ok[i];
			}
		cs_free(b->ok);
		b->ok = n;
		b->ok_size = nsize;
	}
	for (j = h & (b->ok_size - 1); b->ok[j]; j = (j + 1) & (b->ok_size - 1))
		;
	b->ok[j] = h;
	b->ok_cnt++;
}

static void cs__ok_load(cs_corr_builder_t *b) {
	char path[4096], magic[8];
	uint64_t h;
	FILE *fp;
	b->ok_loaded = 1;
	snprintf(path, sizeof(path), "%s/hs-checked.bin", b->cache_dir);
	if (!(fp = fopen(path, "rb")))
		return;
	if (fread(magic, 1, 8, fp) == 8 && !memcmp(magic, CS__OK_MAGIC, 8))
		while (fread(&h, sizeof(h), 1, fp) == 1 && b->ok_cnt < CS__OK_MAX)
			if (h & 1)
				cs__ok_put(b, h);
	fclose(fp);
}

/* Writes the memo back (atomically: a temporary file renamed) when it learnt patterns. */
static void cs__ok_save(cs_corr_builder_t *b) {
	char path[4096], tmp[4200];
	FILE *fp;
	int ok = 1;
	if (!b->ok_dirty || !b->cache_dir)
		return;
	snprintf(path, sizeof(path), "%s/hs-checked.bin", b->cache_dir);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (!(fp = fopen(tmp, "wb")))
		return;
	ok = fwrite(CS__OK_MAGIC, 1, 8, fp) == 8;
	for (size_t i = 0; ok && i < b->ok_size; i++)
		if (b->ok[i])
			ok = fwrite(&b->ok[i], sizeof(b->ok[i]), 1, fp) == 1;
	if (fclose(fp) || !ok || rename(tmp, path))
		unlink(tmp);
}

static void cs__ok_free(cs_corr_builder_t *b) {
	cs_free(b->ok);
	b->ok = NULL;
	b->ok_size = b->ok_cnt = 0;
}

/*
 * A pattern written with its flags: "re:REGEX", "re/FLAGS:REGEX", "lit:TEXT" or
 * "lit/FLAGS:TEXT" (FLAGS of i: any case, m: multi-line anchors, x: extended
 * syntax, for re: only) becomes the Hyperscan expression it means, flags
 * written inline ("(?i)..."), a literal escaped byte by byte. Anything else is
 * a regex as it is. Returns NULL, or why the spec is refused.
 */
static const char *cs__pattern_spec(char *buf, size_t *len, size_t size) {
	char flags[8] = "", tmp[CS_NORM_CAP];
	size_t pre, nf = 0, n = 0;
	int lit;
	if (!strncmp(buf, "re", 2) && (buf[2] == ':' || buf[2] == '/'))
		lit = 0, pre = 2;
	else if (!strncmp(buf, "lit", 3) && (buf[3] == ':' || buf[3] == '/'))
		lit = 1, pre = 3;
	else
		return NULL;
	if (buf[pre] == '/') {
		for (pre++; buf[pre] && buf[pre] != ':'; pre++) {
			if (!strchr(lit ? "i" : "imx", buf[pre]) || nf >= 3)
				return lit ? "unknown pattern flag (lit/ takes i)" : "unknown pattern flag (re/ takes i, m, x)";
			if (!strchr(flags, buf[pre]))
				flags[nf++] = buf[pre];
		}
		if (buf[pre] != ':')
			return "pattern flags not followed by ':'";
	}
	pre++; /* the ':' */
	if (nf)
		n = (size_t)snprintf(tmp, sizeof(tmp), "(?%s)", flags);
	for (size_t i = pre; i < *len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (n + 5 >= sizeof(tmp))
			return "pattern too long";
		if (!lit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			tmp[n++] = (char)c;
		else
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\x%02x", c);
	}
	if (n >= size)
		return "pattern too long";
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	*len = n;
	return NULL;
}

/* Compiles every pattern indicator (each already checked) into one block-mode database. */
/* ---- the compiled-database cache ---- */

/* The cache file of this pattern set: a 128-bit hash of what the compiled database depends on. */
static void cs__cache_path(const char *dir, const char *const *exprs, const unsigned *flags, const unsigned *ids,
			   unsigned n, char *path, size_t size) {
	uint64_t h1 = 1469598103934665603ULL, h2 = 0x9E3779B97F4A7C15ULL;
	char plat[64];
	hs_platform_info_t pi;
#define CS__MIX(byte)                                                  \
	do {                                                           \
		h1 = (h1 ^ (uint8_t)(byte)) * 1099511628211ULL;        \
		h2 = (h2 ^ (uint8_t)(byte)) * 0x100000001B3ULL + 0x5bd1e995; \
	} while (0)
	memset(&pi, 0, sizeof(pi));
	hs_populate_platform(&pi);
	snprintf(plat, sizeof(plat), "%llx/%u/%llx/%llx", (unsigned long long)pi.cpu_features, pi.tune,
		 (unsigned long long)pi.reserved1, (unsigned long long)pi.reserved2);
	for (const char *p = hs_version(); *p; p++)
		CS__MIX(*p);
	for (const char *p = plat; *p; p++)
		CS__MIX(*p);
	for (unsigned i = 0; i < n; i++) {
		for (int k = 0; k < 4; k++) {
			CS__MIX(flags[i] >> (8 * k));
			CS__MIX(ids[i] >> (8 * k));
		}
		for (const char *p = exprs[i]; *p; p++)
			CS__MIX(*p);
		CS__MIX(0);
	}
#undef CS__MIX
	snprintf(path, size, "%s/hs-%016llx%016llx-%u.zst", dir, (unsigned long long)h1, (unsigned long long)h2, n);
}

/* The database from the cache: 0, or -1 when absent or unusable (then compiled and rewritten). */
static int cs__cache_get(cs_corr_db_t *db, const char *dir, const char *const *exprs, const unsigned *flags,
			 const unsigned *ids, unsigned n) {
	char path[1024];
	FILE *fp;
	long len;
	void *z = NULL, *raw = NULL;
	unsigned long long rlen;
	int rc = -1;
	int64_t t0 = cs_clock_ms();

	cs__cache_path(dir, exprs, flags, ids, n, path, sizeof(path));
	if (!(fp = fopen(path, "rb")))
		return -1;
	if (fseek(fp, 0, SEEK_END) || (len = ftell(fp)) <= 0 || len > (1L << 30) || fseek(fp, 0, SEEK_SET) ||
	    !(z = cs_malloc((size_t)len)) || fread(z, 1, (size_t)len, fp) != (size_t)len)
		goto out;
	rlen = ZSTD_getFrameContentSize(z, (size_t)len);
	if (rlen == ZSTD_CONTENTSIZE_ERROR || rlen == ZSTD_CONTENTSIZE_UNKNOWN || rlen > (1ULL << 31) ||
	    !(raw = cs_malloc((size_t)rlen)) || ZSTD_decompress(raw, (size_t)rlen, z, (size_t)len) != rlen)
		goto out;
	if (hs_deserialize_database(raw, (size_t)rlen, &db->patterns) != HS_SUCCESS) {
		db->patterns = NULL;
		goto out;
	}
	snprintf(db->patterns_note, sizeof(db->patterns_note), "%u patterns from the cache %s in %.2f s", n, path,
		 (double)(cs_clock_ms() - t0) / 1000.0);
	rc = 0;
out:
	fclose(fp);
	cs_free(z);
	cs_free(raw);
	return rc;
}

/* Writes the compiled database to the cache (atomically); failures only show in the note. */
static void cs__cache_put(cs_corr_db_t *db, const char *dir, const char *const *exprs, const unsigned *flags,
			  const unsigned *ids, unsigned n) {
	char path[1024], tmp[1100], *raw = NULL;
	size_t rlen = 0, zcap, zlen;
	void *z = NULL;
	FILE *fp = NULL;
	const char *why = NULL;

	cs__cache_path(dir, exprs, flags, ids, n, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (hs_serialize_database(db->patterns, &raw, &rlen) != HS_SUCCESS) {
		why = "serialize failed";
		goto out;
	}
	zcap = ZSTD_compressBound(rlen);
	if (!(z = cs_malloc(zcap)) || ZSTD_isError(zlen = ZSTD_compress(z, zcap, raw, rlen, 3))) {
		why = "compress failed";
		goto out;
	}
	if (!(fp = fopen(tmp, "wb")) || fwrite(z, 1, zlen, fp) != zlen || fclose(fp) || rename(tmp, path)) {
		why = strerror(errno);
		if (fp == NULL || errno)
			unlink(tmp);
		fp = NULL;
		goto out;
	}
	fp = NULL;
	snprintf(db->patterns_note + strlen(db->patterns_note), sizeof(db->patterns_note) - strlen(db->patterns_note),
		 ", cached in %s (%zu bytes)", path, zlen);
out:
	if (why)
		snprintf(db->patterns_note + strlen(db->patterns_note),
			 sizeof(db->patterns_note) - strlen(db->patterns_note), ", not cached in %s: %s", dir, why);
	free(raw); /* hs_serialize_database allocates with malloc */
	cs_free(z);
}

const char *cs_corr_db_patterns_note(const cs_corr_db_t *db) {
	return db->patterns_note[0] ? db->patterns_note : "no patterns";
}

static cs_err_t cs__compile_patterns(cs_corr_db_t *db, const char *cache_dir, char *errstr, size_t errstr_size) {
	const char **exprs = NULL;
	unsigned *ids = NULL, *flags = NULL, n = 0;
	hs_compile_error_t *cerr = NULL;
	cs_err_t err = CS_ERR_OK;
	int64_t t0;

	for (size_t i = 0; i < db->cnt; i++)
		n += db->inds[i].pattern;
	if (n == 0)
		return CS_ERR_OK;
	exprs = cs_calloc(n, sizeof(*exprs));
	ids = cs_calloc(n, sizeof(*ids));
	flags = cs_calloc(n, sizeof(*flags));
	if (!exprs || !ids || !flags) {
		err = CS_ERR_NOMEM;
		cs_errstr_set(errstr, errstr_size, "out of memory compiling %u patterns", n);
		goto done;
	}
	n = 0;
	for (size_t i = 0; i < db->cnt; i++) {
		if (!db->inds[i].pattern)
			continue;
		exprs[n] = db->inds[i].value;
		ids[n] = db->inds[i].id;
		flags[n] = CS__PAT_FLAGS;
		n++;
	}
	if (cache_dir && !cs__cache_get(db, cache_dir, exprs, flags, ids, n)) {
		db->pattern_cnt = n;
		goto done;
	}
	t0 = cs_clock_ms();
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db->patterns, &cerr) != HS_SUCCESS) {
		cs_errstr_set(errstr, errstr_size, "Hyperscan rejected the pattern set (%s): %s",
			      cerr && cerr->expression >= 0 ? db->inds[ids[cerr->expression]].origin : "all",
			      cerr ? cerr->message : "?");
		hs_free_compile_error(cerr);
		err = CS_ERR_HS;
		goto done;
	}
	db->pattern_cnt = n;
	snprintf(db->patterns_note, sizeof(db->patterns_note), "compiled %u patterns in %.2f s", n,
		 (double)(cs_clock_ms() - t0) / 1000.0);
	if (cache_dir)
		cs__cache_put(db, cache_dir, exprs, flags, ids, n);
done:
	cs_free(exprs);
	cs_free(ids);
	cs_free(flags);
	return err;
}

/* ---- loading ---- */

/* Why a line of a plain list is not an indicator. */
static const char *cs__list_reason(const char *s) {
	const char *colon = strrchr(s, ':');
	if (strchr(s, '/') && strspn(s, "0123456789abcdefABCDEF.:/") == strlen(s))
		return "not a valid CIDR prefix";
	if (strstr(s, "://"))
		return "not a valid absolute URL";
	if (strchr(s, '/'))
		return "URL without a scheme (host/path): not supported in plain lists yet";
	if (colon && strchr(s, '.') && !strchr(s, ']') && colon == strchr(s, ':'))
		return "host:port: not supported in plain lists yet";
	if (!strchr(s, '.') && !strchr(s, ':'))
		return "a bare name or top-level domain is too broad";
	return "not a valid IP address, domain or URL";
}

/* ---- CIDR prefixes ---- */

static uint64_t cs__cidr_hash(int v6, int len, const uint8_t *net) {
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(v6 * 256 + len);
	for (int i = 0; i < (v6 ? 16 : 4); i++)
		h = (h ^ net[i]) * 1099511628211ULL;
	return h;
}

void cs__corr_mask(uint8_t *a, int bytes, int len) {
	for (int i = 0; i < bytes; i++) {
		int bits = len - i * 8;
		a[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

static long cs__cidr_find(const cs_corr_cidrs_t *c, int v6, int len, const uint8_t *net) {
	if (!c->size)
		return -1;
	for (size_t j = cs__cidr_hash(v6, len, net) & (c->size - 1); c->slots[j]; j = (j + 1) & (c->size - 1)) {
		const cs_corr_cidr_t *e = &c->v[c->slots[j] - 1];
		if (e->v6 == v6 && e->len == len && !memcmp(e->net, net, v6 ? 16 : 4))
			return (long)e->ind;
	}
	return -1;
}

static int cs__cidr_insert(cs_corr_cidrs_t *c, size_t idx) {
	const cs_corr_cidr_t *e = &c->v[idx];
	size_t j = cs__cidr_hash(e->v6, e->len, e->net) & (c->size - 1);
	while (c->slots[j])
		j = (j + 1) & (c->size - 1);
	c->slots[j] = (uint32_t)idx + 1;
	return 0;
}

/* Parses "a.b.c.d/n" or "x::/n"; masks host bits; writes the canonical text. 0 or -1 (*why). */
static int cs__cidr_parse(char *buf, size_t *lenp, size_t cap, int *v6, int *plen, uint8_t *net, const char **why) {
	char *slash = strchr(buf, '/'), *end;
	long n;
	char txt[64];
	if (!slash || (size_t)(slash - buf) >= sizeof(txt))
		return -1;
	memcpy(txt, buf, (size_t)(slash - buf));
	txt[slash - buf] = '\0';
	n = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1)
		return -1;
	if (inet_pton(AF_INET, txt, net) == 1)
		*v6 = 0;
	else if (inet_pton(AF_INET6, txt, net) == 1)
		*v6 = 1;
	else
		return -1;
	if (n < 0 || n > (*v6 ? 128 : 32))
		return -1;
	if (*v6 && n >= 96) {
		/* an IPv4-mapped prefix (::ffff:10.0.0.0/104): events carry such addresses as IPv4
		 * (cs_norm_host), so the prefix becomes the IPv4 one it means, and is judged as one */
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!memcmp(net, mapped, 12)) {
			memmove(net, net + 12, 4);
			*v6 = 0;
			n -= 96;
		}
	}
	if (n < (*v6 ? 16 : 8)) {
		*why = "prefix shorter than /8 (IPv4) or /16 (IPv6): too broad";
		return -1;
	}
	*plen = (int)n;
	cs__corr_mask(net, *v6 ? 16 : 4, *plen);
	inet_ntop(*v6 ? AF_INET6 : AF_INET, net, txt, sizeof(txt));
	*lenp = (size_t)snprintf(buf, cap, "%s/%d", txt, *plen);
	return 0;
}

/* ---- the builder every loader feeds ---- */

#define CS__WHY_INVALID "not a valid value of its type"

cs_err_t cs__corr_builder_init(cs_corr_builder_t *b, uint64_t version) {
	memset(b, 0, sizeof(*b));
	if (!(b->db = cs_calloc(1, sizeof(*b->db))))
		return CS_ERR_NOMEM;
	b->db->version = version;
	atomic_store(&b->db->refs, 1); /* the caller's */
	b->default_tlp = CS_TLP_AMBER;
	cs__corr_meta_reset(b);
	return CS_ERR_OK;
}

void cs__corr_meta_reset(cs_corr_builder_t *b) {
	memset(&b->meta, 0, sizeof(b->meta));
	b->meta.tlp = -1;
	b->meta.confidence = -1;
}

static uint64_t cs__str_hash(const char *s) {
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

int cs__strtab_has(const cs_corr_strtab_t *t, const char *s) {
	if (!t->size)
		return 0;
	for (size_t j = cs__str_hash(s) & (t->size - 1); t->slots[j]; j = (j + 1) & (t->size - 1))
		if (!strcmp(t->slots[j], s))
			return 1;
	return 0;
}

const char *cs__strtab_put(cs_corr_strtab_t *t, const char *s) {
	size_t j;
	if ((t->cnt + 1) * 2 > t->size) {
		size_t nsize = t->size ? t->size * 2 : 64;
		char **n = cs_calloc(nsize, sizeof(*n));
		if (!n)
			return NULL;
		for (size_t i = 0; i < t->size; i++) {
			if (!t->slots[i])
				continue;
			for (j = cs__str_hash(t->slots[i]) & (nsize - 1); n[j]; j = (j + 1) & (nsize - 1))
				;
			n[j] = t->slots[i];
		}
		cs_free(t->slots);
		t->slots = n;
		t->size = nsize;
	}
	for (j = cs__str_hash(s) & (t->size - 1); t->slots[j]; j = (j + 1) & (t->size - 1))
		if (!strcmp(t->slots[j], s))
			return t->slots[j];
	if (!(t->slots[j] = cs_strdup(s)))
		return NULL;
	t->cnt++;
	return t->slots[j];
}

void cs__strtab_free(cs_corr_strtab_t *t) {
	for (size_t i = 0; i < t->size; i++)
		cs_free(t->slots[i]);
	cs_free(t->slots);
	memset(t, 0, sizeof(*t));
}

/*
 * One copy of each source and tag string in the set (a million indicators of
 * one feed share its name), freed with the set.
 */
static const char *cs__intern(cs_corr_db_t *db, const char *s) {
	return *s ? cs__strtab_put(&db->strs, s) : "";
}

/* Applies the builder's current metadata to a new indicator. 0 or -1 (out of memory). */
static int cs__meta_apply(cs_corr_builder_t *b, cs_corr_ind_t *ind) {
	const cs_corr_meta_t *m = &b->meta;
	const char *src = m->source && *m->source ? m->source : b->file_source ? b->file_source : "";
	if (!(ind->source = cs__intern(b->db, src)) || !(ind->tags = cs__intern(b->db, m->tags ? m->tags : "")))
		return -1;
	ind->tlp = m->tlp >= 0 ? (cs_tlp_t)m->tlp : b->default_tlp;
	ind->confidence = m->confidence;
	ind->revoked = m->revoked;
	ind->valid_from_ms = m->valid_from_ms;
	ind->valid_until_ms = m->valid_until_ms;
	ind->scope = m->scope;
	return 0;
}

/*
 * The same value shared again (another feed, another line): one indicator,
 * the widest reading of both. It may be shared as openly as the more open of
 * the two markings (somebody already shared it that way), it is valid as long
 * as either says, anywhere either says, with the higher confidence.
 */
static void cs__meta_merge(cs_corr_builder_t *b, cs_corr_ind_t *ind) {
	const cs_corr_meta_t *m = &b->meta;
	cs_tlp_t tlp = m->tlp >= 0 ? (cs_tlp_t)m->tlp : b->default_tlp;
	if (m->revoked != ind->revoked) { /* a change feed: the later of add and revoke stands */
		ind->revoked = m->revoked;
		if (!m->revoked) {
			ind->tlp = tlp;
			ind->confidence = m->confidence;
			ind->valid_from_ms = m->valid_from_ms;
			ind->valid_until_ms = m->valid_until_ms;
			ind->scope = m->scope;
		}
		return;
	}
	if (tlp < ind->tlp)
		ind->tlp = tlp;
	if (m->confidence > ind->confidence)
		ind->confidence = m->confidence;
	if (ind->valid_from_ms && (!m->valid_from_ms || m->valid_from_ms < ind->valid_from_ms))
		ind->valid_from_ms = m->valid_from_ms;
	if (ind->valid_until_ms && (!m->valid_until_ms || m->valid_until_ms > ind->valid_until_ms))
		ind->valid_until_ms = m->valid_until_ms;
	if (ind->scope && m->scope)
		ind->scope |= m->scope;
	else
		ind->scope = 0;
}

cs_err_t cs__corr_reject(cs_corr_builder_t *b, const char *origin, const char *reason, const char *value,
			 size_t len) {
	char buf[700];
	if (cs_array_reserve(&b->db->rejects, &b->rcap, b->db->reject_cnt + 1, sizeof(*b->db->rejects)))
		return CS_ERR_NOMEM;
	snprintf(buf, sizeof(buf), "%s: %s: \"%.*s\"", origin, reason, (int)(len > 200 ? 200 : len), value);
	if (!(b->db->rejects[b->db->reject_cnt] = cs_strdup(buf)))
		return CS_ERR_NOMEM;
	b->db->reject_cnt++;
	return CS_ERR_OK;
}

/* Appends a zeroed indicator with its value and origin; NULL on out of memory. */
static cs_corr_ind_t *cs__ind_new(cs_corr_builder_t *b, cs_obs_type_t type, const char *value, size_t len,
				  const char *origin) {
	cs_corr_db_t *db = b->db;
	cs_corr_ind_t *ind;
	char *v, *o;

	if (cs_array_reserve(&db->inds, &b->cap, db->cnt + 1, sizeof(*db->inds)) || !(v = cs_strndup(value, len)))
		return NULL;
	if (!(o = cs_strdup(origin))) {
		cs_free(v);
		return NULL;
	}
	ind = &db->inds[db->cnt];
	memset(ind, 0, sizeof(*ind));
	ind->id = (uint32_t)db->cnt++;
	ind->type = type;
	ind->value = v;
	ind->origin = o;
	ind->warninglist = -1;
	if (cs__meta_apply(b, ind)) {
		db->cnt--;
		cs_free(v);
		cs_free(o);
		return NULL;
	}
	return ind;
}

cs_err_t cs__corr_add(cs_corr_builder_t *b, int kind, const char *value, size_t len, const char *origin,
		      const char **why) {
	static _Thread_local char nbuf[CS_NORM_CAP];
	cs_corr_db_t *db = b->db;
	int type = -1, url_prefix = 0;
	char whybuf[300];

	*why = NULL;
	if (len > CS_NORM_MAX_IN) {
		*why = "longer than 4096 bytes";
		return CS_ERR_OK;
	}
	memcpy(nbuf, value, len);
	nbuf[len] = '\0';
	if ((kind == CS_CORR_K_AUTO || kind == CS_CORR_K_IP || kind == CS_CORR_K_CIDR || kind == CS_CORR_K_HOST) &&
	    memchr(nbuf, '/', len) && !strstr(nbuf, "://")) {
		int v6, plen;
		uint8_t net[16] = {0};
		*why = NULL;
		if (cs__cidr_parse(nbuf, &len, sizeof(nbuf), &v6, &plen, net, why)) {
			if (!*why && kind == CS_CORR_K_AUTO)
				goto not_cidr; /* host/path and friends: the list decides */
			if (!*why)
				*why = "not a valid CIDR prefix";
			return CS_ERR_OK;
		}
		if (plen == (v6 ? 128 : 32)) { /* a single address: exact */
			nbuf[strcspn(nbuf, "/")] = '\0';
			len = strlen(nbuf);
			kind = CS_CORR_K_IP;
		} else {
			cs_corr_cidrs_t *c = &db->cidrs;
			cs_corr_ind_t *ind;
			long dup;
			if ((dup = cs__cidr_find(c, v6, plen, net)) >= 0) {
				b->dup_cnt++;
				cs__meta_merge(b, &db->inds[dup]);
				return CS_ERR_OK;
			}
			if (cs_array_reserve(&c->v, &c->cap, c->cnt + 1, sizeof(*c->v)))
				return CS_ERR_NOMEM;
			if ((c->cnt + 1) * 2 > c->size) {
				size_t nsize = c->size ? c->size * 2 : 64;
				uint32_t *ns = cs_calloc(nsize, sizeof(*ns));
				if (!ns)
					return CS_ERR_NOMEM;
				cs_free(c->slots);
				c->slots = ns;
				c->size = nsize;
				for (size_t i = 0; i < c->cnt; i++)
					cs__cidr_insert(c, i);
			}
			if (!(ind = cs__ind_new(b, v6 ? CS_OBS_IPV6 : CS_OBS_IPV4, nbuf, len, origin)))
				return CS_ERR_NOMEM;
			ind->cidr = plen;
			c->v[c->cnt] = (cs_corr_cidr_t){(uint8_t)v6, (uint8_t)plen, {0}, ind->id};
			memcpy(c->v[c->cnt].net, net, 16);
			cs__cidr_insert(c, c->cnt);
			c->cnt++;
			{ /* remember the length, longest first */
				uint8_t *lens = v6 ? c->lens6 : c->lens4;
				int *lc = v6 ? &c->lens6_cnt : &c->lens4_cnt, k;
				for (k = 0; k < *lc && lens[k] != plen; k++)
					;
				if (k == *lc) {
					lens[(*lc)++] = (uint8_t)plen;
					for (int a = *lc - 1; a > 0 && lens[a] > lens[a - 1]; a--) {
						uint8_t t = lens[a];
						lens[a] = lens[a - 1];
						lens[a - 1] = t;
					}
				}
			}
			return CS_ERR_OK;
		}
	}
not_cidr:
	/* "http://host/path/" plus a star: a URL prefix, matched at the path boundaries ('/', '?', the end) */
	if ((kind == CS_CORR_K_URL || (kind == CS_CORR_K_AUTO && strstr(nbuf, "://"))) && len > 1 && nbuf[len - 1] == '*') {
		nbuf[--len] = '\0';
		url_prefix = 1;
		kind = CS_CORR_K_URL;
	}
	switch (kind) {
	case CS_CORR_K_PATTERN:
		if ((*why = cs__pattern_spec(nbuf, &len, sizeof(nbuf))))
			return CS_ERR_OK;
		/* fall through */
	case CS_CORR_K_REGEX:
		if (b->cache_dir && !b->ok_loaded)
			cs__ok_load(b);
		if (b->cache_dir && cs__ok_has(b, cs__ok_hash(nbuf)))
			; /* accepted before by this Hyperscan version */
		else if ((*why = cs__pattern_check(nbuf, whybuf, sizeof(whybuf)))) {
			/* whybuf is ours: copy the reason where the caller can read it */
			static _Thread_local char reason[300];
			snprintf(reason, sizeof(reason), "%s", *why);
			*why = reason;
			return CS_ERR_OK;
		} else if (b->cache_dir) {
			cs__ok_put(b, cs__ok_hash(nbuf));
			b->ok_dirty = 1;
		}
		type = CS_OBS_TEXT;
		break;
	case CS_CORR_K_IP:
	case CS_CORR_K_CIDR:
		type = cs_norm_host(nbuf, &len, sizeof(nbuf));
		if (type != CS_OBS_IPV4 && type != CS_OBS_IPV6)
			type = -1;
		break;
	case CS_CORR_K_HOST:
		type = cs_norm_host(nbuf, &len, sizeof(nbuf));
		break;
	case CS_CORR_K_URL:
		if (!strstr(nbuf, "://") && len + 7 < sizeof(nbuf)) { /* feeds often write URLs without a scheme */
			memmove(nbuf + 7, nbuf, len + 1);
			memcpy(nbuf, "http://", 7);
			len += 7;
		}
		type = cs_norm_url(nbuf, &len, sizeof(nbuf)) == 0 ? CS_OBS_URL : -1;
		break;
	case CS_CORR_K_HASH:
		type = cs_norm_hash(nbuf, len);
		break;
	case CS_CORR_K_EMAIL:
		type = cs_norm_email(nbuf, &len, sizeof(nbuf)) == 0 ? CS_OBS_EMAIL : -1;
		break;
	default: /* CS_CORR_K_AUTO */
		if (strstr(nbuf, "://"))
			type = cs_norm_url(nbuf, &len, sizeof(nbuf)) == 0 ? CS_OBS_URL : -1;
		else if ((len == 32 || len == 40 || len == 64) && (type = cs_norm_hash(nbuf, len)) >= 0)
			; /* an md5, sha1 or sha256 digest */
		else if (memchr(nbuf, '@', len))
			type = cs_norm_email(nbuf, &len, sizeof(nbuf)) == 0 ? CS_OBS_EMAIL : -1;
		else
			type = cs_norm_host(nbuf, &len, sizeof(nbuf));
	}
	if (type < 0) {
		*why = CS__WHY_INVALID;
		return CS_ERR_OK;
	}
	if (url_prefix) { /* kept with its '*': never equal to a URL seen in an event */
		if (len + 2 > sizeof(nbuf)) {
			*why = "longer than 4096 bytes";
			return CS_ERR_OK;
		}
		nbuf[len++] = '*';
		nbuf[len] = '\0';
		db->url_prefixes++;
	}
	if (db->cnt * 2 >= b->set.size && cs__strset_grow(&b->set, db->inds, db->cnt))
		return CS_ERR_NOMEM;
	{
		long dup = cs__strset_find(&b->set, db->inds, type, nbuf);
		if (dup >= 0) {
			b->dup_cnt++;
			cs__meta_merge(b, &db->inds[dup]);
			return CS_ERR_OK; /* duplicate: folded into the first */
		}
	}
	{
		cs_corr_ind_t *ind = cs__ind_new(b, (cs_obs_type_t)type, nbuf, len, origin);
		if (!ind)
			return CS_ERR_NOMEM;
		ind->pattern = kind == CS_CORR_K_PATTERN || kind == CS_CORR_K_REGEX;
		cs__strset_add(&b->set, db->inds, ind->id);
	}
	return CS_ERR_OK;
}

cs_corr_db_t *cs__corr_builder_finish(cs_corr_builder_t *b, const char *what, char *errstr, size_t errstr_size) {
	cs_corr_db_t *db = b->db;

	b->db = NULL;
	if (db->cnt == 0) {
		cs_errstr_set(errstr, errstr_size, "%s: no valid indicator (%zu rejected%s%s)", what, db->reject_cnt,
			      db->reject_cnt ? ", first: " : "", db->reject_cnt ? db->rejects[0] : "");
		goto err;
	}
	if (cs__compile_patterns(db, b->cache_dir, errstr, errstr_size))
		goto err;
	db->exact.slots = b->set.slots; /* the duplicate-folding set is the exact index */
	db->exact.size = b->set.size;
	b->set.slots = NULL;
	if (cs__bloom_build(&db->exact, db->cnt)) {
		cs_errstr_set(errstr, errstr_size, "%s: out of memory", what);
		goto err;
	}
	cs__ok_save(b);
	cs__ok_free(b);
	return db;
err:
	cs_corr_db_destroy(db);
	cs__corr_builder_abort(b);
	return NULL;
}

void cs__corr_builder_abort(cs_corr_builder_t *b) {
	cs__ok_free(b);
	cs_free(b->set.slots);
	b->set.slots = NULL;
	cs_corr_db_destroy(b->db);
	b->db = NULL;
}

/* ---- plain lists ---- */

cs_err_t cs__corr_load_list(cs_corr_builder_t *b, const char *path, FILE *fp, char *errstr, size_t errstr_size) {
	size_t linecap = 0;
	char *line = NULL;
	ssize_t n;
	long lineno = 0;
	cs_err_t err = CS_ERR_OK;

	while ((n = getline(&line, &linecap, fp)) != -1) {
		char *s = line, origin[320];
		const char *why;
		size_t len;

		lineno++;
		if (memchr(line, '\0', (size_t)n)) { /* never cut at it: "safe.example\0evil" is not safe.example */
			snprintf(origin, sizeof(origin), "%.255s:%ld", path, lineno);
			if ((err = cs__corr_reject(b, origin, "a NUL byte in the line", line, strlen(line))))
				break;
			continue;
		}
		for (char *c = s; *c; c++) /* inline comment: white space then '#' */
			if (*c == '#' && c > s && isspace((unsigned char)c[-1])) {
				*c = '\0';
				n = c - s;
				break;
			}
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		len = strlen(s);
		snprintf(origin, sizeof(origin), "%.255s:%ld", path, lineno);
		if (!strncmp(s, "re:", 3) || !strncmp(s, "re/", 3) || !strncmp(s, "lit:", 4) || !strncmp(s, "lit/", 4))
			err = cs__corr_add(b, CS_CORR_K_PATTERN, s, len, origin, &why); /* the spec, flags and all */
		else
			err = cs__corr_add(b, CS_CORR_K_AUTO, s, len, origin, &why);
		if (!err && why)
			err = cs__corr_reject(b, origin, strcmp(why, CS__WHY_INVALID) ? why : cs__list_reason(s), s, len);
		if (err)
			break;
	}
	if (!err && ferror(fp)) {
		cs_errstr_set(errstr, errstr_size, "%s: read error: %s", path, strerror(errno));
		err = CS_ERR_IO;
	} else if (err) {
		cs_errstr_set(errstr, errstr_size, "%s: out of memory at line %ld", path, lineno);
	}
	cs_free(line);
	return err;
}

cs_corr_db_t *cs_corr_db_load_list(const char *path, uint64_t version, char *errstr,
				   size_t errstr_size) {
	return cs_corr_db_load(&path, 1, version, errstr, errstr_size);
}

void cs_corr_db_destroy(cs_corr_db_t *db) {
	if (db && atomic_fetch_sub(&db->refs, 1) == 1)
		cs__corr_db_free(db);
}

cs_corr_db_t *cs_corr_db_ref(const cs_corr_db_t *db) {
	atomic_fetch_add(&((cs_corr_db_t *)db)->refs, 1);
	return (cs_corr_db_t *)db;
}

void cs__corr_db_free(cs_corr_db_t *db) {
	if (!db)
		return;
	for (size_t i = 0; i < db->cnt; i++) {
		cs_free((char *)db->inds[i].value);
		cs_free((char *)db->inds[i].origin);
	}
	cs_free(db->inds);
	cs__strtab_free(&db->strs);
	cs__strtab_free(&db->masked);
	cs_corr_db_destroy(db->base); /* the reference the layer held */
	for (size_t i = 0; i < db->reject_cnt; i++)
		cs_free(db->rejects[i]);
	cs_free(db->rejects);
	hs_free_database(db->patterns);
	cs_free(db->exact.slots);
	cs_free(db->exact.bloom);
	cs_free(db->cidrs.v);
	cs_free(db->cidrs.slots);
	for (size_t i = 0; i < db->warn_cnt; i++)
		cs_free(db->warn_names[i]);
	cs_free(db->warn_names);
	cs_free(db);
}

size_t cs_corr_db_count(const cs_corr_db_t *db) {
	return db->id_base + db->cnt;
}

uint64_t cs_corr_db_version(const cs_corr_db_t *db) {
	return db->version;
}

const cs_corr_ind_t *cs_corr_db_indicator(const cs_corr_db_t *db, uint32_t id) {
	if (db->base && id < db->id_base)
		return cs_corr_db_indicator(db->base, id);
	id -= db->id_base;
	return id < db->cnt ? &db->inds[id] : NULL;
}

size_t cs_corr_db_warninglist_count(const cs_corr_db_t *db) {
	return db->warn_cnt;
}

const char *cs_corr_db_warninglist(const cs_corr_db_t *db, size_t i) {
	return i < db->warn_cnt ? db->warn_names[i] : NULL;
}

size_t cs_corr_db_warned_count(const cs_corr_db_t *db) {
	return db->warned;
}

size_t cs_corr_db_reject_count(const cs_corr_db_t *db) {
	return db->reject_cnt;
}

const char *cs_corr_db_reject(const cs_corr_db_t *db, size_t i) {
	return i < db->reject_cnt ? db->rejects[i] : NULL;
}

cs_corr_scratch_t *cs_corr_scratch_new(const cs_corr_db_t *db, char *errstr, size_t errstr_size) {
	cs_corr_scratch_t *scr = cs_calloc(1, sizeof(*scr));
	hs_error_t herr;

	if (!scr) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	for (const cs_corr_db_t *d = db; d; d = d->base) /* a layered set scans its base's patterns too */
		if (d->patterns && (herr = hs_alloc_scratch(d->patterns, &scr->scratch)) != HS_SUCCESS) {
			cs_errstr_set(errstr, errstr_size, "hs_alloc_scratch failed: error %d", herr);
			cs_corr_scratch_destroy(scr);
			return NULL;
		}
	return scr;
}

void cs_corr_scratch_destroy(cs_corr_scratch_t *scr) {
	if (!scr)
		return;
	hs_free_scratch(scr->scratch);
	cs_free(scr);
}

void cs_corr_scratch_at(cs_corr_scratch_t *scr, int64_t ts_ms) {
	scr->at_ms = ts_ms;
}

void cs_corr_scratch_all_prefixes(cs_corr_scratch_t *scr, int all) {
	scr->all_prefixes = all;
}

/* Whether ind may match obs: its scope (roles) and its validity at the event's time. */
static inline int cs__applies(const cs_corr_scratch_t *scr, const cs_corr_ind_t *ind, const cs_obs_t *obs) {
	if (ind->scope && !(ind->scope & (1u << obs->role)))
		return 0;
	if (scr && scr->at_ms &&
	    ((ind->valid_from_ms && scr->at_ms < ind->valid_from_ms) ||
	     (ind->valid_until_ms && scr->at_ms >= ind->valid_until_ms)))
		return 0;
	return 1;
}

typedef struct cs__match_ctx_s {
	const cs_corr_db_t *db;
	const cs_corr_scratch_t *scr;
	const cs_obs_t *obs;
	cs_corr_hit_cb_t *cb;
	void *opaque;
} cs__match_ctx_t;

static int cs__on_hs_match(unsigned int id, unsigned long long from, unsigned long long to,
			   unsigned int flags, void *ctx) {
	cs__match_ctx_t *mc = ctx;
	cs_corr_hit_t hit = {&mc->db->inds[id], mc->obs, mc->db->version};
	if (!cs__applies(mc->scr, hit.ind, mc->obs))
		return 0;
	return mc->cb(mc->opaque, &hit);
}

/* The exact indicator of this type and value, or NULL. value[0..len) need not be NUL-terminated. */
static const cs_corr_ind_t *cs__exact(const cs_corr_db_t *db, int type, const char *value, size_t len) {
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)type;
	size_t j;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)value[i]) * 1099511628211ULL;
	{
		uint64_t g = cs__bloom_mix(h), bits = cs__bloom_bits(g);
		if ((db->exact.bloom[g >> db->exact.bloom_shift] & bits) != bits)
			return NULL; /* certainly absent */
	}
	for (j = h & (db->exact.size - 1); db->exact.slots[j]; j = (j + 1) & (db->exact.size - 1)) {
		const cs_corr_ind_t *ind;
		if ((db->exact.slots[j] ^ h) >> 32)
			continue; /* another value's tag: not read */
		ind = &db->inds[CS__SLOT_IDX(db->exact.slots[j]) - 1];
		if ((int)ind->type == type && !ind->pattern && !strncmp(ind->value, value, len) && !ind->value[len])
			return ind;
	}
	return NULL;
}

/* The mask key of an indicator: its kind and normalized value. */
void cs__mask_key(const cs_corr_ind_t *ind, char *buf, size_t size) {
	snprintf(buf, size, "%d\t%s", ind->pattern ? 99 : (int)ind->type, ind->value);
}

static int cs__masked(const cs_corr_db_t *db, const cs_corr_ind_t *ind) {
	char key[CS_NORM_CAP + 16];
	if (!db->masked.cnt)
		return 0;
	cs__mask_key(ind, key, sizeof(key));
	return cs__strtab_has(&db->masked, key);
}

typedef struct cs__layer_ctx_s {
	const cs_corr_db_t *top;
	cs_corr_hit_cb_t *cb;
	void *opaque;
	int stopped;
} cs__layer_ctx_t;

/* A base hit passes unless the layer revokes or redefines its value; it carries the layer's version. */
static int cs__layer_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs__layer_ctx_t *lc = opaque;
	cs_corr_hit_t h = *hit;
	if (cs__masked(lc->top, hit->ind))
		return 0;
	h.db_version = lc->top->version;
	return lc->stopped = lc->cb(lc->opaque, &h);
}

/* Own hits of a layer skip its revocation records. */
typedef struct cs__own_ctx_s {
	cs_corr_hit_cb_t *cb;
	void *opaque;
} cs__own_ctx_t;

static int cs__own_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs__own_ctx_t *oc = opaque;
	return hit->ind->revoked ? 0 : oc->cb(oc->opaque, hit);
}

static cs_err_t cs__match_one(const cs_corr_db_t *db, cs_corr_scratch_t *scr, const cs_obs_t *obs,
			      cs_corr_hit_cb_t *cb, void *opaque);

cs_err_t cs_corr_match(const cs_corr_db_t *db, cs_corr_scratch_t *scr, const cs_obs_t *obs,
		       cs_corr_hit_cb_t *cb, void *opaque) {
	if (db->base) {
		cs__layer_ctx_t lc = {db, cb, opaque, 0};
		cs__own_ctx_t oc = {cb, opaque};
		cs_err_t err = cs_corr_match(db->base, scr, obs, cs__layer_hit, &lc);
		if (err || lc.stopped)
			return err;
		return cs__match_one(db, scr, obs, cs__own_hit, &oc);
	}
	return cs__match_one(db, scr, obs, cb, opaque);
}

static cs_err_t cs__match_one(const cs_corr_db_t *db, cs_corr_scratch_t *scr, const cs_obs_t *obs,
			      cs_corr_hit_cb_t *cb, void *opaque) {
	const cs_corr_ind_t *ind;

	if (obs->len == 0)
		return CS_ERR_OK;
	if (obs->type != CS_OBS_TEXT) {
		if (!db->exact.size) {
			; /* no exact indicator at all */
		} else if (obs->type == CS_OBS_DOMAIN) {
			/* the domain, then each parent: a.b.evil.eu, b.evil.eu, evil.eu (never "eu") */
			const char *p = obs->value, *end = obs->value + obs->len;
			while (p && memchr(p, '.', (size_t)(end - p))) {
				if ((ind = cs__exact(db, CS_OBS_DOMAIN, p, (size_t)(end - p))) && cs__applies(scr, ind, obs)) {
					cs_corr_hit_t hit = {ind, obs, db->version};
					if (cb(opaque, &hit))
						return CS_ERR_OK;
				}
				p = memchr(p, '.', (size_t)(end - p));
				p = p ? p + 1 : NULL;
			}
		} else if ((ind = cs__exact(db, (int)obs->type, obs->value, obs->len)) && cs__applies(scr, ind, obs)) {
			cs_corr_hit_t hit = {ind, obs, db->version};
			if (cb(opaque, &hit) ||
			    ((obs->type == CS_OBS_IPV4 || obs->type == CS_OBS_IPV6) && !(scr && scr->all_prefixes)))
				return CS_ERR_OK; /* an exact address is the longest prefix */
		}
		if (obs->type == CS_OBS_URL && db->url_prefixes && obs->len + 2 < CS_NORM_CAP) {
			/* URL prefixes: the URL up to each '/' of its path, and up to '?', '#' or its end */
			static _Thread_local char cand[CS_NORM_CAP];
			const char *v = obs->value, *host = memmem(v, obs->len, "://", 3);
			size_t i = host ? (size_t)(host - v) + 3 : obs->len;
			while (i < obs->len && v[i] != '/')
				i++;
			for (; i <= obs->len; i++) {
				int end = i == obs->len || v[i] == '?' || v[i] == '#';
				if (i < obs->len && v[i] != '/' && !end)
					continue;
				if (end && v[i - 1] == '/')
					break; /* the path ends with '/': that candidate was just looked up */
				memcpy(cand, v, i + (i < obs->len && v[i] == '/'));
				cand[i + (i < obs->len && v[i] == '/')] = '*';
				if ((ind = cs__exact(db, CS_OBS_URL, cand, i + (i < obs->len && v[i] == '/') + 1)) &&
				    cs__applies(scr, ind, obs)) {
					cs_corr_hit_t hit = {ind, obs, db->version};
					if (cb(opaque, &hit))
						return CS_ERR_OK;
				}
				if (end)
					break;
			}
		}
		if ((obs->type == CS_OBS_IPV4 && db->cidrs.lens4_cnt) || (obs->type == CS_OBS_IPV6 && db->cidrs.lens6_cnt)) {
			/* the longest prefix that contains the address */
			int v6 = obs->type == CS_OBS_IPV6, lc = v6 ? db->cidrs.lens6_cnt : db->cidrs.lens4_cnt;
			const uint8_t *lens = v6 ? db->cidrs.lens6 : db->cidrs.lens4;
			uint8_t addr[16] = {0}, net[16];
			char txt[64];
			if (obs->len < sizeof(txt)) {
				memcpy(txt, obs->value, obs->len);
				txt[obs->len] = '\0';
				if (inet_pton(v6 ? AF_INET6 : AF_INET, txt, addr) == 1)
					for (int k = 0; k < lc; k++) {
						long id;
						memcpy(net, addr, 16);
						cs__corr_mask(net, v6 ? 16 : 4, lens[k]);
						if ((id = cs__cidr_find(&db->cidrs, v6, lens[k], net)) >= 0 &&
						    cs__applies(scr, &db->inds[id], obs)) {
							cs_corr_hit_t hit = {&db->inds[id], obs, db->version};
							if (cb(opaque, &hit) || !(scr && scr->all_prefixes))
								break; /* the longest, unless all were asked for */
						}
					}
			}
		}
	}
	if (db->patterns && (obs->type == CS_OBS_TEXT || obs->type == CS_OBS_URL)) {
		cs__match_ctx_t mc = {db, scr, obs, cb, opaque};
		hs_error_t herr = hs_scan(db->patterns, obs->value, (unsigned)obs->len, 0, scr->scratch,
					  cs__on_hs_match, &mc);
		if (herr != HS_SUCCESS && herr != HS_SCAN_TERMINATED)
			return CS_ERR_HS;
	}
	return CS_ERR_OK;
}
