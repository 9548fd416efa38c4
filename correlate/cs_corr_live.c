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
 * given up by whoever drops its last reference and freed by the loader
 * (cs_corr_live_collect(), or the next publish): freeing a million indicators
 * takes a fifth of a second, which a worker must not spend between two
 * events. In-flight matching always finishes on the set it started with;
 * nothing waits for a reader.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "cs_corr_int.h"

struct cs_corr_live_s {
	pthread_mutex_t lock;
	cs_corr_db_t *cur;           /* holds one reference */
	atomic_uint_fast64_t generation;
	cs_corr_db_t **dead;         /* sets nobody holds any more, freed by cs_corr_live_collect() */
	size_t dead_cnt, dead_cap;
};

cs_corr_live_t *cs_corr_live_new(cs_corr_db_t *db) {
	cs_corr_live_t *l = cs_calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->cur = db; /* takes over the caller's reference */
	atomic_store(&l->generation, 1);
	return l;
}

/* Drops a reference; the last one puts the set on the dead list (freed by the loader). */
static void cs__release(cs_corr_live_t *l, cs_corr_db_t *db) {
	if (!db || atomic_fetch_sub(&db->refs, 1) != 1)
		return;
	pthread_mutex_lock(&l->lock);
	if (!cs_array_reserve(&l->dead, &l->dead_cap, l->dead_cnt + 1, sizeof(*l->dead))) {
		l->dead[l->dead_cnt++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&l->lock);
	if (db) /* out of memory for the list: free it here, late rather than never */
		cs__corr_db_free(db);
}

size_t cs_corr_live_collect(cs_corr_live_t *l) {
	cs_corr_db_t **dead;
	size_t n;
	pthread_mutex_lock(&l->lock);
	dead = l->dead;
	n = l->dead_cnt;
	l->dead = NULL;
	l->dead_cnt = l->dead_cap = 0;
	pthread_mutex_unlock(&l->lock);
	for (size_t i = 0; i < n; i++)
		cs__corr_db_free(dead[i]);
	cs_free(dead);
	return n;
}

void cs_corr_live_publish(cs_corr_live_t *l, cs_corr_db_t *db) {
	cs_corr_db_t *old;
	pthread_mutex_lock(&l->lock); /* db: the caller's reference is taken over */
	old = l->cur;
	l->cur = db;
	atomic_fetch_add(&l->generation, 1);
	pthread_mutex_unlock(&l->lock);
	cs__release(l, old);
	cs_corr_live_collect(l);
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
	cs__release(l, (cs_corr_db_t *)db);
}

uint64_t cs_corr_live_generation(const cs_corr_live_t *l) {
	return atomic_load_explicit(&((cs_corr_live_t *)l)->generation, memory_order_acquire);
}

void cs_corr_live_destroy(cs_corr_live_t *l) {
	if (!l)
		return;
	cs__release(l, l->cur);
	cs_corr_live_collect(l);
	pthread_mutex_destroy(&l->lock);
	cs_free(l);
}

cs_err_t cs_corr_scratch_update(cs_corr_scratch_t *scr, const cs_corr_db_t *db, char *errstr, size_t errstr_size) {
	hs_error_t herr;
	for (const cs_corr_db_t *d = db; d; d = d->base) /* a layered set: its base's patterns too */
		if (d->patterns && (herr = hs_alloc_scratch(d->patterns, &scr->scratch)) != HS_SUCCESS) {
			cs_errstr_set(errstr, errstr_size, "hs_alloc_scratch failed: error %d", herr);
			return CS_ERR_HS;
		}
	return CS_ERR_OK;
}
