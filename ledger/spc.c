/* ledger/spc.c — p-chart arithmetic and run rules (ledger/spc.h gives the formulas and sources).
 *
 * Design notes:
 *  1. Pure: no I/O, no clock; the same points give the same chart on every machine (IEEE 754
 *     double arithmetic in a fixed order).
 *  2. Sums are checked for overflow before they are added: a ledger cannot hold 2^64 records,
 *     but a caller can pass any points.
 *  3. A run is broken by a point on the centre line and by an empty subgroup (size 0: no data
 *     that day for that series, which is not evidence of either side).
 *  4. The square root is computed here (Newton's method) rather than taken from libm, which the
 *     core library does not link; it is exact to the last bit or two, far below chart resolution.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "ledger/spc.h"
#include "util/error.h"

#define SPC_MS_PER_DAY 86400000LL
#define SPC_MS_PER_HOUR 3600000LL

int64_t spc_day_of(int64_t ms)
{
	int64_t day = ms / SPC_MS_PER_DAY;
	if (ms % SPC_MS_PER_DAY < 0)
		day--; /* floor for times before 1970 */
	return day;
}

int spc_shift_of(int64_t ms, uint32_t shift_hours)
{
	if (shift_hours == 0 || shift_hours > 24)
		return 0;
	int64_t into_day = ms - spc_day_of(ms) * SPC_MS_PER_DAY;
	assert(into_day >= 0 && into_day < SPC_MS_PER_DAY);
	return (int)(into_day / (SPC_MS_PER_HOUR * (int64_t)shift_hours));
}

#define SPC_NEWTON_STEPS_MAX 2100 /* from x = DBL_MAX halving takes ~1024 steps, then quadratic */

/* sqrt(x) for x in [0, 1]-ish ranges and beyond: Newton from above decreases monotonically to
 * the root, so stopping at the first step that does not decrease is exact enough and bounded. */
static double spc_sqrt(double x)
{
	if (!(x > 0.0))
		return 0.0;
	double r = x > 1.0 ? x : 1.0;
	for (int i = 0; i < SPC_NEWTON_STEPS_MAX; i++) {
		double next = 0.5 * (r + x / r);
		if (!(next < r))
			break;
		r = next;
	}
	return r;
}

static void limits_compute(double centre, uint64_t size, struct spc_chart_point *out)
{
	double sigma = spc_sqrt(centre * (1.0 - centre) / (double)size);
	out->ucl = centre + SPC_SIGMAS * sigma;
	out->lcl = centre - SPC_SIGMAS * sigma;
	if (out->ucl > 1.0)
		out->ucl = 1.0;
	if (out->lcl < 0.0)
		out->lcl = 0.0;
}

/* Side of the centre line: +1 above, -1 below, 0 on it or no data. */
static int side_of(const struct spc_point *point, const struct spc_chart_point *chart, double centre)
{
	if (point->size == 0 || chart->p == centre)
		return 0;
	return chart->p > centre ? 1 : -1;
}

static void rules_apply(const struct spc_point *points, size_t count, double centre, struct spc_chart_point *out)
{
	int run_side = 0;
	size_t run_length = 0;
	for (size_t i = 0; i < count; i++) {
		if (points[i].size > 0 && (out[i].p > out[i].ucl || out[i].p < out[i].lcl))
			out[i].rules |= SPC_RULE_BEYOND;
		int side = side_of(&points[i], &out[i], centre);
		if (side != 0 && side == run_side) {
			run_length++;
		} else {
			run_side = side;
			run_length = side != 0 ? 1 : 0;
		}
		if (run_length >= SPC_RUN_LENGTH)
			out[i].rules |= SPC_RULE_RUN;
	}
}

int spc_pchart(const struct spc_point *points, size_t count, double *centre, struct spc_chart_point *out)
{
	if (points == NULL || out == NULL || centre == NULL || count == 0)
		return SL_EINVAL;
	uint64_t defects = 0, size = 0;
	for (size_t i = 0; i < count; i++) {
		if (points[i].defects > points[i].size)
			return SL_EINVAL;
		if (points[i].size > UINT64_MAX - size)
			return SL_ELIMIT;
		defects += points[i].defects; /* <= size, so no overflow either */
		size += points[i].size;
	}
	*centre = size ? (double)defects / (double)size : 0.0;
	for (size_t i = 0; i < count; i++) {
		memset(&out[i], 0, sizeof out[i]);
		if (points[i].size == 0)
			continue;
		out[i].p = (double)points[i].defects / (double)points[i].size;
		limits_compute(*centre, points[i].size, &out[i]);
	}
	rules_apply(points, count, *centre, out);
	return 0;
}
