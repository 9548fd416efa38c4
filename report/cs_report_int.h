/*
 * cs_report_int.h - what the situation (cs_report_sit.c), its editions
 * (cs_report_ed.c) and their renderers (cs_report_render.c, _stix.c) share.
 * Internal to report/.
 */
#ifndef CS_REPORT_INT_H
#define CS_REPORT_INT_H

#include <stdint.h>
#include <stddef.h>

#include "cs_report_sit.h"

/* what a roll-up count counts (CS_KEYS_ROLL_*) */
typedef enum cs__rwhat_e {
	CS__R_EV,   /* events accepted */
	CS__R_LATE, /* late events */
	CS__R_REJ,  /* |reason: events rejected */
	CS__R_FMT,  /* |format: events */
	CS__R_IND,  /* |indicator: hits */
	CS__R_CAT,  /* |category: hits */
	CS__R_SEV,  /* |severity: hits */
	CS__R_SUP,  /* |warning list: hits not counted */
	CS__R__CNT
} cs__rwhat_t;

/* strings kept once: organizations, values */
typedef struct cs__intern_s {
	char **v;
	size_t cnt, cap;
	uint32_t *slots; /* index + 1; 0 free */
	size_t size;
} cs__intern_t;

/** The index of s[0..len) (added when new), or -1 on out of memory. */
long cs__intern(cs__intern_t *t, const char *s, size_t len);
/** The index of s, or -1. */
long cs__intern_find(const cs__intern_t *t, const char *s);
void cs__intern_free(cs__intern_t *t);

typedef struct cs__fact_s {
	int64_t n;
	uint32_t org, val; /* val: UINT32_MAX when none */
	int32_t b;         /* bucket index: [0, nb) the previous period, [nb, 2 nb) the period */
	uint8_t tlp, what;
	int8_t itlp; /* -1: events */
} cs__fact_t;

typedef struct cs__part_s {
	uint32_t org; /* its id in orgs */
	char *name, *kind, *ms, *sector;
	cs_tlp_t tlp;
	int64_t last_event; /* -1: unknown */
} cs__part_t;

typedef struct cs__ind_s {
	uint32_t val;
	char *type, *source, *tags;
	cs_tlp_t tlp;
	int confidence; /* -1: none */
	int64_t first[CS_TLP__CNT], last[CS_TLP__CNT];
	char *origin; /* P:ind id: where it came from ("file:line", "file:indicator--...", "file:misp:<uuid>"); NULL: unknown */
} cs__ind_t;

/* an escalation (P:escalations:<tlp>, written by the flush script; docs/ESCALATION.md) */
typedef struct cs__esc_s {
	char *id, *reason, *rules, *value, *itype, *source, *tags, *ind_id;
	char *states, *sectors, *names; /* comma-separated; names NULL below AMBER */
	cs_tlp_t tlp;
	int seq, confidence; /* confidence -1: none */
	int64_t participants, hits, first, last, period_s;
} cs__esc_t;

struct cs_report_sit_s {
	int64_t from, to, tier, nb; /* nb buckets per period */
	cs__intern_t orgs, vals;
	cs__fact_t *facts;
	size_t cnt, cap;
	cs__part_t *parts;
	size_t part_cnt, part_cap;
	cs__ind_t *inds;
	size_t ind_cnt, ind_cap;
	cs__esc_t *escs; /* raised in the period (their last hit in it), any TLP */
	size_t esc_cnt, esc_cap;
};

/* ---- an edition ---- */
typedef struct cs__fig_s {
	int64_t v;
	int tlp;      /* the strictest TLP of what it was computed from; -1: from nothing */
	int withheld; /* not shown (k rule or a strict edition's rule) */
} cs__fig_t;

enum { CS__H_EVENTS, CS__H_HITS, CS__H_PARTICIPANTS, CS__H_STATES, CS__H_INDICATORS, CS__H_NEW,
       CS__H_REJECTED, CS__H_LATE, CS__H_SUPPRESSED, CS__H_UNREGISTERED, CS__H__CNT };
extern const char *const cs__headline_names[CS__H__CNT];
extern const char *const cs__headline_labels[CS__H__CNT];

