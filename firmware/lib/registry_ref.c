/* Registry references: [https://]host[:port]/repo[:tag|@sha256:hex], with
 * the distribution spec's grammar for repository names and tags. */
#include <bulkhead/registry.h>

#include <ctype.h>
#include <string.h>

int registry_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != REGISTRY_DIGEST_LEN)
		return 0;
	for (s += 7; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return 0;
	return 1;
}

int registry_tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REGISTRY_TAG_MAX || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* Path components of lower-case letters and digits, separated by ".",
 * "_", "__" or runs of "-" (distribution's name grammar). */
static int repo_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= REGISTRY_REPO_MAX)
		return 0;
	for (const char *c = s; *c;) {
		if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c))
			return 0; /* a component or a separator run starts with [a-z0-9] */
		while (islower((unsigned char)*c) || isdigit((unsigned char)*c))
			c++;
		if (!*c)
			break;
		if (*c == '/') {
			c++;
			continue;
		}
		if (*c == '.' || (*c == '_' && c[1] != '_'))
			c++;
		else if (*c == '_')
			c += 2;
		else if (*c == '-')
			while (*c == '-')
				c++;
		else
			return 0;
		if (!*c)
			return 0;
	}
	return 1;
}

/* host or host:port: letters, digits, '.', '-', or an IPv6 literal in []. */
static int host_valid(const char *s)
{
	const char *colon;

	if (!*s)
		return 0;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end)
			return 0;
		for (const char *c = s + 1; c < end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return 0;
		colon = end[1] ? end + 1 : NULL;
		if (colon && *colon != ':')
			return 0;
	} else {
		colon = strchr(s, ':');
		for (const char *c = s; *c && c != colon; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
				return 0;
		if (colon == s)
			return 0;
	}
	if (colon) {
		const char *p = colon + 1;

		if (!*p || strlen(p) > 5)
			return 0;
		for (; *p; p++)
			if (!isdigit((unsigned char)*p))
				return 0;
	}
	return 1;
}

int registry_ref_parse(const char *s, int need_target, struct registry_ref *ref,
                       struct bh_error *err)
{
	const char *in = s, *slash, *at, *colon;
	char path[REGISTRY_REPO_MAX + REGISTRY_TAG_MAX + REGISTRY_DIGEST_LEN + 4];
	size_t hlen;

	memset(ref, 0, sizeof(*ref));
	if (!strncmp(s, "https://", 8))
		s += 8;
	else if (strstr(s, "://"))
		return bh_error(err, 0, "reference %s: only https:// registries are supported", in);
	slash = strchr(s, '/');
	if (!slash)
		return bh_error(err, 0, "reference %s: expected host[:port]/repository", in);
	hlen = (size_t)(slash - s);
	if (hlen >= sizeof(ref->host))
		return bh_error(err, 0, "reference %s: the host is too long", in);
	memcpy(ref->host, s, hlen);
	if (!host_valid(ref->host))
		return bh_error(err, 0, "reference %s: '%s' is not a host[:port]", in, ref->host);
	if (strlen(slash + 1) >= sizeof(path))
		return bh_error(err, 0, "reference %s: too long", in);
	strcpy(path, slash + 1);
	at = strchr(path, '@');
	if (at) {
		if (!registry_digest_valid(at + 1))
			return bh_error(err, 0,
			                "reference %s: '%s' is not a sha256:<64 hex> digest", in,
			                at + 1);
		strcpy(ref->digest, at + 1);
		path[at - path] = 0;
	}
	colon = strrchr(path, ':');
	if (colon) {
		if (!registry_tag_valid(colon + 1))
			return bh_error(err, 0,
			                "reference %s: tag '%s' must be 1-128 of A-Z a-z 0-9 . _ - "
			                "(not starting with . or -)",
			                in, colon + 1);
		strcpy(ref->tag, colon + 1);
		path[colon - path] = 0;
	}
	if (!repo_valid(path))
		return bh_error(
		    err, 0,
		    "reference %s: repository '%s' must be lower-case a-z 0-9 components "
		    "separated by / . _ __ or -",
		    in, path);
	strcpy(ref->repo, path);
	if (need_target && !ref->tag[0] && !ref->digest[0])
		return bh_error(err, 0, "reference %s: name a tag (:tag) or a digest (@sha256:...)",
		                in);
	return 0;
}
