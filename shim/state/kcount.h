/*
 * The kernel's own byte counts of a TCP connection, to count the bytes
 * moved by calls the shim cannot see.
 */
#ifndef TAPSHIM_KCOUNT_H
#define TAPSHIM_KCOUNT_H

#include <stdint.h>

/*
 * What the program had sent and received on a socket by the kernel's
 * account, when the shim first saw it (base) and last looked (now).
 */
struct kcount {
	int		 have_base;
	int		 have_now;
	int		 done;		/* settled: compare no more */
	uint64_t	 base[2];	/* [0] received, [1] sent */
	uint64_t	 now[2];
};

int	kcount_take(int, uint64_t [2]);
void	kcount_base(struct kcount *, int);
void	kcount_sample(struct kcount *, int);
int	kcount_unseen(struct kcount *, const uint64_t [2], uint64_t [2]);
void	kcount_moved(const struct kcount *, uint64_t [2]);

#endif
