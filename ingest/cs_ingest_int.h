/*
 * cs_ingest_int.h - internal types of ingest/. Not for use outside ingest/.
 */
#ifndef CS_INGEST_INT_H
#define CS_INGEST_INT_H

#include <stdatomic.h>
#include <pthread.h>
#include <microhttpd.h>
#include <librdkafka/rdkafka.h>
#include <hiredis/hiredis.h>

#include "cs_ingest.h"
#include "cs_obs.h"
#include "cs_correlate.h"
#include "cs_decode.h"
#include "cs_keys.h"

/* ---- configuration ---- */
typedef struct cs_ingest_redis_conf_s {
	char *host;
	int64_t port;
	char *unix_socket;
	char *password;
	char *user;          /* an ACL user (AUTH user password) */
	char *password_file; /* the password read from it at each connect (rotation needs no restart) */
	char *sentinels;     /* "host:port,..." of Redis Sentinels ("" none) */
	char *master_name;
	int64_t db;
	int64_t connect_timeout_ms;
	int64_t command_timeout_ms;
} cs_ingest_redis_conf_t;

struct cs_ingest_conf_s {
	char *topics; /* comma separated */
	char *group_id;
	char *indicators_file;
	char *indicators_tlp;
	char *indicators_cache_dir;
	char *indicators_topic;
	char *key_prefix;
	int64_t reload_interval_ms;
	int64_t window_s;
	int64_t late_grace_s;
	int64_t future_grace_s;
	int64_t ttl_s;
	int64_t hour_ttl_s, day_ttl_s; /* the roll-ups' (aggregate.hour.ttl.s, aggregate.day.ttl.s) */
	int64_t flush_interval_ms;
	int64_t flush_max_events;
	int64_t flush_max_bytes;
	int64_t shutdown_timeout_ms;
	int64_t workers;
	char *log_level;
	char *dlq_topic;
	char *alerts_topic;
	char *metrics_listen;
	char *offsets_out_of_range; /* "hold" or "reset" */
	int64_t metrics_conn_limit;
	int64_t metrics_conn_timeout_s;
	char *participants_file;
	char *unregistered_tlp;
	int64_t alerts_stream_maxlen;
	int64_t alerts_max_delay_ms; /* flush a batch whose oldest stream alert waited this long (0: no) */
	char *warninglists_dir;
	int64_t dlq_timeout_ms;
	/* a retro-hunt (cshield-ingest --retro): set by the command line, not properties */
	int retro;
	int64_t retro_since_ms, retro_until_ms; /* until 0: each partition's end when the hunt starts */
	int esc_enable;
	int64_t esc_period_s, esc_quiet_s, esc_participants, esc_member_states, esc_stream_maxlen;
	char *esc_topic;
	cs_ingest_redis_conf_t redis;
	rd_kafka_conf_t *kconf; /* kafka.* pass-through, owned */
	cs_decode_conf_t *dconf; /* decode.* pass-through, owned */
	char **topic_names;      /* topic.<name>.format */
	int *topic_fmts;
	size_t topic_cnt;
};

/* ---- pre-aggregation: (window start, indicator, TLP) -> hits; (window, field) -> count ---- */
typedef struct cs_ingest_agg_ent_s {
	int64_t window; /* window start, epoch seconds */
	uint32_t ind;   /* indicator id in the set */
	uint8_t used;
	uint8_t tlp;    /* the most restrictive TLP of what made these hits */
	int64_t count;
} cs_ingest_agg_ent_t;

/*
 * A dimension count: field "<tlp>|hits|org:<id>", "<tlp>|events|ms:<cc>"...
 * (cs_keys_dim_field()), member NULL; or, with a member, a reporting
 * organization (member) of an indicator (field: its value), for the distinct
 * sources of the indicator (a HyperLogLog in Redis), count unused.
 */
