/* The traced process, described once: pid, ppid, exe, argv, start. */
#ifndef TAPSHIM_PROCINFO_H
#define TAPSHIM_PROCINFO_H

#include "encode.h"

void			 procinfo_init(void);
void			 procinfo_fork_child(void);
const struct enc_proc	*procinfo_get(void);

#endif
