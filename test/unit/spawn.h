/*
 * spawn.h - starts one of the project's test servers (test/servers/) for a
 * test: the server prints "port N" on stdout once it listens, and dies with
 * the test, even a crashed one (PR_SET_PDEATHSIG). Also counts a server
 * log's lines and the test's own open descriptors, and makes a loopback
 * port that never answers. Linux only, as the tests that use it.
 */
#ifndef H1C_TEST_SPAWN_H
#define H1C_TEST_SPAWN_H

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Runs argv (argv[0] the server's path) and stores the port it listens on
 * in *port. Returns the server's pid; asserts on failure. */
static inline pid_t spawn_server(const char *const *argv, int *port)
{
	int pfd[2];
	char line[64];
	ssize_t got = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got < (ssize_t)sizeof(line) - 1) {
		ssize_t r = read(pfd[0], line + got, sizeof(line) - 1 - (size_t)got);
		if (r <= 0)
			break;
		got += r;
		if (memchr(line, '\n', (size_t)got))
			break;
	}
	close(pfd[0]);
	line[got > 0 ? got : 0] = '\0';
	assert_int_equal(sscanf(line, "port %d", port), 1);
	return pid;
}

/* Counts the lines of a server's log holding a (and b, when not NULL). */
static inline int log_lines(const char *path, const char *a, const char *b)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0;

	assert_true(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/* The descriptors this process has open (-1 when /proc is not there). */
static inline int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* An IPv4 socket bound to a free loopback port (stored in *port), not
 * listening: while it is open, a connection to that port is refused. */
static inline int loopback_socket(unsigned short *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return l;
}

/* A listening IPv4 socket on a free loopback port (stored in *port). */
static inline int loopback_listener(int backlog, unsigned short *port)
{
	int l = loopback_socket(port);

	assert_int_equal(listen(l, backlog), 0);
	return l;
}

/* A loopback listener that answers no new connection: its backlog of 0 is
 * filled by one connection never accepted, so Linux drops later SYNs (a
 * host that is silent, reproducibly). Returns the listener; *filler is the
 * connection that fills it (close both), *port the port. */
static inline int silent_listener(int *filler, unsigned short *port)
{
	struct sockaddr_in sa;
	int l = loopback_listener(0, port);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(*port);
	*filler = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*filler, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return l;
}

#endif
