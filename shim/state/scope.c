/* Which sockets are traced (a filter), and how much (a run's limits). */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "runstate.h"
#include "say.h"
#include "scope.h"
#include "shim.h"

/* The run's shared state (TAPSHIM_RUN), or NULL: no run limits. */
static struct runstate	*scope_run;
static int		 scope_said_stop;

/* A message had nowhere to go: the run's summary counts it. */
static void
scope_msg_lost(void)
{
	if (scope_run != NULL)
		runstate_count_msgs(scope_run, 1);
}

/*
 * Map the run's state when the launcher made one. Done once at start,
 * before any hook records; a state that cannot be mapped leaves the run
 * unlimited, said once.
 */
void
scope_init(const struct conf *c)
{
	char		errbuf[RUNSTATE_ERRBUF_SIZE];
	unsigned long	before;

	if (c->run[0] == '\0')
		return;
	if ((scope_run = runstate_map(c->run, 0, errbuf)) == NULL) {
		shim_say("TAPSHIM_RUN: %s; the run's limits do not apply",
		    errbuf);
		return;
	}
	before = say_lost_count();
	say_on_lost(scope_msg_lost);
	runstate_count_msgs(scope_run, before);
}

/* One end as the capture shows it: IPv4 or IPv6, AF_UNIX on loopback. */
static void
scope_ep(struct frame_ep *ep, const struct sockaddr_storage *ss,
    socklen_t len, int other)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;

	memset(ep, 0, sizeof *ep);
	if (len > 0 && ss->ss_family == AF_INET6) {
		ep->family = AF_INET6;
		memcpy(ep->ip, &sin6->sin6_addr, 16);
		ep->port = ntohs(sin6->sin6_port);
		return;
	}
	ep->family = AF_INET;
	if (len > 0 && ss->ss_family == AF_INET) {
		memcpy(ep->ip, &sin->sin_addr, 4);
		ep->port = ntohs(sin->sin_port);
	} else if (len > 0 && ss->ss_family == AF_UNIX) {
		/* tap2pcap: 127.0.0.1 connects to 127.0.0.2. */
		ep->ip[0] = 127;
		ep->ip[3] = (uint8_t)(other ? 2 : 1);
	}
}

/*
 * Does the filter (TAPSHIM_FILTER) take this socket? It sees the first
 * packet as tap2pcap would draw it: the SYN from the side that connected,
 * or for UDP a datagram from this socket to its peer (0.0.0.0:0 or ::
 * when it has none yet).
 */
int
scope_match(const struct conf *c, const struct enc_conn *info)
{
	struct frame_ep		 loc, rem;
	struct frame_tcp	 syn;
	uint8_t			 buf[FRAME_HEADROOM];
	size_t			 n;
	int			 server = info->role == ENC_ROLE_SERVER;

	if (!c->has_filter)
		return (1);
	scope_ep(&loc, &info->local, info->local_len, server);
	scope_ep(&rem, &info->remote, info->remote_len, !server);
	if (rem.family != loc.family) {
		rem.family = loc.family;
		memset(rem.ip, 0, sizeof rem.ip);
	}
	loc.mac[0] = rem.mac[0] = 2;
	loc.mac[5] = 1;
	rem.mac[5] = 2;
	if (info->udp)
		n = frame_udp(buf, FRAME_LINK_ETHER, &loc, &rem, 0, NULL, 0, 0);
	else {
		memset(&syn, 0, sizeof syn);
		syn.flags = TCP_SYN;
		syn.window = 65535;
		n = frame_tcp(buf, FRAME_LINK_ETHER, server ? &rem : &loc,
		    server ? &loc : &rem, 0, &syn, NULL, 0, 0);
	}
	return (bpf_run(&c->filter, buf, (uint32_t)n) != 0);
}

/* Say, once for the whole run, that a run limit stopped recording. */
static void
scope_stopped(void)
{
	if (__atomic_exchange_n(&scope_run->said, 1, __ATOMIC_RELAXED) != 0)
		return;
	shim_say_once(&scope_said_stop, "the run's %s was reached; later data "
	    "is counted as lost", runstate_stop_name(scope_run->stopped));
}

/* May one more connection be traced (the run's limits)? */
int
scope_admit_conn(void)
{
	if (scope_run == NULL || runstate_admit_conn(scope_run, shim_now()))
		return (1);
	scope_stopped();
	return (0);
}

/* May n more bytes go into trace files? */
int
scope_admit_bytes(uint64_t n)
{
	if (scope_run == NULL || runstate_admit_bytes(scope_run, n,
	    shim_now()))
		return (1);
	scope_stopped();
	return (0);
}

/* Count a read (dir 0) or write (1) in the run's totals. */
void
scope_count(int dir, uint64_t kept, uint64_t lost)
{
	runstate_count(scope_run, dir, kept, lost);
}

/* Count bytes lost outside any event in the run's totals. */
void
scope_lose(int dir, uint64_t lost)
{
	runstate_lose(scope_run, dir, lost);
}

/* Why the run stopped recording, for a trace's stats. */
const char *
scope_reason(void)
{
	if (scope_run == NULL)
		return ("none");
	return (runstate_stop_name(__atomic_load_n(&scope_run->stopped,
	    __ATOMIC_RELAXED)));
}

/* Does the run number its traces (collector mode needs it)? */
int
scope_numbered(void)
{
	return (scope_run != NULL);
}

/* The next trace number of the run: no other process takes it. */
uint64_t
scope_next_trace(void)
{
	return (runstate_next_trace(scope_run));
}

/* A ring lost a trace's bytes: the run's summary says why. */
void
scope_ring_lost(uint32_t why)
{
	runstate_ring_lost(scope_run, why);
}
