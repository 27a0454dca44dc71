/* simulations/rng.c — the simulator's only random source: splitmix64 (Steele, Lea, Flood 2014),
 * seeded from the command line, so a seed replays byte for byte. */
#include "simulations/sim.h"

#include <assert.h>

void rng_seed(struct sim_rng *rng, uint64_t seed)
{
	rng->state = seed ^ 0x5eed5eed5eed5eedull;
}

uint64_t rng_next(struct sim_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rng_below(struct sim_rng *rng, uint64_t n)
{
	assert(n > 0);
	return rng_next(rng) % n; /* modulo bias is irrelevant for a test schedule */
}

bool rng_chance(struct sim_rng *rng, unsigned per_million)
{
	return rng_below(rng, 1000000) < per_million;
}
