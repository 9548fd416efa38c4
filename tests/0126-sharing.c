/*
 * 0126-sharing: intelligence in over TAXII 2.1 and sightings back out, against
 * a real TAXII 2.1 server (OASIS medallion, memory backend, on loopback), the
 * real broker and Redis.
 *
 * 1. cshield-taxii pulls a collection of 5 indicators in pages of 2 (basic
 *    authentication) into a bundle file; a revoked one is rejected by the
 *    loader. A wrong password, a server that answers garbage, one that pages for
 *    ever, and no server at all each fail with their reason and leave the file byte for byte as it
 *    was; --follow retries after 1, 2, 4 s. Over TLS (the test CA's
 *    certificate): pulled with --cacert, refused with another CA and with the
 *    system's.
 * 2. cshield-ingest loads the file beside a local list; events of three
 *    participants (CLEAR, GREEN, AMBER) and an unregistered sender hit
 *    addresses, a domain, a command line and a file name. An indicator added to
 *    the collection while ingest runs is pulled, reloaded, and hit; one revoked
 *    there (a newer version) is gone from the set.
 * 3. cshield-report --format sightings for GREEN and AMBER: exactly the
 *    sightings the workload makes (count, TLP, where sighted: a participant
 *    named only at AMBER, the hub otherwise), sighting_of_ref the server's id,
 *    valid for OASIS stix2-validator, the same ids and versions when written
 *    again later; pushed to a second collection twice (the second adds
 *    nothing) and read back; imported by MISP's misp-stix (one sighting per
 *    STIX sighting, as MISP keeps them); --format misp-sightings: one line per
 *    hit, unique uuids, the same on a second run.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define COLL_IND "5d1c7a3e-8f2b-4c6d-9e0a-1b2c3d4e5f60"
#define COLL_SIG "6e2d8b4f-9a3c-4d7e-8f1b-2c3d4e5f6a71"
#define IND_ID(n) "indicator--7c1e5b2a-3d4f-4a6b-9c8d-0e1f2a3b4c5" #n
#define CMDLINE "powershell.exe -nop -w hidden -enc SQBFAFgA"
#define FILENAME "invoice_2026.pdf.exe"
#define TLP_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"

static pid_t medallion_pid, medallion_tls_pid;
static int taxii_port, taxii_tls_port;

static void medallion_stop(void) {
	pid_t *p[2] = {&medallion_pid, &medallion_tls_pid};
	for (int i = 0; i < 2; i++)
		if (*p[i] > 0) {
			kill(*p[i], SIGTERM);
			cs_svc_wait(*p[i], 5000);
			*p[i] = 0;
		}
}

/* Whether something accepts TCP connections on 127.0.0.1:port. */
static int listening(int port) {
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* One indicator object of the producer's collection. */
static void ind(char *out, size_t size, int n, const char *pattern, const char *marking, int revoked) {
	snprintf(out, size,
		 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND_ID(%d) "\",\"created\":\"2026-11-30T08:00:00.000Z\","
		 "\"modified\":\"2026-11-30T08:00:00.000Z\",\"created_by_ref\":\"identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
		 "\"name\":\"indicator %d\",\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-30T08:00:00Z\","
		 "\"object_marking_refs\":[\"%s\"]%s}",
		 n, n, pattern, marking, revoked ? ",\"revoked\":true" : "");
}

/* medallion's data file: one API root, the producer's collection (5 indicators, an identity) and an empty one. */
static int medallion_start(const char *dir) {
	const char *py = getenv("CS_PYTOOLS_PYTHON");
	char data[1 << 14], path[600], conf[600], logf[600], bin[600], objs[8192], one[1024], man[4096];
	const char *pats[5] = {"[ipv4-addr:value = '203.0.113.10']", "[domain-name:value = 'c2-1.evil-test.eu']",
			       "[process:command_line = '" CMDLINE "']", "[file:name = '" FILENAME "']",
			       "[domain-name:value = 'revoked.evil-test.eu']"};
	size_t o = 0, m = 0;
	snprintf(bin, sizeof(bin), "%.*s/medallion", (int)(strrchr(py, '/') - py), py);
	o += (size_t)snprintf(objs + o, sizeof(objs) - o,
			      "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
			      "\"created\":\"2026-11-30T08:00:00.000Z\",\"modified\":\"2026-11-30T08:00:00.000Z\","
			      "\"name\":\"EU Threat Exchange\",\"identity_class\":\"organization\"}");
	m += (size_t)snprintf(man + m, sizeof(man) - m,
			      "{\"id\":\"identity--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\",\"date_added\":\"2026-11-30T08:00:00.000000Z\","
			      "\"version\":\"2026-11-30T08:00:00.000Z\",\"media_type\":\"application/stix+json;version=2.1\"}");
	for (int i = 0; i < 5; i++) {
		ind(one, sizeof(one), i + 1, pats[i], i == 0 || i == 2 ? TLP_GREEN : TLP_CLEAR, i == 4);
		o += (size_t)snprintf(objs + o, sizeof(objs) - o, ",%s", one);
		m += (size_t)snprintf(man + m, sizeof(man) - m,
				      ",{\"id\":\"" IND_ID(%d) "\",\"date_added\":\"2026-11-30T08:00:0%d.000000Z\","
				      "\"version\":\"2026-11-30T08:00:00.000Z\",\"media_type\":\"application/stix+json;version=2.1\"}",
				      i + 1, i + 1);
	}
	snprintf(data, sizeof(data),
		 "{\"/discovery\":{\"title\":\"cshield test\",\"default\":\"http://127.0.0.1:%d/api1/\",\"api_roots\":[\"http://127.0.0.1:%d/api1/\"]},"
		 "\"api1\":{\"information\":{\"title\":\"api1\",\"versions\":[\"application/taxii+json;version=2.1\"],\"max_content_length\":10485760},"
		 "\"status\":[],\"collections\":["
		 "{\"id\":\"" COLL_IND "\",\"title\":\"indicators\",\"can_read\":true,\"can_write\":true,"
		 "\"media_types\":[\"application/stix+json;version=2.1\"],\"objects\":[%s],\"manifest\":[%s]},"
		 "{\"id\":\"" COLL_SIG "\",\"title\":\"sightings\",\"can_read\":true,\"can_write\":true,"
		 "\"media_types\":[\"application/stix+json;version=2.1\"],\"objects\":[],\"manifest\":[]}]}}",
		 taxii_port, taxii_port, objs, man);
	snprintf(path, sizeof(path), "%s/medallion-data.json", dir);
	CS_TEST_EQ_INT(cs_test_write_file(path, data), 0);
	snprintf(conf, sizeof(conf), "%s/medallion.json", dir);
	snprintf(data, sizeof(data),
		 "{\"backend\":{\"module\":\"medallion.backends.memory_backend\",\"module_class\":\"MemoryBackend\",\"filename\":\"%s\"},"
		 "\"users\":{\"analyst\":\"s3cret-pw\"},\"taxii\":{\"max_page_size\":100}}",
		 path);
	CS_TEST_EQ_INT(cs_test_write_file(conf, data), 0);
	snprintf(logf, sizeof(logf), "%s/medallion.log", dir);
	if ((medallion_pid = fork()) == 0) {
		char port[16];
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(port, sizeof(port), "%d", taxii_port);
		execl(bin, bin, "--host", "127.0.0.1", "--port", port, conf, (char *)NULL);
		_exit(127);
	}
	CS_TEST_ASSERT(medallion_pid > 0, "fork");
	atexit(medallion_stop);
	/* the same server over TLS, with the local broker's test certificate (127.0.0.1, signed by the test CA):
	 * medallion's own application, run by Flask with a TLS context */
	if (getenv("CS_KAFKA_CA") && (medallion_tls_pid = fork()) == 0) {
		char port[16], cert[640], key[640], ca[600];
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(ca, sizeof(ca), "%s", getenv("CS_KAFKA_CA"));
		*strrchr(ca, '/') = '\0';
		snprintf(cert, sizeof(cert), "%s/broker.pem", ca);
		snprintf(key, sizeof(key), "%s/broker.key", ca);
		snprintf(port, sizeof(port), "%d", taxii_tls_port);
		execl(py, py, "-c",
		      "import json, sys\n"
		      "from medallion import application_instance as app, set_config, register_blueprints\n"
		      "c = json.load(open(sys.argv[1]))\n"
		      "for k in ('users', 'taxii', 'backend'): set_config(app, k, c)\n"
		      "register_blueprints(app)\n"
		      "app.run(host='127.0.0.1', port=int(sys.argv[2]), ssl_context=(sys.argv[3], sys.argv[4]))\n",
		      conf, port, cert, key, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 150; i++) { /* its discovery answers, and the TLS one listens */
		char buf[2048];
		if (cs_svc_http_get(taxii_port, "/taxii2/", buf, sizeof(buf)) > 0 &&
		    (!getenv("CS_KAFKA_CA") || listening(taxii_tls_port)))
			return 0;
		cs_svc_sleep_ms(100);
	}
	cs_svc_dump_log(logf);
	CS_TEST_FAIL("medallion did not answer on 127.0.0.1:%d and %d", taxii_port, taxii_tls_port);
}

static int validate(const char *path) {
	const char *v = getenv("CS_STIX2_VALIDATOR");
	char cmd[1024], out[1 << 14];
	int rc;
	snprintf(cmd, sizeof(cmd), "%s --version 2.1 --strict-types %s 2>&1", v, path);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "stix2-validator %s: exit %d: %.6000s", path, rc, out);
	return 0;
}

/* Runs cshield-taxii with args; output (stdout and stderr) in out; the exit code. */
static int taxii(const char *args, char *out, size_t size) {
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "%s/taxii/cshield-taxii %s 2>&1", cs_test_bindir(), args);
	return cs_test_run(cmd, out, size);
}

