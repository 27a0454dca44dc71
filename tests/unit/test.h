/* tests/unit/test.h — the unit test harness (header only).
 *
 * A test file lists its cases and hands them to TEST_MAIN:
 *
 *     static void test_gtin_check_digit(void) { CHECK_INT_EQ(gs1_check_digit("0950600013435", 13), 2); }
 *     static const struct test_case cases[] = { TEST_CASE(test_gtin_check_digit), ... };
 *     TEST_MAIN(cases)
 *
 * Output: one line per case, "PASS name" or "FAIL name" followed by "  file:line: what" lines;
 * scripts/run-tests.sh counts them. Exit status 1 when any case failed.
 * Run one case: `./test_x name`. CHECK continues the case; REQUIRE returns from it.
 * test_tmpdir() makes a fresh directory under $TMPDIR (or /tmp); test_rmtree() removes one.
 */
#ifndef SL_TESTS_UNIT_TEST_H
#define SL_TESTS_UNIT_TEST_H

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct test_case {
	const char *name;
	void (*run)(void);
};

#define TEST_CASE(fn) { #fn, fn }

static int test_case_failures;

static inline void test_fail(const char *file, int line, const char *what)
{
	test_case_failures++;
	fprintf(stdout, "  %s:%d: %s\n", file, line, what);
}

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
	} while (0)

#define REQUIRE(cond)                                                        \
	do {                                                                 \
		if (!(cond)) {                                               \
			test_fail(__FILE__, __LINE__, "REQUIRE(" #cond ")"); \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_INT_EQ(actual, expected)                                                           \
	do {                                                                                     \
		long long test_a_ = (long long)(actual), test_e_ = (long long)(expected);        \
		if (test_a_ != test_e_) {                                                        \
			char test_msg_[640];                                                     \
			snprintf(test_msg_, sizeof test_msg_, "%.200s == %lld, expected %.200s == %lld", \
				 #actual, test_a_, #expected, test_e_);                          \
			test_fail(__FILE__, __LINE__, test_msg_);                                \
		}                                                                                \
	} while (0)

#define CHECK_STR_EQ(actual, expected)                                                          \
	do {                                                                                    \
		const char *test_a_ = (actual), *test_e_ = (expected);                          \
		if (test_a_ == NULL || test_e_ == NULL || strcmp(test_a_, test_e_) != 0) {      \
			char test_msg_[1024];                                                   \
			snprintf(test_msg_, sizeof test_msg_, "%.200s == \"%.300s\", expected \"%.300s\"", \
				 #actual, test_a_ ? test_a_ : "(null)",                         \
				 test_e_ ? test_e_ : "(null)");                                 \
			test_fail(__FILE__, __LINE__, test_msg_);                               \
		}                                                                               \
	} while (0)

static inline int test_tmpdir(char out[PATH_MAX])
{
	const char *base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(out, PATH_MAX, "%s/siteledger-test-XXXXXX", base);
	return mkdtemp(out) == NULL ? -1 : 0;
}

/* Remove a directory tree (test directories are shallow: bounded depth 8). */
static inline void test_rmtree_depth(const char *path, int depth)
{
	DIR *dir = depth < 8 ? opendir(path) : NULL;
	if (dir != NULL) {
		struct dirent *entry;
		while ((entry = readdir(dir)) != NULL) {
			if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
				continue;
			char child[PATH_MAX];
			int written = snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
			if (written < 0 || (size_t)written >= sizeof child)
				continue;
			struct stat st;
			if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
				test_rmtree_depth(child, depth + 1);
			else
				unlink(child);
		}
		closedir(dir);
	}
	rmdir(path);
}

static inline void test_rmtree(const char *path)
{
	test_rmtree_depth(path, 0);
}

static inline int test_main(const struct test_case *cases, size_t count, int argc, char **argv)
{
	int failed = 0;
	int ran = 0;
	for (size_t i = 0; i < count; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		test_case_failures = 0;
		cases[i].run();
		ran++;
		fprintf(stdout, "%s %s\n", test_case_failures ? "FAIL" : "PASS", cases[i].name);
		fflush(stdout);
		if (test_case_failures)
			failed++;
	}
	if (ran == 0) {
		fprintf(stdout, "FAIL no test case matched\n");
		return 1;
	}
	return failed ? 1 : 0;
}

#define TEST_MAIN(cases)                                                             \
	int main(int argc, char **argv)                                              \
	{                                                                            \
		return test_main((cases), sizeof(cases) / sizeof((cases)[0]), argc, argv); \
	}

#endif
