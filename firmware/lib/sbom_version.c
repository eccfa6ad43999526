/* Version ordering for advisory ranges: numbers compare as numbers, words
 * as words, and a trailing pre-release word (rc, alpha, beta, pre, dev, or
 * anything after '~') sorts before the release: 1.0rc1 < 1.0 < 1.0.1. */
#include <bulkhead/sbom.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_sep(char c)
{
	return c == '.' || c == '-' || c == '_' || c == '+' || c == ':';
}

static bool prerelease(const char *s)
{
	static const char *const words[] = {"rc", "alpha", "beta", "pre", "dev"};

	if (*s == '~')
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);

		if (!strncasecmp(s, words[i], n) && !isalpha((unsigned char)s[n]))
			return true;
	}
	return false;
}

int version_compare(const char *a, const char *b)
{
	while (*a || *b) {
		while (is_sep(*a))
			a++;
		while (is_sep(*b))
			b++;
		if (!*a || !*b)
			break;
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t na, nb;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			na = strspn(a, "0123456789");
			nb = strspn(b, "0123456789");
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = strncmp(a, b, na);

			if (c)
				return c < 0 ? -1 : 1;
			a += na;
			b += nb;
		} else if (isdigit((unsigned char)*a) != isdigit((unsigned char)*b)) {
			/* A word where the other has a number (1.0rc1 vs 1.0.1): the
			 * word's side is lower when it is a pre-release. */
			bool word_is_a = !isdigit((unsigned char)*a);
			bool low = prerelease(word_is_a ? a : b);

			return (word_is_a == low) ? -1 : 1;
		} else {
			size_t na = 0, nb = 0;

			while (a[na] && !isdigit((unsigned char)a[na]) && !is_sep(a[na]))
				na++;
			while (b[nb] && !isdigit((unsigned char)b[nb]) && !is_sep(b[nb]))
				nb++;
			int c = strncmp(a, b, na < nb ? na : nb);

			if (c)
				return c < 0 ? -1 : 1;
			if (na != nb)
				return na < nb ? -1 : 1;
			a += na;
			b += nb;
		}
	}
	while (is_sep(*a))
		a++;
	while (is_sep(*b))
		b++;
	if (!*a && !*b)
		return 0;
	/* One is a prefix of the other: a pre-release word sorts lower. */
	if (*a)
		return prerelease(a) ? -1 : 1;
	return prerelease(b) ? 1 : -1;
}