static char *slurp(const char *path) {
	FILE *fp = fopen(path, "r");
	char *b;
	long n;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = '\0';
	fclose(fp);
	return b;
}

/* Objects of type in bundle file path. */
static int count_type(const char *path, const char *type) {
	json_t *b = json_load_file(path, 0, NULL), *o;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(b, "objects"), i, o)
		n += !strcmp(json_string_value(json_object_get(o, "type")) ? json_string_value(json_object_get(o, "type")) : "", type);
	json_decref(b);
	return n;
}

/* A fake TAXII server on a free port that answers every request with body, once per connection, n times. */
static pid_t fake_server(int *port, int n, const char *body) {
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &al))
		return -1;
	*port = ntohs(a.sin_port);
	if ((pid = fork()) == 0) {
		char resp[512];
		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 strlen(body), body);
		for (int i = 0; i < n; i++) {
			char buf[4096];
			int c = accept(fd, NULL, NULL);
			if (c < 0)
				break;
			if (read(c, buf, sizeof(buf)) < 0) {
				close(c);
				continue;
			}
			if (write(c, resp, strlen(resp)) < 0)
				break;
			close(c);
		}
		_exit(0);
	}
	close(fd);
	return pid;
}

static int produce(const char *topic, int n, int64_t ts_s, const char *key, const char *field, const char *value) {
	rd_kafka_t *rk = cs_svc_producer("none");
	char ev[1024], t[40];
	time_t s = (time_t)ts_s;
	struct tm tm;
	if (!rk)
		return -1;
	gmtime_r(&s, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (int i = 0; i < n; i++) {
		int len = !strcmp(field, "ip") ? snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"source\":{\"ip\":\"10.9.0.%d\"},\"destination\":{\"ip\":\"%s\"}}", t, i + 1, value)
			: !strcmp(field, "dns") ? snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"dns\":{\"question\":{\"name\":\"%s\"}}}", t, value)
			: !strcmp(field, "cmd") ? snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"process\":{\"command_line\":\"%s\",\"pid\":%d}}", t, value, 4000 + i)
						: snprintf(ev, sizeof(ev), "{\"@timestamp\":\"%s\",\"file\":{\"name\":\"%s\",\"size\":%d}}", t, value, 1000 + i);
		if (cs_svc_produce_key(rk, topic, 0, key, ev, (size_t)len, 0)) {
			cs_svc_producer_close(rk);
			return -1;
		}
	}
	return cs_svc_producer_close(rk);
}