typedef struct cs__cell_s {
	char *key;
	cs__fig_t events, hits, prev_hits;
	int64_t participants;
	int tlp;
	int withheld;
} cs__cell_t;

enum { CS__B_STATE, CS__B_SECTOR, CS__B_KIND, CS__B_CATEGORY, CS__B_SEVERITY, CS__B__CNT };
extern const char *const cs__breakdown_names[CS__B__CNT];
extern const char *const cs__breakdown_labels[CS__B__CNT];

typedef struct cs__breakdown_s {
	cs__cell_t *cells; /* shown first (by hits, then events, then key), then withheld */
	size_t cnt, shown;
	int64_t total_events, total_hits; /* of the cells shown */
	int tlp;
} cs__breakdown_t;

typedef struct cs__row_s {
	const char *value, *type, *source, *tags; /* borrowed from the situation */
	int confidence;
	int64_t hits, participants, first_seen, last_seen; /* first/last: -1 unknown */
	char *states;          /* comma-separated member states; NULL: withheld */
	int participants_withheld;
	int isnew;
	int tlp;
	int64_t *spark; /* [nb] hits per bucket */
} cs__row_t;

typedef struct cs__named_s {
	const char *name; /* borrowed */
	cs__fig_t fig;
} cs__named_t;

typedef struct cs__inv_s {
	const cs__part_t *p;
	const char *id;
	int64_t events;
	char *formats;
	double per_day;
	int64_t indicators_shared;
	int silent;
	int tlp;
} cs__inv_t;

struct cs_report_ed_s {
	const cs_report_sit_t *s;
	cs_report_ed_opts_t o;
	int is_hub;        /* a strict edition for the hub: it received everything */
	long org_id;       /* o.org among the situation's organizations, or -1 */
	long *part_of_org; /* [orgs]: index in s->parts, or -1 */
	long *ind_of_val;  /* [vals]: index in s->inds, or -1 */
	char *vis;         /* [facts]: the audience may see it */
	cs__fig_t head[CS__H__CNT], prev[CS__H__CNT];
	int64_t *tl_hits, *tl_events; /* [nb] the period's buckets */
	int tl_tlp;
	cs__row_t *top;
	size_t top_cnt;
	cs__breakdown_t bd[CS__B__CNT];
	cs__named_t *reasons, *lists; /* rejected by reason, suppressed by warning list */
	size_t reason_cnt, list_cnt;
	cs__inv_t *inv;
	size_t inv_cnt;
	int inv_withheld; /* CLEAR/GREEN: the inventory names participants */
	int64_t recurring;  /* indicators hit in the period seen before it */
	const cs__esc_t **esc; /* the escalations the audience may see, by time */
	size_t esc_cnt;
	char *esc_states_withheld; /* [esc_cnt] CLEAR/GREEN: fewer than k participants: states not named */
	int64_t *tl_esc;           /* [nb] escalations per bucket */
	int esc_tlp;               /* the strictest of them; -1: none */
	int tlp;            /* the document's label */
	int64_t withheld_cells;
};

/* the nis taxonomy's words for a category cell */
const char *cs__nis_impact(const cs_report_ed_t *ed, const cs__cell_t *c);
const char *cs__nis_outlook(const cs__cell_t *c);
/** The label of a category's nis row: its cell's, and the period before's when shown. */
int cs__nis_tlp(const cs__cell_t *c);
/** Frees the situation's escalations. */
void cs__sit_escs_free(cs_report_sit_t *s);
/** The edition's escalations: who may see which (cs_report_esc.c); 0 or -1 on out of memory. */
int cs__ed_escalations(cs_report_ed_t *ed);
/** key: "a,b,c" as a JSON array of strings (empty items left out); csv NULL: null. */
struct cs_jw_s;
void cs__jlist(struct cs_jw_s *jw, const char *key, const char *csv);
/** "TLP:AMBER+STRICT" and the like. */
const char *cs__tlp_upper(int tlp);
/** A label (not tied to one organization) the audience may see: first/last seen, an indicator's own, a participant's. */
int cs__label_visible(const cs_report_ed_t *ed, int tlp);

#endif /* CS_REPORT_INT_H */
