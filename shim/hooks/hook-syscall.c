/* The syscall() hook: libuv sends and receives datagrams through it. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#include "hook.h"

#if defined(__x86_64__)

/*
 * The system call itself, as glibc's syscall() makes it (x86-64 Linux
 * ABI: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9); the
 * shim's own syscall() calls come here too, so it calls nothing else.
 */
static long
sys_raw(long n, const long *a)
{
	register long	r10 __asm__("r10") = a[3];
	register long	r8 __asm__("r8") = a[4];
	register long	r9 __asm__("r9") = a[5];
	long		ret;

	__asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a[0]),
	    "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9) :
	    "rcx", "r11", "memory");
	if ((unsigned long)ret > -4096UL) {
		errno = (int)-ret;
		return (-1);
	}
	return (ret);
}

/*
 * libuv (node.js, BIND's dig) calls sendmmsg and recvmmsg through
 * syscall(): those go to their hooks, which record each datagram; every
 * other number goes straight to the kernel, as glibc's would.
 */
static long
hook_syscall(long n, const long *a)
{
	if (real_resolving())
		return (sys_raw(n, a));
	switch (n) {
	case SYS_sendmmsg:
		return (sendmmsg((int)a[0], (struct mmsghdr *)a[1],
		    (unsigned int)a[2], (int)a[3]));
	case SYS_recvmmsg:
		return (recvmmsg((int)a[0], (struct mmsghdr *)a[1],
		    (unsigned int)a[2], (int)a[3], (struct timespec *)a[4]));
	default:
		return (sys_raw(n, a));
	}
}

/* Six arguments are read whatever the call, as glibc's syscall() does. */
HOOK long
syscall(long n, ...)
{
	va_list	ap;
	long	a[6];
	int	i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return (hook_syscall(n, a));
}

#endif
