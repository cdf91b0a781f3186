/* Finding the two ends of one connection among many traces. */

#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "ends.h"

/* Order two addresses: family, then IP, then port. */
static int
ends_cmp_addr(const struct trace_addr *a, const struct trace_addr *b)
{
	int	c;

	if (a->family != b->family)
		return (a->family < b->family ? -1 : 1);
	if ((c = memcmp(a->ip, b->ip, sizeof a->ip)) != 0)
		return (c);
	if (a->port != b->port)
		return (a->port < b->port ? -1 : 1);
	return (a->udp - b->udp);
}

/* A connection's two addresses, lower first: the same for both ends. */
static void
ends_key(const struct trace_info *t, const struct trace_addr **lo,
    const struct trace_addr **hi)
{
	int	swap = ends_cmp_addr(&t->conn.local, &t->conn.remote) > 0;

	*lo = swap ? &t->conn.remote : &t->conn.local;
	*hi = swap ? &t->conn.local : &t->conn.remote;
}

/* Which way round a trace names its pair: 0 local first, 1 remote first. */
static int
ends_side(const struct trace_info *t)
{
	return (ends_cmp_addr(&t->conn.local, &t->conn.remote) > 0);
}

/* Compare two times; a trace without one sorts first. */
static int
ends_cmp_time(int64_t as, uint32_t an, int64_t bs, uint32_t bn)
{
	if (as != bs)
		return (as < bs ? -1 : 1);
	return (an < bn ? -1 : an > bn);
}

/* Order: the address pair, then which way round, then the start time. */
static int
ends_cmp(const void *x, const void *y)
{
	const struct end_ref	*a = x, *b = y;
	const struct trace_addr	*alo, *ahi, *blo, *bhi;
	int			 c;

	ends_key(a->t, &alo, &ahi);
	ends_key(b->t, &blo, &bhi);
	if ((c = ends_cmp_addr(alo, blo)) != 0)
		return (c);
	if ((c = ends_cmp_addr(ahi, bhi)) != 0)
		return (c);
	if ((c = ends_side(a->t) - ends_side(b->t)) != 0)
		return (c);
	if (a->t->has_time != b->t->has_time)
		return (a->t->has_time - b->t->has_time);
	if ((c = ends_cmp_time(a->t->first_sec, a->t->first_nsec,
	    b->t->first_sec, b->t->first_nsec)) != 0)
		return (c);
	return (a->trace < b->trace ? -1 : a->trace > b->trace);
}

/* Are a and b traces of one address pair (either way round)? */
static int
ends_same_pair(const struct end_ref *a, const struct end_ref *b)
{
	const struct trace_addr	*alo, *ahi, *blo, *bhi;

	ends_key(a->t, &alo, &ahi);
	ends_key(b->t, &blo, &bhi);
	return (ends_cmp_addr(alo, blo) == 0 && ends_cmp_addr(ahi, bhi) == 0);
}

/* Do two time spans meet? */
static int
ends_overlap(const struct trace_info *a, const struct trace_info *b)
{
	if (!a->has_time || !b->has_time)
		return (0);
	if (a->last_sec < b->first_sec || (a->last_sec == b->first_sec &&
	    a->last_nsec < b->first_nsec))
		return (0);
	if (b->last_sec < a->first_sec || (b->last_sec == a->first_sec &&
	    b->last_nsec < a->first_nsec))
		return (0);
	return (1);
}

/*
 * Are a and b the two ends of one connection: each one's local address
 * the other's remote, at the same time, not both clients or servers?
 */
static int
ends_match(const struct trace_info *a, const struct trace_info *b)
{
	if (a->conn.local.family != AF_INET &&
	    a->conn.local.family != AF_INET6)
		return (0);
	if (ends_cmp_addr(&a->conn.local, &b->conn.remote) != 0 ||
	    ends_cmp_addr(&a->conn.remote, &b->conn.local) != 0)
		return (0);
	if (a->conn.role != TRACE_ROLE_UNKNOWN && a->conn.role == b->conn.role)
		return (0);
	return (ends_overlap(a, b));
}

/* Pair a and b: the end that kept more bytes stays, the client's on a tie. */
static void
ends_couple(struct end_ref *a, struct end_ref *b)
{
	struct end_ref	*keep;

	a->other = b;
	b->other = a;
	keep = b->t->bytes > a->t->bytes || (b->t->bytes == a->t->bytes &&
	    b->t->conn.role == TRACE_ROLE_CLIENT) ? b : a;
	(keep == a ? b : a)->drop = 1;
}

/* Does b start after a has ended, so no later b can meet a either? */
static int
ends_after(const struct trace_info *a, const struct trace_info *b)
{
	return (ends_cmp_time(b->first_sec, b->first_nsec, a->last_sec,
	    a->last_nsec) > 0);
}

/*
 * How many traces of its address pair, live at the same time, one trace
 * is compared with. A 4-tuple is one connection at a time in a kernel,
 * so the other end is among the first; thousands of traces of one pair
 * (a file given twice, a crafted one) must not cost a quadratic time.
 */
