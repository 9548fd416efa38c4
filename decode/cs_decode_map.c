/*
 * cs_decode_map.c - the built-in field maps and the tries built from them.
 * DESIGN: a field map says which paths of a format are observables (with
 * their role) or metadata. A path "a.b.c" is entered both nested (a -> b ->
 * c) and flat ("a.b.c" as one key, as Zeek and flattened ECS write it), and
 * every split in between. AUTO is the union of the JSON formats: their
 * paths do not collide in meaning. Built once per configuration, then
 * shared read-only by every decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_decode_int.h"

typedef struct cs__field_s {
	const char *path;
	cs_dleaf_kind_t kind;
	cs_obs_role_t role;
} cs__field_t;

#define R(x) CS_OBS_ROLE_##x
#define K(x) CS_DLEAF_##x

static const cs__field_t cs__eve[] = {
	{"timestamp", K(TIME), 0},
	{"event_type", K(MARKER), 0},
	{"src_ip", K(IP), R(SRC)},
	{"dest_ip", K(IP), R(DST)},
	{"dns.rrname", K(HOST), R(DNS_QUERY)},
	{"dns.query.rrname", K(HOST), R(DNS_QUERY)},
	{"dns.answers.rdata", K(HOST), R(DNS_ANSWER)},
	{"dns.grouped.A", K(IP), R(DNS_ANSWER)},
	{"dns.grouped.AAAA", K(IP), R(DNS_ANSWER)},
	{"dns.grouped.CNAME", K(HOST), R(DNS_ANSWER)},
	{"tls.sni", K(HOST), R(TLS_SNI)},
	{"http.hostname", K(URL_HOST), R(HTTP_HOST)},
	{"http.url", K(URL_PATH), R(URL)},
	{"http.http_user_agent", K(TEXT), R(USER_AGENT)},
	{"fileinfo.md5", K(HASH), R(FILE_HASH)},
	{"fileinfo.sha1", K(HASH), R(FILE_HASH)},
	{"fileinfo.sha256", K(HASH), R(FILE_HASH)},
	{"fileinfo.filename", K(TEXT), R(FILE_NAME)},
	{"email.subject", K(TEXT), R(MAIL_SUBJECT)},
	{"email.from", K(EMAIL), R(MAIL_SENDER)},
	{"email.to", K(EMAIL), R(MAIL_RECIPIENT)},
	{"email.cc", K(EMAIL), R(MAIL_RECIPIENT)},
	{"smtp.mail_from", K(EMAIL), R(MAIL_SENDER)},
	{"smtp.rcpt_to", K(EMAIL), R(MAIL_RECIPIENT)},
	{"smtp.helo", K(HOST), R(HOSTNAME)},
	{"alert.signature", K(TEXT), R(RULE_NAME)},
	{"alert.category", K(CATEGORY), 0},
	{"alert.severity", K(SEVERITY), 0},
	{NULL, 0, 0},
};

static const cs__field_t cs__ecs[] = {
	{"@timestamp", K(TIME), 0},
	{"ecs.version", K(MARKER), 0},
	{"source.ip", K(IP), R(SRC)},
	{"destination.ip", K(IP), R(DST)},
	{"client.ip", K(IP), R(SRC)},
	{"server.ip", K(IP), R(DST)},
	{"source.domain", K(HOST), R(SRC)},
	{"destination.domain", K(HOST), R(DST)},
	{"dns.question.name", K(HOST), R(DNS_QUERY)},
	{"dns.resolved_ip", K(IP), R(DNS_ANSWER)},
	{"dns.answers.data", K(HOST), R(DNS_ANSWER)},
	{"url.full", K(URL), R(URL)},
	{"url.original", K(URL_PATH), R(URL)},
	{"url.domain", K(URL_HOST), R(URL_HOST)},
	{"url.path", K(TEXT), R(URL_PATH)},
	{"tls.client.server_name", K(HOST), R(TLS_SNI)},
	{"tls.server.hash.sha256", K(HASH), R(CERT_HASH)},
	{"tls.server.hash.sha1", K(HASH), R(CERT_HASH)},
	{"file.hash.md5", K(HASH), R(FILE_HASH)},
	{"file.hash.sha1", K(HASH), R(FILE_HASH)},
	{"file.hash.sha256", K(HASH), R(FILE_HASH)},
	{"file.name", K(TEXT), R(FILE_NAME)},
	{"email.subject", K(TEXT), R(MAIL_SUBJECT)},
	{"tls.server.hash.md5", K(HASH), R(CERT_HASH)},
	{"process.hash.md5", K(HASH), R(FILE_HASH)},
	{"process.hash.sha1", K(HASH), R(FILE_HASH)},
	{"process.hash.sha256", K(HASH), R(FILE_HASH)},
	{"email.from.address", K(EMAIL), R(MAIL_SENDER)},
	{"email.sender.address", K(EMAIL), R(MAIL_SENDER)},
	{"email.to.address", K(EMAIL), R(MAIL_RECIPIENT)},
	{"user_agent.original", K(TEXT), R(USER_AGENT)},
	{"process.command_line", K(TEXT), R(COMMAND_LINE)},
	{"process.name", K(TEXT), R(PROCESS_NAME)},
	{"rule.name", K(TEXT), R(RULE_NAME)},
	{"event.severity", K(SEVERITY), 0},
	{"event.category", K(CATEGORY), 0},
	{"organization.id", K(ORG), 0},
	{"organization.name", K(ORG), 0},
	{NULL, 0, 0},
};

static const cs__field_t cs__zeek[] = {
	{"ts", K(TIME), 0},
	{"_path", K(MARKER), 0},
	{"uid", K(MARKER), 0},
	{"id.orig_h", K(IP), R(SRC)},
	{"id.resp_h", K(IP), R(DST)},
	{"query", K(HOST), R(DNS_QUERY)},
	{"answers", K(HOST), R(DNS_ANSWER)},
	{"server_name", K(HOST), R(TLS_SNI)},
	{"host", K(URL_HOST), R(HTTP_HOST)},
	{"uri", K(URL_PATH), R(URL)},
	{"user_agent", K(TEXT), R(USER_AGENT)},
	{"md5", K(HASH), R(FILE_HASH)},
	{"sha1", K(HASH), R(FILE_HASH)},
	{"sha256", K(HASH), R(FILE_HASH)},
	{"filename", K(TEXT), R(FILE_NAME)},
	{"fingerprint", K(HASH), R(CERT_HASH)},
	{"cert_chain_fps", K(HASH), R(CERT_HASH)},
	{"san.dns", K(HOST), R(HOSTNAME)},
	{"mailfrom", K(EMAIL), R(MAIL_SENDER)},
	{"rcptto", K(EMAIL), R(MAIL_RECIPIENT)},
	{"from", K(EMAIL), R(MAIL_SENDER)},
	{"to", K(EMAIL), R(MAIL_RECIPIENT)},
	{"helo", K(HOST), R(HOSTNAME)},
	{"seen.indicator", K(HOST), R(INTEL)},
	{"note", K(TEXT), R(RULE_NAME)},
	{NULL, 0, 0},
};

static const cs__field_t cs__ocsf[] = {
	{"time", K(TIME), 0},
	{"class_uid", K(MARKER), 0},
	{"src_endpoint.ip", K(IP), R(SRC)},
	{"dst_endpoint.ip", K(IP), R(DST)},
	{"src_endpoint.hostname", K(HOST), R(SRC)},
	{"dst_endpoint.hostname", K(HOST), R(DST)},
	{"query.hostname", K(HOST), R(DNS_QUERY)},
	{"answers.rdata", K(HOST), R(DNS_ANSWER)},
	{"http_request.url.url_string", K(URL), R(URL)},
	{"http_request.url.hostname", K(HOST), R(HTTP_HOST)},
	{"http_request.url.path", K(TEXT), R(URL_PATH)},
	{"http_request.user_agent", K(TEXT), R(USER_AGENT)},
	{"file.hashes.value", K(HASH), R(FILE_HASH)},
	{"file.name", K(TEXT), R(FILE_NAME)},
	{"email.subject", K(TEXT), R(MAIL_SUBJECT)},
	{"email.from", K(EMAIL), R(MAIL_SENDER)},
	{"email.to", K(EMAIL), R(MAIL_RECIPIENT)},
	{"finding_info.title", K(TEXT), R(RULE_NAME)},
	{"process.cmd_line", K(TEXT), R(COMMAND_LINE)},
	{"actor.process.cmd_line", K(TEXT), R(COMMAND_LINE)},
	{"process.name", K(TEXT), R(PROCESS_NAME)},
	{"actor.process.name", K(TEXT), R(PROCESS_NAME)},
	{"severity_id", K(SEVERITY), 0},
	{"category_name", K(CATEGORY), 0},
	{NULL, 0, 0},
};

#undef R
#undef K

static const cs__field_t *cs__builtin(cs_decode_fmt_t fmt) {
	switch (fmt) {
	case CS_DECODE_FMT_ECS: return cs__ecs;
	case CS_DECODE_FMT_EVE: return cs__eve;
	case CS_DECODE_FMT_ZEEK: return cs__zeek;
	case CS_DECODE_FMT_OCSF: return cs__ocsf;
	default: return NULL;
	}
}

static cs_dnode_t *cs__node_new(cs_decode_conf_t *conf, const char *key, size_t klen) {
	cs_dnode_t *n = cs_calloc(1, sizeof(*n));
	/* 16 zero bytes after the key: the scanner compares keys 16 bytes at a time */
	if (!n || !(n->key = cs_calloc(1, klen + 16))) {
		cs_free(n);
		return NULL;
	}
	memcpy(n->key, key, klen);
	n->klen = (uint32_t)klen;
	n->id = conf->node_cnt++;
	return n;
}

