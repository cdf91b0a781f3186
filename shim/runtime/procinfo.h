/* The traced process, described once: pid, ppid, exe, argv, start. */
#ifndef TAPSHIM_PROCINFO_H
#define TAPSHIM_PROCINFO_H

#include <stdint.h>

/*
 * The process, once per trace (the data model's: encode.h uses it),
 * argv bounded: ENC_ARGV_MAX of them.
 */
#define ENC_ARGV_MAX	16
struct enc_proc {
	uint32_t	 ppid;
	const char	*exe;
	const char	*argv[ENC_ARGV_MAX];
	int		 argc;
	int		 argv_truncated;
	int64_t		 start_sec;
	int32_t		 start_nsec;
};

void			 procinfo_init(void);
void			 procinfo_fork_child(void);
const struct enc_proc	*procinfo_get(void);

#endif
