/* Classic BPF programs: read from tcpdump -ddd's numbers, run on a packet. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf.h"

/* Load a big-endian 32- or 16-bit word (network order, as BPF loads). */
static uint32_t
bpf_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint32_t
bpf_get16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8 | p[1]);
}

/* Is a load's mode and size one classic BPF has (for BPF_LD or BPF_LDX)? */
static int
bpf_load_ok(const struct sock_filter *f)
{
	int	ld = BPF_CLASS(f->code) == BPF_LD;

	switch (BPF_MODE(f->code)) {
	case BPF_IMM:
	case BPF_LEN:
		return (1);
	case BPF_MEM:
		return (f->k < BPF_MEMWORDS);
	case BPF_ABS:
	case BPF_IND:
		return (ld && BPF_SIZE(f->code) != 0x18);
	case BPF_MSH:
		return (!ld && BPF_SIZE(f->code) == BPF_B);
	}
	return (0);
}

/* Is instruction i well formed, its jumps and memory inside bounds? */
static int
bpf_insn_ok(const struct bpf_prog *bp, unsigned int i)
{
	const struct sock_filter	*f = &bp->insn[i];
	unsigned int			 left = bp->n - i - 1;

	switch (BPF_CLASS(f->code)) {
	case BPF_LD:
	case BPF_LDX:
		return (bpf_load_ok(f));
	case BPF_ST:
	case BPF_STX:
		return (f->k < BPF_MEMWORDS);
	case BPF_ALU:
		if (BPF_OP(f->code) == BPF_DIV || BPF_OP(f->code) == BPF_MOD)
			return (BPF_SRC(f->code) != BPF_K || f->k != 0);
		return (BPF_OP(f->code) <= BPF_XOR);
	case BPF_JMP:
		if (BPF_OP(f->code) == BPF_JA)
			return (f->k < left);
		return (BPF_OP(f->code) <= BPF_JSET && f->jt < left &&
		    f->jf < left);
	case BPF_RET:
		return (BPF_RVAL(f->code) == BPF_K ||
		    BPF_RVAL(f->code) == BPF_A);
	case BPF_MISC:
		return (BPF_MISCOP(f->code) == BPF_TAX ||
		    BPF_MISCOP(f->code) == BPF_TXA);
	}
	return (0);
}

/*
 * Read a program written as tcpdump -ddd prints it: the count, then
 * "code jt jf k" per instruction, numbers separated by spaces, commas or
 * newlines (xt_bpf's form). Checks it as the kernel would: -1 with
 * errbuf (BPF_ERRBUF_SIZE) saying what is wrong.
 */
int
bpf_parse(struct bpf_prog *bp, const char *text, char *errbuf)
{
	unsigned long	 v[4];
	unsigned int	 i, k;
	const char	*p = text;
	char		*end;

	memset(bp, 0, sizeof bp->n);
	errno = 0;
	v[0] = strtoul(p, &end, 10);
	if (end == p || errno != 0 || v[0] == 0 || v[0] > BPF_PROG_MAX) {
		snprintf(errbuf, BPF_ERRBUF_SIZE, "not a BPF program: it must "
		    "start with its instruction count (1 to %d), as tcpdump "
		    "-ddd prints it", BPF_PROG_MAX);
		return (-1);
	}
	bp->n = (unsigned int)v[0];
	for (i = 0; i < bp->n; i++) {
		for (k = 0; k < 4; k++) {
			p = end + strspn(end, " \t\r\n,");
			v[k] = strtoul(p, &end, 10);
			if (end == p || errno != 0 || v[k] > (k == 3 ?
			    0xffffffffUL : k == 0 ? 0xffffUL : 0xffUL)) {
				snprintf(errbuf, BPF_ERRBUF_SIZE, "instruction "
				    "%u of %u: not 4 numbers (code jt jf k)",
				    i + 1, bp->n);
				return (-1);
			}
		}
		bp->insn[i].code = (uint16_t)v[0];
		bp->insn[i].jt = (uint8_t)v[1];
		bp->insn[i].jf = (uint8_t)v[2];
		bp->insn[i].k = (uint32_t)v[3];
	}
	if (end[strspn(end, " \t\r\n,")] != '\0') {
		snprintf(errbuf, BPF_ERRBUF_SIZE, "more than the %u "
		    "instructions its count gives", bp->n);
		return (-1);
	}
	for (i = 0; i < bp->n; i++) {
		if (!bpf_insn_ok(bp, i)) {
			snprintf(errbuf, BPF_ERRBUF_SIZE, "instruction %u of %u "
			    "is not valid classic BPF", i + 1, bp->n);
			return (-1);
		}
	}
	if (BPF_CLASS(bp->insn[bp->n - 1].code) != BPF_RET) {
		snprintf(errbuf, BPF_ERRBUF_SIZE, "the last instruction is not "
		    "a return");
		return (-1);
	}
	return (0);
}

