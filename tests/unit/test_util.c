/* tests/unit/test_util.c — the error table, bounded buffers and calendar arithmetic (util/). */
#include "tests/unit/test.h"
#include "util/buf.h"
#include "util/date.h"
#include "util/error.h"

static void test_error_table_names_and_messages(void)
{
	CHECK_STR_EQ(sl_errname(0), "SL_OK");
	CHECK_STR_EQ(sl_strerror(0), "success");
	CHECK_STR_EQ(sl_errname(SL_ENOSPC), "SL_ENOSPC");
	CHECK_STR_EQ(sl_errname(SL_ECHECKDIGIT), "SL_ECHECKDIGIT");
	CHECK_STR_EQ(sl_strerror(12345), "unknown error");
	CHECK_STR_EQ(sl_errname(-9999), "SL_E?");
	/* every listed code is negative, unique, and has a non-empty message */
	static const int codes[] = {
#define CODE(name, value, message) value,
		SL_ERROR_LIST(CODE)
#undef CODE
	};
	size_t count = sizeof(codes) / sizeof(codes[0]);
	for (size_t i = 0; i < count; i++) {
		CHECK(codes[i] < 0);
		CHECK(strcmp(sl_strerror(codes[i]), "unknown error") != 0);
		for (size_t j = i + 1; j < count; j++)
			CHECK(codes[i] != codes[j]);
	}
}

static void test_error_set_fills_detail_and_returns_code(void)
{
	struct sl_error_detail detail = { "" };
	CHECK_INT_EQ(sl_error_set(&detail, SL_EVALUE, "field %s[%d]", "items", 3), SL_EVALUE);
	CHECK_STR_EQ(detail.text, "field items[3]");
	CHECK_INT_EQ(sl_error_set(NULL, SL_EINVAL, "ignored"), SL_EINVAL);
	char long_text[600];
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	sl_error_set(&detail, SL_EINVAL, "%s", long_text);
	CHECK_INT_EQ(strlen(detail.text), SL_ERROR_DETAIL_BYTES_MAX - 1);
}

static void test_buf_grows_to_its_limit_and_no_further(void)
{
	struct sl_buf buf;
	sl_buf_init(&buf, 1000);
	uint8_t chunk[300];
	memset(chunk, 7, sizeof chunk);
	CHECK_INT_EQ(sl_buf_append(&buf, chunk, 300), 0);
	CHECK_INT_EQ(sl_buf_append(&buf, chunk, 300), 0);
	CHECK_INT_EQ(sl_buf_append(&buf, chunk, 300), 0);
	CHECK_INT_EQ(buf.len, 900);
	CHECK_INT_EQ(sl_buf_append(&buf, chunk, 101), SL_ELIMIT);
	CHECK_INT_EQ(buf.len, 900); /* a refused append changes nothing */
	CHECK_INT_EQ(sl_buf_append(&buf, chunk, 100), 0);
	CHECK_INT_EQ(buf.len, 1000);
	CHECK(buf.cap <= 1000);
	CHECK_INT_EQ(sl_buf_reserve(&buf, SIZE_MAX), SL_ELIMIT);
	CHECK_INT_EQ(buf.data[999], 7);
	sl_buf_reset(&buf);
	CHECK_INT_EQ(buf.len, 0);
	CHECK_INT_EQ(sl_buf_append(&buf, NULL, 0), 0);
	sl_buf_free(&buf);
	CHECK(buf.data == NULL);
}

static void test_str_views(void)
{
	struct sl_str a = SL_STR("mfg-basel");
	CHECK(sl_str_eq_cstr(a, "mfg-basel"));
	CHECK(!sl_str_eq_cstr(a, "mfg-base"));
	CHECK(sl_str_eq((struct sl_str){ NULL, 0 }, SL_STR("")));
	char small[4];
	CHECK_INT_EQ(sl_str_copy(SL_STR("abc"), small, sizeof small), 0);
	CHECK_STR_EQ(small, "abc");
	CHECK_INT_EQ(sl_str_copy(SL_STR("abcd"), small, sizeof small), SL_ELIMIT);
}

/* Known days (epoch, leap days, century rules, before the epoch), then every day of 0001..9999
 * round-trips and consecutive days are one apart. */
static void test_date_days_and_civil_round_trip(void)
{
	CHECK(sl_date_days_from_civil(1970, 1, 1) == 0);
	CHECK(sl_date_days_from_civil(1969, 12, 31) == -1);
	CHECK(sl_date_days_from_civil(2000, 3, 1) == 11017);
	CHECK(sl_date_days_from_civil(2000, 2, 29) == 11016); /* 2000 is a leap year (divisible by 400) */
	CHECK(sl_date_days_from_civil(1900, 3, 1) - sl_date_days_from_civil(1900, 2, 28) == 1); /* 1900 is not */
	CHECK(sl_date_days_from_civil(2026, 11, 24) == 20781);
	CHECK(sl_date_days_from_civil(1, 1, 1) == -719162);
	int64_t first = sl_date_days_from_civil(1, 1, 1), last = sl_date_days_from_civil(9999, 12, 31);
	int bad = 0;
	for (int64_t d = first; d <= last; d++) {
		int y = 0;
		unsigned m = 0, day = 0;
		sl_date_civil_from_days(d, &y, &m, &day);
		bad += m < 1 || m > 12 || day < 1 || day > 31 || sl_date_days_from_civil(y, m, day) != d;
	}
	CHECK_INT_EQ(bad, 0);
	CHECK(last - first + 1 == 3652059); /* 9999 years of 365.2425 days */
}

static const struct test_case cases[] = {
	TEST_CASE(test_error_table_names_and_messages),
	TEST_CASE(test_error_set_fills_detail_and_returns_code),
	TEST_CASE(test_buf_grows_to_its_limit_and_no_further),
	TEST_CASE(test_str_views),
	TEST_CASE(test_date_days_and_civil_round_trip),
};
TEST_MAIN(cases)
