/* MQTT strings, topic names and topic filters (MQTT 3.1.1 sections 1.5.3
 * and 4.7). */
#include <bulkhead/mqtt_packet.h>

ssize_t mqtt_utf8_check(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t c = s[i], min;
		size_t n, k;

		if (c == 0)
			return (ssize_t)i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, c &= 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, c &= 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, c &= 0x07, min = 0x10000;
		} else {
			return (ssize_t)i;
		}
		if (len - i <= n)
			return (ssize_t)i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (ssize_t)i;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return (ssize_t)i;
		i += n + 1;
	}
	return -1;
}

int mqtt_check_string(const char *what, const uint8_t *s, size_t len, struct bh_error *err)
{
	ssize_t bad;

	if (len == 0)
		return bh_error(err, 0, "%s is empty", what);
	if (len > 65535)
		return bh_error(err, 0, "%s is %zu bytes long, more than 65535", what, len);
	bad = mqtt_utf8_check(s, len);
	if (bad >= 0)
		return bh_error(err, 0, "%s is not valid UTF-8 at byte %zd", what, bad);
	return 0;
}

int mqtt_check_topic(const char *what, const uint8_t *s, size_t len, struct bh_error *err)
{
	size_t i;

	if (mqtt_check_string(what, s, len, err) < 0)
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] == '+' || s[i] == '#')
			return bh_error(err, 0, "%s holds the wildcard '%c' at byte %zu", what, s[i], i);
	return 0;
}

int mqtt_check_filter(const char *what, const char *s, size_t len, struct bh_error *err)
{
	size_t i;

	if (mqtt_check_string(what, (const uint8_t *)s, len, err) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		bool level_start = i == 0 || s[i - 1] == '/';
		bool level_end = i + 1 == len || s[i + 1] == '/';

		if (s[i] == '+' && !(level_start && level_end))
			return bh_error(err, 0, "%s: '+' at byte %zu does not fill a whole level", what,
					i);
		if (s[i] == '#' && !(level_start && i + 1 == len))
			return bh_error(err, 0, "%s: '#' at byte %zu is not the whole last level", what,
					i);
	}
	return 0;
}
