/*
 * cs_taxii.c - the TAXII 2.1 client (cs_taxii.h).
 *
 * DESIGN: one curl easy handle per client, reused across requests (keep-alive).
 * A response is read into memory up to max_bytes, then parsed whole by jansson:
 * TAXII pages are bounded by the limit asked for, and this is the cold path.
 * Every failure names the URL without its credentials (they are never in the
 * URL: basic authentication goes through CURLOPT_USERNAME/PASSWORD).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cs_common.h"
#include "cs_sha1.h"
#include "cs_taxii.h"

#define CS__TAXII_MT "application/taxii+json;version=2.1"
#define CS__MAX_PAGES 100000

struct cs_taxii_s {
	CURL *curl;
	char *url; /* the collection's, ending in '/' */
	char *user, *password, *cacert;
	long timeout_s;
	int page_limit;
	size_t max_bytes;
};

typedef struct cs__buf_s {
	char *p;
	size_t len, cap, max;
	int over;
	char last_added[64]; /* X-TAXII-Date-Added-Last */
} cs__buf_t;

static size_t cs__on_body(char *data, size_t size, size_t nmemb, void *opaque) {
	cs__buf_t *b = opaque;
	size_t n = size * nmemb;
	if (b->len + n > b->max) {
		b->over = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = cs_realloc(b->p, cap)))
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t cs__on_header(char *data, size_t size, size_t nmemb, void *opaque) {
	cs__buf_t *b = opaque;
	size_t n = size * nmemb;
	static const char name[] = "X-TAXII-Date-Added-Last:";
	if (n > sizeof(name) && !strncasecmp(data, name, sizeof(name) - 1)) {
		const char *v = data + sizeof(name) - 1;
		size_t l = n - (sizeof(name) - 1);
		while (l && (*v == ' ' || *v == '\t'))
			v++, l--;
		while (l && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
			l--;
		if (l < sizeof(b->last_added)) {
			memcpy(b->last_added, v, l);
			b->last_added[l] = '\0';
		}
	}
	return n;
}

cs_taxii_t *cs_taxii_new(const cs_taxii_opts_t *o, char *errstr, size_t errstr_size) {
	static int inited;
	cs_taxii_t *t;
	size_t ul;
	if (!o->collection_url || (strncmp(o->collection_url, "http://", 7) && strncmp(o->collection_url, "https://", 8))) {
		cs_errstr_set(errstr, errstr_size, "collection URL \"%.200s\" is not http:// or https://",
			      o->collection_url ? o->collection_url : "");
		return NULL;
	}
	if (strchr(o->collection_url, '@')) {
		cs_errstr_set(errstr, errstr_size, "collection URL holds credentials: give --user and the password apart");
		return NULL;
	}
	if (!inited) { /* main thread, before any other: curl_global_init is not thread-safe */
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			cs_errstr_set(errstr, errstr_size, "curl_global_init failed");
			return NULL;
		}
		inited = 1;
	}
	if (!(t = cs_calloc(1, sizeof(*t))))
		goto nomem;
	ul = strlen(o->collection_url);
	if (!(t->url = cs_malloc(ul + 2)))
		goto nomem;
	memcpy(t->url, o->collection_url, ul + 1);
	if (ul && t->url[ul - 1] != '/')
		memcpy(t->url + ul, "/", 2);
	if ((o->user && !(t->user = cs_strdup(o->user))) || (o->password && !(t->password = cs_strdup(o->password))) ||
	    (o->cacert && !(t->cacert = cs_strdup(o->cacert))))
		goto nomem;
	t->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
	t->page_limit = o->page_limit > 0 ? o->page_limit : 500;
	t->max_bytes = o->max_bytes ? o->max_bytes : (size_t)64 << 20;
	if (!(t->curl = curl_easy_init())) {
		cs_errstr_set(errstr, errstr_size, "curl_easy_init failed");
		cs_taxii_destroy(t);
		return NULL;
	}
	return t;
nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory");
	cs_taxii_destroy(t);
	return NULL;
}

void cs_taxii_destroy(cs_taxii_t *t) {
	if (!t)
		return;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	if (t->password) {
		memset(t->password, 0, strlen(t->password));
		cs_free(t->password);
	}
	cs_free(t->url);
	cs_free(t->user);
	cs_free(t->cacert);
	cs_free(t);
}

