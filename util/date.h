/* util/date.h — proleptic Gregorian calendar arithmetic in days since 1970-01-01 (UTC), without
 * the C library's time zone or time_t range (H. Hinnant's days_from_civil / civil_from_days).
 *
 * Rules:
 *  1. Pure functions: no clock, no locale, no errors. Callers check their own ranges (month
 *     1..12, day 1..31); the arithmetic is exact for years -32767..32767 and more.
 */
#ifndef SL_UTIL_DATE_H
#define SL_UTIL_DATE_H

#include <stdint.h>

/* Days since 1970-01-01 of year-month-day (negative before it). */
int64_t sl_date_days_from_civil(int64_t year, unsigned month, unsigned day);
/* The year, month (1..12) and day (1..31) of a day counted as sl_date_days_from_civil counts. */
void sl_date_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day);

#endif
