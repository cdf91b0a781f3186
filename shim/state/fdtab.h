/* The fd table: what each file descriptor is, readable without locks. */
#ifndef TAPSHIM_FDTAB_H
#define TAPSHIM_FDTAB_H

struct conn;

/*
 * A slot holds NULL (not known yet), FDTAB_OTHER (known: nothing to
 * trace) or a connection; FDTAB_INHERITED tags a connection a forked
 * child got from its parent, to be traced afresh by the child.
 */
#define FDTAB_OTHER	((struct conn *)1)
#define FDTAB_INHERITED	((unsigned long)2)
#define FDTAB_MAX_FD	(1 << 20)

struct conn	*fdtab_get(int);
struct conn	*fdtab_swap(int, struct conn *);
int		 fdtab_replace(int, struct conn *, struct conn *);
int		 fdtab_is_conn(const struct conn *);
void		 fdtab_inherit(void);
int		 fdtab_next(int);

#endif
