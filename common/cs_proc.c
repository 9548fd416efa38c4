/*
 * cs_proc.c - what every cshield program does first.
 * DESIGN: main thread, before any other thread or socket exists.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cs_common.h"

void cs_proc_init(const char *prog) {
	/* A peer that closes its end (a metrics client, a Redis server killed mid-write, a
	 * log pipe into `head`) makes write() fail with EPIPE, which each writer handles;
	 * the default SIGPIPE would end the process instead. */
	signal(SIGPIPE, SIG_IGN);
	cs_log_set_program(prog);
}

int cs_secret_read(const char *path, char *buf, size_t size, char *errstr, size_t errstr_size) {
	FILE *fp = fopen(path, "r");
	size_t n;
	if (!fp || !fgets(buf, (int)size, fp)) {
		cs_errstr_set(errstr, errstr_size, "%s: %s", path, fp ? "empty" : strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	fclose(fp);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

int cs_proc_stdout_status(const char *prog) {
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE) /* a reader that went away (`| head`) is no error of ours */
			fprintf(stderr, "%s: writing to stdout: %s\n", prog, strerror(errno));
		return 1;
	}
	return 0;
}
