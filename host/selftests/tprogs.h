/* test_progs' verbose output, one line at a time: the result lines it
 * prints as each subtest and test ends ("#123/4   token/map_token:OK",
 * "#123     token:OK (SKIP: 1/13)"), its watchdog's notice naming the test
 * that runs too long, and its summary. Pure and bounded, shared by the
 * guest agent (which turns results into frames as they happen) and the
 * host (which cuts each subtest's output out of the stream); fuzzed.
 */
#ifndef KTA_TPROGS_H
#define KTA_TPROGS_H

#include <stdbool.h>
#include <stddef.h>

enum tp_kind {
	TP_NONE,      /* any other line: the tests' own output */
	TP_SUBTEST,   /* "#N/M test/sub:RESULT" */
	TP_TEST,      /* "#N test:RESULT" */
	TP_WATCHDOG,  /* "WATCHDOG: test case NAME executes for S seconds..." */
	TP_SUMMARY,   /* "Summary: ..." */
};

enum tp_result {
	TP_OK,
	TP_FAIL,
	TP_SKIP,
	TP_NOT_BUILT, /* "SKIP (not built)": the build left its object out */
};

struct tp_line {
	enum tp_kind kind;
	enum tp_result result;
	unsigned int test_num, sub_num;
	char name[160];     /* "token/map_token", "test_bpffs"; the watchdog's test */
	unsigned int skipped, subtests; /* "OK (SKIP: s/n)" */
	unsigned int seconds;           /* the watchdog's */
};

/* Parse one line (without its newline). Never fails: an unknown line is
 * TP_NONE. */
void tprogs_parse(const char *line, size_t len, struct tp_line *out);

const char *tp_result_name(enum tp_result r);

#endif
