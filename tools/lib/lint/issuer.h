/* Lint against the issuer: what the issuing CA's own certificate allows.
 * A certificate that breaks one of these would be rejected by every path
 * validator (RFC 5280 6.1), so it is never signed:
 *   - validity inside the issuer's;
 *   - the issuer is a CA that may sign certificates (basicConstraints cA,
 *     keyCertSign);
 *   - name constraints (RFC 5280 4.2.1.10): dNSName, iPAddress,
 *     rfc822Name, uniformResourceIdentifier and directoryName, permitted
 *     and excluded, applied to every SAN, to the subject (directoryName),
 *     to subject emailAddress attributes (rfc822Name) and, for end-entity
 *     certificates, to a subject CN that looks like a host name (dNSName,
 *     as OpenSSL and NSS check it); a name of a form the constraints cover
 *     but this code cannot check is refused. Self-issued CA certificates
 *     are exempt (RFC 5280 6.1.3 (b));
 *   - extended key usage: when the issuer's certificate has an EKU
 *     extension without anyExtendedKeyUsage, the certificate must have one
 *     whose purposes are all among the issuer's;
 *   - pathLenConstraint: a CA certificate under an issuer with pathLen N
 *     needs N > 0 and a pathLen of at most N - 1 (self-issued ones exempt).
 * A finding is CA_EPOLICY naming the name or value and the issuer
 * ("lint: dNSName www.exmaple.com is not within the permitted subtree
 * example.com of CN=Issuing CA"). */
#ifndef HSMCA_LINT_ISSUER_H
#define HSMCA_LINT_ISSUER_H

#include <openssl/x509.h>

#include "common/err.h"

/* x: the certificate being linted (is_ca: a CA certificate); issuer: the
 * issuing CA's certificate. */
int ca_lint_issuer(X509 *x, X509 *issuer, int is_ca) CA_WUR;

#endif
