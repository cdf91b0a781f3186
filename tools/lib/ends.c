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
	return (ends_cmp_addr(ahi, bhi));
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

/*
 * Pair up the traces that are two ends of one connection (a client and a
 * server traced on one machine), so the capture shows it once: the end
 * that kept more bytes stays, the client's on a tie. Returns how many
 * traces are to be dropped. The array is sorted.
 */
size_t
ends_pair(struct end_ref *r, size_t n)
{
	size_t	i, j, k, end, dropped = 0;
	struct end_ref *keep, *drop;

	qsort(r, n, sizeof *r, ends_cmp);
	for (i = 0; i < n; i = end) {
		for (end = i + 1; end < n && ends_cmp(&r[i], &r[end]) == 0;
		    end++)
			;
		for (j = i; j < end; j++) {
			for (k = j + 1; k < end && r[j].other == NULL; k++) {
				if (r[k].other != NULL ||
				    !ends_match(r[j].t, r[k].t))
					continue;
				r[j].other = &r[k];
				r[k].other = &r[j];
				keep = r[k].t->bytes > r[j].t->bytes ||
				    (r[k].t->bytes == r[j].t->bytes &&
				    r[k].t->conn.role == TRACE_ROLE_CLIENT) ?
				    &r[k] : &r[j];
				drop = keep == &r[j] ? &r[k] : &r[j];
				drop->drop = 1;
				dropped++;
			}
		}
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
