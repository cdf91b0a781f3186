/* A conversion of traces into a capture, once the command line is read. */
#ifndef TAPSHIM_CONVERT_H
#define TAPSHIM_CONVERT_H

#include <stddef.h>
#include <stdint.h>

/* What to make: tap2pcap's options. */
struct convert {
	const char	*out;		/* the capture; - for stdout */
	char		*expr;		/* the filter, NULL for none */
	uint64_t	 max_bytes;	/* -C, in bytes; 0: one file */
	unsigned int	 max_files;	/* -W */
	int		 progress;	/* 1 on, 0 off, -1 on a terminal */
	int		 link;		/* FRAME_LINK_* */
	size_t		 mss;
	int		 mss_set;
	int		 both_ends;
	int		 quiet;
	int		 strict;	/* a cut or unfinished trace is an error */
	const char	*decode_as;	/* --decode-as FILE, or NULL */
	int		 starttls_omit;	/* --starttls-omit */
	int		 format;	/* CONVERT_* */
	const char	*keylog;	/* pcapng: the key log to embed */
};

#define CONVERT_AUTO	0	/* pcapng for a .pcapng name, else pcap */
#define CONVERT_PCAP	1
#define CONVERT_PCAPNG	2

int	convert_run(const struct convert *, char *const *, unsigned int);

#endif
