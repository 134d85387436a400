#include "base/process.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

void ca_harden_process(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}