typedef enum cs_ingest_dim_kind_e {
	CS_INGEST_DIM_COUNT, /* field: a P:dim field, count added */
	CS_INGEST_DIM_SRC,   /* field: an indicator value, member: the participant (P:src) */
	CS_INGEST_DIM_ROLL,  /* window: the hour; field: a P:roll field (cs_keys_roll_field()), count added */
	CS_INGEST_DIM_PART,  /* field: a participant id, member: its P:part fields (name, kind, ms,
			      * sector, tlp, each ended by '\x1f'); count: the latest window (the max kept) */
	CS_INGEST_DIM_ESC    /* field: an indicator value, member: "<org>|<tlp>|<ms>|<sector>" of a hit
			      * (for the escalation rule); count: hits in the window */
} cs_ingest_dim_kind_t;

typedef struct cs_ingest_dim_ent_s {
	int64_t window;
	char *field;  /* owned; NULL = free slot */
	char *member; /* owned or NULL (see the kind) */
	uint64_t hash;
	int64_t count;
	uint8_t kind; /* cs_ingest_dim_kind_t */
} cs_ingest_dim_ent_t;

typedef struct cs_ingest_agg_s {
	cs_ingest_agg_ent_t *ents;
	size_t size, cnt; /* size: power of two */
	int64_t rejects[CS_DECODE_REJECT__CNT];
	int64_t *suppressed; /* [warning lists]: hits on warning-listed indicators, not counted */
	size_t suppressed_cnt;
	int64_t events, hits;
	int64_t late;   /* events counted in their arrival window (older than the grace period) */
	int64_t future; /* events counted in their arrival window (further ahead than aggregate.future.grace.s) */
	int64_t strings_skipped, obs_dropped; /* left out of events that were kept (cs_decode_capped()) */
	size_t bytes;   /* heap held by the pending aggregates and alerts (approximate): flush.max.bytes */
	char **alerts; /* [alert_cnt * 2]: alert id, alert JSON; owned; for the Redis streams */
	uint8_t *alert_tlp; /* [alert_cnt]: the stream of each (P:alerts:<tlp>) */
	size_t alert_tlp_cap;
	int64_t first_alert_ms; /* when the oldest of them was added (cs_clock_ms()) */
	size_t alert_cnt, alert_cap;
	cs_ingest_dim_ent_t *dims;
	size_t dim_size, dim_cnt; /* dim_size: power of two */
	/* events per (window, participant index or -1, TLP): expanded into dims at flush
	 * (a string dimension per event would cost a quarter of the throughput) */
	struct cs_ingest_evc_s {
		int64_t window;
		int32_t pidx;
		uint8_t tlp, used, fmt;
		int64_t count;
	} *evc;
	size_t evc_size, evc_cnt;
} cs_ingest_agg_t;

cs_err_t cs_ingest_agg_add(cs_ingest_agg_t *agg, int64_t window, uint32_t ind, cs_tlp_t tlp, int64_t n);
/** Adds n events of format fmt of participant pidx (-1: unregistered or no registry) under TLP tlp in window. */
cs_err_t cs_ingest_agg_events(cs_ingest_agg_t *agg, int64_t window, int32_t pidx, cs_tlp_t tlp, int fmt, int64_t n);
/** Adds n to the dimension count (window, field); field is copied. */
cs_err_t cs_ingest_agg_dim(cs_ingest_agg_t *agg, int64_t window, const char *field, int64_t n);
/** Counts a hit on the indicator value for the escalation rule: member "<org>|<tlp>|<ms>|<sector>" (copied). */
cs_err_t cs_ingest_agg_esc(cs_ingest_agg_t *agg, int64_t window, const char *value, const char *member);
/** Records that participant org reported a hit on the indicator value in window (both copied). */
cs_err_t cs_ingest_agg_src(cs_ingest_agg_t *agg, int64_t window, const char *value, const char *org);
/** Adds n to the roll-up count field (cs_keys_roll_field()) of the hour that holds window. */
cs_err_t cs_ingest_agg_roll(cs_ingest_agg_t *agg, int64_t window, const char *field, int64_t n);
/** Notes that participant id (P:part fields packed in meta) sent events in window. */
cs_err_t cs_ingest_agg_part(cs_ingest_agg_t *agg, int64_t window, const char *id, const char *meta);
/** Adds an alert of TLP tlp (id and JSON, both taken over, freed on error too). */
cs_err_t cs_ingest_agg_alert(cs_ingest_agg_t *agg, char *id, char *json, cs_tlp_t tlp);
void cs_ingest_agg_clear(cs_ingest_agg_t *agg);
void cs_ingest_agg_destroy(cs_ingest_agg_t *agg);

