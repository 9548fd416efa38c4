/* 0006-agg: the pre-aggregation table merges equal keys across growth. */
#include "cs_test.h"
#include "cs_ingest_int.h"

int cs_test_0006(void) {
	cs_ingest_agg_t agg = {0};
	int64_t total = 0, n = 0;

	for (int round = 0; round < 3; round++)
		for (uint32_t ind = 0; ind < 5000; ind++)
			CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, 1795922040 + (ind % 7) * 60, ind, ind % 3 + 1), 0);
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
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, -60, 1, 1), 0);
	CS_TEST_EQ_INT(agg.cnt, 1);
	cs_ingest_agg_destroy(&agg);
	return 0;
}
