/*
 * cs_corr_load.c - indicator files: format detection, Zeek intel, CSV
 * blocklists, MISP events, STIX 2.x bundles. Plain lists are in cs_corr_db.c.
 *
 * DESIGN: every loader feeds the builder (cs__corr_add / cs__corr_reject);
 * an indicator that does not fit is rejected with its origin and the reason,
 * the rest of the file still loads. JSON is parsed with jansson: this is the
 * cold path (start-up and reloads), never the event path. Loader thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>
#include <time.h>
#include <jansson.h>

#include "cs_corr_int.h"

/* Adds a value, or rejects it with the loader's origin. */
static cs_err_t cs__add_or_reject(cs_corr_builder_t *b, int kind, const char *v, size_t len, const char *origin) {
	const char *why;
	cs_err_t err = cs__corr_add(b, kind, v, len, origin, &why);
	if (!err && why)
		err = cs__corr_reject(b, origin, why, v, len);
	return err;
}

/*
 * Adds a comparison (op "=", LIKE, MATCHES) on the text observables of one
 * role (command line, file name, user agent, mail subject) as a pattern scoped
 * to that role, or rejects it.
 */
static cs_err_t cs__add_text(cs_corr_builder_t *b, int role, const char *op, const char *v, const char *origin) {
	static _Thread_local char re[CS_NORM_MAX_IN + 1];
	uint32_t scope = b->meta.scope;
	cs_err_t err;
	if (cs_norm_text_re(op, v, re, sizeof(re)))
		return cs__corr_reject(b, origin, "value too long", v, strlen(v));
	b->meta.scope = 1u << role;
	err = cs__add_or_reject(b, CS_CORR_K_REGEX, re, strlen(re), origin);
	b->meta.scope = scope;
	return err;
}

/* Where an indicator may match, from Zeek's Intel::Where names and cshield's role names. */
static int cs__where_role(const char *w, size_t len) {
	static const struct {
		const char *zeek;
		cs_obs_role_t role;
	} map[] = {{"Conn::IN_ORIG", CS_OBS_ROLE_SRC},
		   {"Conn::IN_RESP", CS_OBS_ROLE_DST},
		   {"DNS::IN_REQUEST", CS_OBS_ROLE_DNS_QUERY},
		   {"DNS::IN_RESPONSE", CS_OBS_ROLE_DNS_ANSWER},
		   {"HTTP::IN_HOST_HEADER", CS_OBS_ROLE_HTTP_HOST},
		   {"HTTP::IN_URL", CS_OBS_ROLE_URL},
		   {"HTTP::IN_USER_AGENT_HEADER", CS_OBS_ROLE_USER_AGENT},
		   {"SSL::IN_SERVER_NAME", CS_OBS_ROLE_TLS_SNI},
		   {"SMTP::IN_MAIL_FROM", CS_OBS_ROLE_MAIL_SENDER},
		   {"SMTP::IN_RCPT_TO", CS_OBS_ROLE_MAIL_RECIPIENT},
		   {"Files::IN_HASH", CS_OBS_ROLE_FILE_HASH},
		   {"X509::IN_CERT", CS_OBS_ROLE_CERT_HASH}};
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strlen(map[i].zeek) == len && !strncmp(map[i].zeek, w, len))
			return (int)map[i].role;
	return cs_obs_role_parse(w, len);
}

/*
 * A scope list ("destination", "Conn::IN_RESP,DNS::IN_REQUEST", "dns query;url"):
 * the role bit mask, 0 for empty or "-", -1 when a name is unknown.
 */
static long cs__scope_parse(const char *s) {
	uint32_t mask = 0;
	if (!s || !*s || !strcmp(s, "-"))
		return 0;
	while (*s) {
		size_t n = strcspn(s, ",;|");
		int r;
		while (n && *s == ' ')
			s++, n--;
		if (n) {
			size_t m = n;
			while (m && s[m - 1] == ' ')
				m--;
			if ((r = cs__where_role(s, m)) < 0)
				return -1;
			mask |= 1u << r;
		}
		s += n;
		if (*s)
			s++;
	}
	return (long)mask;
}

/* A confidence 0..100 ("80", "80.0"); -1 when empty, "-" or out of range. */
static int cs__confidence_parse(const char *s) {
	char *end;
	double d;
	if (!s || !*s || !strcmp(s, "-"))
		return -1;
	d = strtod(s, &end);
	return end != s && !*end && d >= 0 && d <= 100 ? (int)(d + 0.5) : -1;
}

/* ---- Zeek intel: "#fields indicator indicator_type meta.source ..." (TSV) ---- */

static cs_err_t cs__load_zeek(cs_corr_builder_t *b, const char *path, FILE *fp, char *errstr, size_t errstr_size) {
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int col_ind = -1, col_type = -1, col_src = -1, col_desc = -1, col_conf = -1, col_where = -1;
	cs_err_t err = CS_ERR_OK;

	while (!err && (n = getline(&line, &cap, fp)) != -1) {
		char *f[32], *save = NULL, *tok, origin[320];
		long scope;
		int nf = 0;
		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			snprintf(origin, sizeof(origin), "%.255s:%ld", path, lineno);
			err = cs__corr_reject(b, origin, "a NUL byte in the line", line, strlen(line));
			continue;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!strncmp(line, "#fields", 7)) {
			int c = -1;
			for (tok = strtok_r(line, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save), c++) {
				if (!strcmp(tok, "indicator"))
					col_ind = c;
				else if (!strcmp(tok, "indicator_type"))
					col_type = c;
				else if (!strcmp(tok, "meta.source"))
					col_src = c;
				else if (!strcmp(tok, "meta.desc"))
					col_desc = c;
				else if (!strcmp(tok, "meta.cif_confidence"))
					col_conf = c;
				else if (!strcmp(tok, "meta.if_in"))
					col_where = c;
			}
			continue;
		}
		if (!*line || line[0] == '#')
			continue;
		snprintf(origin, sizeof(origin), "%.255s:%ld", path, lineno);
		if (col_ind < 0 || col_type < 0) {
			err = cs__corr_reject(b, origin, "no #fields header with indicator and indicator_type before", line,
					      strlen(line));
			continue;
		}
		for (char *p = line; nf < 32;) { /* empty fields count: split by hand */
			char *tab = strchr(p, '\t');
			f[nf++] = p;
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (nf <= col_ind || nf <= col_type) {
			err = cs__corr_reject(b, origin, "fewer fields than the #fields header", line, strlen(line));
			continue;
		}
		cs__corr_meta_reset(b);
		if (col_src >= 0 && col_src < nf && strcmp(f[col_src], "-"))
			b->meta.source = f[col_src];
		if (col_desc >= 0 && col_desc < nf && strcmp(f[col_desc], "-"))
			b->meta.tags = f[col_desc];
		if (col_conf >= 0 && col_conf < nf) /* CIF's confidence is 0..10 in Zeek's docs, 0..100 in feeds */
			b->meta.confidence = cs__confidence_parse(f[col_conf]);
		if (col_where >= 0 && col_where < nf) {
			if ((scope = cs__scope_parse(f[col_where])) < 0) {
				err = cs__corr_reject(b, origin, "meta.if_in names an unknown location", f[col_where],
						      strlen(f[col_where]));
				continue;
			}
			b->meta.scope = (uint32_t)scope;
		}
		{
			const char *t = f[col_type], *v = f[col_ind];
			int kind = !strcmp(t, "Intel::ADDR")        ? CS_CORR_K_IP
				   : !strcmp(t, "Intel::DOMAIN")    ? CS_CORR_K_HOST
				   : !strcmp(t, "Intel::URL")       ? CS_CORR_K_URL
				   : !strcmp(t, "Intel::FILE_HASH") ? CS_CORR_K_HASH
				   : !strcmp(t, "Intel::EMAIL")     ? CS_CORR_K_EMAIL
				   : !strcmp(t, "Intel::SUBNET")    ? CS_CORR_K_CIDR
								    : 0;
			if (!kind) {
				char why[128];
				snprintf(why, sizeof(why), "indicator type %.60s is not supported", t);
				err = cs__corr_reject(b, origin, why, v, strlen(v));
			} else {
				err = cs__add_or_reject(b, kind, v, strlen(v), origin);
			}
		}
	}
	cs_free(line);
	if (err)
		cs_errstr_set(errstr, errstr_size, "%s: out of memory", path);
	return err;
}

