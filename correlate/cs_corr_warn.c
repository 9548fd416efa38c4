/*
 * cs_corr_warn.c - MISP warning lists: values that must never alert
 * (public resolvers, top sites, RFC 1918, empty-file hashes...).
 *
 * DESIGN: applied once, when a set is built: every indicator whose value is
 * on a list applicable to its type (the list's matching_attributes) is
 * flagged with the list, and stays in the set, so that its hits can be
 * suppressed and counted under the list's name. Types: string (exact; a
 * leading dot means "this domain and its subdomains"), hostname (the domain
 * and its subdomains), cidr (prefixes and addresses), substring and regex
 * (one Hyperscan database of every such entry, scanned over each indicator's
 * value; a regex Hyperscan cannot take is skipped and listed with the set's
 * rejections). A list without matching_attributes applies to every type, as
 * in MISP. The lookup tables live only while the set is built. Loader thread
 * only; jansson (cold path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <hs/hs.h>

#include "cs_corr_int.h"

/* A string -> list index table (open addressing, keys owned). */
typedef struct cs__wmap_s {
	char **keys;      /* may hold NUL bytes (network addresses): lengths in klens */
	uint16_t *klens;
	uint8_t *salts;   /* which table a key belongs to */
	int *vals;
	size_t size, cnt;
} cs__wmap_t;

static uint64_t cs__wh(const char *s, size_t n, int salt) {
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)salt;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int cs__wmap_put(cs__wmap_t *m, const char *k, size_t n, int v, int salt) {
	size_t j;
	if (n > 65535)
		return 0;
	if ((m->cnt + 1) * 2 > m->size) {
		size_t ns = m->size ? m->size * 2 : 1024;
		char **nk = cs_calloc(ns, sizeof(*nk));
		uint16_t *nl = cs_calloc(ns, sizeof(*nl));
		uint8_t *nsalt = cs_calloc(ns, sizeof(*nsalt));
		int *nv = cs_calloc(ns, sizeof(*nv));
		if (!nk || !nl || !nsalt || !nv) {
			cs_free(nk);
			cs_free(nl);
			cs_free(nsalt);
			cs_free(nv);
			return -1;
		}
		for (size_t i = 0; i < m->size; i++) {
			if (!m->keys[i])
				continue;
			j = cs__wh(m->keys[i], m->klens[i], m->salts[i]) & (ns - 1);
			while (nk[j])
				j = (j + 1) & (ns - 1);
			nk[j] = m->keys[i];
			nl[j] = m->klens[i];
			nsalt[j] = m->salts[i];
			nv[j] = m->vals[i];
		}
		cs_free(m->keys);
		cs_free(m->klens);
		cs_free(m->salts);
		cs_free(m->vals);
		m->keys = nk;
		m->klens = nl;
		m->salts = nsalt;
		m->vals = nv;
		m->size = ns;
	}
	for (j = cs__wh(k, n, salt) & (m->size - 1); m->keys[j]; j = (j + 1) & (m->size - 1))
		if (m->klens[j] == n && m->salts[j] == salt && !memcmp(m->keys[j], k, n))
			return 0; /* first list wins */
	if (!(m->keys[j] = cs_malloc(n ? n : 1)))
		return -1;
	memcpy(m->keys[j], k, n);
	m->klens[j] = (uint16_t)n;
	m->salts[j] = (uint8_t)salt;
	m->vals[j] = v;
	m->cnt++;
	return 0;
}

static int cs__wmap_get(const cs__wmap_t *m, const char *k, size_t n, int salt) {
	if (!m->size)
		return -1;
	for (size_t j = cs__wh(k, n, salt) & (m->size - 1); m->keys[j]; j = (j + 1) & (m->size - 1))
		if (m->klens[j] == n && m->salts[j] == salt && !memcmp(m->keys[j], k, n))
			return m->vals[j];
	return -1;
}

static void cs__wmap_free(cs__wmap_t *m) {
	for (size_t i = 0; i < m->size; i++)
		cs_free(m->keys[i]);
	cs_free(m->keys);
	cs_free(m->klens);
	cs_free(m->salts);
	cs_free(m->vals);
}