/* ---- Redis sink ---- */
/* a recorded offset that is not one ("abc", " 100", "-5"): the partition is not consumed */
#define CS_INGEST_OFFSET_BAD (-2)

typedef struct cs_ingest_part_s {
	char *topic;
	int32_t partition;
	int64_t start; /* offset recorded in Redis when the batch began; -1 = none; CS_INGEST_OFFSET_BAD */
	int64_t next;  /* next offset to consume (last consumed + 1); -1 = nothing yet */
	int assigned;  /* in librdkafka's assignment (fetching) */
	int ready;     /* start offset known and fetch positioned there: messages count */
	int held;      /* its recorded offset lies beyond its log (offsets.out.of.range=hold): paused, not counted */
	int reset;     /* ... (offsets.out.of.range=reset): counted from where the client restarted, below start */
	int64_t stop_at; /* a retro-hunt's range end: messages from there are not read (0: none) */
} cs_ingest_part_t;

typedef struct cs_ingest_redis_s {
	const cs_ingest_conf_t *conf;
	redisContext *rc; /* NULL while disconnected */
	char offsets_key[CS_KEYS_MAX];
	char sha[41]; /* SHA1 of the flush script, from SCRIPT LOAD */
	char errstr[512];
	int64_t next_retry_ms, backoff_ms;
	long long escalated; /* escalations the last flush raised */
	char primary[280], last_primary[280]; /* with redis.sentinels: the primary connected to, and the one before */
} cs_ingest_redis_t;

void cs_ingest_redis_init(cs_ingest_redis_t *r, const cs_ingest_conf_t *conf);
void cs_ingest_redis_close(cs_ingest_redis_t *r);
/** Connects if not connected. */
cs_err_t cs_ingest_redis_connect(cs_ingest_redis_t *r);
/**
 * Reads the recorded next offset of each partition into parts[i].start (-1 if
 * none; CS_INGEST_OFFSET_BAD, with r->errstr naming the key and field, if
 * what is recorded is not an offset).
 */
cs_err_t cs_ingest_redis_offsets_get(cs_ingest_redis_t *r, cs_ingest_part_t *parts, size_t cnt);
/**
 * Applies agg and records parts[i].next atomically, if every partition's
 * recorded offset still equals parts[i].start (else CS_ERR_STALE, nothing
 * applied) and Redis holds nothing in the way (else CS_ERR_REFUSED, nothing
 * applied, r->errstr names the key): see cs_ingest_flush.lua.
 */
cs_err_t cs_ingest_redis_flush(cs_ingest_redis_t *r, const cs_ingest_agg_t *agg,
			       const cs_corr_db_t *db, const cs_ingest_part_t *parts, size_t cnt);

/* ---- the participant registry (cs_ingest_reg.c) ---- */
typedef struct cs_ingest_participant_s {
	char *id, *name, *kind, *member_state, *sector; /* kind: CSIRT, SOC, CERT, private or unknown */
	cs_tlp_t tlp;                                   /* the TLP of its events */
} cs_ingest_participant_t;

typedef struct cs_ingest_reg_s {
	atomic_int refs; /* held by workers; freed by the last to release it */
	cs_ingest_participant_t *v;
	size_t cnt;
	struct cs_ingest_reg_slot_s {
		char *key; /* a name it is known by, or "topic:<topic>"; owned */
		uint32_t idx;
	} *slots;
	size_t size;
} cs_ingest_reg_t;

cs_ingest_reg_t *cs_ingest_reg_load(const char *path, char *errstr, size_t errstr_size);
/** The participant known by s[0..len) (id, name, key, alias; any case), or -1. */
int cs_ingest_reg_find(const cs_ingest_reg_t *r, const char *s, size_t len);
/** The participant publishing on topic, or -1. */
int cs_ingest_reg_topic(const cs_ingest_reg_t *r, const char *topic);
void cs_ingest_reg_destroy(cs_ingest_reg_t *r);

