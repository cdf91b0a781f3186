/* Protocol buffers wire format: walking fields without a schema. */

#include "config.h"

#include "wire.h"

/*
 * Read a varint from p[0..n). Returns the bytes it took, or 0 when it is
 * cut short or longer than ten bytes.
 */
size_t
wire_get_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t	value = 0;
	size_t		i;

	for (i = 0; i < n && i < WIRE_VARINT_MAX; i++) {
		value |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			*v = value;
			return (i + 1);
		}
	}
	return (0);
}

/*
 * Read the field at buf[*pos] and move *pos past it. Returns 1 for a
 * field, 0 at the end of the buffer and -1 for damage, with *why saying
 * what is wrong and f->offset where.
 */
int
wire_next(const uint8_t *buf, size_t n, size_t *pos, struct wire_field *f,
    const char **why)
{
	uint64_t	key, len;
	size_t		p = *pos, k;

	if (p >= n)
		return (0);
	f->offset = p;
	if ((k = wire_get_varint(buf + p, n - p, &key)) == 0) {
		*why = "field tag is cut short";
		return (-1);
	}
	p += k;
	f->number = (uint32_t)(key >> 3);
	f->type = (int)(key & 7);
	if ((key >> 3) == 0 || (key >> 3) > 536870911) {
		*why = "field number out of range";
		return (-1);
	}
	f->data = NULL;
	f->len = 0;
	switch (f->type) {
	case WIRE_VARINT:
		if ((k = wire_get_varint(buf + p, n - p, &f->value)) == 0) {
			*why = "varint is cut short";
			return (-1);
		}
		p += k;
		break;
	case WIRE_I64:
	case WIRE_I32:
		k = f->type == WIRE_I64 ? 8 : 4;
		if (n - p < k) {
			*why = "fixed-size value is cut short";
			return (-1);
		}
		f->value = 0;
		while (k-- > 0)
			f->value = (f->value << 8) | buf[p + k];
		p += f->type == WIRE_I64 ? 8 : 4;
		break;
	case WIRE_LEN:
		if ((k = wire_get_varint(buf + p, n - p, &len)) == 0) {
			*why = "length is cut short";
			return (-1);
		}
		p += k;
		if (len > n - p) {
			*why = "length runs past the end of its container";
			return (-1);
		}
		f->data = buf + p;
		f->len = (size_t)len;
		p += (size_t)len;
		break;
	default:
		*why = "unsupported wire type (groups or invalid)";
		return (-1);
	}
	*pos = p;
	return (1);
}

/* Write v as a varint into p (room for WIRE_VARINT_MAX); return its size. */
size_t
wire_put_varint(uint8_t *p, uint64_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return (n);
}
