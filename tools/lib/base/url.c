#include "base/url.h"

#include <string.h>

int ca_url_check(const char *url, const char *what)
{
	const char *colon;
	size_t i, n = strlen(url);

	if (n == 0 || n > CA_URL_MAX)
		return ca_err(CA_EUSAGE, "%s must be 1 to %d characters", what,
			      CA_URL_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return ca_err(CA_EUSAGE,
				      "%s '%.80s' has a space, a control "
				      "or a non-ASCII character",
				      what, url);
	colon = strchr(url, ':');
	if (colon == NULL || colon == url ||
	    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
		   url[0]) == NULL ||
	    strspn(url, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789+.-") != (size_t)(colon - url) ||
	    colon[1] == '\0')
		return ca_err(CA_EUSAGE,
			      "%s '%.80s' is not an absolute URI "
			      "(scheme:...)",
			      what, url);
	return CA_OK;
}
