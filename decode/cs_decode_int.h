/*
 * cs_decode_int.h - internal layout of the decoder. Not for use outside decode/.
 */
#ifndef CS_DECODE_INT_H
#define CS_DECODE_INT_H

#include <zstd.h>
#include <lz4frame.h>
#include <emmintrin.h>

#include "cs_decode.h"
#include "cs_norm.h"

/* What a mapped path yields. */
typedef enum cs_dleaf_kind_e {
	CS_DLEAF_IP,        /* an IP address (a domain there is ignored) */
	CS_DLEAF_HOST,      /* domain or IP */
	CS_DLEAF_URL,       /* absolute URL */
	CS_DLEAF_URL_HOST,  /* host part of a URL split over two fields (EVE http.hostname) */
	CS_DLEAF_URL_PATH,  /* path part (EVE http.url, Zeek uri); absolute URLs taken as is */
	CS_DLEAF_HASH,      /* md5/sha1/sha256 by length */
	CS_DLEAF_EMAIL,
	CS_DLEAF_TEXT,      /* free text for pattern indicators */
	CS_DLEAF_TIME,      /* RFC 3339 string, or epoch seconds / milliseconds */
	CS_DLEAF_ORG,
	CS_DLEAF_SEVERITY,
	CS_DLEAF_CATEGORY,
	CS_DLEAF_MARKER,    /* presence says which format this is (AUTO) */
} cs_dleaf_kind_t;

typedef struct cs_dleaf_s {
	uint8_t kind; /* cs_dleaf_kind_t */
	uint8_t role; /* cs_obs_role_t */
	uint8_t fmt;  /* cs_decode_fmt_t the entry belongs to */
} cs_dleaf_t;

#define CS_DNODE_MAX_LEAVES 4

/* A node of a field-map trie: one key segment. Immutable after the conf is built. */
typedef struct cs_dnode_s {
	char *key; /* klen bytes, then 16 zero bytes */
	uint32_t klen;
	uint32_t id; /* index into a decoder's duplicate-detection stamps */
	struct cs_dnode_s **kids;
	uint32_t nkids;
	/* A perfect hash of the kids' keys: tab[cs__dnode_slot()] is the only kid
	 * that can have the key, or cs__dnode_none; 1 << (32 - shift) entries.
	 * Built by trying seeds until no two kids share a slot; NULL where no
	 * seed could (kids searched one by one). */
	const struct cs_dnode_s **tab;
	uint32_t seed, shift;
	uint32_t nleaves;
	cs_dleaf_t leaves[CS_DNODE_MAX_LEAVES];
} cs_dnode_t;

struct cs_decode_conf_s {
	int64_t max_message_bytes;
	int64_t max_decompressed_bytes;
	int64_t max_depth;
	int64_t max_string_bytes;
	int64_t max_observables;
	int64_t shape_nodes;
	char *fields[CS_DECODE_FMT__CNT]; /* extra map entries per format, as configured */
	cs_dnode_t *root[CS_DECODE_FMT__CNT]; /* AUTO: the union of all JSON formats */
	uint32_t node_cnt;
	int built;
};

/*
 * The extension keys of the CEF lines seen (cs_decode_cef.c): a trie of key
 * sequences, a node per key, its kids the keys seen after it. A node's
 * pattern: " key" right-aligned in 32 bytes (a first key: "key=" from byte
 * 0), with a bit for each of its bytes; klen 0: not predicted (too long).
 */
#define CS__CEF_NODES 256
typedef struct cs__cef_sk_s {
	__m128i pat[2];
	uint64_t id;    /* a hash of the key and its length */
	const struct cs__cef_key_s *ck; /* the key's mapping, NULL: not mapped */
	uint32_t mask;
	uint8_t klen;
	uint8_t folded; /* 1: lit[] of this node holds its folded value */
	int16_t kid, next;
} cs__cef_sk_t;

/*
 * A node's folded value (cs_decode_cef.c): an unmapped value that stayed the
 * same, with the space and the next key after it, "value key=" (32 bytes at
 * most, no '=' or '\\' before the last byte), compared as bytes where the
 * value begins; or the line's last value, right-aligned (next -1).
 */
typedef struct cs__cef_lit_s {
	__m128i b[2];
	uint32_t mask;         /* a bit per byte of it */
	uint32_t h;            /* the last value (with the next key and its '='), hashed */
	uint16_t hits, misses; /* lines that had it, lines that had not (since the last judgement) */
	int16_t next;          /* the next key's node, -1: the value runs to the line's end */
	uint8_t len;           /* 0: none */
	uint8_t same, changes; /* lines since the value last changed; times it changed */
} cs__cef_lit_t;