static char cs__none_key[32];
const cs_dnode_t cs__dnode_none = {.key = cs__none_key, .klen = UINT32_MAX};

/*
 * A table where no two kids share a slot: the smallest size of at least twice
 * the kids, and the first seed that separates them (a few tries at most).
 * Two keys the slot hash cannot tell apart (same length and same first 16
 * bytes: only a configuration can make them) leave the node without a
 * table: its kids are then searched one by one (cs__dnode_kid).
 */
static int cs__rehash(cs_dnode_t *n) {
	uint32_t bits = 1;
	const cs_dnode_t **tab;

	cs_free((void *)n->tab);
	n->tab = NULL;
	while ((1u << bits) < n->nkids * 2)
		bits++;
	for (uint32_t top = bits + 4; bits <= top; bits++) {
		uint32_t size = 1u << bits;
		if (!(tab = cs_calloc(size, sizeof(*tab))))
			return -1;
		for (uint32_t seed = 0; seed < 64; seed++) {
			uint32_t k;
			for (uint32_t i = 0; i < size; i++)
				tab[i] = &cs__dnode_none;
			n->seed = seed * 0x9E3779B9u;
			n->shift = 32 - bits;
			for (k = 0; k < n->nkids; k++) {
				uint32_t i = cs__dnode_slot(n, n->kids[k]->key, n->kids[k]->klen);
				if (tab[i] != &cs__dnode_none)
					break;
				tab[i] = n->kids[k];
			}
			if (k == n->nkids) {
				n->tab = tab;
				return 0;
			}
		}
		cs_free((void *)tab);
	}
	return 0; /* no table: one by one */
}