/* ---- CSV blocklists with a header row (abuse.ch style) ---- */

/*
 * One CSV record as RFC 4180 reads it: fields separated by ',', a quoted
 * field may hold ',', '"' (doubled) and line breaks, records end at a line
 * break outside quotes (CRLF or LF). Spaces before a field are skipped. A
 * line that starts with '#' where a record would start is a comment, blank
 * lines are skipped. The fields are NUL-terminated in *buf, f[] points at
 * them. Returns 1 (a record), 0 (the end of the file) or -1: a record that
 * is not well formed (*why; the rest of the record is consumed, so the next
 * call starts at the next record). *line is the record's first line.
 */
typedef struct cs__csv_s {
	FILE *fp;
	char *buf;
	size_t cap;
	long lineno; /* lines read so far */
} cs__csv_t;

static int cs__csv_put(cs__csv_t *c, size_t *len, int ch) {
	if (*len + 1 >= c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		char *n = cs_realloc(c->buf, ncap);
		if (!n)
			return -1;
		c->buf = n;
		c->cap = ncap;
	}
	c->buf[(*len)++] = (char)ch;
	return 0;
}

static int cs__csv_record(cs__csv_t *c, char **f, size_t *off, int max, int *nf, long *line, const char **why) {
	enum { START, UNQUOTED, QUOTED, CLOSED } st = START;
	size_t len = 0;
	int ch, bad = 0;

	*nf = 0;
	*why = NULL;
	/* skip blank lines and comments between records */
	for (;;) {
		ch = getc(c->fp);
		if (ch == EOF)
			return 0;
		if (ch == '\n') {
			c->lineno++;
			continue;
		}
		if (ch == '\r')
			continue;
		if (ch == '#') {
			while ((ch = getc(c->fp)) != EOF && ch != '\n')
				;
			c->lineno++;
			if (ch == EOF)
				return 0;
			continue;
		}
		break;
	}
	*line = c->lineno + 1;
	off[(*nf)++] = 0;
	for (;; ch = getc(c->fp)) {
		if (ch == EOF) {
			if (st == QUOTED && !bad)
				bad = 1, *why = "a quoted field is never closed";
			break;
		}
		if (ch == '\0' && !bad)
			bad = 1, *why = "a NUL byte in a field";
		if (st == QUOTED) {
			if (ch == '"') {
				int nx = getc(c->fp);
				if (nx == '"') {
					if (cs__csv_put(c, &len, '"'))
						return -2;
					continue;
				}
				st = CLOSED;
				if (nx == EOF)
					break;
				ch = nx; /* what follows the closing quote, handled below */
			} else {
				if (ch == '\n')
					c->lineno++;
				if (cs__csv_put(c, &len, ch))
					return -2;
				continue;
			}
		}
		if (ch == '\r') {
			int nx = getc(c->fp);
			if (nx == '\n' || nx == EOF) {
				if (nx == '\n')
					c->lineno++;
				break;
			}
			ungetc(nx, c->fp);
		}
		if (ch == '\n') {
			c->lineno++;
			break;
		}
		if (ch == ',') {
			if (cs__csv_put(c, &len, '\0'))
				return -2;
			if (*nf == max) {
				if (!bad)
					bad = 1, *why = "more fields than cshield reads (64)";
				continue;
			}
			off[(*nf)++] = len;
			st = START;
			continue;
		}
		if (st == CLOSED) {
			if (!bad)
				bad = 1, *why = "text after a closing quote";
			continue;
		}
		if (st == START) {
			if (ch == ' ')
				continue;
			if (ch == '"') {
				st = QUOTED;
				continue;
			}
			st = UNQUOTED;
		}
		if (cs__csv_put(c, &len, ch))
			return -2;
	}
	if (cs__csv_put(c, &len, '\0'))
		return -2;
	for (int i = 0; i < *nf; i++)
		f[i] = c->buf + off[i];
	return bad ? -1 : 1;
}

/* A name -> value table (names compared in any case); 0 for a name it lacks. */
typedef struct cs__named_s {
	const char *name;
	int v;
} cs__named_t;

static int cs__named(const cs__named_t *t, size_t n, const char *name) {
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(name, t[i].name))
			return t[i].v;
	return 0;
}

static int cs__csv_kind(const char *name) {
	static const cs__named_t cols[] = {
		{"dst_ip", CS_CORR_K_IP},      {"ip", CS_CORR_K_IP},          {"ip_address", CS_CORR_K_IP},
		{"ipaddress", CS_CORR_K_IP},   {"domain", CS_CORR_K_HOST},    {"hostname", CS_CORR_K_HOST},
		{"url", CS_CORR_K_URL},        {"md5_hash", CS_CORR_K_HASH},  {"sha1_hash", CS_CORR_K_HASH},
		{"sha256_hash", CS_CORR_K_HASH}, {"md5", CS_CORR_K_HASH},     {"sha1", CS_CORR_K_HASH},
		{"sha256", CS_CORR_K_HASH},    {"ioc", CS_CORR_K_AUTO},       {"ioc_value", CS_CORR_K_AUTO},
		{"indicator", CS_CORR_K_AUTO}, {"value", CS_CORR_K_AUTO}};
	return cs__named(cols, CS_ARRAY_SIZE(cols), name);
}

/* Metadata columns of a CSV blocklist. */
enum { CS__CSV_TLP = 1, CS__CSV_CONF, CS__CSV_TAGS, CS__CSV_SOURCE, CS__CSV_SCOPE };

static int cs__csv_meta(const char *name) {
	static const cs__named_t cols[] = {
		{"tlp", CS__CSV_TLP},          {"confidence", CS__CSV_CONF}, {"confidence_level", CS__CSV_CONF},
		{"tags", CS__CSV_TAGS},        {"threat", CS__CSV_TAGS},     {"threat_type", CS__CSV_TAGS},
		{"malware", CS__CSV_TAGS},     {"malware_printable", CS__CSV_TAGS}, {"source", CS__CSV_SOURCE},
		{"scope", CS__CSV_SCOPE},      {"where", CS__CSV_SCOPE}};
	return cs__named(cols, CS_ARRAY_SIZE(cols), name);
}

