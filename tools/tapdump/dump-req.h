/* tapdump's request views: timeline, JSON, summary and HAR. */
#ifndef TAPSHIM_DUMP_REQ_H
#define TAPSHIM_DUMP_REQ_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

#include "requests.h"

enum dump_req_mode {
	DUMP_REQ_TEXT,
	DUMP_REQ_JSON,
	DUMP_REQ_SUMMARY,
	DUMP_REQ_HAR
};

/* A record's connection, as the views show it. */
struct dump_req_conn {
	uint32_t	 pid;
	char		 exe[512];
	int64_t		 dns_ns;	/* -1: not known, or not the first */
	int64_t		 connect_ns;
	int64_t		 tls_ns;
	int64_t		 opened;	/* connect called, ns since the epoch */
	char		 server[64];	/* the server's IP address */
};

struct dump_req_sum;

struct dump_req {
	FILE		*out;
	enum dump_req_mode mode;
	int		 json;
	int		 show_secrets;
	int64_t		 base;		/* +0.000 in the timeline */
	size_t		 n;		/* records so far */
	size_t		 notices;
	/* the last trace whose Process and TlsInfo were decoded */
	const struct trace_info *last;
	struct dump_req_conn conn;
	struct dump_req_sum *sum;
};

int		 dump_requests(FILE *, char **, int, enum dump_req_mode, int,
		    int);
void		 dump_req_conn(struct dump_req *, const struct req_record *);
const char	*dump_req_value(const struct dump_req *,
		    const struct req_header *);
void		 dump_req_url(const struct req_record *, char *, size_t);
json_object	*dump_req_headers(const struct dump_req *,
		    const struct req_headers *);
void		 dump_har_begin(struct dump_req *);
void		 dump_har_entry(struct dump_req *, const struct req_record *);
void		 dump_har_end(struct dump_req *);
int		 dump_sum_add(struct dump_req *, const struct req_record *);
void		 dump_sum_print(struct dump_req *);
void		 dump_sum_free(struct dump_req *);

#endif
