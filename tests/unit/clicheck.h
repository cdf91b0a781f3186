/* The harness of tap2pcap's command-line tests: run it, judge its files. */
#ifndef TAPSHIM_CLICHECK_H
#define TAPSHIM_CLICHECK_H

#include <sys/types.h>

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_MAGIC_NSEC	0xa1b23c4dU	/* pcap-savefile, nanosecond times */
#define LINKTYPE_ETHER	1
#define LINKTYPE_RAW	101
#define RUN_MAX_ARGS	16

/* How run() sets up the child before it executes tap2pcap. */
#define RUN_NOBODY	0x1	/* drop root, so permissions apply */
#define RUN_FSIZE	0x2	/* files may grow to 4 KiB only */

/* What a run of tap2pcap did. */
struct result {
	int	 status;	/* exit status; 128 + signal if killed */
	char	*out;		/* standard output, NUL-terminated */
	size_t	 outlen;
	char	*err;		/* standard error, NUL-terminated */
};

extern const char	*tool;
extern char		 base[32];
extern char		 top[64];
extern char		 work[80];
extern mode_t		 child_umask;
extern struct result	 r;

char		*slurp(const char *, size_t *);
void		 remove_dir(const char *);
void		 cli_setup(void);
void		 cli_teardown(void);
void		 run(int, ...);
const char	*listing(void);
void		 write_good(const char *);
size_t		 write_bad(const char *);
void		 pcap_is_good(const char *, size_t, uint32_t);

#endif
