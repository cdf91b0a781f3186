/* Choosing connections with a pcap-filter(7) expression. */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "frame.h"
#include "pcap-out.h"

/*
 * Compile expr (NULL or empty: every connection) for captures of link
 * type link (FRAME_LINK_*), as tcpdump would for such a capture; pcap's
 * message in errbuf (PCAP_ERRBUF_SIZE) on failure.
 */
int
filter_compile(struct filter *f, const char *expr, int link, char *errbuf)
{
	pcap_t	*p;
	int	 r;

	memset(f, 0, sizeof *f);
	f->link = link;
	if (expr == NULL || expr[0] == '\0')
		return (0);
	p = pcap_open_dead(link == FRAME_LINK_RAW ? DLT_RAW : DLT_EN10MB,
	    PCAP_OUT_SNAPLEN);
	if (p == NULL) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "cannot set up libpcap");
		return (-1);
	}
	r = pcap_compile(p, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (r == -1)
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
	else
		f->set = 1;
	pcap_close(p);
	return (r == -1 ? -1 : 0);
}

/*
 * Does the stream match? The filter sees the stream's first packet: the
 * SYN its client sent, or for UDP a datagram from the side that began,
 * built as the capture will show them (addresses, ports, link type).
 */
int
filter_stream(const struct filter *f, const struct synth_stream *s)
{
	struct pcap_pkthdr	h;
	struct frame_tcp	syn;
	uint8_t			buf[FRAME_HEADROOM];
	size_t			n;

	if (!f->set)
		return (1);
	memset(&syn, 0, sizeof syn);
	syn.seq = s->side[0].next;
	syn.flags = TCP_SYN;
	syn.window = 65535;
	if (s->udp)
		n = frame_udp(buf, f->link, &s->side[0].ep, &s->side[1].ep,
		    s->side[0].ipid, NULL, 0, 0);
	else
		n = frame_tcp(buf, f->link, &s->side[0].ep, &s->side[1].ep,
		    s->side[0].ipid, &syn, NULL, 0, 0);
	memset(&h, 0, sizeof h);
	h.caplen = h.len = (bpf_u_int32)n;
	return (pcap_offline_filter(&f->prog, &h, buf) != 0);
}

/* Free the compiled filter. */
void
filter_free(struct filter *f)
{
	if (f->set)
		pcap_freecode(&f->prog);
	memset(f, 0, sizeof *f);
}