/* salts: which table a key belongs to */
#define CS__W_EXACT 1  /* + type bits below */
#define CS__W_SUFFIX 2
#define CS__W_NET4 3   /* key: 4 bytes + length byte */
#define CS__W_NET6 4

/* which observable types a list applies to, from its matching_attributes */
#define CS__A_IP 1
#define CS__A_DOMAIN 2
#define CS__A_URL 4
#define CS__A_HASH 8
#define CS__A_EMAIL 16
#define CS__A_ALL 31

typedef struct cs__wl_s {
	cs__wmap_t map;
	int *applies; /* [list] CS__A_* bits */
	uint8_t lens4[33], lens6[129];
	/* substring and regex entries: Hyperscan expressions, flags, and their list's index (also
	 * the Hyperscan id of the expression); pcap is the capacity of all three */
	char **pexpr;
	unsigned *pflags, *plist;
	size_t pcnt, pcap;
} cs__wl_t;

/* Appends "warning list <name>: <what>" to the set's rejections. */
static int cs__wl_reject(cs_corr_db_t *db, const char *name, const char *what, const char *entry, const char *why) {
	char **n = cs_reallocarray(db->rejects, db->reject_cnt + 1, sizeof(*n));
	char buf[1024];
	if (!n)
		return -1;
	db->rejects = n;
	snprintf(buf, sizeof(buf), "warning list \"%s\": %s \"%.200s\" skipped: %s", name, what, entry, why);
	if (!(db->rejects[db->reject_cnt] = cs_strdup(buf)))
		return -1;
	db->reject_cnt++;
	return 0;
}

/* A substring or regex entry, as a Hyperscan expression (a substring is escaped byte by byte). */
static int cs__wl_add_pattern(cs__wl_t *wl, cs_corr_db_t *db, int list, const char *name, int regex, const char *e) {
	size_t n = strlen(e);
	unsigned flags = HS_FLAG_SINGLEMATCH;
	char *x;
	if (n == 0)
		return 0;
	if (regex) {
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *cerr = NULL;
		if (hs_expression_info(e, flags, &info, &cerr) != HS_SUCCESS) {
			int rc = cs__wl_reject(db, name, "regex", e, cerr ? cerr->message : "rejected by Hyperscan");
			hs_free_compile_error(cerr);
			return rc;
		}
		free(info);
		if (!(x = cs_strdup(e)))
			return -1;
	} else {
		char *p;
		if (!(x = cs_malloc(n * 4 + 1)))
			return -1;
		p = x;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)e[i];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
				*p++ = (char)c;
			else
				p += sprintf(p, "\\x%02x", c);
		}
		*p = '\0';
		flags |= HS_FLAG_CASELESS;
	}
	if (wl->pcnt == wl->pcap) { /* the three arrays grow together */
		size_t ncap = wl->pcap ? wl->pcap * 2 : 64;
		char **ne = cs_reallocarray(wl->pexpr, ncap, sizeof(*ne));
		unsigned *nf = ne ? cs_reallocarray(wl->pflags, ncap, sizeof(*nf)) : NULL;
		unsigned *nl = nf ? cs_reallocarray(wl->plist, ncap, sizeof(*nl)) : NULL;
		if (ne)
			wl->pexpr = ne;
		if (nf)
			wl->pflags = nf;
		if (!nl) {
			cs_free(x);
			return -1;
		}
		wl->plist = nl;
		wl->pcap = ncap;
	}
	wl->pexpr[wl->pcnt] = x;
	wl->pflags[wl->pcnt] = flags;
	wl->plist[wl->pcnt] = (unsigned)list;
	wl->pcnt++;
	return 0;
}

static int cs__lower(char *s, size_t n) {
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] + 32);
	return 0;
}