/* The kid of n with key, made if missing (while building, nodes have no table yet: cs__dnode_kid
 * searches the kids one by one; the tables come after, cs__tables). */
static cs_dnode_t *cs__kid_get(cs_decode_conf_t *conf, cs_dnode_t *n, const char *key, size_t klen) {
	cs_dnode_t *k = (cs_dnode_t *)cs__dnode_kid(n, key, klen), **nk;
	if (k)
		return k;
	if (!(nk = cs_reallocarray(n->kids, n->nkids + 1, sizeof(*nk))))
		return NULL;
	n->kids = nk;
	if (!(k = cs__node_new(conf, key, klen)))
		return NULL;
	n->kids[n->nkids++] = k;
	return k;
}

/* The perfect-hash tables of n and every node below it. */
static int cs__tables(cs_dnode_t *n) {
	if (n->nkids && cs__rehash(n))
		return -1;
	for (uint32_t i = 0; i < n->nkids; i++)
		if (cs__tables(n->kids[i]))
			return -1;
	return 0;
}

/* Enters path[0..len) below n, for every way of splitting it at dots. */
static int cs__insert(cs_decode_conf_t *conf, cs_dnode_t *n, const char *path, size_t len,
		      const cs_dleaf_t *leaf) {
	for (size_t i = 0; i <= len; i++) {
		cs_dnode_t *k;
		if (i < len && path[i] != '.')
			continue;
		if (!(k = cs__kid_get(conf, n, path, i)))
			return -1;
		if (i == len) {
			int dup = 0;
			for (uint32_t j = 0; j < k->nleaves; j++)
				dup |= !memcmp(&k->leaves[j], leaf, sizeof(*leaf));
			if (!dup) {
				if (k->nleaves == CS_DNODE_MAX_LEAVES)
					return -1;
				k->leaves[k->nleaves++] = *leaf;
			}
		} else if (cs__insert(conf, k, path + i + 1, len - i - 1, leaf)) {
			return -1;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	cs_dleaf_kind_t kind;
} cs__kinds[] = {{"ip", CS_DLEAF_IP},     {"host", CS_DLEAF_HOST}, {"url", CS_DLEAF_URL},
		 {"hash", CS_DLEAF_HASH}, {"email", CS_DLEAF_EMAIL}, {"text", CS_DLEAF_TEXT}};

/* "path=type/role,path=type/role" */
static cs_err_t cs__insert_extra(cs_decode_conf_t *conf, cs_dnode_t *root, cs_decode_fmt_t fmt,
				 const char *spec, char *errstr, size_t errstr_size) {
	char *dup = cs_strdup(spec), *save = NULL, *item;
	cs_err_t err = CS_ERR_OK;

	if (!dup)
		return CS_ERR_NOMEM;
	for (item = strtok_r(dup, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *sl;
		cs_dleaf_t leaf = {0, 0, (uint8_t)fmt};
		int kind = -1, role = -1;
		while (*item == ' ')
			item++;
		if (!eq || !(sl = strchr(eq, '/'))) {
			cs_errstr_set(errstr, errstr_size, "decode.fields.%s: \"%s\": expected path=type/role",
				      cs_decode_fmt2str(fmt), item);
			err = CS_ERR_CONF_VALUE;
			break;
		}
		*eq = *sl = '\0';
		for (size_t i = 0; i < CS_ARRAY_SIZE(cs__kinds); i++)
			if (!strcmp(eq + 1, cs__kinds[i].name))
				kind = (int)cs__kinds[i].kind;
		for (int r = 0; r < CS_OBS__ROLE_CNT; r++)
			if (!strcmp(sl + 1, cs_obs_role2str((cs_obs_role_t)r)))
				role = r;
		if (kind < 0 || role < 0 || !*item) {
			cs_errstr_set(errstr, errstr_size,
				      "decode.fields.%s: \"%s\": type must be ip, host, url, hash, email or text, "
				      "role one of the observable roles (docs/FORMATS.md)",
				      cs_decode_fmt2str(fmt), item);
			err = CS_ERR_CONF_VALUE;
			break;
		}
		leaf.kind = (uint8_t)kind;
		leaf.role = (uint8_t)role;
		if (cs__insert(conf, root, item, strlen(item), &leaf)) {
			err = CS_ERR_NOMEM;
			cs_errstr_set(errstr, errstr_size, "out of memory");
			break;
		}
	}
	cs_free(dup);
	return err;
}

cs_err_t cs__decode_conf_build(cs_decode_conf_t *conf, char *errstr, size_t errstr_size) {
	if (conf->built)
		return CS_ERR_OK;
	for (int f = 0; f < CS_DECODE_FMT__CNT; f++) {
		if (f == CS_DECODE_FMT_CEF)
			continue;
		if (!(conf->root[f] = cs__node_new(conf, "", 0)))
			goto nomem;
	}
	for (int f = CS_DECODE_FMT_ECS; f < CS_DECODE_FMT__CNT; f++) {
		const cs__field_t *map = cs__builtin((cs_decode_fmt_t)f);
		for (; map && map->path; map++) {
			cs_dleaf_t leaf = {(uint8_t)map->kind, (uint8_t)map->role, (uint8_t)f};
			if (cs__insert(conf, conf->root[f], map->path, strlen(map->path), &leaf) ||
			    cs__insert(conf, conf->root[CS_DECODE_FMT_AUTO], map->path, strlen(map->path), &leaf))
				goto nomem;
		}
		if (conf->fields[f] && f != CS_DECODE_FMT_CEF) {
			cs_err_t err;
			if ((err = cs__insert_extra(conf, conf->root[f], (cs_decode_fmt_t)f, conf->fields[f], errstr,
						    errstr_size)) ||
			    (err = cs__insert_extra(conf, conf->root[CS_DECODE_FMT_AUTO], (cs_decode_fmt_t)f,
						    conf->fields[f], errstr, errstr_size)))
				return err;
		}
	}
	for (int f = 0; f < CS_DECODE_FMT__CNT; f++)
		if (conf->root[f] && cs__tables(conf->root[f]))
			goto nomem;
	conf->built = 1;
	return CS_ERR_OK;
nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory building the field maps");
	return CS_ERR_NOMEM;
}

void cs__dnode_free(cs_dnode_t *n);
void cs__dnode_free(cs_dnode_t *n) {
	if (!n)
		return;
	for (uint32_t i = 0; i < n->nkids; i++)
		cs__dnode_free(n->kids[i]);
	cs_free(n->kids);
	cs_free((void *)n->tab);
	cs_free(n->key);
	cs_free(n);
}

int cs_decode_map_entry(cs_decode_fmt_t fmt, size_t i, const char **path, const char **kind, cs_obs_role_t *role) {
	static const char *kinds[] = {"ip",   "host", "url",      "url_host", "url_path", "hash",  "email",
				      "text", "time", "org",      "severity", "category", "marker"};
	const cs__field_t *map = cs__builtin(fmt);
	size_t n = 0;
	while (map && map[n].path)
		n++;
	if (i >= n)
		return -1;
	*path = map[i].path;
	*kind = kinds[map[i].kind];
	*role = map[i].role;
	return 0;
}
