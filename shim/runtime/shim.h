/* The shim's runtime: settings, the re-entry guard, the clock, messages. */
#ifndef TAPSHIM_SHIM_H
#define TAPSHIM_SHIM_H

#include <sys/types.h>

#include <stdint.h>

#include "conf.h"

extern struct conf	shim_conf;
/* Start-up's work, the top's (shim.c): 0, or -1 to leave tracing off. */
extern int		(*const shim_start)(void);

int	shim_enter(void);
void	shim_leave(void);
int	shim_tracing(void);
void	shim_init(void);
pid_t	shim_self(void);
void	shim_hold(int);
void	shim_forked(void);
int64_t	shim_now(void);
int64_t	shim_call_start(void);
void	shim_call_began(int64_t);
void	shim_call_skip(int64_t);
uint32_t shim_tid(void);
void	shim_say(const char *, ...) __attribute__((format(printf, 1, 2)));
void	shim_say_once(int *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
