/* Classic BPF programs: read from tcpdump -ddd's numbers, run on a packet. */
#ifndef TAPSHIM_BPF_H
#define TAPSHIM_BPF_H

#include <linux/filter.h>

#include <stdint.h>

#define BPF_PROG_MAX		BPF_MAXINSNS	/* 4096, as the kernel's */
#define BPF_ERRBUF_SIZE		128

struct bpf_prog {
	unsigned int		n;
	struct sock_filter	insn[BPF_PROG_MAX];
};

int		bpf_parse(struct bpf_prog *, const char *, char *);
uint32_t	bpf_run(const struct bpf_prog *, const uint8_t *, uint32_t);

#endif
