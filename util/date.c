/* util/date.c — calendar arithmetic (see date.h). Eras are 400-year cycles of 146097 days that
 * start on 0000-03-01, so the leap day is the last day of a year; 719468 days lie between
 * 0000-03-01 and 1970-01-01. */
#include "util/date.h"

int64_t sl_date_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	year -= month <= 2;
	int64_t era = (year >= 0 ? year : year - 399) / 400;
	unsigned yoe = (unsigned)(year - era * 400);					/* [0, 399] */
	unsigned doy = (153 * (month + (month > 2 ? (unsigned)-3 : 9)) + 2) / 5 + day - 1; /* [0, 365] */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;				/* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

void sl_date_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(y + (*month <= 2));
}