/* ---- the indicator change feed (cs_ingest_changes.c), loader thread only ---- */
typedef struct cs_ingest_changes_s cs_ingest_changes_t;
cs_ingest_changes_t *cs_ingest_changes_new(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);
void cs_ingest_changes_destroy(cs_ingest_changes_t *c);
/** Reads what arrived (waiting up to timeout_ms); 1 when a batch of changes is due to be applied. */
int cs_ingest_changes_poll(cs_ingest_changes_t *c, int timeout_ms);
/** Distinct (type, value) changes received so far. */
size_t cs_ingest_changes_count(const cs_ingest_changes_t *c);
/** Every change so far as a layer over base (cs_corr_db_overlay). */
cs_corr_db_t *cs_ingest_changes_layer(cs_ingest_changes_t *c, const cs_corr_db_t *base, const cs_corr_load_opts_t *opts,
				      uint64_t version, char *errstr, size_t errstr_size);

/* ---- metrics: written by one worker (relaxed atomics), read by the metrics thread ---- */
typedef struct cs_ingest_metrics_s {
	atomic_llong messages;                       /* Kafka messages consumed */
	atomic_llong events, hits, suppressed, alerts, late, future; /* as flushed (recorded in Redis) */
	atomic_llong escalations;                    /* raised by the flushes */
	atomic_llong strings_skipped, obs_dropped;   /* as flushed */
	atomic_llong pending_bytes;                  /* held by the unflushed aggregates and alerts */
	atomic_llong rejects[CS_DECODE_REJECT__CNT];  /* as flushed */
	atomic_llong flushes, flush_failures, flush_stale;
	atomic_llong produce_failures;               /* batches replayed: dead letters or alerts not delivered */
	atomic_llong flush_ms_sum;                   /* successful flushes */
	atomic_llong flush_ms_buckets[8];            /* <= 5, 10, 25, 50, 100, 250, 1000 ms, +Inf */
	atomic_llong lag;                            /* sum over its partitions: log end - next */
	atomic_llong partitions, paused, unsettled, held;
	atomic_llong offsets_reset;                  /* partitions counted from where the client reset (offsets.out.of.range=reset) */
	atomic_llong last_poll_ms;                   /* when the worker last polled: a stall shows */
	atomic_llong set_version;
	atomic_llong shape_walked, shape_missed;     /* the decoder's learned shapes (cs_decode_shape_stats) */
} cs_ingest_metrics_t;

/* ---- the runtime ---- */

/* What a worker cannot get past on its own, each kind set and cleared apart (/health shows them). */
typedef enum cs_ingest_problem_e {
	CS_INGEST_PROBLEM_OFFSET, /* a recorded offset that is not one: partitions not consumed */
	CS_INGEST_PROBLEM_HELD,   /* partitions held: their recorded offset lies beyond their log */
	CS_INGEST_PROBLEM_FLUSH,  /* Redis refuses the flushes: it holds something cshield did not write */
	CS_INGEST_PROBLEM__CNT
} cs_ingest_problem_t;

/*
 * One worker: a consumer in the group and everything it needs, owned by its
 * thread (shared-nothing). Only what is marked shared is touched by other
 * threads, read-only or atomically.
 */
