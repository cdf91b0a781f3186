/* A capture split into files of a size, as tcpdump -C and -W do. */
#ifndef TAPSHIM_ROTATE_H
#define TAPSHIM_ROTATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pcap-out.h"
#include "pcapng-out.h"

struct rotate {
	const char	*base;		/* -w's name */
	int		 link;
	uint64_t	 max_bytes;	/* per file; 0: one file */
	unsigned int	 max_files;	/* kept, reusing names; 0: no limit */
	unsigned int	 digits;	/* of the file number, with max_files */
	unsigned int	 index;		/* the number of the file written */
	unsigned int	 files;		/* files finished */
	char		*name;		/* of the file written */
	uint64_t	 bytes;		/* in it so far */
	char		**tmps;		/* finished files' temporary names, */
	char		**names;	/* and their own, by number */
	size_t		  nfiles;	/* slots in them */
	char *const	*inputs;	/* never written over */
	int		 ninputs;
	/* Live captures (rotate_open_live()): files in place, as they grow. */
	int		 live;
	unsigned int	 seconds;	/* -G: a new file this often; 0: no */
	time_t		 opened;	/* the file written was started */
	int		 force;		/* a new file asked for (SIGUSR1) */
	char		*stamp;		/* -G: the last strftime name */
	unsigned int	 same;		/* files under that name so far */
	struct pcap_out	 out;
	struct pcapng_meta *ng;		/* pcapng's blocks; NULL: pcap */
	char		 err[PCAP_ERRBUF_SIZE];
};

int	rotate_open(struct rotate *, const char *, int, uint64_t,
	    unsigned int, char *const *, int);
int	rotate_open_ng(struct rotate *, const char *, int, uint64_t,
	    unsigned int, char *const *, int, struct pcapng_meta *);
int	rotate_open_live(struct rotate *, const char *, int, uint64_t,
	    unsigned int, unsigned int, char *const *, int,
	    struct pcapng_meta *);
int	rotate_tick(struct rotate *);
int	rotate_sync(struct rotate *);
int	rotate_write(void *, int64_t, uint32_t, const uint8_t *, size_t,
	    const uint8_t *, size_t, size_t);
int	rotate_finish(struct rotate *);
void	rotate_abort(struct rotate *);
void	rotate_unlink(void);

#endif
