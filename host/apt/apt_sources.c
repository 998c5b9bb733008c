/* The system's apt sources, read for one thing: the URI of the Debian
 * archive (mirror) this machine already uses, so kta's private apt fetches
 * from the same place and no mirror name is written into the code. Both
 * formats (deb822 .sources and one-line sources.list); the security archive
 * and third-party repositories are skipped.
 */
#include "apt/apt.h"
#include "base/log.h"

#include <ctype.h>
#include <glob.h>
#include <string.h>

void apt_field_value(const char *p, const char *end, char *out, size_t size)
{
	size_t n;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static bool word_in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t len;

		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\n");
		if (len == n && !strncmp(p, word, n))
			return true;
		p += len;
	}
	return false;
}

/* A suite of the main Debian archive: a codename or alias, possibly with
 * -updates/-backports, never -security (a separate archive). */
static bool debian_suite(const char *s, size_t len)
{
	static const char *const names[] = {
		"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
		"oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental",
	};
	size_t base = 0;

	while (base < len && s[base] != '-' && s[base] != '/')
		base++;
	if (memmem(s, len, "security", 8))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == base && !strncmp(s, names[i], base))
			return true;
	return false;
}

static bool any_debian_suite(const char *list)
{
	for (const char *p = list; *p;) {
		size_t len;

		while (*p && isspace((unsigned char)*p))
			p++;
		len = strcspn(p, " \t\n");
		if (len && debian_suite(p, len))
			return true;
		p += len;
	}
	return false;
}

static bool usable_uri(const char *uri, size_t len)
{
	if (!len || memmem(uri, len, "security", 8))
		return false;
	return (len > 7 && !strncmp(uri, "http://", 7)) || (len > 8 && !strncmp(uri, "https://", 8)) ||
	       (len > 5 && !strncmp(uri, "file:", 5));
}

static int copy_uri(const char *uri, size_t len, char *out, size_t size)
{
	while (len && uri[len - 1] == '/')
		len--;
	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(out, uri, len);
	out[len] = '\0';
	return 0;
}

int apt_uri_from_deb822(const char *text, char *out, size_t size)
{
	const char *p = text;

	while (*p) {
		char types[128] = "", uris[512] = "", suites_v[512] = "", enabled[16] = "";
		bool any = false;

		/* One stanza: lines up to a blank line. */
		while (*p) {
			const char *eol = strchrnul(p, '\n');
			const char *colon = memchr(p, ':', (size_t)(eol - p));
			bool blank = true;

			for (const char *q = p; q < eol; q++)
				if (!isspace((unsigned char)*q))
					blank = false;
			if (blank) {
				p = *eol ? eol + 1 : eol;
				if (any)
					break;
				continue;
			}
			if (*p != '#' && !isspace((unsigned char)*p) && colon) {
				size_t klen = (size_t)(colon - p);

				any = true;
				if (klen == 5 && !strncasecmp(p, "Types", 5))
					apt_field_value(colon + 1, eol, types, sizeof(types));
				else if (klen == 4 && !strncasecmp(p, "URIs", 4))
					apt_field_value(colon + 1, eol, uris, sizeof(uris));
				else if (klen == 6 && !strncasecmp(p, "Suites", 6))
					apt_field_value(colon + 1, eol, suites_v, sizeof(suites_v));
				else if (klen == 7 && !strncasecmp(p, "Enabled", 7))
					apt_field_value(colon + 1, eol, enabled, sizeof(enabled));
			}
			p = *eol ? eol + 1 : eol;
		}
		if (!any || !word_in_list(types, "deb") || !strcasecmp(enabled, "no") ||
		    !any_debian_suite(suites_v))
			continue;
		for (const char *u = uris; *u;) {
			size_t len;

			while (*u && isspace((unsigned char)*u))
				u++;
			len = strcspn(u, " \t");
			if (usable_uri(u, len))
				return copy_uri(u, len, out, size);
			u += len;
		}
	}
	return -ENOENT;
}

int apt_uri_from_list(const char *text, char *out, size_t size)
{
	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		char line[1024];
		char *tok, *save = NULL, *uri = NULL, *suite = NULL;
		size_t n = (size_t)(eol - p);

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = *eol ? eol + 1 : eol;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		tok = strtok_r(line, " \t", &save);
		if (!tok || strcmp(tok, "deb"))
			continue;
		while ((tok = strtok_r(NULL, " \t", &save))) {
			if (tok[0] == '[') {
				/* Options may contain spaces: skip to the closing ']'. */
				while (tok && !strchr(tok, ']'))
					tok = strtok_r(NULL, " \t", &save);
				continue;
			}
			if (!uri)
				uri = tok;
			else if (!suite)
				suite = tok;
			else
				break;
		}
		if (uri && suite && debian_suite(suite, strlen(suite)) && usable_uri(uri, strlen(uri)))
			return copy_uri(uri, strlen(uri), out, size);
	}
	return -ENOENT;
}

static int uri_from_file(const char *path, bool deb822, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(path, &b, 1 << 20);

	if (err)
		return err;
	return deb822 ? apt_uri_from_deb822(b.data, out, size) : apt_uri_from_list(b.data, out, size);
}

int apt_archive_uri(char *out, size_t size)
{
	const char *env = getenv("KTA_APT_URI");
	glob_t g;
	int err = -ENOENT;

	if (env && *env) {
		if (strpbrk(env, " \t\n"))
			return pr_err("KTA_APT_URI `%s` contains white space", env), -EINVAL;
		return copy_uri(env, strlen(env), out, size);
	}
	if (!glob("/etc/apt/sources.list.d/*.sources", 0, NULL, &g)) {
		for (size_t i = 0; err && i < g.gl_pathc; i++)
			err = uri_from_file(g.gl_pathv[i], true, out, size);
		globfree(&g);
	}
	if (err)
		err = uri_from_file("/etc/apt/sources.list", false, out, size);
	if (err && !glob("/etc/apt/sources.list.d/*.list", 0, NULL, &g)) {
		for (size_t i = 0; err && i < g.gl_pathc; i++)
			err = uri_from_file(g.gl_pathv[i], false, out, size);
		globfree(&g);
	}
	if (err)
		pr_err("no Debian archive found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources; "
		       "set KTA_APT_URI (e.g. to a Debian mirror's .../debian URI)");
	return err ? -ENOENT : 0;
}

