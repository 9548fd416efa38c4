/*
 * cs_ingest_redis.c - the Redis sink: aggregates and offsets, atomically.
 *
 * DESIGN: one hiredis context per worker thread, never shared. A flush is a
 * single EVALSHA of the script below: it first checks that the offset Redis
 * holds for every partition in the batch is the one this worker started the
 * batch from (so a replay, a duplicate delivery or a worker whose partitions
 * were reassigned cannot apply twice), and only then writes the deltas and
 * the new offsets. Checks come before any write, so a refused flush writes
 * nothing. Never called on the decode/match path; may block up to
 * redis.command.timeout.ms.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "cs_json.h"
#include "cs_ingest_int.h"

static const char cs__flush_lua[] =
	"local P = tonumber(ARGV[1])\n"
	"local W = ARGV[2]\n"
	"local ttl = tonumber(ARGV[3])\n"
	"local pre = ARGV[4]\n"
	"local nrej = tonumber(ARGV[7])\n"
	"local s0 = 8 + 2 * nrej\n"
	"local nsup = tonumber(ARGV[s0])\n"
	"local base = s0 + 1 + 2 * nsup\n"
	"local i = base\n"
	"for k = 1, P do\n"
	"  local cur = redis.call('HGET', KEYS[1], ARGV[i])\n"
	"  local exp = ARGV[i + 1]\n"
	"  if (exp == '-' and cur) or (exp ~= '-' and cur ~= exp) then\n"
	"    return redis.error_reply('STALE ' .. ARGV[i] .. ' ' .. tostring(cur))\n"
	"  end\n"
	"  i = i + 3\n"
	"end\n"
	"local j = base\n"
	"for k = 1, P do\n"
	"  redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 2])\n"
	"  j = j + 3\n"
	"end\n"
	"local maxlen = ARGV[i]\n"
	"local na = tonumber(ARGV[i + 1])\n"
	"i = i + 2\n"
	"for k = 1, na do\n"
	"  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'id', ARGV[i], 'alert', ARGV[i + 1])\n"
	"  i = i + 2\n"
	"end\n"
	"local ni = tonumber(ARGV[i])\n"
	"i = i + 1\n"
	"for k = 1, ni do\n"
	"  redis.call('HSET', pre .. ':indicators', ARGV[i], ARGV[i + 1])\n"
	"  i = i + 2\n"
	"end\n"
	"local stats = pre .. ':stats'\n"
	"redis.call('HINCRBY', stats, 'events', ARGV[5])\n"
	"if ARGV[6] ~= '0' then redis.call('HINCRBY', stats, 'late', ARGV[6]) end\n"
	"for k = 0, nrej - 1 do\n"
	"  redis.call('HINCRBY', pre .. ':rejects', ARGV[8 + 2 * k], ARGV[9 + 2 * k])\n"
	"end\n"
	"for k = 0, nsup - 1 do\n"
	"  redis.call('HINCRBY', pre .. ':suppressed', ARGV[s0 + 1 + 2 * k], ARGV[s0 + 2 + 2 * k])\n"
	"  redis.call('HINCRBY', stats, 'suppressed', ARGV[s0 + 2 + 2 * k])\n"
	"end\n"
	"local seen = {}\n"
	"local function touch(key, w0)\n"
	"  if not seen[key] then\n"
	"    seen[key] = true\n"
	"    if w0 then redis.call('ZADD', pre .. ':wins:' .. W, w0, w0) end\n"
	"    if ttl > 0 then redis.call('EXPIRE', key, ttl) end\n"
	"  end\n"
	"end\n"
	"local nd = tonumber(ARGV[i])\n"
	"i = i + 1\n"
	"for k = 1, nd do\n"
	"  local w0, f, c = ARGV[i], ARGV[i + 1], ARGV[i + 2]\n"
	"  if string.sub(f, 1, 4) == 'src|' then\n"
	"    local v, org = string.match(f, '^src|(.*)|([^|]*)$')\n"
	"    local hk = pre .. ':src:' .. W .. ':' .. w0 .. ':' .. v\n"
	"    redis.call('PFADD', hk, org)\n"
	"    touch(hk, nil)\n"
	"  else\n"
	"    local dk = pre .. ':dim:' .. W .. ':' .. w0\n"
	"    redis.call('HINCRBY', dk, f, c)\n"
	"    touch(dk, w0)\n"
	"  end\n"
	"  i = i + 3\n"
	"end\n"
	"while i <= #ARGV do\n"
	"  local w0, v, c, t = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]\n"
	"  local key = pre .. ':win:' .. W .. ':' .. w0\n"
	"  local tk = pre .. ':wtlp:' .. W .. ':' .. w0\n"
	"  local top = pre .. ':top:' .. (math.floor(tonumber(w0) / 86400) * 86400) .. ':' .. t\n"
	"  redis.call('HINCRBY', key, v, c)\n"
	"  redis.call('HINCRBY', tk, t .. '|' .. v, c)\n"
	"  redis.call('ZINCRBY', top, c, v)\n"
	"  redis.call('HINCRBY', stats, 'hits', c)\n"
	"  touch(key, w0)\n"
	"  touch(tk, nil)\n"
	"  touch(top, nil)\n"
	"  i = i + 4\n"
	"end\n"
	"return 'OK'\n";

void cs_ingest_redis_init(cs_ingest_redis_t *r, const cs_ingest_conf_t *conf) {
	memset(r, 0, sizeof(*r));
	r->conf = conf;
	snprintf(r->offsets_key, sizeof(r->offsets_key), "%s:off:%s", conf->key_prefix,
		 conf->group_id);
	snprintf(r->alerts_key, sizeof(r->alerts_key), "%s:alerts", conf->key_prefix);
}

void cs_ingest_redis_close(cs_ingest_redis_t *r) {
	if (r->rc)
		redisFree(r->rc);
	r->rc = NULL;
}

/* Records a connection-level failure: the context is dropped and reconnected later. */
static cs_err_t cs__redis_fail(cs_ingest_redis_t *r, const char *what) {
	snprintf(r->errstr, sizeof(r->errstr), "%s: %s", what,
		 r->rc && r->rc->err ? r->rc->errstr : "no connection");
	cs_ingest_redis_close(r);
	return CS_ERR_REDIS;
}

