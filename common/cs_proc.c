/*
 * cs_proc.c - what every cshield program does first.
 * DESIGN: main thread, before any other thread or socket exists.
 */
#include <signal.h>

#include "cs_common.h"

void cs_proc_init(const char *prog) {
	/* A peer that closes its end (a metrics client, a Redis server killed mid-write, a
	 * log pipe into `head`) makes write() fail with EPIPE, which each writer handles;
	 * the default SIGPIPE would end the process instead. */
	signal(SIGPIPE, SIG_IGN);
	cs_log_set_program(prog);
}
