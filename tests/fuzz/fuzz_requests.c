/* libFuzzer target for the request layer: any two byte streams, any cut. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "requests.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	fuzz_sum;

/* Read every field of a record, so that the sanitizers see a bad one. */
static void
fuzz_emit(const struct req_record *r, void *arg)
{
	size_t	i;

	(void)arg;
	fuzz_sum += strlen(r->method) + strlen(r->authority) + strlen(r->path) +
	    strlen(r->scheme) + strlen(r->error) + (size_t)r->status;
	for (i = 0; i < r->reqh.n; i++)
		fuzz_sum += strlen(r->reqh.v[i].name) +
		    strlen(r->reqh.v[i].value);
	for (i = 0; i < r->resph.n; i++)
		fuzz_sum += strlen(r->resph.v[i].name) +
		    strlen(r->resph.v[i].value);
	if (r->grpc_status != NULL)
		fuzz_sum += strlen(r->grpc_status);
}

static void
fuzz_notice(const char *file, uint64_t id, size_t off, const char *why,
    void *arg)
{
	(void)file;
	(void)id;
	(void)arg;
	fuzz_sum += off + strlen(why);
}

/*
 * The input: one byte of connection flags (1: a server's trace, 2: ALPN
 * h2, 4: TLS plaintext), then events: a kind byte (low 2 bits: write,
 * read, closed, end of the reads; 4: the trace did not keep all of it),
 * a 16-bit length and that many bytes.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_info	 ti;
	struct trace_event	 ev;
	struct req_ctx		*ctx;
	size_t			 off = 1, n;

	if (size < 1)
		return (0);
	memset(&ti, 0, sizeof ti);
	ti.trace_id = 1;
	ti.has_conn = 1;
	ti.conn.role = (data[0] & 1) ? TRACE_ROLE_SERVER : TRACE_ROLE_CLIENT;
	if (data[0] & 2)
		memcpy(ti.conn.alpn, "h2", 3);
	if (data[0] & 4)
		ti.conn.tls = 1;
	if ((ctx = req_new("fuzz", fuzz_emit, fuzz_notice, NULL)) == NULL)
		return (0);
	while (off + 3 <= size) {
		memset(&ev, 0, sizeof ev);
		ev.offset = off;
		ev.has_time = 1;
		ev.sec = 1800000000;
		ev.nsec = (uint32_t)off;
		n = (size_t)data[off + 1] << 8 | data[off + 2];
		if (n > size - off - 3)
			n = size - off - 3;
		switch (data[off] & 3) {
		case 0:
			ev.kind = TRACE_EV_WRITE;
			break;
		case 1:
			ev.kind = TRACE_EV_READ;
			break;
		case 2:
			ev.kind = TRACE_EV_CLOSED;
			break;
		case 3:
			ev.kind = TRACE_EV_READ;
			ev.end_stream = 1;
			break;
		}
		ev.data = data + off + 3;
		ev.caplen = n;
		ev.len = n + ((data[off] & 4) ? 100 : 0);
		ev.truncated = (data[off] & 4) != 0;
		req_event(ctx, &ti, &ev);
		off += 3 + n;
	}
	req_free(ctx);
	return (0);
}
