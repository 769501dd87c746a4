/*
 * node/template_edit.h — checks of an achievement template and a certificate layout that the
 * console edits (issue #17 "Templates"), before either is written: no HTTP, no files, so the
 * fuzz target (tests/fuzz/fuzz_template.c) runs them on any bytes.
 *
 * A template is the unsigned OpenBadgeCredential of node/bulk.h. What an edit may set is
 * checked against the OB 3.0 schema (../shared/ob3/ob_v3p0_achievementcredential_schema.json,
 * $defs Achievement, Criteria, Image, Profile) for the members people edit:
 *   credentialSubject.achievement: id (a string; the caller keeps it unchanged), type with
 *     "Achievement", name and description (non-empty), criteria.narrative (or criteria.id, an
 *     https URL), achievementType (the schema's enumeration or "ext:<name>"), image (an Image:
 *     {"id": https URL | data:image/png|jpeg|svg+xml;base64,..., "type": "Image", "caption"?});
 *   issuer (optional): the Profile the node merges under its own did:web id (node/issuer.c
 *     fill_credential): name, url (https), image (an Image), description, email; never an id.
 * Members the node fills per credential (id, proof, credentialStatus, the subject's identifier
 * and licenseNumber) are refused: a template that set them would be overwritten or, worse,
 * signed as given. Every failure is CA_ERR_INVALID with eb naming the member and the rule.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_TEMPLATE_EDIT_H
#define CREDANCHOR_TEMPLATE_EDIT_H

#include "credanchor/common.h"
#include "node/certificate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CA_TEMPLATE_NAME_MAX 64           /* a new template's file stem: [a-z0-9-]{1,64} */
#define CA_TEMPLATE_IMAGE_MAX (128u << 10) /* characters of an image's data: URI: every
                                           * credential carries it, and both images must fit
                                           * the 256 KiB of a template file (CA_TEMPLATE_MAX) */
#define CA_TEMPLATE_URL_MAX 2048
#define CA_LAYOUT_TEXT_MAX 1024           /* one block's text before substitution */

/* A template name in a route: a new one [a-z0-9-]{1,64}; an existing one also the stems
 * bulk issuance takes ([A-Za-z0-9_-][A-Za-z0-9._-]{0,127}), except "<x>.mail" (the email
 * wording of issue #18, <course>.mail.json, is no template). */
bool ca_template_name_ok(const char *name, bool new_name);

/* Checks tmpl (see above). */
ca_err ca_template_check(const json_t *tmpl, ca_errbuf *eb);

/* Checks a certificate layout (node/certificate.h) more strictly than the renderer, which
 * clamps and ignores: size [w, h] in 72..5000 points, background and colours "#rrggbb",
 * border {color, width 0..200, inset 0..1000}, font a font name, at most 32 blocks
 * {text (its {fields} known), x, y, width, size 1..300, bold, align left|center|right,
 * color}, qr {x, y, size 20..2000}; unknown members refused, so a misspelt one is a 400
 * instead of a silently different certificate. */
ca_err ca_layout_check(const json_t *layout, ca_errbuf *eb);

/* The certificate of a sample recipient of tmpl: what the preview and the render check draw.
 * issuer_name: the node's credentials.issuer_name (the template's issuer.name wins, as in
 * fill_credential); public_url gives the page URL; now the dates. */
void ca_template_sample_view(ca_credential_view *v, const json_t *tmpl, const char *issuer_name,
                             const char *public_url, int64_t now);

#endif
