/*
 * cs_keys.c - the Redis key names and field formats (cs_keys.h).
 * DESIGN: pure formatting and parsing; any thread; no allocation.
 */
#include <stdio.h>
#include <string.h>

#include "cs_keys.h"

static int cs__fit(int n, size_t size) {
	return n >= 0 && (size_t)n < size ? n : -1;
}

int cs_keys_win(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start) {
	return cs__fit(snprintf(buf, size, "%s:win:%lld:%lld", prefix, (long long)window_s, (long long)start), size);
}

int cs_keys_wtlp(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start) {
	return cs__fit(snprintf(buf, size, "%s:wtlp:%lld:%lld", prefix, (long long)window_s, (long long)start), size);
}

int cs_keys_dim(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start) {
	return cs__fit(snprintf(buf, size, "%s:dim:%lld:%lld", prefix, (long long)window_s, (long long)start), size);
}

int cs_keys_src(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start, const char *value) {
	return cs__fit(snprintf(buf, size, "%s:src:%lld:%lld:%s", prefix, (long long)window_s, (long long)start, value),
		       size);
}

int cs_keys_top(char *buf, size_t size, const char *prefix, int64_t day, cs_tlp_t tlp) {
	int64_t d = day >= 0 ? day / 86400 * 86400 : -((-day + 86399) / 86400) * 86400;
	return cs__fit(snprintf(buf, size, "%s:top:%lld:%s", prefix, (long long)d, cs_tlp2str(tlp)), size);
}

int cs_keys_wins(char *buf, size_t size, const char *prefix, int64_t window_s) {
	return cs__fit(snprintf(buf, size, "%s:wins:%lld", prefix, (long long)window_s), size);
}

int cs_keys_ind(char *buf, size_t size, const char *prefix, const char *value) {
	return cs__fit(snprintf(buf, size, "%s:ind:%s", prefix, value), size);
}

int cs_keys_off(char *buf, size_t size, const char *prefix, const char *group) {
	return cs__fit(snprintf(buf, size, "%s:off:%s", prefix, group), size);
}

int cs_keys_stats(char *buf, size_t size, const char *prefix) {
	return cs__fit(snprintf(buf, size, "%s:stats", prefix), size);
}

int cs_keys_rejects(char *buf, size_t size, const char *prefix) {
	return cs__fit(snprintf(buf, size, "%s:rejects", prefix), size);
}

int cs_keys_suppressed(char *buf, size_t size, const char *prefix) {
	return cs__fit(snprintf(buf, size, "%s:suppressed", prefix), size);
}

int cs_keys_alerts(char *buf, size_t size, const char *prefix, cs_tlp_t tlp) {
	return cs__fit(snprintf(buf, size, "%s:alerts:%s", prefix, cs_tlp2str(tlp)), size);
}

int cs_keys_roll(char *buf, size_t size, const char *prefix, int64_t tier, int64_t start) {
	return cs__fit(snprintf(buf, size, "%s:roll:%lld:%lld", prefix, (long long)tier, (long long)start), size);
}

int cs_keys_part(char *buf, size_t size, const char *prefix, const char *id) {
	return cs__fit(snprintf(buf, size, "%s:part:%s", prefix, id), size);
}

int cs_keys_esc(char *buf, size_t size, const char *prefix, const char *value) {
	return cs__fit(snprintf(buf, size, "%s:esc:%s", prefix, value), size);
}

int cs_keys_escalations(char *buf, size_t size, const char *prefix, cs_tlp_t tlp) {
	return cs__fit(snprintf(buf, size, "%s:escalations:%s", prefix, cs_tlp2str(tlp)), size);
}

int cs_keys_retro(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start) {
	return cs__fit(snprintf(buf, size, "%s:retro:%lld:%lld", prefix, (long long)window_s, (long long)start), size);
}

int cs_keys_retro_wins(char *buf, size_t size, const char *prefix, int64_t window_s) {
	return cs__fit(snprintf(buf, size, "%s:retro:wins:%lld", prefix, (long long)window_s), size);
}

int cs_keys_esc_relay(char *buf, size_t size, const char *prefix) {
	return cs__fit(snprintf(buf, size, "%s:escrelay", prefix), size);
}

int cs_keys_ind_seen_field(char *buf, size_t size, const char *which, cs_tlp_t tlp) {
	return cs__fit(snprintf(buf, size, "%s|%s", which, cs_tlp2str(tlp)), size);
}

