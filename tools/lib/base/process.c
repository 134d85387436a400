#include "base/process.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

void ca_harden_process(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
}

void ca_process_identity(struct ca_identity *id)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	uid_t uid = geteuid();

	memset(id, 0, sizeof(*id));
	id->uid = (long)uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 &&
	    found != NULL)
		snprintf(id->user, sizeof(id->user), "%s", found->pw_name);
	else
		snprintf(id->user, sizeof(id->user), "uid %ld", id->uid);
	if (gethostname(id->host, sizeof(id->host) - 1) != 0 ||
	    id->host[0] == '\0')
		snprintf(id->host, sizeof(id->host), "(unknown)");
}

void ca_thread_finish(pthread_mutex_t *lock, pthread_cond_t *cond, int *flag,
		      pthread_t thread)
{
	pthread_mutex_lock(lock);
	*flag = 1;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(lock);
	pthread_join(thread, NULL);
}
