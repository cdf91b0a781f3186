/* Decoding DNS messages (RFC 1035) from datagrams: bounds-checked. */
#ifndef TAPSHIM_DNS_H
#define TAPSHIM_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	1024	/* escaped presentation form (255 raw), NUL */
#define DNS_DATA_MAX	1024
#define DNS_QD_MAX	4	/* questions kept */
#define DNS_AN_MAX	16	/* answers kept */

struct dns_question {
	char		name[DNS_NAME_MAX];
	uint16_t	type;
	uint16_t	class;
};

struct dns_rr {
	char		name[DNS_NAME_MAX];
	uint16_t	type;
	uint16_t	class;
	uint32_t	ttl;
	char		data[DNS_DATA_MAX];	/* A, AAAA, names; else hex */
};

struct dns_msg {
	uint16_t		id;
	int			response;
	int			opcode;
	int			rcode;
	int			truncated;
	unsigned int		qdcount, ancount, nscount, arcount;
	int			nqd, nan;
	struct dns_question	qd[DNS_QD_MAX];
	struct dns_rr		an[DNS_AN_MAX];
};

int		 dns_parse(const uint8_t *, size_t, struct dns_msg *,
		    const char **);
const char	*dns_type_name(uint16_t, char *, size_t);
const char	*dns_rcode_name(int);

#endif
