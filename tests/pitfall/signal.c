/*
 * Pitfall 6 (signal handler inside a hook): a handler writes '!' to a
 * traced socket, from SIGALRM every 2 ms or from SIGUSR1 sent by another
 * thread, while the main thread is blocked in read() on that socket and
 * then writes and reads in a loop. Nothing may deadlock, and the echo
 * must give back every byte.
 */

#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pit.h"

#define CHUNK	1000

static void	 on_signal(int);
static void	*kicker(void *);
static long	 elapsed_ms(const struct timespec *);
static size_t	 read_some(int, struct pit_log *);

static int			sock;
static volatile sig_atomic_t	armed;
static volatile sig_atomic_t	handler_bytes;
static volatile int		kick_stop;
static pthread_t		main_thread;

/* The handler: one byte to the socket, errno kept. */
static void
on_signal(int sig)
{
	int	saved = errno;

	(void)sig;
	if (armed && write(sock, "!", 1) == 1)
		handler_bytes++;
	errno = saved;
}

/* The other thread: SIGUSR1 to the main thread every millisecond. */
static void *
kicker(void *arg)
{
	struct timespec	ms = { 0, 1000000 };

	(void)arg;
	while (!kick_stop) {
		pthread_kill(main_thread, SIGUSR1);
		nanosleep(&ms, NULL);
	}
	return (NULL);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ((t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* One blocking read(); returns the bytes read that are not '!'. */
static size_t
read_some(int fd, struct pit_log *l)
{
	unsigned char	buf[4096];
	ssize_t		r, i;
	size_t		n = 0;

	do {
		r = read(fd, buf, sizeof buf);
	} while (r == -1 && errno == EINTR);
	if (r <= 0)
		pit_die("read");
	pit_log_add(l, 1, buf, (size_t)r);
	for (i = 0; i < r; i++)
		n += buf[i] != '!';
	return (n);
}

/* signal alarm|kill */
int
main(int argc, char *argv[])
{
	struct sigaction	sa;
	struct itimerval	it;
	struct timespec		t0;
	struct pit_log		l;
	pthread_t		th;
	unsigned char		chunk[CHUNK], *in;
	size_t			sent = 0, back = 0, i, bangs = 0, rest;
	int			alarm_mode, rounds;

	pit_setprog("signal");
	if (argc != 2 || (strcmp(argv[1], "alarm") != 0 &&
	    strcmp(argv[1], "kill") != 0))
		pit_die("usage: signal alarm|kill");
	alarm_mode = strcmp(argv[1], "alarm") == 0;
	sock = pit_connect(pit_port());
	pit_log_init(&l, sock);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(alarm_mode ? SIGALRM : SIGUSR1, &sa, NULL);
	armed = 1;
	if (alarm_mode) {
		memset(&it, 0, sizeof it);
		it.it_interval.tv_usec = 2000;
		it.it_value.tv_usec = 2000;
		setitimer(ITIMER_REAL, &it, NULL);
	} else {
		main_thread = pthread_self();
		if (pthread_create(&th, NULL, kicker, NULL) != 0)
			pit_die("pthread_create");
	}
	/* Blocked in read(): only the handler's bytes come back. */
	for (i = 0; i < 30; i++)
		(void)read_some(sock, &l);
	/* Writing and reading in a loop, for at least 300 ms. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rounds = 0; rounds < 300 || elapsed_ms(&t0) < 300; rounds++) {
		pit_fill(chunk, CHUNK, 51, sent);
		pit_send(sock, chunk, CHUNK, PIT_RW, &l);
		sent += CHUNK;
		while (back < sent)
			back += read_some(sock, &l);
	}
	armed = 0;
	if (alarm_mode) {
		memset(&it, 0, sizeof it);
		setitimer(ITIMER_REAL, &it, NULL);
	} else {
		kick_stop = 1;
		pthread_join(th, NULL);
	}
	pit_drain(sock, &l);
	close(sock);
	/* The echo: the program's bytes in order, and every '!'. */
	if ((in = malloc(l.len[1] + 1)) == NULL)
		pit_die("malloc");
	for (i = 0, rest = 0; i < l.len[1]; i++) {
		if (l.b[1][i] == '!')
			bangs++;
		else
			in[rest++] = l.b[1][i];
	}
	if (rest != l.len[0] || memcmp(in, l.b[0], rest) != 0 ||
	    bangs != (size_t)handler_bytes) {
		errno = 0;
		pit_die("echo: %zu of %zu program bytes, %zu of %d handler "
		    "bytes", rest, l.len[0], bangs, (int)handler_bytes);
	}
	pit_log_save(&l);
	printf("signal %s: echo matches; handler bytes: %d; program "
	    "bytes: %zu\n", argv[1], (int)handler_bytes, l.len[0]);
	return (0);
}