typedef struct cs_ingest_worker_s {
	/* who it is, and what it shares */
	int id;
	const cs_ingest_conf_t *conf; /* shared, read-only */
	struct cs_ingest_s *ing;      /* for the registry swap only */
	atomic_int *stop;             /* shared: the signal handler sets it */
	atomic_int *final_failed;     /* shared: set when this worker's final flush did not succeed */

	/* matching (cs_ingest_event.c, cs_ingest_loader.c) */
	const cs_corr_db_t *db;       /* shared, immutable; held by reference from ing->live */
	cs_corr_live_t *live;
	uint64_t gen;                 /* generation of db in live */
	cs_corr_scratch_t *scr;
	cs_decode_t *dec;
	cs_ingest_reg_t *reg;         /* held by reference; NULL without participants.file */
	uint64_t reg_gen;
	cs_tlp_t unregistered_tlp;    /* participants.unregistered.tlp */
	struct cs_ingest_ev_hit_s {
		uint32_t ind, obs; /* indicator id, index of the first observable it matched */
	} *ev_hits;                   /* distinct indicators hit by the current event */
	size_t ev_hit_cnt, ev_hit_cap;
	uint32_t cur_obs;             /* the observable being matched */

	/* the consumer and its partitions (cs_ingest_parts.c) */
	rd_kafka_t *rk;
	cs_ingest_part_t *parts;      /* current assignment */
	size_t part_cnt;
	int coop;                     /* the group runs the COOPERATIVE (incremental) rebalance protocol */
	int paused;                   /* partitions paused while Redis does not take the flushes */
	int assigned_once;            /* an assignment callback has run at least once */
	int abandon_rk;               /* never destroy rk (see cs__ingest_await_first_assignment) */
	int settle_pending;           /* some partitions are not ready: read their offsets later */
	int64_t settle_retry_ms, settle_backoff_ms;

	/* the batch (cs_ingest_batch.c, cs_ingest_redis.c) */
	cs_ingest_agg_t agg;
	cs_ingest_redis_t redis;
	int64_t pending_events;       /* consumed since the last flush */
	int64_t last_flush_ms;
	int dirty;                    /* offsets moved since the last flush */

	/* dead letters and alerts (cs_ingest_kafka.c) */
	rd_kafka_t *prod;             /* NULL when dlq.topic and alerts.topic are empty */
	atomic_long prod_failed;      /* shared: deliveries failed since the last flush (librdkafka's thread) */
	int64_t prod_pending;         /* produced since the last flush */
	int64_t prod_backoff_ms;      /* wait before replaying a batch whose deliveries failed */

	/* what it shows (cs_ingest_metrics.c reads these) */
	cs_ingest_metrics_t m;        /* shared: relaxed atomics */
	int64_t lag_at_ms;            /* when lag was last computed */
	pthread_mutex_t problem_lock; /* guards problem: the worker writes, the metrics thread reads */
	char problem[CS_INGEST_PROBLEM__CNT][512]; /* why /health answers 503 for this worker; "" when nothing */

	pthread_t thread;
	cs_err_t result;
} cs_ingest_worker_t;

/* ---- the escalation relay (cs_ingest_esc.c): its own thread, started with the workers ---- */
typedef struct cs_ingest_relay_s cs_ingest_relay_t;
/** Starts relaying P:escalations:<tlp> to conf->esc_topic until *stop; NULL with errstr set on failure. */
cs_ingest_relay_t *cs_ingest_relay_start(const cs_ingest_conf_t *conf, atomic_int *stop, char *errstr,
					 size_t errstr_size);
/** Escalations relayed so far (any thread). */
long long cs_ingest_relay_count(const cs_ingest_relay_t *r);
/** Waits for the thread (after *stop was set) and frees r. */
void cs_ingest_relay_stop(cs_ingest_relay_t *r);
/* ---- the retro-hunt (cs_ingest_retro.c) ---- */
/** Fixes each partition's range of a retro-hunt (start-up). */
cs_err_t cs__ingest_retro_ranges(cs_ingest_t *ing, char *errstr, size_t errstr_size);
void cs__ingest_retro_free(cs_ingest_t *ing);
/** Where a partition starts when Redis has no offset for it (-1: not in the hunt). */
int64_t cs__ingest_retro_from(const cs_ingest_t *ing, const char *topic, int32_t partition);
/** Where a partition's range ends (0: not in the hunt, or a live run). */
int64_t cs__ingest_retro_end(const cs_ingest_t *ing, const char *topic, int32_t partition);
/** 1 when every partition's recorded offset reached its range's end (worker thread). */
int cs__ingest_retro_done(cs_ingest_worker_t *w);
/**
 * With security.protocol SSL or SASL_*: one metadata request at start-up, so
 * that a wrong password or an untrusted certificate is a clear error at once
 * (naming the protocol and the user, never the password), not retried in the
 * background. CS_ERR_KAFKA with errstr set then; a broker that does not answer
 * is only a warning (it may come).
 */
