/* Errors to exit codes (exit.h). */
#include "base/exit.h"
#include "base/interrupt.h"

#include <errno.h>
#include <signal.h>

int exit_code_for(int err, bool enoent_is_input)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EINTR:
		return interrupt_exit_code(interrupt_signal() ? interrupt_signal() : SIGINT);
	case -EINVAL:
	case -ENOEXEC:
	case -ENOPKG:
		return EXIT_USAGE;
	case -ENOENT:
		return enoent_is_input ? EXIT_USAGE : EXIT_INFRA;
	default:
		return EXIT_INFRA;
	}
}
