/* A plain client for the configuration pitfalls: N connections, one by one. */

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pit.h"

/* client N: prints one line per connection, then "done". */
int
main(int argc, char *argv[])
{
	struct pit_log	l;
	int		i, n, s;

	pit_setprog("client");
	n = argc > 1 ? atoi(argv[1]) : 1;
	for (i = 0; i < n; i++) {
		s = pit_connect(pit_port());
		pit_log_init(&l, s);
		pit_echo(s, &l, 4000 + (size_t)i * 1000, 81 + (unsigned)i,
		    (enum pit_how)(i % PIT_HOW_MAX));
		pit_drain(s, &l);
		close(s);
		pit_log_save(&l);
		printf("client: connection %d: %zu bytes each way\n", i,
		    l.len[0]);
		pit_log_free(&l);
	}
	printf("client: done\n");
	return (0);
}
