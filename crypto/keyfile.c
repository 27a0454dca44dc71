/* crypto/keyfile.c — secret and public key files (see crypto.h; docs/record-format.md "Key files").
 *
 * Format: three lines of ASCII text, each ended by one LF, nothing else:
 *     siteledger-secret-key v1          (or siteledger-public-key v1)
 *     site: LABEL                       (0..KEYFILE_SITE_CHARS_MAX printable ASCII, no space)
 *     key: HEX                          (secret: 128 hex digits of seed || public key; public: 64)
 *
 * Invariants:
 *  1. A secret key file is created with O_EXCL and mode 0600; it is never overwritten.
 *  2. A secret key file that is group- or world-accessible is refused before it is read (SL_EPERM),
 *     checked on the open descriptor (fstat), so the file checked is the file read.
 *  3. Every buffer that held secret bytes or their hex is wiped with sodium_memzero before return.
 *  4. A loaded secret key is checked: its public half must be the one its seed derives, so a
 *     corrupted file is SL_EKEYFILE rather than a key that makes bad signatures.
 */
#include "crypto/crypto.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define KEYFILE_SECRET_HEADER "siteledger-secret-key v1"
#define KEYFILE_PUBLIC_HEADER "siteledger-public-key v1"
#define KEYFILE_SITE_CHARS_MAX 64 /* a label for humans; record site ids are at most 32 */
/* Largest valid file: header, "site: " + label, "key: " + 128 hex digits, three LFs. */
#define KEYFILE_BYTES_MAX 256
#define KEYFILE_PUBLIC_MODE 0644
#define KEYFILE_SECRET_MODE 0600

_Static_assert(sizeof KEYFILE_SECRET_HEADER + 6 + KEYFILE_SITE_CHARS_MAX + 5 + 2 * CRYPTO_SECRET_KEY_BYTES + 3 <
		       KEYFILE_BYTES_MAX,
	       "the largest valid key file fits the read buffer");

static bool site_label_valid(const char *site)
{
	size_t len = strnlen(site, KEYFILE_SITE_CHARS_MAX + 1);
	if (len > KEYFILE_SITE_CHARS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (site[i] <= ' ' || site[i] > '~')
			return false;
	}
	return true;
}

/* Write `text` to a new file; unlink it again when anything fails. */
static int file_create(const char *path, mode_t mode, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EEXIST ? SL_EEXIST : errno == ENOENT ? SL_ENOENT : SL_EIO;
	size_t done = 0;
	int rc = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = errno == ENOSPC ? SL_ENOSPC : SL_EIO;
			break;
		}
		done += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = SL_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = SL_EIO;
	if (rc != 0)
		unlink(path);
	return rc;
}

static int keyfile_write(const char *path, const char *header, const char *site, const uint8_t *key,
			 size_t key_len, mode_t mode)
{
	assert(path != NULL);
	assert(key_len <= CRYPTO_SECRET_KEY_BYTES);
	if (site == NULL)
		site = "";
	if (!site_label_valid(site))
		return SL_EINVAL;
	char hex[2 * CRYPTO_SECRET_KEY_BYTES + 1];
	char text[KEYFILE_BYTES_MAX];
	crypto_hex_encode(key, key_len, hex);
	int len = snprintf(text, sizeof text, "%s\nsite: %s\nkey: %s\n", header, site, hex);
	int rc = len > 0 && (size_t)len < sizeof text ? file_create(path, mode, text, (size_t)len) : SL_EINVAL;
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(text, sizeof text);
	return rc;
}

int crypto_secret_key_write(const char *path, const char *site, const struct crypto_secret_key *sk)
{
	assert(sk != NULL);
	return keyfile_write(path, KEYFILE_SECRET_HEADER, site, sk->bytes, sizeof sk->bytes, KEYFILE_SECRET_MODE);
}

int crypto_public_key_write(const char *path, const char *site, const struct crypto_public_key *pk)
{
	assert(pk != NULL);
	return keyfile_write(path, KEYFILE_PUBLIC_HEADER, site, pk->bytes, sizeof pk->bytes, KEYFILE_PUBLIC_MODE);
}