/* The title of a TAXII error resource in body, or "". */
static const char *cs__err_title(const char *body, char *out, size_t size) {
	json_t *e = body ? json_loads(body, 0, NULL) : NULL;
	const char *title = json_string_value(json_object_get(e, "title"));
	snprintf(out, size, "%.200s", title ? title : "");
	json_decref(e);
	return out;
}

/*
 * One request: GET url, or POST body when body is not NULL. On success the
 * parsed JSON object of the response (a new reference).
 */
static json_t *cs__request(cs_taxii_t *t, const char *url, const char *body, cs__buf_t *b, char *errstr,
			   size_t errstr_size) {
	struct curl_slist *hdr = NULL;
	char ebuf[CURL_ERROR_SIZE] = "", title[256];
	json_error_t jerr;
	json_t *root;
	long code = 0;
	CURLcode rc;

	memset(b, 0, sizeof(*b));
	b->max = t->max_bytes;
	curl_easy_reset(t->curl);
	hdr = curl_slist_append(hdr, "Accept: " CS__TAXII_MT);
	if (body)
		hdr = curl_slist_append(hdr, "Content-Type: " CS__TAXII_MT);
	if (!hdr) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	curl_easy_setopt(t->curl, CURLOPT_URL, url);
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, t->timeout_s);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT, t->timeout_s < 10 ? t->timeout_s : 10L);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 0L); /* credentials never follow a redirect */
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, cs__on_body);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(t->curl, CURLOPT_HEADERFUNCTION, cs__on_header);
	curl_easy_setopt(t->curl, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(t->curl, CURLOPT_ACCEPT_ENCODING, ""); /* gzip and friends when the server offers */
	if (t->user) {
		curl_easy_setopt(t->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(t->curl, CURLOPT_USERNAME, t->user);
		curl_easy_setopt(t->curl, CURLOPT_PASSWORD, t->password ? t->password : "");
	}
	if (t->cacert)
		curl_easy_setopt(t->curl, CURLOPT_CAINFO, t->cacert);
	if (body) {
		curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	rc = curl_easy_perform(t->curl);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		if (b->over)
			cs_errstr_set(errstr, errstr_size, "%s %.300s: the response is larger than %zu bytes",
				      body ? "POST" : "GET", url, t->max_bytes);
		else
			cs_errstr_set(errstr, errstr_size, "%s %.300s: %s", body ? "POST" : "GET", url,
				      ebuf[0] ? ebuf : curl_easy_strerror(rc));
		cs_free(b->p);
		return NULL;
	}
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		cs__err_title(b->p, title, sizeof(title));
		cs_errstr_set(errstr, errstr_size, "%s %.300s: HTTP %ld%s%s%s", body ? "POST" : "GET", url, code,
			      code == 401 ? " (unauthorized: check the user and the password)"
			      : code == 403 ? " (forbidden: the user may not do this on the collection)"
			      : code == 404 ? " (no such collection, or not visible to this user)"
					    : "",
			      title[0] ? ": " : "", title);
		cs_free(b->p);
		return NULL;
	}
	root = json_loadb(b->p ? b->p : "", b->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		if (root)
			cs_errstr_set(errstr, errstr_size, "%s %.300s: the response is not a JSON object", body ? "POST" : "GET", url);
		else
			cs_errstr_set(errstr, errstr_size, "%s %.300s: the response is not JSON (%s at line %d column %d)",
				      body ? "POST" : "GET", url, jerr.text, jerr.line, jerr.column);
		json_decref(root);
		cs_free(b->p);
		return NULL;
	}
	cs_free(b->p);
	b->p = NULL;
	return root;
}

/* url + "objects/?" + the query: limit, added_after or next (each escaped). */
static char *cs__objects_url(cs_taxii_t *t, const char *added_after, const char *next) {
	char *ea = added_after && *added_after ? curl_easy_escape(t->curl, added_after, 0) : NULL;
	char *en = next && *next ? curl_easy_escape(t->curl, next, 0) : NULL;
	size_t n = strlen(t->url) + 64 + (ea ? strlen(ea) : 0) + (en ? strlen(en) : 0);
	char *u = cs_malloc(n);
	if (u)
		snprintf(u, n, "%sobjects/?limit=%d%s%s%s%s", t->url, t->page_limit, ea ? "&added_after=" : "", ea ? ea : "",
			 en ? "&next=" : "", en ? en : "");
	curl_free(ea);
	curl_free(en);
	return u;
}

