/*
 * libearly.so, for pitfalls 2 and 19: its constructor connects and
 * sends before the shim's constructor ran, and its destructor sends
 * again after the shim's destructor ran.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

static int		early_fd = -1;
static struct pit_log	early_log;

/* Before main, and before the shim started: connect, send, write. */
__attribute__((constructor)) static void
early_init(void)
{
	static const char	s1[] = "early constructor: send()\n";
	static const char	s2[] = "early constructor: write()\n";
	char			buf[sizeof s1 + sizeof s2];
	int			errno_kept;

	if (getenv("PIT_PORT") == NULL)
		return;
	pit_setprog("libearly");
	early_fd = pit_connect(pit_port());
	pit_log_init(&early_log, early_fd);
	errno = 4242;
	if (send(early_fd, s1, sizeof s1 - 1, 0) != (ssize_t)sizeof s1 - 1)
		pit_die("send");
	errno_kept = errno == 4242;
	pit_log_add(&early_log, 0, s1, sizeof s1 - 1);
	pit_send(early_fd, s2, sizeof s2 - 1, PIT_RW, &early_log);
	pit_recv(early_fd, buf, sizeof s1 + sizeof s2 - 2, PIT_RW, &early_log);
	printf("early: constructor sent and got the echo back; errno %s by "
	    "a successful send\n", errno_kept ? "kept" : "changed");
}

/* After main, and after the shim's destructor: one more exchange. */
__attribute__((destructor)) static void
early_fini(void)
{
	if (early_fd == -1)
		return;
	pit_echo(early_fd, &early_log, 3000, 61, PIT_SENDRECV);
	pit_drain(early_fd, &early_log);
	close(early_fd);
	pit_log_save(&early_log);
	printf("early: destructor done\n");
}
