/* Unit tests (TAP) for output files (tools/lib/out/file.c): never
 * overwritten without force, never half-written. fsync, rename and
 * renameat2 are interposed here (this executable's definitions win over
 * libc's for the library linked into it) to see the order of the steps
 * and to make them fail. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"
#include "out/file.h"
#include "tap.h"

/* ---------------------------------------------------------------------- */
/* Interposed system calls: a log of what happened, and faults on demand  */

static char events[512];
static int fail_fsync, noreplace_unsupported;

static void event(const char *what)
{
	size_t n = strlen(events);

	snprintf(events + n, sizeof(events) - n, "%s%s", n ? " " : "", what);
}

int fsync(int fd)
{
	struct stat st;

	event(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? "fsync-dir"
							 : "fsync-file");
	if (fail_fsync) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int rename(const char *from, const char *to)
{
	event("rename");
	return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to,
	      unsigned int flags)
{
	event(flags & RENAME_NOREPLACE ? "rename-noreplace" : "renameat2");
	if (noreplace_unsupported) {
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_renameat2, fromfd, from, tofd, to, flags);
}

/* ---------------------------------------------------------------------- */

/* Names in the scratch directory holding ".tmp-" (left-over temps). */
static int temps(void)
{
	DIR *d = opendir(fx_dir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += strstr(e->d_name, ".tmp-") != NULL;
	if (d != NULL)
		closedir(d);
	return n;
}

static int has_content(const char *path, const char *want, size_t len)
{
	size_t n = 0;
	char *got = fx_slurp(path, &n);
	int same = got != NULL && n == len && memcmp(got, want, len) == 0;

	free(got);
	return same;
}

static int mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void test_write(void)
{
	const char *p = fx_path("ca.crt");
	struct stat before, after;

	events[0] = '\0';
	ok(ca_out_write(p, "first", 5, 0, 0644) == CA_OK &&
	       has_content(p, "first", 5),
	   "a new file is written");
	ok(fx_streq(events, "fsync-file rename-noreplace fsync-dir"),
	   "steps: fsync the temp, rename it without replacing, fsync the "
	   "directory (%s)",
	   events);
	ok(mode_of(p) == 0644, "with the mode asked for");
	ok(temps() == 0, "no temporary file left");
	ca_err_clear();
	ok(ca_out_write(p, "second", 6, 0, 0644) == CA_EUSAGE &&
	       fx_err("already exists: refusing to overwrite (use --force to "
		      "replace it)") &&
	       fx_err(p),
	   "an existing file is refused without force, naming it");
	ok(has_content(p, "first", 5) && temps() == 0,
	   "the refused write left the file and no temp behind");
	stat(p, &before);
	events[0] = '\0';
	ok(ca_out_write(p, "second", 6, 1, 0600) == CA_OK &&
	       has_content(p, "second", 6) && mode_of(p) == 0600,
	   "force replaces it");
	stat(p, &after);
	ok(before.st_ino != after.st_ino &&
	       fx_streq(events, "fsync-file rename fsync-dir"),
	   "by renaming a new file over it, not rewriting it in place");
	ok(temps() == 0, "no temporary file left after force");
	events[0] = '\0';
	ok(ca_out_write_nosync(fx_path("many.pem"), "x", 1, 0, 0600) == CA_OK &&
	       has_content(fx_path("many.pem"), "x", 1) &&
	       fx_streq(events, "rename-noreplace"),
	   "the no-sync variant writes without fsync");
	ok(ca_out_write_nosync(fx_path("many.pem"), "y", 1, 0, 0600) ==
		   CA_EUSAGE &&
	       has_content(fx_path("many.pem"), "x", 1),
	   "the no-sync variant refuses an existing file too");
}

static void test_check(void)
{
	ok(ca_out_check(fx_path("nothing-here"), 0) == CA_OK,
	   "check: a free name passes");
	ok(ca_out_check(fx_path("ca.crt"), 0) == CA_EUSAGE,
	   "check: an existing name is refused");
	ok(ca_out_check(fx_path("ca.crt"), 1) == CA_OK,
	   "check: an existing name passes with force");
	ok(symlink(fx_path("nowhere"), fx_path("dangling")) == 0 &&
	       ca_out_check(fx_path("dangling"), 0) == CA_EUSAGE,
	   "check: a dangling symlink counts as existing");
	ok(ca_out_write(fx_path("dangling"), "z", 1, 0, 0600) == CA_EUSAGE &&
	       !exists(fx_path("nowhere")),
	   "a write is not sent through a dangling symlink");
}

static void test_stream(void)
{
	static char chunk[7000];
	const char *p = fx_path("big.crl");
	ca_outfile *f = NULL;
	char *all = malloc(7000 * 30);
	int i, rc = CA_OK;

	for (i = 0; i < 7000; i++)
		chunk[i] = (char)(i * 7);
	ok(ca_out_open(p, 0, 0600, &f) == CA_OK && f != NULL, "stream: opened");
	for (i = 0; f != NULL && all != NULL && i < 30 && rc == CA_OK; i++) {
		rc = ca_out_put(f, chunk, sizeof(chunk));
		memcpy(all + i * 7000, chunk, sizeof(chunk));
	}
	ok(rc == CA_OK && !exists(p) && temps() == 1,
	   "stream: while writing, only a temp exists, not the name");
	ok(f != NULL && ca_out_commit(f) == CA_OK && all != NULL &&
	       has_content(p, all, 7000 * 30) && temps() == 0,
	   "stream: 210,000 bytes in 7,000-byte pieces, committed whole");
	f = NULL;
	ok(ca_out_open(fx_path("aborted.crl"), 0, 0600, &f) == CA_OK &&
	       ca_out_put(f, chunk, 100) == CA_OK,
	   "stream: another one opened");
	ca_out_abort(f);
	ok(!exists(fx_path("aborted.crl")) && temps() == 0,
	   "stream: abort leaves neither the name nor a temp");
	free(all);
}

/* Another writer creates the name between open and commit. */
static void test_race(void)
{
	const char *p = fx_path("race.crt");
	ca_outfile *f = NULL;

	ok(ca_out_open(p, 0, 0600, &f) == CA_OK &&
	       ca_out_put(f, "mine", 4) == CA_OK &&
	       fx_write(p, "theirs", 6, 0600) == 0,
	   "race: someone else creates the name after the check");
	ca_err_clear();
	ok(f != NULL && ca_out_commit(f) == CA_EUSAGE &&
	       fx_err("already exists"),
	   "race: the commit refuses to replace it");
	ok(has_content(p, "theirs", 6) && temps() == 0,
	   "race: their file is intact and no temp is left");
	noreplace_unsupported = 1;
	f = NULL;
	ok(unlink(p) == 0 && ca_out_open(p, 0, 0600, &f) == CA_OK &&
	       fx_write(p, "again", 5, 0600) == 0 &&
	       ca_out_commit(f) == CA_EUSAGE && has_content(p, "again", 5),
	   "race: without RENAME_NOREPLACE, link(2) refuses it as well");
	ok(ca_out_write(fx_path("linked.crt"), "L", 1, 0, 0600) == CA_OK &&
	       has_content(fx_path("linked.crt"), "L", 1) && temps() == 0,
	   "without RENAME_NOREPLACE a new file is still written");
	noreplace_unsupported = 0;
}

/* A temp name already taken is skipped (O_EXCL), never truncated. */
static void test_temp_taken(void)
{
	char decoy[600];

	snprintf(decoy, sizeof(decoy), "%s.tmp-%ld-0", fx_path("out.crt"),
		 (long)getpid());
	ok(fx_write(decoy, "decoy", 5, 0600) == 0 &&
	       ca_out_write(fx_path("out.crt"), "real", 4, 0, 0600) == CA_OK &&
	       has_content(fx_path("out.crt"), "real", 4),
	   "a taken temp name: the next one is used");
	ok(has_content(decoy, "decoy", 5), "the file under the taken temp "
					   "name is untouched");
	unlink(decoy);
}

/* Failures leave no partial file under the name. */
static void test_failures(void)
{
	static char big[100000];
	struct rlimit old, small = {4096, 4096};
	const char *p = fx_path("fails.crt");

	fail_fsync = 1;
	ca_err_clear();
	ok(ca_out_write(p, "data", 4, 0, 0600) == CA_EIO &&
	       fx_err("cannot sync") && !exists(p) && temps() == 0,
	   "fsync fails: an error, no file, no temp");
	fail_fsync = 0;
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	ok(setrlimit(RLIMIT_FSIZE, &small) == 0, "limit file size to 4 KiB");
	ca_err_clear();
	ok(ca_out_write(p, big, sizeof(big), 0, 0600) == CA_EIO &&
	       fx_err("cannot write") && fx_err(p),
	   "a write that runs out of room: an error naming the file");
	setrlimit(RLIMIT_FSIZE, &old);
	ok(!exists(p) && temps() == 0,
	   "no partial file under the name, no temp");
	ca_err_clear();
	ok(ca_out_write(fx_path("missing/dir.crt"), "x", 1, 0, 0600) ==
		   CA_EIO &&
	       fx_err("cannot create"),
	   "a missing directory: cannot create");
	ok(mkdir(fx_path("adir"), 0700) == 0 &&
	       ca_out_write(fx_path("adir"), "x", 1, 1, 0600) == CA_EIO &&
	       mode_of(fx_path("adir")) == 0700 && temps() == 0,
	   "a directory is not replaced, even with force");
	ok(ca_fsync_dir(fx_path("ca.crt")) == CA_OK,
	   "fsync of an existing directory");
	ca_err_clear();
	ok(ca_fsync_dir(fx_path("missing/x")) == CA_EIO &&
	       fx_err("cannot sync the directory"),
	   "fsync of a missing directory fails");
}

static void test_bad_arguments(void)
{
	char cwd[512];

	ok(getcwd(cwd, sizeof(cwd)) != NULL && chdir(fx_dir) == 0,
	   "work in the scratch directory");
	ok(ca_out_write("", "x", 1, 0, 0600) < 0 && temps() == 0,
	   "an empty name fails and leaves no temp");
	ok(ca_out_write(fx_path("empty.crt"), "", 0, 0, 0600) == CA_OK &&
	       has_content(fx_path("empty.crt"), "", 0),
	   "no data: an empty file");
	ok(chdir(cwd) == 0, "back");
}

int main(void)
{
	fx_mkdir("outfile");
	umask(022);
	test_write();
	test_check();
	test_stream();
	test_race();
	test_temp_taken();
	test_failures();
	test_bad_arguments();
	fx_rmdir();
	return tap_done();
}