static cs_err_t cs__redis_simple(cs_ingest_redis_t *r, redisReply **out, const char *fmt, ...) {
	va_list ap;
	redisReply *rep;

	va_start(ap, fmt);
	rep = redisvCommand(r->rc, fmt, ap);
	va_end(ap);
	if (!rep)
		return cs__redis_fail(r, "redis command");
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(r->errstr, sizeof(r->errstr), "redis: %s", rep->str);
		freeReplyObject(rep);
		return CS_ERR_REDIS;
	}
	if (out)
		*out = rep;
	else
		freeReplyObject(rep);
	return CS_ERR_OK;
}

cs_err_t cs_ingest_redis_connect(cs_ingest_redis_t *r) {
	const cs_ingest_redis_conf_t *rcf = &r->conf->redis;
	struct timeval ct = {rcf->connect_timeout_ms / 1000, (rcf->connect_timeout_ms % 1000) * 1000};
	struct timeval cmd = {rcf->command_timeout_ms / 1000, (rcf->command_timeout_ms % 1000) * 1000};
	redisReply *rep = NULL;
	cs_err_t err;

	if (r->rc)
		return CS_ERR_OK;
	if (rcf->unix_socket && *rcf->unix_socket)
		r->rc = redisConnectUnixWithTimeout(rcf->unix_socket, ct);
	else
		r->rc = redisConnectWithTimeout(rcf->host, (int)rcf->port, ct);
	if (!r->rc || r->rc->err) {
		char where[300];
		snprintf(where, sizeof(where), "redis connect to %s:%lld",
			 rcf->unix_socket && *rcf->unix_socket ? rcf->unix_socket : rcf->host,
			 (long long)rcf->port);
		return cs__redis_fail(r, where);
	}
	redisSetTimeout(r->rc, cmd);
	if (rcf->password && *rcf->password &&
	    (err = cs__redis_simple(r, NULL, "AUTH %s", rcf->password)))
		goto err;
	if (rcf->db && (err = cs__redis_simple(r, NULL, "SELECT %lld", (long long)rcf->db)))
		goto err;
	if ((err = cs__redis_simple(r, &rep, "SCRIPT LOAD %s", cs__flush_lua)))
		goto err;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		snprintf(r->errstr, sizeof(r->errstr), "redis: unexpected SCRIPT LOAD reply");
		freeReplyObject(rep);
		err = CS_ERR_REDIS;
		goto err;
	}
	memcpy(r->sha, rep->str, 40);
	r->sha[40] = '\0';
	freeReplyObject(rep);
	return CS_ERR_OK;
