/*
 * Pitfall 8 (close every fd): after traced traffic the program closes
 * every fd above 2, then opens a file and writes to it around more
 * traced traffic. The file must hold only its own bytes.
 */

#define _GNU_SOURCE

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

static void	close_all(const char *);

/* range: close_range(2); from: closefrom(3); loop: close() down from 1023. */
static void
close_all(const char *how)
{
	int	fd;

	if (strcmp(how, "range") == 0) {
		if (close_range(3, ~0U, 0) == -1)
			pit_die("close_range");
	} else if (strcmp(how, "from") == 0) {
		closefrom(3);
	} else if (strcmp(how, "loop") == 0) {
		/* Downwards: the shim's high fds go while a socket is open. */
		for (fd = 1023; fd >= 3; fd--)
			(void)close(fd);
	} else {
		errno = 0;
		pit_die("unknown way to close: %s", how);
	}
}

/* closeall HOW FILE */
int
main(int argc, char *argv[])
{
	struct pit_log	l1, l2;
	char		line[64];
	int		s, s2, f, i, port;

	pit_setprog("closeall");
	if (argc != 3)
		pit_die("usage: closeall range|from|loop FILE");
	port = pit_port();
	s = pit_connect(port);
	pit_log_init(&l1, s);
	pit_echo(s, &l1, 5000, 11, PIT_RW);
	pit_echo(s, &l1, 300, 12, PIT_SENDRECV);
	close_all(argv[1]);
	if ((f = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		pit_die("%s", argv[2]);
	for (i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "program line %d before\n", i);
		pit_write_file(f, line);
	}
	s2 = pit_connect(port);
	pit_log_init(&l2, s2);
	pit_echo(s2, &l2, 20000, 13, PIT_RW);
	for (i = 0; i < 20; i++) {
		snprintf(line, sizeof line, "program line %d during\n", i);
		pit_write_file(f, line);
	}
	pit_echo(s2, &l2, 3000, 14, PIT_VEC);
	pit_drain(s2, &l2);
	close(s2);
	pit_write_file(f, "program last line\n");
	if (close(f) == -1)
		pit_die("close %s", argv[2]);
	pit_log_save(&l1);
	pit_log_save(&l2);
	printf("closeall %s: file fd %d, second socket fd %d, done\n",
	    argv[1], f, s2);
	return (0);
}
