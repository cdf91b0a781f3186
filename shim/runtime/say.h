/* Where the shim's messages go: stderr as it was at start, a log, or nowhere. */
#ifndef TAPSHIM_SAY_H
#define TAPSHIM_SAY_H

#include <stddef.h>

typedef void (*say_lost_fn)(void);

void		say_init(void);
void		say_set_log(const char *);
void		say_on_lost(say_lost_fn);
void		say_write(const char *, size_t);
unsigned long	say_lost_count(void);

#endif
