/* The process: hardening every tool does first, and who runs it where. */
#ifndef HSMCA_BASE_PROCESS_H
#define HSMCA_BASE_PROCESS_H

#include <pthread.h>
#include <stddef.h>

/* Harden the process: no core dumps, not dumpable, umask 077. */
void ca_harden_process(void);

/* Who runs the process, for the audit log: the effective user's name
 * ("uid N" when it has none), its uid, the host name. */
struct ca_identity {
	char user[64];
	long uid;
	char host[256];
};
void ca_process_identity(struct ca_identity *id);

/* End a helper thread that waits on cond for *flag: set it under lock,
 * wake the thread, join it. */
void ca_thread_finish(pthread_mutex_t *lock, pthread_cond_t *cond, int *flag,
		      pthread_t thread);

#endif