typedef struct cs__cef_seq_s {
	uint64_t predicted, found; /* keys found by the trie, by the backtrack */
	uint64_t folded;           /* values folded */
	__m128i hdr[2];            /* the last header's first four fields "0|vendor|product|version|" (no '\\') */
	uint32_t hmask;            /* a bit per byte of them */
	uint8_t hlen;              /* their length (32 at most), 0: none */
	uint8_t hpipe[4];          /* where their '|' are */
	uint32_t n;
	int16_t first; /* the first keys */
	cs__cef_sk_t k[CS__CEF_NODES];
	cs__cef_lit_t lit[CS__CEF_NODES];
} cs__cef_seq_t;

/*
 * The hosts normalized lately (cs_decode.c): a SOC stream names the same few
 * hosts again and again (90-96% of the Zeek dns and ssl samples' names are
 * among the last 256). A host of 8 to 48 bytes whose normalization left it
 * as it was, or found it no host, is kept by its bytes and the kind of its
 * field, direct-mapped; found again, it is taken as it is.
 */
#define CS__HC_SLOTS 128
#define CS__HC_MAX 48
typedef struct cs__hc_s {
	char raw[CS__HC_MAX];
	uint8_t len, kind; /* 0: empty */
	int8_t type;       /* CS_OBS_* or -1 (no host) */
	uint8_t pad[13];   /* 64 bytes */
} cs__hc_t;

struct cs_decode_s {
	const cs_decode_conf_t *conf;
	uint64_t *stamps; /* [conf->node_cnt]: object serial in which a mapped key was seen */
	uint64_t obj_serial;
	cs_obs_t *obs;
	size_t obs_cnt;
	char *arena; /* normalized values of the current event */
	size_t arena_size, arena_used;
	/* URL split over two fields */
	const char *url_host, *url_path;
	size_t url_host_len, url_path_len;
	cs_decode_event_t ev;
	uint64_t skipped_strings; /* values longer than max.string.bytes, skipped (the events kept) */
	uint64_t dropped_obs;     /* observables beyond max.observables or the arena, dropped (the events kept) */
	cs_time_memo_t tmemo; /* the date of the last event time read */
	cs_decode_fmt_t marker_fmt, first_fmt;
	struct cs__shapes_s *shapes; /* event shapes learned by the JSON scanner, or NULL (cs_decode_json.c) */
	cs__cef_seq_t *cef_seq;      /* CEF key sequences seen, or NULL (cs_decode_cef.c) */
	cs__hc_t *hcache;            /* [CS__HC_SLOTS] hosts normalized lately, or NULL; all three off when shape.nodes is 0 */
	/* decompression */
	ZSTD_DCtx *zctx;
	LZ4F_dctx *lctx;
	char *zbuf;
	size_t zbuf_size;
};

/** Builds the tries of every format (idempotent). */
cs_err_t cs__decode_conf_build(cs_decode_conf_t *conf, char *errstr, size_t errstr_size);

/* The empty slot of every table: a key length no key has, 16 zero bytes of key. */
extern const cs_dnode_t cs__dnode_none;

/** A vector whose first min(klen, 16) bytes are set. */
static inline __attribute__((always_inline)) __m128i cs__kmask(size_t klen) {
	const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	return _mm_cmpgt_epi8(_mm_set1_epi8((char)(klen < 16 ? klen : 16)), iota);
}

/** The first min(klen, 16) bytes at src in a vector, the other bytes zero (src has 16 readable bytes). */
static inline __m128i cs__kvec(const char *src, size_t klen) {
	return _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)src), cs__kmask(klen));
}

/**
 * The slot in node's table of a key whose first 16 bytes (zero beyond the
 * key) are km: a hash of those 16 bytes and the length, mixed with the
 * node's seed. Two keys with the same length and first 16 bytes share it.
 */
static inline uint32_t cs__dnode_slotv(const cs_dnode_t *node, __m128i km, size_t klen) {
	uint64_t lo = (uint64_t)_mm_cvtsi128_si64(km), hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(km, km));
	uint64_t h = (lo * 0x9E3779B97F4A7C15ULL) ^ (hi * 0xC2B2AE3D27D4EB4FULL) ^ ((uint64_t)klen * 0x165667B19E3779F9ULL);
	return (((uint32_t)(h >> 32) ^ (uint32_t)h ^ node->seed) * 2654435761u) >> node->shift;
}

/** The slot of a key (klen readable bytes at key) in node's table. */
static inline uint32_t cs__dnode_slot(const cs_dnode_t *node, const char *key, size_t klen) {
	char pad[16] = {0};
	if (klen < 16) {
		memcpy(pad, key, klen);
		key = pad;
	}
	return cs__dnode_slotv(node, cs__kvec(key, klen), klen);
}

