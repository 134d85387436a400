/* Process hardening every tool does first. */
#ifndef HSMCA_BASE_PROCESS_H
#define HSMCA_BASE_PROCESS_H

/* Harden the process: no core dumps, not dumpable, umask 077. */
void ca_harden_process(void);

#endif
