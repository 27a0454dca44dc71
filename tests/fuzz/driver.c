/* tests/fuzz/driver.c — a standalone driver for the fuzz targets, so `make test` runs them
 * without libFuzzer (under ASan+UBSan in the sanitizer build).
 *
 *   fuzz_x [--runs N] [--seed S] [CORPUS_DIR...]
 *
 * Replays every file in the corpus directories, then N inputs made by seeded mutations of them
 * (bit flips, byte sets, truncations, insertions, splices). The same seed gives the same inputs.
 * Prints "PASS fuzz_x" at the end; a crash is the failure signal. Bounded: at most
 * FUZZ_CORPUS_FILES_MAX files of FUZZ_INPUT_BYTES_MAX bytes each.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CORPUS_FILES_MAX 4096 /* a corpus bigger than this is a libFuzzer job, not a unit test */
#define FUZZ_INPUT_BYTES_MAX (128 * 1024) /* above the largest record (64 KiB) */

struct corpus {
	uint8_t *inputs[FUZZ_CORPUS_FILES_MAX];
	size_t sizes[FUZZ_CORPUS_FILES_MAX];
	size_t count;
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{ /* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void corpus_load_dir(struct corpus *corpus, const char *path)
{
	DIR *dir = opendir(path);
	if (dir == NULL) {
		fprintf(stderr, "fuzz driver: no corpus at %s (mutating an empty seed)\n", path);
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL && corpus->count < FUZZ_CORPUS_FILES_MAX) {
		if (entry->d_name[0] == '.')
			continue;
		char file[4096];
		snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
		FILE *f = fopen(file, "rb");
		if (f == NULL)
			continue;
		uint8_t *bytes = malloc(FUZZ_INPUT_BYTES_MAX);
		if (bytes == NULL) {
			fclose(f);
			break;
		}
		size_t n = fread(bytes, 1, FUZZ_INPUT_BYTES_MAX, f);
		fclose(f);
		corpus->inputs[corpus->count] = bytes;
		corpus->sizes[corpus->count] = n;
		corpus->count++;
	}
	closedir(dir);
}

static size_t mutate(uint8_t *buf, size_t size, const struct corpus *corpus)
{
	unsigned rounds = 1 + (unsigned)(rng_next() % 4);
	for (unsigned r = 0; r < rounds; r++) {
		switch (rng_next() % 6) {
		case 0: /* flip a bit */
			if (size)
				buf[rng_next() % size] ^= (uint8_t)(1u << (rng_next() % 8));
			break;
		case 1: /* set a byte to an interesting value */
			if (size) {
				static const uint8_t values[] = { 0x00, 0xff, 0x7f, 0x80, 0xc0, 0xc1, 0xcc,
								  0xd9, 0xdc, 0xde, 0xc4, 0x90, 0x80, 0xa0 };
				buf[rng_next() % size] = values[rng_next() % sizeof values];
			}
			break;
		case 2: /* truncate */
			if (size)
				size = rng_next() % size;
			break;
		case 3: /* insert a random byte */
			if (size < FUZZ_INPUT_BYTES_MAX) {
				size_t at = size ? rng_next() % (size + 1) : 0;
				memmove(buf + at + 1, buf + at, size - at);
				buf[at] = (uint8_t)rng_next();
				size++;
			}
			break;
		case 4: /* delete a byte */
			if (size) {
				size_t at = rng_next() % size;
				memmove(buf + at, buf + at + 1, size - at - 1);
				size--;
			}
			break;
		default: /* splice in a piece of another input */
			if (corpus->count) {
				size_t other = rng_next() % corpus->count;
				size_t other_size = corpus->sizes[other];
				if (other_size && size) {
					size_t from = rng_next() % other_size;
					size_t at = rng_next() % size;
					size_t len = other_size - from;
					if (len > size - at)
						len = size - at;
					memcpy(buf + at, corpus->inputs[other] + from, len);
				}
			}
			break;
		}
	}
	return size;
}

int main(int argc, char **argv)
{
	unsigned long runs = 0;
	rng_state = 0x5eed5eed5eedULL;
	static struct corpus corpus;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng_state = strtoull(argv[++i], NULL, 10) | 1;
		else
			corpus_load_dir(&corpus, argv[i]);
	}
	for (size_t i = 0; i < corpus.count; i++)
		LLVMFuzzerTestOneInput(corpus.inputs[i], corpus.sizes[i]);
	uint8_t *buf = malloc(FUZZ_INPUT_BYTES_MAX);
	if (buf == NULL)
		return 2;
	for (unsigned long run = 0; run < runs; run++) {
		size_t size = 0;
		if (corpus.count) {
			size_t pick = rng_next() % corpus.count;
			size = corpus.sizes[pick];
			memcpy(buf, corpus.inputs[pick], size);
		}
		size = mutate(buf, size, &corpus);
		/* exact-size copy so ASan catches reads past the end */
		uint8_t *input = malloc(size ? size : 1);
		if (input == NULL)
			return 2;
		memcpy(input, buf, size);
		LLVMFuzzerTestOneInput(input, size);
		free(input);
	}
	free(buf);
	for (size_t i = 0; i < corpus.count; i++)
		free(corpus.inputs[i]);
	const char *name = strrchr(argv[0], '/');
	printf("PASS %s (%zu corpus inputs, %lu mutations)\n", name ? name + 1 : argv[0], corpus.count, runs);
	return 0;
}
