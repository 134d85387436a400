/* runtime OUT CMD [ARG...]: run CMD (its standard streams inherited) and
 * write one line to the file OUT:
 *
 *   wall=SECONDS user=SECONDS sys=SECONDS maxrss_kb=KB status=N
 *
 * wall is measured with CLOCK_MONOTONIC around fork and wait (microsecond
 * resolution, unlike GNU time's hundredths, which a single certificate
 * needs); user, sys and maxrss come from the child's rusage. status is the
 * child's exit status (128 + signal when killed). runtime itself exits
 * with the child's status, 1 when it could not run or record it. For the
 * benchmarks (scripts/bench-leaf). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st, status;

	if (argc < 3) {
		fprintf(stderr, "usage: runtime OUT CMD [ARG...]\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (out == NULL) {
		fprintf(stderr, "runtime: cannot write %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "runtime: fork: %s\n", strerror(errno));
		fclose(out);
		return 1;
	}
	if (pid == 0) {
		fclose(out);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "runtime: cannot run %s: %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "runtime: wait: %s\n", strerror(errno));
			fclose(out);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	fprintf(out, "wall=%.6f user=%.6f sys=%.6f maxrss_kb=%ld status=%d\n",
		(double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		seconds(&ru.ru_utime), seconds(&ru.ru_stime), ru.ru_maxrss,
		status);
	if (fclose(out) != 0) {
		fprintf(stderr, "runtime: cannot write %s\n", argv[1]);
		return 1;
	}
	return status;
}
