/*
 * 0013-overlay: indicator changes layered over a loaded set without
 * rebuilding it (cs_corr_db_overlay): revocations mask the base's values
 * (subdomains included), redefinitions replace their metadata, additions
 * match, a later change of the same value wins, invalid changes are rejected
 * with their origin, ids continue the base's, and the base lives as long as
 * a layer holds it.
 */
#include "cs_test.h"
#include "cs_correlate.h"

typedef struct {
	const cs_corr_ind_t *ind[8];
	uint64_t version[8];
	size_t cnt;
} hits_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	hits_t *h = opaque;
	if (h->cnt < 8) {
		h->version[h->cnt] = hit->db_version;
		h->ind[h->cnt++] = hit->ind;
	}
	return 0;
}

static size_t match(const cs_corr_db_t *db, cs_corr_scratch_t *scr, cs_obs_type_t t, const char *v, hits_t *h) {
	cs_obs_t obs = {t, t == CS_OBS_TEXT ? CS_OBS_ROLE_COMMAND_LINE : CS_OBS_ROLE_DNS_QUERY, v, strlen(v)};
	h->cnt = 0;
	return cs_corr_match(db, scr, &obs, on_hit, h) ? (size_t)-1 : h->cnt;
}

int cs_test_0013(void) {
	char path[512], errstr[512];
	cs_corr_db_t *base, *top, *top2;
	cs_corr_scratch_t *scr;
	hits_t h;
	const cs_corr_change_t ch[] = {
		{1, "domain", "B.Example.EU.", "chg-1", NULL, NULL, -1, -1, 0, 0},          /* revoke, any spelling */
		{0, "domain", "c.example.eu", "chg-2", "CERT-XX", "apt-x", CS_TLP_RED, 90, 0, 0}, /* add */
		{0, "domain", "a.example.eu", "chg-3", "CERT-YY", NULL, CS_TLP_CLEAR, 50, 0, 0}, /* redefine */
		{1, "pattern", "evilcmd\\.exe", "chg-4", NULL, NULL, -1, -1, 0, 0},          /* revoke a pattern */
		{0, "pattern", "newcmd\\s+-x", "chg-5", NULL, NULL, -1, -1, 0, 0},          /* add a pattern */
		{0, "domain", "d.example.eu", "chg-6", NULL, NULL, -1, -1, 0, 0},            /* added, then */
		{1, NULL, "d.example.eu", "chg-7", NULL, NULL, -1, -1, 0, 0},                /* revoked: the later wins */
		{0, "colour", "x", "chg-8", NULL, NULL, -1, -1, 0, 0},                       /* unknown type */
		{0, "domain", "", NULL, NULL, NULL, -1, -1, 0, 0},                           /* no value: "change #9" */
	};

	snprintf(path, sizeof(path), "%s/base.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "a.example.eu\nb.example.eu\n10.0.0.0/8\nre:evilcmd\\.exe\n"), 0);
	CS_TEST_ASSERT((base = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_count(base), 4);
	CS_TEST_ASSERT((top = cs_corr_db_overlay(base, ch, sizeof(ch) / sizeof(*ch), NULL, 2, errstr, sizeof(errstr))),
		       "%s", errstr);
	cs_corr_db_destroy(base); /* the layer holds its own reference */
	CS_TEST_EQ_INT(cs_corr_db_reject_count(top), 2);
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(top, 0), "chg-8: unknown indicator type"), "%s", cs_corr_db_reject(top, 0));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(top, 1), "change #9: change without a value"), "%s",
		       cs_corr_db_reject(top, 1));
	CS_TEST_EQ_INT(cs_corr_db_count(top), 4 + 6); /* base + b, c, a, evilcmd, newcmd, d (records included) */
	CS_TEST_ASSERT((scr = cs_corr_scratch_new(top, errstr, sizeof(errstr))), "%s", errstr);

	CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "b.example.eu", &h), 0);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "x.b.example.eu", &h), 0);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "d.example.eu", &h), 0);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "www.c.example.eu", &h), 1);
	CS_TEST_EQ_INT(h.ind[0]->tlp, CS_TLP_RED);
	CS_TEST_EQ_STR(h.ind[0]->source, "CERT-XX");
	CS_TEST_EQ_INT(h.version[0], 2);
	CS_TEST_ASSERT(cs_corr_db_indicator(top, h.ind[0]->id) == h.ind[0], "ids continue the base's");
	CS_TEST_ASSERT(h.ind[0]->id >= 4, "id %u", h.ind[0]->id);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "a.example.eu", &h), 1); /* the redefinition, not the base */
	CS_TEST_EQ_INT(h.ind[0]->tlp, CS_TLP_CLEAR);
	CS_TEST_EQ_INT(h.ind[0]->confidence, 50);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_IPV4, "10.20.30.40", &h), 1); /* the base's prefix */
	CS_TEST_ASSERT(cs_corr_db_indicator(top, h.ind[0]->id) == h.ind[0], "base ids through the layer");
	CS_TEST_EQ_INT(h.version[0], 2);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_TEXT, "cmd /c evilcmd.exe", &h), 0);
	CS_TEST_EQ_INT(match(top, scr, CS_OBS_TEXT, "newcmd  -x", &h), 1);

	/* a second layer over the same base: d comes back; the first layer is unaffected */
	{
		const cs_corr_change_t ch2[] = {{0, "domain", "d.example.eu", "chg-9", NULL, NULL, -1, -1, 0, 0}};
		cs_corr_scratch_t *scr2;
		/* the base of top is reachable only through it: layer over the same base via a fresh load */
		CS_TEST_ASSERT((base = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_ASSERT((top2 = cs_corr_db_overlay(base, ch2, 1, NULL, 3, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_ASSERT((scr2 = cs_corr_scratch_new(top2, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_EQ_INT(match(top2, scr2, CS_OBS_DOMAIN, "d.example.eu", &h), 1);
		CS_TEST_EQ_INT(match(top2, scr2, CS_OBS_DOMAIN, "b.example.eu", &h), 1);
		CS_TEST_EQ_INT(match(top, scr, CS_OBS_DOMAIN, "d.example.eu", &h), 0);
		cs_corr_scratch_destroy(scr2);
		cs_corr_db_destroy(top2);
		/* base still alive until here: its caller reference */
		CS_TEST_EQ_INT(cs_corr_db_count(base), 4);
		cs_corr_db_destroy(base);
	}
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(top); /* frees the first base too */
	return 0;
}
