/*
 * cs_decode.h - event decoding: SOC formats in, normalized observables out.
 *
 * One cs_decode_t per thread (it owns scratch buffers and decompression
 * contexts); a cs_decode_conf_t is immutable once decoders are made from it.
 * JSON (Suricata EVE, ECS, Zeek, OCSF) is read by a streaming scanner that
 * validates the whole document and extracts only the mapped paths, without
 * building a tree; CEF lines (bare or behind a syslog header) by a CEF parser.
 *
 * Ownership: everything a callback receives is borrowed and valid only
 * inside the callback.
 */
#ifndef CS_DECODE_H
#define CS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "cs_common.h"
#include "cs_obs.h"

#define CS_DECODE_FMT_MAP(XX)    \
	XX(AUTO, "auto")         \
	XX(ECS, "ecs")           \
	XX(EVE, "eve")           \
	XX(ZEEK, "zeek")         \
	XX(OCSF, "ocsf")         \
	XX(CEF, "cef")

typedef enum cs_decode_fmt_e {
#define CS__FMT(name, str) CS_DECODE_FMT_##name,
	CS_DECODE_FMT_MAP(CS__FMT)
#undef CS__FMT
	CS_DECODE_FMT__CNT
} cs_decode_fmt_t;

/* Why an event is rejected: code (metrics, dead-letter header) and text. */
#define CS_DECODE_REJECT_MAP(XX)                                                         \
	XX(EMPTY, "empty", "empty message")                                               \
	XX(NOT_EVENT, "not_event", "neither a JSON object nor a CEF line")               \
	XX(TRUNCATED, "truncated", "truncated JSON")                                      \
	XX(SYNTAX, "syntax", "invalid JSON syntax")                                       \
	XX(BAD_ESCAPE, "bad_escape", "invalid escape in a JSON string")                   \
	XX(BAD_UTF8, "bad_utf8", "invalid UTF-8")                                         \
	XX(DUP_KEY, "duplicate_key", "a mapped key appears twice in one object")          \
	XX(NUMBER, "bad_number", "number malformed or longer than 64 characters")         \
	XX(DEPTH, "too_deep", "nesting deeper than decode.max.depth")                     \
	XX(TOO_LARGE, "too_large", "message larger than decode.max.message.bytes")       \
	XX(BAD_CEF, "bad_cef", "malformed CEF header or extension")                       \
	XX(ENCODING, "unknown_encoding", "content-encoding is not zstd or lz4")           \
	XX(DECOMPRESS, "decompress", "payload does not decompress")                       \
	XX(BOMB, "decompressed_too_large", "decompressed size exceeds decode.max.decompressed.bytes")

typedef enum cs_decode_reject_e {
	CS_DECODE_OK = -1,
#define CS__REJ(name, code, desc) CS_DECODE_REJECT_##name,
	CS_DECODE_REJECT_MAP(CS__REJ)
#undef CS__REJ
	CS_DECODE_REJECT__CNT
} cs_decode_reject_t;

const char *cs_decode_fmt2str(cs_decode_fmt_t fmt);
/** "eve" -> CS_DECODE_FMT_EVE; -1 if unknown. */
int cs_decode_fmt_parse(const char *s);
const char *cs_decode_reject2code(cs_decode_reject_t r);
const char *cs_decode_reject2str(cs_decode_reject_t r);

typedef struct cs_decode_event_s {
	cs_decode_fmt_t fmt;   /* the format the event was read as (detected under AUTO) */
	int64_t ts_ms;         /* event time from the event; 0 = none in the event */
	const char *org;       /* reporting organization from the event, or NULL */
	size_t org_len;
	int severity;          /* from the event, -1 = none */
	const char *category;  /* from the event, or NULL */
	size_t category_len;
	const cs_obs_t *obs;
	size_t obs_cnt;
	size_t offset, length; /* where the event lies in the (decompressed) payload */
	const char *raw;       /* its bytes (length), borrowed; NULL when the message did not decompress */
} cs_decode_event_t;

typedef struct cs_decode_conf_s cs_decode_conf_t;
typedef struct cs_decode_s cs_decode_t;

