/* A TLS library's functions, found at first use without linking it. */
#ifndef TAPSHIM_TLSREAL_H
#define TAPSHIM_TLSREAL_H

void	*tlsreal_get(void **, const char *);

#endif
