/* Warnings about programs LD_PRELOAD cannot see into, before running them. */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execcheck.h"
#include "msg.h"

#define EXECCHECK_SHSTR_MAX	(64 * 1024)	/* section names we read */

/* Find prog as execvp(3) would: a path with a slash, else along $PATH. */
int
execcheck_find(const char *prog, char *out, size_t size)
{
	const char	*path = getenv("PATH"), *p, *end;
	size_t		 len;

	if (strchr(prog, '/') != NULL) {
		if (snprintf(out, size, "%s", prog) >= (int)size)
			return (-1);
		return (access(out, F_OK));
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (snprintf(out, size, "%.*s%s%s", (int)len, p, len ? "/" : "",
		    prog) < (int)size && access(out, X_OK) == 0)
			return (0);
		if (end == NULL)
			return (-1);
	}
}

/* Does the 64-bit ELF file fd have a section of one of the given names? */
static int
elf_has_section(int fd, const Elf64_Ehdr *eh, const char *const *names)
{
	Elf64_Shdr	 sh;
	char		*strs;
	size_t		 i, k, size;
	int		 found = 0;

	if (eh->e_shentsize != sizeof sh || eh->e_shstrndx >= eh->e_shnum ||
	    pread(fd, &sh, sizeof sh, (off_t)(eh->e_shoff +
	    (uint64_t)eh->e_shstrndx * sizeof sh)) != (ssize_t)sizeof sh)
		return (0);
	size = sh.sh_size < EXECCHECK_SHSTR_MAX ? sh.sh_size :
	    EXECCHECK_SHSTR_MAX;
	if ((strs = calloc(1, size + 1)) == NULL ||
	    pread(fd, strs, size, (off_t)sh.sh_offset) != (ssize_t)size) {
		free(strs);
		return (0);
	}
	for (i = 0; i < eh->e_shnum && !found; i++) {
		if (pread(fd, &sh, sizeof sh, (off_t)(eh->e_shoff +
		    i * sizeof sh)) != (ssize_t)sizeof sh)
			break;
		for (k = 0; names[k] != NULL && sh.sh_name < size; k++)
			found |= strcmp(strs + sh.sh_name, names[k]) == 0;
	}
	free(strs);
	return (found);
}

/* Has the 64-bit ELF file fd a PT_INTERP header (a dynamic loader)? */
static int
elf_is_dynamic(int fd, const Elf64_Ehdr *eh)
{
	Elf64_Phdr	ph;
	size_t		i;

	for (i = 0; i < eh->e_phnum; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh->e_phoff +
		    i * sizeof ph)) != (ssize_t)sizeof ph)
			return (1);	/* unreadable: say nothing */
		if (ph.p_type == PT_INTERP)
			return (1);
	}
	return (0);
}

/*
 * Warn about an ELF program that is static, or Go's. Returns its class:
 * EXECCHECK_32 or EXECCHECK_64 (the library of that class is the one
 * to preload), EXECCHECK_UNKNOWN when it is no ELF file.
 */
static int
check_elf(const char *path, int fd)
{
	static const char *const	 go[] = { ".note.go.buildid",
					    ".go.buildinfo", ".gopclntab",
					    NULL };
	Elf64_Ehdr			 eh;

	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return (EXECCHECK_UNKNOWN);
	if (eh.e_ident[EI_CLASS] == ELFCLASS32)
		return (EXECCHECK_32);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return (EXECCHECK_UNKNOWN);
	if (!elf_is_dynamic(fd, &eh))
		msg_err("warning: %s is statically linked: LD_PRELOAD cannot "
		    "trace it", path);
	else if (elf_has_section(fd, &eh, go))
		msg_err("warning: %s is a Go program: Go makes its own system "
		    "calls, which LD_PRELOAD does not see", path);
	return (EXECCHECK_64);
}

/*
 * Warn about a program the loader runs in secure mode (AT_SECURE). File
 * capabilities do not make root's run secure (it has them all already):
 * no warning for root.
 */
static void
check_secure(const char *path, const struct stat *st)
{
	if ((st->st_mode & S_ISUID) && st->st_uid != geteuid())
		msg_err("warning: %s is setuid: the dynamic loader ignores "
		    "LD_PRELOAD for it", path);
	else if ((st->st_mode & S_ISGID) && st->st_gid != getegid())
		msg_err("warning: %s is setgid: the dynamic loader ignores "
		    "LD_PRELOAD for it", path);
	else if (geteuid() != 0 &&
	    getxattr(path, "security.capability", NULL, 0) > 0)
		msg_err("warning: %s has file capabilities: the dynamic loader "
		    "ignores LD_PRELOAD for it", path);
}

/*
 * Warn, on stderr, when LD_PRELOAD cannot trace the program at path:
 * static, setuid or setgid (to another user), file capabilities, Go. A
 * script is judged by its interpreter, one level down, as well as by
 * itself. Returns the ELF class (EXECCHECK_32, EXECCHECK_64), or
 * EXECCHECK_UNKNOWN.
 */
int
execcheck_warn(const char *path)
{
	char		buf[PATH_MAX + 2], interp[PATH_MAX];
	struct stat	st;
	ssize_t		n;
	int		fd, r = EXECCHECK_UNKNOWN;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (EXECCHECK_UNKNOWN);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		check_secure(path, &st);
		n = pread(fd, buf, sizeof buf - 1, 0);
		if (n > 2 && buf[0] == '#' && buf[1] == '!') {
			buf[n] = '\0';
			if (sscanf(buf + 2, " %4095[^ \t\n]", interp) == 1 &&
			    strcmp(interp, path) != 0) {
				close(fd);
				if ((fd = open(interp, O_RDONLY | O_CLOEXEC)) ==
				    -1)
					return (EXECCHECK_UNKNOWN);
				path = interp;
				/* A setuid interpreter runs the script secure. */
				if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
					check_secure(path, &st);
			}
		}
		r = check_elf(path, fd);
	}
	close(fd);
	return (r);
}