/** A configuration with the defaults. NULL on out of memory. */
cs_decode_conf_t *cs_decode_conf_new(void);
void cs_decode_conf_destroy(cs_decode_conf_t *conf);
/**
 * Sets one decoder property (the table in docs/CONFIGURATION.md, without the
 * "decode." prefix): max.message.bytes, max.decompressed.bytes, max.depth,
 * max.string.bytes, max.observables, shape.nodes (learned event shapes per
 * decoder, 0: none), fields.<fmt> (extra field map entries
 * "path=type/role,..." with type ip, host, url, hash, email, text).
 */
cs_err_t cs_decode_conf_set(cs_decode_conf_t *conf, const char *key, const char *value,
			    char *errstr, size_t errstr_size);
/** The decoder's property table as Markdown. */
void cs_decode_conf_doc_md(void *fp);

/**
 * A decoder for one thread. conf must outlive it. It owns its scratch: the
 * arena of the current event's values and what it learns (decode.shape.nodes:
 * event shapes, about 100 bytes per node; CEF key sequences, folded values and
 * header, 32 KB; hosts kept once normalized, 8 KB), so that one decoder per
 * thread shares nothing.
 * @returns NULL with errstr set on failure.
 */
cs_decode_t *cs_decode_new(const cs_decode_conf_t *conf, char *errstr, size_t errstr_size);
void cs_decode_destroy(cs_decode_t *dec);

/**
 * The decoder's learned event shapes (decode.shape.nodes): events read along a
 * learned shape (walked), events the full scan read after no learned shape
 * fitted (missed; a shape is learned when it is seen the second time), trie
 * nodes in use, times the trie was full and emptied, nodes made by folding an
 * unmapped value that stayed the same into the segments around it (folded) and
 * such nodes dropped again because they missed far more often than not
 * (unfolded), and whether shapes are paused because most recent events missed.
 * CEF: extension keys found where a learned key sequence had them
 * (cef_predicted) and by the backtrack from their '=' (cef_found), values
 * folded (cef_folded: an unmapped value that stayed the same, compared as
 * bytes with the key after it).
 */
typedef struct cs_decode_shape_stats_s {
	uint64_t walked, missed, flushes, folded, unfolded;
	uint32_t nodes;
	int paused;
	uint64_t cef_predicted, cef_found, cef_folded;
} cs_decode_shape_stats_t;
void cs_decode_shape_stats(const cs_decode_t *dec, cs_decode_shape_stats_t *st);

/**
 * What the decoder left out of events it kept, since it was created: values
 * longer than decode.max.string.bytes (skipped: not matched), and observables
 * beyond decode.max.observables (dropped: an over-full field gives way to the
 * event's other fields, see docs/FORMATS.md). Neither rejects the event.
 * @locality the thread that owns dec
 */
void cs_decode_capped(const cs_decode_t *dec, uint64_t *strings_skipped, uint64_t *observables_dropped);

/**
 * Called once per event in a message: reject is CS_DECODE_OK and ev is
 * filled, or reject is a reason (ev->offset/length still say where).
 * Return non-zero to stop.
 */
typedef int(cs_decode_cb_t)(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t reject);

/**
 * Decodes one Kafka message: one event, newline-delimited events or
 * concatenated JSON objects, optionally compressed as a whole (encoding
 * "zstd" or "lz4" frame, or NULL/"identity"). A payload that cannot be
 * decompressed is one rejected "event" covering the whole message.
 * @returns the number of events (accepted + rejected).
 * @locality the thread that owns dec
 */
size_t cs_decode_message(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *encoding,
			 const void *payload, size_t len, cs_decode_cb_t *cb, void *opaque);

/**
 * Decodes the first event in buf[0..len) (leading white space skipped).
 * *consumed is set to the bytes used (the event and its trailing white space).
 * @returns CS_DECODE_OK or the rejection reason.
 */
cs_decode_reject_t cs_decode_one(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len,
				 size_t *consumed, cs_decode_event_t *ev);

/**
 * The i-th entry of a format's built-in field map: its path ("dns.rrname"),
 * its kind (ip, host, url, url_host, url_path, hash, email, text, time, org,
 * severity, category, marker) and the role of its observables. For
 * documentation and the reference decoder of the tests.
 * @returns 0, or -1 past the last entry.
 */
int cs_decode_map_entry(cs_decode_fmt_t fmt, size_t i, const char **path, const char **kind,
			cs_obs_role_t *role);

#endif /* CS_DECODE_H */