/** Looks up a kid of node by key. */
static inline const cs_dnode_t *cs__dnode_kid(const cs_dnode_t *node, const char *key, size_t klen) {
	const cs_dnode_t *k;
	if (!node || !node->nkids)
		return NULL;
	if (__builtin_expect(!node->tab, 0)) {
		for (uint32_t i = 0; i < node->nkids; i++)
			if (node->kids[i]->klen == klen && !memcmp(node->kids[i]->key, key, klen))
				return node->kids[i];
		return NULL;
	}
	k = node->tab[cs__dnode_slot(node, key, klen)];
	return k->klen == klen && !memcmp(k->key, key, klen) ? k : NULL;
}

/** The value of the n decimal digits at s (all digits, n <= 18), 8 at a time. */
static inline int64_t cs__dec_value(const char *s, size_t n) {
	static const int64_t p10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
	int64_t x = 0;
	size_t i = 0;
	for (; n - i >= 8; i += 8)
		x = x * 100000000 + (int64_t)cs_digits8(s + i);
	if (i < n && n >= 8) {
		/* the last n - i digits: the 8 bytes that end there, the ones before them made '0' */
		uint64_t v, keep = ~0ULL << (8 * (8 - (n - i)));
		memcpy(&v, s + n - 8, 8);
		return x * p10[n - i] + (int64_t)cs_digits8w((v & keep) | (0x3030303030303030ULL & ~keep));
	}
	for (; i < n; i++)
		x = x * 10 + (s[i] - '0');
	return x;
}

/** s[0..len) as a decimal of 1 to 18 digits (no sign): 0 and *v, else -1. */
static inline int cs__dec_u64(const char *s, size_t len, int64_t *v) {
	if (len == 0 || len > 18 || cs_digits_count(s, len) != len)
		return -1;
	*v = cs__dec_value(s, len);
	return 0;
}

/** The first byte in [p, end) equal to a or b, or end; 16 bytes at a time (SSE2). */
static inline const char *cs__find2(const char *p, const char *end, char a, char b) {
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	while (p < end && *p != a && *p != b)
		p++;
	return p;
}

/* JSON scanner (cs_decode_json.c) */
cs_decode_reject_t cs__decode_json(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len,
				   size_t *consumed);
/** A decoder's learned shapes (none when decode.shape.nodes is 0); freed with cs__shapes_destroy(). */
struct cs__shapes_s *cs__shapes_new(size_t max_nodes);
void cs__shapes_destroy(struct cs__shapes_s *sh);
/* CEF (cs_decode_cef.c) */
cs_decode_reject_t cs__decode_cef(cs_decode_t *dec, const char *buf, size_t len);

/* Emitting (cs_decode.c): a mapped value found by a scanner. */
cs_decode_reject_t cs__decode_emit_str_any(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len,
					   int escaped);
/** A value that may be a dotted quad where an address or host is mapped: the commonest value of all. */
static inline int cs__maybe_quad(cs_dleaf_kind_t kind, const char *s, size_t len) {
	return (kind == CS_DLEAF_IP || kind == CS_DLEAF_HOST) && len - 7 <= 8 && (unsigned)(unsigned char)s[0] - '0' <= 9;
}
/** cs__decode_obs() of such a value: a canonical dotted quad is appended without the general steps. */
cs_decode_reject_t cs__decode_obs_quad(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role, const char *s,
				       size_t len);

/** A string value at a mapped path: its marker and dotted quad first, the rest by cs__decode_emit_str_any(). */
cs_decode_reject_t cs__decode_emit_str(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len, int escaped);
cs_decode_reject_t cs__decode_emit_num(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len);
/** Forgets the current event: nothing emitted, no metadata, no offset or bytes. */
void cs__decode_event_reset(cs_decode_t *dec);
/** Appends an observable (value normalized into the arena) of the given leaf kind. */
cs_decode_reject_t cs__decode_obs(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role,
				  const char *s, size_t len);

/**
 * Appends the text observable s[0..len) unless the event has it already: s
 * points into the message (zero-copy), or, in_arena, at the arena's end,
 * where it is then kept (NUL-terminated).
 */
cs_decode_reject_t cs__decode_text(cs_decode_t *dec, cs_obs_role_t role, const char *s, size_t len, int in_arena);

/** Decodes JSON string escapes of s[0..len) into out (>= len bytes). Returns the length. */
size_t cs__json_unescape(const char *s, size_t len, char *out);

#endif /* CS_DECODE_INT_H */