static cs_err_t cs__load_csv(cs_corr_builder_t *b, const char *path, FILE *fp, char *errstr, size_t errstr_size) {
	char tags[512];
	cs__csv_t c = {fp, NULL, 0, 0};
	int kinds[64] = {0}, metas[64] = {0}, have_header = 0, ncols = 0, hcols = 0;
	cs_err_t err = CS_ERR_OK;

	while (!err) {
		char *f[64], origin[320];
		size_t off[64];
		const char *why;
		long line = 0;
		int nf, bad = 0, r = cs__csv_record(&c, f, off, 64, &nf, &line, &why);
		if (r == 0)
			break;
		if (r == -2) {
			err = CS_ERR_NOMEM;
			break;
		}
		snprintf(origin, sizeof(origin), "%.255s:%ld", path, line);
		if (r < 0) { /* never guessed at: a row cut short would lose its TLP column */
			err = cs__corr_reject(b, origin, why, f[0], strlen(f[0]));
			if (!have_header && !err) {
				cs_errstr_set(errstr, errstr_size, "%s:%ld: the header is not a CSV record: %s", path, line, why);
				err = CS_ERR_PARSE;
			}
			continue;
		}
		if (!have_header) {
			for (int i = 0; i < nf; i++) {
				if ((kinds[i] = cs__csv_kind(f[i])))
					ncols++;
				metas[i] = cs__csv_meta(f[i]);
			}
			have_header = 1;
			hcols = nf;
			if (!ncols) {
				cs_errstr_set(errstr, errstr_size,
					      "%s:%ld: no indicator column in the header (dst_ip, ip, domain, url, "
					      "md5_hash, sha256_hash, ioc, indicator, value...)",
					      path, line);
				err = CS_ERR_PARSE;
			}
			continue;
		}
		if (nf != hcols) {
			char why2[96];
			snprintf(why2, sizeof(why2), "%d fields where the header has %d", nf, hcols);
			err = cs__corr_reject(b, origin, why2, f[0], strlen(f[0]));
			continue;
		}
		cs__corr_meta_reset(b);
		tags[0] = '\0';
		for (int i = 0; i < nf && !err && !bad; i++) {
			long scope;
			int t;
			if (!metas[i] || !*f[i])
				continue;
			switch (metas[i]) {
			case CS__CSV_TLP:
				if ((t = cs_tlp_parse(f[i], strlen(f[i]))) < 0)
					bad = 1, err = cs__corr_reject(b, origin, "unknown TLP label", f[i], strlen(f[i]));
				b->meta.tlp = t;
				break;
			case CS__CSV_CONF:
				b->meta.confidence = cs__confidence_parse(f[i]);
				break;
			case CS__CSV_TAGS: /* several tag columns are joined */
				if (strcmp(f[i], "None") && strlen(tags) + strlen(f[i]) + 2 < sizeof(tags))
					snprintf(tags + strlen(tags), sizeof(tags) - strlen(tags), "%s%s", *tags ? "," : "",
						 f[i]);
				break;
			case CS__CSV_SOURCE:
				b->meta.source = f[i];
				break;
			case CS__CSV_SCOPE:
				if ((scope = cs__scope_parse(f[i])) < 0)
					bad = 1, err = cs__corr_reject(b, origin, "scope names an unknown role", f[i], strlen(f[i]));
				b->meta.scope = (uint32_t)scope;
				break;
			}
		}
		b->meta.tags = tags;
		for (int i = 0; i < nf && !err && !bad; i++)
			if (kinds[i] && *f[i])
				err = cs__add_or_reject(b, kinds[i], f[i], strlen(f[i]), origin);
	}
	cs_free(c.buf);
	if (err == CS_ERR_NOMEM)
		cs_errstr_set(errstr, errstr_size, "%s: out of memory", path);
	return err;
}

/* ---- MISP: {"Event":{...}}, {"response":[{"Event":{...}}]} or a list of them ---- */

/*
 * The label a MISP tag names: -1 when it is not a "tlp:" tag; the label
 * (spaces around it, any case, and "amber-strict", "amber_strict" or "amber
 * strict" for amber+strict: never less strict than what was meant); -2 for a
 * "tlp:" tag that names no label cshield knows ("tlp:rouge"): the indicator
 * is rejected, never given the default TLP. MISP's "tlp:ex:..." extensions
 * are not labels: plain tags.
 */
static int cs__misp_tlp_tag(const char *name) {
	char buf[32];
	size_t n = 0;
	while (*name == ' ')
		name++;
	if (strncasecmp(name, "tlp", 3))
		return -1;
	name += 3;
	while (*name == ' ')
		name++;
	if (*name != ':')
		return -1;
	name++;
	while (*name == ' ')
		name++;
	if (!strncasecmp(name, "ex:", 3))
		return -1;
	for (; *name && n + 1 < sizeof(buf); name++)
		buf[n++] = (char)tolower((unsigned char)*name);
	if (*name)
		return -2; /* too long for a label */
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	if (n == 12 && !strncmp(buf, "amber", 5) && (buf[5] == '-' || buf[5] == '_' || buf[5] == ' ') &&
	    !strcmp(buf + 6, "strict"))
		return CS_TLP_AMBER_STRICT;
	{
		int t = cs_tlp_parse(buf, n);
		return t >= 0 ? t : -2;
	}
}

/*
 * MISP tags: a "tlp:" tag sets the label (the most restrictive wins), every
 * other tag name is appended to tags. Event tags first, then the attribute's.
 * A "tlp:" tag that names no label sets *bad (when it is not set yet).
 */
static void cs__misp_tags(json_t *tagl, int *tlp, char *tags, size_t size, const char **bad) {
	json_t *t;
	size_t i;
	json_array_foreach(tagl, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		int l;
		size_t used = strlen(tags);
		if (!name)
			continue;
		if ((l = cs__misp_tlp_tag(name)) >= 0) {
			if (l > *tlp)
				*tlp = l;
			continue;
		}
		if (l == -2) {
			if (!*bad)
				*bad = name;
			continue;
		}
		if (used + strlen(name) + 2 < size)
			snprintf(tags + used, size - used, "%s%s", used ? "," : "", name);
	}
}

typedef struct cs__misp_ev_meta_s {
	const char *source;
	int tlp;
	char tags[1024];
	const char *bad_tlp; /* a "tlp:" tag of the event that names no label: every attribute is rejected */
} cs__misp_ev_meta_t;

