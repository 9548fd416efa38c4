/*
 * 0115-hostile-peers: what an operator's network neighbour can do to a
 * running cshield-ingest, tried. Its log goes into a pipe that the test
 * closes after reading the metrics port (`cshield-ingest ... 2>&1 | head`),
 * so every later log line meets a closed pipe. Then, against the metrics
 * endpoint: 100 idle connections, garbage request lines (NUL bytes, no
 * method), an oversized request line (200 KB), requests reset mid-way (RST),
 * a slow reader that asks for /metrics fifty times and reads nothing; after
 * each, /health must answer 200 within a second. Meanwhile a workload is
 * consumed and counted exactly; then every peer drops its connection at once
 * (SIGPIPE killed ingest before: exit 141) and ingest must still answer and
 * still count, and SIGTERM must still exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_common.h"

extern char **environ;

#define PARTS 2
#define EVENTS 3000
#define IDLE 100

static int cs__connect(int port, int rcvbuf) {
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends what it can of s without blocking for long (the server may close on us). */
static void cs__send(int fd, const char *s, size_t len) {
	while (len) {
		struct pollfd p = {fd, POLLOUT, 0};
		ssize_t n;
		if (poll(&p, 1, 200) != 1)
			return;
		if ((n = send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT)) <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* An abortive close: the peer sees a reset. */
static void cs__reset(int fd) {
	struct linger l = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* /health answers 200 within a second. */
static int cs__health_fast(int port, const char *when) {
	static char buf[4096];
	int64_t t0 = cs_clock_ms(), ms;
	int st = cs_svc_http_get(port, "/health", buf, sizeof(buf));
	ms = cs_clock_ms() - t0;
	if (st != 200 || ms > 1000) {
		CS_TEST_SAY("%s: /health answered %d in %lld ms", when, st, (long long)ms);
		return -1;
	}
	CS_TEST_SAY("%s: /health 200 in %lld ms", when, (long long)ms);
	return 0;
}

/* Spawns cshield-ingest with stdout and stderr into a pipe; *rd gets the read end. */
static pid_t cs__spawn_piped(const char *conf, int *rd) {
	char bin[1024];
	char *argv[] = {bin, "-c", (char *)conf, NULL};
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	snprintf(bin, sizeof(bin), "%s/ingest/cshield-ingest", cs_test_bindir());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawn(&pid, bin, &fa, NULL, argv, environ))
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	*rd = p[0];
	return pid;
}

/* Reads the log from the pipe until the metrics port shows (20 s at most). */
static int cs__port_from_pipe(int rd) {
	static char buf[1 << 16];
	size_t got = 0;
	const char *needle = "metrics on http://127.0.0.1:";
	for (int waited = 0; waited < 20000 && got < sizeof(buf) - 1;) {
		struct pollfd p = {rd, POLLIN, 0};
		ssize_t n;
		char *at;
		if (poll(&p, 1, 100) != 1) {
			waited += 100;
			continue;
		}
		if ((n = read(rd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if ((at = strstr(buf, needle)))
			return atoi(at + strlen(needle));
	}
	return -1;
}

int cs_test_0115(void) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int64_t total, t0;
	int idle[IDLE], slow = -1, port, rd, rc_check, st;
	redisContext *rc;
	pid_t pid;
	static char big[200 * 1024];

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "hostile",
				       "metrics.listen=127.0.0.1:0\nlog.level=debug\nflush.interval.ms=200\n"
				       "metrics.connection.timeout.s=30\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);

	CS_TEST_ASSERT((pid = cs__spawn_piped(run.conf, &rd)) > 0, "spawn");
	port = cs__port_from_pipe(rd);
	if (port <= 0) {
		kill(pid, SIGKILL);
		CS_TEST_FAIL("no metrics port in the piped log");
	}
	close(rd); /* `| head`: from here on every log line meets a closed pipe (debug level: many) */
	CS_TEST_EQ_INT(cs__health_fast(port, "at start, log pipe closed"), 0);

	t0 = (int64_t)time(NULL) / 60 * 60 - 3 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS / 2, 1151, t0, &exp, &malformed), 0);

	/* idle peers: connected, never a byte */
	for (int i = 0; i < IDLE; i++)
		CS_TEST_ASSERT((idle[i] = cs__connect(port, 0)) >= 0, "idle connection %d: %s", i, strerror(errno));
	CS_TEST_EQ_INT(cs__health_fast(port, "100 idle peers"), 0);

	/* garbage request lines */
	for (int i = 0; i < 10; i++) {
		static const char g[] = "\x01\x02 \x00GARBAGE\xff\xfe /??? HTTP/9.9\r\n\x00\r\n\r\n";
		int fd = cs__connect(port, 0);
		CS_TEST_ASSERT(fd >= 0, "connect");
		cs__send(fd, g, sizeof(g) - 1);
		close(fd);
	}
	CS_TEST_EQ_INT(cs__health_fast(port, "garbage request lines"), 0);

	/* an oversized request line */
	{
		int fd = cs__connect(port, 0);
		CS_TEST_ASSERT(fd >= 0, "connect");
		memcpy(big, "GET /", 5);
		memset(big + 5, 'A', sizeof(big) - 5 - 13);
		memcpy(big + sizeof(big) - 13, " HTTP/1.1\r\n\r\n", 13);
		cs__send(fd, big, sizeof(big));
		CS_TEST_EQ_INT(cs__health_fast(port, "200 KB request line"), 0);
		close(fd);
	}

	/* requests reset mid-way */
	for (int i = 0; i < 20; i++) {
		int fd = cs__connect(port, 0);
		CS_TEST_ASSERT(fd >= 0, "connect");
		cs__send(fd, i % 2 ? "GET /heal" : "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", i % 2 ? 9 : 35);
		if (i % 2 == 0)
			cs_test_sleep_ms(5); /* reset while the answer is being written */
		cs__reset(fd);
	}
	CS_TEST_EQ_INT(cs__health_fast(port, "20 requests reset mid-way"), 0);

	/* a slow reader: fifty pipelined scrapes, a tiny receive buffer, nothing read */
	{
		char req[64 * 50];
		size_t n = 0;
		CS_TEST_ASSERT((slow = cs__connect(port, 1024)) >= 0, "connect");
		for (int i = 0; i < 50; i++)
			n += (size_t)snprintf(req + n, sizeof(req) - n, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
		cs__send(slow, req, n);
		cs_test_sleep_ms(300);
	}
	CS_TEST_EQ_INT(cs__health_fast(port, "a slow reader"), 0);

	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS / 2, 1152, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);

	/* every peer goes away at once, the slow reader with a reset */
	for (int i = 0; i < IDLE; i++)
		close(idle[i]);
	cs__reset(slow);
	cs_test_sleep_ms(500);
	CS_TEST_ASSERT(waitpid(pid, &st, WNOHANG) == 0, "cshield-ingest died when its peers left (status 0x%x)", st);
	CS_TEST_EQ_INT(cs__health_fast(port, "after every peer left"), 0);

	/* still counting */
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, 500, 1153, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);

	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