/* Read the whole file (at most KEYFILE_BYTES_MAX - 1 bytes) NUL-terminated into text; a NUL byte
 * inside the file is SL_EKEYFILE, so the text parsed is the whole file. */
static int file_slurp(const char *path, bool secret, char text[KEYFILE_BYTES_MAX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? SL_ENOENT : SL_EIO;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = SL_EIO;
	else if (!S_ISREG(st.st_mode))
		rc = SL_EKEYFILE;
	else if (secret && (st.st_mode & 077) != 0)
		rc = SL_EPERM;
	size_t len = 0;
	while (rc == 0) {
		ssize_t n = read(fd, text + len, KEYFILE_BYTES_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = SL_EIO;
		else if (n == 0)
			break;
		else if ((len += (size_t)n) == KEYFILE_BYTES_MAX)
			rc = SL_EKEYFILE; /* larger than any valid key file */
	}
	close(fd);
	text[rc == 0 ? len : 0] = '\0';
	if (rc == 0 && strlen(text) != len)
		rc = SL_EKEYFILE;
	return rc;
}

/* Cut the next LF-terminated line off *cursor; it must start with `prefix`. Returns the rest. */
static const char *line_take(char **cursor, const char *prefix)
{
	char *line = *cursor;
	char *end = strchr(line, '\n');
	if (end == NULL)
		return NULL;
	*end = '\0';
	*cursor = end + 1;
	size_t prefix_len = strlen(prefix);
	return strncmp(line, prefix, prefix_len) == 0 ? line + prefix_len : NULL;
}

static int keyfile_parse(char *text, const char *header, uint8_t *key, size_t key_len, char *site,
			 size_t site_size)
{
	char *cursor = text;
	const char *rest = line_take(&cursor, header);
	if (rest == NULL || *rest != '\0')
		return SL_EKEYFILE;
	const char *label = line_take(&cursor, "site: ");
	if (label == NULL || !site_label_valid(label))
		return SL_EKEYFILE;
	const char *hex = line_take(&cursor, "key: ");
	if (hex == NULL || *cursor != '\0') /* nothing after the third line */
		return SL_EKEYFILE;
	if (crypto_hex_decode(hex, key, key_len) != 0)
		return SL_EKEYFILE;
	if (site != NULL && site_size > 0) {
		size_t label_len = strlen(label);
		if (label_len >= site_size)
			return SL_ELIMIT;
		memcpy(site, label, label_len + 1);
	}
	return 0;
}

int crypto_secret_key_read(const char *path, struct crypto_secret_key *sk, char *site, size_t site_size)
{
	assert(path != NULL);
	assert(sk != NULL);
	char text[KEYFILE_BYTES_MAX];
	int rc = file_slurp(path, true, text);
	if (rc == 0)
		rc = keyfile_parse(text, KEYFILE_SECRET_HEADER, sk->bytes, sizeof sk->bytes, site, site_size);
	if (rc == 0) {
		uint8_t pk[CRYPTO_PUBLIC_KEY_BYTES];
		uint8_t check[CRYPTO_SECRET_KEY_BYTES];
		/* invariant 4: the stored public half must be the one the seed derives */
		if (crypto_sign_seed_keypair(pk, check, sk->bytes) != 0 ||
		    sodium_memcmp(check, sk->bytes, sizeof check) != 0)
			rc = SL_EKEYFILE;
		sodium_memzero(check, sizeof check);
	}
	if (rc != 0)
		crypto_secret_key_wipe(sk);
	sodium_memzero(text, sizeof text);
	return rc;
}

int crypto_public_key_read(const char *path, struct crypto_public_key *pk, char *site, size_t site_size)
{
	assert(path != NULL);
	assert(pk != NULL);
	char text[KEYFILE_BYTES_MAX];
	int rc = file_slurp(path, false, text);
	if (rc == 0)
		rc = keyfile_parse(text, KEYFILE_PUBLIC_HEADER, pk->bytes, sizeof pk->bytes, site, site_size);
	return rc;
}
