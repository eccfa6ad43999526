/* bhd's reading of boot entry names on the ESP (firmware/bhd/esp.c):
 * bulkhead-<version>-<slot>[+<tries left>[-<tries done>]].efi, the names
 * systemd-boot's boot counting renames. */
#include "tap.h"

#include "bhd.h"

#include <string.h>

static void good(const char *name, const char *version, char slot, int counted, int left, int done)
{
	struct esp_entry e = {0};
	bool parsed = esp_entry_parse(name, &e);

	ok(parsed && !strcmp(e.version, version) && e.slot == slot &&
		   e.counted == counted && (!counted || (e.left == left && e.done == done)),
	   "%s: version %s, slot %c, %s %d-%d", name, e.version, e.slot,
	   e.counted ? "counted" : "not counted", e.left, e.done);
}

static void bad(const char *name)
{
	struct esp_entry e = {0};

	ok(!esp_entry_parse(name, &e), "%s is not one of ours", name);
}

int main(void)
{
	good("bulkhead-0.1.0.1764100000-a.efi", "0.1.0.1764100000", 'a', 0, 0, 0);
	good("bulkhead-0.1.0.1764100000.1-b+3-0.efi", "0.1.0.1764100000.1", 'b', 1, 3, 0);
	good("bulkhead-0.1.0.1764100000.1-b+2-1.efi", "0.1.0.1764100000.1", 'b', 1, 2, 1);
	good("bulkhead-0.1.0.1764100000.1-b+0-3.efi", "0.1.0.1764100000.1", 'b', 1, 0, 3);
	good("bulkhead-1.0-rc1-a+1.efi", "1.0-rc1", 'a', 1, 1, 0);
	/* A re-armed slot: "+3" is "+3-0" for systemd-boot. */
	good("bulkhead-0.1.0.1764100000-a+3.efi", "0.1.0.1764100000", 'a', 1, 3, 0);
	/* The halt entry is never a slot's: an update must not touch it. */
	bad("bulkhead-halt.efi");
	bad("bulkhead-0.1.0-c.efi");
	bad("bulkhead--a.efi");
	bad("other-0.1.0-a.efi");
	bad("bulkhead-0.1.0-a.efi.tmp");
	bad("bulkhead-0.1.0-a.tmp");
	bad("bulkhead-0.1.0a.efi");
	return done();
}
