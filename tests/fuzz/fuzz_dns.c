/* libFuzzer target for tools/dns.c: any datagram, decoded in bounds. */

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_msg	 m;
	const char	*why;

	(void)dns_parse(data, size, &m, &why);
	return (0);
}
