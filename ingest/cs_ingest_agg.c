/*
 * cs_ingest_agg.c - per-window pre-aggregation of hits.
 * DESIGN: an open-addressing table (window start, indicator id) -> count,
 * owned by one worker thread; emptied after every successful flush, or
 * dropped whole when a flush is refused (the events are then replayed).
 */
#include <string.h>

#include "cs_ingest_int.h"

/* slots a table keeps across flushes; a larger one is freed when emptied */
#define CS__AGG_KEEP_SLOTS 65536

static uint64_t cs__agg_hash(int64_t window, uint32_t ind, unsigned tlp) {
	uint64_t h = (uint64_t)window * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)ind * 8 + tlp + 0x632BE59BD9B4E019ULL);
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}

static cs_err_t cs__agg_grow(cs_ingest_agg_t *agg) {
	size_t nsize = agg->size ? agg->size * 2 : 1024;
	cs_ingest_agg_ent_t *n = cs_calloc(nsize, sizeof(*n));

	if (!n)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		size_t j;
		if (!e->used)
			continue;
		j = cs__agg_hash(e->window, e->ind, e->tlp) & (nsize - 1);
		while (n[j].used)
			j = (j + 1) & (nsize - 1);
		n[j] = *e;
	}
	cs_free(agg->ents);
	agg->ents = n;
	agg->size = nsize;
	return CS_ERR_OK;
}

cs_err_t cs_ingest_agg_add(cs_ingest_agg_t *agg, int64_t window, uint32_t ind, cs_tlp_t tlp, int64_t n) {
	size_t j;

	if ((agg->cnt + 1) * 2 > agg->size && cs__agg_grow(agg))
		return CS_ERR_NOMEM;
	j = cs__agg_hash(window, ind, tlp) & (agg->size - 1);
	for (; agg->ents[j].used; j = (j + 1) & (agg->size - 1)) {
		if (agg->ents[j].window == window && agg->ents[j].ind == ind && agg->ents[j].tlp == tlp) {
			agg->ents[j].count += n;
			return CS_ERR_OK;
		}
	}
	agg->ents[j] = (cs_ingest_agg_ent_t){window, ind, 1, (uint8_t)tlp, n};
	agg->cnt++;
	agg->bytes += 2 * sizeof(*agg->ents); /* the tables stay at most half full */
	return CS_ERR_OK;
}

cs_err_t cs_ingest_agg_events(cs_ingest_agg_t *agg, int64_t window, int32_t pidx, cs_tlp_t tlp, int fmt, int64_t n) {
	unsigned tf = (unsigned)tlp + 8u * (unsigned)fmt;
	size_t j;
	if ((agg->evc_cnt + 1) * 2 > agg->evc_size) {
		size_t nsize = agg->evc_size ? agg->evc_size * 2 : 64;
		struct cs_ingest_evc_s *ne = cs_calloc(nsize, sizeof(*ne));
		if (!ne)
			return CS_ERR_NOMEM;
		for (size_t i = 0; i < agg->evc_size; i++) {
			if (!agg->evc[i].used)
				continue;
			for (j = cs__agg_hash(agg->evc[i].window, (uint32_t)agg->evc[i].pidx,
					      agg->evc[i].tlp + 8u * agg->evc[i].fmt) & (nsize - 1);
			     ne[j].used; j = (j + 1) & (nsize - 1))
				;
			ne[j] = agg->evc[i];
		}
		cs_free(agg->evc);
		agg->evc = ne;
		agg->evc_size = nsize;
	}
	for (j = cs__agg_hash(window, (uint32_t)pidx, tf) & (agg->evc_size - 1); agg->evc[j].used;
	     j = (j + 1) & (agg->evc_size - 1))
		if (agg->evc[j].window == window && agg->evc[j].pidx == pidx && agg->evc[j].tlp == tlp &&
		    agg->evc[j].fmt == fmt) {
			agg->evc[j].count += n;
			return CS_ERR_OK;
		}
	agg->evc[j] = (struct cs_ingest_evc_s){window, pidx, (uint8_t)tlp, 1, (uint8_t)fmt, n};
	agg->evc_cnt++;
	agg->bytes += 2 * sizeof(*agg->evc);
	return CS_ERR_OK;
}

