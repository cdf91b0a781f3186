/* Escaping strings from a trace before they reach a terminal or a log. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"

/*
 * One byte, escaped into out (at most 4 characters and a NUL): printable
 * ASCII as it is; backslash and the double quote behind a backslash (so
 * a quoted string stays one); the C escapes and \e for ESC; any other
 * byte, every one above 0x7e included (C1 controls such as CSI, and
 * broken UTF-8), as \xNN. A trace's SNI, path or argv cannot move the
 * cursor, clear the screen or ring the bell.
 */
static size_t
esc_byte(char *out, unsigned char c, int flags)
{
	static const char	from[] = "\\\"\n\r\t\033\a\b\f\v";
	static const char	to[] = "\\\"nrtbabfv";
	const char		*p;

	if (c == ' ' && (flags & ESC_SPACE))
		return ((size_t)snprintf(out, 5, "\\x20"));
	if (c != '\0' && (p = strchr(from, c)) != NULL) {
		out[0] = '\\';
		out[1] = c == '\033' ? 'e' : to[p - from];
		out[2] = '\0';
		return (2);
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		out[1] = '\0';
		return (1);
	}
	return ((size_t)snprintf(out, 5, "\\x%02x", c));
}

/*
 * Escape len bytes at src into dst (dstsz bytes, ESC_SIZE(len) always
 * enough); what does not fit is left off whole, never half an escape.
 * Returns dst, for use as a printf argument.
 */
const char *
esc_mem(char *dst, size_t dstsz, const void *src, size_t len, int flags)
{
	const unsigned char	*s = src;
	char			 one[5];
	size_t			 o = 0, i, k;

	if (dstsz == 0)
		return (dst);
	for (i = 0; i < len; i++) {
		k = esc_byte(one, s[i], flags);
		if (o + k >= dstsz)
			break;
		memcpy(dst + o, one, k);
		o += k;
	}
	dst[o] = '\0';
	return (dst);
}

/* Escape a NUL-terminated string; see esc_mem(). */
const char *
esc_str(char *dst, size_t dstsz, const char *src)
{
	return (esc_mem(dst, dstsz, src, strlen(src), 0));
}