static int cs__wl_add_entry(cs__wl_t *wl, int list, const char *type, const char *e) {
	char buf[300];
	size_t n = strlen(e);
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, e, n + 1);
	cs__lower(buf, n);
	if (!strcmp(type, "cidr")) {
		uint8_t net[16] = {0};
		char *slash = strchr(buf, '/');
		int v6 = strchr(buf, ':') != NULL, len = v6 ? 128 : 32;
		char key[17];
		if (slash) {
			*slash = '\0';
			len = atoi(slash + 1);
		}
		if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, net) != 1 || len < 0 || len > (v6 ? 128 : 32))
			return 0;
		cs__corr_mask(net, v6 ? 16 : 4, len);
		memcpy(key, net, v6 ? 16 : 4);
		key[v6 ? 16 : 4] = (char)len;
		(v6 ? wl->lens6 : wl->lens4)[len] = 1;
		return cs__wmap_put(&wl->map, key, v6 ? 17 : 5, list, v6 ? CS__W_NET6 : CS__W_NET4);
	}
	if (!strcmp(type, "hostname") || buf[0] == '.') {
		const char *d = buf[0] == '.' ? buf + 1 : buf;
		size_t dl = strlen(d);
		while (dl && d[dl - 1] == '.')
			dl--;
		return cs__wmap_put(&wl->map, d, dl, list, CS__W_SUFFIX);
	}
	return cs__wmap_put(&wl->map, buf, n, list, CS__W_EXACT);
}

static int cs__wl_load(cs__wl_t *wl, cs_corr_db_t *db, const char *path) {
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *list, *attrs, *v;
	const char *name, *type;
	size_t i;
	int applies = 0, idx;
	char **nn;
	int *na;

	if (!root)
		return 0; /* not a list: skipped */
	name = json_string_value(json_object_get(root, "name"));
	type = json_string_value(json_object_get(root, "type"));
	list = json_object_get(root, "list");
	attrs = json_object_get(root, "matching_attributes");
	if (!name || !type || !json_is_array(list) ||
	    (strcmp(type, "string") && strcmp(type, "hostname") && strcmp(type, "cidr") && strcmp(type, "substring") &&
	     strcmp(type, "regex"))) {
		json_decref(root);
		return 0; /* not a warning list cshield knows */
	}
	json_array_foreach(attrs, i, v) {
		const char *a = json_string_value(v);
		if (!a)
			continue;
		if (strstr(a, "ip-"))
			applies |= CS__A_IP;
		if (!strcmp(a, "domain") || !strcmp(a, "hostname") || !strcmp(a, "domain|ip"))
			applies |= CS__A_DOMAIN;
		if (!strcmp(a, "url") || !strcmp(a, "uri"))
			applies |= CS__A_URL;
		if (!strcmp(a, "md5") || !strcmp(a, "sha1") || !strcmp(a, "sha256"))
			applies |= CS__A_HASH;
		if (strstr(a, "email"))
			applies |= CS__A_EMAIL;
	}
	if (!json_array_size(attrs))
		applies = CS__A_ALL; /* MISP: no matching_attributes, every type */
	idx = (int)db->warn_cnt;
	if (!(nn = cs_reallocarray(db->warn_names, db->warn_cnt + 1, sizeof(*nn))))
		goto nomem;
	db->warn_names = nn;
	if (!(na = cs_reallocarray(wl->applies, db->warn_cnt + 1, sizeof(*na))))
		goto nomem;
	wl->applies = na;
	wl->applies[idx] = applies;
	if (!(db->warn_names[idx] = cs_strdup(name)))
		goto nomem;
	db->warn_cnt++;
	if (!strcmp(type, "substring") || !strcmp(type, "regex")) {
		json_array_foreach(list, i, v) if (json_is_string(v) &&
						   cs__wl_add_pattern(wl, db, idx, name, type[0] == 'r', json_string_value(v)))
			goto nomem;
	} else {
		json_array_foreach(list, i, v) if (json_is_string(v) && cs__wl_add_entry(wl, idx, type, json_string_value(v)))
			goto nomem;
	}
	json_decref(root);
	return 0;
nomem:
	json_decref(root);
	return -1;
}

/* The list a domain (or one of its parents) is on, for lists that apply to `what`. */
static int cs__wl_domain(const cs__wl_t *wl, const char *d, size_t n, int what) {
	int l = cs__wmap_get(&wl->map, d, n, CS__W_EXACT);
	if (l >= 0 && (wl->applies[l] & what))
		return l;
	for (const char *p = d, *end = d + n; p; p = memchr(p, '.', (size_t)(end - p)), p = p ? p + 1 : NULL)
		if ((l = cs__wmap_get(&wl->map, p, (size_t)(end - p), CS__W_SUFFIX)) >= 0 && (wl->applies[l] & what))
			return l;
	return -1;
}