err:
	cs_ingest_redis_close(r);
	return err;
}

static void cs__part_field(const cs_ingest_part_t *p, char *buf, size_t size) {
	snprintf(buf, size, "%s/%d", p->topic, (int)p->partition);
}

cs_err_t cs_ingest_redis_offsets_get(cs_ingest_redis_t *r, cs_ingest_part_t *parts, size_t cnt) {
	const char **argv = NULL;
	char **fields = NULL;
	redisReply *rep = NULL;
	cs_err_t err = CS_ERR_NOMEM;

	if (cnt == 0)
		return CS_ERR_OK;
	if ((err = cs_ingest_redis_connect(r)))
		return err;
	err = CS_ERR_NOMEM;
	if (!(argv = cs_calloc(cnt + 2, sizeof(*argv))) || !(fields = cs_calloc(cnt, sizeof(*fields))))
		goto done;
	argv[0] = "HMGET";
	argv[1] = r->offsets_key;
	for (size_t i = 0; i < cnt; i++) {
		char f[512];
		cs__part_field(&parts[i], f, sizeof(f));
		if (!(fields[i] = cs_strdup(f)))
			goto done;
		argv[i + 2] = fields[i];
	}
	rep = redisCommandArgv(r->rc, (int)cnt + 2, argv, NULL);
	if (!rep) {
		err = cs__redis_fail(r, "redis HMGET offsets");
		goto done;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != cnt) {
		snprintf(r->errstr, sizeof(r->errstr), "redis HMGET offsets: %s",
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		err = CS_ERR_REDIS;
		goto done;
	}
	for (size_t i = 0; i < cnt; i++) {
		const redisReply *e = rep->element[i];
		parts[i].start = e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : -1;
	}
	err = CS_ERR_OK;
done:
	if (rep)
		freeReplyObject(rep);
	if (fields)
		for (size_t i = 0; i < cnt; i++)
			cs_free(fields[i]);
	cs_free(fields);
	cs_free(argv);
	return err;
}

/* A growable argv of owned strings. */
typedef struct cs__argv_s {
	char **v;
	size_t cnt, cap;
} cs__argv_t;

static int cs__argv_add_str(cs__argv_t *a, const char *s) {
	if (a->cnt == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 64;
		char **n = cs_reallocarray(a->v, ncap, sizeof(*n));
		if (!n)
			return -1;
		a->v = n;
		a->cap = ncap;
	}
	if (!(a->v[a->cnt] = cs_strdup(s)))
		return -1;
	a->cnt++;
	return 0;
}

static int cs__argv_add(cs__argv_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cs__argv_add(cs__argv_t *a, const char *fmt, ...) {
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cs__argv_add_str(a, buf);
}

static void cs__argv_free(cs__argv_t *a) {
	for (size_t i = 0; i < a->cnt; i++)
		cs_free(a->v[i]);
	cs_free(a->v);
}

/* The indicator's record in P:indicators: {"type","tlp","source","tags","confidence","id"}. */
static char *cs__ind_meta_json(const cs_corr_ind_t *ind) {
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	fprintf(fp, "{\"type\":\"%s\",\"tlp\":\"%s\",\"source\":", ind->pattern ? "pattern" : cs_obs_type2str(ind->type),
		cs_tlp2str(ind->tlp));
	cs_json_write_str(fp, ind->source, strlen(ind->source));
	fputs(",\"tags\":", fp);
	cs_json_write_str(fp, ind->tags, strlen(ind->tags));
	fprintf(fp, ",\"confidence\":%d,\"id\":", ind->confidence);
	cs_json_write_str(fp, ind->origin, strlen(ind->origin));
	fputc('}', fp);
	fclose(fp);
	return buf;
}

/* The count of distinct indicators in agg, then (value, record) for each. */
static int cs__argv_add_meta(cs__argv_t *a, const cs_ingest_agg_t *agg, const cs_corr_db_t *db) {
	size_t cnt_at = a->cnt, n = 0;
	uint8_t *seen = NULL;
	if (cs__argv_add_str(a, "0"))
		return -1;
	if (agg->cnt && !(seen = cs_calloc(cs_corr_db_count(db) / 8 + 1, 1)))
		return -1;
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		const cs_corr_ind_t *ind;
		char *meta;
		if (!e->used || (seen[e->ind / 8] & (1u << (e->ind % 8))))
			continue;
		seen[e->ind / 8] |= (uint8_t)(1u << (e->ind % 8));
		ind = cs_corr_db_indicator(db, e->ind);
		if (!(meta = cs__ind_meta_json(ind)) || cs__argv_add_str(a, ind->value) || cs__argv_add_str(a, meta)) {
			free(meta);
			cs_free(seen);
			return -1;
		}
		free(meta);
		n++;
	}
	cs_free(seen);
	{
		char buf[32];
		snprintf(buf, sizeof(buf), "%zu", n);
		cs_free(a->v[cnt_at]);
		return (a->v[cnt_at] = cs_strdup(buf)) ? 0 : -1;
	}
}

cs_err_t cs_ingest_redis_flush(cs_ingest_redis_t *r, const cs_ingest_agg_t *agg,
			       const cs_corr_db_t *db, const cs_ingest_part_t *parts, size_t cnt) {
	const cs_ingest_conf_t *conf = r->conf;
	cs__argv_t a = {0};
	redisReply *rep = NULL;
	size_t nparts = 0, nrej = 0;
	cs_err_t err;

	if ((err = cs_ingest_redis_connect(r)))
		return err;
	for (size_t i = 0; i < cnt; i++)
		if (parts[i].next >= 0 && parts[i].next != parts[i].start)
			nparts++;
	for (int k = 0; k < CS_DECODE_REJECT__CNT; k++)
		if (agg->rejects[k])
			nrej++;

	err = CS_ERR_NOMEM;
	if (cs__argv_add_str(&a, "EVALSHA") || cs__argv_add_str(&a, r->sha) ||
	    cs__argv_add_str(&a, "2") || cs__argv_add_str(&a, r->offsets_key) ||
	    cs__argv_add_str(&a, r->alerts_key) ||
	    cs__argv_add(&a, "%zu", nparts) || cs__argv_add(&a, "%lld", (long long)conf->window_s) ||
	    cs__argv_add(&a, "%lld", (long long)conf->ttl_s) ||
	    cs__argv_add_str(&a, conf->key_prefix) ||
	    cs__argv_add(&a, "%lld", (long long)agg->events) || cs__argv_add(&a, "%lld", (long long)agg->late) ||
	    cs__argv_add(&a, "%zu", nrej))
		goto done;
	for (int k = 0; k < CS_DECODE_REJECT__CNT; k++)
		if (agg->rejects[k] &&
		    (cs__argv_add_str(&a, cs_decode_reject2code((cs_decode_reject_t)k)) ||
		     cs__argv_add(&a, "%lld", (long long)agg->rejects[k])))
			goto done;
	{
		size_t nsup = 0;
		for (size_t k = 0; k < agg->suppressed_cnt; k++)
			nsup += agg->suppressed[k] != 0;
		if (cs__argv_add(&a, "%zu", nsup))
			goto done;
		for (size_t k = 0; k < agg->suppressed_cnt; k++)
			if (agg->suppressed[k] && (cs__argv_add_str(&a, cs_corr_db_warninglist(db, k)) ||
						   cs__argv_add(&a, "%lld", (long long)agg->suppressed[k])))
				goto done;
	}
	for (size_t i = 0; i < cnt; i++) {
		char f[512];
		if (parts[i].next < 0 || parts[i].next == parts[i].start)
			continue;
		cs__part_field(&parts[i], f, sizeof(f));
		if (cs__argv_add_str(&a, f) ||
		    (parts[i].start < 0 ? cs__argv_add_str(&a, "-")
					: cs__argv_add(&a, "%lld", (long long)parts[i].start)) ||
		    cs__argv_add(&a, "%lld", (long long)parts[i].next))
			goto done;
	}
	/* the batch's alerts, to the stream */
	if (cs__argv_add(&a, "%lld", (long long)(conf->alerts_stream_maxlen > 0 ? conf->alerts_stream_maxlen : 1)) ||
	    cs__argv_add(&a, "%zu", agg->alert_cnt))
		goto done;
	for (size_t i = 0; i < agg->alert_cnt * 2; i++)
		if (cs__argv_add_str(&a, agg->alerts[i]))
			goto done;
	/* what the report needs of each indicator counted in the batch (its TLP first) */
	if (cs__argv_add_meta(&a, agg, db))
		goto done;
	/* dimension counts and distinct sources */
	if (cs__argv_add(&a, "%zu", agg->dim_cnt))
		goto done;
	for (size_t i = 0; i < agg->dim_size; i++) {
		const cs_ingest_dim_ent_t *e = &agg->dims[i];
		if (!e->field)
			continue;
		if (cs__argv_add(&a, "%lld", (long long)e->window) || cs__argv_add_str(&a, e->field) ||
		    cs__argv_add(&a, "%lld", (long long)e->count))
			goto done;
	}
	/* hits per (window, indicator, TLP), to the end */
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		if (!e->used)
			continue;
		if (cs__argv_add(&a, "%lld", (long long)e->window) ||
		    cs__argv_add_str(&a, cs_corr_db_indicator(db, e->ind)->value) ||
		    cs__argv_add(&a, "%lld", (long long)e->count) || cs__argv_add_str(&a, cs_tlp2str((cs_tlp_t)e->tlp)))
			goto done;
	}

	for (int attempt = 0; attempt < 2; attempt++) {
		rep = redisCommandArgv(r->rc, (int)a.cnt, (const char **)a.v, NULL);
		if (!rep) {
			err = cs__redis_fail(r, "redis flush");
			goto done;
		}
		if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOSCRIPT", 8) && attempt == 0) {
			/* the server restarted or flushed its scripts: load it again */
			freeReplyObject(rep);
			rep = NULL;
			cs_ingest_redis_close(r);
			if ((err = cs_ingest_redis_connect(r)))
				goto done;
			continue;
		}
		break;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(r->errstr, sizeof(r->errstr), "redis flush: %s", rep->str);
		err = !strncmp(rep->str, "STALE", 5) ? CS_ERR_STALE : CS_ERR_REDIS;
		goto done;
	}
	err = CS_ERR_OK;
done:
	if (err == CS_ERR_NOMEM)
		snprintf(r->errstr, sizeof(r->errstr), "out of memory building a flush");
	if (rep)
		freeReplyObject(rep);
	cs__argv_free(&a);
	return err;
}
