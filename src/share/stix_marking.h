/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The TLP of a STIX 2.1 object from its data markings: the one reader of
 * markings used by every path that takes STIX in (TAXII POST and the TAXII
 * collection store, the STIX importer, hence TAXII pull).
 *
 * The rule (docs/security.md, "Markings"): a marking that cannot be read
 * or is not recognised never lowers the TLP; it counts as TLP:RED.
 * Object-level (object_marking_refs) and granular (granular_markings)
 * markings are read alike, every one of them, and the strictest wins: an
 * object with a property marked above a reader's clearance is withheld
 * from that reader as a whole. Marking ids are compared without regard to
 * case (they are TYPE--UUID, and UUIDs compare case-insensitively). */
#ifndef LIA_SHARE_STIX_MARKING_H
#define LIA_SHARE_STIX_MARKING_H

#include <jansson.h>

/* A marking-definition that is recognised and names no TLP level
 * (definition_type "statement", a PAP marking). */
#define LIA__MARKING_NOT_TLP (-1)

/* What a marking-definition object m means: a LIA_TLP_* level,
 * LIA__MARKING_NOT_TLP, or LIA_TLP_RED when it is unreadable or of a kind
 * not recognised. A definition that names TLP in several ways (extension,
 * definition, name) counts as the strictest of them. */
int lia__stix_marking_def_tlp(json_t *m);

/* Record the marking-definition m (an object of type marking-definition
 * of the same document) in defs, a JSON object mapping lower-case marking
 * id -> integer meaning. A definition given twice keeps the strictest.
 * Objects that are not marking definitions, or have no string id, are
 * ignored. Returns 0, or -1 when out of memory. */
int lia__stix_marking_def_add(json_t *defs, json_t *m);

/* The TLP of object o from every marking it carries: -1 when it carries
 * none, otherwise the strictest level. defs (may be NULL): the document's
 * marking definitions (lia__stix_marking_def_add); an id that is neither a
 * standard TLP 1.0/2.0 marking nor in defs counts as TLP:RED, and so does
 * object_marking_refs that is not an array of strings, or granular_markings
 * that is not an array of {marking_ref | lang, selectors}. When the result
 * was raised to TLP:RED that way, *why (if why) points at a static reason,
 * otherwise it is set to NULL. */
int lia__stix_object_tlp(json_t *o, json_t *defs, const char **why);

#endif