int cs_taxii_pull(cs_taxii_t *t, const char *added_after, json_t **objects, char *last_added, size_t last_added_size,
		  char *errstr, size_t errstr_size) {
	json_t *all = json_array();
	char after[64] = "", next[512] = "";
	int pages;

	*objects = NULL;
	if (last_added_size)
		last_added[0] = '\0';
	if (!all) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	snprintf(after, sizeof(after), "%s", added_after ? added_after : "");
	for (pages = 0; pages < CS__MAX_PAGES; pages++) {
		cs__buf_t b;
		char *url = cs__objects_url(t, after, next);
		json_t *env, *objs, *more, *nx;
		size_t got;
		if (!url) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			break;
		}
		env = cs__request(t, url, NULL, &b, errstr, errstr_size);
		if (!env) {
			cs_free(url);
			break;
		}
		objs = json_object_get(env, "objects");
		more = json_object_get(env, "more");
		nx = json_object_get(env, "next");
		if ((objs && !json_is_array(objs)) || (more && !json_is_boolean(more)) || (nx && !json_is_string(nx))) {
			cs_errstr_set(errstr, errstr_size,
				      "GET %.300s: not a TAXII envelope (\"objects\" must be a list, \"more\" a boolean, "
				      "\"next\" a string)",
				      url);
			json_decref(env);
			cs_free(url);
			break;
		}
		got = json_array_size(objs);
		if (objs && json_array_extend(all, objs)) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			json_decref(env);
			cs_free(url);
			break;
		}
		if (b.last_added[0] && last_added_size)
			snprintf(last_added, last_added_size, "%s", b.last_added);
		if (!json_is_true(more)) {
			json_decref(env);
			cs_free(url);
			*objects = all;
			return 0;
		}
		if (nx && json_string_length(nx) && json_string_length(nx) < sizeof(next) &&
		    strcmp(next, json_string_value(nx))) {
			snprintf(next, sizeof(next), "%s", json_string_value(nx));
		} else if (b.last_added[0] && got && strcmp(b.last_added, after)) {
			next[0] = '\0'; /* pages by time: the next one starts after this one's last */
			snprintf(after, sizeof(after), "%s", b.last_added);
		} else {
			cs_errstr_set(errstr, errstr_size,
				      "GET %.300s: \"more\" is true without a new \"next\" or a new "
				      "X-TAXII-Date-Added-Last: the server would page for ever",
				      url);
			json_decref(env);
			cs_free(url);
			break;
		}
		json_decref(env);
		cs_free(url);
	}
	if (pages == CS__MAX_PAGES)
		cs_errstr_set(errstr, errstr_size, "GET %.300sobjects/: more than %d pages", t->url, CS__MAX_PAGES);
	json_decref(all);
	return -1;
}

