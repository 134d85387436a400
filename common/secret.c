#include "common/secret.h"

#include <sys/stat.h>
#include <unistd.h>

int ca_secret_file_check(int fd, const char *what, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return ca_err(CA_EUSAGE, "%s %s is not a regular file", what,
			      path);
	if (st.st_uid != geteuid())
		return ca_err(CA_EPOLICY, "%s %s is not owned by you: refused",
			      what, path);
	if ((st.st_mode & 077) != 0)
		return ca_err(CA_EPOLICY,
			      "%s %s is readable by group or others "
			      "(mode %03o): chmod 600 it",
			      what, path, (unsigned)(st.st_mode & 0777));
	return CA_OK;
}
