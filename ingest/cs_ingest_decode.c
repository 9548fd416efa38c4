/*
 * cs_ingest_decode.c - first-slice event decoder.
 *
 * DESIGN: takes a handful of well-known fields of Suricata EVE, ECS and Zeek
 * JSON with jansson and normalizes them into observables. It is the seam that
 * issue #3's streaming decoder replaces (same output: cs_ingest_event_t).
 * Runs on the worker thread that owns ev; never keeps the message.
 */
#include <string.h>
#include <math.h>
#include <jansson.h>

#include "cs_ingest_int.h"

const char *cs_ingest_reject2code(cs_ingest_reject_t r) {
	static const char *codes[] = {
#define CS__REJ(name, code, desc) code,
		CS_INGEST_REJECT_MAP(CS__REJ)
#undef CS__REJ
	};
	return (unsigned)r < CS_INGEST_REJECT__CNT ? codes[r] : "unknown";
}

/* Looks up "a.b.c" as nested objects, or as one flat key (Zeek's "id.orig_h"). */
static json_t *cs__get(json_t *root, const char *path) {
	json_t *v = json_object_get(root, path);
	const char *dot;
	char seg[64];

	if (v || !(dot = strchr(path, '.')))
		return v;
	if ((size_t)(dot - path) >= sizeof(seg))
		return NULL;
	memcpy(seg, path, (size_t)(dot - path));
	seg[dot - path] = '\0';
	v = json_object_get(root, seg);
	return json_is_object(v) ? cs__get(v, dot + 1) : NULL;
}

/* Copies s into ev->buf, normalizes it, and appends the observable. */
static int cs__add(cs_ingest_event_t *ev, int is_url, cs_obs_role_t role, const char *s,
		   size_t len) {
	char *dst;
	int type;

	if (len == 0)
		return 0;
	if (ev->obs_cnt >= CS_INGEST_DECODE_MAX_OBS || ev->buf_used + len + 66 > sizeof(ev->buf))
		return -1;
	dst = ev->buf + ev->buf_used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	if (is_url)
		type = cs_corr_norm_url(dst, &len) == 0 ? CS_OBS_URL : -1;
	else
		type = cs_corr_norm_host(dst, &len);
	if (type < 0)
		return 0; /* not an address, domain or URL: not an observable */
	for (size_t i = 0; i < ev->obs_cnt; i++) /* same value twice in one event: once */
		if ((int)ev->obs[i].type == type && ev->obs[i].len == len &&
		    !memcmp(ev->obs[i].value, dst, len))
			return 0;
	ev->obs[ev->obs_cnt++] = (cs_obs_t){(cs_obs_type_t)type, role, dst, len};
	ev->buf_used += len + 1;
	if (type == CS_OBS_URL) { /* the URL's host is an observable of its own */
		const char *h = strstr(dst, "://") + 3, *e = h + strcspn(h, "/?#");
		const char *at = memchr(h, '@', (size_t)(e - h)), *colon;
		if (at)
			h = at + 1;
		colon = *h == '[' ? memchr(h, ']', (size_t)(e - h)) : memchr(h, ':', (size_t)(e - h));
		if (colon && *h == '[')
			colon++;
		return cs__add(ev, 0, CS_OBS_ROLE_URL_HOST, h, (size_t)((colon ? colon : e) - h));
	}
	return 0;
}

static int cs__add_str(cs_ingest_event_t *ev, json_t *root, const char *path, int is_url,
		       cs_obs_role_t role) {
	json_t *v = cs__get(root, path);
	if (!json_is_string(v))
		return 0;
	return cs__add(ev, is_url, role, json_string_value(v), json_string_length(v));
}

typedef struct cs__field_s {
	const char *path;
	int is_url;
	cs_obs_role_t role;
} cs__field_t;

