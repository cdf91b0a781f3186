/* Connections being traced: one trace each, shared by dup'ed fds. */
#ifndef TAPSHIM_CONN_H
#define TAPSHIM_CONN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "encode.h"

/* Recorded bytes gathered per connection before a write to its file. */
#define CONN_BUF		16384
/* Trace files open at once, whatever the number of connections. */
#define CONN_FILES_MAX		8
/* Gathered events are written out at least this often (ns) while busy. */
#define CONN_FLUSH_NS		100000000LL

struct conn;

typedef int (*conn_info_fn)(struct enc_buf *, enum conf_format, uint64_t,
    const void *);

struct conn	*conn_open(int, enum enc_role, const struct sockaddr *,
		    socklen_t);
struct conn	*conn_open_timed(int, enum enc_role, const struct sockaddr *,
		    socklen_t, int64_t, int);
struct conn	*conn_get(int);
void		 conn_failed(int, const struct sockaddr *, socklen_t, int);
void		 conn_put(struct conn *);
void		 conn_record(struct conn *, enum enc_kind, const void *,
		    size_t, int);
void		 conn_record_event(struct conn *, struct enc_event *);
void		 conn_note_reset(struct conn *);
void		 conn_add_info(struct conn *, conn_info_fn, const void *);
struct conn	*conn_twin(struct conn *);
void		 conn_note_error(struct conn *, int);
void		 conn_connect_failed(struct conn *, int);
void		 conn_connect_done(struct conn *);
int		 conn_udp(const struct conn *);
void		 conn_udp_connect(struct conn *, const struct sockaddr *,
		    socklen_t);
void		 conn_fd_closing(int);
void		 conn_fd_closed(int);
int		 conn_file_guard(int);
void		 conn_file_move(int);
void		 conn_fd_dup(int, int);
void		 conn_flush_all(void);
void		 conn_fork_prepare(void);
void		 conn_fork_parent(void);
void		 conn_fork_child(void);
uint64_t	 conn_id(const struct conn *);

#endif
