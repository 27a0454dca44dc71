/* epcis/sites.c — which siteledger site a GLN stands for (docs/epcis.md "Sites").
 *
 * EPCIS names places and parties by GLN (readPoint, bizLocation: SGLN; source/destination: SGLN or
 * PGLN); siteledger names sites by short ids. The map comes from `--site-map GLN=SITE` and is
 * saved in the store (meta EPCIS_META_SITE_MAP) so later imports and exports use it too.
 */
#include <stdio.h>
#include <string.h>

#include "epcis/map.h"

/* Every saved line "GLN=site\n" must fit one meta value. */
_Static_assert(EPCIS_SITE_MAP_MAX * (GS1_GLN_DIGITS + 1 + RECORD_SITE_CHARS_MAX + 1) <= STORE_META_VALUE_BYTES_MAX,
	       "the site map fits one store meta value");

int epcis_gln_parse(const char *text, char gln[GS1_GLN_DIGITS + 1])
{
	if (strlen(text) == GS1_GLN_DIGITS && gs1_gln_validate(text, GS1_GLN_DIGITS, NULL) == 0) {
		memcpy(gln, text, GS1_GLN_DIGITS + 1);
		return 0;
	}
	char link[EPCIS_TEXT_BYTES_MAX];
	if (epcis_id_to_digital_link(text, link, sizeof link) != 0)
		return SL_EINVAL;
	const char *base = "https://id.gs1.org/";
	const char *key = link + strlen(base);
	if (strncmp(key, "414/", 4) != 0 && strncmp(key, "417/", 4) != 0)
		return SL_EINVAL;
	key += 4;
	if (strspn(key, "0123456789") != GS1_GLN_DIGITS || (key[13] != '\0' && key[13] != '/') ||
	    gs1_gln_validate(key, GS1_GLN_DIGITS, NULL) != 0)
		return SL_EINVAL;
	memcpy(gln, key, GS1_GLN_DIGITS);
	gln[GS1_GLN_DIGITS] = '\0';
	return 0;
}

int epcis_site_map_add(struct epcis_site_map *map, const char *gln_text, const char *site,
		       struct sl_error_detail *detail)
{
	char gln[GS1_GLN_DIGITS + 1];
	if (epcis_gln_parse(gln_text, gln) != 0)
		return sl_error_set(detail, SL_EINVAL, "'%s' is not a GLN (13 digits, SGLN, PGLN or Digital Link 414/417)",
				    gln_text);
	if (!record_site_id_valid(site, strlen(site)))
		return sl_error_set(detail, SL_EINVAL, "'%s' is not a site id (1-32 of a-z 0-9 -)", site);
	for (size_t i = 0; i < map->count; i++) {
		if (strcmp(map->entries[i].gln, gln) == 0) {
			snprintf(map->entries[i].site, sizeof map->entries[i].site, "%s", site);
			return 0;
		}
	}
	if (map->count == EPCIS_SITE_MAP_MAX)
		return sl_error_set(detail, SL_ELIMIT, "more than %d GLN=SITE pairs", EPCIS_SITE_MAP_MAX);
	memcpy(map->entries[map->count].gln, gln, sizeof gln);
	snprintf(map->entries[map->count].site, sizeof map->entries[map->count].site, "%s", site);
	map->count++;
	return 0;
}

const char *epcis_site_map_site(const struct epcis_site_map *map, const char *gln)
{
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->entries[i].gln, gln) == 0)
			return map->entries[i].site;
	return NULL;
}

const char *epcis_site_map_gln(const struct epcis_site_map *map, const char *site)
{
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->entries[i].site, site) == 0)
			return map->entries[i].gln;
	return NULL;
}

int epcis_site_map_load(store_txn *txn, struct epcis_site_map *map)
{
	const void *value;
	size_t len;
	int rc = store_meta_get(txn, EPCIS_META_SITE_MAP, &value, &len);
	if (rc == SL_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	char text[STORE_META_VALUE_BYTES_MAX + 1];
	if (len > STORE_META_VALUE_BYTES_MAX)
		return SL_ECORRUPT;
	memcpy(text, value, len);
	text[len] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *equals = strchr(line, '=');
		if (equals == NULL)
			return SL_ECORRUPT;
		*equals = '\0';
		char gln[GS1_GLN_DIGITS + 1];
		if (epcis_gln_parse(line, gln) != 0)
			return SL_ECORRUPT;
		if (epcis_site_map_site(map, gln) != NULL)
			continue; /* given on the command line: wins */
		if (epcis_site_map_add(map, line, equals + 1, NULL) != 0)
			return SL_ECORRUPT;
	}
	return 0;
}

int epcis_site_map_save(store_txn *txn, const struct epcis_site_map *map)
{
	char text[STORE_META_VALUE_BYTES_MAX];
	size_t len = 0;
	for (size_t i = 0; i < map->count; i++) {
		int n = snprintf(text + len, sizeof text - len, "%s=%s\n", map->entries[i].gln, map->entries[i].site);
		if (n < 0 || (size_t)n >= sizeof text - len)
			return SL_ELIMIT;
		len += (size_t)n;
	}
	return store_meta_put(txn, EPCIS_META_SITE_MAP, text, len);
}