cs_err_t cs__ingest_kafka_check(const cs_ingest_conf_t *conf, char *errstr, size_t errstr_size);
/** A new Kafka configuration with the kafka.* connection settings only (bootstrap, security). */
rd_kafka_conf_t *cs__ingest_kafka_conn(const cs_ingest_conf_t *conf);

/* a retro-hunt's range of one partition: [from, end) */
typedef struct cs_ingest_retro_s {
	char *topic;
	int32_t partition;
	int64_t from, end;
} cs_ingest_retro_t;

struct cs_ingest_s {
	cs_ingest_conf_t *conf;
	cs_ingest_retro_t *retro;  /* a retro-hunt's ranges (cs_ingest_retro.c); NULL in a live run */
	size_t retro_cnt;
	cs_ingest_relay_t *relay;  /* escalations.topic; NULL when not set */
	cs_corr_live_t *live;      /* the current indicator set, replaced by the loader thread */
	cs_corr_db_t *base;        /* the set loaded from the files (a reference), under the change layer */
	cs_ingest_changes_t *changes; /* indicators.topic; NULL when not set */
	cs_corr_store_t *store;    /* the last good contents of each indicator file (start-up, then loader thread) */
	uint64_t version;          /* of the last set loaded (loader thread) */
	atomic_int reload;         /* SIGHUP: load the files again */
	pthread_t loader;
	int loader_started;
	atomic_int stop;
	cs_ingest_worker_t *workers; /* [worker_cnt] */
	int worker_cnt;
	int metrics_fd;              /* listening socket of metrics.listen until the server takes it; -1 */
	struct MHD_Daemon *metrics_mhd; /* the metrics and health server (its own thread); NULL when off */
	atomic_llong reloads_failed;
	pthread_mutex_t reg_lock;    /* guards reg (the pointer, not the registry: it is immutable) */
	cs_ingest_reg_t *reg;        /* current registry (holds one reference); NULL when none */
	atomic_uint_fast64_t reg_gen;
	atomic_int workers_done;     /* every worker returned (the shutdown watchdog stands down) */
	atomic_int final_failed;     /* a worker's final flush failed (or has not finished) */
	int64_t started_ms;
};


/* ---- internal functions shared between the files of ingest/ (worker thread unless said) ---- */

/* the message being handled, for the decoder's callback (cs_ingest_event.c) */
typedef struct cs_ingest_msg_s {
	cs_ingest_worker_t *w;
	const rd_kafka_message_t *m;
	int64_t kafka_ts;
	int failed;
	int late;   /* the current event is late (aggregate.late.grace.s) */
	int future; /* ... or ahead of its message (aggregate.future.grace.s) */
} cs_ingest_msg_t;

/* cs_ingest_parts.c: partitions, assignment, rebalancing */
void cs__ingest_parts_clear(cs_ingest_worker_t *w);
cs_ingest_part_t *cs__ingest_part_find(cs_ingest_worker_t *w, const char *topic, int32_t partition);
/** The assigned partitions (only_moved: those with consumed messages, at their next offset). */
rd_kafka_topic_partition_list_t *cs__ingest_parts_list(const cs_ingest_worker_t *w, int only_moved);
void cs__ingest_pause_list(cs_ingest_worker_t *w, rd_kafka_topic_partition_list_t *l, int pause);
void cs__ingest_set_paused(cs_ingest_worker_t *w, int pause);
/** Makes every partition that is not ready ready (Redis offsets, assign or seek); never waits on Redis. */
cs_err_t cs__ingest_settle(cs_ingest_worker_t *w, int in_callback);
/** Drops what was consumed since the last flush; every partition must be settled again. */
void cs__ingest_drop_unflushed(cs_ingest_worker_t *w);
/** cs__ingest_drop_unflushed(), then settles at once. */
cs_err_t cs__ingest_resync(cs_ingest_worker_t *w);
void cs__ingest_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *list,
			     void *opaque);
