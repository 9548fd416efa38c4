/*
 * cs_corr_live.c - the live indicator set: a current cs_corr_db_t that
 * readers (worker threads) hold by reference while a loader publishes new
 * ones.
 *
 * DESIGN: read-copy-update with reference counts. Publishing replaces the
 * current set under a mutex and bumps an atomic generation; readers poll the
 * generation (one relaxed atomic load, no lock) at points where they hold no
 * borrowed pointer into their set (between events, after a flush), and only
 * then take the mutex to acquire the new set and release the old one. A set is
 * freed by whoever drops its last reference: the publisher when no reader ever
 * took it, else the last reader to leave it. In-flight matching thus always
 * finishes on the set it started with; nothing waits for a reader.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "cs_corr_int.h"

struct cs_corr_live_s {
	pthread_mutex_t lock;
	cs_corr_db_t *cur;           /* holds one reference */
	atomic_uint_fast64_t generation;
};

cs_corr_live_t *cs_corr_live_new(cs_corr_db_t *db) {
	cs_corr_live_t *l = cs_calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	atomic_store(&db->refs, 1);
	l->cur = db;
	atomic_store(&l->generation, 1);
	return l;
}

static void cs__release(cs_corr_db_t *db) {
	if (db && atomic_fetch_sub(&db->refs, 1) == 1)
		cs_corr_db_destroy(db);
}

void cs_corr_live_publish(cs_corr_live_t *l, cs_corr_db_t *db) {
	cs_corr_db_t *old;
	atomic_store(&db->refs, 1);
	pthread_mutex_lock(&l->lock);
	old = l->cur;
	l->cur = db;
	atomic_fetch_add(&l->generation, 1);
	pthread_mutex_unlock(&l->lock);
	cs__release(old);
}

const cs_corr_db_t *cs_corr_live_acquire(cs_corr_live_t *l, uint64_t *generation) {
	cs_corr_db_t *db;
	pthread_mutex_lock(&l->lock);
	db = l->cur;
	atomic_fetch_add(&db->refs, 1);
	if (generation)
		*generation = atomic_load(&l->generation);
	pthread_mutex_unlock(&l->lock);
	return db;
}

void cs_corr_live_release(cs_corr_live_t *l, const cs_corr_db_t *db) {
	(void)l;
	cs__release((cs_corr_db_t *)db);
}

uint64_t cs_corr_live_generation(const cs_corr_live_t *l) {
	return atomic_load_explicit(&((cs_corr_live_t *)l)->generation, memory_order_acquire);
}

void cs_corr_live_destroy(cs_corr_live_t *l) {
	if (!l)
		return;
	cs__release(l->cur);
	pthread_mutex_destroy(&l->lock);
	cs_free(l);
}

cs_err_t cs_corr_scratch_update(cs_corr_scratch_t *scr, const cs_corr_db_t *db, char *errstr, size_t errstr_size) {
	hs_error_t herr;
	if (db->patterns && (herr = hs_alloc_scratch(db->patterns, &scr->scratch)) != HS_SUCCESS) {
		cs_errstr_set(errstr, errstr_size, "hs_alloc_scratch failed: error %d", herr);
		return CS_ERR_HS;
	}
	return CS_ERR_OK;
}
