/*
 * Pitfall 4 (threads): NTHREADS threads each open NCONNS connections to
 * the echo server, all open at once, and move payloads over them in
 * turns with every hooked family. Every connection's trace must be
 * byte-exact.
 */

#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pit.h"

#define ROUNDS	4

struct worker {
	pthread_t	 th;
	int		 id;
	int		 nconns;
	int		*fds;
	struct pit_log	*logs;
};

static void	*worker_run(void *);

static pthread_barrier_t	open_all;
static int			port;

/* One thread: open every connection, wait for the others, then talk. */
static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	unsigned int	 seed;
	size_t		 n;
	int		 i, r;

	for (i = 0; i < w->nconns; i++) {
		w->fds[i] = pit_connect(port);
		pit_log_init(&w->logs[i], w->fds[i]);
	}
	pthread_barrier_wait(&open_all);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < w->nconns; i++) {
			seed = (unsigned int)(w->id * 1000 + i * 10 + r);
			n = 1 + (seed * 7919u) % 24000;
			pit_echo(w->fds[i], &w->logs[i], n, seed,
			    (enum pit_how)((w->id + i + r) % PIT_HOW_MAX));
		}
	}
	for (i = 0; i < w->nconns; i++) {
		pit_drain(w->fds[i], &w->logs[i]);
		close(w->fds[i]);
	}
	return (NULL);
}

/* threads NTHREADS NCONNS */
int
main(int argc, char *argv[])
{
	struct worker	*w;
	int		 nth, nc, i, j;

	pit_setprog("threads");
	if (argc != 3 || (nth = atoi(argv[1])) <= 0 ||
	    (nc = atoi(argv[2])) <= 0)
		pit_die("usage: threads NTHREADS NCONNS");
	port = pit_port();
	if ((w = calloc((size_t)nth, sizeof *w)) == NULL)
		pit_die("calloc");
	pthread_barrier_init(&open_all, NULL, (unsigned int)nth);
	for (i = 0; i < nth; i++) {
		w[i].id = i;
		w[i].nconns = nc;
		w[i].fds = calloc((size_t)nc, sizeof *w[i].fds);
		w[i].logs = calloc((size_t)nc, sizeof *w[i].logs);
		if (w[i].fds == NULL || w[i].logs == NULL)
			pit_die("calloc");
		if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0)
			pit_die("pthread_create");
	}
	for (i = 0; i < nth; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < nth; i++)
		for (j = 0; j < nc; j++)
			pit_log_save(&w[i].logs[j]);
	printf("threads: %d connections done\n", nth * nc);
	return (0);
}