void cs__ingest_await_first_assignment(cs_ingest_worker_t *w, int64_t deadline);
/**
 * A message at offset below p's recorded start offset: the recorded offset
 * lies beyond the partition's log (a topic re-created, a restore, another
 * cluster) and the client reset its position. Said loudly; then, as
 * offsets.out.of.range says, the partition is held (returns 1: paused, not
 * counted, /health 503) or counted from the offset the client reset to
 * (returns 0; the next flush replaces the recorded offset).
 */
int cs__ingest_out_of_range(cs_ingest_worker_t *w, cs_ingest_part_t *p, int64_t offset);

/* cs_ingest_batch.c: the batch */
/** The next wait of an exponential backoff: first, then doubled up to cap. Returns it. */
int64_t cs__ingest_backoff(int64_t *ms, int64_t first, int64_t cap);
/** Sets (fmt) or clears (NULL) one kind of problem of the worker, for /health. */
void cs__ingest_status(cs_ingest_worker_t *w, cs_ingest_problem_t kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Writes the batch and its offsets to Redis; then commits them to Kafka (lag only) and empties it. */
cs_err_t cs__ingest_flush(cs_ingest_worker_t *w);

/* cs_ingest_event.c: one message */
void cs__ingest_handle(cs_ingest_worker_t *w, rd_kafka_message_t *m);
/** The dimension counts of cnt events (what = "events") or of one hit ("hits"). */
/** Every participant of the registry into P:part (a silent one too: the report flags it). */
void cs__ingest_note_participants(cs_ingest_worker_t *w);
const char *cs__ingest_org(const cs_ingest_worker_t *w, const cs_ingest_participant_t *pt);
cs_err_t cs__ingest_roll(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, int itlp,
			 const cs_ingest_participant_t *pt, const char *what, const char *value, size_t len,
			 int64_t cnt);
cs_err_t cs__ingest_dims_n(cs_ingest_worker_t *w, int64_t window, cs_tlp_t tlp, const char *what,
			   const cs_ingest_participant_t *pt, const cs_decode_event_t *ev, int64_t cnt);

/* cs_ingest_alert.c */
cs_err_t cs__ingest_alert(cs_ingest_msg_t *mc, const cs_decode_event_t *ev, const cs_corr_ind_t *ind,
			  const cs_obs_t *obs, int64_t ts, cs_tlp_t tlp, const cs_ingest_participant_t *pt);

/* cs_ingest_loader.c: indicator sets and the registry */
cs_ingest_reg_t *cs__ingest_reg_acquire(cs_ingest_t *ing, uint64_t *gen);
void cs__ingest_reg_release(cs_ingest_reg_t *r);
/** Loads participants.file (if set) and publishes it. @locality main or loader thread */
cs_err_t cs__ingest_reg_reload(cs_ingest_t *ing, char *errstr, size_t errstr_size);
/** Loads the indicator files as set `version`. @locality main or loader thread */
cs_corr_db_t *cs__ingest_load_set(cs_ingest_t *ing, uint64_t version, char *errstr, size_t errstr_size);
/** The loader thread. */
void *cs__ingest_loader_main(void *arg);
/** Moves the worker to a newly published set and registry once nothing is unflushed. */
void cs__ingest_maybe_swap(cs_ingest_worker_t *w);

/* cs_ingest_kafka.c: client builders (main thread, start-up) */
rd_kafka_t *cs__ingest_producer_new(cs_ingest_worker_t *w, char *errstr, size_t errstr_size);
cs_err_t cs__ingest_consumer_new(cs_ingest_worker_t *w, char *errstr, size_t errstr_size);

/* cs_ingest_metrics.c: the HTTP endpoint (GET /metrics, GET /health). */
struct sockaddr_in;
/** Parses metrics.listen ("HOST:PORT", IPv4, port 0..65535) into *out (NULL: only checks). */
cs_err_t cs_ingest_metrics_addr(const char *spec, struct sockaddr_in *out, char *errstr, size_t errstr_size);
cs_err_t cs_ingest_metrics_listen(cs_ingest_t *ing, char *errstr, size_t errstr_size);
void cs_ingest_metrics_start(cs_ingest_t *ing);
void cs_ingest_metrics_stop(cs_ingest_t *ing);

#endif /* CS_INGEST_INT_H */
