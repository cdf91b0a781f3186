/* tapdump's model of a trace file: connections, their events, summaries. */
#ifndef TAPSHIM_DUMP_H
#define TAPSHIM_DUMP_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "dns.h"
#include "trace-read.h"

/* One connection (trace) and what happened on it. */
struct dump_trace {
	size_t			 slot;		/* the reader's */
	const struct trace_info	*t;		/* set when shown */
	struct trace_event	*ev;
	size_t			 nev;
	size_t			 cap;
	uint64_t		 bytes[2];	/* [0] received, [1] sent */
	size_t			 count[2];	/* reads, writes */
	const struct trace_event *closed;	/* the closed event, or NULL */
	int			 udp;
	int			 done;		/* its last event is in */
	struct dump_trace	*next;		/* in file order */
};

struct dump_file {
	const char		*path;
	struct trace_file	*tf;
	struct dump_trace	**byslot;	/* open traces by slot */
	size_t			 nslot;
	struct dump_trace	*head;		/* not shown yet, in file order */
	struct dump_trace	**tailp;
};

/* Called with each connection, complete, in file order. */
typedef int (*dump_fn)(const struct dump_file *, const struct dump_trace *,
    void *);

/* The process, decoded from Connection.process. */
struct dump_proc {
	uint32_t	 pid;
	uint32_t	 ppid;
	char		 exe[512];
	char		 argv[16][260];
	int		 argc;
	int		 argv_truncated;
	int64_t		 start_sec;
	uint32_t	 start_nsec;
};

/* A name lookup, decoded from Connection.resolution. */
struct dump_res {
	char		 function[32];
	char		 name[256];
	char		 answers[16][64];
	int		 nanswers;
	uint64_t	 duration_ns;
	char		 error[64];
};

extern unsigned int	dump_dns_port;

int		 dump_run(struct dump_file *, const char *, dump_fn, void *,
		    char *);
void		 dump_free(struct dump_file *);
int		 dump_process(const struct trace_conn *, struct dump_proc *);
int		 dump_resolution(const struct trace_conn *, struct dump_res *);
const char	*dump_addr(const struct trace_addr *, char *, size_t);
const char	*dump_time(int64_t, uint32_t, char *, size_t);
int64_t		 dump_rel(const struct dump_trace *, const struct trace_event *);
int		 dump_dns(const struct dump_trace *, const struct trace_event *,
		    struct dns_msg *);
const char	*dump_role(enum trace_role);
const char	*dump_proto(const struct dump_trace *);
const char	*dump_kind(enum trace_kind);
const char	*dump_reset(enum trace_reset);
const char	*dump_ending(const struct trace_event *);
void		 dump_text(FILE *, const struct dump_file *,
		    const struct dump_trace *, int);
void		 dump_tls_text(FILE *, const struct trace_conn *);
json_object	*dump_tls_json(const struct trace_conn *);
void		 dump_json_begin(FILE *);
int		 dump_json(FILE *, const struct dump_file *,
		    const struct dump_trace *, int);
int		 dump_json_end(FILE *);

#endif
