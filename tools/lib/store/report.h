/* hsmca-audit report: issued, revoked and soon-expiring certificates. */
#ifndef HSMCA_STORE_REPORT_H
#define HSMCA_STORE_REPORT_H

#include <stdio.h>

#include "common/err.h"
#include "store/store.h"

/* expiring_days < 0: issued and revoked certificates; else only those
 * valid and not revoked that expire within that many days (honouring
 * notify_expiry). Renewed certificates are marked (superseded_by). json:
 * one JSON object. */
int ca_report(ca_store *st, long expiring_days, int json, FILE *out) CA_WUR;

#endif
