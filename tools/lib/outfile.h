/* Output files of the tools: private, created under a temporary name. */
#ifndef TAPSHIM_OUTFILE_H
#define TAPSHIM_OUTFILE_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#define OUTFILE_MODE_DEFAULT	0600
/* Room for "path: why". */
#define OUTFILE_ERRBUF_SIZE	(PATH_MAX + 256)

void	outfile_set_mode(mode_t);
mode_t	outfile_mode(void);
int	outfile_parse_mode(const char *, mode_t *);
int	outfile_write(const char *, const void *, size_t, char *, size_t);

#endif
