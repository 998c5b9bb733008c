/* Driver for `make check`: runs a fuzz target over its corpus, then over
 * deterministic mutations of it (seeded, so a failure reproduces), without
 * needing libFuzzer. `make fuzz` runs the real coverage-guided fuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX 65536

static size_t load(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, REPLAY_MAX, f);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t in[REPLAY_MAX], mut[REPLAY_MAX];
	unsigned long seed = 1, runs = 0;
	struct dirent *de;
	DIR *d;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS]\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 2;
	}
	while ((de = readdir(d))) {
		char path[4096];
		size_t n;
		long muts = argc > 2 ? atol(argv[2]) : 3000;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		n = load(path, in);
		LLVMFuzzerTestOneInput(in, n);
		runs++;
		for (long i = 0; i < muts; i++) {
			size_t m = n;

			memcpy(mut, in, n);
			for (int k = 0; k < 4; k++) {
				seed = seed * 6364136223846793005ul + 1442695040888963407ul;
				switch ((seed >> 33) % 4) {
				case 0: /* flip a byte */
					if (m)
						mut[(seed >> 8) % m] ^= (uint8_t)(seed >> 40);
					break;
				case 1: /* truncate */
					if (m)
						m = (seed >> 8) % m;
					break;
				case 2: /* duplicate a tail */
					if (m && m * 2 < REPLAY_MAX) {
						size_t at = (seed >> 8) % m;

						memcpy(mut + m, mut + at, m - at);
						m += m - at;
					}
					break;
				default: /* insert a digit */
					if (m + 1 < REPLAY_MAX) {
						size_t at = m ? (seed >> 8) % m : 0;

						memmove(mut + at + 1, mut + at, m - at);
						mut[at] = (uint8_t)('0' + (seed >> 20) % 10);
						m++;
					}
				}
			}
			LLVMFuzzerTestOneInput(mut, m);
			runs++;
		}
	}
	closedir(d);
	printf("%s: %lu inputs, no crash\n", argv[0], runs);
	return 0;
}
