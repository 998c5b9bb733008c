/* Reading back a `kta run` child's log and report (runchild.h). */
#include "run/runchild.h"

#include <jansson.h>
#include <string.h>

#include "base/util.h"

void runchild_log_tail(const char *path, int lines, char *out, size_t n)
{
	cleanup_buf struct buf b = { 0 };
	const char *p;
	int seen = 0;

	out[0] = '\0';
	if (read_file(path, &b, 8 << 20) || !b.len)
		return;
	p = b.data + b.len;
	while (p > b.data && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > b.data && seen < lines) {
		p--;
		if (*p == '\n')
			seen++;
	}
	if (*p == '\n')
		p++;
	snprintf(out, n, "%s", p);
	for (char *q = out; *q; q++)
		if (*q == '\n')
			*q = ' ';
	/* The tail's own trailing newline, now a space. */
	for (size_t len = strlen(out); len && out[len - 1] == ' ';)
		out[--len] = '\0';
}

bool runchild_boot_failed(const char *json)
{
	json_error_t jerr;
	json_t *root = path_exists(json) ? json_load_file(json, 0, &jerr) : NULL;
	bool yes = root && !strcmp(json_string_value(json_object_get(root, "status")) ?: "", "kernel-failed-to-boot");

	json_decref(root);
	return yes;
}
