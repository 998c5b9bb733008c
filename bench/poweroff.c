/* The baseline's /init: end the boot at once, the way kta's agent does:
 * reboot(2), which QEMU's -no-reboot turns into an exit on every machine
 * (a kernel without ACPI would halt in power-off instead). What a boot
 * costs with nothing of kta in it. */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
