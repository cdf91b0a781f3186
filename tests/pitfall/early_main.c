/* The program for libearly.so (pitfalls 2 and 19): a connection of its own. */

#include <sys/socket.h>

#include <stdio.h>
#include <unistd.h>

#include "pit.h"

int
main(void)
{
	struct pit_log	l;
	int		s;

	pit_setprog("early_main");
	s = pit_connect(pit_port());
	pit_log_init(&l, s);
	pit_echo(s, &l, 5000, 62, PIT_RW);
	pit_drain(s, &l);
	close(s);
	pit_log_save(&l);
	printf("early_main: done\n");
	return (0);
}
