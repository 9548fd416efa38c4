/*
 * cs_ingest_metrics.c - Prometheus text metrics and a health check over HTTP
 * (metrics.listen), served by libmicrohttpd.
 *
 * DESIGN: libmicrohttpd's own thread polls every connection (epoll), so an
 * idle, slow or hostile peer holds only its own connection: concurrent
 * scrapes, a per-connection timeout (metrics.connection.timeout.s), a
 * connection limit (metrics.connection.limit) and a per-connection memory
 * limit, which bounds the request line and headers (an oversized request gets
 * 414 or 431). Nothing here is on the event path: the workers only bump
 * relaxed atomics (cs_ingest_metrics_t), the server's thread reads them. The
 * health check answers 503 when a worker has not polled for 30 s (stuck), or
 * when every worker's partitions are paused (Redis down), with the reason.
 * The listening socket is bound here (so a bad address is a start-up error),
 * then handed to the daemon, which closes it on stop.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "cs_ingest_int.h"
#include "cs_json.h"

#define CS__MOD "metrics"
/* request line and headers of one connection, and its read buffer */
#define CS__MHD_MEM_LIMIT (16 * 1024)

static const int64_t cs__buckets_ms[7] = {5, 10, 25, 50, 100, 250, 1000};

cs_err_t cs_ingest_metrics_addr(const char *spec, struct sockaddr_in *out, char *errstr, size_t errstr_size) {
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa;
	char host[64];
	long port = -1;
	char *end;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (colon && colon[1] >= '0' && colon[1] <= '9')
		port = strtol(colon + 1, &end, 10);
	if (!colon || (size_t)(colon - spec) >= sizeof(host) || port < 0 || port > 65535 || *end) {
		cs_errstr_set(errstr, errstr_size, "property \"metrics.listen\": \"%s\" is not HOST:PORT", spec);
		return CS_ERR_CONF_VALUE;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa.sin_addr) != 1) {
		cs_errstr_set(errstr, errstr_size, "property \"metrics.listen\": \"%s\" is not an IPv4 address", host);
		return CS_ERR_CONF_VALUE;
	}
	sa.sin_port = htons((uint16_t)port);
	if (out)
		*out = sa;
	return CS_ERR_OK;
}

cs_err_t cs_ingest_metrics_listen(cs_ingest_t *ing, char *errstr, size_t errstr_size) {
	const char *spec = ing->conf->metrics_listen;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char host[INET_ADDRSTRLEN];
	int fd, one = 1;
	cs_err_t err;

	ing->metrics_fd = -1;
	if (!*spec)
		return CS_ERR_OK;
	if ((err = cs_ingest_metrics_addr(spec, &sa, errstr, errstr_size)))
		return err;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 128) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		cs_errstr_set(errstr, errstr_size, "metrics.listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CS_ERR_IO;
	}
	ing->metrics_fd = fd;
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	CS_LOG_I(CS__MOD, "metrics on http://%s:%d/metrics, health on /health", host, (int)ntohs(sa.sin_port));
	return CS_ERR_OK;
}

