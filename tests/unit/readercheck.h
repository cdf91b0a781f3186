/* Check tests for the trace reader: helpers shared by its suites. */
#ifndef TAPSHIM_READERCHECK_H
#define TAPSHIM_READERCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "trace-read.h"
#include "tracebuf.h"

/* Each test builds its trace in tb and opens it as tf; teardown frees. */
extern struct tracebuf		 tb;
extern struct trace_file	*tf;
extern struct trace_event	 ev;
extern char			 errbuf[TRACE_ERRBUF_SIZE];

void	setup(void);
void	teardown(void);
void	pb_begin(void);
void	pb_end(void);
void	ev_begin(void);
void	ev_end(void);
void	body_begin(uint32_t op);
void	body_end(void);
void	seg_begin(uint64_t id);
void	seg_end(void);
void	build_pb(void);
void	build_ld(void);
void	open_ok(const char *name);
void	open_bad(const char *name, size_t offset, const char *what);
void	next_is(enum trace_kind kind, const char *data);
void	next_end(void);
void	first_is(enum trace_kind kind);
void	addr_is(const struct trace_addr *a, int family, const char *host,
	    uint16_t port);

#endif