/* Appends value[0..len) with '|' and control characters as '/'. */
static int cs__put_clean(char *buf, size_t size, int n, const char *value, size_t len) {
	if (n < 0 || (size_t)n + len >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[n++] = value[i] == '|' || (unsigned char)value[i] < 0x20 ? '/' : value[i];
	buf[n] = '\0';
	return n;
}

int cs_keys_roll_field(char *buf, size_t size, cs_tlp_t tlp, int itlp, const char *org, const char *what,
		       const char *value, size_t len) {
	int n = snprintf(buf, size, "%s|%s|", cs_tlp2str(tlp), itlp < 0 ? "-" : cs_tlp2str((cs_tlp_t)itlp));
	if (n < 0 || (size_t)n >= size)
		return -1;
	if ((n = cs__put_clean(buf, size, n, org, strnlen(org, CS_KEYS_DIM_VALUE_MAX))) < 0)
		return -1;
	n = cs__fit(n + snprintf(buf + n, size - (size_t)n, "|%s", what), size);
	if (n < 0 || !value)
		return n;
	if ((size_t)n + 1 >= size)
		return -1;
	buf[n++] = '|';
	if (!strcmp(what, CS_KEYS_ROLL_IND)) { /* the indicator as the set holds it: last, verbatim */
		if ((size_t)n + len >= size)
			return -1;
		memcpy(buf + n, value, len);
		buf[n + len] = '\0';
		return n + (int)len;
	}
	return cs__put_clean(buf, size, n, value, len > CS_KEYS_DIM_VALUE_MAX ? CS_KEYS_DIM_VALUE_MAX : len);
}

/* The TLP label spelled exactly as cs_tlp2str() writes it in s[0..len); -1 if none. */
static int cs__tlp_exact(const char *s, size_t len) {
	for (int t = 0; t < CS_TLP__CNT; t++) {
		const char *n = cs_tlp2str((cs_tlp_t)t);
		if (strlen(n) == len && !memcmp(n, s, len))
			return t;
	}
	return -1;
}

int cs_keys_roll_parse(const char *field, cs_keys_roll_t *out) {
	const char *p = field, *bar;
	int t;
	if (!(bar = strchr(p, '|')) || (t = cs__tlp_exact(p, (size_t)(bar - p))) < 0)
		return -1;
	out->tlp = (cs_tlp_t)t;
	p = bar + 1;
	if (!(bar = strchr(p, '|')))
		return -1;
	if (bar - p == 1 && *p == '-')
		out->itlp = -1;
	else if ((out->itlp = cs__tlp_exact(p, (size_t)(bar - p))) < 0)
		return -1;
	p = bar + 1;
	if (!(bar = strchr(p, '|')) || bar == p)
		return -1;
	out->org = p;
	out->org_len = (size_t)(bar - p);
	p = bar + 1;
	bar = strchr(p, '|');
	out->what = p;
	out->what_len = bar ? (size_t)(bar - p) : strlen(p);
	out->value = bar ? bar + 1 : NULL;
	return out->what_len ? 0 : -1;
}

int cs_keys_off_field(char *buf, size_t size, const char *topic, int32_t partition) {
	return cs__fit(snprintf(buf, size, "%s/%d", topic, (int)partition), size);
}

int cs_keys_wtlp_field(char *buf, size_t size, cs_tlp_t tlp, const char *value) {
	return cs__fit(snprintf(buf, size, "%s|%s", cs_tlp2str(tlp), value), size);
}

int cs_keys_wtlp_parse(const char *field, cs_tlp_t *tlp, const char **value) {
	const char *bar = strchr(field, '|');
	int t;
	/* the label exactly as written (cs_tlp_parse() would also take "TLP:Amber" or " amber") */
	if (!bar)
		return -1;
	for (t = 0; t < CS_TLP__CNT; t++) {
		const char *n = cs_tlp2str((cs_tlp_t)t);
		if (strlen(n) == (size_t)(bar - field) && !memcmp(n, field, (size_t)(bar - field)))
			break;
	}
	if (t == CS_TLP__CNT)
		return -1;
	*tlp = (cs_tlp_t)t;
	*value = bar + 1;
	return 0;
}

int cs_keys_dim_field(char *buf, size_t size, cs_tlp_t tlp, const char *what, const char *dim, const char *value,
		      size_t len) {
	int n = snprintf(buf, size, "%s|%s|%s:", cs_tlp2str(tlp), what, dim);
	if (n < 0 || (size_t)n >= size)
		return -1;
	if (len > CS_KEYS_DIM_VALUE_MAX)
		len = CS_KEYS_DIM_VALUE_MAX; /* event-supplied: bounded */
	if ((size_t)n + len >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[n++] = value[i] == '|' || (unsigned char)value[i] < 0x20 ? '/' : value[i];
	buf[n] = '\0';
	return n;
}

int cs_keys_parse_i64(const char *s, size_t len, int64_t *out) {
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (len && s[0] == '-')
		neg = 1, i = 1;
	if (i == len || s[i] < '0' || s[i] > '9' || (s[i] == '0' && (len - i > 1 || neg)))
		return -1; /* empty, a sign alone, a leading zero, "-0" */
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}
