/* Protocol buffers wire format: walking fields without a schema. */
#ifndef TAPSHIM_WIRE_H
#define TAPSHIM_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Wire types (protobuf encoding spec, "Message Structure"). */
#define WIRE_VARINT	0
#define WIRE_I64	1
#define WIRE_LEN	2
#define WIRE_I32	5

/* Longest varint: 64 bits in 7-bit groups. */
#define WIRE_VARINT_MAX	10

struct wire_field {
	uint32_t	 number;
	int		 type;
	uint64_t	 value;		/* WIRE_VARINT, WIRE_I64, WIRE_I32 */
	const uint8_t	*data;		/* WIRE_LEN payload */
	size_t		 len;		/* WIRE_LEN payload length */
	size_t		 offset;	/* where the tag starts */
};

size_t	wire_get_varint(const uint8_t *, size_t, uint64_t *);
int	wire_next(const uint8_t *, size_t, size_t *, struct wire_field *,
	    const char **);
size_t	wire_put_varint(uint8_t *, uint64_t);

#endif
