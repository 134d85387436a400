/* Setting a TBS's marks (see x509/tbs.h): the lint step (lint/) and the
 * approval step (quorum/) only; tests/check-layers refuses this include
 * anywhere else. */
#ifndef HSMCA_X509_TBSMARK_H
#define HSMCA_X509_TBSMARK_H

#include "x509/tbs.h"

/* Mark t as having passed step. body_mac as for ca_tbs_marked(). */
int ca_tbs_mark(struct ca_tbs *t, enum ca_tbs_step step,
		const unsigned char *body_mac) CA_WUR;

#endif