static cs_err_t cs__misp_attr(cs_corr_builder_t *b, const char *path, json_t *a, const cs__misp_ev_meta_t *em) {
	const char *type = json_string_value(json_object_get(a, "type"));
	const char *value = json_string_value(json_object_get(a, "value"));
	const char *uuid = json_string_value(json_object_get(a, "uuid"));
	json_t *to_ids = json_object_get(a, "to_ids");
	char origin[400];
	const char *bar;
	int kind = 0, part = 0; /* part: 0 the value, 1 after '|', 2 before '|' */

	char tags[1024];
	int tlp = em->tlp;
	const char *bad = em->bad_tlp;

	if (!type || !value)
		return CS_ERR_OK;
	snprintf(origin, sizeof(origin), "%.255s:misp:%.64s", path, uuid ? uuid : "?");
	snprintf(tags, sizeof(tags), "%s", em->tags);
	cs__misp_tags(json_object_get(a, "Tag"), &tlp, tags, sizeof(tags), &bad);
	if (bad) {
		char why[160];
		snprintf(why, sizeof(why), "the tag \"%.60s\" names no TLP label (clear, green, amber, amber+strict, red)",
			 bad);
		return cs__corr_reject(b, origin, why, value, strlen(value));
	}
	cs__corr_meta_reset(b);
	b->meta.source = em->source;
	b->meta.tlp = tlp;
	b->meta.tags = tags;
	if (json_is_false(to_ids) || (json_is_string(to_ids) && !strcmp(json_string_value(to_ids), "0")))
		return cs__corr_reject(b, origin, "to_ids is false (context, not for detection)", value, strlen(value));
	if (!strcmp(type, "ip-dst") || !strcmp(type, "ip-src"))
		kind = CS_CORR_K_IP;
	else if (!strcmp(type, "ip-dst|port") || !strcmp(type, "ip-src|port"))
		kind = CS_CORR_K_IP, part = 2;
	else if (!strcmp(type, "domain") || !strcmp(type, "hostname"))
		kind = CS_CORR_K_HOST;
	else if (!strcmp(type, "domain|ip") || !strcmp(type, "hostname|port"))
		kind = CS_CORR_K_HOST, part = 2;
	else if (!strcmp(type, "url") || !strcmp(type, "uri"))
		kind = CS_CORR_K_URL;
	else if (!strcmp(type, "md5") || !strcmp(type, "sha1") || !strcmp(type, "sha256"))
		kind = CS_CORR_K_HASH;
	else if (!strcmp(type, "filename|md5") || !strcmp(type, "filename|sha1") || !strcmp(type, "filename|sha256"))
		kind = CS_CORR_K_HASH, part = 1;
	else if (!strcmp(type, "email") || !strcmp(type, "email-src") || !strcmp(type, "email-dst"))
		kind = CS_CORR_K_EMAIL;
	else if (!strncmp(type, "x509-fingerprint-", 17)) {
		uint32_t scope = b->meta.scope;
		cs_err_t err;
		b->meta.scope = 1u << CS_OBS_ROLE_CERT_HASH;
		err = cs__add_or_reject(b, CS_CORR_K_HASH, value, strlen(value), origin);
		b->meta.scope = scope;
		return err;
	} else if (!strcmp(type, "user-agent"))
		return cs__add_text(b, CS_OBS_ROLE_USER_AGENT, "=", value, origin);
	else if (!strcmp(type, "filename"))
		return cs__add_text(b, CS_OBS_ROLE_FILE_NAME, "=", value, origin);
	else if (!strcmp(type, "email-subject"))
		return cs__add_text(b, CS_OBS_ROLE_MAIL_SUBJECT, "=", value, origin);
	if (!kind) {
		char why[128];
		snprintf(why, sizeof(why), "MISP attribute type %.60s is not matched on", type);
		return cs__corr_reject(b, origin, why, value, strlen(value));
	}
	bar = strchr(value, '|');
	if (part == 1 && bar)
		return cs__add_or_reject(b, kind, bar + 1, strlen(bar + 1), origin);
	if (part == 2 && bar) {
		cs_err_t err = cs__add_or_reject(b, kind, value, (size_t)(bar - value), origin);
		if (!err && !strcmp(type, "domain|ip")) /* both halves are indicators */
			err = cs__add_or_reject(b, CS_CORR_K_IP, bar + 1, strlen(bar + 1), origin);
		return err;
	}
	return cs__add_or_reject(b, kind, value, strlen(value), origin);
}

static cs_err_t cs__misp_event(cs_corr_builder_t *b, const char *path, json_t *ev) {
	json_t *attrs = json_object_get(ev, "Attribute"), *objs = json_object_get(ev, "Object"), *a, *o;
	size_t i, j;
	cs_err_t err = CS_ERR_OK;
	cs__misp_ev_meta_t em = {NULL, -1, "", NULL};

	em.source = json_string_value(json_object_get(json_object_get(ev, "Orgc"), "name"));
	if (!em.source)
		em.source = json_string_value(json_object_get(json_object_get(ev, "Org"), "name"));
	cs__misp_tags(json_object_get(ev, "Tag"), &em.tlp, em.tags, sizeof(em.tags), &em.bad_tlp);
	json_array_foreach(attrs, i, a) if (!err) err = cs__misp_attr(b, path, a, &em);
	json_array_foreach(objs, i, o) {
		json_t *oattrs = json_object_get(o, "Attribute");
		json_array_foreach(oattrs, j, a) if (!err) err = cs__misp_attr(b, path, a, &em);
	}
	cs__corr_meta_reset(b);
	return err;
}

static cs_err_t cs__load_misp(cs_corr_builder_t *b, const char *path, json_t *root) {
	json_t *resp = json_object_get(root, "response"), *ev, *item;
	size_t i;
	cs_err_t err = CS_ERR_OK;
	if ((ev = json_object_get(root, "Event")))
		return cs__misp_event(b, path, ev);
	json_array_foreach(json_is_array(resp) ? resp : root, i, item) {
		if (!err && (ev = json_object_get(item, "Event")))
			err = cs__misp_event(b, path, ev);
	}
	return err;
}

/* ---- STIX 2.x bundles: indicators whose pattern is one observation ---- */

typedef struct cs__stix_cmp_s {
	char path[96];
	char op[16];
	char vals[8][CS_NORM_MAX_IN / 8]; /* IN (...) lists up to 8 values */
	int nvals;
} cs__stix_cmp_t;

/* Parses one quoted STIX string at *pp ('...' with \' and \\). */
static int cs__stix_str(const char **pp, char *out, size_t size) {
	const char *p = *pp;
	size_t o = 0;
	if (*p != '\'')
		return -1;
	for (p++; *p && *p != '\''; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (o + 1 >= size)
			return -1;
		out[o++] = *p;
	}
	if (*p != '\'')
		return -1;
	out[o] = '\0';
	*pp = p + 1;
	return 0;
}

