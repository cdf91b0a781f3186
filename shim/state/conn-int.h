/* Inside conn*.c only: struct conn and what those files share. */
#ifndef TAPSHIM_CONN_INT_H
#define TAPSHIM_CONN_INT_H

#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>

#include "conn.h"
#include "encode.h"
#include "kcount.h"
#include "tracefile.h"

/*
 * Connections live in memory that is never unmapped (type-stable), so a
 * hook that read a slot just before another thread closed the fd can
 * still safely try to take a reference, and then sees it lost the race.
 * interposition-pitfalls.md, row 19.
 */
struct conn {
	pthread_mutex_t	 lock;		/* everything below */
	uint32_t	 refs;		/* fd slots + hooks using it; atomic */
	struct conn	*next;		/* free list */
	struct tracefile tf;		/* its window, if still mapped */
	const char	*cut;		/* why the trace stopped, or NULL */
	off_t		 exit_at;	/* ended at exit: its end starts here */
	int		 reend;		/* written past that end: end again */
	int		 reset;		/* the program saw ECONNRESET */
	int		 eof;		/* it read end of file */
	int		 tls_over;	/* its TLS session ended; atomic */
	int64_t		 connecting;	/* non-blocking connect's call, ns */
	const char	*ended_by;	/* errno name that ended it, or NULL */
	struct sockaddr_storage dpeer;	/* UDP: connected to, since tracing */
	socklen_t	 dpeer_len;
	struct enc_conn	 info;		/* fixed once open */
	uint64_t	 kept[2];	/* bytes kept: [0] reads, [1] writes */
	int		 truncated[2];
	uint64_t	 lost;
	int		 counting;	/* a run limit: count, do not trace */
	int		 stopped;	/* the run stopped recording */
	struct enc_stats st;		/* kept and lost, for Connection.stats */
	struct kcount	 kc;		/* TCP: the kernel's counts */
	int		 shared;	/* the process forked holding it */
	struct enc_buf	 enc;		/* packs into tf's window */
};

struct conn	*conn_alloc(void);
void		 conn_free(struct conn *);
void		 conn_lose(struct conn *, int, uint64_t, const char *);
void		 conn_install(int, struct conn *);
struct conn	*conn_ref(int, struct conn *);

/* conn-file.c: the trace file's window, and the trace's end. */
void		 conn_file_attach(struct conn *, off_t);
int		 conn_room(struct conn *);
int		 conn_file_mapped(const struct conn *);
int		 conn_file_push(struct conn *);
int		 conn_file_direct(struct conn *, const struct enc_event *);
void		 conn_file_end(struct conn *, enum enc_ending, int64_t);
void		 conn_file_reend(struct conn *);
void		 conn_file_fork_prepare(void);
void		 conn_file_fork_parent(void);
void		 conn_file_fork_child(void);

/* conn-open.c: how connections begin. */
void		 conn_inherit(int, struct conn *);
void		 conn_classify(int);
void		 conn_gave_up(struct conn *, int64_t);
void		 conn_connected(struct conn *, int64_t);
void		 conn_settle(struct conn *);
void		 conn_fork_settle(void);

#endif