static const cs__field_t cs__fields[] = {
	/* Suricata EVE */
	{"src_ip", 0, CS_OBS_ROLE_SRC},
	{"dest_ip", 0, CS_OBS_ROLE_DST},
	{"dns.rrname", 0, CS_OBS_ROLE_DNS_QUERY},
	{"tls.sni", 0, CS_OBS_ROLE_TLS_SNI},
	{"http.hostname", 0, CS_OBS_ROLE_HTTP_HOST},
	/* Elastic Common Schema */
	{"source.ip", 0, CS_OBS_ROLE_SRC},
	{"destination.ip", 0, CS_OBS_ROLE_DST},
	{"dns.question.name", 0, CS_OBS_ROLE_DNS_QUERY},
	{"tls.client.server_name", 0, CS_OBS_ROLE_TLS_SNI},
	{"url.full", 1, CS_OBS_ROLE_URL},
	{"url.original", 1, CS_OBS_ROLE_URL},
	{"url.domain", 0, CS_OBS_ROLE_URL_HOST},
	/* Zeek JSON */
	{"id.orig_h", 0, CS_OBS_ROLE_SRC},
	{"id.resp_h", 0, CS_OBS_ROLE_DST},
	{"query", 0, CS_OBS_ROLE_DNS_QUERY},
	{"server_name", 0, CS_OBS_ROLE_TLS_SNI},
	{"host", 0, CS_OBS_ROLE_HTTP_HOST},
};

/* http.hostname + http.url (EVE) or host + uri (Zeek): an absolute URL. */
static int cs__add_http_url(cs_ingest_event_t *ev, json_t *root, const char *hpath,
			    const char *upath) {
	json_t *h = cs__get(root, hpath), *u = cs__get(root, upath);
	char url[4096];
	int n;

	if (!json_is_string(u))
		return 0;
	if (!strncmp(json_string_value(u), "http://", 7) ||
	    !strncmp(json_string_value(u), "https://", 8))
		return cs__add(ev, 1, CS_OBS_ROLE_URL, json_string_value(u), json_string_length(u));
	if (!json_is_string(h) || json_string_value(u)[0] != '/')
		return 0;
	n = snprintf(url, sizeof(url), "http://%s%s", json_string_value(h), json_string_value(u));
	if (n < 0 || (size_t)n >= sizeof(url))
		return 0;
	return cs__add(ev, 1, CS_OBS_ROLE_URL, url, (size_t)n);
}

static int64_t cs__event_time(json_t *root) {
	static const char *paths[] = {"timestamp", "@timestamp", "ts"};
	int64_t ms;

	for (size_t i = 0; i < CS_ARRAY_SIZE(paths); i++) {
		json_t *v = json_object_get(root, paths[i]);
		if (json_is_string(v) &&
		    !cs_time_parse_iso8601(json_string_value(v), json_string_length(v), &ms))
			return ms;
		if (json_is_number(v) && json_number_value(v) > 0 && json_number_value(v) < 1e11)
			return (int64_t)llround(json_number_value(v) * 1000.0); /* Zeek epoch */
	}
	return 0;
}

int cs_ingest_decode(const char *msg, size_t len, cs_ingest_event_t *ev) {
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	ev->obs_cnt = 0;
	ev->buf_used = 0;
	ev->ts_ms = 0;
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r' || msg[len - 1] == ' '))
		len--;
	if (len == 0)
		return CS_INGEST_REJECT_EMPTY;
	if (!(root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &jerr)))
		return CS_INGEST_REJECT_NOT_JSON;
	if (!json_is_object(root)) {
		json_decref(root);
		return CS_INGEST_REJECT_NOT_OBJECT;
	}
	ev->ts_ms = cs__event_time(root);
	for (size_t i = 0; i < CS_ARRAY_SIZE(cs__fields) && rc == -1; i++)
		if (cs__add_str(ev, root, cs__fields[i].path, cs__fields[i].is_url, cs__fields[i].role))
			rc = CS_INGEST_REJECT_TOO_MANY_OBS;
	if (rc == -1 && (cs__add_http_url(ev, root, "http.hostname", "http.url") ||
			 cs__add_http_url(ev, root, "host", "uri")))
		rc = CS_INGEST_REJECT_TOO_MANY_OBS;
	json_decref(root);
	return rc;
}