static long cs__rss_kb(void) {
	FILE *fp = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;
	if (fp) {
		if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(fp);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

#define CS__LD(x) ((long long)atomic_load_explicit(&(x), memory_order_relaxed))

/* One counter or gauge per worker. */
static void cs__per_worker(FILE *fp, cs_ingest_t *ing, const char *name, const char *type, const char *help,
			   size_t off) {
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (int i = 0; i < ing->worker_cnt; i++) {
		atomic_llong *m = (atomic_llong *)((char *)&ing->workers[i].m + off);
		long long v = (long long)atomic_load_explicit(m, memory_order_relaxed);
		fprintf(fp, "%s{worker=\"%d\"} %lld\n", name, i, v);
	}
}

static void cs__metrics(FILE *fp, cs_ingest_t *ing) {
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} rows[] = {
		{"cshield_messages_consumed_total", "counter", "Kafka messages consumed.", offsetof(cs_ingest_metrics_t, messages)},
		{"cshield_events_total", "counter", "Events recorded in Redis (decoded or rejected).", offsetof(cs_ingest_metrics_t, events)},
		{"cshield_hits_total", "counter", "Counted (event, indicator) hits recorded in Redis.", offsetof(cs_ingest_metrics_t, hits)},
		{"cshield_hits_suppressed_total", "counter", "Hits on warning-listed indicators (not counted).", offsetof(cs_ingest_metrics_t, suppressed)},
		{"cshield_events_late_total", "counter", "Events older than aggregate.late.grace.s at arrival, counted in their arrival window.", offsetof(cs_ingest_metrics_t, late)},
		{"cshield_events_future_total", "counter", "Events further ahead of their arrival than aggregate.future.grace.s, counted in their arrival window.", offsetof(cs_ingest_metrics_t, future)},
		{"cshield_values_skipped_total", "counter", "Values longer than decode.max.string.bytes, skipped in events that were kept.", offsetof(cs_ingest_metrics_t, strings_skipped)},
		{"cshield_observables_dropped_total", "counter", "Observables beyond decode.max.observables, dropped from events that were kept.", offsetof(cs_ingest_metrics_t, obs_dropped)},
		{"cshield_alerts_total", "counter", "Alerts written.", offsetof(cs_ingest_metrics_t, alerts)},
		{"cshield_escalations_total", "counter", "Escalations raised (written to P:escalations:<tlp>).", offsetof(cs_ingest_metrics_t, escalations)},
		{"cshield_flushes_total", "counter", "Successful flushes to Redis.", offsetof(cs_ingest_metrics_t, flushes)},
		{"cshield_flush_failures_total", "counter", "Flushes that failed (Redis unreachable, slow or refusing).", offsetof(cs_ingest_metrics_t, flush_failures)},
		{"cshield_flush_stale_total", "counter", "Flushes refused by the offset check (the batch was replayed).", offsetof(cs_ingest_metrics_t, flush_stale)},
		{"cshield_flush_produce_failures_total", "counter", "Batches replayed because their dead letters or alerts could not be delivered.", offsetof(cs_ingest_metrics_t, produce_failures)},
		{"cshield_consumer_lag", "gauge", "Messages between the log end and the next offset, summed over the worker's partitions.", offsetof(cs_ingest_metrics_t, lag)},
		{"cshield_partitions_assigned", "gauge", "Partitions the worker holds.", offsetof(cs_ingest_metrics_t, partitions)},
		{"cshield_partitions_paused", "gauge", "Partitions paused while Redis does not answer.", offsetof(cs_ingest_metrics_t, paused)},
		{"cshield_partitions_unsettled", "gauge", "Partitions assigned whose start offset could not yet be read from Redis.", offsetof(cs_ingest_metrics_t, unsettled)},
		{"cshield_partitions_held", "gauge", "Partitions held because their recorded offset lies beyond their log (offsets.out.of.range=hold).", offsetof(cs_ingest_metrics_t, held)},
		{"cshield_offsets_reset_total", "counter", "Partitions counted from where the client reset because their recorded offset lay beyond their log (offsets.out.of.range=reset).", offsetof(cs_ingest_metrics_t, offsets_reset)},
		{"cshield_pending_bytes", "gauge", "Bytes held by the worker's unflushed aggregates and alerts (flush.max.bytes caps it).", offsetof(cs_ingest_metrics_t, pending_bytes)},
		{"cshield_indicator_set_version", "gauge", "Version of the indicator set the worker matches with.", offsetof(cs_ingest_metrics_t, set_version)},
		{"cshield_decode_shape_walked_total", "counter", "JSON events read along a learned shape (decode.shape.nodes).", offsetof(cs_ingest_metrics_t, shape_walked)},
		{"cshield_decode_shape_missed_total", "counter", "JSON events read by the full scan after no learned shape fitted (their shapes are learned).", offsetof(cs_ingest_metrics_t, shape_missed)},
	};
	for (size_t r = 0; r < CS_ARRAY_SIZE(rows); r++)
		cs__per_worker(fp, ing, rows[r].name, rows[r].type, rows[r].help, rows[r].off);

	fprintf(fp, "# HELP cshield_events_rejected_total Events rejected by the decoder, by reason (docs/FORMATS.md).\n"
		    "# TYPE cshield_events_rejected_total counter\n");
	for (int k = 0; k < CS_DECODE_REJECT__CNT; k++) {
		long long v = 0;
		for (int i = 0; i < ing->worker_cnt; i++)
			v += CS__LD(ing->workers[i].m.rejects[k]);
		fprintf(fp, "cshield_events_rejected_total{reason=\"%s\"} %lld\n", cs_decode_reject2code((cs_decode_reject_t)k), v);
	}
	fprintf(fp, "# HELP cshield_flush_duration_ms Duration of successful flushes (one Redis script each).\n"
		    "# TYPE cshield_flush_duration_ms histogram\n");
	{
		long long cum = 0, sum = 0, cnt = 0;
		for (int b = 0; b < 8; b++) {
			for (int i = 0; i < ing->worker_cnt; i++)
				cum += CS__LD(ing->workers[i].m.flush_ms_buckets[b]);
			if (b < 7)
				fprintf(fp, "cshield_flush_duration_ms_bucket{le=\"%lld\"} %lld\n", (long long)cs__buckets_ms[b], cum);
			else
				fprintf(fp, "cshield_flush_duration_ms_bucket{le=\"+Inf\"} %lld\n", cum);
		}
		for (int i = 0; i < ing->worker_cnt; i++) {
			sum += CS__LD(ing->workers[i].m.flush_ms_sum);
			cnt += CS__LD(ing->workers[i].m.flushes);
		}
		fprintf(fp, "cshield_flush_duration_ms_sum %lld\ncshield_flush_duration_ms_count %lld\n", sum, cnt);
	}
	fprintf(fp, "# HELP cshield_indicator_reloads_failed_total Indicator sets that failed to load (the previous one stayed).\n"
		    "# TYPE cshield_indicator_reloads_failed_total counter\ncshield_indicator_reloads_failed_total %lld\n",
		CS__LD(ing->reloads_failed));
	fprintf(fp, "# HELP cshield_resident_memory_bytes Resident set size of the process.\n"
		    "# TYPE cshield_resident_memory_bytes gauge\ncshield_resident_memory_bytes %lld\n",
		(long long)cs__rss_kb() * 1024);
	fprintf(fp, "# HELP cshield_workers Worker threads.\n# TYPE cshield_workers gauge\ncshield_workers %d\n",
		ing->worker_cnt);
}

/* 200 and "ok", or 503 and why. */
static int cs__health(cs_ingest_t *ing, char *why, size_t size) {
	int64_t now = cs_clock_ms();
	int all_paused = ing->worker_cnt > 0;
	*why = '\0';
	for (int i = 0; i < ing->worker_cnt; i++) {
		cs_ingest_metrics_t *m = &ing->workers[i].m;
		int64_t last = CS__LD(m->last_poll_ms);
		if (last && now - last > 30000) {
			snprintf(why, size, "worker %d has not polled Kafka for %lld s", i, (long long)(now - last) / 1000);
			return 503;
		}
		if (!atomic_load(&m->paused) || !atomic_load(&m->partitions))
			all_paused = 0;
	}
	for (int i = 0; i < ing->worker_cnt; i++) {
		cs_ingest_worker_t *w = &ing->workers[i];
		pthread_mutex_lock(&w->problem_lock);
		for (int k = 0; k < CS_INGEST_PROBLEM__CNT && !*why; k++)
			if (w->problem[k][0])
				snprintf(why, size, "worker %d: %s", i, w->problem[k]);
		pthread_mutex_unlock(&w->problem_lock);
		if (*why)
			return 503;
	}
	if (all_paused) {
		snprintf(why, size, "every partition is paused: Redis does not take the flushes");
		return 503;
	}
	snprintf(why, size, "ok");
	return 200;
}

/* The answer to one request: status, content type and a malloc'ed body (MHD frees it). */
static enum MHD_Result cs__answer(struct MHD_Connection *conn, unsigned status, const char *ctype, char *body,
				  size_t len) {
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;
	if (!resp) {
		free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Every request: GET (or HEAD) /metrics or /health. The body is built in
 * memory before a byte is sent, so a slow reader holds only its own
 * connection's buffer, never this thread.
 */
static enum MHD_Result cs__on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **con_cls) {
	cs_ingest_t *ing = cls;
	char *body = NULL;
	size_t blen = 0;
	FILE *fp;
	unsigned status = MHD_HTTP_OK;
	const char *ctype = "text/plain; version=0.0.4";

	if (*upload_data_size) { /* a body was sent: not read, not needed */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		if (!(body = cs_strdup("GET /metrics or GET /health\n")))
			return MHD_NO;
		return cs__answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", body, strlen(body));
	}
	if (!(fp = open_memstream(&body, &blen)))
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		cs__metrics(fp, ing);
	} else if (!strcmp(url, "/health")) {
		char why[600];
		int code = cs__health(ing, why, sizeof(why));
		cs_jw_t jw;
		status = (unsigned)code;
		ctype = "application/json";
		cs_jw_init(&jw, fp);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "status", code == 200 ? "ok" : "unhealthy");
		cs_jw_kstr(&jw, "reason", why);
		cs_jw_obj_end(&jw);
		fputc('\n', fp);
	} else {
		status = MHD_HTTP_NOT_FOUND;
		ctype = "text/plain";
		fputs("GET /metrics or GET /health\n", fp);
	}
	if (fclose(fp)) {
		free(body);
		return MHD_NO;
	}
	return cs__answer(conn, status, ctype, body, blen);
}

