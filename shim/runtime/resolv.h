/* Recent name lookups, to tie a connect to the answer it used. */
#ifndef TAPSHIM_RESOLV_H
#define TAPSHIM_RESOLV_H

#include <sys/socket.h>

#include <stdint.h>

#define RESOLV_ANSWERS	8	/* addresses kept per lookup */
#define RESOLV_NAME	256

/* One lookup, as Resolution holds it (strings in place, no pointers). */
struct resolv_entry {
	const char	*function;		/* a string constant */
	char		 name[RESOLV_NAME];
	char		 answers[RESOLV_ANSWERS][46];	/* INET6_ADDRSTRLEN */
	uint8_t		 ip[RESOLV_ANSWERS][16];
	int		 family[RESOLV_ANSWERS];
	int		 nanswers;
	uint64_t	 duration_ns;
	const char	*error;			/* a string constant, or NULL */
	int64_t		 sec;
	int32_t		 nsec;
	uint64_t	 seq;			/* 0: an empty slot */
};

void	resolv_add(const struct resolv_entry *);
int	resolv_match(const struct sockaddr *, socklen_t,
	    struct resolv_entry *);
void	resolv_fork_child(void);

#endif