static const char *cs__skip_ws(const char *p) {
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/*
 * "[a:b = 'x' OR c:d IN ('y','z') ...]": comparisons joined by OR (AND only
 * for the network-traffic dst_ref type/value pair MISP writes). Returns the
 * count, or -1 with *why set.
 */
static int cs__stix_parse(const char *pat, cs__stix_cmp_t *cmp, int max, const char **why) {
	const char *p = cs__skip_ws(pat);
	int n = 0;
	if (*p != '[') {
		*why = "pattern is not one observation [ ... ]";
		return -1;
	}
	p++;
	for (;;) {
		cs__stix_cmp_t *c;
		size_t l = 0;
		if (n == max) {
			*why = "more than 16 comparisons";
			return -1;
		}
		c = &cmp[n++];
		memset(c, 0, sizeof(*c));
		p = cs__skip_ws(p);
		while (*p && (isalnum((unsigned char)*p) || strchr(":._-'[]*", *p)) && !isspace((unsigned char)*p) &&
		       l + 1 < sizeof(c->path)) {
			if (*p == '\'') { /* file:hashes.'SHA-256' */
				p++;
				continue;
			}
			c->path[l++] = *p++;
		}
		p = cs__skip_ws(p);
		l = 0;
		while (*p && !isspace((unsigned char)*p) && *p != '\'' && *p != '(' && l + 1 < sizeof(c->op))
			c->op[l++] = *p++;
		p = cs__skip_ws(p);
		if (!strcmp(c->op, "IN")) {
			if (*p++ != '(') {
				*why = "IN without a list";
				return -1;
			}
			for (;;) {
				p = cs__skip_ws(p);
				if (c->nvals == 8 || cs__stix_str(&p, c->vals[c->nvals++], sizeof(c->vals[0]))) {
					*why = "IN list malformed or longer than 8";
					return -1;
				}
				p = cs__skip_ws(p);
				if (*p == ',') {
					p++;
					continue;
				}
				if (*p++ == ')')
					break;
				*why = "IN list malformed";
				return -1;
			}
		} else if (!strcmp(c->op, "=") || !strcmp(c->op, "MATCHES") || !strcmp(c->op, "ISSUBSET") || !strcmp(c->op, "LIKE")) {
			if (cs__stix_str(&p, c->vals[0], sizeof(c->vals[0]))) {
				*why = "value is not a quoted string";
				return -1;
			}
			c->nvals = 1;
		} else {
			*why = "comparison operator not supported (=, IN, LIKE, ISSUBSET, MATCHES)";
			return -1;
		}
		p = cs__skip_ws(p);
		if (*p == ']') {
			p = cs__skip_ws(p + 1);
			if (*p) {
				*why = "more than one observation, or qualifiers";
				return -1;
			}
			return n;
		}
		if (!strncmp(p, "OR", 2) && isspace((unsigned char)p[2])) {
			p += 2;
			continue;
		}
		if (!strncmp(p, "AND", 3) && isspace((unsigned char)p[3])) {
			p += 3;
			cmp[n - 1].op[sizeof(cmp[n - 1].op) - 1] = 'A'; /* joined by AND with the next */
			continue;
		}
		*why = "comparisons must be joined by OR";
		return -1;
	}
}

#define CS__K_TEXT 100 /* a text observable (command line, file name...): matched as a pattern in its role */

/*
 * The object paths matched on: the kind of indicator each makes and the role
 * it is scoped to (-1: any role; the addresses are not scoped, see below).
 * Paths are compared with their quotes removed (file:hashes.'SHA-256' is
 * file:hashes.SHA-256). Prefix rows end in '.'.
 */
static const struct {
	const char *path;
	int kind;
	int role;
} cs__stix_paths[] = {
	{"ipv4-addr:value", CS_CORR_K_IP, -1},
	{"ipv6-addr:value", CS_CORR_K_IP, -1},
	{"network-traffic:dst_ref.value", CS_CORR_K_IP, -1},
	{"network-traffic:src_ref.value", CS_CORR_K_IP, -1},
	{"domain-name:value", CS_CORR_K_HOST, -1},
	{"url:value", CS_CORR_K_URL, -1},
	{"email-addr:value", CS_CORR_K_EMAIL, -1},
	{"email-message:from_ref.value", CS_CORR_K_EMAIL, -1},
	{"email-message:sender_ref.value", CS_CORR_K_EMAIL, CS_OBS_ROLE_MAIL_SENDER},
	{"email-message:to_refs[*].value", CS_CORR_K_EMAIL, CS_OBS_ROLE_MAIL_RECIPIENT},
	{"email-message:cc_refs[*].value", CS_CORR_K_EMAIL, CS_OBS_ROLE_MAIL_RECIPIENT},
	{"email-message:subject", CS__K_TEXT, CS_OBS_ROLE_MAIL_SUBJECT},
	{"process:command_line", CS__K_TEXT, CS_OBS_ROLE_COMMAND_LINE},
	{"file:name", CS__K_TEXT, CS_OBS_ROLE_FILE_NAME},
	{"process:name", CS__K_TEXT, CS_OBS_ROLE_PROCESS_NAME}, /* STIX 2.0; 2.1 names the image */
	{"process:image_ref.name", CS__K_TEXT, CS_OBS_ROLE_PROCESS_NAME},
	{"network-traffic:extensions.http-request-ext.request_header.User-Agent", CS__K_TEXT, CS_OBS_ROLE_USER_AGENT},
	{"x509-certificate:hashes.", CS_CORR_K_HASH, CS_OBS_ROLE_CERT_HASH},
	{"file:hashes.", CS_CORR_K_HASH, -1},
};

/* The kind of indicator path makes (0: not matched on) and its role (-1: any). */
static int cs__stix_kind(const char *path, int *role) {
	for (size_t i = 0; i < sizeof(cs__stix_paths) / sizeof(*cs__stix_paths); i++) {
		const char *p = cs__stix_paths[i].path;
		size_t l = strlen(p);
		if (p[l - 1] == '.' ? !strncmp(path, p, l) && path[l] : !strcmp(path, p)) {
			*role = cs__stix_paths[i].role;
			return cs__stix_paths[i].kind;
		}
	}
	*role = -1;
	return 0;
}

/* The TLP marking definitions STIX publishes under fixed ids (TLP 1.0 in STIX 2.1, TLP 2.0 by OASIS). */
static int cs__stix_tlp_id(const char *id) {
	static const struct {
		const char *id;
		cs_tlp_t tlp;
	} ids[] = {{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", CS_TLP_CLEAR},
		   {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", CS_TLP_GREEN},
		   {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", CS_TLP_AMBER},
		   {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", CS_TLP_RED},
		   {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", CS_TLP_CLEAR},
		   {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", CS_TLP_GREEN},
		   {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", CS_TLP_AMBER},
		   {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", CS_TLP_AMBER_STRICT},
		   {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", CS_TLP_RED}};
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++)
		if (!strcmp(id, ids[i].id))
			return (int)ids[i].tlp;
	return -1;
}

/* The TLP of a marking-definition object of the bundle, or -1 when it is no TLP marking. */
static int cs__stix_marking_tlp(json_t *m) {
	const char *id = json_string_value(json_object_get(m, "id"));
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *tlp = json_string_value(json_object_get(json_object_get(m, "definition"), "tlp"));
	int t = id ? cs__stix_tlp_id(id) : -1;
	if (t < 0 && tlp)
		t = cs_tlp_parse(tlp, strlen(tlp));
	if (t < 0 && name && !strncasecmp(name, "TLP:", 4))
		t = cs_tlp_parse(name, strlen(name));
	return t;
}

/* What the bundle says about its indicators: identities (sources) and markings. */
typedef struct cs__stix_ctx_s {
	json_t *by_id; /* id -> object, for identities and marking definitions (borrowed refs) */
} cs__stix_ctx_t;

static void cs__stix_meta(cs_corr_builder_t *b, const cs__stix_ctx_t *sx, json_t *o, char *tags, size_t size) {
	const char *by = json_string_value(json_object_get(o, "created_by_ref"));
	json_t *refs = json_object_get(o, "object_marking_refs"), *r, *lists[2];
	const char *from = json_string_value(json_object_get(o, "valid_from"));
	const char *until = json_string_value(json_object_get(o, "valid_until"));
	json_t *conf = json_object_get(o, "confidence");
	int64_t ms;
	size_t i;

	cs__corr_meta_reset(b);
	if (by)
		b->meta.source = json_string_value(json_object_get(json_object_get(sx->by_id, by), "name"));
	json_array_foreach(refs, i, r) {
		const char *rid = json_string_value(r);
		int t = rid ? cs__stix_tlp_id(rid) : -1;
		if (t < 0 && rid && json_object_get(sx->by_id, rid))
			t = cs__stix_marking_tlp(json_object_get(sx->by_id, rid));
		if (t > b->meta.tlp) /* several markings: the most restrictive */
			b->meta.tlp = t;
	}
	if (json_is_integer(conf) && json_integer_value(conf) >= 0 && json_integer_value(conf) <= 100)
		b->meta.confidence = (int)json_integer_value(conf);
	if (from && !cs_time_parse_iso8601(from, strlen(from), &ms))
		b->meta.valid_from_ms = ms;
	if (until && !cs_time_parse_iso8601(until, strlen(until), &ms))
		b->meta.valid_until_ms = ms;
	tags[0] = '\0';
	lists[0] = json_object_get(o, "indicator_types");
	lists[1] = json_object_get(o, "labels");
	for (int l = 0; l < 2; l++)
		json_array_foreach(lists[l], i, r) {
			const char *t = json_string_value(r);
			size_t used = strlen(tags);
			if (t && used + strlen(t) + 2 < size)
				snprintf(tags + used, size - used, "%s%s", used ? "," : "", t);
		}
	b->meta.tags = tags;
}

/*
 * Adds the indicators of one STIX pattern (the builder's current metadata
 * applies), or rejects it with its reason. Loader thread; the comparison
 * table is on the heap (64 KB), not in a static: loads may run on any thread.
 */
cs_err_t cs__corr_stix_pattern(cs_corr_builder_t *b, const char *origin, const char *pattern) {
	cs__stix_cmp_t *cmp = cs_malloc(16 * sizeof(*cmp));
	const char *why = NULL;
	int n;
	cs_err_t err = CS_ERR_OK;

	if (!cmp)
		return CS_ERR_NOMEM;
	if ((n = cs__stix_parse(pattern, cmp, 16, &why)) < 0) {
		err = cs__corr_reject(b, origin, why, pattern, strlen(pattern));
		cs_free(cmp);
		return err;
	}
	for (int i = 0; i < n && !err; i++) {
		cs__stix_cmp_t *c = &cmp[i];
		/* network-traffic:dst_ref/src_ref are not taken as a scope: MISP writes them for
		 * ip-dst/ip-src, which feeds mix up, and a C2 address seen as the source of a
		 * reply or in a DNS answer is a sighting all the same */
		int role, kind = cs__stix_kind(c->path, &role), anded = c->op[sizeof(c->op) - 1] == 'A';
		uint32_t scope = b->meta.scope;
		if (!strcmp(c->path, "network-traffic:dst_ref.type") || !strcmp(c->path, "network-traffic:src_ref.type"))
			continue; /* the type half of MISP's "dst_ref.type = 'ipv4-addr' AND dst_ref.value = ..." */
		if (anded && !(i + 1 < n && strstr(cmp[i + 1].path, "_ref.type"))) {
			err = cs__corr_reject(b, origin, "AND of two indicators: not supported", pattern, strlen(pattern));
			break;
		}
		if (!kind) {
			char r[160];
			snprintf(r, sizeof(r), "object path %.80s is not matched on", c->path);
			err = cs__corr_reject(b, origin, r, pattern, strlen(pattern));
			continue;
		}
		if (role >= 0) /* this comparison only: the pattern's other comparisons keep the indicator's scope */
			b->meta.scope = 1u << role;
		if (kind == CS__K_TEXT) {
			for (int v = 0; v < c->nvals && !err; v++)
				err = !strcmp(c->op, "ISSUBSET")
					      ? cs__corr_reject(b, origin, "ISSUBSET on a text path", c->vals[v], strlen(c->vals[v]))
					      : cs__add_text(b, role, !strcmp(c->op, "IN") ? "=" : c->op, c->vals[v], origin);
			b->meta.scope = scope;
			continue;
		}
		if (!strcmp(c->op, "ISSUBSET")) {
			err = kind == CS_CORR_K_IP ? cs__add_or_reject(b, CS_CORR_K_CIDR, c->vals[0], strlen(c->vals[0]), origin)
						   : cs__corr_reject(b, origin, "ISSUBSET on a non-address path", c->vals[0],
								     strlen(c->vals[0]));
			b->meta.scope = scope;
			continue;
		}
		if (!strncmp(c->op, "MATCHES", 7) || !strcmp(c->op, "LIKE")) {
			err = strcmp(c->op, "LIKE") ? cs__add_or_reject(b, CS_CORR_K_REGEX, c->vals[0], strlen(c->vals[0]), origin)
						    : cs__corr_reject(b, origin, "LIKE on a path that is not text", c->vals[0],
								      strlen(c->vals[0]));
			b->meta.scope = scope;
			continue;
		}
		for (int v = 0; v < c->nvals && !err; v++)
			err = cs__add_or_reject(b, kind, c->vals[v], strlen(c->vals[v]), origin);
		b->meta.scope = scope;
	}
	cs_free(cmp);
	return err;
}

static cs_err_t cs__stix_indicator(cs_corr_builder_t *b, const char *path, json_t *o, const cs__stix_ctx_t *sx) {
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *pattern = json_string_value(json_object_get(o, "pattern"));
	const char *ptype = json_string_value(json_object_get(o, "pattern_type"));
	char origin[400], tags[1024];

	snprintf(origin, sizeof(origin), "%.255s:%.100s", path, id ? id : "indicator");
	if (!pattern)
		return cs__corr_reject(b, origin, "indicator without a pattern", "", 0);
	if (ptype && strcmp(ptype, "stix"))
		return cs__corr_reject(b, origin, "pattern_type is not stix", ptype, strlen(ptype));
	if (json_is_true(json_object_get(o, "revoked")))
		return cs__corr_reject(b, origin, "revoked", pattern, strlen(pattern));
	/* valid_from/valid_until are kept and applied at match time, against the event's time */
	cs__stix_meta(b, sx, o, tags, sizeof(tags));
	return cs__corr_stix_pattern(b, origin, pattern);
}

static cs_err_t cs__load_stix(cs_corr_builder_t *b, const char *path, json_t *root) {
	json_t *objs = json_object_get(root, "objects"), *o;
	cs__stix_ctx_t sx = {json_object()};
	size_t i;
	cs_err_t err = CS_ERR_OK;
	if (!sx.by_id)
		return CS_ERR_NOMEM;
	json_array_foreach(objs, i, o) {
		const char *t = json_string_value(json_object_get(o, "type"));
		const char *id = json_string_value(json_object_get(o, "id"));
		if (t && id && (!strcmp(t, "identity") || !strcmp(t, "marking-definition")))
			json_object_set(sx.by_id, id, o);
	}
	json_array_foreach(objs, i, o) {
		const char *t = json_string_value(json_object_get(o, "type"));
		if (!err && t && !strcmp(t, "indicator"))
			err = cs__stix_indicator(b, path, o, &sx);
	}
	json_decref(sx.by_id);
	cs__corr_meta_reset(b);
	return err;
}

/* ---- detection and the multi-file entry point ---- */

static int cs__ends(const char *s, const char *suffix) {
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcasecmp(s + a - b, suffix);
}

/* ---- the last good contents of each file (cs_corr_store_t) ---- */

struct cs_corr_store_s {
	struct cs__stored_s {
		char *path;
		char *data;
		size_t len;
		int64_t at_ms; /* when it was read */
	} *v;
	size_t cnt, cap;
	char **notes; /* the files the last load took from the store, and why */
	size_t note_cnt, note_cap;
};

cs_corr_store_t *cs_corr_store_new(void) {
	return cs_calloc(1, sizeof(cs_corr_store_t));
}

static void cs__store_notes_clear(cs_corr_store_t *st) {
	for (size_t i = 0; i < st->note_cnt; i++)
		cs_free(st->notes[i]);
	st->note_cnt = 0;
}

void cs_corr_store_destroy(cs_corr_store_t *st) {
	if (!st)
		return;
	for (size_t i = 0; i < st->cnt; i++) {
		cs_free(st->v[i].path);
		cs_free(st->v[i].data);
	}
	cs_free(st->v);
	cs__store_notes_clear(st);
	cs_free(st->notes);
	cs_free(st);
}

size_t cs_corr_store_fallback_count(const cs_corr_store_t *st) {
	return st ? st->note_cnt : 0;
}

const char *cs_corr_store_fallback(const cs_corr_store_t *st, size_t i) {
	return st && i < st->note_cnt ? st->notes[i] : NULL;
}

static struct cs__stored_s *cs__store_find(cs_corr_store_t *st, const char *path) {
	for (size_t i = 0; st && i < st->cnt; i++)
		if (!strcmp(st->v[i].path, path))
			return &st->v[i];
	return NULL;
}

/* Keeps data (taken over) as the last good contents of path. */
static void cs__store_put(cs_corr_store_t *st, const char *path, char *data, size_t len) {
	struct cs__stored_s *e = cs__store_find(st, path);
	if (!e) {
		char *p = cs_strdup(path);
		if (!p || cs_array_reserve(&st->v, &st->cap, st->cnt + 1, sizeof(*st->v))) {
			cs_free(p);
			cs_free(data);
			return; /* a fallback lost, nothing else */
		}
		e = &st->v[st->cnt++];
		memset(e, 0, sizeof(*e));
		e->path = p;
	}
	cs_free(e->data);
	e->data = data;
	e->len = len;
	e->at_ms = cs_wall_ms();
}

/* A whole file in memory (NUL-terminated); NULL with errstr set. */
static char *cs__slurp(const char *path, size_t *len, char *errstr, size_t errstr_size) {
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!fp) {
		cs_errstr_set(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;
		if (cs_array_reserve(&buf, &cap, n + 65536 + 1, 1)) {
			cs_errstr_set(errstr, errstr_size, "%s: out of memory", path);
			goto err;
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		cs_errstr_set(errstr, errstr_size, "%s: read error: %s", path, strerror(errno));
		goto err;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
err:
	fclose(fp);
	cs_free(buf);
	return NULL;
}

/* Loads one file's contents, data[0..n) (its name: path), in the format they are in. */
static cs_err_t cs__load_data(cs_corr_builder_t *b, const char *path, const char *data, size_t n, char *errstr,
			      size_t errstr_size) {
	FILE *fp;
	char head[512];
	size_t hn = n < sizeof(head) - 1 ? n : sizeof(head) - 1;
	int c = 0;
	cs_err_t err;

	memcpy(head, data, hn);
	head[hn] = '\0';
	for (size_t i = 0; i < hn && !c; i++)
		if (!isspace((unsigned char)head[i]))
			c = head[i];
	if (c == '{' || c == '[') {
		json_error_t jerr;
		json_t *root = json_loadb(data, n, 0, &jerr);
		if (!root) {
			cs_errstr_set(errstr, errstr_size, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
				      jerr.text);
			return CS_ERR_PARSE;
		}
		if (json_is_string(json_object_get(root, "type")) &&
		    !strcmp(json_string_value(json_object_get(root, "type")), "bundle"))
			err = cs__load_stix(b, path, root);
		else if (json_object_get(root, "Event") || json_object_get(root, "response") || json_is_array(root))
			err = cs__load_misp(b, path, root);
		else {
			cs_errstr_set(errstr, errstr_size, "%s: JSON that is neither a STIX bundle nor a MISP event", path);
			err = CS_ERR_PARSE;
		}
		json_decref(root);
		if (err == CS_ERR_NOMEM)
			cs_errstr_set(errstr, errstr_size, "%s: out of memory", path);
		return err;
	}
	if (!(fp = fmemopen((void *)data, n ? n : 1, "r"))) {
		cs_errstr_set(errstr, errstr_size, "%s: %s", path, strerror(errno));
		return CS_ERR_NOMEM;
	}
	if (n == 0)
		fgetc(fp); /* fmemopen wants a size; an empty file reads as empty */
	if (strstr(head, "#fields\tindicator") || cs__ends(path, ".intel"))
		err = cs__load_zeek(b, path, fp, errstr, errstr_size);
	else if (cs__ends(path, ".csv"))
		err = cs__load_csv(b, path, fp, errstr, errstr_size);
	else
		err = cs__corr_load_list(b, path, fp, errstr, errstr_size);
	fclose(fp);
	return err;
}

/*
 * Loads one file. With a store: a file that loads is kept there; one that
 * cannot be read or does not parse as a whole (it vanished during a feed
 * sync, it was cut short) is loaded from its last good contents instead,
 * and a note says so (cs_corr_store_fallback()).
 */
static cs_err_t cs__load_file(cs_corr_builder_t *b, cs_corr_store_t *st, const char *path, char *errstr,
			      size_t errstr_size) {
	size_t n = 0;
	char *data = cs__slurp(path, &n, errstr, errstr_size);
	cs_err_t err = data ? cs__load_data(b, path, data, n, errstr, errstr_size) : CS_ERR_IO;
	struct cs__stored_s *e;

	if (!err) {
		if (st)
			cs__store_put(st, path, data, n), data = NULL;
	} else if (err != CS_ERR_NOMEM && (e = cs__store_find(st, path))) {
		char note[700], when[32];
		cs_err_t err2;
		/* what the broken read added is thrown away with the builder's state of this file: a
		 * parse error leaves no indicator of it (JSON, a CSV header), a vanished file none */
		cs_time_format_iso8601(e->at_ms / 1000, when, sizeof(when));
		snprintf(note, sizeof(note), "%.500s; its last good contents (%zu bytes, read %s) are loaded instead",
			 errstr, e->len, when);
		if (!(err2 = cs__load_data(b, path, e->data, e->len, errstr, errstr_size))) {
			char *dup = cs_strdup(note);
			if (dup && !cs_array_reserve(&st->notes, &st->note_cap, st->note_cnt + 1, sizeof(*st->notes)))
				st->notes[st->note_cnt++] = dup;
			else
				cs_free(dup);
		}
		err = err2;
	}
	cs_free(data);
	return err;
}

cs_corr_db_t *cs_corr_db_load(const char *const *paths, size_t cnt, uint64_t version, char *errstr,
			      size_t errstr_size) {
	return cs_corr_db_load_ex(paths, cnt, NULL, version, errstr, errstr_size);
}

cs_corr_db_t *cs_corr_db_load_ex(const char *const *paths, size_t cnt, const char *warninglists_dir,
				 uint64_t version, char *errstr, size_t errstr_size) {
	cs_corr_load_opts_t opts = {warninglists_dir, CS_TLP_AMBER, NULL, NULL};
	return cs_corr_db_load_opts(paths, cnt, &opts, version, errstr, errstr_size);
}

cs_corr_db_t *cs_corr_db_load_opts(const char *const *paths, size_t cnt, const cs_corr_load_opts_t *opts,
				   uint64_t version, char *errstr, size_t errstr_size) {
	cs_corr_db_t *db;
	cs_corr_builder_t b;
	char what[300];
	const char *warninglists_dir = opts ? opts->warninglists_dir : NULL;

	if (cs__corr_builder_init(&b, version)) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (opts) {
		b.default_tlp = opts->default_tlp;
		b.cache_dir = opts->cache_dir && *opts->cache_dir ? opts->cache_dir : NULL;
	}
	if (opts && opts->store)
		cs__store_notes_clear(opts->store);
	for (size_t i = 0; i < cnt; i++) {
		char ferr[512] = "";
		const char *slash = strrchr(paths[i], '/');
		cs_err_t err;
		b.file_source = slash ? slash + 1 : paths[i];
		cs__corr_meta_reset(&b);
		err = cs__load_file(&b, opts ? opts->store : NULL, paths[i], ferr, sizeof(ferr));
		size_t pl = strlen(paths[i]);
		const char *why = !strncmp(ferr, paths[i], pl) && ferr[pl] == ':' ? ferr + pl + (ferr[pl + 1] == ' ' ? 2 : 1) : ferr;
		if (err == CS_ERR_NOMEM || (!err ? 0 : cs__corr_reject(&b, paths[i], why, "", 0))) {
			cs_errstr_set(errstr, errstr_size, "%s", ferr[0] ? ferr : "out of memory");
			cs__corr_builder_abort(&b);
			return NULL;
		}
		/* a file that cannot be read or parsed is one rejection; the others still load */
	}
	snprintf(what, sizeof(what), "%s%s", cnt ? paths[0] : "(no file)", cnt > 1 ? " and the other files" : "");
	if (!(db = cs__corr_builder_finish(&b, what, errstr, errstr_size)))
		return NULL;
	if (warninglists_dir && *warninglists_dir &&
	    cs__corr_apply_warninglists(db, warninglists_dir, errstr, errstr_size)) {
		cs_corr_db_destroy(db);
		return NULL;
	}
	return db;
}

/* ---- the change feed: a layer over a loaded set ---- */

static int cs__change_kind(const char *type) {
	static const cs__named_t kinds[] = {
		{"domain", CS_CORR_K_HOST}, {"hostname", CS_CORR_K_HOST}, {"ipv4", CS_CORR_K_IP},
		{"ipv6", CS_CORR_K_IP},     {"ip", CS_CORR_K_IP},          {"url", CS_CORR_K_URL},
		{"md5", CS_CORR_K_HASH},    {"sha1", CS_CORR_K_HASH},      {"sha256", CS_CORR_K_HASH},
		{"email", CS_CORR_K_EMAIL}, {"cidr", CS_CORR_K_CIDR},      {"pattern", CS_CORR_K_PATTERN},
		{"auto", CS_CORR_K_AUTO}};
	if (!type || !*type)
		return CS_CORR_K_AUTO;
	return cs__named(kinds, CS_ARRAY_SIZE(kinds), type);
}

cs_corr_db_t *cs_corr_db_overlay(const cs_corr_db_t *base, const cs_corr_change_t *changes, size_t cnt,
				 const cs_corr_load_opts_t *opts, uint64_t version, char *errstr, size_t errstr_size) {
	cs_corr_builder_t b;
	cs_corr_db_t *db;
	cs_err_t err = CS_ERR_OK;

	if (cs__corr_builder_init(&b, version)) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (opts) {
		b.default_tlp = opts->default_tlp;
		b.cache_dir = opts->cache_dir && *opts->cache_dir ? opts->cache_dir : NULL;
	}
	if (opts && opts->store)
		cs__store_notes_clear(opts->store);
	b.file_source = "indicator changes";
	for (size_t i = 0; i < cnt && !err; i++) {
		const cs_corr_change_t *c = &changes[i];
		char origin[300];
		int kind = cs__change_kind(c->type);
		snprintf(origin, sizeof(origin), "%s%.200s", c->id ? "" : "change #", c->id ? c->id : "");
		if (!c->id)
			snprintf(origin, sizeof(origin), "change #%zu", i + 1);
		if (!c->value || !*c->value) {
			err = cs__corr_reject(&b, origin, "change without a value", "", 0);
			continue;
		}
		if (!kind) {
			err = cs__corr_reject(&b, origin, "unknown indicator type", c->type, strlen(c->type));
			continue;
		}
		cs__corr_meta_reset(&b);
		b.meta.revoked = c->revoke;
		b.meta.source = c->source;
		b.meta.tags = c->tags;
		b.meta.tlp = c->tlp;
		b.meta.confidence = c->confidence;
		b.meta.valid_from_ms = c->valid_from_ms;
		b.meta.valid_until_ms = c->valid_until_ms;
		{
			const char *why;
			err = cs__corr_add(&b, kind, c->value, strlen(c->value), origin, &why);
			if (!err && why)
				err = cs__corr_reject(&b, origin, why, c->value, strlen(c->value));
		}
	}
	if (err) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		cs__corr_builder_abort(&b);
		return NULL;
	}
	if (!(db = cs__corr_builder_finish(&b, "indicator changes", errstr, errstr_size)))
		return NULL;
	/* every value of the layer masks the base's: revoked, or redefined with new metadata */
	for (size_t i = 0; i < db->cnt; i++) {
		char key[CS_NORM_CAP + 16];
		cs__mask_key(&db->inds[i], key, sizeof(key));
		if (!cs__strtab_put(&db->masked, key)) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			cs_corr_db_destroy(db);
			return NULL;
		}
	}
	if (opts && opts->warninglists_dir && *opts->warninglists_dir &&
	    cs__corr_apply_warninglists(db, opts->warninglists_dir, errstr, errstr_size)) {
		cs_corr_db_destroy(db);
		return NULL;
	}
	db->id_base = (uint32_t)cs_corr_db_count(base);
	for (size_t i = 0; i < db->cnt; i++)
		db->inds[i].id += db->id_base;
	db->base = cs_corr_db_ref(base);
	return db;
}
