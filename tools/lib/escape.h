/* Escaping strings from a trace before they reach a terminal or a log. */
#ifndef TAPSHIM_ESCAPE_H
#define TAPSHIM_ESCAPE_H

#include <stddef.h>

/* Room for n bytes escaped: each takes at most 4 ("\xNN"), and a NUL. */
#define ESC_SIZE(n)	(4 * (n) + 1)

#define ESC_SPACE	0x1	/* escape ' ' too (a DNS label, a word) */

const char	*esc_mem(char *, size_t, const void *, size_t, int);
const char	*esc_str(char *, size_t, const char *);

#endif
