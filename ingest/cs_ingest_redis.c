/*
 * cs_ingest_redis.c - the Redis sink: aggregates and offsets, atomically.
 *
 * DESIGN: one hiredis context per worker thread, never shared. A flush is a
 * single EVALSHA of cs_ingest_flush.lua (embedded at build time), with the
 * call cs_ingest_flush.c encodes: the script first checks that every key it
 * writes has the type it expects, that the offset Redis holds for every
 * partition in the batch is the one this worker started the batch from (so a
 * replay, a duplicate delivery or a worker whose partitions were reassigned
 * cannot apply twice) and that every count it increments stays a 64-bit
 * integer; only then writes the deltas, and the new offsets last. A refused
 * flush writes nothing. Never called on the decode/match path; may block up
 * to redis.command.timeout.ms.
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>

#include "cs_ingest_int.h"
#include "cs_ingest_flush.h"
#include "cs_ingest_flush_lua.h"
#include "cs_keys.h"

void cs_ingest_redis_init(cs_ingest_redis_t *r, const cs_ingest_conf_t *conf) {
	memset(r, 0, sizeof(*r));
	r->conf = conf;
	cs_keys_off(r->offsets_key, sizeof(r->offsets_key), conf->key_prefix, conf->group_id);
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

/*
 * The primary the Sentinels name for rcf->master_name: the first Sentinel of
 * the list that answers. 0, or -1 with r->errstr set.
 */
static int cs__sentinel_primary(cs_ingest_redis_t *r, char *host, size_t hsize, int *port) {
	const cs_ingest_redis_conf_t *rcf = &r->conf->redis;
	struct timeval ct = {rcf->connect_timeout_ms / 1000, (rcf->connect_timeout_ms % 1000) * 1000};
	char list[1024], *tok, *save, why[256] = "no Sentinel listed";
	snprintf(list, sizeof(list), "%s", rcf->sentinels);
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strrchr(tok, ':');
		redisContext *sc;
		redisReply *rep;
		if (!colon) {
			snprintf(why, sizeof(why), "\"%s\" is not HOST:PORT", tok);
			continue;
		}
		*colon = '\0';
		sc = redisConnectWithTimeout(tok, atoi(colon + 1), ct);
		if (!sc || sc->err) {
			snprintf(why, sizeof(why), "Sentinel %s:%s: %s", tok, colon + 1, sc ? sc->errstr : "no context");
			if (sc)
				redisFree(sc);
			continue;
		}
		redisSetTimeout(sc, ct);
		rep = redisCommand(sc, "SENTINEL get-master-addr-by-name %s", rcf->master_name);
		if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[0]->type == REDIS_REPLY_STRING &&
		    rep->element[1]->type == REDIS_REPLY_STRING) {
			snprintf(host, hsize, "%s", rep->element[0]->str);
			*port = atoi(rep->element[1]->str);
			freeReplyObject(rep);
			redisFree(sc);
			return 0;
		}
		snprintf(why, sizeof(why), "Sentinel %s:%s knows no primary named %s%s%s", tok, colon + 1, rcf->master_name,
			 rep && rep->type == REDIS_REPLY_ERROR ? ": " : "", rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		if (rep)
			freeReplyObject(rep);
		redisFree(sc);
	}
	snprintf(r->errstr, sizeof(r->errstr), "redis.sentinels: %s", why);
	return -1;
}