static int cs__wl_addr(const cs__wl_t *wl, const char *value, int maxlen) {
	char txt[64], key[17];
	uint8_t addr[16] = {0}, net[16];
	int v6 = strchr(value, ':') != NULL, l;
	snprintf(txt, sizeof(txt), "%.*s", (int)strcspn(value, "/"), value);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, txt, addr) != 1)
		return -1;
	for (int len = maxlen; len >= 0; len--) {
		if (!(v6 ? wl->lens6 : wl->lens4)[len])
			continue;
		memcpy(net, addr, 16);
		cs__corr_mask(net, v6 ? 16 : 4, len);
		memcpy(key, net, v6 ? 16 : 4);
		key[v6 ? 16 : 4] = (char)len;
		if ((l = cs__wmap_get(&wl->map, key, v6 ? 17 : 5, v6 ? CS__W_NET6 : CS__W_NET4)) >= 0 &&
		    (wl->applies[l] & CS__A_IP))
			return l;
	}
	return -1;
}

static void cs__wl_free(cs__wl_t *wl) {
	cs__wmap_free(&wl->map);
	cs_free(wl->applies);
	for (size_t i = 0; i < wl->pcnt; i++)
		cs_free(wl->pexpr[i]);
	cs_free(wl->pexpr);
	cs_free(wl->pflags);
	cs_free(wl->plist);
}

/* The CS__A_* bit of an indicator's type (0: no list applies). */
static int cs__wl_what(const cs_corr_ind_t *ind) {
	switch (ind->type) {
	case CS_OBS_IPV4:
	case CS_OBS_IPV6: return CS__A_IP;
	case CS_OBS_DOMAIN: return CS__A_DOMAIN;
	case CS_OBS_URL: return CS__A_URL;
	case CS_OBS_MD5:
	case CS_OBS_SHA1:
	case CS_OBS_SHA256: return CS__A_HASH;
	case CS_OBS_EMAIL: return CS__A_EMAIL;
	default: return 0;
	}
}

typedef struct cs__wl_scan_s {
	const cs__wl_t *wl;
	int what, best;
} cs__wl_scan_t;

static int cs__wl_on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx) {
	cs__wl_scan_t *sc = ctx;
	int l = (int)id; /* an expression's id is its list */
	(void)from, (void)to, (void)flags;
	if ((sc->wl->applies[l] & sc->what) && (sc->best < 0 || l < sc->best))
		sc->best = l; /* the first list (in name order) wins, as for the other types */
	return 0;
}

/* Substring and regex lists over the indicators no other list named. */
static cs_err_t cs__wl_apply_patterns(cs__wl_t *wl, cs_corr_db_t *db, char *errstr, size_t errstr_size) {
	hs_database_t *hdb = NULL;
	hs_scratch_t *scr = NULL;
	hs_compile_error_t *cerr = NULL;

	if (!wl->pcnt)
		return CS_ERR_OK;
	if (hs_compile_multi((const char *const *)wl->pexpr, wl->pflags, wl->plist, (unsigned)wl->pcnt, HS_MODE_BLOCK,
			     NULL, &hdb, &cerr) != HS_SUCCESS) {
		/* each regex passed hs_expression_info(): what fails here fails as a whole (size, resources) */
		int rc = cs__wl_reject(db, cerr && cerr->expression >= 0 ? db->warn_names[wl->plist[cerr->expression]] : "*",
				       "substring/regex entries", "all", cerr ? cerr->message : "Hyperscan compile failed");
		hs_free_compile_error(cerr);
		return rc ? CS_ERR_NOMEM : CS_ERR_OK;
	}
	if (hs_alloc_scratch(hdb, &scr) != HS_SUCCESS) {
		hs_free_database(hdb);
		cs_errstr_set(errstr, errstr_size, "warning lists: cannot allocate Hyperscan scratch");
		return CS_ERR_NOMEM;
	}
	for (size_t i = 0; i < db->cnt; i++) {
		cs_corr_ind_t *ind = &db->inds[i];
		cs__wl_scan_t sc = {wl, cs__wl_what(ind), -1};
		if (ind->pattern || ind->warninglist >= 0 || !sc.what)
			continue;
		hs_scan(hdb, ind->value, (unsigned)strlen(ind->value), 0, scr, cs__wl_on_match, &sc);
		if (sc.best >= 0) {
			ind->warninglist = sc.best;
			db->warned++;
		}
	}
	hs_free_scratch(scr);
	hs_free_database(hdb);
	return CS_ERR_OK;
}

