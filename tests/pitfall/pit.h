/* Helpers shared by the pitfall test programs (tests/pitfalls.sh). */
#ifndef PIT_H
#define PIT_H

#include <sys/types.h>

#include <stddef.h>

/*
 * What one process moved on one connection, kept in memory and saved as
 * $PIT_EXP/<pid>.<local port>.<remote port>.{w,r}: the bytes it wrote
 * and read, which its trace must hold exactly (tests/pitfall/judge.py).
 */
struct pit_log {
	pid_t		 pid;
	int		 lport;
	int		 rport;
	unsigned char	*b[2];		/* [0] written, [1] read */
	size_t		 len[2];
	size_t		 cap[2];
};

/* How pit_echo() moves its bytes: each hooked family in turn. */
enum pit_how {
	PIT_RW,			/* write / read */
	PIT_SENDRECV,		/* send / recv */
	PIT_VEC,		/* writev / readv */
	PIT_MSG,		/* sendmsg / recvmsg */
	PIT_HOW_MAX
};

void	pit_setprog(const char *);
void	pit_die(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
int	pit_port(void);
int	pit_connect(int);
void	pit_log_init(struct pit_log *, int);
void	pit_log_add(struct pit_log *, int, const void *, size_t);
void	pit_log_save(const struct pit_log *);
void	pit_log_free(struct pit_log *);
void	pit_fill(unsigned char *, size_t, unsigned int, size_t);
void	pit_send(int, const void *, size_t, enum pit_how, struct pit_log *);
void	pit_recv(int, void *, size_t, enum pit_how, struct pit_log *);
void	pit_echo(int, struct pit_log *, size_t, unsigned int, enum pit_how);
void	pit_drain(int, struct pit_log *);
void	pit_write_file(int, const char *);

#endif
