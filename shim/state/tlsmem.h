/* TLS sessions over memory BIOs: which socket carries their records. */
#ifndef TAPSHIM_TLSMEM_H
#define TAPSHIM_TLSMEM_H

#include <stddef.h>

#include "encode.h"

int	tlsmem_any(void);
void	tlsmem_set(void *, void *, int, void *, int);
void	tlsmem_produced(void *, const void *, size_t);
void	tlsmem_consumed(void *, const void *, size_t);
int	tlsmem_sock(int, enum enc_kind, const void *, size_t, int);
void	tlsmem_free(void *);

#endif
