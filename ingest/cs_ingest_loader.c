/*
 * cs_ingest_loader.c - the indicator loader and reloads.
 *
 * DESIGN: The loader thread watches the indicator files and the participant registry
 * (indicators.reload.interval.ms, SIGHUP) and reads the change topic; it
 * builds new sets aside and publishes them (read-copy-update, cs_corr_live).
 * Workers move to a new set (cs__ingest_maybe_swap, on their own thread)
 * only when nothing of theirs is unflushed. A set or registry that does not
 * load leaves the current one in place.
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>

#include "cs_ingest_int.h"

#define CS__MOD "correlate"

/* ---- the participant registry, swapped like the indicator set ---- */

cs_ingest_reg_t *cs__ingest_reg_acquire(cs_ingest_t *ing, uint64_t *gen) {
	cs_ingest_reg_t *r;
	pthread_mutex_lock(&ing->reg_lock);
	if ((r = ing->reg))
		atomic_fetch_add(&r->refs, 1);
	*gen = atomic_load(&ing->reg_gen);
	pthread_mutex_unlock(&ing->reg_lock);
	return r;
}

void cs__ingest_reg_release(cs_ingest_reg_t *r) {
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		cs_ingest_reg_destroy(r);
}

static void cs__reg_publish(cs_ingest_t *ing, cs_ingest_reg_t *r) {
	cs_ingest_reg_t *old;
	atomic_store(&r->refs, 1);
	pthread_mutex_lock(&ing->reg_lock);
	old = ing->reg;
	ing->reg = r;
	atomic_fetch_add(&ing->reg_gen, 1);
	pthread_mutex_unlock(&ing->reg_lock);
	cs__ingest_reg_release(old);
}

/* Loads participants.file (if set) and publishes it; a registry that fails leaves the current one. */
cs_err_t cs__ingest_reg_reload(cs_ingest_t *ing, char *errstr, size_t errstr_size) {
	cs_ingest_reg_t *r;
	if (!*ing->conf->participants_file)
		return CS_ERR_OK;
	if (!(r = cs_ingest_reg_load(ing->conf->participants_file, errstr, errstr_size)))
		return CS_ERR_CONF_VALUE;
	CS_LOG_I(CS__MOD, "participant registry %s: %zu participants", ing->conf->participants_file, r->cnt);
	cs__reg_publish(ing, r);
	return CS_ERR_OK;
}

/* indicators.file: one or more files, comma-separated, into paths (pointing into *dup). */
static size_t cs__indicator_paths(const cs_ingest_conf_t *conf, char **dup, const char **paths, size_t max) {
	char *save = NULL, *tok;
	size_t np = 0;
	if (!(*dup = cs_strdup(conf->indicators_file)))
		return 0;
	for (tok = strtok_r(*dup, ",", &save); tok && np < max; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok)
			paths[np++] = tok;
	}
	return np;
}

/* How the indicator files are loaded: warning lists, default TLP, cache, the last good contents. */
static cs_corr_load_opts_t cs__load_opts(cs_ingest_t *ing) {
	cs_corr_load_opts_t opts = {ing->conf->warninglists_dir,
				    (cs_tlp_t)cs_tlp_parse(ing->conf->indicators_tlp, strlen(ing->conf->indicators_tlp)),
				    ing->conf->indicators_cache_dir, ing->store};
	return opts;
}