int cs_taxii_push(cs_taxii_t *t, json_t *objects, cs_taxii_status_t *st, char *errstr, size_t errstr_size) {
	size_t n = json_array_size(objects);
	char *url;
	memset(st, 0, sizeof(*st));
	if (!(url = cs_malloc(strlen(t->url) + 16))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	sprintf(url, "%sobjects/", t->url);
	for (size_t i = 0; i < n; i += 500) {
		json_t *chunk = json_array(), *env, *reply;
		char *body;
		cs__buf_t b;
		for (size_t j = i; j < n && j < i + 500; j++)
			json_array_append(chunk, json_array_get(objects, j));
		env = json_pack("{s:o}", "objects", chunk);
		body = env ? json_dumps(env, JSON_COMPACT) : NULL;
		json_decref(env);
		if (!body) {
			cs_errstr_set(errstr, errstr_size, "out of memory");
			cs_free(url);
			return -1;
		}
		reply = cs__request(t, url, body, &b, errstr, errstr_size);
		free(body);
		if (!reply) {
			cs_free(url);
			return -1;
		}
		st->total += json_integer_value(json_object_get(reply, "total_count"));
		st->success += json_integer_value(json_object_get(reply, "success_count"));
		st->failure += json_integer_value(json_object_get(reply, "failure_count"));
		st->pending += json_integer_value(json_object_get(reply, "pending_count"));
		if (!json_object_get(reply, "total_count")) {
			cs_errstr_set(errstr, errstr_size, "POST %.300s: the reply is not a TAXII status resource", url);
			json_decref(reply);
			cs_free(url);
			return -1;
		}
		json_decref(reply);
	}
	cs_free(url);
	return 0;
}

/* ---- the bundle file ---- */

/*
 * Puts o into list (index: id -> position): appended when its id is new, in
 * place of the held one when its modified is later. 1 when it went in, 0 when
 * not (no id, or not newer), -1 on out of memory.
 */
static int cs__put(json_t *list, json_t *index, json_t *o) {
	const char *id = json_string_value(json_object_get(o, "id"));
	json_t *at;
	if (!id)
		return 0; /* not a STIX object: the loader would not read it either */
	if ((at = json_object_get(index, id))) {
		json_t *old = json_array_get(list, (size_t)json_integer_value(at));
		const char *om = json_string_value(json_object_get(old, "modified"));
		const char *nm = json_string_value(json_object_get(o, "modified"));
		if (!nm || (om && strcmp(nm, om) <= 0))
			return 0;
		return json_array_set(list, (size_t)json_integer_value(at), o) ? -1 : 1;
	}
	if (json_object_set_new(index, id, json_integer((json_int_t)json_array_size(list))) || json_array_append(list, o))
		return -1;
	return 1;
}

long cs_taxii_bundle_merge(const char *path, json_t *objects, char *errstr, size_t errstr_size) {
	json_t *root = NULL, *held, *index, *o, *bundle;
	json_error_t jerr;
	char tmp[4096], uuid[37], bid[64];
	long changed = 0;
	size_t i;
	int fd, bad;
	FILE *fp;

	if (access(path, F_OK) == 0) {
		if (!(root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ||
		    !json_is_array(json_object_get(root, "objects"))) {
			cs_errstr_set(errstr, errstr_size, "%.300s: not a STIX bundle (%s): not touched", path,
				      root ? "no \"objects\" list" : jerr.text);
			json_decref(root);
			return -1;
		}
		held = json_incref(json_object_get(root, "objects"));
		json_decref(root);
	} else if (errno == ENOENT) {
		held = json_array();
	} else {
		cs_errstr_set(errstr, errstr_size, "%.300s: %s", path, strerror(errno));
		return -1;
	}
	index = json_object();
	if (!held || !index)
		goto nomem;
	{ /* the held objects once each (a bundle edited by hand may repeat one): the latest version */
		json_t *once = json_array();
		if (!once)
			goto nomem;
		json_array_foreach(held, i, o)
			if (cs__put(once, index, o) < 0) {
				json_decref(once);
				goto nomem;
			}
		json_decref(held);
		held = once;
	}
	json_array_foreach(objects, i, o) {
		int r = cs__put(held, index, o);
		if (r < 0)
			goto nomem;
		changed += r;
	}
	json_decref(index);
	index = NULL;
	if (cs_uuid5("5f0e2c61-6f4e-4d3b-9a57-0c1e2d3f4a5b", path, strlen(path), uuid))
		memcpy(uuid, "00000000-0000-5000-8000-000000000000", 37);
	snprintf(bid, sizeof(bid), "bundle--%s", uuid);
	if (!(bundle = json_pack("{s:s,s:s,s:O}", "type", "bundle", "id", bid, "objects", held)))
		goto nomem;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 || !(fp = fdopen(fd, "w"))) {
		cs_errstr_set(errstr, errstr_size, "%.300s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		json_decref(bundle);
		json_decref(held);
		return -1;
	}
	bad = json_dumpf(bundle, fp, JSON_INDENT(1)) || fputc('\n', fp) == EOF || fflush(fp) || fsync(fd);
	bad |= fclose(fp) != 0;
	json_decref(bundle);
	json_decref(held);
	if (bad || rename(tmp, path)) {
		cs_errstr_set(errstr, errstr_size, "%.300s: %s: %s", bad ? tmp : path, bad ? "write failed" : "rename failed",
			      strerror(errno));
		unlink(tmp);
		return -1;
	}
	return changed;
nomem:
	json_decref(held);
	json_decref(index);
	cs_errstr_set(errstr, errstr_size, "out of memory");
	return -1;
}
