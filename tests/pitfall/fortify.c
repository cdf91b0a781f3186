/*
 * Pitfall 10 (fortified reads): built with _FORTIFY_SOURCE, read(),
 * recv() and recvfrom() into a buffer of known size become __read_chk,
 * __recv_chk and __recvfrom_chk, which the shim must trace too.
 */

#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

int
main(void)
{
	struct pit_log	l;
	unsigned char	out[3000], buf[512];
	/* Not a constant: glibc then calls the _chk functions. */
	volatile size_t	cap = sizeof buf;
	size_t		got;
	ssize_t		r;
	int		s, i;

	pit_setprog("fortify");
	s = pit_connect(pit_port());
	pit_log_init(&l, s);
	for (i = 0; i < 3; i++) {
		pit_fill(out, sizeof out, 100 + (unsigned int)i, 0);
		pit_send(s, out, sizeof out, PIT_RW, &l);
		for (got = 0; got < sizeof out; got += (size_t)r) {
			if (i == 0)
				r = read(s, buf, cap);
			else if (i == 1)
				r = recv(s, buf, cap, 0);
			else
				r = recvfrom(s, buf, cap, 0, NULL, NULL);
			if (r <= 0)
				pit_die("read");
			pit_log_add(&l, 1, buf, (size_t)r);
		}
	}
	pit_drain(s, &l);
	close(s);
	pit_log_save(&l);
	printf("fortify: done\n");
	return (0);
}