cs_err_t cs__corr_apply_warninglists(cs_corr_db_t *db, const char *dir, char *errstr, size_t errstr_size) {
	cs__wl_t wl;
	DIR *d;
	struct dirent *de;
	char sub[2048];

	memset(&wl, 0, sizeof(wl));
	/* <dir>/lists/<name>/list.json (the repository layout) or <dir>/<name>/list.json */
	snprintf(sub, sizeof(sub), "%s/lists", dir);
	if (!(d = opendir(sub))) {
		snprintf(sub, sizeof(sub), "%s", dir);
		if (!(d = opendir(sub))) {
			cs_errstr_set(errstr, errstr_size, "warning lists: %s: cannot open", dir);
			return CS_ERR_IO;
		}
	}
	{
		char *names[512];
		int n = 0;
		while ((de = readdir(d)) && n < 512)
			if (de->d_name[0] != '.')
				names[n++] = cs_strdup(de->d_name);
		closedir(d);
		/* sorted, so that "first list wins" does not depend on the directory order */
		for (int i = 1; i < n; i++)
			for (int j = i; j > 0 && names[j] && names[j - 1] && strcmp(names[j], names[j - 1]) < 0; j--) {
				char *t = names[j];
				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		for (int i = 0; i < n; i++) {
			char path[4096];
			int rc = 0;
			if (names[i]) {
				snprintf(path, sizeof(path), "%s/%s/list.json", sub, names[i]);
				rc = cs__wl_load(&wl, db, path);
			}
			cs_free(names[i]);
			if (rc) {
				for (int k = i + 1; k < n; k++)
					cs_free(names[k]);
				cs__wl_free(&wl);
				cs_errstr_set(errstr, errstr_size, "warning lists: out of memory");
				return CS_ERR_NOMEM;
			}
		}
	}
	for (size_t i = 0; i < db->cnt; i++) {
		cs_corr_ind_t *ind = &db->inds[i];
		const char *v = ind->value;
		int l = -1;
		if (ind->pattern)
			continue;
		switch (ind->type) {
		case CS_OBS_IPV4:
		case CS_OBS_IPV6:
			l = cs__wl_addr(&wl, v, ind->cidr ? ind->cidr : (ind->type == CS_OBS_IPV6 ? 128 : 32));
			break;
		case CS_OBS_DOMAIN:
			l = cs__wl_domain(&wl, v, strlen(v), CS__A_DOMAIN);
			break;
		case CS_OBS_URL: {
			const char *h = strstr(v, "://");
			size_t hl;
			l = cs__wmap_get(&wl.map, v, strlen(v), CS__W_EXACT);
			if (l >= 0 && !(wl.applies[l] & CS__A_URL))
				l = -1;
			if (l < 0 && h) {
				h += 3;
				hl = strcspn(h, "/?#:");
				l = cs__wl_domain(&wl, h, hl, CS__A_URL);
			}
			break;
		}
		case CS_OBS_MD5:
		case CS_OBS_SHA1:
		case CS_OBS_SHA256:
			l = cs__wmap_get(&wl.map, v, strlen(v), CS__W_EXACT);
			if (l >= 0 && !(wl.applies[l] & CS__A_HASH))
				l = -1;
			break;
		case CS_OBS_EMAIL:
			l = cs__wmap_get(&wl.map, v, strlen(v), CS__W_EXACT);
			if (l >= 0 && !(wl.applies[l] & CS__A_EMAIL))
				l = -1;
			break;
		default:
			break;
		}
		if (l >= 0) {
			ind->warninglist = l;
			db->warned++;
		}
	}
	{
		cs_err_t err = cs__wl_apply_patterns(&wl, db, errstr, errstr_size);
		cs__wl_free(&wl);
		return err;
	}
}
