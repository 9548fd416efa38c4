/* 0006-agg: the pre-aggregation table merges equal keys across growth. */
#include "cs_test.h"
#include "cs_ingest_int.h"

int cs_test_0006(void) {
	cs_ingest_agg_t agg = {0};
	int64_t total = 0, n = 0;

	for (int round = 0; round < 3; round++)
		for (uint32_t ind = 0; ind < 5000; ind++)
			CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 1795922040 + (ind % 7) * 60, ind, CS_TLP_AMBER, ind % 3 + 1), 0);
	CS_TEST_EQ_INT(agg.cnt, 5000);
	for (size_t i = 0; i < agg.size; i++) {
		const cs_ingest_agg_ent_t *e = &agg.ents[i];
		if (!e->used)
			continue;
		n++;
		CS_TEST_EQ_INT(e->window, 1795922040 + (e->ind % 7) * 60);
		CS_TEST_EQ_INT(e->count, 3 * (e->ind % 3 + 1));
		total += e->count;
	}
	CS_TEST_EQ_INT(n, 5000);
	CS_TEST_EQ_INT(total, 3 * (1667 * 1 + 1667 * 2 + 1666 * 3));
	cs_ingest_agg_clear(&agg);
	CS_TEST_EQ_INT(agg.cnt, 0);
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, -60, 1, CS_TLP_GREEN, 1), 0);
	CS_TEST_EQ_INT(agg.cnt, 1);
	/* the same (window, indicator) under two TLPs: two counts */
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, -60, 1, CS_TLP_RED, 2), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, -60, 1, CS_TLP_GREEN, 1), 0);
	CS_TEST_EQ_INT(agg.cnt, 2);
	/* dimension counts: equal (window, field) merge across growth; fields are copied */
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < 1000; k++) {
			char f[64];
			snprintf(f, sizeof(f), "amber|hits|org:participant-%d", k);
			CS_TEST_EQ_INT(cs_ingest_agg_dim(&agg, 1795922040 + (k % 3) * 60, f, k), 0);
		}
	CS_TEST_EQ_INT(agg.dim_cnt, 1000);
	for (size_t i = 0, seen = 0; i < agg.dim_size; i++) {
		int k;
		if (!agg.dims[i].field)
			continue;
		CS_TEST_EQ_INT(sscanf(agg.dims[i].field, "amber|hits|org:participant-%d", &k), 1);
		CS_TEST_EQ_INT(agg.dims[i].count, 2 * k);
		CS_TEST_EQ_INT(agg.dims[i].window, 1795922040 + (k % 3) * 60);
		CS_TEST_ASSERT(++seen <= 1000, "too many");
	}
	cs_ingest_agg_clear(&agg);
	CS_TEST_EQ_INT(agg.dim_cnt, 0);
	CS_TEST_EQ_INT(agg.bytes, 0);
	/* the pending bytes (flush.max.bytes) grow with what is held and nothing else */
	{
		size_t b0, b1;
		char *id = strdup("t/0/1/0/domain:evil.example"), *json = strdup("{\"id\":\"t/0/1/0/domain:evil.example\"}");
		CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 60, 7, CS_TLP_AMBER, 1), 0);
		b0 = agg.bytes;
		CS_TEST_EQ_INT((long long)b0, 2 * (long long)sizeof(cs_ingest_agg_ent_t));
		CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 60, 7, CS_TLP_AMBER, 5), 0); /* merged: nothing new held */
		CS_TEST_EQ_INT(agg.bytes, b0);
		CS_TEST_EQ_INT(cs_ingest_agg_dim(&agg, 60, "amber|events|late:2026-11-27", 1), 0);
		b1 = agg.bytes;
		CS_TEST_EQ_INT((long long)(b1 - b0), 2 * (long long)sizeof(cs_ingest_dim_ent_t) + 29);
		CS_TEST_EQ_INT(cs_ingest_agg_alert(&agg, id, json, CS_TLP_AMBER), 0);
		CS_TEST_EQ_INT((long long)(agg.bytes - b1), (long long)(strlen(id) + strlen(json) + 2));
		cs_ingest_agg_clear(&agg);
		CS_TEST_EQ_INT(agg.bytes, 0);
		CS_TEST_EQ_INT(agg.alert_cnt, 0);
	}
	/* a table a burst made large is given back when emptied */
	for (uint32_t ind = 0; ind < 40000; ind++)
		CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 0, ind, CS_TLP_CLEAR, 1), 0);
	CS_TEST_ASSERT(agg.size > 65536, "table grew (%zu slots)", agg.size);
	cs_ingest_agg_clear(&agg);
	CS_TEST_EQ_INT(agg.size, 0);
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 0, 1, CS_TLP_CLEAR, 1), 0); /* and grows again */
	CS_TEST_EQ_INT(agg.cnt, 1);
	cs_ingest_agg_destroy(&agg);
	return 0;
}
