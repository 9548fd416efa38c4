/*
 * 0011-hot-swap: a live indicator set replaced 60 times while 4 threads
 * match without pause. Each set version v holds d0..dv.example.eu and the
 * pattern "marker-v"; a reader must always see one whole set: its version's
 * newest domain and pattern hit, the next version's domain does not, every hit
 * carries the version of the set it came from. Run in the TSan build too
 * (cmake -DCS_TSAN=ON), where it checks the publication protocol for races;
 * the ASan build checks that every replaced set is freed.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "cs_test.h"
#include "cs_correlate.h"

#define READERS 4
#define VERSIONS 60

typedef struct {
	cs_corr_live_t *live;
	atomic_int *stop;
	long matches, swaps, errors;
	char why[320];
} reader_t;

typedef struct {
	long hits;
	uint64_t version;
	int bad_version;
} hitc_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	hitc_t *h = opaque;
	h->hits++;
	if (hit->db_version != h->version)
		h->bad_version = 1;
	return 0;
}

static long count(const cs_corr_db_t *db, cs_corr_scratch_t *scr, cs_obs_type_t t, const char *v, int *bad) {
	hitc_t h = {0, cs_corr_db_version(db), 0};
	cs_obs_t obs = {t, t == CS_OBS_TEXT ? CS_OBS_ROLE_COMMAND_LINE : CS_OBS_ROLE_DNS_QUERY, v, strlen(v)};
	if (cs_corr_match(db, scr, &obs, on_hit, &h))
		return -1;
	*bad |= h.bad_version;
	return h.hits;
}

static void *reader(void *arg) {
	reader_t *r = arg;
	char errstr[200], buf[64];
	uint64_t gen;
	const cs_corr_db_t *db = cs_corr_live_acquire(r->live, &gen);
	cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));

	if (!scr) {
		snprintf(r->why, sizeof(r->why), "scratch: %s", errstr);
		r->errors++;
		cs_corr_live_release(r->live, db);
		return NULL;
	}
	while (!atomic_load(r->stop)) {
		uint64_t v = cs_corr_db_version(db);
		int bad = 0;
		if (cs_corr_live_generation(r->live) != gen) { /* between events: move to the new set */
			const cs_corr_db_t *ndb = cs_corr_live_acquire(r->live, &gen);
			if (cs_corr_scratch_update(scr, ndb, errstr, sizeof(errstr))) {
				snprintf(r->why, sizeof(r->why), "scratch update: %s", errstr);
				r->errors++;
				cs_corr_live_release(r->live, ndb);
				break;
			}
			cs_corr_live_release(r->live, db);
			db = ndb;
			r->swaps++;
			continue;
		}
		snprintf(buf, sizeof(buf), "x.d%llu.example.eu", (unsigned long long)v);
		if (count(db, scr, CS_OBS_DOMAIN, buf, &bad) != 1 && !r->errors++)
			snprintf(r->why, sizeof(r->why), "version %llu: %s did not hit once", (unsigned long long)v, buf);
		snprintf(buf, sizeof(buf), "d%llu.example.eu", (unsigned long long)v + 1);
		if (count(db, scr, CS_OBS_DOMAIN, buf, &bad) != 0 && !r->errors++)
			snprintf(r->why, sizeof(r->why), "version %llu: %s (a later version's) hit", (unsigned long long)v, buf);
		snprintf(buf, sizeof(buf), "cmd.exe /c marker-%llu;", (unsigned long long)v);
		if (count(db, scr, CS_OBS_TEXT, buf, &bad) != 1 && !r->errors++)
			snprintf(r->why, sizeof(r->why), "version %llu: pattern marker-%llu did not hit once",
				 (unsigned long long)v, (unsigned long long)v);
		if (bad && !r->errors++)
			snprintf(r->why, sizeof(r->why), "a hit carried another version than %llu", (unsigned long long)v);
		r->matches++;
	}
	cs_corr_scratch_destroy(scr);
	cs_corr_live_release(r->live, db);
	return NULL;
}

static cs_corr_db_t *make_version(unsigned v) {
	char path[512], errstr[512];
	FILE *fp;
	cs_corr_db_t *db;
	snprintf(path, sizeof(path), "%s/set-%u.txt", cs_test_tmpdir(), v);
	if (!(fp = fopen(path, "w")))
		return NULL;
	for (unsigned k = 0; k <= v; k++)
		fprintf(fp, "d%u.example.eu\n", k);
	fprintf(fp, "re:marker-%u;\n", v);
	fclose(fp);
	if (!(db = cs_corr_db_load_list(path, v, errstr, sizeof(errstr))))
		CS_TEST_SAY("version %u: %s", v, errstr);
	return db;
}

int cs_test_0011(void) {
	cs_corr_live_t *live;
	cs_corr_db_t *db;
	pthread_t th[READERS];
	reader_t rd[READERS];
	atomic_int stop = 0;
	long total = 0;

	CS_TEST_ASSERT((db = make_version(1)), "version 1");
	CS_TEST_ASSERT((live = cs_corr_live_new(db)), "live");
	for (int i = 0; i < READERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].live = live;
		rd[i].stop = &stop;
		CS_TEST_EQ_INT(pthread_create(&th[i], NULL, reader, &rd[i]), 0);
	}
	for (unsigned v = 2; v <= VERSIONS; v++) {
		CS_TEST_ASSERT((db = make_version(v)), "version %u", v);
		cs_corr_live_publish(live, db);
		for (int spin = 0; spin < 20000 && rd[v % READERS].swaps < 1; spin++)
			; /* let readers run a little between publications */
		cs_test_sleep_ms(2);
	}
	cs_test_sleep_ms(20);
	atomic_store(&stop, 1);
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
		CS_TEST_SAY("reader %d: %ld matches, %ld swaps", i, rd[i].matches, rd[i].swaps);
		CS_TEST_ASSERT(rd[i].errors == 0, "reader %d: %ld errors, first: %s", i, rd[i].errors, rd[i].why);
		CS_TEST_ASSERT(rd[i].swaps >= 1, "reader %d never moved to a new set", i);
		total += rd[i].matches;
	}
	CS_TEST_ASSERT(total > VERSIONS, "readers barely ran (%ld matches)", total);
	{ /* the last version is what a new reader gets */
		uint64_t gen;
		const cs_corr_db_t *cur = cs_corr_live_acquire(live, &gen);
		CS_TEST_EQ_INT(cs_corr_db_version(cur), VERSIONS);
		CS_TEST_EQ_INT(gen, VERSIONS);
		cs_corr_live_release(live, cur);
	}
	cs_corr_live_destroy(live);
	return 0;
}