/* Loads the indicator files as set `version`, logging its rejections and size. */
cs_corr_db_t *cs__ingest_load_set(cs_ingest_t *ing, uint64_t version, char *errstr, size_t errstr_size) {
	char *dup = NULL;
	const char *paths[64];
	size_t np = cs__indicator_paths(ing->conf, &dup, paths, CS_ARRAY_SIZE(paths));
	cs_corr_load_opts_t opts = cs__load_opts(ing);
	int64_t t0 = cs_clock_ms();
	cs_corr_db_t *db;

	if (!dup) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	db = cs_corr_db_load_opts(paths, np, &opts, version, errstr, errstr_size);
	cs_free(dup);
	if (!db)
		return NULL;
	for (size_t i = 0; i < cs_corr_store_fallback_count(ing->store); i++) /* a feed sync under way, a file cut short */
		CS_LOG_W("correlate", "indicator file %s", cs_corr_store_fallback(ing->store, i));
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		CS_LOG_W("correlate", "indicator rejected: %s", cs_corr_db_reject(db, i));
	CS_LOG_I("correlate", "indicator set version %llu: %zu indicators from %s (%zu rejected, %zu on %zu warning lists; %s) in %lld ms",
		 (unsigned long long)version, cs_corr_db_count(db), ing->conf->indicators_file, cs_corr_db_reject_count(db),
		 cs_corr_db_warned_count(db), cs_corr_db_warninglist_count(db), cs_corr_db_patterns_note(db),
		 (long long)(cs_clock_ms() - t0));
	return db;
}

/* A signature of the indicator files (size and modification time of each); 0 if none can be read. */
static uint64_t cs__files_sig(const cs_ingest_conf_t *conf) {
	char *dup = NULL;
	const char *paths[64];
	size_t np = cs__indicator_paths(conf, &dup, paths, CS_ARRAY_SIZE(paths));
	uint64_t sig = 1469598103934665603ULL;
	for (size_t i = 0; i < np; i++) {
		struct stat st;
		if (stat(paths[i], &st))
			continue;
		sig = (sig ^ (uint64_t)st.st_size) * 1099511628211ULL;
		sig = (sig ^ (uint64_t)st.st_mtim.tv_sec) * 1099511628211ULL;
		sig = (sig ^ (uint64_t)st.st_mtim.tv_nsec) * 1099511628211ULL;
	}
	cs_free(dup);
	if (*conf->participants_file) {
		struct stat st;
		if (!stat(conf->participants_file, &st)) {
			sig = (sig ^ (uint64_t)st.st_size) * 1099511628211ULL;
			sig = (sig ^ (uint64_t)st.st_mtim.tv_nsec) * 1099511628211ULL ^ (uint64_t)st.st_mtim.tv_sec;
		}
	}
	return sig;
}

/*
 * Publishes what the workers match with: the files' set (newbase, taken over,
 * when they were loaded again; NULL: the current one) with the change layer
 * over it when there are changes. A layer that fails leaves the current set,
 * or publishes the new files' set alone.
 */
static void cs__publish(cs_ingest_t *ing, cs_corr_db_t *newbase) {
	if (newbase) {
		cs_corr_db_destroy(ing->base);
		ing->base = newbase;
	}
	if (ing->changes && cs_ingest_changes_count(ing->changes)) {
		char errstr[1024];
		cs_corr_load_opts_t opts = cs__load_opts(ing);
		cs_corr_db_t *top = cs_ingest_changes_layer(ing->changes, ing->base, &opts, ing->version + 1, errstr,
							    sizeof(errstr));
		if (top) {
			ing->version++;
			cs_corr_live_publish(ing->live, top);
			return;
		}
		atomic_fetch_add(&ing->reloads_failed, 1);
		CS_LOG_E("correlate", "indicator changes not applied: %s", errstr);
	}
	if (newbase)
		cs_corr_live_publish(ing->live, cs_corr_db_ref(newbase));
}

/*
 * The loader thread: on SIGHUP, or when the files changed, loads a new set
 * aside and publishes it; the workers move to it after their next flush. A
 * set that does not load leaves the current one in place.
 */
