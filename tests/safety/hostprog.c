/* What tests/safety/host.sh runs with and without the shim, to compare. */

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Say what failed and exit 2 (on stdout: stderr may be gone). */
static void
die(const char *what)
{
	printf("hostprog: %s failed\n", what);
	fflush(stdout);
	exit(2);
}

/* Print the open fds, as /proc/self/fd lists them, after opening one. */
static int
prog_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, dfd;

	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		die("open");
	printf("opened %d\nfds:", fd);
	if ((d = opendir("/proc/self/fd")) == NULL)
		die("opendir");
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' && atoi(de->d_name) != dfd)
			printf(" %s", de->d_name);
	}
	closedir(d);
	printf("\n");
	return (0);
}

/* Accept one connection on s and save all it sends to path. */
static void
daemon_peer(int s, const char *path)
{
	char	buf[4096];
	ssize_t	n;
	int	c, out;

	if ((c = accept(s, NULL, NULL)) == -1 ||
	    (out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(3);
	while ((n = read(c, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(3);
	close(out);
	_exit(n == 0 ? 0 : 3);
}

/*
 * A daemon that closed stderr: its next socket is fd 2, to a peer (a
 * forked child) that saves everything it receives in path.
 */
static int
prog_daemon(const char *path)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	pid_t			pid;
	int			l, s, st;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	fflush(stdout);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0)
		daemon_peer(l, path);
	close(l);
	close(STDERR_FILENO);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sin, sizeof sin) == -1)
		die("connect");
	printf("socket on fd %d\n", s);
	if (write(s, "hello\n", 6) != 6)
		die("write");
	close(s);
	if (waitpid(pid, &st, 0) == -1)
		die("waitpid");
	printf("peer exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return (0);
}

/* The bytes this process has read so far (/proc/self/io's rchar). */
static long long
rchar(void)
{
	char		 line[128];
	long long	 v = -1;
	FILE		*f;

	if ((f = fopen("/proc/self/io", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "rchar: %lld", &v) == 1)
			break;
	fclose(f);
	return (v);
}

/*
 * Copy src to dst with sendfile(2), both regular files, and say whether
 * the bytes were read once (sendfile's own reads count) or read back.
 */
static int
prog_sendfile(const char *src, const char *dst)
{
	struct stat	 st;
	long long	 before, after;
	off_t		 left;
	ssize_t		 n;
	int		 in, out;

	if ((in = open(src, O_RDONLY)) == -1 || fstat(in, &st) == -1 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die("open");
	before = rchar();
	for (left = st.st_size; left > 0; left -= n)
		if ((n = sendfile(out, in, NULL, (size_t)left)) <= 0)
			die("sendfile");
	after = rchar();
	close(in);
	if (close(out) == -1)
		die("close");
	/* /proc/self/io's own text is read too: a few bytes over. */
	printf("copied %lld bytes, read them %s\n", (long long)st.st_size,
	    after - before < st.st_size + 65536 ? "once" : "more than once");
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "fds") == 0)
		return (prog_fds());
	if (argc == 3 && strcmp(argv[1], "daemon") == 0)
		return (prog_daemon(argv[2]));
	if (argc == 4 && strcmp(argv[1], "sendfile") == 0)
		return (prog_sendfile(argv[2], argv[3]));
	printf("usage: hostprog fds | daemon OUT | sendfile SRC DST\n");
	return (2);
}