#define ENDS_SCAN_MAX	256

/*
 * Match the traces of [a, na) with those of [b, nb), both sorted by start
 * time: a sweep, so traces that never meet in time are never compared,
 * and many traces of one address pair cost linear time, not quadratic.
 */
static size_t
ends_sweep(struct end_ref *a, size_t na, struct end_ref *b, size_t nb)
{
	size_t	i, j, first = 0, dropped = 0, seen;

	for (i = 0; i < na; i++) {
		if (a[i].other != NULL || !a[i].t->has_time)
			continue;
		/* Those that ended before a[i] began end before the rest. */
		while (first < nb && (b[first].other != NULL ||
		    !b[first].t->has_time ||
		    ends_after(b[first].t, a[i].t)))
			first++;
		seen = 0;
		for (j = first; j < nb && !ends_after(a[i].t, b[j].t) &&
		    seen < ENDS_SCAN_MAX; j++) {
			if (&b[j] == &a[i] || b[j].other != NULL)
				continue;
			if (!ends_match(a[i].t, b[j].t)) {
				seen++;
				continue;
			}
			ends_couple(&a[i], &b[j]);
			dropped++;
			break;
		}
	}
	return (dropped);
}

/*
 * Pair up the traces that are two ends of one connection (a client and a
 * server traced on one machine), so the capture shows it once: the end
 * that kept more bytes stays, the client's on a tie. Returns how many
 * traces are to be dropped. The array is sorted.
 */
size_t
ends_pair(struct end_ref *r, size_t n)
{
	size_t	i, mid, end, dropped = 0;

	if (n > 1)
		qsort(r, n, sizeof *r, ends_cmp);
	for (i = 0; i < n; i = end) {
		for (end = i + 1; end < n && ends_same_pair(&r[i], &r[end]);
		    end++)
			;
		/* Only IP connections are paired (ends_match). */
		if (r[i].t->conn.local.family != AF_INET &&
		    r[i].t->conn.local.family != AF_INET6)
			continue;
		for (mid = i; mid < end && ends_side(r[mid].t) == 0; mid++)
			;
		/* One address both ends (a self-connect): one list. */
		if (ends_cmp_addr(&r[i].t->conn.local,
		    &r[i].t->conn.remote) == 0)
			dropped += ends_sweep(&r[i], end - i, &r[i], end - i);
		else
			dropped += ends_sweep(&r[i], mid - i, &r[mid],
			    end - mid);
	}
	return (dropped);
}

/* Order pieces: socket inode, addresses, then when each began. */
static int
ends_cmp_piece(const void *x, const void *y)
{
	const struct end_ref	*a = x, *b = y;
	const struct trace_info	*s = a->t, *t = b->t;
	int			 c;

	if (s->conn.inode != t->conn.inode)
		return (s->conn.inode < t->conn.inode ? -1 : 1);
	if ((c = ends_cmp_addr(&s->conn.local, &t->conn.local)) != 0 ||
	    (c = ends_cmp_addr(&s->conn.remote, &t->conn.remote)) != 0)
		return (c);
	if (s->has_time != t->has_time)
		return (s->has_time ? -1 : 1);
	if (s->first_sec != t->first_sec)
		return (s->first_sec < t->first_sec ? -1 : 1);
	if (s->first_nsec != t->first_nsec)
		return (s->first_nsec < t->first_nsec ? -1 : 1);
	return (a->input != b->input ? (a->input < b->input ? -1 : 1) :
	    (a->trace < b->trace ? -1 : a->trace > b->trace));
}

/* Are a and b pieces of one TCP socket (its inode, its addresses)? */
static int
ends_same_socket(const struct trace_info *a, const struct trace_info *b)
{
	if (a->conn.inode == 0 || a->conn.inode != b->conn.inode ||
	    a->conn.local.udp || (a->conn.local.family != AF_INET &&
	    a->conn.local.family != AF_INET6))
		return (0);
	return (ends_cmp_addr(&a->conn.local, &b->conn.local) == 0 &&
	    ends_cmp_addr(&a->conn.remote, &b->conn.remote) == 0 &&
	    a->conn.role == b->conn.role);
}

/*
 * Find the traces that are pieces of one socket written by several
 * processes (a forking server's parent and child, a socket inherited
 * across fork and exec): the same socket inode, the same addresses and
 * role; an inode is the kernel's name for the socket while it lives, and
 * a 4-tuple cannot be reused by another while it does. Each piece's lead
 * is set to the group's earliest. Returns the number of groups of two or
 * more. The array is sorted.
 */
size_t
ends_join(struct end_ref *r, size_t n)
{
	size_t	i, end, groups = 0;

	if (n > 1)
		qsort(r, n, sizeof *r, ends_cmp_piece);
	for (i = 0; i < n; i = end) {
		r[i].lead = NULL;
		for (end = i + 1; end < n && ends_same_socket(r[i].t, r[end].t);
		    end++)
			r[end].lead = &r[i];
		if (end > i + 1) {
			r[i].lead = &r[i];
			groups++;
		}
	}
	return (groups);
}