void *cs__ingest_loader_main(void *arg) {
	cs_ingest_t *ing = arg;
	uint64_t sig = cs__files_sig(ing->conf);
	int64_t next_check = cs_clock_ms() + ing->conf->reload_interval_ms;

	while (!atomic_load(&ing->stop)) {
		struct timespec ts = {0, 100 * 1000000};
		int64_t now;
		int why = 0; /* 1: SIGHUP, 2: files changed */
		if (ing->changes) {
			if (cs_ingest_changes_poll(ing->changes, 100))
				cs__publish(ing, NULL); /* a batch of changes: a new layer over the files' set */
		} else {
			nanosleep(&ts, NULL);
		}
		now = cs_clock_ms();
		cs_corr_live_collect(ing->live); /* sets the workers left behind */
		if (atomic_exchange(&ing->reload, 0))
			why = 1;
		else if (ing->conf->reload_interval_ms > 0 && now >= next_check) {
			uint64_t nsig = cs__files_sig(ing->conf);
			next_check = now + ing->conf->reload_interval_ms;
			if (nsig != sig)
				why = 2;
		}
		if (why) {
			char errstr[1024];
			cs_corr_db_t *db;
			uint64_t nsig = cs__files_sig(ing->conf);
			CS_LOG_I("correlate", "reloading the indicator files (%s)", why == 1 ? "SIGHUP" : "they changed");
			if (!(db = cs__ingest_load_set(ing, ing->version + 1, errstr, sizeof(errstr)))) {
				atomic_fetch_add(&ing->reloads_failed, 1);
				CS_LOG_E("correlate", "new indicator set not loaded, version %llu stays in use: %s",
					 (unsigned long long)ing->version, errstr);
			} else {
				ing->version++;
				cs__publish(ing, db);
			}
			if (cs__ingest_reg_reload(ing, errstr, sizeof(errstr))) {
				atomic_fetch_add(&ing->reloads_failed, 1);
				CS_LOG_E(CS__MOD, "participant registry not reloaded, the current one stays in use: %s", errstr);
			}
			sig = nsig;
		}
	}
	return NULL;
}

void cs_ingest_reload(cs_ingest_t *ing) {
	atomic_store(&ing->reload, 1);
}

/*
 * Moves the worker to a newly published indicator set. Aggregates hold
 * indicator ids of the set they were counted with, so the move happens only
 * when there is nothing unflushed: a pending batch is flushed first (if Redis
 * does not answer, the worker stays on its set and tries again later).
 */
void cs__ingest_maybe_swap(cs_ingest_worker_t *w) {
	char errstr[512];
	const cs_corr_db_t *ndb;
	uint64_t gen;
	int64_t *sup = NULL;
	size_t sup_cnt;

	if (atomic_load_explicit(&w->ing->reg_gen, memory_order_acquire) != w->reg_gen && w->agg.evc_cnt == 0) {
		/* pending event counts hold participant indexes: the registry changes only once
		 * they were expanded (a flush); dimension counts copy the names they use */
		cs_ingest_reg_t *old = w->reg;
		w->reg = cs__ingest_reg_acquire(w->ing, &w->reg_gen);
		cs__ingest_reg_release(old);
		if (w->id == 0)
			cs__ingest_note_participants(w);
	}
	if (cs_corr_live_generation(w->live) == w->gen)
		return;
	if (w->dirty && (cs__ingest_flush(w) || w->dirty))
		return;
	ndb = cs_corr_live_acquire(w->live, &gen);
	sup_cnt = cs_corr_db_warninglist_count(ndb);
	if (cs_corr_scratch_update(w->scr, ndb, errstr, sizeof(errstr)) ||
	    (sup_cnt && !(sup = cs_calloc(sup_cnt, sizeof(*sup))))) {
		CS_LOG_E(CS__MOD, "worker %d: staying on indicator set version %llu: %s", w->id,
			 (unsigned long long)cs_corr_db_version(w->db), sup_cnt && !sup ? "out of memory" : errstr);
		cs_corr_live_release(w->live, ndb);
		w->gen = gen; /* not again for this set */
		return;
	}
	cs_free(w->agg.suppressed);
	w->agg.suppressed = sup;
	w->agg.suppressed_cnt = sup_cnt;
	CS_LOG_I(CS__MOD, "worker %d: indicator set version %llu -> %llu", w->id,
		 (unsigned long long)cs_corr_db_version(w->db), (unsigned long long)cs_corr_db_version(ndb));
	cs_corr_live_release(w->live, w->db); /* the last to leave it hands it to the loader to free */
	w->db = ndb;
	w->gen = gen;
}
