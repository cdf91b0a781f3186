/* A socket's role from what the system knows: its listeners, its ports. */

#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sysrole.h"

#define SYSROLE_LISTEN	10	/* TCP_LISTEN, include/net/tcp_states.h */

/* Linux's default ip_local_port_range, until the system's is read. */
static int	sysrole_lo = 32768, sysrole_hi = 60999, sysrole_read;

/* A TCP/IP address's port, or -1. */
static int
sysrole_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	if (ss->ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	return (-1);
}

/* Read /proc/sys/net/ipv4/ip_local_port_range, once (raw calls). */
static void
sysrole_range(void)
{
	char	buf[64], *p;
	long	n, lo = 0, hi = 0;
	int	fd;

	if (__atomic_exchange_n(&sysrole_read, 1, __ATOMIC_ACQ_REL))
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD,
	    "/proc/sys/net/ipv4/ip_local_port_range", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = syscall(SYS_read, fd, buf, sizeof buf - 1);
	(void)syscall(SYS_close, fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf; *p >= '0' && *p <= '9'; p++)
		lo = lo * 10 + (*p - '0');
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		hi = hi * 10 + (*p - '0');
	if (lo > 0 && hi >= lo && hi < 65536) {
		sysrole_lo = (int)lo;
		sysrole_hi = (int)hi;
	}
}

/* Is port in the ephemeral range (where the kernel picks clients')? */
static int
sysrole_ephemeral(int port)
{
	return (port >= sysrole_lo && port <= sysrole_hi);
}

/*
 * Does a TCP socket of family listen on port, anywhere on the machine?
 * One NETLINK_SOCK_DIAG dump of the listeners (sock_diag(7)); -1 when
 * the kernel cannot say.
 */
static int
sysrole_listened(int family, int port)
{
	struct {
		struct nlmsghdr		nlh;
		struct inet_diag_req_v2	r;
	} req;
	struct sockaddr_nl	 nl = { .nl_family = AF_NETLINK };
	union {
		uint8_t		b[8192];
		struct nlmsghdr	h;
	} buf;
	struct nlmsghdr		*h;
	struct inet_diag_msg	*m;
	long			 n;
	int			 s, found = -1;

	s = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG);
	if (s == -1)
		return (-1);
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1U << SYSROLE_LISTEN;
	if (syscall(SYS_sendto, s, &req, sizeof req, 0, &nl, sizeof nl) == -1)
		goto out;
	found = 0;
	while ((n = syscall(SYS_recvfrom, s, buf.b, sizeof buf.b, 0, NULL,
	    NULL)) > 0) {
		for (h = &buf.h; NLMSG_OK(h, (unsigned long)n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				found = -1;
				goto out;
			}
			m = NLMSG_DATA(h);
			if (ntohs(m->id.idiag_sport) == port)
				found = 1;
		}
	}
	if (n < 0)
		found = -1;
out:
	(void)syscall(SYS_close, s);
	return (found);
}

/*
 * The role of a TCP connection the shim did not see made (inherited
 * across exec, or made before it started): a local port some socket
 * listens on is a server's; else a port in the ephemeral range facing
 * one outside it is a client's; else unknown, never "the lower port".
 * Raw system calls only; errno is kept.
 */
enum enc_role
sysrole_guess(const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote)
{
	enum enc_role	role = ENC_ROLE_UNKNOWN;
	int		lport = sysrole_port(local), rport = sysrole_port(remote);
	int		saved = errno;

	if (lport <= 0 || rport <= 0)
		return (ENC_ROLE_UNKNOWN);
	sysrole_range();
	/* An IPv6 listener may take IPv4 connections too: ask both. */
	if (sysrole_listened(AF_INET, lport) == 1 ||
	    sysrole_listened(AF_INET6, lport) == 1)
		role = ENC_ROLE_SERVER;
	else if (sysrole_ephemeral(lport) && !sysrole_ephemeral(rport))
		role = ENC_ROLE_CLIENT;
	else if (sysrole_ephemeral(rport) && !sysrole_ephemeral(lport))
		role = ENC_ROLE_SERVER;
	errno = saved;
	return (role);
}

/*
 * The role of a UDP socket, from its ports once it has one: a port the
 * kernel picked (the ephemeral range) facing one outside it, or no peer
 * yet, is a client's; a port it bound outside that range facing one in
 * it, or no peer yet, is a server's; two of a kind are unknown. Errno is
 * kept.
 */
enum enc_role
sysrole_guess_udp(const struct sockaddr_storage *local,
    const struct sockaddr_storage *remote, socklen_t remote_len)
{
	enum enc_role	role = ENC_ROLE_UNKNOWN;
	int		lport = sysrole_port(local), rport = -1;
	int		saved = errno;

	if (remote_len > 0)
		rport = sysrole_port(remote);
	if (lport <= 0)
		return (ENC_ROLE_UNKNOWN);
	sysrole_range();
	if (sysrole_ephemeral(lport)) {
		if (rport <= 0 || !sysrole_ephemeral(rport))
			role = ENC_ROLE_CLIENT;
	} else if (rport <= 0 || sysrole_ephemeral(rport))
		role = ENC_ROLE_SERVER;
	errno = saved;
	return (role);
}
