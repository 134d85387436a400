/* libpq, loaded when a store first needs it.
 *
 * A tool that never meets a PostgreSQL store must not pay for libpq at
 * start-up: it pulls in GnuTLS, Kerberos and LDAP, which at load time cost
 * more than every other library the tools link together. So nothing links
 * libpq; the first PostgreSQL store (or a caller that asks) loads
 * libpq.so.5 and resolves the functions below, and the names libpq-fe.h
 * declares are redirected to them. Include this file instead of
 * libpq-fe.h. */
#ifndef HSMCA_STORE_PQ_H
#define HSMCA_STORE_PQ_H

#include <libpq-fe.h>

#include "common/err.h"

/* Every libpq function the tools call. */
#define CA_PQ_FUNCS(X)                                                         \
	X(PQcancel)                                                            \
	X(PQclear)                                                             \
	X(PQcmdTuples)                                                         \
	X(PQconnectdb)                                                         \
	X(PQconnectdbParams)                                                   \
	X(PQconnectionNeedsPassword)                                           \
	X(PQconninfoFree)                                                      \
	X(PQconninfoParse)                                                     \
	X(PQerrorMessage)                                                      \
	X(PQexec)                                                              \
	X(PQexecPrepared)                                                      \
	X(PQfinish)                                                            \
	X(PQfreeCancel)                                                        \
	X(PQgetCancel)                                                         \
	X(PQgetisnull)                                                         \
	X(PQgetResult)                                                         \
	X(PQgetvalue)                                                          \
	X(PQntuples)                                                           \
	X(PQprepare)                                                           \
	X(PQputCopyData)                                                       \
	X(PQputCopyEnd)                                                        \
	X(PQresultErrorField)                                                  \
	X(PQresultErrorMessage)                                                \
	X(PQresultStatus)                                                      \
	X(PQsendQueryPrepared)                                                 \
	X(PQsetNoticeProcessor)                                                \
	X(PQsetSingleRowMode)                                                  \
	X(PQstatus)                                                            \
	X(PQtransactionStatus)

/* Declared before the names below are redirected: each field has the type
 * of the function libpq-fe.h declares. */
struct ca_pq {
#define CA_PQ_FIELD(f) __typeof__(f) *f_##f;
	CA_PQ_FUNCS(CA_PQ_FIELD)
#undef CA_PQ_FIELD
};

/* The loaded functions: valid after ca_pq_load returned CA_OK. */
extern struct ca_pq ca_pq;

/* Load libpq once (thread-safe); CA_EUSAGE with the loader's reason when
 * it is not installed. */
int ca_pq_load(void) CA_WUR;

#define PQcancel		  ca_pq.f_PQcancel
#define PQclear			  ca_pq.f_PQclear
#define PQcmdTuples		  ca_pq.f_PQcmdTuples
#define PQconnectdb		  ca_pq.f_PQconnectdb
#define PQconnectdbParams	  ca_pq.f_PQconnectdbParams
#define PQconnectionNeedsPassword ca_pq.f_PQconnectionNeedsPassword
#define PQconninfoFree		  ca_pq.f_PQconninfoFree
#define PQconninfoParse		  ca_pq.f_PQconninfoParse
#define PQerrorMessage		  ca_pq.f_PQerrorMessage
#define PQexec			  ca_pq.f_PQexec
#define PQexecPrepared		  ca_pq.f_PQexecPrepared
#define PQfinish		  ca_pq.f_PQfinish
#define PQfreeCancel		  ca_pq.f_PQfreeCancel
#define PQgetCancel		  ca_pq.f_PQgetCancel
#define PQgetisnull		  ca_pq.f_PQgetisnull
#define PQgetResult		  ca_pq.f_PQgetResult
#define PQgetvalue		  ca_pq.f_PQgetvalue
#define PQntuples		  ca_pq.f_PQntuples
#define PQprepare		  ca_pq.f_PQprepare
#define PQputCopyData		  ca_pq.f_PQputCopyData
#define PQputCopyEnd		  ca_pq.f_PQputCopyEnd
#define PQresultErrorField	  ca_pq.f_PQresultErrorField
#define PQresultErrorMessage	  ca_pq.f_PQresultErrorMessage
#define PQresultStatus		  ca_pq.f_PQresultStatus
#define PQsendQueryPrepared	  ca_pq.f_PQsendQueryPrepared
#define PQsetNoticeProcessor	  ca_pq.f_PQsetNoticeProcessor
#define PQsetSingleRowMode	  ca_pq.f_PQsetSingleRowMode
#define PQstatus		  ca_pq.f_PQstatus
#define PQtransactionStatus	  ca_pq.f_PQtransactionStatus

#endif
