/* Writing a capture with libpcap, atomically: a temporary file, renamed. */
#ifndef TAPSHIM_PCAP_OUT_H
#define TAPSHIM_PCAP_OUT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

#define PCAP_OUT_SNAPLEN	262144	/* Wireshark's largest record */

struct pcap_out {
	char		*path;		/* final name; NULL for stdout */
	char		*tmp;		/* temporary file, renamed at the end */
	FILE		*f;
	pcap_t		*p;
	pcap_dumper_t	*d;
	int		 fd;		/* o->f's, written past stdio */
	uint8_t		*buf;		/* records not yet written */
	size_t		 used;
	size_t		 fill;		/* flush when used reaches it */
	int		 error;		/* errno of a failed write, or 0 */
	int		 release;	/* a regular file: pages released */
	off_t		 off;		/* bytes in the file */
	off_t		 synced;	/* handed to writeback up to here */
	uint64_t	 packets;
};

int	pcap_out_open(struct pcap_out *, const char *, int, char *);
int	pcap_out_open_raw(struct pcap_out *, const char *, char *);
int	pcap_out_append(struct pcap_out *, const void *, size_t);
int	pcap_out_write(struct pcap_out *, int64_t, uint32_t, const uint8_t *,
	    size_t, const uint8_t *, size_t, size_t);
int	pcap_out_close(struct pcap_out *, char *);
int	pcap_out_commit(struct pcap_out *, char *);
int	pcap_out_finish(struct pcap_out *, char *);
void	pcap_out_abort(struct pcap_out *);
void	pcap_out_set_inplace(int);
int	pcap_out_sync(struct pcap_out *);
int	pcap_out_is_input(const char *, char *const *, int);
const char *pcap_out_tmpname(void);

#endif
