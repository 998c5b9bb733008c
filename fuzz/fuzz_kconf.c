/* Fuzz target: Kconfig fragments (kfrag_parse), a .config's values and
 * the `depends on` expressions kta evaluates against it (kconf.c). The
 * input's first line is the expression, the rest the text. */
#include "kbuild/kconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *text, out[256], err[256];
	struct kopts o = { 0 };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	text = strchr(s, '\n');
	text = text ? text + 1 : s + size;
	kfrag_parse(text, "fuzz", &o, err, sizeof(err));
	kopts_free(&o);
	kconfig_value(text, "BPF", out, sizeof(out));
	kconfig_value(text, "X", out, 1);
	kconfig_count(text);
	if (text > s)
		text[-1] = '\0';
	kexpr_eval(s, text);
	free(s);
	return 0;
}
