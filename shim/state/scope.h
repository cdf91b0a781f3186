/* Which sockets are traced (a filter), and how much (a run's limits). */
#ifndef TAPSHIM_SCOPE_H
#define TAPSHIM_SCOPE_H

#include <stdint.h>

#include "conf.h"
#include "encode.h"

void		scope_init(const struct conf *);
int		scope_match(const struct conf *, const struct enc_conn *);
int		scope_admit_conn(void);
int		scope_admit_bytes(uint64_t);
void		scope_count(int, uint64_t, uint64_t);
void		scope_lose(int, uint64_t);
const char	*scope_reason(void);
int		scope_numbered(void);
uint64_t	scope_next_trace(void);
void		scope_ring_lost(uint32_t);

#endif
