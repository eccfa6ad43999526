#include <bulkhead/error.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The Linux errnos musl 1.2.5 has no text for (its strerror falls back to
 * "No error information"), with the meaning Linux's errno.h gives them. */
static const struct {
	int code;
	const char *name, *text;
} linux_only[] = {
    {ECHRNG, "ECHRNG", "Channel number out of range"},
    {EL2NSYNC, "EL2NSYNC", "Level 2 not synchronized"},
    {EL3HLT, "EL3HLT", "Level 3 halted"},
    {EL3RST, "EL3RST", "Level 3 reset"},
    {ELNRNG, "ELNRNG", "Link number out of range"},
    {EUNATCH, "EUNATCH", "Protocol driver not attached"},
    {ENOCSI, "ENOCSI", "No CSI structure available"},
    {EL2HLT, "EL2HLT", "Level 2 halted"},
    {EBADE, "EBADE", "Invalid exchange"},
    {EBADR, "EBADR", "Invalid request descriptor"},
    {EXFULL, "EXFULL", "Exchange full"},
    {ENOANO, "ENOANO", "No anode"},
    {EBADRQC, "EBADRQC", "Invalid request code"},
    {EBADSLT, "EBADSLT", "Invalid slot"},
    {EBFONT, "EBFONT", "Bad font file format"},
    {ENONET, "ENONET", "Machine is not on the network"},
    {ENOPKG, "ENOPKG", "Package not installed"},
    {EREMOTE, "EREMOTE", "Object is remote"},
    {EADV, "EADV", "Advertise error"},
    {ESRMNT, "ESRMNT", "Srmount error"},
    {ECOMM, "ECOMM", "Communication error on send"},
    {EDOTDOT, "EDOTDOT", "RFS specific error"},
    {ENOTUNIQ, "ENOTUNIQ", "Name not unique on network"},
    {EREMCHG, "EREMCHG", "Remote address changed"},
    {ELIBACC, "ELIBACC", "Can not access a needed shared library"},
    {ELIBBAD, "ELIBBAD", "Accessing a corrupted shared library"},
    {ELIBSCN, "ELIBSCN", ".lib section in a.out corrupted"},
    {ELIBMAX, "ELIBMAX", "Attempting to link in too many shared libraries"},
    {ELIBEXEC, "ELIBEXEC", "Cannot exec a shared library directly"},
    {ERESTART, "ERESTART", "Interrupted system call should be restarted"},
    {ESTRPIPE, "ESTRPIPE", "Streams pipe error"},
    {EUSERS, "EUSERS", "Too many users"},
    {ETOOMANYREFS, "ETOOMANYREFS", "Too many references: cannot splice"},
    {EUCLEAN, "EUCLEAN", "Structure needs cleaning"},
    {ENOTNAM, "ENOTNAM", "Not a XENIX named type file"},
    {ENAVAIL, "ENAVAIL", "No XENIX semaphores available"},
    {EISNAM, "EISNAM", "Is a named type file"},
    {ERFKILL, "ERFKILL", "Operation not possible due to RF-kill"},
    {EHWPOISON, "EHWPOISON", "Memory page has hardware error"},
};

const char *bh_strerror(int code)
{
	static _Thread_local char buf[96];
	const char *text;

	for (size_t i = 0; i < sizeof(linux_only) / sizeof(linux_only[0]); i++)
		if (linux_only[i].code == code) {
			snprintf(buf, sizeof(buf), "%s (%s, errno %d)", linux_only[i].text,
				 linux_only[i].name, code);
			return buf;
		}
	text = strerror(code);
	if (code == 0)
		return text;
	/* musl's catch-all is strerror(0)'s text; glibc's "Unknown error N". */
	if (!strcmp(text, strerror(0)) || !strncmp(text, "Unknown error", 13)) {
		snprintf(buf, sizeof(buf), "unknown error (errno %d)", code);
		return buf;
	}
	return text;
}

int bh_error(struct bh_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (code != 0 && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", bh_strerror(code));
	return -1;
}

int bh_error_wrap(struct bh_error *err, const char *fmt, ...)
{
	char prefix[BH_ERROR_MAX];
	size_t plen, mlen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	plen = strlen(prefix);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	/* Shift the old message right to make room, dropping its end. */
	mlen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen + mlen > sizeof(err->msg) - 1)
		mlen = sizeof(err->msg) - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = 0;
	return -1;
}

void bh_error_print(const struct bh_error *err, const char *prog)
{
	fprintf(stderr, "%s: %s\n", prog, err->msg);
}
