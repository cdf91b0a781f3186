/*
 * The kernel's own byte counts of a TCP connection, to count the bytes
 * moved by calls the shim cannot see.
 */

#include "config.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <linux/sockios.h>
#include <linux/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "kcount.h"

#ifndef SOL_TCP
#define SOL_TCP		6
#endif

/* TCP states (the kernel's include/net/tcp_states.h). */
#define KC_FIN_WAIT1	4
#define KC_FIN_WAIT2	5
#define KC_TIME_WAIT	6
#define KC_CLOSE	7
#define KC_CLOSE_WAIT	8
#define KC_LAST_ACK	9
#define KC_LISTEN	10
#define KC_CLOSING	11

/*
 * What the program moved on TCP socket fd by the kernel's account: sent
 * is tcpi_bytes_acked plus what waits in the send queue (SIOCOUTQ),
 * received is tcpi_bytes_received less what waits to be read (SIOCINQ);
 * each count holds one more for a FIN that went (or came, and was read
 * or waits). Raw system calls: no hook sees them, errno is kept.
 * Returns -1 when the kernel cannot say (not TCP, not connected).
 */
int
kcount_take(int fd, uint64_t out[2])
{
	struct tcp_info	ti;
	socklen_t	len = sizeof ti;
	int		saved = errno, inq = 0, outq = 0, st, r = -1;

	memset(&ti, 0, sizeof ti);
	if (syscall(SYS_getsockopt, fd, SOL_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof ti.tcpi_bytes_received ||
	    syscall(SYS_ioctl, fd, SIOCINQ, &inq) == -1 ||
	    syscall(SYS_ioctl, fd, SIOCOUTQ, &outq) == -1)
		goto out;
	st = ti.tcpi_state;
	if (st == KC_CLOSE || st == KC_LISTEN || inq < 0 || outq < 0)
		goto out;
	out[1] = ti.tcpi_bytes_acked + (uint64_t)outq;
	if (st == KC_FIN_WAIT1 || st == KC_FIN_WAIT2 || st == KC_TIME_WAIT ||
	    st == KC_LAST_ACK || st == KC_CLOSING)
		out[1]--;
	out[0] = ti.tcpi_bytes_received - (uint64_t)inq;
	if (st == KC_TIME_WAIT || st == KC_CLOSE_WAIT || st == KC_LAST_ACK ||
	    st == KC_CLOSING)
		out[0]--;
	r = 0;
out:
	errno = saved;
	return (r);
}

/* The counts when the shim first sees the connection on fd. */
void
kcount_base(struct kcount *k, int fd)
{
	memset(k, 0, sizeof *k);
	k->have_base = kcount_take(fd, k->base) == 0;
}

/*
 * The counts now, fd still open (before a close, at a fork, at exit):
 * for the closed event always, for conn_settle() until it is done.
 */
void
kcount_sample(struct kcount *k, int fd)
{
	uint64_t	now[2];

	if (!k->have_base || kcount_take(fd, now) == -1)
		return;
	k->now[0] = now[0];
	k->now[1] = now[1];
	k->have_now = 1;
}

/*
 * The bytes the kernel moved past what the trace accounts for (seen:
 * kept plus lost, [0] received, [1] sent), into unseen; once per
 * connection. Returns 0 when the kernel's counts are not known.
 */
int
kcount_unseen(struct kcount *k, const uint64_t seen[2], uint64_t unseen[2])
{
	int	dir;

	if (!k->have_base || !k->have_now || k->done)
		return (0);
	k->done = 1;
	for (dir = 0; dir < 2; dir++) {
		unseen[dir] = k->now[dir] - k->base[dir];
		unseen[dir] = unseen[dir] > seen[dir] ? unseen[dir] -
		    seen[dir] : 0;
	}
	return (1);
}

/* What the kernel moved between the two looks, for the closed event. */
void
kcount_moved(const struct kcount *k, uint64_t out[2])
{
	int	dir;

	for (dir = 0; dir < 2; dir++)
		out[dir] = k->have_base && k->have_now ? k->now[dir] -
		    k->base[dir] : 0;
}
