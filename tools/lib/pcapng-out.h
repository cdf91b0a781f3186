/* Writing a pcapng capture that names the processes, hosts and keys. */
#ifndef TAPSHIM_PCAPNG_OUT_H
#define TAPSHIM_PCAPNG_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "pcap-out.h"
#include "synth.h"
#include "trace-read.h"

#define PCAPNG_COMMENT_MAX	4096

/* One process of the run: an interface of the capture. */
struct pcapng_if {
	uint32_t	 pid;
	uint32_t	 ppid;
	char		*name;		/* "curl[1234]" */
	char		*exe;		/* "" when not recorded */
	char		*args;		/* argv joined by spaces */
	int		 has_stats;
	uint64_t	 drop;		/* events lost */
	uint64_t	 lost[2];	/* bytes lost: reads, writes */
	char		 why[256];	/* the loss reasons, comma-separated */
	int64_t		 last_sec;	/* its last event */
	uint32_t	 last_nsec;
};

/* A recorded name lookup's answer: an NRB record. */
struct pcapng_name {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 ip[16];
	char		*name;
};

/* What the blocks say besides the packets, gathered before writing. */
struct pcapng_meta {
	int			 link;		/* FRAME_LINK_* */
	struct pcapng_if	*ifs;		/* by pid */
	size_t			 nifs;
	struct pcapng_name	*names;		/* sorted, no duplicates */
	size_t			 nnames;
	uint8_t			*keys;		/* an SSLKEYLOGFILE's bytes */
	size_t			 nkeys;
	const struct synth	*sy;		/* the frame being written */
	/* Per packet: the last trace's interface, the last event. */
	const struct trace_info	*last_info;
	uint32_t		 last_if;
	const struct trace_event *last_ev;
	size_t			 last_off;
	int			 data_seen;
	int			 fresh;		/* a file just started */
	char			 comment[PCAPNG_COMMENT_MAX];
	size_t			 clen;
};

int	pcapng_meta_add(struct pcapng_meta *, const struct trace_info *);
int	pcapng_meta_scan(struct pcapng_meta *, struct trace_file *,
	    const char *, char *);
int	pcapng_meta_keylog(struct pcapng_meta *, const char *, char *);
int	pcapng_meta_done(struct pcapng_meta *);
struct input;
int	pcapng_meta_inputs(struct pcapng_meta *, struct input *, unsigned int,
	    int, const char *, char *);
void	pcapng_meta_free(struct pcapng_meta *);
int	pcapng_out_open(struct pcap_out *, struct pcapng_meta *, const char *,
	    char *);
int	pcapng_out_section(struct pcap_out *, struct pcapng_meta *, char *);
size_t	pcapng_out_prepare(struct pcapng_meta *, size_t, size_t, size_t);
int	pcapng_out_write(struct pcap_out *, struct pcapng_meta *, int64_t,
	    uint32_t, const uint8_t *, size_t, const uint8_t *, size_t, size_t);
int	pcapng_out_close(struct pcap_out *, struct pcapng_meta *, char *);
int	pcapng_is_name(const char *);

#endif
