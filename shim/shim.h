/* The shim's global state: configuration, start-up, the re-entry guard. */
#ifndef TAPSHIM_SHIM_H
#define TAPSHIM_SHIM_H

#include <stdint.h>

#include "conf.h"

extern struct conf	shim_conf;

int	shim_enter(void);
void	shim_leave(void);
int	shim_tracing(void);
void	shim_init(void);
int64_t	shim_now(void);
int64_t	shim_call_start(void);
void	shim_call_began(int64_t);
void	shim_call_skip(int64_t);
uint32_t shim_tid(void);
void	shim_say(const char *, ...) __attribute__((format(printf, 1, 2)));
void	shim_say_once(int *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