cs_err_t cs_ingest_redis_connect(cs_ingest_redis_t *r) {
	const cs_ingest_redis_conf_t *rcf = &r->conf->redis;
	struct timeval ct = {rcf->connect_timeout_ms / 1000, (rcf->connect_timeout_ms % 1000) * 1000};
	struct timeval cmd = {rcf->command_timeout_ms / 1000, (rcf->command_timeout_ms % 1000) * 1000};
	redisReply *rep = NULL;
	cs_err_t err;

	if (r->rc)
		return CS_ERR_OK;
	if (rcf->sentinels && *rcf->sentinels) {
		char host[256];
		int port;
		if (cs__sentinel_primary(r, host, sizeof(host), &port))
			return CS_ERR_REDIS;
		r->rc = redisConnectWithTimeout(host, port, ct);
		if (!r->rc || r->rc->err) {
			char where[300];
			snprintf(where, sizeof(where), "redis connect to the primary %.100s:%d (Sentinel %.100s)", host, port,
				 rcf->master_name);
			return cs__redis_fail(r, where);
		}
		snprintf(r->primary, sizeof(r->primary), "%s:%d", host, port);
	} else if (rcf->unix_socket && *rcf->unix_socket)
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
	{
		/* the password: redis.password.file, redis.password, $CS_REDIS_PASSWORD; never logged */
		char pw[1024];
		const char *p = NULL;
		if (rcf->password_file && *rcf->password_file) {
			char why[400];
			if (cs_secret_read(rcf->password_file, pw, sizeof(pw), why, sizeof(why))) {
				snprintf(r->errstr, sizeof(r->errstr), "redis.password.file %s", why);
				err = CS_ERR_REDIS;
				goto err;
			}
			p = pw;
		} else if (rcf->password && *rcf->password) {
			p = rcf->password;
		} else {
			p = getenv("CS_REDIS_PASSWORD");
		}
		if (p && *p) {
			err = rcf->user && *rcf->user ? cs__redis_simple(r, NULL, "AUTH %s %s", rcf->user, p)
						      : cs__redis_simple(r, NULL, "AUTH %s", p);
			memset(pw, 0, sizeof(pw));
			if (err) {
				/* Redis's answer (WRONGPASS, NOPERM) names no secret; say who tried */
				char why[sizeof(r->errstr)];
				snprintf(why, sizeof(why), "%s", r->errstr);
				snprintf(r->errstr, sizeof(r->errstr), "redis AUTH as %.100s: %.380s",
					 rcf->user && *rcf->user ? rcf->user : "the default user", why);
				goto err;
			}
		}
	}
	if (rcf->sentinels && *rcf->sentinels) {
		/* what the Sentinels named must be a primary now (not one being demoted) */
		if ((err = cs__redis_simple(r, &rep, "ROLE")))
			goto err;
		if (rep->type != REDIS_REPLY_ARRAY || !rep->elements || rep->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(rep->element[0]->str, "master")) {
			snprintf(r->errstr, sizeof(r->errstr), "redis %s, named primary of %s by the Sentinels, is not one "
				 "(a failover under way?)", r->primary, rcf->master_name);
			freeReplyObject(rep);
			rep = NULL;
			err = CS_ERR_REDIS;
			goto err;
		}
		freeReplyObject(rep);
		rep = NULL;
		if (strcmp(r->primary, r->last_primary)) {
			if (*r->last_primary)
				CS_LOG_W("ingest", "redis: the primary of %s is now %s (was %s)", rcf->master_name, r->primary,
					 r->last_primary);
			snprintf(r->last_primary, sizeof(r->last_primary), "%s", r->primary);
		}
	}
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
		char f[CS_KEYS_MAX];
		if (cs_keys_off_field(f, sizeof(f), parts[i].topic, parts[i].partition) < 0 || !(fields[i] = cs_strdup(f)))
			goto done;
		argv[i + 2] = fields[i];
	}
	rep = redisCommandArgv(r->rc, (int)cnt + 2, argv, NULL);
	if (!rep) {
		err = cs__redis_fail(r, "redis HMGET offsets");
		goto done;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != cnt) {
		snprintf(r->errstr, sizeof(r->errstr), "redis HMGET %.200s: %.200s", r->offsets_key,
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		err = CS_ERR_REDIS;
		goto done;
	}
	r->errstr[0] = '\0';
	for (size_t i = 0; i < cnt; i++) {
		const redisReply *e = rep->element[i];
		int64_t v;
		parts[i].start = -1;
		if (e->type != REDIS_REPLY_STRING)
			continue; /* none recorded */
		if (cs_keys_parse_i64(e->str, e->len, &v) || v < 0) {
			/* never guessed: a partition whose recorded offset cannot be read is not consumed */
			parts[i].start = CS_INGEST_OFFSET_BAD;
			snprintf(r->errstr, sizeof(r->errstr), "%.200s field \"%.200s\" holds \"%.*s\", not an offset",
				 r->offsets_key, fields[i], e->len > 40 ? 40 : (int)e->len, e->str);
			continue;
		}
		parts[i].start = v;
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

cs_err_t cs_ingest_redis_flush(cs_ingest_redis_t *r, const cs_ingest_agg_t *agg, const cs_corr_db_t *db,
			       const cs_ingest_part_t *parts, size_t cnt) {
	cs_ingest_flush_t *f;
	redisReply *rep = NULL;
	const char **argv;
	const size_t *argvlen;
	int argc;
	cs_err_t err;

	if ((err = cs_ingest_redis_connect(r)))
		return err;
	if (!(f = cs_ingest_flush_encode(r->conf, agg, db, parts, cnt, r->errstr, sizeof(r->errstr))))
		return CS_ERR_NOMEM;
	if ((argc = cs_ingest_flush_argv(f, r->sha, &argv, &argvlen)) < 0) {
		snprintf(r->errstr, sizeof(r->errstr), "out of memory encoding a flush");
		err = CS_ERR_NOMEM;
		goto done;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!(rep = redisCommandArgv(r->rc, argc, argv, argvlen))) {
			err = cs__redis_fail(r, "redis flush");
			goto done;
		}
		if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOSCRIPT", 8) && attempt == 0) {
			/* the server restarted or flushed its scripts: load it again (the same SHA1) */
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
		if (!strncmp(rep->str, "READONLY", 8) || !strncmp(rep->str, "MASTERDOWN", 10)) {
			/* a replica now (failed over): the next connection asks the Sentinels again */
			cs_ingest_redis_close(r);
			err = CS_ERR_REDIS;
			goto done;
		}
		err = !strncmp(rep->str, "STALE", 5) ? CS_ERR_STALE : !strncmp(rep->str, "REFUSED", 7) ? CS_ERR_REFUSED : CS_ERR_REDIS;
		goto done;
	}
	r->escalated = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
	err = CS_ERR_OK;
done:
	if (rep)
		freeReplyObject(rep);
	cs_ingest_flush_destroy(f);
	return err;
}