static uint64_t cs__dim_hash(int kind, int64_t window, const char *field, const char *member) {
	uint64_t h = (1469598103934665603ULL + (uint64_t)kind) ^ (uint64_t)window * 0x9E3779B97F4A7C15ULL;
	for (const unsigned char *p = (const unsigned char *)field; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	if (member) {
		h = (h ^ 0x100) * 1099511628211ULL; /* ("a", "bc") and ("ab", "c") differ */
		for (const unsigned char *p = (const unsigned char *)member; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
	}
	return h ^ (h >> 31);
}

static cs_err_t cs__dim_grow(cs_ingest_agg_t *agg) {
	size_t nsize = agg->dim_size ? agg->dim_size * 2 : 256;
	cs_ingest_dim_ent_t *n = cs_calloc(nsize, sizeof(*n));
	if (!n)
		return CS_ERR_NOMEM;
	for (size_t i = 0; i < agg->dim_size; i++) {
		size_t j;
		if (!agg->dims[i].field)
			continue;
		for (j = agg->dims[i].hash & (nsize - 1); n[j].field; j = (j + 1) & (nsize - 1))
			;
		n[j] = agg->dims[i];
	}
	cs_free(agg->dims);
	agg->dims = n;
	agg->dim_size = nsize;
	return CS_ERR_OK;
}

/* Adds n to the entry (kind, window, field, member) (PART: keeps the max). Both strings are copied. */
static cs_err_t cs__dim_add(cs_ingest_agg_t *agg, cs_ingest_dim_kind_t kind, int64_t window, const char *field,
			    const char *member, int64_t n) {
	uint64_t h = cs__dim_hash((int)kind, window, field, member);
	size_t j;

	if ((agg->dim_cnt + 1) * 2 > agg->dim_size && cs__dim_grow(agg))
		return CS_ERR_NOMEM;
	for (j = h & (agg->dim_size - 1); agg->dims[j].field; j = (j + 1) & (agg->dim_size - 1)) {
		cs_ingest_dim_ent_t *e = &agg->dims[j];
		if (e->hash == h && e->kind == kind && e->window == window && !strcmp(e->field, field) &&
		    (member ? e->member && !strcmp(e->member, member) : !e->member)) {
			if (kind == CS_INGEST_DIM_PART)
				e->count = n > e->count ? n : e->count;
			else
				e->count += n;
			return CS_ERR_OK;
		}
	}
	if (!(agg->dims[j].field = cs_strdup(field)))
		return CS_ERR_NOMEM;
	if (member && !(agg->dims[j].member = cs_strdup(member))) {
		cs_free(agg->dims[j].field);
		agg->dims[j].field = NULL;
		return CS_ERR_NOMEM;
	}
	agg->dims[j].window = window;
	agg->dims[j].kind = (uint8_t)kind;
	agg->dims[j].hash = h;
	agg->dims[j].count = n;
	agg->dim_cnt++;
	agg->bytes += 2 * sizeof(*agg->dims) + strlen(field) + 1 + (member ? strlen(member) + 1 : 0);
	return CS_ERR_OK;
}

cs_err_t cs_ingest_agg_dim(cs_ingest_agg_t *agg, int64_t window, const char *field, int64_t n) {
	return cs__dim_add(agg, CS_INGEST_DIM_COUNT, window, field, NULL, n);
}

cs_err_t cs_ingest_agg_src(cs_ingest_agg_t *agg, int64_t window, const char *value, const char *org) {
	return cs__dim_add(agg, CS_INGEST_DIM_SRC, window, value, org, 1);
}

cs_err_t cs_ingest_agg_esc(cs_ingest_agg_t *agg, int64_t window, const char *value, const char *member) {
	return cs__dim_add(agg, CS_INGEST_DIM_ESC, window, value, member, 1);
}

cs_err_t cs_ingest_agg_roll(cs_ingest_agg_t *agg, int64_t window, const char *field, int64_t n) {
	int64_t h = window >= 0 ? window / 3600 * 3600 : -((-window + 3599) / 3600) * 3600;
	return cs__dim_add(agg, CS_INGEST_DIM_ROLL, h, field, NULL, n);
}

cs_err_t cs_ingest_agg_part(cs_ingest_agg_t *agg, int64_t window, const char *id, const char *meta) {
	return cs__dim_add(agg, CS_INGEST_DIM_PART, 0, id, meta, window);
}

cs_err_t cs_ingest_agg_alert(cs_ingest_agg_t *agg, char *id, char *json, cs_tlp_t tlp) {
	if (!id || !json || cs_array_reserve(&agg->alerts, &agg->alert_cap, (agg->alert_cnt + 1) * 2, sizeof(*agg->alerts)) ||
	    cs_array_reserve(&agg->alert_tlp, &agg->alert_tlp_cap, agg->alert_cnt + 1, sizeof(*agg->alert_tlp))) {
		cs_free(id);
		cs_free(json);
		return CS_ERR_NOMEM;
	}
	agg->bytes += strlen(id) + strlen(json) + 2;
	if (!agg->alert_cnt)
		agg->first_alert_ms = cs_clock_ms();
	agg->alerts[agg->alert_cnt * 2] = id;
	agg->alerts[agg->alert_cnt * 2 + 1] = json;
	agg->alert_tlp[agg->alert_cnt] = (uint8_t)tlp;
	agg->alert_cnt++;
	return CS_ERR_OK;
}

void cs_ingest_agg_clear(cs_ingest_agg_t *agg) {
	for (size_t i = 0; i < agg->alert_cnt * 2; i++)
		cs_free(agg->alerts[i]);
	agg->alert_cnt = 0;
	if (agg->ents && agg->cnt)
		memset(agg->ents, 0, agg->size * sizeof(*agg->ents));
	agg->cnt = 0;
	if (agg->dim_cnt) {
		for (size_t i = 0; i < agg->dim_size; i++) {
			cs_free(agg->dims[i].field);
			cs_free(agg->dims[i].member);
		}
		memset(agg->dims, 0, agg->dim_size * sizeof(*agg->dims));
		agg->dim_cnt = 0;
	}
	if (agg->evc_cnt) {
		memset(agg->evc, 0, agg->evc_size * sizeof(*agg->evc));
		agg->evc_cnt = 0;
	}
	memset(agg->rejects, 0, sizeof(agg->rejects));
	if (agg->suppressed)
		memset(agg->suppressed, 0, agg->suppressed_cnt * sizeof(*agg->suppressed));
	agg->events = agg->hits = agg->late = agg->future = 0;
	agg->strings_skipped = agg->obs_dropped = 0;
	agg->bytes = 0;
	/* a table a burst made large is given back rather than kept (and cleared) for ever */
	if (agg->size > CS__AGG_KEEP_SLOTS) {
		cs_free(agg->ents);
		agg->ents = NULL, agg->size = 0;
	}
	if (agg->dim_size > CS__AGG_KEEP_SLOTS) {
		cs_free(agg->dims);
		agg->dims = NULL, agg->dim_size = 0;
	}
}

void cs_ingest_agg_destroy(cs_ingest_agg_t *agg) {
	cs_ingest_agg_clear(agg);
	cs_free(agg->alerts);
	cs_free(agg->alert_tlp);
	cs_free(agg->dims);
	cs_free(agg->evc);
	cs_free(agg->ents);
	cs_free(agg->suppressed);
	memset(agg, 0, sizeof(*agg));
}