/* A load from the packet: the value, or -1 when it falls outside. */
static int64_t
bpf_load(const struct sock_filter *f, uint32_t x, const uint8_t *pkt,
    uint32_t len)
{
	uint64_t	at = f->k;

	if (BPF_MODE(f->code) == BPF_IND)
		at += x;
	switch (BPF_SIZE(f->code)) {
	case BPF_W:
		return (at + 4 <= len ? (int64_t)bpf_get32(pkt + at) : -1);
	case BPF_H:
		return (at + 2 <= len ? (int64_t)bpf_get16(pkt + at) : -1);
	default:
		return (at + 1 <= len ? (int64_t)pkt[at] : -1);
	}
}

/* An ALU operation on a and v; -1 for a division by zero. */
static int64_t
bpf_alu(uint16_t code, uint32_t a, uint32_t v)
{
	switch (BPF_OP(code)) {
	case BPF_ADD:	return (a + v);
	case BPF_SUB:	return (a - v);
	case BPF_MUL:	return (a * v);
	case BPF_DIV:	return (v == 0 ? -1 : (int64_t)(a / v));
	case BPF_MOD:	return (v == 0 ? -1 : (int64_t)(a % v));
	case BPF_AND:	return (a & v);
	case BPF_OR:	return (a | v);
	case BPF_XOR:	return (a ^ v);
	case BPF_LSH:	return (v < 32 ? a << v : 0);
	case BPF_RSH:	return (v < 32 ? a >> v : 0);
	default:	return ((uint32_t)-a);	/* BPF_NEG */
	}
}

/* Does the conditional jump f take its true branch? */
static int
bpf_cond(const struct sock_filter *f, uint32_t a, uint32_t v)
{
	switch (BPF_OP(f->code)) {
	case BPF_JEQ:	return (a == v);
	case BPF_JGT:	return (a > v);
	case BPF_JGE:	return (a >= v);
	default:	return ((a & v) != 0);	/* BPF_JSET */
	}
}

/*
 * Run a checked program on the len bytes of a packet (all captured):
 * what it returns, 0 meaning "no match", as pcap_offline_filter() does.
 */
uint32_t
bpf_run(const struct bpf_prog *bp, const uint8_t *pkt, uint32_t len)
{
	const struct sock_filter	*f;
	uint32_t			 a = 0, x = 0, mem[BPF_MEMWORDS];
	unsigned int			 pc;
	int64_t				 v;

	memset(mem, 0, sizeof mem);
	for (pc = 0; pc < bp->n; pc++) {
		f = &bp->insn[pc];
		switch (BPF_CLASS(f->code)) {
		case BPF_RET:
			return (BPF_RVAL(f->code) == BPF_A ? a : f->k);
		case BPF_LD:
		case BPF_LDX:
			switch (BPF_MODE(f->code)) {
			case BPF_IMM:	v = f->k; break;
			case BPF_LEN:	v = len; break;
			case BPF_MEM:	v = mem[f->k]; break;
			case BPF_MSH:
				if (f->k >= len)
					return (0);
				v = (uint32_t)(pkt[f->k] & 0xf) << 2;
				break;
			default:
				if ((v = bpf_load(f, x, pkt, len)) == -1)
					return (0);
			}
			if (BPF_CLASS(f->code) == BPF_LD)
				a = (uint32_t)v;
			else
				x = (uint32_t)v;
			break;
		case BPF_ST:
			mem[f->k] = a;
			break;
		case BPF_STX:
			mem[f->k] = x;
			break;
		case BPF_ALU:
			v = bpf_alu(f->code, a, BPF_SRC(f->code) == BPF_X ?
			    x : f->k);
			if (v == -1 && (BPF_OP(f->code) == BPF_DIV ||
			    BPF_OP(f->code) == BPF_MOD))
				return (0);
			a = (uint32_t)v;
			break;
		case BPF_JMP:
			if (BPF_OP(f->code) == BPF_JA)
				pc += f->k;
			else
				pc += bpf_cond(f, a, BPF_SRC(f->code) == BPF_X ?
				    x : f->k) ? f->jt : f->jf;
			break;
		default:	/* BPF_MISC */
			if (BPF_MISCOP(f->code) == BPF_TAX)
				x = a;
			else
				a = x;
		}
	}
	return (0);
}
