/* store/pages.c — hand back the pages of the LMDB map a long scan has touched.
 *
 * LMDB reads through one shared read-only mapping of data.mdb. Every page a transaction reads
 * stays mapped into the process (and counts in its resident set) until the environment is
 * closed, so one pass over a large ledger grows the process to the size of the file it read.
 * store_map_release drops those mappings with madvise(MADV_DONTNEED):
 *  1. The mapping is MAP_SHARED and file-backed: dropping it discards no data. The pages stay in
 *     the kernel's page cache and the next read of one faults it back in, so pointers handed out
 *     earlier (store.h rule 3) stay valid and read the same bytes.
 *  2. It may run at any time, from any thread, with transactions open: snapshots are unchanged
 *     (a read transaction keeps seeing its own version of the pages). Write transactions copy
 *     pages before changing them (no MDB_WRITEMAP), so no dirty data lives in the mapping.
 *  3. store_map_trim releases only when the process's resident file-backed pages (/proc/self/statm
 *     "shared": the map's pages, the program and its libraries) exceed a budget: every release
 *     costs a fault for each page touched again afterwards, and the kernel maps 16 pages around
 *     each fault (fault-around), so releasing only when needed is both cheaper and bounded.
 *  4. LMDB does not tell where its map is (MDB_envinfo.me_mapaddr is only set with MDB_FIXEDMAP),
 *     so the mapping is found in /proc/self/maps by the device and inode of the data file, and
 *     only its used part (up to the environment's last page) is advised. Linux only, like the
 *     rest of the store; where /proc is missing the call does nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "store/store_internal.h"
#include "util/error.h"

#define STORE_MAPS_LINE_BYTES 512 /* the fields before the path; a longer line's rest is skipped */

/* Skip the rest of a line fgets cut short. */
static void line_finish(FILE *in, const char *line)
{
	if (strchr(line, '\n') != NULL)
		return;
	int c;
	while ((c = fgetc(in)) != EOF && c != '\n')
		;
}

/* Apply MADV_DONTNEED to the first `used` bytes of every mapping of (dev, ino) in this process. */
static int maps_release(store *st, dev_t dev, ino_t ino, size_t used)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps == NULL)
		return 0; /* design note 4 */
	char line[STORE_MAPS_LINE_BYTES];
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, maps) != NULL) {
		unsigned long lo = 0, hi = 0, offset = 0, inode = 0;
		unsigned major_id = 0, minor_id = 0;
		char perms[8];
		int fields = sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &offset, &major_id, &minor_id,
				    &inode);
		line_finish(maps, line);
		if (fields != 7 || inode != (unsigned long)ino || major_id != major(dev) || minor_id != minor(dev) ||
		    offset != 0 || hi <= lo)
			continue;
		size_t length = hi - lo < used ? hi - lo : used;
		if (madvise((void *)lo, length, MADV_DONTNEED) != 0)
			rc = store_error_set(st, SL_EIO, "madvise(MADV_DONTNEED) on the map of %s failed", st->dir);
	}
	fclose(maps);
	return rc;
}

int store_map_release(store *st)
{
	if (st == NULL || st->env == NULL)
		return SL_EINVAL;
	MDB_envinfo info;
	MDB_stat stat;
	mdb_filehandle_t fd;
	int rc = mdb_env_info(st->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(st->env, &stat);
	if (rc == 0)
		rc = mdb_env_get_fd(st->env, &fd);
	if (rc != 0)
		return store_env_mdb_error(st, rc, "map release");
	struct stat file;
	if (fstat(fd, &file) != 0)
		return store_error_set(st, SL_EIO, "fstat of the data file of %s failed", st->dir);
	size_t used = (info.me_last_pgno + 1) * (size_t)stat.ms_psize;
	return maps_release(st, file.st_dev, file.st_ino, used < info.me_mapsize ? used : info.me_mapsize);
}

int store_txn_map_release(store_txn *txn)
{
	return txn == NULL ? SL_EINVAL : store_map_release(txn->st);
}

/* Resident file-backed bytes of this process; false when /proc is not there. */
static bool resident_shared_bytes(uint64_t *bytes)
{
	FILE *statm = fopen("/proc/self/statm", "r");
	if (statm == NULL)
		return false;
	unsigned long size = 0, resident = 0, shared = 0;
	bool ok = fscanf(statm, "%lu %lu %lu", &size, &resident, &shared) == 3;
	fclose(statm);
	long page = sysconf(_SC_PAGESIZE);
	*bytes = (uint64_t)shared * (uint64_t)(page > 0 ? page : 4096);
	return ok;
}

int store_map_trim(store *st, uint64_t mapped_max)
{
	uint64_t shared = 0;
	if (st == NULL)
		return SL_EINVAL;
	return resident_shared_bytes(&shared) && shared > mapped_max ? store_map_release(st) : 0;
}

int store_txn_map_trim(store_txn *txn, uint64_t mapped_max)
{
	return txn == NULL ? SL_EINVAL : store_map_trim(txn->st, mapped_max);
}