static int report(const cs_svc_run_t *run, const char *args, const char *path) {
	char cmd[2048], out[4096];
	int rc;
	snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s %s -o %s 2>&1", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), run->prefix, args, path);
	rc = cs_test_run(cmd, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "cshield-report %s: exit %d: %s", args, rc, out);
	return 0;
}

typedef struct {
	const char *ref; /* indicator id, or the value of the hub's own indicator */
	const char *where; /* participant name, or "hub" */
	long long count;
	const char *tlp;
} want_t;

static const char *tlp_of(json_t *o) {
	const char *m = json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0));
	static const char *const ids[5][2] = {{TLP_CLEAR, "clear"}, {TLP_GREEN, "green"},
		{"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"},
		{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"},
		{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red"}};
	for (int i = 0; m && i < 5; i++)
		if (!strcmp(m, ids[i][0]))
			return ids[i][1];
	return "?";
}

/* The sightings of bundle file path are exactly want[0..n) (any order). */
static int check_sightings(const char *path, const want_t *want, size_t n, const char *what) {
	json_t *b = json_load_file(path, 0, NULL), *o, *byid = json_object();
	size_t i, got = 0;
	CS_TEST_ASSERT(b, "%s: %s is not JSON", what, path);
	json_array_foreach(json_object_get(b, "objects"), i, o)
		json_object_set(byid, json_string_value(json_object_get(o, "id")), o);
	json_array_foreach(json_object_get(b, "objects"), i, o) {
		const char *ref, *where_id, *where, *label;
		json_t *ind, *idn;
		size_t k;
		char refbuf[256];
		if (strcmp(json_string_value(json_object_get(o, "type")), "sighting"))
			continue;
		got++;
		ref = json_string_value(json_object_get(o, "sighting_of_ref"));
		ind = json_object_get(byid, ref);
		if (ind) /* the hub's own indicator: named by its value */
			snprintf(refbuf, sizeof(refbuf), "%s", json_string_value(json_object_get(ind, "name")));
		else
			snprintf(refbuf, sizeof(refbuf), "%s", ref);
		where_id = json_string_value(json_array_get(json_object_get(o, "where_sighted_refs"), 0));
		idn = json_object_get(byid, where_id);
		CS_TEST_ASSERT(idn, "%s: %s sighted at %s, which is not in the bundle", what, refbuf, where_id);
		where = json_string_value(json_object_get(idn, "name"));
		label = tlp_of(o);
		for (k = 0; k < n; k++)
			if (!strcmp(want[k].ref, refbuf) && !strcmp(want[k].where, where))
				break;
		CS_TEST_ASSERT(k < n, "%s: an unexpected sighting of %s at %s", what, refbuf, where);
		CS_TEST_ASSERT(json_integer_value(json_object_get(o, "count")) == want[k].count && !strcmp(label, want[k].tlp),
			       "%s: %s at %s: count %lld %s, expected %lld %s", what, refbuf, where,
			       (long long)json_integer_value(json_object_get(o, "count")), label, want[k].count, want[k].tlp);
		CS_TEST_ASSERT(json_is_true(json_object_get(o, "summary")), "summary");
	}
	CS_TEST_ASSERT(got == n, "%s: %zu sightings, expected %zu", what, got, n);
	json_decref(byid);
	json_decref(b);
	return 0;
}

/* The sighting objects of a bundle, sorted by id, as one string (for comparing two runs). */
static char *sightings_of(const char *path) {
	json_t *b = json_load_file(path, 0, NULL), *o, *s = json_object();
	size_t i;
	char *out;
	json_array_foreach(json_object_get(b, "objects"), i, o)
		if (!strcmp(json_string_value(json_object_get(o, "type")), "sighting"))
			json_object_set(s, json_string_value(json_object_get(o, "id")), o);
	out = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(s);
	json_decref(b);
	return out;
}


int cs_test_0126(void) {
	cs_svc_run_t run;
	char dir[512], bundle[600], pw[600], reg[600], extra[2048], args[2048], out[1 << 16], url[256], sigurl[256];
	char green[600], amber[600], again[600], misp1[600], misp2[600], readback[600];
	char *before, *after, *c;
	int rc_check, rc;
	int64_t now = (int64_t)time(NULL), cur = now - 3600;
	redisContext *rcx;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	if (!getenv("CS_PYTOOLS_PYTHON") || !*getenv("CS_PYTOOLS_PYTHON") || !getenv("CS_STIX2_VALIDATOR")) {
		CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
			       "CS_PYTOOLS_PYTHON or CS_STIX2_VALIDATOR unset (deploy/local/pytools.sh)");
		CS_TEST_SAY("no test-only Python tools (deploy/local/pytools.sh): skipped");
		return CS_TEST_SKIP;
	}
	snprintf(dir, sizeof(dir), "%s", cs_test_tmpdir());
	CS_TEST_ASSERT((taxii_port = cs_svc_free_port()) > 0 && (taxii_tls_port = cs_svc_free_port()) > 0 &&
			       taxii_tls_port != taxii_port,
		       "free ports");
	if (medallion_start(dir))
		return 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api1/collections/" COLL_IND "/", taxii_port);
	snprintf(sigurl, sizeof(sigurl), "http://127.0.0.1:%d/api1/collections/" COLL_SIG "/", taxii_port);
	snprintf(bundle, sizeof(bundle), "%s/taxii-indicators.json", dir);
	snprintf(pw, sizeof(pw), "%s/taxii.pw", dir);
	CS_TEST_EQ_INT(cs_test_write_file(pw, "s3cret-pw\n"), 0);

	/* 1. pull, page by page */
	snprintf(args, sizeof(args), "pull --collection %s --user analyst --password-file %s --limit 2 --out %s", url, pw, bundle);
	rc = taxii(args, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "pull: exit %d: %s", rc, out);
	CS_TEST_ASSERT(strstr(out, "pulled 6 objects added after the start: 6 new or newer"), "%s", out);
	CS_TEST_ASSERT(!strstr(out, "s3cret-pw"), "the password in the output");
	CS_TEST_EQ_INT(count_type(bundle, "indicator"), 5);
	CS_TEST_EQ_INT(count_type(bundle, "identity"), 1);
	if (validate(bundle)) /* the bundle cshield-taxii wrote */
		return 1;
	rc = taxii(args, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0 && strstr(out, ": 0 new or newer"), "second pull: exit %d: %s", rc, out);
	CS_TEST_ASSERT((before = slurp(bundle)), "read %s", bundle);
	/* ... a wrong password, garbage, nobody there: each said, the file untouched */
	snprintf(args, sizeof(args), "pull --collection %s --user analyst --out %s", url, bundle);
	{
		char cmd[4096];
		snprintf(cmd, sizeof(cmd), "CS_TAXII_PASSWORD=wrong %s/taxii/cshield-taxii %s 2>&1", cs_test_bindir(), args);
		rc = cs_test_run(cmd, out, sizeof(out));
		CS_TEST_ASSERT(rc == 1 && strstr(out, "HTTP 401 (unauthorized: check the user and the password)") &&
				       !strstr(out, "wrong"),
			       "wrong password: exit %d: %s", rc, out);
	}
	{
		int gport;
		pid_t g = fake_server(&gport, 1, "{\"objects\": [{\"type\": \"ind");
		CS_TEST_ASSERT(g > 0, "garbage server");
		snprintf(args, sizeof(args), "pull --collection http://127.0.0.1:%d/api1/collections/x/ --out %s", gport, bundle);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 1 && strstr(out, "the response is not JSON"), "garbage: exit %d: %s", rc, out);
		cs_svc_wait(g, 5000);
		/* a server that pages for ever (the same "next" again) */
		g = fake_server(&gport, 2, "{\"more\": true, \"next\": \"p2\", \"objects\": []}");
		CS_TEST_ASSERT(g > 0, "endless server");
		snprintf(args, sizeof(args), "pull --collection http://127.0.0.1:%d/api1/collections/x/ --out %s", gport, bundle);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 1 && strstr(out, "the server would page for ever"), "endless pages: exit %d: %s", rc, out);
		cs_svc_wait(g, 5000);
		/* --follow against a port nobody listens on: retried after 1, 2, 4 s; stopped by SIGTERM */
		snprintf(args, sizeof(args), "timeout --preserve-status -s TERM 8 %s/taxii/cshield-taxii pull --follow --interval 4 "
			 "--collection http://127.0.0.1:%d/api1/collections/x/ --out %s 2>&1", cs_test_bindir(), gport, bundle);
		rc = cs_test_run(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 0 && strstr(out, "next try in 1 s") && strstr(out, "next try in 2 s") &&
				       strstr(out, "next try in 4 s") && strstr(out, "Couldn't connect"),
			       "--follow: exit %d: %s", rc, out);
	}
	CS_TEST_ASSERT((after = slurp(bundle)) && !strcmp(before, after), "a failed pull changed %s", bundle);
	free(after);
	/* over TLS: the test CA given, another CA, the system's */
	CS_TEST_ASSERT(getenv("CS_KAFKA_CA") || !getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
		       "CS_KAFKA_CA unset (deploy/local/services.sh makes the test CA)");
	if (getenv("CS_KAFKA_CA")) {
		char tlsfile[600];
		snprintf(tlsfile, sizeof(tlsfile), "%s/taxii-tls.json", dir);
		snprintf(args, sizeof(args),
			 "pull --collection https://127.0.0.1:%d/api1/collections/" COLL_IND "/ --user analyst --password-file %s "
			 "--cacert %s --out %s",
			 taxii_tls_port, pw, getenv("CS_KAFKA_CA"), tlsfile);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 0 && count_type(tlsfile, "indicator") == 5, "pull over TLS: exit %d: %s", rc, out);
		snprintf(args, sizeof(args),
			 "pull --collection https://127.0.0.1:%d/api1/collections/" COLL_IND "/ --user analyst --password-file %s "
			 "--cacert %s --out %s.other",
			 taxii_tls_port, pw, getenv("CS_KAFKA_OTHER_CA"), tlsfile);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 1 && strstr(out, "SSL certificate problem"), "another CA: exit %d: %s", rc, out);
		snprintf(args, sizeof(args),
			 "pull --collection https://127.0.0.1:%d/api1/collections/" COLL_IND "/ --user analyst --password-file %s --out %s.sys",
			 taxii_tls_port, pw, tlsfile);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 1 && strstr(out, "SSL certificate problem"), "the system's CAs: exit %d: %s", rc, out);
	}

	/* 2. ingest with the pulled bundle and a local list */
	snprintf(reg, sizeof(reg), "%s/participants.json", dir);
	CS_TEST_EQ_INT(cs_test_write_file(
			       reg, "{\"participants\": [\n"
				    " {\"id\": \"lu-circl\", \"name\": \"CIRCL\", \"kind\": \"CSIRT\", \"member_state\": \"LU\","
				    "  \"sector\": \"government\", \"tlp\": \"clear\", \"keys\": [\"circl\"]},\n"
				    " {\"id\": \"fr-energy-soc\", \"name\": \"Energy SOC\", \"kind\": \"SOC\", \"member_state\": \"FR\","
				    "  \"sector\": \"energy\", \"tlp\": \"green\", \"keys\": [\"fren\"]},\n"
				    " {\"id\": \"de-bank-soc\", \"name\": \"Bank SOC\", \"kind\": \"SOC\", \"member_state\": \"DE\","
				    "  \"sector\": \"finance\", \"tlp\": \"amber\", \"keys\": [\"bank\"]}\n"
				    "]}\n"),
		       0);
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nworkers=1\nindicators.tlp=clear\nparticipants.file=%s\n"
		 "participants.unregistered.tlp=amber\nindicators.reload.interval.ms=200\n"
		 "indicators.file={tmp}/indicators.txt,%s\n", /* a local list and the pulled bundle */
		 reg, bundle);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "sharing", extra), 0);
	CS_TEST_EQ_INT(cs_test_write_file(run.ind, "local-c2.evil-test.eu\n"), 0);
	CS_TEST_ASSERT((rcx = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);
	CS_TEST_EQ_INT(produce(run.topic, 4, cur, "circl", "ip", "203.0.113.10"), 0);
	CS_TEST_EQ_INT(produce(run.topic, 3, cur, "fren", "cmd", CMDLINE), 0);
	CS_TEST_EQ_INT(produce(run.topic, 1, cur, "fren", "cmd", CMDLINE " -x"), 0); /* not the whole value: no hit */
	CS_TEST_EQ_INT(produce(run.topic, 2, cur, "bank", "ip", "203.0.113.10"), 0);
	CS_TEST_EQ_INT(produce(run.topic, 1, cur, "bank", "file", FILENAME), 0);
	CS_TEST_EQ_INT(produce(run.topic, 2, cur, "circl", "file", FILENAME), 0);
	CS_TEST_EQ_INT(produce(run.topic, 1, cur, "circl", "dns", "local-c2.evil-test.eu"), 0);
	CS_TEST_EQ_INT(produce(run.topic, 1, cur, NULL, "dns", "c2-1.evil-test.eu"), 0);
	CS_TEST_EQ_INT(produce(run.topic, 1, cur, "circl", "dns", "revoked.evil-test.eu"), 0); /* revoked: no hit */
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rcx, &run, 1, 16, pid, 60000), "lag never reached 0");
	CS_TEST_EQ_INT(cs_svc_log_count(run.logf, "5 indicators from"), 1); /* the bundle's 5 but the revoked one, 1 local... */
	{ /* ... and the hits name the server's ids */
		redisReply *r;
		char key[256];
		cs_keys_ind(key, sizeof(key), run.prefix, "203.0.113.10");
		r = redisCommand(rcx, "HGET %s id", key);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING && strstr(r->str, ":" IND_ID(1)), "%s id: %s", key,
			       r && r->type == REDIS_REPLY_STRING ? r->str : "?");
		freeReplyObject(r);
		/* the alerts too: the three command lines, each naming indicator 3 and the role it matched in */
		r = redisCommand(rcx, "XRANGE %s - +", run.k_alerts[CS_TLP_GREEN]);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY, "XRANGE %s", run.k_alerts[CS_TLP_GREEN]);
		{
			int cmd = 0;
			for (size_t i = 0; i < r->elements; i++) {
				redisReply *f = r->element[i]->element[1];
				for (size_t k = 0; k + 1 < f->elements; k += 2)
					if (!strcmp(f->element[k]->str, "alert"))
						cmd += strstr(f->element[k + 1]->str, "\"id\":\"" ) != NULL &&
						       strstr(f->element[k + 1]->str, IND_ID(3) "\"") != NULL &&
						       strstr(f->element[k + 1]->str, "\"role\":\"command line\"") != NULL;
			}
			CS_TEST_EQ_INT(cmd, 3);
		}
		freeReplyObject(r);
	}
	/* an indicator added to the collection while ingest runs: pulled, reloaded, hit */
	{
		char late[600], one[1024];
		snprintf(late, sizeof(late), "%s/late.json", dir);
		char two[1024], *m;
		ind(one, sizeof(one), 6, "[domain-name:value = 'late.evil-test.eu']", TLP_CLEAR, 0);
		/* and a newer version of indicator 2 that revokes it */
		ind(two, sizeof(two), 2, "[domain-name:value = 'c2-1.evil-test.eu']", TLP_CLEAR, 1);
		CS_TEST_ASSERT((m = strstr(two, "\"modified\":\"2026-11-30T08")), "modified");
		memcpy(m + 12, "2026-12-01T09", 13);
		snprintf(out, sizeof(out), "{\"type\":\"bundle\",\"id\":\"bundle--7c1e5b2a-3d4f-4a6b-9c8d-0e1f2a3b4c00\",\"objects\":[%s,%s]}", one, two);
		CS_TEST_EQ_INT(cs_test_write_file(late, out), 0);
		snprintf(args, sizeof(args), "push --collection %s --user analyst --password-file %s %s", url, pw, late);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 0 && strstr(out, "\"success\":2"), "push the late indicator: exit %d: %s", rc, out);
		snprintf(args, sizeof(args), "pull --collection %s --user analyst --password-file %s --limit 2 --out %s", url, pw, bundle);
		rc = taxii(args, out, sizeof(out));
		CS_TEST_ASSERT(rc == 0 && strstr(out, "pulled 2 objects added after 2026-11-30T08:00:05") &&
				       strstr(out, ": 2 new or newer"),
			       "pull the late indicator: exit %d: %s", rc, out);
		CS_TEST_EQ_INT(count_type(bundle, "indicator"), 6); /* indicator 2 replaced by its revocation */
		CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "indicator set version 2: 5 indicators from", 1, 20000, pid), 0);
		CS_TEST_EQ_INT(cs_svc_log_count(run.logf, IND_ID(2) ": revoked"), 1);
		CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "indicator set version 1 -> 2", 1, 20000, pid), 0); /* the worker took it */
		CS_TEST_EQ_INT(produce(run.topic, 1, cur, "circl", "dns", "late.evil-test.eu"), 0);
		CS_TEST_EQ_INT(produce(run.topic, 1, cur, NULL, "dns", "c2-1.evil-test.eu"), 0); /* revoked now: no hit */
		CS_TEST_ASSERT(!cs_svc_wait_lag0(rcx, &run, 1, 18, pid, 60000), "lag never reached 0");
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);

	/* 3. sightings: GREEN, every one the hub's */
	snprintf(green, sizeof(green), "%s/sightings-green.json", dir);
	snprintf(amber, sizeof(amber), "%s/sightings-amber.json", dir);
	snprintf(again, sizeof(again), "%s/sightings-amber-again.json", dir);
	snprintf(args, sizeof(args), "--format sightings --tlp green --last 24h --now %lld --settle 1h", (long long)now + 7200);
	if (report(&run, args, green))
		return 1;
	{
		const want_t w[] = {{IND_ID(1), "hub", 4, "green"}, {IND_ID(3), "hub", 3, "green"}, {IND_ID(4), "hub", 2, "clear"},
				    {"local-c2.evil-test.eu", "hub", 1, "clear"}, {IND_ID(6), "hub", 1, "clear"}};
		if (check_sightings(green, w, 5, "GREEN"))
			return 1;
	}
	CS_TEST_ASSERT((c = slurp(green)) && !strstr(c, "CIRCL") && !strstr(c, "Energy SOC") && !strstr(c, "Bank SOC") &&
			       !strstr(c, "c2-1.evil-test.eu"),
		       "a participant or an AMBER indicator in the GREEN sightings");
	free(c);
	if (validate(green))
		return 1;
	/* AMBER: the Bank SOC named for its own AMBER hits; CLEAR and GREEN ones and the unregistered sender's: the hub's */
	snprintf(args, sizeof(args), "--format sightings --tlp amber --last 24h --now %lld --settle 1h", (long long)now + 7200);
	if (report(&run, args, amber))
		return 1;
	{
		const want_t w[] = {{IND_ID(1), "hub", 4, "green"},     {IND_ID(1), "Bank SOC", 2, "amber"},
				    {IND_ID(3), "hub", 3, "green"},     {IND_ID(4), "hub", 2, "clear"},
				    {IND_ID(4), "Bank SOC", 1, "amber"}, {"local-c2.evil-test.eu", "hub", 1, "clear"},
				    {IND_ID(6), "hub", 1, "clear"},     {IND_ID(2), "hub", 1, "amber"}};
		if (check_sightings(amber, w, 8, "AMBER"))
			return 1;
	}
	if (validate(amber))
		return 1;
	/* written again ten minutes later: the same sightings, ids and versions (the bucket is settled) */
	snprintf(args, sizeof(args), "--format sightings --tlp amber --last 24h --now %lld --settle 1h", (long long)now + 7800);
	if (report(&run, args, again))
		return 1;
	{
		char *a = sightings_of(amber), *b = sightings_of(again);
		CS_TEST_ASSERT(a && b && !strcmp(a, b), "the sightings changed between two runs");
		free(a);
		free(b);
	}
	/* pushed twice to the sightings collection: the second adds nothing; read back the same */
	snprintf(args, sizeof(args), "push --collection %s --user analyst --password-file %s %s", sigurl, pw, amber);
	rc = taxii(args, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0 && strstr(out, "\"success\":") && !strstr(out, "\"success\":0"), "push: exit %d: %s", rc, out);
	{
		int objs = count_type(amber, "sighting") + count_type(amber, "identity") + count_type(amber, "indicator") +
			   count_type(amber, "marking-definition");
		char want[128];
		snprintf(want, sizeof(want), "\"total\":%d,\"success\":%d,\"failure\":0", objs, objs);
		CS_TEST_ASSERT(strstr(out, want), "first push: %s (want %s)", out, want);
		snprintf(args, sizeof(args), "push --collection %s --user analyst --password-file %s %s", sigurl, pw, again);
		rc = taxii(args, out, sizeof(out));
		snprintf(want, sizeof(want), "\"total\":%d,\"success\":0,\"failure\":%d", objs, objs);
		CS_TEST_ASSERT(rc == 0 && strstr(out, want), "second push: exit %d: %s (want %s)", rc, out, want);
	}
	snprintf(readback, sizeof(readback), "%s/readback.json", dir);
	snprintf(args, sizeof(args), "pull --collection %s --user analyst --password-file %s --out %s", sigurl, pw, readback);
	rc = taxii(args, out, sizeof(out));
	CS_TEST_ASSERT(rc == 0, "read back: exit %d: %s", rc, out);
	if (validate(again) || validate(readback))
		return 1;
	{
		char *a = sightings_of(amber), *b = sightings_of(readback);
		CS_TEST_ASSERT(a && b && !strcmp(a, b), "the sightings read back differ from those pushed:\n%.3000s\n%.3000s", a, b);
		free(a);
		free(b);
	}
	/* MISP's own importer: one MISP sighting per STIX sighting of an indicator in the bundle (the hub's own) */
	{
		char cmd[4096];
		snprintf(cmd, sizeof(cmd),
			 "%s -c 'import json,sys\n"
			 "from stix2.parsing import parse\n"
			 "from misp_stix_converter import ExternalSTIX2toMISPParser\n"
			 "p = ExternalSTIX2toMISPParser()\n"
			 "p.load_stix_bundle(parse(json.load(open(sys.argv[1])), allow_custom=True))\n"
			 "p.parse_stix_bundle()\n"
			 "for a in p.misp_event.attributes:\n"
			 "    print(\"ATTR\", a.type, a.value, len(a.sightings), \",\".join(s[\"Organisation\"][\"name\"] for s in a.sightings))\n' %s 2>&1",
			 getenv("CS_PYTOOLS_PYTHON"), amber);
		rc = cs_test_run(cmd, out, sizeof(out));
		CS_TEST_ASSERT(rc == 0 && strstr(out, "ATTR domain local-c2.evil-test.eu 1 hub"), "misp-stix: exit %d: %.4000s", rc,
			       out);
	}
	/* MISP /sightings/add: one line per hit, unique uuids, the same again */
	snprintf(misp1, sizeof(misp1), "%s/misp-1.jsonl", dir);
	snprintf(misp2, sizeof(misp2), "%s/misp-2.jsonl", dir);
	snprintf(args, sizeof(args), "--format misp-sightings --tlp amber --last 24h --now %lld --settle 1h", (long long)now + 7200);
	if (report(&run, args, misp1))
		return 1;
	snprintf(args, sizeof(args), "--format misp-sightings --tlp amber --last 24h --now %lld --settle 1h", (long long)now + 7800);
	if (report(&run, args, misp2))
		return 1;
	{
		char *a = slurp(misp1), *b = slurp(misp2), *line, *save = NULL;
		json_t *uuids = json_object();
		int lines = 0, bank = 0, hub = 0, bad = 0, cmd = 0;
		CS_TEST_ASSERT(a && b && !strcmp(a, b), "misp-sightings differ between two runs");
		for (line = strtok_r(a, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_t *j = json_loads(line, 0, NULL);
			const char *src = json_string_value(json_object_get(j, "source"));
			lines++;
			bad += !j || !json_is_string(json_object_get(j, "uuid")) || json_array_size(json_object_get(j, "values")) != 1 ||
			       strcmp(json_string_value(json_object_get(j, "type")), "0") ||
			       !json_is_string(json_object_get(j, "timestamp"));
			if (j)
				json_object_set_new(uuids, json_string_value(json_object_get(j, "uuid")), json_true());
			bank += src && !strcmp(src, "Bank SOC");
			hub += src && !strcmp(src, "hub");
			cmd += !strcmp(json_string_value(json_array_get(json_object_get(j, "values"), 0)), CMDLINE); /* as written, not the pattern */
			json_decref(j);
		}
		CS_TEST_ASSERT(lines == 15 && bank == 3 && hub == 12 && !bad && json_object_size(uuids) == 15 && cmd == 3,
			       "misp-sightings: %d lines (15), Bank SOC %d (3), hub %d (12), malformed %d, uuids %zu, command line %d (3)",
			       lines, bank, hub, bad, json_object_size(uuids), cmd);
		json_decref(uuids);
		free(a);
		free(b);
	}
	free(before);
	redisFree(rcx);
	medallion_stop();
	CS_TEST_SAY("pulled 6 indicators in pages of 2, 17 events, 8 AMBER sightings pushed twice and read back, 15 MISP sightings");
	return 0;
}