static void cs__mhd_log(void *cls, const char *fmt, va_list ap) {
	char msg[512];
	size_t n;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	CS_LOG_D(CS__MOD, "%s", msg); /* a peer's bad request: not the operator's problem */
}

void cs_ingest_metrics_start(cs_ingest_t *ing) {
	const cs_ingest_conf_t *conf = ing->conf;
	if (ing->metrics_fd < 0)
		return;
	ing->metrics_mhd = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, cs__on_request, ing,
		MHD_OPTION_LISTEN_SOCKET, ing->metrics_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)conf->metrics_conn_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf->metrics_conn_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CS__MHD_MEM_LIMIT,
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, /* ignored process-wide (cs_proc_init) */
		MHD_OPTION_EXTERNAL_LOGGER, cs__mhd_log, ing, MHD_OPTION_END);
	if (!ing->metrics_mhd)
		CS_LOG_E(CS__MOD, "cannot start the metrics endpoint (libmicrohttpd): no metrics");
	/* the daemon owns the socket now and closes it on stop (a failed start may have closed
	 * it already: never closed twice) */
	ing->metrics_fd = -1;
}

void cs_ingest_metrics_stop(cs_ingest_t *ing) {
	if (ing->metrics_mhd) {
		MHD_stop_daemon(ing->metrics_mhd); /* closes every connection and the socket */
		ing->metrics_mhd = NULL;
	}
	if (ing->metrics_fd >= 0)
		close(ing->metrics_fd);
	ing->metrics_fd = -1;
}
