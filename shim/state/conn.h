/* Connections being traced: one trace each, shared by dup'ed fds. */
#ifndef TAPSHIM_CONN_H
#define TAPSHIM_CONN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "encode.h"

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
struct conn	*conn_fd_closing(int, struct conn **);
void		 conn_fd_ended(int, struct conn *, struct conn *, int);
void		 conn_fd_made(int, int);
int		 conn_connect_pending(struct conn *);
void		 conn_tls_ended(struct conn *);
int		 conn_tls_over(const struct conn *);
void		 conn_fd_dup(int, int);
void		 conn_end_all(void);
void		 conn_end_exit(struct conn *);
void		 conn_fork_prepare(void);
void		 conn_fork_parent(void);
void		 conn_fork_child(void);
uint64_t	 conn_id(const struct conn *);

#endif
